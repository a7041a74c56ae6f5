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
#include <unistd.h>
#include "tests/seeds/seeds.h"
#include "mmu/tdp_iter.h"

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

/*
 * The same guarantee for the split as it runs now: under the SHARED lock.
 * Every unit is done holding the lock shared; a vCPU's fault completes
 * while the splitter sits inside a unit (with the exclusive lock it could
 * not: the bounded wait below would expire and the test fail, not hang);
 * with the policy forced to "yield now" the walk still finishes, with at
 * most one lock drop per finished unit, resuming from its cursor (units
 * arrive in gfn order and none is done twice).
 */
struct shared_split {
	struct mmu *mmu;
	struct mmu_vcpu *other;
	pthread_t th;
	u64 units, units_not_shared, last_gfn, out_of_order;
	bool started, fault_waited, thread_failed;
	int fault_done;       /* atomic: the other vCPU's fault returned */
	enum mmu_fault_result fault_r;
};
static struct shared_split *ss0;

static void *other_vcpu_fault(void *arg)
{
	struct shared_split *c = arg;

	c->fault_r = mmu_page_fault(c->other, GPA(0x10000ull << 12), MMU_ACC_WRITE);
	__atomic_store_n(&c->fault_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Up to ~5 s for the other vCPU's fault, then give up (no hang). */
static bool other_fault_finishes(struct shared_split *c)
{
	for (unsigned i = 0; i < 5000; i++) {
		if (__atomic_load_n(&c->fault_done, __ATOMIC_ACQUIRE))
			return true;
		usleep(1000);
	}
	return false;
}

static void shared_split_unit(enum env_hook h, void *arg, void *ctx)
{
	struct shared_split *c = ss0;
	const struct tdp_iter *it = arg;

	c->units++;
	if (lock_held_mode(&c->mmu->lock) != LOCK_SHARED)
		c->units_not_shared++;
	if (it->gfn < c->last_gfn)
		c->out_of_order++;
	c->last_gfn = it->gfn;
	if (c->started)
		return;
	c->started = true;
	/* Failures are recorded, and asserted once the MMU is quiet again:
	 * failing here would leave the lock held. */
	c->thread_failed = pthread_create(&c->th, NULL, other_vcpu_fault, c) != 0;
	c->fault_waited = !c->thread_failed && !other_fault_finishes(c);
}

void seed000_shared_split_progress(void **state)
{
	struct tmmu *t = *state;
	struct shared_split ctx = { .mmu = t->mmu };
	struct mmu_stats st;
	hpa_t root;
	bool flush;
	u64 drops;

	ss0 = &ctx;
	tmmu_add_slot(t->mmu, 0, GIB_PAGES, GIB_PAGES, 0x100000, 0);
	tmmu_add_slot(t->mmu, 1, 0x10000, 256, 0x300001, 0);
	assert_int_equal(tmmu_fault(t->v, SZ_1G, MMU_ACC_WRITE), MMU_FAULT_FIXED);
	ctx.other = mmu_vcpu_create(t->mmu, 1);
	assert_non_null(ctx.other);
	assert_int_equal(mmu_vcpu_load_root(ctx.other, &root, &flush), 0);

	env_hosted_count_hook(HOOK_EXCL_YIELD, true);
	env_hosted_bind_hook(HOOK_EXCL_YIELD, count_yield, NULL);
	env_hosted_bind_hook(HOOK_SPLIT_AFTER_UNIT, shared_split_unit, NULL);
	env_hosted_set_resched(ENV_RESCHED_ALWAYS);
	assert_int_equal(mmu_slot_set_flags(t->mmu, 0, MEMSLOT_DIRTY_LOG), 0);
	env_hosted_set_resched(ENV_RESCHED_WHEN_CONTENDED);
	env_hosted_bind_hook(HOOK_SPLIT_AFTER_UNIT, NULL, NULL);
	if (ctx.started && !ctx.thread_failed)
		pthread_join(ctx.th, NULL);
	mmu_vcpu_destroy(ctx.other);

	drops = env_hosted_hook_hits(HOOK_EXCL_YIELD);
	mmu_get_stats(t->mmu, &st);
	assert_true(ctx.started && !ctx.thread_failed);
	if (ctx.fault_waited)
		fail_msg("a vCPU's fault waited for the eager split: not under the shared lock");
	assert_int_equal(ctx.fault_r, MMU_FAULT_FIXED);
	assert_int_equal(ctx.units, 1 + 512);
	assert_int_equal(ctx.units_not_shared, 0);
	assert_int_equal(ctx.out_of_order, 0);
	assert_int_equal(st.splits, 1 + 512);
	assert_int_equal(st.maps_4k, GIB_PAGES + 1);
	assert_true(drops > 0);
	assert_true(drops <= ctx.units + 2);
	tmmu_assert_verify(t->mmu);
}
