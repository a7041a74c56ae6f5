// SPDX-License-Identifier: MIT
/*
 * vCPU modes: the guest-entry protocol that lets remote flushes and grace
 * periods consider only vCPUs that can use the tables.
 *
 * A vCPU is OUTSIDE the guest, ENTERING it (the lock-free part of
 * mmu_vcpu_load_root) or IN the guest (from load_root's return until
 * mmu_vcpu_exit_guest). The entry is a Dekker pair with remote_flush.c:
 *
 *   vCPU:    mode = ENTERING (seq_cst);  read flush_gen (seq_cst)
 *   flusher: flush_gen++ (seq_cst RMW);  read mode (seq_cst)
 *
 * Either the vCPU sees the new flush_gen (its check fails, it reloads under
 * the lock and flushes), or the flusher sees it ENTERING or IN_GUEST and
 * waits for it. A vCPU never waits for a lock while ENTERING: when the
 * lock-free check fails it steps OUTSIDE before taking the shared lock, so a
 * flusher holding the exclusive lock can wait for ENTERING vCPUs without
 * deadlock.
 */
#include "mmu/mmu_internal.h"

static void vcpu_mode_set(struct mmu_vcpu *mv, enum mmu_vcpu_mode m)
{
	atomic_set_sc(&mv->mode, (u32)m);
}

bool vcpu_sees_tables(struct mmu_vcpu *v)
{
	return atomic_read_sc(&v->mode) != VCPU_OUTSIDE_GUEST;
}

/* In (or entering) the guest and last flushed before generation 'gen'. */
bool vcpu_may_hold_stale(struct mmu_vcpu *v, u64 gen)
{
	return vcpu_sees_tables(v) && atomic_read(&v->flush_seen) < gen;
}

int mmu_vcpu_load_root(struct mmu_vcpu *mv, hpa_t *root, bool *flush)
{
	bool need_flush = mv->pending_flush;
	int r;

	if (mmu_is_dead(mv->mmu))
		return -EIO; /* MMU_BUG_ON fired: the VM stops */
	for (;;) {
		vcpu_mode_set(mv, VCPU_ENTERING_GUEST);
		if (load_root_fast(mv)) {
			env_hook(HOOK_VCPU_ENTERING, mv);
			break;
		}
		vcpu_mode_set(mv, VCPU_OUTSIDE_GUEST);
		r = vcpu_root_reload(mv, &need_flush);
		if (r)
			return r;
	}
	vcpu_mode_set(mv, VCPU_IN_GUEST);
	*root = env_virt_to_hpa(mv->root->pt);
	*flush = need_flush;
	return 0;
}

void mmu_vcpu_exit_guest(struct mmu_vcpu *mv)
{
	vcpu_mode_set(mv, VCPU_OUTSIDE_GUEST);
}

/* A reload inside an MMU call made outside the guest (prefault): the vCPU
 * stays in its mode; the flush it earns is owed to its next real entry. */
int vcpu_reload_owed(struct mmu_vcpu *mv)
{
	bool need_flush = mv->pending_flush;
	int r = vcpu_root_reload(mv, &need_flush);

	if (!r && need_flush)
		mv->pending_flush = true;
	return r;
}

void mmu_vcpu_set_kick(struct mmu_vcpu *mv, mmu_kick_fn kick, void *arg)
{
	struct mmu_excl x = mmu_lock_excl(mv->mmu);

	mv->kick = kick;
	mv->kick_arg = arg;
	mmu_unlock_excl(&x);
}
