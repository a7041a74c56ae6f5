// SPDX-License-Identifier: MIT
/*
 * Seed 002 (../shared/seeds/002_d89c9cd7655dc6ed.txt): shadow pages were
 * marked "unsync" from TDP-MMU faults holding mmu_lock only for read, so two
 * vCPUs did plain read-modify-writes of unsync_children at once; the counter
 * underflowed or hit 0 early.
 *
 * Keel has no shadow MMU yet. What TDP faults do update under the shared
 * lock is per-table and per-MMU metadata: each table's count of present
 * entries, the maps_4k/2m/1g gauges, the root refcounts. Each has exactly one
 * owner (docs/mmu-locking.md): it is atomic, and its count only drops to 0
 * through zaps under the exclusive lock. These tests force two faults into
 * the same table with one of them stopped between its entry update and its
 * bookkeeping, and check that the counts come out exact, and that an
 * underflow is caught.
 */
#include "tests/seeds/seeds.h"

enum { ROLE_A = 1 };

struct seed002 {
	struct env_gate parked, release;
	enum mmu_fault_result ra;
};
static struct seed002 *s2;

/* A has installed its leaf (cmpxchg done) but not counted it yet. */
static void park_a_before_bookkeeping(enum env_hook h, void *arg, void *ctx)
{
	if (seeds_role != ROLE_A)
		return;
	env_gate_open(&s2->parked);
	env_gate_wait(&s2->release);
}

static void *thread_a(void *arg)
{
	seeds_role = ROLE_A;
	s2->ra = mmu_page_fault(arg, GPA(0x7000), MMU_ACC_WRITE);
	return NULL;
}

static u32 table_present(struct mmu *mmu, u64 gfn)
{
	/* The level-1 table holding gfn, via the valid root. */
	struct tdp_page *pg = mmu->roots->pt;

	for (int level = TDP_ROOT_LEVEL; level > 1; level--) {
		spte_t s = pg->spt[tdp_level_index(gfn, level)];

		pg = env_hpa_to_virt(spte_table_hpa(mmu->fmt, s));
	}
	return atomic_read(&pg->meta.present);
}

void seed002_unsync_marking(void **state)
{
	struct seed002 ctx = { 0 };
	struct tmmu *t = *state;
	struct mmu_vcpu *va = mmu_vcpu_create(t->mmu, 1);
	struct mmu_stats st;
	pthread_t a;
	hpa_t root;
	bool flush;

	s2 = &ctx;
	env_gate_init(&ctx.parked);
	env_gate_init(&ctx.release);
	tmmu_add_slot(t->mmu, 0, 0, 0x200, 0x100001, 0);
	assert_int_equal(mmu_vcpu_load_root(va, &root, &flush), 0);
	assert_int_equal(mmu_vcpu_load_root(t->v, &root, &flush), 0);
	assert_int_equal(mmu_page_fault(t->v, GPA(0x1000), MMU_ACC_WRITE), MMU_FAULT_FIXED);

	env_hosted_bind_hook(HOOK_FAULT_AFTER_INSTALL, park_a_before_bookkeeping, NULL);
	assert_int_equal(pthread_create(&a, NULL, thread_a, va), 0);
	env_gate_wait(&ctx.parked);
	/* B installs and counts two more leaves in the same table while A's
	 * update is half done. */
	assert_int_equal(mmu_page_fault(t->v, GPA(0x8000), MMU_ACC_WRITE), MMU_FAULT_FIXED);
	assert_int_equal(mmu_page_fault(t->v, GPA(0x9000), MMU_ACC_READ), MMU_FAULT_FIXED);
	assert_int_equal(table_present(t->mmu, 1), 3); /* A's not counted yet */
	env_gate_open(&ctx.release);
	pthread_join(a, NULL);
	env_hosted_bind_hook(HOOK_FAULT_AFTER_INSTALL, NULL, NULL);

	assert_int_equal(ctx.ra, MMU_FAULT_FIXED);
	assert_int_equal(table_present(t->mmu, 1), 4);
	mmu_get_stats(t->mmu, &st);
	assert_int_equal(st.maps_4k, 4);
	tmmu_assert_verify(t->mmu);
	/* 1 -> 0 happens only through zaps, under the exclusive lock. */
	mmu_zap_gfn_range(t->mmu, GFN(0), GFN(0x100));
	mmu_get_stats(t->mmu, &st);
	assert_int_equal(st.maps_4k, 0);
	tmmu_assert_verify(t->mmu);
	mmu_vcpu_destroy(va);
	env_gate_destroy(&ctx.parked);
	env_gate_destroy(&ctx.release);
}

/* The counter helpers refuse to go below zero (the symptom in the seed). */
void seed002_counter_underflow_asserts(void **state)
{
	u64 counter = 1;

	(void)state;
	env_hosted_set_assert_handler(seeds_assert_to_cmocka);
	mmu_counter_sub(&counter, 1);
	expect_assert_failure(mmu_counter_sub(&counter, 1));
	env_hosted_set_assert_handler(NULL);
	assert_int_equal(counter, ~0ull); /* the check fired on this very update */
}
