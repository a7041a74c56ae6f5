// SPDX-License-Identifier: MIT
/*
 * One stress session from start to end: build the MMU and the fixed slots,
 * start the vCPU and control threads, wait for the vCPUs, stop the control
 * threads, then check the final state and tear everything down (ASan checks
 * that nothing leaked and nothing was used after it was freed).
 */
#include "stress_run.h"
#include "stress_mmu_glue.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

u64 stress_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ull + (u64)ts.tv_nsec;
}

void stress_sleep_us(u64 us)
{
	struct timespec ts = { (time_t)(us / 1000000), (long)(us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

static void *(*const stress_controls[])(void *) = {
	stress_churn_main, stress_zap_main, stress_invalidate_main,
	stress_verify_main, stress_dirty_main, stress_flags_main, stress_watchdog_main,
};
#define STRESS_NR_CONTROLS ARRAY_SIZE(stress_controls)

static int run_setup(struct stress_run *run, const struct stress_config *cfg,
		     struct stress_report *rep)
{
	run->cfg = cfg;
	run->rep = rep;
	run->nvcpus = MIN(cfg->vcpus, STRESS_MAX_VCPUS);
	stress_model_init(&run->model, cfg->broken);
	if (stress_dirty_init(&run->dirty, STRESS_DIRTY_PAGES))
		return -1;
	run->dirty.drop_harvests = cfg->broken == STRESS_BROKEN_DIRTY;
	run->mmu = mmu_create(cfg->fmt);
	if (!run->mmu || stress_model_add_fixed(&run->model, run->mmu))
		return -1;
	for (unsigned i = 0; i < run->nvcpus; i++) {
		struct stress_vcpu *v = &run->vcpus[i];

		v->run = run;
		v->idx = i;
		stress_rng_seed(&v->rng, cfg->seed, i);
		v->mv = mmu_vcpu_create(run->mmu, i);
		if (!v->mv)
			return -1;
	}
	run->start_ns = stress_now_ns();
	run->deadline_ns = run->start_ns +
			   (u64)((cfg->ops_per_vcpu ? cfg->cap_seconds : cfg->seconds) * 1e9);
	return 0;
}

static void run_threads(struct stress_run *run)
{
	pthread_t ctl[STRESS_NR_CONTROLS];

	stress_env_set_alloc_fail(run->cfg->alloc_fail_per_mille, run->cfg->seed);
	for (size_t i = 0; i < STRESS_NR_CONTROLS; i++)
		pthread_create(&ctl[i], NULL, stress_controls[i], run);
	for (unsigned i = 0; i < run->nvcpus; i++)
		pthread_create(&run->vcpus[i].thread, NULL, stress_vcpu_main, &run->vcpus[i]);
	for (unsigned i = 0; i < run->nvcpus; i++)
		pthread_join(run->vcpus[i].thread, NULL);
	atomic_store(&run->stop, true);
	for (size_t i = 0; i < STRESS_NR_CONTROLS; i++)
		pthread_join(ctl[i], NULL);
	stress_env_set_alloc_fail(0, 0);
}

/* Quiescent end state: the model still holds, and once every slot is gone
 * nothing is mapped and every gauge is back to zero. */
void stress_final_checks(struct stress_run *run)
{
	struct mmu_stats st;

	stress_full_leaf_check(run);
	stress_verify_once(run, "final");
	for (unsigned id = 0; id < STRESS_NR_SLOTS; id++) {
		struct stress_slot *s = &run->model.slots[id];
		int rc;

		if (!s->present)
			continue;
		rc = mmu_slot_delete(run->mmu, (u16)id);
		if (rc)
			stress_fail(run->rep, "final delete of slot %u returned %d", id, rc);
		s->present = false;
		stress_check_unmapped(run->mmu, &s->d, NULL, run->rep, "final delete");
	}
	if (stress_count_leaves(run->mmu))
		stress_fail(run->rep, "leaves remain after every slot was deleted");
	mmu_get_stats(run->mmu, &st);
	if (st.maps_4k || st.maps_2m || st.maps_1g)
		stress_fail(run->rep, "map gauges not zero with no slots: 4k %" PRIu64 " 2m %"
			    PRIu64 " 1g %" PRIu64, st.maps_4k, st.maps_2m, st.maps_1g);
	stress_verify_once(run, "empty");
}

static void run_teardown(struct stress_run *run)
{
	for (unsigned i = 0; i < run->nvcpus; i++)
		if (run->vcpus[i].mv)
			mmu_vcpu_destroy(run->vcpus[i].mv);
	if (run->mmu)
		mmu_destroy(run->mmu);
	stress_dirty_fini(&run->dirty);
	pthread_mutex_destroy(&run->model.lock);
}

static void print_lock_stats(struct mmu *mmu)
{
	struct mmu_lock_stats ls;
	struct mmu_stats st;

	mmu_debug_lock_stats(mmu, &ls, false);
	printf("#   exclusive MMU lock: %" PRIu64 " holds, longest %.2f ms, %" PRIu64
	       " yields by long walks\n", ls.excl_acquisitions, (double)ls.excl_max_ns / 1e6,
	       ls.yields);
	mmu_get_stats(mmu, &st);
	printf("#   evictions after NOMEM: %" PRIu64 "\n", st.evictions);
}

static void print_summary(const struct stress_run *run)
{
	u64 res[STRESS_NR_RESULTS] = { 0 }, acc = 0, tries = 0, maxt = 0, pre = 0, flushes = 0;
	u64 again = 0;
	const struct stress_counts *c = &run->counts;

	for (unsigned i = 0; i < run->nvcpus; i++) {
		const struct stress_vcpu *v = &run->vcpus[i];

		for (unsigned r = 0; r < STRESS_NR_RESULTS; r++)
			res[r] += v->results[r];
		acc += v->accesses;
		tries += v->tries;
		pre += v->prefaults;
		flushes += v->flushes;
		again += v->prefault_again;
		maxt = MAX(maxt, v->max_tries);
	}
	printf("# %s: %.1f s, %u vcpus, %" PRIu64 " accesses (%" PRIu64 " fault calls, max %"
	       PRIu64 " for one access), %" PRIu64 " prefaults (%" PRIu64 " -EAGAIN), %" PRIu64
	       " entries flushed\n", run->cfg->fmt_name,
	       (double)(stress_now_ns() - run->start_ns) / 1e9, run->nvcpus, acc, tries, maxt, pre,
	       again, flushes);
	if (atomic_load(&run->capped))
		printf("#   note: stopped at the %.0f s cap before the control threads did their "
		       "minimum work (machine busy?)\n", run->cfg->cap_seconds);
	printf("#   outcomes:");
	for (unsigned r = 0; r < STRESS_NR_RESULTS; r++)
		printf(" %s=%" PRIu64, mmu_fault_result_name((enum mmu_fault_result)r), res[r]);
	printf("\n#   churn %llu, zaps %llu, invalidations %llu (always-yield windows %llu), "
	       "verifies %llu, leaf checks %llu (%llu leaves)\n", c->churn_ops, c->zaps,
	       c->invalidations, c->yield_windows, c->verifies, c->leaf_checks, c->leaves_seen);
	printf("#   slot changes took %.2f ms on average, %.2f ms at most\n",
	       c->churn_ops ? (double)run->churn_ns / 1e6 / (double)c->churn_ops : 0.0,
	       (double)run->churn_max_ns / 1e6);
	printf("#   churn-slot flag changes and harvests racing the churn: %llu\n", c->flag_races);
	printf("#   dirty: %" PRIu64 " sessions, %" PRIu64 " harvests, %" PRIu64
	       " pages reported, %" PRIu64 " written pages checked\n", run->dirty.sessions,
	       run->dirty.harvests, run->dirty.pages_reported, run->dirty.writes_checked);
}

u64 stress_run(const struct stress_config *cfg, struct stress_report *rep)
{
	struct stress_run *run = calloc(1, sizeof(*run));
	u64 before = atomic_load(&rep->failures);

	if (!run) {
		stress_fail(rep, "out of memory for the run");
		return 1;
	}
	if (run_setup(run, cfg, rep) == 0) {
		run_threads(run);
		print_summary(run);
		print_lock_stats(run->mmu);
		stress_final_checks(run);
	} else {
		stress_fail(rep, "setup failed (mmu_create, slot add or vcpu create)");
	}
	run_teardown(run);
	free(run);
	return atomic_load(&rep->failures) - before;
}
