// SPDX-License-Identifier: MIT
/*
 * Seed 000 (docs/seeds/000.md): eager huge-page
 * splitting livelocks when every lock drop restarts the walk from the head
 * and the resched check fires before any work is done.
 *
 * Invariant: between two drops of the exclusive lock at least one unit of
 * work finishes, and the walk resumes from its cursor. So with the resched
 * policy forced to "always yield now", enabling dirty logging on a 1 GiB
 * mapping finishes after at most one lock drop per unit.
 */
#include "tests/seeds/seeds.h"

#define SEED000_DROP_LIMIT 100000

/* Watchdog: a livelocking walk would never return; stop it so the test
 * fails instead of hanging. */
static void count_yield(enum env_hook h, void *arg, void *ctx)
{
	if (env_hosted_hook_hits(HOOK_EXCL_YIELD) > SEED000_DROP_LIMIT)
		env_hosted_set_resched(ENV_RESCHED_NEVER);
}

void seed000_split_livelock(void **state)
{
	struct tmmu *t = *state;
	struct mmu_stats st;
	u64 units, drops;

	tmmu_add_slot(t->mmu, 0, GIB_PAGES, GIB_PAGES, 0x100000, 0);
	assert_int_equal(tmmu_fault(t->v, SZ_1G, MMU_ACC_WRITE), MMU_FAULT_FIXED);
	/* Also a stretch of 4 KiB writable leaves (a misaligned slot). */
	tmmu_add_slot(t->mmu, 1, 0x1000, 300, 0x200001, 0);
	for (u64 g = 0x1000; g < 0x1000 + 300; g++)
		assert_int_equal(tmmu_fault(t->v, g << 12, MMU_ACC_WRITE), MMU_FAULT_FIXED);

	env_hosted_count_hook(HOOK_EXCL_YIELD, true);
	env_hosted_count_hook(HOOK_SPLIT_AFTER_UNIT, true);
	env_hosted_bind_hook(HOOK_EXCL_YIELD, count_yield, NULL);
	env_hosted_set_resched(ENV_RESCHED_ALWAYS);
	assert_int_equal(mmu_slot_set_flags(t->mmu, 0, MEMSLOT_DIRTY_LOG), 0);
	assert_int_equal(mmu_slot_set_flags(t->mmu, 1, MEMSLOT_DIRTY_LOG), 0);
	env_hosted_set_resched(ENV_RESCHED_WHEN_CONTENDED);

	units = env_hosted_hook_hits(HOOK_SPLIT_AFTER_UNIT) + 300; /* splits + 4K wrprots */
	drops = env_hosted_hook_hits(HOOK_EXCL_YIELD);
	mmu_get_stats(t->mmu, &st);
	assert_int_equal(st.splits, 1 + 512);
	assert_int_equal(st.maps_4k, GIB_PAGES + 300);
	assert_true(drops > 0);              /* the policy was obeyed... */
	assert_true(drops <= units + 2);     /* ...with progress between drops */
	assert_int_equal(st.yields, drops);
	tmmu_assert_verify(t->mmu);
}

struct faulter {
	struct mmu *mmu;
	u64 first_gfn, npages;
	volatile bool stop;
	u64 faults;
};

static void *fault_stream(void *arg)
{
	struct faulter *fa = arg;
	struct mmu_vcpu *v = mmu_vcpu_create(fa->mmu, 1);
	u64 i = 0;

	while (!__atomic_load_n(&fa->stop, __ATOMIC_ACQUIRE)) {
		hpa_t root;
		bool flush;

		if (mmu_vcpu_load_root(v, &root, &flush))
			break;
		mmu_page_fault(v, GPA((fa->first_gfn + i++ % fa->npages) << 12), MMU_ACC_WRITE);
		__atomic_add_fetch(&fa->faults, 1, __ATOMIC_RELAXED);
	}
	mmu_vcpu_destroy(v);
	return NULL;
}

/* The same under a constant stream of shared-mode faults and the default
 * policy (yield when someone waits): the splitter is never starved and
 * never livelocks, and the faulter keeps making progress in between. */
void seed000_split_progress_under_fault_stream(void **state)
{
	struct tmmu *t = *state;
	struct faulter fa = { .mmu = t->mmu, .first_gfn = 0x10000, .npages = 256 };
	pthread_t th;
	struct mmu_stats st;

	tmmu_add_slot(t->mmu, 0, GIB_PAGES, GIB_PAGES, 0x100000, 0);
	tmmu_add_slot(t->mmu, 1, 0x10000, 256, 0x300001, 0);
	assert_int_equal(tmmu_fault(t->v, SZ_1G, MMU_ACC_WRITE), MMU_FAULT_FIXED);
	env_hosted_count_hook(HOOK_EXCL_YIELD, true);
	env_hosted_bind_hook(HOOK_EXCL_YIELD, count_yield, NULL);
	assert_int_equal(pthread_create(&th, NULL, fault_stream, &fa), 0);
	KTEST_SPIN_UNTIL(__atomic_load_n(&fa.faults, __ATOMIC_RELAXED) >= 100,
			 "100 faults of the fault stream");
	assert_int_equal(mmu_slot_set_flags(t->mmu, 0, MEMSLOT_DIRTY_LOG), 0);
	__atomic_store_n(&fa.stop, true, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	mmu_get_stats(t->mmu, &st);
	assert_int_equal(st.splits, 1 + 512);
	assert_true(env_hosted_hook_hits(HOOK_EXCL_YIELD) <= 1 + 512 + 2);
	tmmu_assert_verify(t->mmu);
}
