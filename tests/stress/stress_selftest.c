// SPDX-License-Identifier: MIT
/*
 * The harness must be able to fail. Each self-test builds a small situation
 * by hand (one thread, deterministic), runs one of the harness's checkers on
 * it once with the truth and once with a deliberately broken model or a
 * deliberately lost harvest, and passes only if the checker is silent on the
 * first and reports the second.
 */
#include "stress_selftest.h"
#include "stress_mmu_glue.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/wait.h>
#include <unistd.h>

struct selftest_env {
	struct mmu *mmu;
	struct mmu_vcpu *mv;
	struct stress_model model;
};

static bool env_up(struct selftest_env *e, const struct stress_config *cfg,
		   enum stress_broken broken)
{
	stress_model_init(&e->model, broken);
	e->mmu = mmu_create(cfg->fmt);
	if (!e->mmu || stress_model_add_fixed(&e->model, e->mmu))
		return false;
	e->mv = mmu_vcpu_create(e->mmu, 0);
	return e->mv != NULL;
}

static void env_down(struct selftest_env *e)
{
	if (e->mv)
		mmu_vcpu_destroy(e->mv);
	if (e->mmu)
		mmu_destroy(e->mmu);
	pthread_mutex_destroy(&e->model.lock);
}

/* The run loop of stress_vcpu.c, shortened: one access, retried to the end. */
static enum mmu_fault_result fault_once(struct mmu_vcpu *mv, gfn_t gfn, u32 acc)
{
	enum mmu_fault_result r = MMU_FAULT_RETRY;

	for (unsigned i = 0; i < 1000; i++) {
		hpa_t root;
		bool flush;

		if (mmu_vcpu_load_root(mv, &root, &flush))
			continue;
		r = mmu_page_fault(mv, gfn_to_gpa(gfn), acc);
		if (r != MMU_FAULT_RETRY && r != MMU_FAULT_RETRY_SLOT && r != MMU_FAULT_NOMEM)
			break;
	}
	return r;
}

static u64 leaf_violations(const struct stress_config *cfg, enum stress_broken broken)
{
	struct selftest_env e = { 0 };
	struct stress_report rep;
	enum mmu_fault_result r;

	stress_report_init(&rep);
	if (!env_up(&e, cfg, broken)) {
		env_down(&e);
		return ~0ull;
	}
	r = fault_once(e.mv, GFN(STRESS_BIG_BASE + 12345), MMU_ACC_WRITE);
	if (r != MMU_FAULT_FIXED)
		stress_fail(&rep, "setup fault returned %s", mmu_fault_result_name(r));
	stress_check_leaves(&e.model, e.mmu, &rep);
	env_down(&e);
	return atomic_load(&rep.failures);
}

bool stress_selftest_model(const struct stress_config *cfg)
{
	u64 honest = leaf_violations(cfg, STRESS_BROKEN_NONE);
	u64 broken = leaf_violations(cfg, STRESS_BROKEN_MODEL);

	printf("# model checker: %llu violation(s) with the true model, %llu with the backing "
	       "1 frame off\n", (unsigned long long)honest, (unsigned long long)broken);
	return honest == 0 && broken > 0 && broken != ~0ull;
}

/* One tracked write to page 'page' of the dirty slot, harvested (honestly or
 * not) and checked. Returns the number of lost-write violations. */
static u64 dirty_violations(const struct stress_config *cfg, bool drop, u64 page)
{
	struct selftest_env e = { 0 };
	struct stress_dirty d;
	struct stress_report rep;
	atomic_ullong opseq = 0;
	atomic_ullong *seqs[1] = { &opseq };
	struct stress_dirty_token t;
	enum mmu_fault_result r;

	stress_report_init(&rep);
	if (!env_up(&e, cfg, STRESS_BROKEN_NONE) || stress_dirty_init(&d, STRESS_DIRTY_PAGES)) {
		env_down(&e);
		return ~0ull;
	}
	d.drop_harvests = drop;
	if (mmu_slot_set_flags(e.mmu, STRESS_SLOT_DIRTY, MEMSLOT_DIRTY_LOG))
		stress_fail(&rep, "enabling dirty logging failed");
	stress_dirty_open(&d);
	t = stress_dirty_begin(&d, &opseq);
	r = fault_once(e.mv, GFN(STRESS_DIRTY_BASE + page), MMU_ACC_WRITE);
	stress_dirty_end(&d, &opseq, t, page, r == MMU_FAULT_FIXED || r == MMU_FAULT_SPURIOUS);
	stress_dirty_quiesce(&d, seqs, 1);
	if (stress_dirty_harvest(&d, e.mmu, STRESS_SLOT_DIRTY))
		stress_fail(&rep, "harvest failed");
	stress_dirty_check(&d, &rep);
	stress_dirty_fini(&d);
	env_down(&e);
	return atomic_load(&rep.failures);
}

bool stress_selftest_dirty(const struct stress_config *cfg)
{
	u64 honest = dirty_violations(cfg, false, 77);
	u64 broken = dirty_violations(cfg, true, 77);

	printf("# dirty checker: %llu violation(s) with true harvests, %llu with harvests "
	       "dropped\n", (unsigned long long)honest, (unsigned long long)broken);
	return honest == 0 && broken > 0 && broken != ~0ull;
}

/* The delete check: a slot still present must be reported as mapped, and
 * nothing may be reported once it is really deleted. */
bool stress_selftest_unmapped(const struct stress_config *cfg)
{
	struct selftest_env e = { 0 };
	struct stress_report before, after;
	struct memslot_desc d = {
		.id = STRESS_SLOT_CHURN0, .base_gfn = { STRESS_CHURN_BASE }, .npages = 16,
		.backing = { 2048 * STRESS_1G_PAGES },
	};
	bool ok = env_up(&e, cfg, STRESS_BROKEN_NONE) && !mmu_slot_add(e.mmu, &d);

	stress_report_init(&before);
	stress_report_init(&after);
	if (ok && fault_once(e.mv, GFN(STRESS_CHURN_BASE + 3), MMU_ACC_READ) != MMU_FAULT_FIXED)
		ok = false;
	if (ok) {
		stress_check_unmapped(e.mmu, &d, NULL, &before, "(not yet) delete");
		ok = !mmu_slot_delete(e.mmu, d.id);
		stress_check_unmapped(e.mmu, &d, NULL, &after, "delete");
	}
	env_down(&e);
	printf("# delete checker: %llu report(s) while the slot exists, %llu after delete\n",
	       (unsigned long long)atomic_load(&before.failures),
	       (unsigned long long)atomic_load(&after.failures));
	return ok && atomic_load(&before.failures) > 0 && atomic_load(&after.failures) == 0;
}

/* One entry after a zap of a page the vCPU used, checked by the flush-rule
 * checker with the MMU's answer, or with the answer thrown away. */
static u64 flush_violations(const struct stress_config *cfg, bool drop_flush)
{
	struct stress_run *run = calloc(1, sizeof(*run));
	struct stress_report rep;
	struct stress_vcpu *v;
	u64 gen, n;
	hpa_t root;
	bool flush = false;

	stress_report_init(&rep);
	if (!run)
		return ~0ull;
	run->rep = &rep;
	run->cfg = cfg;
	v = &run->vcpus[0];
	v->run = run;
	stress_model_init(&run->model, STRESS_BROKEN_NONE);
	run->mmu = mmu_create(cfg->fmt);
	if (run->mmu && !stress_model_add_fixed(&run->model, run->mmu) &&
	    (v->mv = mmu_vcpu_create(run->mmu, 0)) &&
	    fault_once(v->mv, GFN(STRESS_RO_BASE + 5), MMU_ACC_READ) == MMU_FAULT_FIXED &&
	    !mmu_vcpu_load_root(v->mv, &root, &flush)) {
		stress_check_entry_flush(v, mmu_debug_flush_gen(run->mmu), flush);
		mmu_zap_gfn_range(run->mmu, GFN(STRESS_RO_BASE), GFN(STRESS_RO_BASE + 512));
		gen = mmu_debug_flush_gen(run->mmu);
		if (!mmu_vcpu_load_root(v->mv, &root, &flush))
			stress_check_entry_flush(v, gen, flush && !drop_flush);
	} else {
		stress_fail(&rep, "setup failed");
	}
	if (v->mv)
		mmu_vcpu_destroy(v->mv);
	if (run->mmu)
		mmu_destroy(run->mmu);
	pthread_mutex_destroy(&run->model.lock);
	free(run);
	n = atomic_load(&rep.failures);
	return n;
}

bool stress_selftest_flush(const struct stress_config *cfg)
{
	u64 honest = flush_violations(cfg, false);
	u64 broken = flush_violations(cfg, true);

	printf("# flush checker: %llu violation(s) with the MMU's flush answers, %llu with the "
	       "flush after a zap ignored\n", (unsigned long long)honest,
	       (unsigned long long)broken);
	return honest == 0 && broken > 0 && broken != ~0ull;
}

/* End to end: the whole harness, run with a corrupted model (or with every
 * harvest thrown away), must say "not ok" and exit 1. Runs this very binary
 * again; its TAP lines are shown as comments so they do not count here. */
bool stress_selftest_broken_run(const char *mode)
{
	char self[PATH_MAX], cmd[PATH_MAX + 160], line[512];
	bool said_not_ok = false;
	unsigned shown_violation = 0;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	FILE *p;
	int status;

	if (n <= 0)
		return false;
	self[n] = 0; /* resolved here: inside popen's shell it would name the shell */
	/* Bounded by work, not time: at least one dirty session must close
	 * while the vCPUs still write, however slow the machine. */
	snprintf(cmd, sizeof(cmd), "'%s' --self-test-broken-invariant=%s --vcpus=2 "
		 "--ops=2000 --min-churn=10 --min-sessions=1 --format=npt 2>&1", self, mode);
	p = popen(cmd, "r");
	if (!p)
		return false;
	/* Show the verdict and the first violation, not the whole child log. */
	while (fgets(line, sizeof(line), p)) {
		bool verdict = !strncmp(line, "not ok", 6) || !strncmp(line, "ok ", 3);

		said_not_ok |= !strncmp(line, "not ok", 6);
		if (verdict || shown_violation == 1)
			printf("#   | %s", line);
		if (strstr(line, "violation(s)") || shown_violation == 1)
			shown_violation++;
	}
	status = pclose(p);
	printf("# broken %s run: exit status %d, %s\n", mode,
	       WIFEXITED(status) ? WEXITSTATUS(status) : -1,
	       said_not_ok ? "reported not ok" : "reported nothing");
	return said_not_ok && WIFEXITED(status) && WEXITSTATUS(status) == 1;
}
