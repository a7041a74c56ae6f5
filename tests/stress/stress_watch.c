// SPDX-License-Identifier: MIT
/*
 * Threads that only watch: the periodic mmu_verify() and statistics checks,
 * and a watchdog that turns a hang into a diagnosed failure.
 */
#include "stress_run.h"
#include "stress_mmu_glue.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

static bool stopping(struct stress_run *run)
{
	return atomic_load(&run->stop);
}

/* --- mmu_verify and counters ---------------------------------------------- */

/* Gauges are u64: an underflow shows up as an absurdly large value. */
#define STRESS_GAUGE_LIMIT (1ull << 40)

static void check_gauges(struct stress_run *run, const struct mmu_stats *st)
{
	if (st->tables_in_use > STRESS_GAUGE_LIMIT || st->maps_4k > STRESS_GAUGE_LIMIT ||
	    st->maps_2m > STRESS_GAUGE_LIMIT || st->maps_1g > STRESS_GAUGE_LIMIT)
		stress_fail(run->rep, "gauge underflow: tables %" PRIu64 " 4k %" PRIu64 " 2m %"
			    PRIu64 " 1g %" PRIu64, st->tables_in_use, st->maps_4k, st->maps_2m,
			    st->maps_1g);
}

/* Every other field of struct mmu_stats is a monotonic counter. */
static void check_monotonic(struct stress_run *run, const struct mmu_stats *now)
{
	static const struct {
		const char *name;
		size_t off;
	} counters[] = {
#define STRESS_COUNTER(f) { #f, offsetof(struct mmu_stats, f) }
		STRESS_COUNTER(faults_fixed), STRESS_COUNTER(faults_spurious),
		STRESS_COUNTER(retries_race), STRESS_COUNTER(retries_obsolete),
		STRESS_COUNTER(retries_slot), STRESS_COUNTER(no_slot),
		STRESS_COUNTER(splits), STRESS_COUNTER(zaps),
		STRESS_COUNTER(root_invalidations), STRESS_COUNTER(tlb_flush_requests),
#undef STRESS_COUNTER
	};

	for (size_t i = 0; i < ARRAY_SIZE(counters); i++) {
		u64 was = *(const u64 *)((const char *)&run->last_stats + counters[i].off);
		u64 is = *(const u64 *)((const char *)now + counters[i].off);

		if (is < was)
			stress_fail(run->rep, "counter %s went backwards: %" PRIu64 " -> %" PRIu64,
				    counters[i].name, was, is);
	}
	run->last_stats = *now;
}

/* Called by the verify thread, and by the main thread once it has stopped. */
void stress_check_stats(struct stress_run *run)
{
	struct mmu_stats st;

	mmu_get_stats(run->mmu, &st);
	check_gauges(run, &st);
	check_monotonic(run, &st);
}

/* --no-mmu-verify leaves only the harness's own checks (mutants.sh uses it to
 * show they catch bugs without the MMU's self-check). */
void stress_verify_once(struct stress_run *run, const char *when)
{
	char why[256] = "";
	int rc = run->cfg->no_mmu_verify ? 0 : mmu_verify(run->mmu, why, sizeof(why));

	if (rc)
		stress_fail(run->rep, "mmu_verify (%s) returned %d: %s", when, rc, why);
	stress_check_stats(run);
	atomic_fetch_add(&run->counts.verifies, 1);
}

void *stress_verify_main(void *arg)
{
	struct stress_run *run = arg;

	while (!stopping(run)) {
		stress_sleep_us(3000);
		stress_verify_once(run, "periodic");
	}
	return NULL;
}

/* --- watchdog ------------------------------------------------------------ */

/* A hang (say a fault spinning inside the slot read side while a slot writer
 * waits for it: seed 004) would otherwise only end at run-tests.sh's 900 s
 * timeout with no clue. If neither the vCPUs nor the slot churn have moved
 * for STRESS_WATCHDOG_S seconds, say where things stand and abort. This is a
 * bound on a hang, not a timing check: a slow machine only takes longer. */
#define STRESS_WATCHDOG_S 120

static u64 progress_now(struct stress_run *run)
{
	return atomic_load(&run->progress) + atomic_load(&run->counts.churn_ops) +
	       atomic_load(&run->vcpus_done);
}

static __noreturn void watchdog_fire(struct stress_run *run)
{
	printf("# watchdog: no progress for %d s: vcpus done %u/%u, churn %llu, sessions "
	       "%llu, invalidations %llu\n", STRESS_WATCHDOG_S, atomic_load(&run->vcpus_done),
	       run->nvcpus, atomic_load(&run->counts.churn_ops),
	       atomic_load(&run->counts.sessions_checked), atomic_load(&run->counts.invalidations));
	stress_report_print(run->rep);
	printf("not ok - stress run hung (seed %#" PRIx64 ")\n", run->cfg->seed);
	fflush(stdout);
	abort();
}

void *stress_watchdog_main(void *arg)
{
	struct stress_run *run = arg;
	u64 last = progress_now(run), quiet_ticks = 0;

	while (!stopping(run)) {
		u64 now;

		stress_sleep_us(100000); /* ticks of 0.1 s: a stopping run never waits long */
		now = progress_now(run);
		quiet_ticks = now == last ? quiet_ticks + 1 : 0;
		last = now;
		if (quiet_ticks >= STRESS_WATCHDOG_S * 10)
			watchdog_fire(run);
	}
	return NULL;
}
