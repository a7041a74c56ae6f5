// SPDX-License-Identifier: MIT
/* ktest: one forked child per test case, with a watchdog (see ktest.h). */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "tests/unit/ktest.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define KTEST_DEFAULT_TIMEOUT 120
#else
#define KTEST_DEFAULT_TIMEOUT 30
#endif

/* Shared between the parent and the child (MAP_SHARED, made before fork). */
struct ktest_shared {
	char step[200];
};
static struct ktest_shared *shared;

/* The child's case and whether its body ran to the end. */
static const struct CMUnitTest *current;
static volatile bool body_done;

void ktest_step(const char *fmt, ...)
{
	va_list ap;

	if (!shared)
		return;
	va_start(ap, fmt);
	vsnprintf(shared->step, sizeof(shared->step), fmt, ap);
	va_end(ap);
}

void ktest_spin_round(void)
{
	sched_yield();
}

static int wrap_setup(void **state)
{
	return current->setup_func ? current->setup_func(state) : 0;
}

static void wrap_test(void **state)
{
	ktest_step("running");
	current->test_func(state);
	body_done = true;
	ktest_step("teardown");
}

/* A failed body may have left threads parked holding locks: teardown would
 * wait for them. The child is about to exit; skip it. */
static int wrap_teardown(void **state)
{
	if (!body_done)
		return 0;
	return current->teardown_func ? current->teardown_func(state) : 0;
}

static __attribute__((noreturn)) void run_child(const struct CMUnitTest *t)
{
	struct CMUnitTest one[1] = { {
		.name = t->name,
		.test_func = wrap_test,
		.setup_func = wrap_setup,
		.teardown_func = wrap_teardown,
		.initial_state = t->initial_state,
	} };
	int failed;

	current = t;
	unsetenv("CMOCKA_MESSAGE_OUTPUT");
	cmocka_set_message_output(CM_OUTPUT_STDOUT);
	failed = _cmocka_run_group_tests(t->name, one, 1, NULL, NULL);
	fflush(NULL);
	if (failed || !body_done)
		_exit(1); /* other threads may still be parked: do not run atexit */
	exit(0);          /* a clean exit, so LeakSanitizer checks this case */
}

static unsigned timeout_seconds(void)
{
	const char *e = getenv("KTEST_TIMEOUT");
	long v = e ? strtol(e, NULL, 10) : 0;

	return v > 0 ? (unsigned)v : KTEST_DEFAULT_TIMEOUT;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Wait for the child; false when the watchdog had to kill it. */
static bool wait_child(pid_t pid, int *status, unsigned limit)
{
	double end = now_s() + limit;
	long nap_us = 100;

	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid)
			return true;
		if (r < 0 && errno != EINTR) {
			*status = 0;
			return true;
		}
		if (now_s() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, status, 0);
			return false;
		}
		usleep(nap_us);
		nap_us = nap_us < 20000 ? nap_us * 2 : 20000;
	}
}

static void print_output(FILE *out)
{
	char line[512];

	fflush(out);
	rewind(out);
	while (fgets(line, sizeof(line), out))
		printf("#   %s%s", line, strchr(line, '\n') ? "" : "\n");
}

static bool selected(const char *name, int argc, char **argv)
{
	if (argc < 2)
		return true;
	for (int i = 1; i < argc; i++)
		if (strstr(name, argv[i]))
			return true;
	return false;
}

/* One case: true when it passed. */
static bool run_case(size_t i, const struct CMUnitTest *t, unsigned limit)
{
	FILE *out = tmpfile();
	char why[320] = "";
	int status = 0;
	bool in_time;
	pid_t pid;

	if (!out) {
		perror("ktest: tmpfile");
		exit(2);
	}
	memset(shared, 0, sizeof(*shared));
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		perror("ktest: fork");
		exit(2);
	}
	if (pid == 0) {
		dup2(fileno(out), STDOUT_FILENO);
		dup2(fileno(out), STDERR_FILENO);
		setvbuf(stdout, NULL, _IONBF, 0); /* nothing lost if the case crashes */
		run_child(t);
	}
	in_time = wait_child(pid, &status, limit);
	if (!in_time)
		snprintf(why, sizeof(why), "watchdog: %s did not finish within %u s (last step: %s)",
			 t->name, limit, shared->step[0] ? shared->step : "setup");
	else if (WIFSIGNALED(status))
		snprintf(why, sizeof(why), "%s died of signal %d (%s) in step: %s", t->name,
			 WTERMSIG(status), strsignal(WTERMSIG(status)),
			 shared->step[0] ? shared->step : "setup");
	else if (WEXITSTATUS(status))
		snprintf(why, sizeof(why), "%s failed (step: %s)", t->name,
			 shared->step[0] ? shared->step : "setup");
	if (why[0]) {
		printf("not ok %zu - %s # %s\n", i, t->name, why);
		print_output(out);
	} else {
		printf("ok %zu - %s\n", i, t->name);
		if (getenv("KTEST_VERBOSE"))
			print_output(out);
	}
	fflush(stdout);
	fclose(out);
	return !why[0];
}

int ktest_run(const char *group, const struct CMUnitTest *tests, size_t n, int argc,
	      char **argv)
{
	unsigned limit = timeout_seconds(), failed = 0;
	size_t planned = 0, k = 0;

	shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		      -1, 0);
	if (shared == MAP_FAILED) {
		perror("ktest: mmap");
		return 2;
	}
	for (size_t i = 0; i < n; i++)
		planned += selected(tests[i].name, argc, argv);
	printf("# %s: %zu case(s), each in its own process, watchdog %u s\n", group, planned,
	       limit);
	printf("1..%zu\n", planned);
	for (size_t i = 0; i < n; i++)
		if (selected(tests[i].name, argc, argv))
			failed += !run_case(++k, &tests[i], limit);
	printf("# %s: %zu passed, %u failed\n", group, planned - failed, failed);
	return failed ? 1 : 0;
}
