// SPDX-License-Identifier: MIT
/*
 * Demand-fault throughput, like KVM's demand_paging_test with partitioned
 * ranges: T threads, each a vCPU faulting its own part of one slot once per
 * mapping (write access). The "-ovl" case has every thread fault the same
 * range (demand_paging_test -o): one thread installs each leaf, the others
 * find it there (SPURIOUS) or lose the cmpxchg and retry.
 *
 * A run is a number of rounds, each on a fresh struct mmu, enough rounds to
 * make the run at least BENCH_MIN_RUN_NS of faulting (a 1 GiB round is
 * ~0.1 ms, below the skew of waking threads from a barrier). In each round
 * the threads spin until every one of them is running, then start together
 * (the main thread sleeps meanwhile); the round's time is last thread done -
 * first thread started. A run is
 * flagged "time-shared" when some thread got less CPU time than wall time
 * (another process had its core): its rate says little about the MMU.
 * Also records page-table memory per GiB mapped (tables_in_use after a
 * single-thread populate).
 */
#define _GNU_SOURCE /* pthread_setaffinity_np */
#include "bench.h"
#include "mmu/mmu_debug.h"

#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#define BENCH_BASE_GPA (4 * SZ_1G)
#define BENCH_MIN_RUN_NS 10000000ull   /* 10 ms of faulting per run */
#define BENCH_MAX_ROUNDS 4096
#define BENCH_CPU_SHARE 0.95           /* below this CPU/wall: time-shared */

struct fault_case {
	const char *name;
	u64 map_size;
	u64 bytes_per_thread;
	bool overlap; /* all threads fault the same range */
};

static const struct fault_case fault_cases[] = {
	{ "4K", SZ_4K, 1ull << 30, false },     /* 262144 faults a thread a round */
	{ "2M", SZ_2M, 64ull << 30, false },    /*  32768 faults a thread a round */
	{ "1G", SZ_1G, 1ull << 40, false },     /*   1024 faults a thread a round */
	{ "4K-ovl", SZ_4K, 1ull << 30, true },  /* 262144 faults a thread a round */
};

/* Page-table memory seen after the one-thread populate, per case. */
static struct {
	u64 bytes_mapped;
	u64 tables;
} table_mem[ARRAY_SIZE(fault_cases)];

/* One-thread median rate per case, for the scaling lines. */
static double one_thread_rate[ARRAY_SIZE(fault_cases)];

struct fault_ctl {
	sem_t armed;         /* posted once per thread when a round is set up */
	sem_t done;          /* posted by each thread when it finished a round */
	atomic_uint ready;   /* threads spinning for round r, over all rounds */
	atomic_uint go;      /* round r may start: set by the last thread ready */
	atomic_bool finished; /* no more rounds */
	unsigned nthreads;
};

struct fault_thread {
	pthread_t th;
	struct fault_ctl *ctl;
	struct mmu_vcpu *_Atomic mv;
	unsigned index;
	u64 gpa, bytes, step;
	u64 t0, t1, fixed;   /* this round */
	u64 cpu_ns, wall_ns; /* over the run */
};

static u64 thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (u64)ts.tv_sec * 1000000000ull + (u64)ts.tv_nsec;
}

/*
 * Spin-start: a thread sleeps until its round is set up, then spins; the
 * last one to arrive starts the round. So when it starts, every thread is
 * running (and the main thread sleeps).
 */
/* Waiting threads block on semaphores: a thread that polls (even with
 * sleeps) wakes up often enough to take CPU time from the fault threads. */
static bool round_start(struct fault_ctl *ctl, unsigned r)
{
	while (sem_wait(&ctl->armed))
		;
	if (atomic_load(&ctl->finished))
		return false;
	if (atomic_fetch_add(&ctl->ready, 1) + 1 == ctl->nthreads * r)
		atomic_store(&ctl->go, r);
	while (atomic_load(&ctl->go) != r)
		__builtin_ia32_pause();
	return true;
}

/* Thread i runs on CPU i (mod the CPUs online): woken from a semaphore, the
 * scheduler would often put two fault threads on one CPU for a while. */
static void pin_to_cpu(unsigned i)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(i % (unsigned)MAX(n, 1L), &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *fault_thread_main(void *arg)
{
	struct fault_thread *t = arg;
	struct fault_ctl *ctl = t->ctl;

	pin_to_cpu(t->index);

	for (unsigned r = 1; round_start(ctl, r); r++) {
		u64 c0 = thread_cpu_ns();

		t->t0 = bench_now_ns();
		t->fixed = bench_fault_range(atomic_load(&t->mv), t->gpa, t->bytes, t->step,
					     MMU_ACC_WRITE);
		t->t1 = bench_now_ns();
		t->cpu_ns += thread_cpu_ns() - c0;
		t->wall_ns += t->t1 - t->t0;
		sem_post(&ctl->done);
	}
	return NULL;
}

static u64 mapped_of_size(const struct mmu_stats *st, u64 map_size)
{
	return map_size == SZ_4K ? st->maps_4k : map_size == SZ_2M ? st->maps_2m : st->maps_1g;
}

struct run_result {
	double rate;       /* faults per second */
	double cpu_us;     /* CPU time per fault of the slowest thread, in us */
	bool time_shared;
	unsigned rounds;
};

/* Checks a finished round and tears its MMU down. */
static void round_check(const struct fault_case *c, struct mmu *mmu, struct fault_thread *t,
			unsigned nthreads, unsigned case_idx)
{
	u64 slot_bytes = c->bytes_per_thread * (c->overlap ? 1 : nthreads), fixed = 0;
	struct mmu_stats st;

	for (unsigned i = 0; i < nthreads; i++)
		fixed += t[i].fixed;
	mmu_get_stats(mmu, &st);
	if (mapped_of_size(&st, c->map_size) != fixed)
		bench_die("%s: %llu faults fixed but %llu leaves of that size", c->name,
			  (unsigned long long)fixed,
			  (unsigned long long)mapped_of_size(&st, c->map_size));
	if (fixed != slot_bytes / c->map_size)
		bench_die("%s: slot not fully mapped", c->name);
	if (nthreads == 1) {
		table_mem[case_idx].bytes_mapped = c->bytes_per_thread;
		table_mem[case_idx].tables = st.tables_in_use;
	}
	for (unsigned i = 0; i < nthreads; i++)
		mmu_vcpu_destroy(atomic_load(&t[i].mv));
	mmu_destroy(mmu);
}

static struct mmu *round_setup(const struct fault_case *c, struct fault_thread *t,
			       unsigned nthreads)
{
	u64 slot_bytes = c->bytes_per_thread * (c->overlap ? 1 : nthreads);
	struct mmu *mmu = bench_mmu_with_slot(0, BENCH_BASE_GPA, slot_bytes, c->map_size);

	for (unsigned i = 0; i < nthreads; i++) {
		struct mmu_vcpu *mv = mmu_vcpu_create(mmu, i);

		if (!mv)
			bench_die("mmu_vcpu_create failed");
		atomic_store(&t[i].mv, mv);
	}
	return mmu;
}

/* One run: rounds until BENCH_MIN_RUN_NS of faulting (or BENCH_MAX_ROUNDS). */
static struct run_result fault_run(const struct fault_case *c, unsigned nthreads,
				   unsigned case_idx)
{
	struct fault_thread t[BENCH_MAX_THREADS];
	struct fault_ctl ctl = { .nthreads = nthreads };
	u64 faults = c->bytes_per_thread / c->map_size * nthreads, total_ns = 0, skew_ns = 0;
	struct run_result res = { 0 };
	unsigned r;

	for (unsigned i = 0; i < nthreads; i++) {
		t[i] = (struct fault_thread){
			.ctl = &ctl, .index = i, .step = c->map_size, .bytes = c->bytes_per_thread,
			.gpa = BENCH_BASE_GPA + (c->overlap ? 0 : i * c->bytes_per_thread),
		};
	}
	sem_init(&ctl.armed, 0, 0);
	sem_init(&ctl.done, 0, 0);
	for (unsigned i = 0; i < nthreads; i++)
		pthread_create(&t[i].th, NULL, fault_thread_main, &t[i]);
	for (r = 1; r <= BENCH_MAX_ROUNDS && total_ns < BENCH_MIN_RUN_NS; r++) {
		struct mmu *mmu = round_setup(c, t, nthreads);
		u64 t0 = ~0ull, t1 = 0;

		for (unsigned i = 0; i < nthreads; i++)
			sem_post(&ctl.armed);
		for (unsigned i = 0; i < nthreads; i++)
			while (sem_wait(&ctl.done))
				;
		u64 longest = 0;

		for (unsigned i = 0; i < nthreads; i++) {
			t0 = MIN(t0, t[i].t0);
			t1 = MAX(t1, t[i].t1);
			longest = MAX(longest, t[i].t1 - t[i].t0);
		}
		total_ns += t1 - t0;
		/* A thread that lost its CPU just before it started shows as a
		 * round longer than any thread's own run. */
		skew_ns += t1 - t0 - longest;
		round_check(c, mmu, t, nthreads, case_idx);
	}
	atomic_store(&ctl.finished, true);
	for (unsigned i = 0; i < nthreads; i++)
		sem_post(&ctl.armed);
	res.rounds = r - 1;
	for (unsigned i = 0; i < nthreads; i++) {
		double per = (double)t[i].cpu_ns / 1e3 /
			     ((double)(c->bytes_per_thread / c->map_size) * res.rounds);

		pthread_join(t[i].th, NULL);
		if ((double)t[i].cpu_ns < BENCH_CPU_SHARE * (double)t[i].wall_ns)
			res.time_shared = true;
		res.cpu_us = MAX(res.cpu_us, per);
	}
	if ((double)skew_ns > (1 - BENCH_CPU_SHARE) * (double)total_ns)
		res.time_shared = true;
	sem_destroy(&ctl.armed);
	sem_destroy(&ctl.done);
	res.rate = (double)faults * res.rounds / ((double)total_ns / 1e9);
	return res;
}

static void fault_row(unsigned case_idx, unsigned nthreads)
{
	const struct fault_case *c = &fault_cases[case_idx];
	unsigned shared = 0;
	double rate[BENCH_RUNS], rnd[BENCH_RUNS], cpu[BENCH_RUNS], med;

	for (unsigned r = 0; r < BENCH_RUNS; r++) {
		struct run_result res = fault_run(c, nthreads, case_idx);

		rate[r] = res.rate;
		rnd[r] = res.rounds;
		cpu[r] = res.cpu_us;
		shared += res.time_shared;
	}
	med = bench_median(rate, BENCH_RUNS);
	printf("  %-7s %7u %12llu %6.0f %10.3f M/s   %6.3f .. %6.3f %7.2f %7.2f  %s\n",
	       c->name, nthreads, (unsigned long long)(c->bytes_per_thread / c->map_size * nthreads),
	       bench_median(rnd, BENCH_RUNS), med / 1e6, bench_min(rate, BENCH_RUNS) / 1e6,
	       bench_max(rate, BENCH_RUNS) / 1e6, 1e9 / med * nthreads / 1e3,
	       bench_median(cpu, BENCH_RUNS), shared ? "time-shared" : "");
	if (shared)
		printf("          (%u of %u runs: a thread had less CPU time than wall time, or"
		       " started late)\n", shared, BENCH_RUNS);
	if (nthreads == 1)
		one_thread_rate[case_idx] = med;
	else if (!c->overlap && one_thread_rate[case_idx] > 0)
		printf("scaling %s %u threads: %.2fx\n", c->name, nthreads,
		       med / one_thread_rate[case_idx]); /* the rows above say if time-shared */
}

void bench_demand_faults(unsigned max_threads)
{
	printf("\nDemand faults: partitioned ranges, write access, one fault per mapping\n");
	printf("  %-7s %7s %12s %6s %14s   %14s %7s %7s\n", "mapping", "threads", "faults/round",
	       "rounds", "median rate", "min .. max", "us/flt", "cpu us");
	for (unsigned c = 0; c < ARRAY_SIZE(fault_cases); c++)
		for (unsigned n = fault_cases[c].overlap ? 2 : 1; n <= max_threads; n *= 2)
			fault_row(c, n);
	printf("  (rounds: fresh MMUs per run (median), >= 10 ms of faulting in all; us/flt: wall time\n"
	       "   per fault per thread, i.e. threads / rate; cpu us: CPU time per fault of the\n"
	       "   slowest thread, which time-sharing does not inflate but shared cache lines do;\n"
	       "   -ovl: every thread faults the same range, like demand_paging_test -o;\n"
	       "   time-shared: some thread's CPU time < %.0f%% of its wall time, or threads started\n"
	       "   apart by more than %.0f%% of the rounds' time: another process shared a core)\n",
	       BENCH_CPU_SHARE * 100, (1 - BENCH_CPU_SHARE) * 100);
}

void bench_table_memory(void)
{
	double kib_per_table = (double)mmu_debug_bytes_per_table() / 1024;

	printf("\nPage-table memory per GiB mapped (tables_in_use after populate, root included;\n"
	       "  each table costs %.2f KiB: the hardware table plus its share of metadata)\n",
	       kib_per_table);
	printf("  %-7s %12s %10s %14s\n", "mapping", "GiB mapped", "tables", "KiB per GiB");
	for (unsigned c = 0; c < ARRAY_SIZE(fault_cases); c++) {
		double gib;

		if (fault_cases[c].overlap)
			continue;
		gib = (double)table_mem[c].bytes_mapped / (double)SZ_1G;
		printf("  %-7s %12.1f %10llu %14.2f\n", fault_cases[c].name, gib,
		       (unsigned long long)table_mem[c].tables,
		       (double)table_mem[c].tables * kib_per_table / gib);
	}
}
