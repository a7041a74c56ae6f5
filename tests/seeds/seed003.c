// SPDX-License-Identifier: MIT
/*
 * Seed 003 (../shared/seeds/003_bbce111885d45a80.txt): the stale-root check
 * assumed every root has a shadow page (special roots had none, so the check
 * dereferenced NULL), and the thread around it debated whether installing
 * SPTEs into an obsolete root is acceptable.
 *
 * Invariant: every root has a metadata object with its generation; an
 * invalidation obsoletes all roots in one exclusive critical section; a
 * fault checks its root's validity in the same shared-lock hold in which it
 * installs, so an entry is never installed into an obsolete root.
 */
#include "tests/seeds/seeds.h"

/* Invalidation injected between the vCPU's root load (its "root check" on
 * the way into the guest) and the fault's install: the install must fail. */
void seed003_obsolete_root_install(void **state)
{
	struct tmmu *t = *state;
	struct mmu_stats st;
	hpa_t root;
	bool flush;
	unsigned valid;

	tmmu_add_slot(t->mmu, 0, 0, MIB2_PAGES, 0x100000, 0);
	assert_int_equal(mmu_vcpu_load_root(t->v, &root, &flush), 0);
	mmu_invalidate_all_roots(t->mmu);
	assert_int_equal(mmu_page_fault(t->v, GPA(0x3000), MMU_ACC_WRITE), MMU_FAULT_RETRY);
	mmu_get_stats(t->mmu, &st);
	assert_int_equal(st.retries_obsolete, 1);
	assert_int_equal(st.maps_4k + st.maps_2m + st.maps_1g, 0); /* nothing installed */
	assert_int_equal(st.tables_in_use - mmu_debug_tables_pending_free(t->mmu), 1);
	/* The obsolete root still exists (the vCPU holds it) and is empty. */
	assert_int_equal(mmu_debug_root_count(t->mmu, &valid), 1);
	assert_int_equal(valid, 0);
	/* Going round the run loop fixes it. */
	assert_int_equal(mmu_vcpu_load_root(t->v, &root, &flush), 0);
	assert_true(flush);
	assert_int_equal(mmu_page_fault(t->v, GPA(0x3000), MMU_ACC_WRITE), MMU_FAULT_FIXED);
	tmmu_assert_verify(t->mmu);
}

struct seed003 {
	struct tmmu *t;
	struct env_gate invalidator_started;
	bool invalidated;
};
static struct seed003 *s3;

static void *thread_invalidate(void *arg)
{
	env_gate_open(&s3->invalidator_started);
	mmu_invalidate_all_roots(s3->t->mmu);
	__atomic_store_n(&s3->invalidated, true, __ATOMIC_RELEASE);
	return NULL;
}

/* At the install point, start an invalidation on another thread and wait
 * until it is blocked on the MMU lock: it cannot get between this fault's
 * validity check and its install. */
static void invalidate_at_install(enum env_hook h, void *arg, void *ctx)
{
	pthread_t *th = ctx;

	env_hosted_unbind_hook(HOOK_FAULT_BEFORE_INSTALL, invalidate_at_install);
	assert_int_equal(pthread_create(th, NULL, thread_invalidate, NULL), 0);
	env_gate_wait(&s3->invalidator_started);
	ktest_step("fault at its install point, invalidation started");
	KTEST_SPIN_UNTIL(mmu_rwlock_writers_waiting(&s3->t->mmu->lock) ||
				 __atomic_load_n(&s3->invalidated, __ATOMIC_ACQUIRE),
			 "the invalidation waiting for the MMU lock");
	assert_false(__atomic_load_n(&s3->invalidated, __ATOMIC_ACQUIRE));
}

void seed003_invalidate_waits_for_install(void **state)
{
	struct seed003 ctx = { .t = *state };
	struct tmmu *t = ctx.t;
	struct mmu_stats st;
	pthread_t th;
	hpa_t root;
	bool flush;

	s3 = &ctx;
	env_gate_init(&ctx.invalidator_started);
	tmmu_add_slot(t->mmu, 0, 0, MIB2_PAGES, 0x100000, 0);
	assert_int_equal(mmu_vcpu_load_root(t->v, &root, &flush), 0);
	env_hosted_bind_hook(HOOK_FAULT_BEFORE_INSTALL, invalidate_at_install, &th);
	assert_int_equal(mmu_page_fault(t->v, GPA(0x3000), MMU_ACC_WRITE), MMU_FAULT_FIXED);
	pthread_join(th, NULL);
	assert_true(ctx.invalidated);
	/* The entry went into a root that was valid when it was installed, and
	 * the invalidation that followed zapped it. */
	mmu_get_stats(t->mmu, &st);
	assert_int_equal(st.maps_2m, 0);
	assert_int_equal(st.zaps, 1);
	assert_int_equal(tmmu_level_of(t->mmu, 3, NULL, NULL), 0);
	assert_int_equal(mmu_page_fault(t->v, GPA(0x3000), MMU_ACC_WRITE), MMU_FAULT_RETRY);
	tmmu_assert_verify(t->mmu);
	env_gate_destroy(&ctx.invalidator_started);
}

/* The check-to-lock window: an invalidation that lands after the fault
 * looked its slot up (slot read side held, no MMU lock yet) and before it
 * takes the MMU lock. Whatever the fault checked before taking the lock is
 * stale; only the check under the lock counts, so the fault retries and
 * nothing goes into the obsolete root. */
static void invalidate_after_lookup(enum env_hook h, void *arg, void *ctx)
{
	struct mmu *mmu = ctx;

	env_hosted_unbind_hook(HOOK_FAULT_SLOT_FOUND, invalidate_after_lookup);
	mmu_invalidate_all_roots(mmu);
}

void seed003_invalidate_before_fault_locks(void **state)
{
	struct tmmu *t = *state;
	struct mmu_stats st;
	hpa_t root;
	bool flush;

	tmmu_add_slot(t->mmu, 0, 0, MIB2_PAGES, 0x100000, 0);
	assert_int_equal(mmu_vcpu_load_root(t->v, &root, &flush), 0);
	env_hosted_bind_hook(HOOK_FAULT_SLOT_FOUND, invalidate_after_lookup, t->mmu);
	ktest_step("invalidation between the slot lookup and the MMU lock");
	assert_int_equal(mmu_page_fault(t->v, GPA(0x3000), MMU_ACC_WRITE), MMU_FAULT_RETRY);
	mmu_get_stats(t->mmu, &st);
	assert_int_equal(st.maps_4k + st.maps_2m + st.maps_1g, 0); /* nothing installed */
	assert_int_equal(st.root_invalidations, 1);
	tmmu_assert_verify(t->mmu);
	/* The run loop reloads and the fault then succeeds. */
	assert_int_equal(tmmu_fault(t->v, 0x3000, MMU_ACC_WRITE), MMU_FAULT_FIXED);
	tmmu_assert_verify(t->mmu);
}
