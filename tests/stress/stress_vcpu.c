// SPDX-License-Identifier: MIT
/*
 * vCPU threads: each models a vCPU's run loop. One "guest access" is
 * load_root -> page fault, repeated until the fault resolves:
 *   RETRY       re-enter at once (lost a race, root obsolete);
 *   RETRY_SLOT  leave the run loop (nothing is held), come back shortly;
 *   NOMEM       evict (mmu_evict, holding nothing), as keel.efi's run loop
 *               does, back off and re-enter.
 * Each retry loop is bounded: a fault that never resolves is a livelock and a
 * violation. The final answer is then checked against the fixed layout.
 */
#include "stress_run.h"
#include "stress_mmu_glue.h"

#include <errno.h>
#include <inttypes.h>
#include <sched.h>

/* Consecutive non-final outcomes one access may see before we call it a
 * livelock. Generous: RETRY_SLOT repeats while a slot change is in flight
 * and a preempted slot writer can take a while on 2 shared cores. */
#define STRESS_RETRY_LIMIT (1u << 24)

/* Time a vCPU spends outside the run loop after RETRY_SLOT / NOMEM, and the
 * guest time between bursts of accesses. Without them, 4+ vCPU threads that
 * do nothing but fault starve the slot writers on a 2-core machine: a real
 * vCPU runs guest code between exits. */
#define STRESS_LEAVE_US 20
#define STRESS_GUEST_BURST 256
#define STRESS_GUEST_US 50

/* One access in this many is a prefault instead (half of them into churn
 * regions, where they race slot deletion: seed 004). */
#define STRESS_PREFAULT_EVERY 64

/* Enough control-thread work has been done alongside the faults. */
static bool control_work_done(struct stress_run *run)
{
	const struct stress_config *cfg = run->cfg;

	return atomic_load(&run->counts.churn_ops) >= cfg->min_churn &&
	       atomic_load(&run->counts.sessions_checked) >= cfg->min_sessions &&
	       atomic_load(&run->counts.invalidations) >= cfg->min_invalidations;
}

static bool vcpu_should_stop(struct stress_vcpu *v)
{
	struct stress_run *run = v->run;
	bool past_deadline;

	if (run->cfg->ops_per_vcpu && v->accesses < run->cfg->ops_per_vcpu)
		return false;
	if (v->accesses & 63)
		return false;
	past_deadline = stress_now_ns() >= run->deadline_ns;
	if (!run->cfg->ops_per_vcpu)
		return past_deadline;
	if (control_work_done(run))
		return true;
	if (past_deadline)
		atomic_store(&run->capped, true);
	return past_deadline;
}

/* A random page of one area; weights: big 40, dirty 25, churn 20, ro 10, hole 5. */
static gfn_t pick_random_gfn(struct stress_rng *r)
{
	u64 w = stress_rng_below(r, 100);

	if (w < 40)
		return GFN(STRESS_BIG_BASE + stress_rng_below(r, STRESS_BIG_PAGES));
	if (w < 65)
		return GFN(STRESS_DIRTY_BASE + stress_rng_below(r, STRESS_DIRTY_PAGES));
	if (w < 85)
		return GFN(STRESS_CHURN_BASE +
			   stress_rng_below(r, STRESS_NR_CHURN * STRESS_REGION_PAGES));
	if (w < 95)
		return GFN(STRESS_RO_BASE + stress_rng_below(r, STRESS_RO_PAGES));
	return GFN(stress_rng_below(r, STRESS_BIG_BASE));
}

/* Half the accesses come from short sequential streams (like a guest
 * touching a buffer), half are random. */
static gfn_t pick_gfn(struct stress_vcpu *v)
{
	if (v->seq_left) {
		v->seq_left--;
		return GFN(v->seq_gfn++ % STRESS_GPA_PAGES);
	}
	if (stress_rng_below(&v->rng, 2)) {
		v->seq_gfn = pick_random_gfn(&v->rng).v;
		v->seq_left = 1 + (unsigned)stress_rng_below(&v->rng, 256);
	}
	return pick_random_gfn(&v->rng);
}

static u32 pick_access(struct stress_rng *r)
{
	u64 w = stress_rng_below(r, 10);

	return w < 5 ? MMU_ACC_READ : w < 9 ? MMU_ACC_WRITE : MMU_ACC_EXEC;
}

/*
 * TLB flush rule: a change that removes or reduces a translation bumps the
 * flush generation, and every vCPU must flush before it next enters. So if
 * the generation read before this load_root is past the one read after the
 * vCPU's previous entry, this entry must flush (the vCPU caught up at most
 * with the value read after that entry). The first entry is not checked.
 */
void stress_check_entry_flush(struct stress_vcpu *v, u64 gen_before, bool flush)
{
	if (v->entered && !flush && gen_before > v->gen_after_entry)
		stress_fail(v->run->rep, "vcpu %u entered without a TLB flush although the flush "
			    "generation moved from %" PRIu64 " to %" PRIu64 " since its last entry",
			    v->idx, v->gen_after_entry, gen_before);
	v->entered = true;
	v->gen_after_entry = mmu_debug_flush_gen(v->run->mmu);
}

static bool load_root_checked(struct stress_vcpu *v)
{
	hpa_t root = HPA(0);
	bool flush = false;
	u64 gen = mmu_debug_flush_gen(v->run->mmu);
	int rc = mmu_vcpu_load_root(v->mv, &root, &flush);

	if (rc == -ENOMEM) {
		v->root_nomem++;
		sched_yield();
		return false;
	}
	if (rc)
		stress_fail(v->run->rep, "vcpu %u: load_root returned %d", v->idx, rc);
	else if (!root.v || !IS_ALIGNED(root.v, PAGE_SIZE))
		stress_fail(v->run->rep, "vcpu %u: load_root gave root %#" PRIx64, v->idx, root.v);
	else
		stress_check_entry_flush(v, gen, flush);
	v->flushes += flush;
	return rc == 0;
}

/* The modelled run loop for one access; returns the final outcome. */
static enum mmu_fault_result run_access(struct stress_vcpu *v, gfn_t gfn, u32 acc)
{
	u64 tries;

	for (tries = 1; tries <= STRESS_RETRY_LIMIT; tries++) {
		enum mmu_fault_result r;

		if (!load_root_checked(v))
			continue;
		r = mmu_page_fault(v->mv, gfn_to_gpa(gfn), acc);
		v->results[r]++;
		if (r == MMU_FAULT_RETRY)
			continue;
		if (r == MMU_FAULT_NOMEM)
			mmu_evict(v->run->mmu);
		if (r == MMU_FAULT_RETRY_SLOT || r == MMU_FAULT_NOMEM) {
			/* Leave the run loop (nothing is held) and come back a bit
			 * later, as a VMM thread that handles its requests would. */
			stress_sleep_us(STRESS_LEAVE_US);
			continue;
		}
		v->tries += tries;
		v->max_tries = MAX(v->max_tries, tries);
		return r;
	}
	stress_fail(v->run->rep, "vcpu %u: fault at gfn %#" PRIx64 " access %u did not resolve "
		    "in %u tries (livelock)", v->idx, gfn.v, acc, STRESS_RETRY_LIMIT);
	return MMU_FAULT_RETRY;
}

static bool is_success(enum mmu_fault_result r)
{
	return r == MMU_FAULT_FIXED || r == MMU_FAULT_SPURIOUS;
}

/* What the layout allows as the final outcome of acc at gfn. */
static bool outcome_allowed(enum stress_area area, unsigned churn_id, u32 acc,
			    enum mmu_fault_result r)
{
	bool write = acc & MMU_ACC_WRITE;

	switch (area) {
	case STRESS_AREA_HOLE:
		return r == MMU_FAULT_NO_SLOT;
	case STRESS_AREA_BIG:
	case STRESS_AREA_DIRTY:
		return is_success(r);
	case STRESS_AREA_RO:
		return write ? r == MMU_FAULT_PERM : is_success(r);
	case STRESS_AREA_CHURN:
		if (r == MMU_FAULT_NO_SLOT)
			return true;
		if (stress_slot_id_readonly(churn_id) && write)
			return r == MMU_FAULT_PERM;
		return is_success(r);
	}
	return false;
}

/* For the fixed slots, translation must agree with the model. */
static void check_translation(struct stress_vcpu *v, gfn_t gfn, enum stress_area area)
{
	unsigned id = area == STRESS_AREA_BIG ? STRESS_SLOT_BIG :
		      area == STRESS_AREA_RO ? STRESS_SLOT_RO : STRESS_SLOT_DIRTY;
	hfn_t want = stress_model_backing_of(&v->run->model, id, gfn);
	hfn_t got;
	u32 flags;

	if (!mmu_gfn_to_hfn(v->run->mmu, gfn, &got, &flags))
		stress_fail(v->run->rep, "gfn_to_hfn(%#" PRIx64 ") failed in fixed slot %u",
			    gfn.v, id);
	else if (got.v != want.v)
		stress_fail(v->run->rep, "gfn_to_hfn(%#" PRIx64 ") = %#" PRIx64 ", model %#" PRIx64,
			    gfn.v, got.v, want.v);
}

static void one_access(struct stress_vcpu *v)
{
	struct stress_dirty *d = &v->run->dirty;
	gfn_t gfn = pick_gfn(v);
	u32 acc = pick_access(&v->rng);
	unsigned churn_id = 0;
	enum stress_area area = stress_area_of(gfn, &churn_id);
	bool tracked = area == STRESS_AREA_DIRTY && (acc & MMU_ACC_WRITE);
	struct stress_dirty_token t = { 0, 0 };
	enum mmu_fault_result r;

	if (tracked)
		t = stress_dirty_begin(d, &v->opseq);
	r = run_access(v, gfn, acc);
	if (tracked)
		stress_dirty_end(d, &v->opseq, t, gfn.v - STRESS_DIRTY_BASE, is_success(r));
	if (!outcome_allowed(area, churn_id, acc, r))
		stress_fail(v->run->rep, "vcpu %u: access %u at gfn %#" PRIx64 " (area %d) -> %s",
			    v->idx, acc, gfn.v, area, mmu_fault_result_name(r));
	if (is_success(r) && area != STRESS_AREA_CHURN && (v->accesses & 15) == 0)
		check_translation(v, gfn, area);
	v->accesses++;
}

/* Prefault until it stops saying -EAGAIN (a slot in flux) or -ENOMEM: each
 * retry starts from the top, nothing is held in between (seed 004). */
static int prefault_retrying(struct stress_vcpu *v, gfn_t gfn, u64 len)
{
	int rc = -EAGAIN;

	for (unsigned tries = 0; tries < STRESS_RETRY_LIMIT; tries++) {
		rc = mmu_prefault(v->mv, gfn_to_gpa(gfn), len);
		if (rc != -EAGAIN && rc != -ENOMEM)
			return rc;
		v->prefault_again += rc == -EAGAIN;
		stress_sleep_us(STRESS_LEAVE_US);
	}
	stress_fail(v->run->rep, "vcpu %u: prefault gfn %#" PRIx64 " still %d after %u tries "
		    "(livelock)", v->idx, gfn.v, rc, STRESS_RETRY_LIMIT);
	return rc;
}

/* Now and then map ahead like a VMM preparing a guest: in the fixed big
 * slot it must succeed; in a churn region the slot may be being deleted or
 * moved right now, so -ENOENT (a hole) is a fine answer too. */
static void one_prefault(struct stress_vcpu *v)
{
	bool churn = stress_rng_below(&v->rng, 2);
	u64 len = (1 + stress_rng_below(&v->rng, 64)) * PAGE_SIZE;
	gfn_t gfn = churn ? GFN(STRESS_CHURN_BASE +
				stress_rng_below(&v->rng, STRESS_NR_CHURN * STRESS_REGION_PAGES - 64)) :
			    GFN(STRESS_BIG_BASE + stress_rng_below(&v->rng, STRESS_BIG_PAGES - 64));
	int rc = prefault_retrying(v, gfn, len);

	if (rc && !(churn && rc == -ENOENT))
		stress_fail(v->run->rep, "vcpu %u: prefault gfn %#" PRIx64 " len %#" PRIx64
			    " in the %s returned %d", v->idx, gfn.v, len,
			    churn ? "churn regions" : "fixed big slot", rc);
	v->prefaults++;
}

void *stress_vcpu_main(void *arg)
{
	struct stress_vcpu *v = arg;

	while (!vcpu_should_stop(v)) {
		if (stress_rng_below(&v->rng, STRESS_PREFAULT_EVERY) == 0)
			one_prefault(v);
		one_access(v);
		if (v->accesses % STRESS_GUEST_BURST == 0) {
			atomic_fetch_add(&v->run->progress, 1); /* for the watchdog */
			stress_sleep_us(STRESS_GUEST_US);
		}
	}
	atomic_fetch_add(&v->run->vcpus_done, 1);
	return NULL;
}
