// SPDX-License-Identifier: MIT
/*
 * stress_mmu: the hosted MMU stress harness. Prints TAP.
 *
 *   stress_mmu                       self-tests, then a short run per SPTE format
 *   stress_mmu --seconds=600         soak: the time split over the formats
 *   stress_mmu --seed=N --vcpus=N --ops=N --format=npt|ept|both --alloc-fail=PERMILLE
 *              --min-churn=N --min-sessions=N --no-mmu-verify
 *   stress_mmu --self-test-broken-invariant[=model|dirty]
 *                                    one run with a deliberately corrupted model
 *                                    (or lost harvests): must report "not ok"
 *                                    and exit 1, proving the checks can fail
 *
 * The seed is printed; a failing run is repeated with --seed. Thread
 * interleavings still vary between runs, the choices each thread makes do not.
 */
#include "stress_selftest.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STRESS_DEFAULT_SEED 0x6b65656c2d6d6d75ull /* "keel-mmu" */

struct stress_args {
	struct stress_config cfg;
	bool both_formats;
	const char *broken; /* NULL, "model" or "dirty" */
};

static unsigned tap_n;
static unsigned tap_failed;

static void tap(bool ok, const char *name)
{
	printf("%sok %u - %s\n", ok ? "" : "not ", ++tap_n, name);
	fflush(stdout);
	tap_failed += !ok;
}

static void usage(void)
{
	fprintf(stderr, "usage: stress_mmu [--seed=N] [--vcpus=N] [--ops=N] [--seconds=S]\n"
		"       [--format=npt|ept|both] [--alloc-fail=PERMILLE]\n"
		"       [--min-churn=N] [--min-sessions=N]   (ops-bounded runs go on until\n"
		"                                            the control threads did this much)\n"
		"       [--no-mmu-verify]                   (only the harness's own checks)\n"
		"       [--self-test-broken-invariant[=model|dirty]]\n");
	exit(2);
}

/* Short enough for make test in every flavour: plain, asan, tsan (~10x slower). */
static void default_args(struct stress_args *a)
{
	static const u64 ops[] = { 400000, 150000, 5000 };
	static const u64 churn[] = { 400, 200, 25 };
	static const u64 sessions[] = { 20, 10, 3 };

	memset(a, 0, sizeof(*a));
	a->cfg.seed = STRESS_DEFAULT_SEED;
	a->cfg.vcpus = STRESS_SANITIZED == 2 ? 3 : 4;
	a->cfg.ops_per_vcpu = ops[STRESS_SANITIZED];
	a->cfg.min_churn = churn[STRESS_SANITIZED];
	a->cfg.min_sessions = sessions[STRESS_SANITIZED];
	a->cfg.min_invalidations = 2 * sessions[STRESS_SANITIZED];
	a->cfg.cap_seconds = 30;
	a->cfg.alloc_fail_per_mille = 2;
	a->both_formats = true;
}

static bool parse_format(struct stress_args *a, const char *v)
{
	a->both_formats = !strcmp(v, "both");
	if (a->both_formats || !strcmp(v, "npt"))
		return true;
	if (!strcmp(v, "ept")) {
		a->cfg.fmt = &spte_format_ept;
		a->cfg.fmt_name = "ept";
		return true;
	}
	return false;
}

static bool parse_one(struct stress_args *a, const char *arg)
{
	const char *v = strchr(arg, '=');

	v = v ? v + 1 : "";
	if (!strncmp(arg, "--seed=", 7))
		a->cfg.seed = strtoull(v, NULL, 0);
	else if (!strncmp(arg, "--vcpus=", 8))
		a->cfg.vcpus = (unsigned)strtoul(v, NULL, 0);
	else if (!strncmp(arg, "--ops=", 6))
		a->cfg.ops_per_vcpu = strtoull(v, NULL, 0);
	else if (!strncmp(arg, "--seconds=", 10))
		a->cfg.seconds = strtod(v, NULL);
	else if (!strncmp(arg, "--min-churn=", 12))
		a->cfg.min_churn = strtoull(v, NULL, 0);
	else if (!strncmp(arg, "--min-sessions=", 15))
		a->cfg.min_sessions = strtoull(v, NULL, 0);
	else if (!strncmp(arg, "--alloc-fail=", 13))
		a->cfg.alloc_fail_per_mille = (unsigned)strtoul(v, NULL, 0);
	else if (!strncmp(arg, "--format=", 9))
		return parse_format(a, v);
	else if (!strcmp(arg, "--no-mmu-verify"))
		a->cfg.no_mmu_verify = true;
	else if (!strcmp(arg, "--self-test-broken-invariant"))
		a->broken = "model";
	else if (!strncmp(arg, "--self-test-broken-invariant=", 29))
		a->broken = v;
	else
		return false;
	return true;
}

static void parse_args(struct stress_args *a, int argc, char **argv)
{
	default_args(a);
	for (int i = 1; i < argc; i++)
		if (!parse_one(a, argv[i]))
			usage();
	if (a->cfg.seconds > 0)
		a->cfg.ops_per_vcpu = 0; /* a soak is bounded by time alone */
	if (a->cfg.vcpus < 1 || a->cfg.vcpus > STRESS_MAX_VCPUS ||
	    (!a->cfg.ops_per_vcpu && a->cfg.seconds <= 0) || a->cfg.alloc_fail_per_mille > 1000)
		usage();
	if (a->broken && strcmp(a->broken, "model") && strcmp(a->broken, "dirty"))
		usage();
	if (!a->cfg.fmt) {
		a->cfg.fmt = &spte_format_npt;
		a->cfg.fmt_name = "npt";
	}
}

static void run_one(const struct stress_config *cfg, const char *name)
{
	struct stress_report rep;
	u64 bad;

	stress_report_init(&rep);
	bad = stress_run(cfg, &rep);
	stress_report_print(&rep);
	tap(bad == 0, name);
	pthread_mutex_destroy(&rep.lock);
}

/* Soak runs split their time: 80% over the formats, 20% for allocation failures. */
#define STRESS_NOMEM_SHARE 0.2

static void run_format(const struct stress_args *a, const struct spte_format *fmt,
		       const char *fmt_name, u64 seed_delta, double seconds)
{
	struct stress_config cfg = a->cfg;
	char name[32];

	cfg.fmt = fmt;
	cfg.fmt_name = fmt_name;
	cfg.seed = a->cfg.seed + seed_delta;
	cfg.seconds = seconds;
	snprintf(name, sizeof(name), "stress_%s", fmt_name);
	run_one(&cfg, name);
}

static void run_stress(const struct stress_args *a)
{
	unsigned nfmt = a->both_formats ? 2 : 1;
	double each = a->cfg.seconds * (1 - STRESS_NOMEM_SHARE) / nfmt;

	if (!a->both_formats) {
		run_format(a, a->cfg.fmt, a->cfg.fmt_name, 0, each);
		return;
	}
	run_format(a, &spte_format_npt, "npt", 0, each);
	run_format(a, &spte_format_ept, "ept", 1, each);
}

/* Allocation failures at a high rate: the NOMEM paths, not throughput. */
static void run_nomem(const struct stress_args *a)
{
	struct stress_config cfg = a->cfg;

	cfg.alloc_fail_per_mille = 100;
	cfg.ops_per_vcpu = cfg.ops_per_vcpu ? MAX(cfg.ops_per_vcpu / 4, 1000) : 0;
	cfg.min_churn /= 2;
	cfg.min_sessions = MAX(cfg.min_sessions / 2, 1);
	cfg.min_invalidations /= 2;
	cfg.seconds = a->cfg.seconds * STRESS_NOMEM_SHARE;
	cfg.seed = a->cfg.seed + 2;
	run_one(&cfg, "stress_alloc_failures");
}

static int run_broken(struct stress_args *a)
{
	a->cfg.broken = !strcmp(a->broken, "dirty") ? STRESS_BROKEN_DIRTY : STRESS_BROKEN_MODEL;
	printf("# deliberately broken %s: this run must fail\n", a->broken);
	run_one(&a->cfg, a->broken);
	return tap_failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct stress_args a;

	setvbuf(stdout, NULL, _IOLBF, 0);
	parse_args(&a, argc, argv);
	printf("# stress_mmu seed=%#" PRIx64 " vcpus=%u ops/vcpu=%" PRIu64 " seconds=%g "
	       "alloc-fail=%u/1000 (rerun: --seed=%#" PRIx64 ")\n", a.cfg.seed, a.cfg.vcpus,
	       a.cfg.ops_per_vcpu, a.cfg.seconds, a.cfg.alloc_fail_per_mille, a.cfg.seed);
	if (a.broken)
		return run_broken(&a);
	tap(stress_selftest_model(&a.cfg), "selftest_model_checker_catches_wrong_backing");
	tap(stress_selftest_dirty(&a.cfg), "selftest_dirty_checker_catches_lost_write");
	tap(stress_selftest_unmapped(&a.cfg), "selftest_delete_checker_catches_live_leaf");
	tap(stress_selftest_flush(&a.cfg), "selftest_flush_checker_catches_missed_flush");
	tap(stress_selftest_broken_run("model"), "selftest_broken_model_run_fails");
	tap(stress_selftest_broken_run("dirty"), "selftest_broken_dirty_run_fails");
	run_stress(&a);
	run_nomem(&a);
	printf("1..%u\n", tap_n);
	return tap_failed ? 1 : 0;
}
