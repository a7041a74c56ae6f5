// SPDX-License-Identifier: MIT
/*
 * bench_mmu: hosted MMU benchmarks, printed as one table (make bench).
 * docs/performance.md explains each figure and sets KVM's published
 * numbers beside them.
 *
 *   bench_mmu [--threads=N] [--only=faults|dirty]
 *     N: most fault threads (default: online CPUs, >= 2); --only: one part
 *     (demand faults and table memory, or the dirty-logging sections)
 */
#include "bench.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static void cpu_model(char *out, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];

	snprintf(out, len, "unknown CPU");
	while (f && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (strncmp(line, "model name", 10) || !colon)
			continue;
		snprintf(out, len, "%s", colon + 2);
		out[strcspn(out, "\n")] = 0;
		break;
	}
	if (f)
		fclose(f);
}

/* Other work on the machine skews every figure: say how busy it was. */
static void load_average(char *out, size_t len)
{
	FILE *f = fopen("/proc/loadavg", "r");
	double l1 = -1, l5 = -1;

	if (!f || fscanf(f, "%lf %lf", &l1, &l5) != 2)
		snprintf(out, len, "unknown");
	else
		snprintf(out, len, "%.2f (1 min), %.2f (5 min)", l1, l5);
	if (f)
		fclose(f);
}

static void print_conditions(unsigned max_threads)
{
	char cpu[128], when[64], load[64];
	struct utsname u;
	time_t now = time(NULL);

	cpu_model(cpu, sizeof(cpu));
	load_average(load, sizeof(load));
	uname(&u);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", gmtime(&now));
	printf("Keel MMU benchmarks (hosted: the MMU as a library, fake backing frames)\n");
	printf("  machine : %s, %ld CPUs online, %s %s\n", cpu, sysconf(_SC_NPROCESSORS_ONLN),
	       u.sysname, u.release);
	printf("  build   : %s flavour, gcc %s, SPTE format EPT\n",
	       MMU_BENCH_FLAVOUR, __VERSION__);
	printf("  when    : %s; fault threads up to %u; CLOCK_MONOTONIC\n", when, max_threads);
	printf("  load    : %s before the first run\n", load);
}

int main(int argc, char **argv)
{
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned max_threads = (unsigned)MIN(MAX(online, 2), BENCH_MAX_THREADS);
	u64 t0 = bench_now_ns();
	const char *only = "";

	setvbuf(stdout, NULL, _IOLBF, 0);
	/* Page tables come from libc here (keel.efi has its own pool). Keep
	 * freed memory mapped and grow the heap in big steps: otherwise every
	 * run's fresh tables are first-touch host page faults, and heap growth
	 * takes the process's mmap lock for writing, which puts the other fault
	 * thread to sleep (time-shared rows that measure the host kernel). */
	mallopt(M_TRIM_THRESHOLD, 1 << 30);
	mallopt(M_TOP_PAD, 64 << 20);
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	for (int i = 1; i < argc; i++) {
		if (!strncmp(argv[i], "--threads=", 10))
			max_threads = (unsigned)MIN(MAX(atoi(argv[i] + 10), 1), BENCH_MAX_THREADS);
		else if (!strcmp(argv[i], "--only=faults") || !strcmp(argv[i], "--only=dirty"))
			only = argv[i] + 7;
		else
			bench_die("usage: bench_mmu [--threads=N] [--only=faults|dirty]");
	}
	print_conditions(max_threads);
	if (strcmp(only, "dirty")) {
		bench_demand_faults(max_threads);
		bench_table_memory();
	}
	if (strcmp(only, "faults")) {
		bench_enable_dirty_log();
		bench_get_dirty_log();
		bench_disable_dirty_log();
	}
	printf("\n(total bench time %.1f s)\n", (double)(bench_now_ns() - t0) / 1e9);
	return 0;
}
