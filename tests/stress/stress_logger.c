// SPDX-License-Identifier: MIT
/*
 * The dirty-log thread: turns logging on for the dirty slot (eager split),
 * harvests a few bitmaps while vCPUs write, closes the session with the
 * exact check of stress_dirty.h, turns logging off (huge pages come back),
 * and starts over until the run stops.
 */
#include "stress_run.h"

#include <errno.h>

/* Slot calls may fail with -ENOMEM under injected failures; retry those. */
#define STRESS_SLOT_CALL_TRIES 100000

static int set_logging(struct stress_run *run, bool on)
{
	struct stress_slot *s = &run->model.slots[STRESS_SLOT_DIRTY];
	u32 flags = on ? MEMSLOT_DIRTY_LOG : 0;
	int rc = -ENOMEM;

	for (unsigned i = 0; i < STRESS_SLOT_CALL_TRIES && rc == -ENOMEM; i++) {
		pthread_mutex_lock(&run->model.lock);
		rc = mmu_slot_set_flags(run->mmu, STRESS_SLOT_DIRTY, flags);
		if (!rc)
			s->d.flags = flags;
		if (!rc && on)
			run->model.log_enabled_at = atomic_load(&run->model.invalidations_done);
		pthread_mutex_unlock(&run->model.lock);
	}
	if (rc)
		stress_fail(run->rep, "dirty logging %s on slot %u returned %d",
			    on ? "enable" : "disable", STRESS_SLOT_DIRTY, rc);
	return rc;
}

static void harvest(struct stress_run *run)
{
	int rc = -ENOMEM;

	for (unsigned i = 0; i < STRESS_SLOT_CALL_TRIES && rc == -ENOMEM; i++)
		rc = stress_dirty_harvest(&run->dirty, run->mmu, STRESS_SLOT_DIRTY);
	if (rc)
		stress_fail(run->rep, "get_dirty_log on slot %u returned %d",
			    STRESS_SLOT_DIRTY, rc);
}

static void close_session(struct stress_run *run)
{
	atomic_ullong *opseqs[STRESS_MAX_VCPUS];
	u64 checked = run->dirty.writes_checked;

	for (unsigned i = 0; i < run->nvcpus; i++)
		opseqs[i] = &run->vcpus[i].opseq;
	stress_dirty_quiesce(&run->dirty, opseqs, run->nvcpus);
	harvest(run); /* logging still on: catches every write of the session */
	stress_dirty_check(&run->dirty, run->rep);
	/* Only a session that saw writes counts towards --min-sessions: on a
	 * slow machine (TSan) one can close before any vCPU wrote into it, and
	 * a run made only of those would check nothing (the broken-run
	 * self-test would then pass by luck). */
	if (run->dirty.writes_checked > checked)
		atomic_fetch_add(&run->counts.sessions_checked, 1);
}

static void one_session(struct stress_run *run, struct stress_rng *r)
{
	if (set_logging(run, true))
		return;
	stress_dirty_open(&run->dirty);
	for (u64 k = 1 + stress_rng_below(r, 6); k && !atomic_load(&run->stop); k--) {
		stress_sleep_us(200 + stress_rng_below(r, 2000));
		harvest(run);
	}
	close_session(run);
	set_logging(run, false);
}

void *stress_dirty_main(void *arg)
{
	struct stress_run *run = arg;
	struct stress_rng r;

	stress_rng_seed(&r, run->cfg->seed, 1004);
	while (!atomic_load(&run->stop)) {
		one_session(run, &r);
		stress_sleep_us(stress_rng_below(&r, 2000));
	}
	return NULL;
}

/* --- slot flags racing slot churn ------------------------------------------ */

/*
 * Toggles dirty logging on churn slots and harvests them, without the model
 * lock, so these slot writers really race the churn thread's add, move and
 * delete of the same slot. Only the outcome codes are checked: the slot may
 * be gone (-ENOENT), not logging (-EINVAL from a harvest), or short of
 * memory. The model never learns of these flags; the leaf checks only use
 * READONLY (which set_flags may not change) for churn slots.
 */
static void race_once(struct stress_run *run, struct stress_rng *r, u64 *bitmap)
{
	unsigned id = STRESS_SLOT_CHURN0 + (unsigned)stress_rng_below(r, STRESS_NR_CHURN);
	u32 ro = stress_slot_id_readonly(id) ? MEMSLOT_READONLY : 0;
	int rc;

	if (stress_rng_below(r, 2)) {
		rc = mmu_slot_set_flags(run->mmu, (u16)id,
					ro | (stress_rng_below(r, 2) ? MEMSLOT_DIRTY_LOG : 0));
		if (rc && rc != -ENOENT && rc != -ENOMEM)
			stress_fail(run->rep, "set_flags on churn slot %u returned %d", id, rc);
		return;
	}
	rc = mmu_slot_get_dirty_log(run->mmu, (u16)id, bitmap);
	if (rc && rc != -ENOENT && rc != -EINVAL && rc != -ENOMEM)
		stress_fail(run->rep, "get_dirty_log on churn slot %u returned %d", id, rc);
}

void *stress_flags_main(void *arg)
{
	struct stress_run *run = arg;
	u64 bitmap[STRESS_CHURN_MAX_PAGES / 64];
	struct stress_rng r;

	stress_rng_seed(&r, run->cfg->seed, 1005);
	while (!atomic_load(&run->stop)) {
		race_once(run, &r, bitmap);
		atomic_fetch_add(&run->counts.flag_races, 1);
		stress_sleep_us(100 + stress_rng_below(&r, 1000));
	}
	return NULL;
}
