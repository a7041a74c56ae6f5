// SPDX-License-Identifier: MIT
/*
 * Seed 001 (../shared/seeds/001_3bca43c766c99661.txt, CVE-2022-45869): a
 * shared-mode (read-locked) fault path reached code that zaps pages and
 * walks/edits a global list, racing with another vCPU's fault linking pages.
 *
 * Invariant: code that unlinks or frees tables, or walks shared lists, needs
 * the exclusive MMU lock; it takes a 'struct mmu_excl' token that only
 * mmu_lock_excl() makes, and asserts at run time that the lock really is
 * held exclusively. The fault path has no token and never evicts anything.
 */
#include "tests/seeds/seeds.h"

enum { ROLE_MAIN, ROLE_A, ROLE_B, ROLE_ZAPPER };

struct seed001 {
	struct tmmu *t;
	struct env_gate a_parked, a_release;
	bool zap_done;
	enum mmu_fault_result ra;
};
static struct seed001 *s1;

/* Thread A parks right after linking its new 4 KiB table, shared lock held. */
static void park_a_after_link(enum env_hook h, void *arg, void *ctx)
{
	if (seeds_role != ROLE_A)
		return;
	env_gate_open(&s1->a_parked);
	env_gate_wait(&s1->a_release);
}

static void *thread_a(void *arg)
{
	struct mmu_vcpu *v = arg;

	seeds_role = ROLE_A;
	s1->ra = mmu_page_fault(v, GPA(0x4000), MMU_ACC_WRITE);
	return NULL;
}

static void *thread_zapper(void *arg)
{
	seeds_role = ROLE_ZAPPER;
	mmu_zap_gfn_range(s1->t->mmu, GFN(0), GFN(0x200));
	__atomic_store_n(&s1->zap_done, true, __ATOMIC_RELEASE);
	return NULL;
}

void seed001_zap_vs_map_shared(void **state)
{
	struct seed001 ctx = { .t = *state };
	struct tmmu *t = ctx.t;
	struct mmu_vcpu *va = mmu_vcpu_create(t->mmu, 1);
	pthread_t a, z;
	hpa_t root;
	bool flush;
	struct mmu_stats st;

	s1 = &ctx;
	env_gate_init(&ctx.a_parked);
	env_gate_init(&ctx.a_release);
	tmmu_add_slot(t->mmu, 0, 0, 0x200, 0x100001, 0); /* 4 KiB leaves only */
	assert_int_equal(mmu_vcpu_load_root(va, &root, &flush), 0);
	assert_int_equal(mmu_vcpu_load_root(t->v, &root, &flush), 0);
	env_hosted_bind_hook(HOOK_TABLE_LINKED, park_a_after_link, NULL);

	/* A links the level-1 table and stops there, holding the lock shared. */
	assert_int_equal(pthread_create(&a, NULL, thread_a, va), 0);
	env_gate_wait(&ctx.a_parked);
	/* B (this thread) faults into the same table meanwhile. */
	assert_int_equal(mmu_page_fault(t->v, GPA(0x5000), MMU_ACC_WRITE), MMU_FAULT_FIXED);
	/* A zap wants the lock exclusively: it must wait for A, not run beside it. */
	assert_int_equal(pthread_create(&z, NULL, thread_zapper, NULL), 0);
	ktest_step("A parked after linking (shared lock held), zap started");
	KTEST_SPIN_UNTIL(mmu_rwlock_writers_waiting(&t->mmu->lock) ||
				 __atomic_load_n(&ctx.zap_done, __ATOMIC_ACQUIRE),
			 "the zap waiting for the exclusive lock");
	/* The zap must not have run beside A's shared-mode fault. */
	assert_false(__atomic_load_n(&ctx.zap_done, __ATOMIC_ACQUIRE));
	env_gate_open(&ctx.a_release);
	pthread_join(a, NULL);
	pthread_join(z, NULL);
	env_hosted_bind_hook(HOOK_TABLE_LINKED, NULL, NULL);

	assert_int_equal(ctx.ra, MMU_FAULT_FIXED);
	tmmu_assert_verify(t->mmu); /* counts, lists and tables all consistent */
	mmu_get_stats(t->mmu, &st);
	assert_int_equal(st.maps_4k, 0);
	assert_int_equal(st.zaps, 2);
	mmu_vcpu_destroy(va);
	env_gate_destroy(&ctx.a_parked);
	env_gate_destroy(&ctx.a_release);
}

/* Exclusive-only functions assert when the caller holds the lock only shared
 * (here with a stale token kept from an earlier exclusive section: the only
 * way to even get a token outside mmu_lock_excl()). */
void seed001_exclusive_only_asserts(void **state)
{
	struct tmmu *t = *state;
	struct mmu_excl x, stale;
	struct mmu_shared s;
	struct mmu_root *root;
	hpa_t root_hpa;
	bool flush;

	tmmu_add_slot(t->mmu, 0, 0, 0x200, 0x100000, 0);
	assert_int_equal(mmu_vcpu_load_root(t->v, &root_hpa, &flush), 0);
	assert_int_equal(mmu_page_fault(t->v, GPA(0), MMU_ACC_READ), MMU_FAULT_FIXED);
	root = t->mmu->roots;
	x = mmu_lock_excl(t->mmu);
	stale = x;
	mmu_unlock_excl(&x);

	env_hosted_set_assert_handler(seeds_assert_to_cmocka);
	s = mmu_lock_shared(t->mmu);
	expect_assert_failure(zap_root_range(&stale, root, 0, 0x200));
	expect_assert_failure(mmu_zap_all_fast(&stale));
	expect_assert_failure(reclaim_run(&stale));
	expect_assert_failure(mmu_zap_obsolete_roots(&stale));
	mmu_unlock_shared(&s);
	/* And with no lock at all. */
	expect_assert_failure(zap_valid_roots_range(&stale, 0, 0x200));
	env_hosted_set_assert_handler(NULL);

	/* Nothing was changed by the refused calls. */
	assert_int_equal(tmmu_level_of(t->mmu, 0, NULL, NULL), 2);
}

static void fail_allocs_for_b(enum env_hook h, void *arg, void *ctx)
{
	if (seeds_role == ROLE_A) {
		env_gate_open(&s1->a_parked);
		env_gate_wait(&s1->a_release);
	}
}

/* Running out of page-table memory under the shared lock returns NOMEM: it
 * never evicts or zaps anything from the fault path (KVM's bug was exactly
 * such a reclaim, make_mmu_pages_available(), under the read lock). */
void seed001_nomem_under_shared_lock(void **state)
{
	struct seed001 ctx = { .t = *state };
	struct tmmu *t = ctx.t;
	struct mmu_vcpu *va = mmu_vcpu_create(t->mmu, 1);
	struct mmu_stats before, after;
	pthread_t a;
	hpa_t root;
	bool flush;

	s1 = &ctx;
	env_gate_init(&ctx.a_parked);
	env_gate_init(&ctx.a_release);
	tmmu_add_slot(t->mmu, 0, 0, 4 * MIB2_PAGES, 0x100001, 0);
	assert_int_equal(mmu_vcpu_load_root(va, &root, &flush), 0);
	assert_int_equal(mmu_vcpu_load_root(t->v, &root, &flush), 0);
	for (u64 g = 0; g < 16; g++)
		assert_int_equal(mmu_page_fault(t->v, GPA(g << 12), MMU_ACC_READ), MMU_FAULT_FIXED);
	mmu_get_stats(t->mmu, &before);
	env_hosted_bind_hook(HOOK_FAULT_BEFORE_INSTALL, fail_allocs_for_b, NULL);
	assert_int_equal(pthread_create(&a, NULL, thread_a, va), 0);
	env_gate_wait(&ctx.a_parked);
	env_hosted_fail_page_alloc_every(1);
	/* A new 2 MiB region needs a new table: no memory. */
	assert_int_equal(mmu_page_fault(t->v, GPA(SZ_2M + 0x1000), MMU_ACC_READ),
			 MMU_FAULT_NOMEM);
	env_hosted_fail_page_alloc_every(0);
	env_gate_open(&ctx.a_release);
	pthread_join(a, NULL);
	env_hosted_bind_hook(HOOK_FAULT_BEFORE_INSTALL, NULL, NULL);
	mmu_get_stats(t->mmu, &after);
	assert_int_equal(after.zaps, before.zaps);
	assert_int_equal(after.maps_4k, before.maps_4k + (ctx.ra == MMU_FAULT_SPURIOUS ? 0 : 1));
	assert_int_equal(after.tables_in_use, before.tables_in_use);
	tmmu_assert_verify(t->mmu);
	mmu_vcpu_destroy(va);
	env_gate_destroy(&ctx.a_parked);
	env_gate_destroy(&ctx.a_release);
}
