// SPDX-License-Identifier: MIT
/*
 * The self-test's SMP part (docs/guest-abi.md): with more than one vCPU,
 * vCPU 0 starts the others by hypercall, and then
 *  1. every vCPU faults its own 2 MiB range and reads a shared one at once;
 *  2. Keel turns dirty logging on while the others write; in each round
 *     every other vCPU writes each page of its range once, after the
 *     previous harvest returned, so every one of them must be in the next
 *     harvest (a vCPU that kept a writable TLB entry across a harvest would
 *     write without faulting and the page would be missing; few pages a
 *     round, so that such entries would stay cached);
 *  3. Keel zaps the shared range again and again while the others read it:
 *     they must always see its contents.
 * Before 2 (and alone, with one vCPU, before the test is skipped) every vCPU
 * writes BENCH_PAGES fresh pages of its own bench range at once, timed with
 * the TSC: the fault-rate line that scripts/bench-smp.sh turns into pages/s
 * and the 1-to-N ratio (a figure, not a check). The range is zapped and
 * dirty-logged first, so every write is one TDP fault mapping one 4 KiB page.
 * Every wait is bounded (TSC).
 */
#include <keel/string.h>
#include "guest/guest.h"

#define SMP_MAX 8
#define SZ_1M (1ull << 20)
#define STACKS_GPA (6 * SZ_1M)        /* 64 KiB per vCPU */
#define SHARED_GPA (8 * SZ_1M)        /* 2 MiB read by everyone */
#define OWN_GPA(id) ((12 + 2 * (u64)(id)) * SZ_1M) /* 2 MiB each */
#define RANGE_PAGES 512
#define ROUND_PAGES 16 /* few enough to stay in any TLB between rounds */
#define WORDS_PER_PAGE (4096 / 8)
#define ROUNDS 4
#define ZAPS 8
#define GOLDEN 0x9e3779b97f4a7c15ull
#define WAIT_TSC (60ull * 1000000000ull) /* >= 20 s at up to 3 GHz */
#define BENCH_BASE (32 * SZ_1M)
#define BENCH_SPAN (8 * SZ_1M) /* per vCPU */
#define BENCH_GPA(id) (BENCH_BASE + (u64)(id) * BENCH_SPAN)
#define BENCH_PAGES 2048

extern const u8 guest_ap_entry[];
void guest_ap_main(u64 id);

static volatile u32 phase, round;
static volatile u32 started[SMP_MAX], done1[SMP_MAX], acked[SMP_MAX], exiting[SMP_MAX];
static volatile u64 errors[SMP_MAX], reads[SMP_MAX];
static volatile u32 bench_n, bench_done[SMP_MAX];
static volatile u64 bench_t0[SMP_MAX], bench_t1[SMP_MAX];

static u64 rdtsc(void)
{
	u32 lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

static void pause(void)
{
	asm volatile("pause" ::: "memory");
}

static volatile u64 *page_word(u64 base, u64 page)
{
	return (volatile u64 *)(uintptr_t)(base + page * 4096);
}

static u64 tag(u64 id, u64 page, u64 r)
{
	return GOLDEN ^ (id << 48) ^ (r << 32) ^ page;
}

static void write_own(u64 id, u64 r, u64 pages)
{
	for (u64 p = 0; p < pages; p++)
		*page_word(OWN_GPA(id), p) = tag(id, p, r);
}

static u64 check_shared(void)
{
	u64 bad = 0;

	for (u64 p = 0; p < RANGE_PAGES; p++)
		bad += *page_word(SHARED_GPA, p) != (GOLDEN ^ p);
	return bad;
}

/* ---- the fault rate ---- */

static void bench_touch(u64 id)
{
	bench_t0[id] = rdtsc();
	for (u64 p = 0; p < BENCH_PAGES; p++)
		*page_word(BENCH_GPA(id), p) = p;
	bench_t1[id] = rdtsc();
	bench_done[id] = 1;
}

/* vCPUs 0 .. n-1 together, from the first start to the last end. */
static void bench_report(unsigned n)
{
	u64 t0 = bench_t0[0], t1 = bench_t1[0];

	for (unsigned i = 1; i < n; i++) {
		t0 = bench_t0[i] < t0 ? bench_t0[i] : t0;
		t1 = bench_t1[i] > t1 ? bench_t1[i] : t1;
	}
	guest_printf("fault-rate: vcpus=%u pages=%llu tsc_cycles=%llu\n", n,
		     (unsigned long long)n * BENCH_PAGES, (unsigned long long)(t1 - t0));
}

/* How many vCPUs the bench ranges of this much RAM hold. */
static unsigned bench_vcpus(const struct guest_info *gi, unsigned n)
{
	u64 fit = gi->mem_size > BENCH_BASE ? (gi->mem_size - BENCH_BASE) / BENCH_SPAN : 0;

	return fit < n ? (unsigned)fit : n;
}

/* On vCPU 0: fresh pages (zapped, dirty-logged: 4 KiB faults), then every
 * vCPU below n writes its range. The others are told by bench_n. */
static int fault_rate(unsigned n, char *why, size_t len)
{
	if (!n)
		return 0;
	if (guest_hypercall3(KEEL_HC_ZAP, BENCH_BASE, n * BENCH_SPAN, 0) ||
	    guest_hypercall3(KEEL_HC_DIRTY_LOG, 1, 0, 0)) {
		snprintf(why, len, "fault-rate: zap or dirty logging refused");
		return -1;
	}
	bench_n = n;
	bench_touch(0);
	for (unsigned i = 1; i < n; i++) {
		u64 t0 = rdtsc();

		while (!bench_done[i])
			if (rdtsc() - t0 > WAIT_TSC) {
				snprintf(why, len, "fault-rate: vcpu %u did not finish", i);
				return -1;
			} else {
				pause();
			}
	}
	guest_hypercall3(KEEL_HC_DIRTY_LOG, 0, 0, 0);
	bench_report(n);
	return 0;
}

/* ---- the other vCPUs ---- */

void guest_ap_main(u64 id)
{
	u32 mine = 0;

	guest_traps_load();
	asm volatile("sti"); /* no interrupts are injected; lets Bochs' VMX exit on kicks */
	started[id] = 1;
	while (phase < 1)
		pause();
	write_own(id, 0, RANGE_PAGES);
	errors[id] += check_shared();
	done1[id] = 1;
	while (phase < 2 && !bench_n)
		pause();
	if (phase < 2 && id < bench_n)
		bench_touch(id);
	while (phase < 2)
		pause();
	while (phase == 2) {
		u32 r = round;

		if (r == mine) {
			pause();
			continue;
		}
		write_own(id, r, ROUND_PAGES);
		mine = r;
		acked[id] = r;
	}
	while (phase == 3) {
		errors[id] += check_shared();
		reads[id]++;
	}
	exiting[id] = 1;
	guest_hypercall3(KEEL_HC_VCPU_EXIT, 0, 0, 0);
	for (;;)
		asm volatile("cli; hlt");
}

/* ---- vCPU 0 ---- */

static bool wait_all(volatile u32 *flags, u32 value, unsigned n)
{
	u64 t0 = rdtsc();

	for (unsigned i = 1; i < n; i++)
		while (flags[i] != value)
			if (rdtsc() - t0 > WAIT_TSC)
				return false;
			else
				pause();
	return true;
}

static int first_missing(volatile u32 *flags, u32 value, unsigned n)
{
	for (unsigned i = 1; i < n; i++)
		if (flags[i] != value)
			return (int)i;
	return 0;
}

static int start_all(unsigned n, char *why, size_t len)
{
	for (unsigned id = 1; id < n; id++) {
		u64 stack = STACKS_GPA + (id + 1) * 0x10000;
		u64 r = guest_hypercall3(KEEL_HC_VCPU_START, id, (u64)(uintptr_t)guest_ap_entry,
					 stack);

		if (r) {
			snprintf(why, len, "starting vcpu %u: error %lld", id, (long long)r);
			return -1;
		}
	}
	if (!wait_all(started, 1, n)) {
		snprintf(why, len, "vcpu %d never ran", first_missing(started, 1, n));
		return -1;
	}
	return 0;
}

static int dirty_rounds(unsigned n, bool flip, char *why, size_t len)
{
	u64 zero = 0;

	if (guest_hypercall3(KEEL_HC_DIRTY_LOG, 1, 0, 0)) {
		snprintf(why, len, "dirty logging could not be turned on");
		return -1;
	}
	phase = 2;
	for (u32 k = 1; k <= ROUNDS; k++) {
		round = k;
		if (!wait_all(acked, k, n)) {
			snprintf(why, len, "round %u: vcpu %d did not write", k,
				 first_missing(acked, k, n));
			return -1;
		}
		guest_hypercall3(KEEL_HC_DIRTY_HARVEST, 0, 0, 0);
		for (unsigned id = 1; id < n; id++) {
			u64 got = guest_hypercall3(KEEL_HC_DIRTY_COUNT, OWN_GPA(id), ROUND_PAGES, 0);
			u64 want = flip ? ROUND_PAGES + 1 : ROUND_PAGES;

			if (got != want) {
				snprintf(why, len, "harvest %u: %llu of the %u pages vcpu %u wrote "
					 "after the previous harvest are dirty", k,
					 (unsigned long long)got, ROUND_PAGES, id);
				return -1;
			}
		}
	}
	(void)zero;
	guest_hypercall3(KEEL_HC_DIRTY_LOG, 0, 0, 0);
	return 0;
}

static int zap_while_reading(unsigned n, char *why, size_t len)
{
	phase = 3;
	for (unsigned z = 0; z < ZAPS; z++) {
		u64 before[SMP_MAX], t0 = rdtsc();

		for (unsigned i = 1; i < n; i++)
			before[i] = reads[i];
		guest_hypercall3(KEEL_HC_ZAP, SHARED_GPA, RANGE_PAGES * 4096, 0);
		for (unsigned i = 1; i < n; i++)
			while (reads[i] < before[i] + 2)
				if (rdtsc() - t0 > WAIT_TSC) {
					snprintf(why, len, "zap %u: vcpu %u stopped reading", z, i);
					return -1;
				} else {
					pause();
				}
	}
	return 0;
}

int guest_test_smp(const struct guest_info *gi, bool flip, char *why, size_t len)
{
	u64 b = 0, c = 0;
	unsigned n = (unsigned)guest_hypercall(KEEL_HC_VCPUS, &b, &c);

	if (n < 2) {
		if (fault_rate(bench_vcpus(gi, 1), why, len))
			return -1;
		snprintf(why, len, "one vCPU");
		return GUEST_TEST_SKIP;
	}
	if (gi->mem_size < OWN_GPA(SMP_MAX)) {
		snprintf(why, len, "needs %llu MiB of RAM", (unsigned long long)(OWN_GPA(SMP_MAX) >> 20));
		return GUEST_TEST_SKIP;
	}
	n = n > SMP_MAX ? SMP_MAX : n;
	for (u64 p = 0; p < RANGE_PAGES; p++)
		*page_word(SHARED_GPA, p) = GOLDEN ^ p;
	guest_printf("smp: %u vcpus\n", n);
	if (start_all(n, why, len))
		return -1;
	phase = 1;
	write_own(0, 0, RANGE_PAGES);
	errors[0] += check_shared();
	if (!wait_all(done1, 1, n)) {
		snprintf(why, len, "vcpu %d did not fault its ranges in", first_missing(done1, 1, n));
		return -1;
	}
	if (fault_rate(bench_vcpus(gi, n), why, len))
		return -1;
	if (dirty_rounds(n, flip, why, len) || zap_while_reading(n, why, len))
		return -1;
	phase = 4;
	if (!wait_all(exiting, 1, n)) {
		snprintf(why, len, "vcpu %d did not finish", first_missing(exiting, 1, n));
		return -1;
	}
	for (unsigned i = 0; i < n; i++)
		if (errors[i]) {
			snprintf(why, len, "vcpu %u read %llu wrong words in the shared range", i,
				 (unsigned long long)errors[i]);
			return -1;
		}
	return 0;
}
