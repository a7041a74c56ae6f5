/* SPDX-License-Identifier: MIT */
/*
 * ktest: the runner every hosted cmocka program uses instead of
 * cmocka_run_group_tests(). It makes each test fail, never hang:
 *
 *  - every test case runs in its own forked child, so a crash, an abort, a
 *    deadlock or a thread left parked in one case cannot touch the others;
 *  - a watchdog in the parent kills a case that has not finished within
 *    KTEST_TIMEOUT seconds (default 30, 120 under a sanitizer) and reports
 *    it as "not ok ... # watchdog: ..." with the case's name and the last
 *    step it announced with ktest_step(); the next case then runs;
 *  - when a case's body fails (a cmocka assertion, fail_msg, a caught
 *    signal), its teardown is skipped: other threads of the scenario may be
 *    parked holding MMU locks, and the child exits without waiting for them
 *    (a failed assertion can therefore never block teardown).
 *
 * Output is TAP on stdout ("1..N", then "ok i - name" / "not ok i - name #
 * why"); a failing case's own output follows as "#" lines. Arguments are
 * substrings: only cases whose name contains one of them run.
 */
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

int ktest_run(const char *group, const struct CMUnitTest *tests, size_t n, int argc,
	      char **argv);
#define ktest_run_group(group, tests, argc, argv) \
	ktest_run(group, tests, sizeof(tests) / sizeof((tests)[0]), argc, argv)

/* Name the step the scenario is in (shown if the watchdog fires). */
void ktest_step(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * A step bound for the test's own waits: spin (yielding) until 'cond'
 * holds; after KTEST_SPIN_LIMIT rounds, fail naming 'what'. Use it in the
 * main test thread only (cmocka's failure jumps back to the runner).
 */
#define KTEST_SPIN_LIMIT 5000000ull
void ktest_spin_round(void);
#define KTEST_SPIN_UNTIL(cond, what)                                              \
	do {                                                                       \
		unsigned long long ktest_n_ = 0;                                   \
		while (!(cond)) {                                                  \
			if (++ktest_n_ > KTEST_SPIN_LIMIT)                         \
				fail_msg("step bound: %s did not happen", what);   \
			ktest_spin_round();                                        \
		}                                                                  \
	} while (0)
