// SPDX-License-Identifier: MIT
/*
 * Hosted tests of the platform with several vCPUs on threads (one thread per
 * vCPU, as keel.efi runs one vCPU per CPU), also built with ThreadSanitizer:
 *  - IPI ring: tokens (one vector each) passed vCPU to vCPU through the ICR
 *    (xAPIC MMIO with physical and logical flat destinations, x2APIC MSR
 *    0x830 physical), while a device thread drives the UART -> I/O APIC ->
 *    LAPIC path, the PIT, the RTC and the counters: every hop arrives once;
 *  - INIT then SIPI to one vCPU, seen in that order with the SIPI vector;
 *  - NMI and fixed IPIs with the all-excluding-self / all-including-self
 *    shorthands, and logical cluster destinations;
 *  - the kick callback names the target vCPU of every delivery;
 *  - time split by vCPU: each advances (and sleeps until) its own LAPIC
 *    timer, vCPU 0 the shared devices too.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include "vmm/dev/dev_test.h"
#include "vmm/dev/dev.h"
#include "vmm/dev/layout.h"
#include "vmm/dev/platform.h"

#define NR 4
#define TOKENS 3
#define HOPS 600
#define TOKEN_VEC 0x50
#define DEV_VEC 0x60

static struct plat *p;
static u64 kicks[NR];
static u64 hops[TOKENS];
static u64 dev_irqs_taken;
static u32 stop_devices;

static void on_kick(void *ctx, unsigned vcpu)
{
	if (vcpu < NR)
		__atomic_add_fetch(&kicks[vcpu], 1, __ATOMIC_RELAXED);
}

static void console(void *ctx, const char *s, size_t n) {}

static int setup(void **state)
{
	struct plat_config cfg = {
		.nr_vcpus = NR, .tsc_hz = 2000000000ull, .ram_below_4g = 256ull << 20,
		.console_mode = PLAT_CONSOLE_RAW, .now_ns = fake_now_ns,
		.console_write = console, .kick_vcpu = on_kick, .rtc_unix_time = 1796151151ull,
	};

	fake_now = 1000;
	memset(kicks, 0, sizeof(kicks));
	memset(hops, 0, sizeof(hops));
	dev_irqs_taken = 0;
	stop_devices = 0;
	p = plat_create(&cfg);
	return p ? 0 : -1;
}

static int teardown(void **state)
{
	plat_destroy(p);
	return 0;
}

/* vCPU i's view: vCPUs 0 and 1 use the xAPIC page, 2 and 3 x2APIC. */
static bool is_x2(unsigned i) { return i >= 2; }

static void mmio(unsigned i, u32 off, u32 v)
{
	u64 x = v;

	assert_true(plat_mmio(p, i, GPA(PLAT_LAPIC_BASE + off), 4, true, &x));
}

static void apic_enable(unsigned i)
{
	if (is_x2(i)) {
		assert_int_equal(plat_wrmsr(p, i, 0x1b, PLAT_LAPIC_BASE | BIT(11) | BIT(10)), 0);
		assert_int_equal(plat_wrmsr(p, i, 0x80f, 0x1ff), 0);
	} else {
		mmio(i, 0xf0, 0x1ff);
		mmio(i, 0xe0, 0xffffffffu);     /* DFR flat */
		mmio(i, 0xd0, (1u << i) << 24); /* LDR: bit i */
	}
}

/* Fixed IPI to 'to'; xAPIC senders alternate physical and logical. */
static void send_fixed(unsigned from, unsigned to, u8 vec, unsigned n)
{
	if (is_x2(from)) {
		assert_int_equal(plat_wrmsr(p, from, 0x830, ((u64)to << 32) | vec), 0);
	} else if (n & 1) {
		mmio(from, 0x310, (1u << to) << 24);
		mmio(from, 0x300, vec | BIT(11)); /* logical flat */
	} else {
		mmio(from, 0x310, to << 24);
		mmio(from, 0x300, vec);
	}
}

static void eoi(unsigned i)
{
	if (is_x2(i))
		assert_int_equal(plat_wrmsr(p, i, 0x80b, 0), 0);
	else
		mmio(i, 0xb0, 0);
}

static bool all_hops_done(void)
{
	for (unsigned t = 0; t < TOKENS; t++)
		if (__atomic_load_n(&hops[t], __ATOMIC_ACQUIRE) < HOPS)
			return false;
	return true;
}

static void *vcpu_ring(void *arg)
{
	unsigned i = (unsigned)(uintptr_t)arg, n = 0;

	while (!all_hops_done()) {
		struct lapic *a = plat_lapic(p, i);
		int vec = lapic_pending_vector(a);

		if (vec < 0) {
			sched_yield(); /* 2 host cores for 5 threads: let the holder run */
			continue;
		}
		lapic_accept_vector(a, vec);
		eoi(i);
		if (vec == DEV_VEC) {
			__atomic_add_fetch(&dev_irqs_taken, 1, __ATOMIC_RELAXED);
			continue;
		}
		if (__atomic_add_fetch(&hops[vec - TOKEN_VEC], 1, __ATOMIC_ACQ_REL) < HOPS)
			send_fixed(i, (i + 1) % NR, (u8)vec, n++);
	}
	return NULL;
}

/* COM1 THR writes raise IRQ 4 (IER.THRE, MCR.OUT2) -> I/O APIC pin 4 ->
 * vector DEV_VEC at a vCPU that changes as the thread goes; the PIT and
 * the RTC are read and programmed, time advanced, counters read. */
static void *devices(void *arg)
{
	u64 x;
	unsigned n = 0;

	while (!__atomic_load_n(&stop_devices, __ATOMIC_ACQUIRE)) {
		u32 v = 0x41;
		struct plat_counters c;

		x = 0x10 + 2 * PLAT_IRQ_COM1;
		plat_mmio(p, 0, GPA(PLAT_IOAPIC_BASE), 4, true, &x);
		x = DEV_VEC;
		plat_mmio(p, 0, GPA(PLAT_IOAPIC_BASE + 0x10), 4, true, &x);
		x = 0x11 + 2 * PLAT_IRQ_COM1;
		plat_mmio(p, 0, GPA(PLAT_IOAPIC_BASE), 4, true, &x);
		x = (u64)(n % NR) << 24;
		plat_mmio(p, 0, GPA(PLAT_IOAPIC_BASE + 0x10), 4, true, &x);
		plat_pio(p, 0, PLAT_PORT_COM1 + 4, 1, false, &(u32){ 0x08 }); /* OUT2 */
		plat_pio(p, 0, PLAT_PORT_COM1 + 1, 1, false, &(u32){ 0x02 }); /* IER.THRE */
		plat_pio(p, 0, PLAT_PORT_COM1, 1, false, &v);
		plat_pio(p, 0, PLAT_PORT_COM1 + 2, 1, true, &v); /* IIR read: THRE done */
		plat_pio(p, 0, 0x43, 1, false, &(u32){ 0x34 });
		plat_pio(p, 0, 0x40, 1, false, &(u32){ 0x00 });
		plat_pio(p, 0, 0x40, 1, false, &(u32){ 0x10 });
		plat_pio(p, 0, 0x70, 1, false, &(u32){ 0x00 });
		plat_pio(p, 0, 0x71, 1, true, &v);
		plat_advance(p);
		(void)plat_next_event_ns(p);
		plat_get_counters(p, &c);
		n++;
		sched_yield();
	}
	return NULL;
}

static void test_ipi_ring(void **state)
{
	pthread_t t[NR], d;

	SCENARIO("IPI ring: tokens through the ICR on 4 vCPU threads, devices running");
	for (unsigned i = 0; i < NR; i++)
		apic_enable(i);
	for (unsigned k = 0; k < TOKENS; k++)
		send_fixed(k, k + 1, (u8)(TOKEN_VEC + k), 0); /* tokens start at vCPUs 1..3 */
	assert_int_equal(pthread_create(&d, NULL, devices, NULL), 0);
	for (unsigned i = 0; i < NR; i++)
		assert_int_equal(pthread_create(&t[i], NULL, vcpu_ring, (void *)(uintptr_t)i), 0);
	for (unsigned i = 0; i < NR; i++)
		pthread_join(t[i], NULL);
	__atomic_store_n(&stop_devices, 1, __ATOMIC_RELEASE);
	pthread_join(d, NULL);
	for (unsigned k = 0; k < TOKENS; k++)
		assert_int_equal(hops[k], HOPS);
	for (unsigned i = 0; i < NR; i++)
		assert_true(kicks[i] >= HOPS * TOKENS / NR / 2);
	{
		struct plat_counters c;

		plat_get_counters(p, &c);
		assert_true(c.ipis_other >= HOPS * TOKENS - TOKENS);
		assert_int_equal(c.ipis_self, 0);
	}
}

static u8 sipi_seen;
static u32 init_then_sipi;

static void *ap_wait(void *arg)
{
	struct lapic *a = plat_lapic(p, 1);
	u8 vec;

	while (!lapic_take_init(a))
		sched_yield();
	while (!lapic_take_start(a, &vec))
		sched_yield();
	sipi_seen = vec;
	__atomic_store_n(&init_then_sipi, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void test_init_sipi(void **state)
{
	pthread_t t;
	u64 v = 0;

	SCENARIO("INIT then SIPI from vCPU 0 to vCPU 1 (xAPIC ICR), seen in order");
	apic_enable(0);
	apic_enable(1);
	assert_int_equal(pthread_create(&t, NULL, ap_wait, NULL), 0);
	mmio(0, 0x310, 1u << 24);
	mmio(0, 0x300, 0x0000c500); /* INIT, level assert */
	mmio(0, 0x300, 0x00008500); /* INIT de-assert: no effect */
	mmio(0, 0x300, 0x0000069a); /* SIPI vector 0x9a */
	pthread_join(t, NULL);
	assert_int_equal(init_then_sipi, 1);
	assert_int_equal(sipi_seen, 0x9a);
	/* INIT reset vCPU 1's APIC: SVR back to 0xff, LDR 0. */
	assert_true(plat_mmio(p, 1, GPA(PLAT_LAPIC_BASE + 0xf0), 4, false, &v));
	assert_int_equal(v, 0xff);
	assert_true(plat_mmio(p, 1, GPA(PLAT_LAPIC_BASE + 0xd0), 4, false, &v));
	assert_int_equal(v, 0);
	assert_true(kicks[1] >= 2);
	assert_int_equal(kicks[2] + kicks[3], 0);
	{
		struct plat_counters c;
		char line[256];

		plat_get_counters(p, &c);
		assert_int_equal(c.inits, 1);
		assert_int_equal(c.sipis, 1);
		plat_format_counters(&c, line, sizeof(line));
		assert_non_null(strstr(line, "init_sipi=1/1"));
	}
}

static void test_init_sipi_order(void **state)
{
	struct lapic *a = plat_lapic(p, 1);
	u8 vec = 0;

	SCENARIO("a SIPI before an INIT is forgotten; INIT then SIPI start once, no INIT left");
	apic_enable(0);
	mmio(0, 0x310, 1u << 24);
	mmio(0, 0x300, 0x00000611); /* SIPI 0x11 */
	mmio(0, 0x300, 0x00004500); /* INIT: forgets it */
	assert_false(lapic_take_start(a, &vec));
	mmio(0, 0x300, 0x00004500);
	mmio(0, 0x300, 0x00000622);
	assert_true(lapic_take_start(a, &vec));
	assert_int_equal(vec, 0x22);
	assert_false(lapic_take_init(a)); /* taken with the SIPI: no reset once running */
}

static void test_shorthands(void **state)
{
	SCENARIO("NMI to all excluding self; fixed to all including self; x2APIC broadcast");
	for (unsigned i = 0; i < NR; i++)
		apic_enable(i);
	mmio(0, 0x300, 0x000c0400); /* NMI, all excluding self */
	assert_false(lapic_take_nmi(plat_lapic(p, 0)));
	for (unsigned i = 1; i < NR; i++)
		assert_true(lapic_take_nmi(plat_lapic(p, i)));
	mmio(1, 0x300, 0x00080070); /* vector 0x70, all including self */
	for (unsigned i = 0; i < NR; i++)
		assert_int_equal(lapic_pending_vector(plat_lapic(p, i)), 0x70);
	for (unsigned i = 0; i < NR; i++)
		lapic_accept_vector(plat_lapic(p, i), 0x70), eoi(i);
	/* x2APIC physical broadcast 0xffffffff from vCPU 3: everyone, 3 too. */
	assert_int_equal(plat_wrmsr(p, 3, 0x830, (0xffffffffull << 32) | 0x71), 0);
	for (unsigned i = 0; i < NR; i++)
		assert_int_equal(lapic_pending_vector(plat_lapic(p, i)), 0x71);
	/* A vector below 16 is refused at the sender (ESR send illegal). */
	assert_int_equal(plat_wrmsr(p, 2, 0x830, (1ull << 32) | 0x05), 0);
	assert_int_equal(plat_wrmsr(p, 2, 0x828, 0), 0);
	{
		u64 esr;

		assert_int_equal(plat_rdmsr(p, 2, 0x828, &esr), 0);
		assert_int_equal(esr, BIT(5));
	}
}

static void test_logical_cluster(void **state)
{
	SCENARIO("xAPIC logical cluster destination: cluster 1, members 0 and 1");
	for (unsigned i = 0; i < 2; i++) {
		mmio(i, 0xf0, 0x1ff);
		mmio(i, 0xe0, 0x0fffffffu);                /* DFR cluster */
		mmio(i, 0xd0, (0x10u | (1u << i)) << 24);  /* cluster 1, member bit i */
	}
	mmio(0, 0x310, 0x12u << 24);      /* cluster 1, member 1 */
	mmio(0, 0x300, 0x80 | BIT(11));
	assert_int_equal(lapic_pending_vector(plat_lapic(p, 1)), 0x80);
	assert_int_equal(lapic_pending_vector(plat_lapic(p, 0)), -1);
	mmio(1, 0x310, 0x23u << 24);      /* cluster 2: nobody */
	mmio(1, 0x300, 0x81 | BIT(11));
	assert_int_equal(lapic_pending_vector(plat_lapic(p, 0)), -1);
	/* Lowest priority (delivery mode 1) to cluster 1 members 0|1: one of them. */
	mmio(1, 0x310, 0x13u << 24);
	mmio(1, 0x300, 0x190 | BIT(11));
	assert_true((lapic_pending_vector(plat_lapic(p, 0)) == 0x90) !=
		    (lapic_pending_vector(plat_lapic(p, 1)) == 0x90));
}

static void test_time_per_vcpu(void **state)
{
	u64 expiry;

	SCENARIO("vCPU 1's LAPIC timer: its own deadline, fired by its own advance only");
	mmio(1, 0xf0, 0x1ff);
	mmio(1, 0x3e0, 0xb);      /* divide by 1: 1 GHz */
	mmio(1, 0x320, 0x000000a0); /* one-shot, vector 0xa0 */
	mmio(1, 0x380, 5000);     /* 5 us */
	expiry = fake_now + 5000;
	assert_int_equal(plat_next_event_vcpu_ns(p, 1), expiry);
	assert_true(plat_next_event_vcpu_ns(p, 0) != expiry);
	assert_int_equal(plat_next_event_ns(p), expiry);
	fake_now = expiry;
	plat_advance_vcpu(p, 0); /* vCPU 0's advance leaves vCPU 1's timer alone */
	assert_int_equal(lapic_pending_vector(plat_lapic(p, 1)), -1);
	plat_advance_vcpu(p, 1);
	assert_int_equal(lapic_pending_vector(plat_lapic(p, 1)), 0xa0);
	assert_int_equal(plat_next_event_vcpu_ns(p, 1), PLAT_NO_EVENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ipi_ring, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_sipi, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_sipi_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shorthands, setup, teardown),
		cmocka_unit_test_setup_teardown(test_logical_cluster, setup, teardown),
		cmocka_unit_test_setup_teardown(test_time_per_vcpu, setup, teardown),
	};

	dev_test_watchdog(120);
	return cmocka_run_group_tests_name("vmm_dev_platform_smp", tests, NULL, NULL);
}
