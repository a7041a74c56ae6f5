// SPDX-License-Identifier: MIT
/*
 * Remote TLB flushes: an operation that removes or reduces a translation
 * (zap, slot delete or move, write-protect for dirty logging and harvest, a
 * split that drops a permission, root invalidation) bumps mmu->flush_gen
 * (tdp_set_spte, roots_invalidate). Before the exclusive MMU lock is given up
 * (mmu_unlock_excl -> reclaim_run -> here, also when a long walk yields),
 * every vCPU that may still use a translation cached before that generation
 * has stopped using it:
 *
 *  - a vCPU OUTSIDE the guest flushes before it next enters: its next
 *    load_root sees flush_gen != flush_seen (vcpu_mode.c);
 *  - a vCPU ENTERING or IN the guest with flush_seen older than the
 *    generation is kicked (its mmu_kick_fn: an IPI in keel.efi, a model kick
 *    in tests/smp) and waited for until it leaves guest mode or re-enters
 *    having flushed.
 *
 * Which root a vCPU uses does not matter (obsolete roots still loaded are
 * covered): the wait is on the vCPU's flush generation. A vCPU without a kick
 * runs on the caller's thread (one CPU): it cannot be in the guest while the
 * caller runs, and is not waited for. Only the public operations' callers
 * (vmm/, tests) wait; the fault path never does.
 */
#include "mmu/mmu_internal.h"

/* A kicked vCPU leaves guest mode within microseconds; one that has not
 * after this long is stuck (its CPU no longer answers): a Keel bug. */
#define REMOTE_FLUSH_TIMEOUT_NS (20ull * 1000000000ull)

static bool vcpu_needs_wait(struct mmu_vcpu *v, u64 gen)
{
	return v->kick && vcpu_may_hold_stale(v, gen);
}

static unsigned kick_stale_vcpus(struct mmu *mmu, u64 gen)
{
	unsigned kicked = 0;

	for (struct mmu_vcpu *v = mmu->vcpus; v; v = v->next) {
		if (!vcpu_needs_wait(v, gen))
			continue;
		v->kick(v->kick_arg);
		kicked++;
	}
	return kicked;
}

static void wait_for_vcpu(struct mmu_vcpu *v, u64 gen, u64 t0)
{
	unsigned spins = 0;

	while (vcpu_needs_wait(v, gen)) {
		if (++spins % 64 == 0) {
			env_yield();
			if (env_now_ns() - t0 > REMOTE_FLUSH_TIMEOUT_NS) {
				env_log("remote flush: vcpu %u still in the guest at flush "
					"generation %llu (seen %llu)", v->id,
					(unsigned long long)gen,
					(unsigned long long)atomic_read(&v->flush_seen));
				env_assert_failed("kicked vCPU left guest mode", __FILE__,
						  __LINE__);
			}
		} else {
			env_cpu_relax();
		}
	}
}

void remote_flush_sync(const struct mmu_excl *x)
{
	struct mmu *mmu = x->mmu;
	u64 gen, t0, waited;
	unsigned kicked;

	mmu_assert_excl(x);
	gen = atomic_read_sc(&mmu->flush_gen);
	if (gen == mmu->flush_synced)
		return;
	kicked = kick_stale_vcpus(mmu, gen);
	if (kicked) {
		t0 = env_now_ns();
		for (struct mmu_vcpu *v = mmu->vcpus; v; v = v->next)
			wait_for_vcpu(v, gen, t0);
		waited = env_now_ns() - t0;
		mmu_count(&mmu->c.remote_flushes);
		atomic_add(&mmu->c.remote_kicks, kicked);
		atomic_add(&mmu->c.remote_wait_total_ns, waited);
		if (waited > atomic_read(&mmu->c.remote_wait_max_ns))
			atomic_set(&mmu->c.remote_wait_max_ns, waited);
	}
	mmu->flush_synced = gen;
}

void mmu_get_flush_stats(struct mmu *mmu, struct mmu_flush_stats *out)
{
	*out = (struct mmu_flush_stats){
		.remote_flushes = atomic_read(&mmu->c.remote_flushes),
		.kicks = atomic_read(&mmu->c.remote_kicks),
		.worst_wait_ns = atomic_read(&mmu->c.remote_wait_max_ns),
		.total_wait_ns = atomic_read(&mmu->c.remote_wait_total_ns),
	};
}
