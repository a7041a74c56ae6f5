// SPDX-License-Identifier: MIT
/* Starting the other CPUs, their park loop and mailbox (smp.h). */
#include <keel/errno.h>
#include <keel/host.h>
#include <keel/string.h>
#include "arch/x86/cpu.h"
#include "arch/x86/desc.h"
#include "arch/x86/host_timer.h"
#include "arch/x86/lapic.h"
#include "arch/x86/smp.h"
#include "arch/x86/vendor.h"
#include "rt/cpu_local.h"
#include "rt/timer.h"

#define AP_STACK_PAGES 4
#define AP_IST_PAGES 2
#define AP_START_TIMEOUT_MS 2000
#define AP_ENABLE_FAILED 2u /* struct pcpu.online: started, but cpu_enable failed */
#define EFER_LME BIT(8)
#define EFER_NXE_BIT BIT(11)

/* The data block of arch/x86/ap_boot.asm, at AP_DATA in the page. */
struct ap_tramp_data {
	u16 gdt_limit;
	u32 gdt_base;
	u16 pad0;
	u32 pm32_offset;
	u16 pm32_selector;
	u16 pad1;
	u32 cr3;
	u32 efer_set;
	u64 stack;
	u64 arg;
	u64 entry;
} __packed;
_Static_assert(sizeof(struct ap_tramp_data) == 48, "matches ap_boot.asm");
#define AP_DATA 0x800

extern const u8 ap_tramp_start[], ap_tramp_pm32[], ap_tramp_gdt[], ap_tramp_end[];

struct ap_start {
	struct pcpu *cpu;
	void *ist_top;
	bool fail_enable; /* test (debug-no-enable-cpu): report cpu_enable as failed */
};

static const struct vendor_ops *smp_ops;
static struct ap_start starts[KEEL_MAX_CPUS];
static unsigned ncpus = 1;

static void delay_us(u64 us)
{
	u64 hz = timer_tsc_hz(), t0 = rdtsc();

	if (!hz)
		hz = 1000000000ull;
	while (rdtsc() - t0 < us * (hz / 1000000))
		cpu_relax();
}

/* ---- the park loop ---- */

/*
 * An idle CPU halts until pcpu_run_on's kick (or a stop NMI) wakes it: it
 * never spins. A spinning CPU costs a real CPU and, under QEMU's
 * multi-threaded TCG with more vCPU threads than host cores, starves the
 * CPUs doing the work (every PAUSE also ends QEMU's translation-block loop
 * and takes its global lock). STI's shadow covers HLT, so a kick that came
 * after the check below (pending while interrupts were off) wakes the HLT.
 */
static __noreturn void park(struct pcpu *c)
{
	for (;;) {
		pcpu_fn fn = __atomic_load_n(&c->fn, __ATOMIC_ACQUIRE);

		if (!fn) {
			asm volatile("sti; hlt; cli" ::: "memory");
			continue;
		}
		fn(__atomic_load_n(&c->arg, __ATOMIC_RELAXED));
		__atomic_add_fetch(&c->done, 1, __ATOMIC_RELEASE);
		__atomic_store_n(&c->fn, NULL, __ATOMIC_RELEASE);
	}
}

static __noreturn void ap_entry(struct ap_start *s)
{
	struct pcpu *c = s->cpu;
	int r;

	if (desc_init_ap(s->ist_top))
		rt_cpu_halt(); /* no memory: never reported online */
	rt_cpu_local_init(c); /* after the GDT load, which clears GS base */
	lapic_cpu_init();
	c->apic_id = lapic_id();
	r = s->fail_enable ? -ENODEV : smp_ops->cpu_enable(c);
	if (r) {
		/* It cannot run a vCPU: the boot CPU leaves it out (start_one). */
		host_log("keel: cpu %u (apic %u): %s enable failed (%d)\n", c->id, c->apic_id,
			 smp_ops->name, r);
		__atomic_store_n(&c->online, AP_ENABLE_FAILED, __ATOMIC_RELEASE);
		rt_cpu_halt();
	}
	/* Its own timer rate: preemption (SVM) and idle sleeps on this CPU. */
	host_log("keel: cpu %u: LAPIC timer at %llu ticks/ms\n", c->id,
		 (unsigned long long)host_timer_cpu_init());
	__atomic_store_n(&c->online, 1, __ATOMIC_RELEASE);
	park(c);
}

int pcpu_run_on(unsigned cpu, pcpu_fn fn, void *arg)
{
	struct pcpu *c = pcpu_get(cpu);

	pcpu_fn none = NULL;

	if (!c || cpu == host_cpu_id() || !__atomic_load_n(&c->online, __ATOMIC_ACQUIRE))
		return -EINVAL;
	/* One item at a time; a busy CPU (running a vCPU) refuses. The arg is
	 * stored before fn is published: the CPU reads it after seeing fn. */
	if (__atomic_load_n(&c->fn, __ATOMIC_ACQUIRE))
		return -EBUSY;
	__atomic_store_n(&c->arg, arg, __ATOMIC_RELEASE);
	if (!__atomic_compare_exchange_n(&c->fn, &none, fn, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		return -EBUSY;
	lapic_send_fixed(c->apic_id, LAPIC_KICK_VECTOR); /* it may be halted in park() */
	return 0;
}

void pcpu_wait(unsigned cpu)
{
	struct pcpu *c = pcpu_get(cpu);

	while (c && __atomic_load_n(&c->fn, __ATOMIC_ACQUIRE))
		cpu_relax();
}

void pcpu_kick(unsigned cpu)
{
	struct pcpu *c = pcpu_get(cpu);

	if (c && cpu != host_cpu_id())
		lapic_send_fixed(c->apic_id, LAPIC_KICK_VECTOR);
}

/* Panic and stop: every other CPU gets an NMI (trap.c stops it there). */
static void stop_others(void)
{
	unsigned me = host_cpu_id();

	for (unsigned i = 0; i < ncpus; i++)
		if (i != me)
			lapic_send_nmi(pcpu_get(i)->apic_id);
}

/* ---- start-up ---- */

void smp_init_boot_cpu(void)
{
	struct pcpu *c = pcpu_slot(0);

	lapic_cpu_init();
	lapic_mask_pic();
	c->apic_id = lapic_id();
	c->online = 1;
	rt_cpu_local_init(c);
	rt_set_stop_others(stop_others);
}

static void tramp_fill(u8 *page, struct ap_start *s, void *stack_top)
{
	u64 base = (u64)(uintptr_t)page;
	struct ap_tramp_data *d;

	memcpy(page, ap_tramp_start, (size_t)(ap_tramp_end - ap_tramp_start));
	d = (struct ap_tramp_data *)(page + AP_DATA);
	*d = (struct ap_tramp_data){
		.gdt_limit = 4 * 8 - 1,
		.gdt_base = (u32)(base + (u64)(ap_tramp_gdt - ap_tramp_start)),
		.pm32_offset = (u32)(base + (u64)(ap_tramp_pm32 - ap_tramp_start)),
		.pm32_selector = 0x08,
		.cr3 = (u32)read_cr3(),
		.efer_set = (u32)(EFER_LME | (rdmsr(MSR_EFER) & EFER_NXE_BIT)),
		.stack = (u64)(uintptr_t)stack_top,
		.arg = (u64)(uintptr_t)s,
		.entry = (u64)(uintptr_t)ap_entry,
	};
}

static bool wait_online(struct pcpu *c)
{
	for (unsigned ms = 0; ms < AP_START_TIMEOUT_MS; ms++) {
		if (__atomic_load_n(&c->online, __ATOMIC_ACQUIRE))
			return true;
		delay_us(1000);
	}
	return false;
}

static int start_one(const struct smp_boot *b, unsigned fw_index, unsigned idx)
{
	u32 apic_id = b->apic_ids[fw_index];
	bool dead = b->dead && fw_index == b->dead;
	struct pcpu *c = pcpu_slot(idx);
	u8 *stack = host_alloc_pages(AP_STACK_PAGES), *ist = host_alloc_pages(AP_IST_PAGES);

	if (!c || !stack || !ist)
		return -ENOMEM;
	memset(c, 0, sizeof(*c));
	c->id = idx;
	starts[idx] = (struct ap_start){ c, ist + AP_IST_PAGES * PAGE_SIZE,
					 b->no_enable && fw_index == b->no_enable };
	tramp_fill((u8 *)(uintptr_t)b->tramp_page, &starts[idx], stack + AP_STACK_PAGES * PAGE_SIZE);
	lapic_send_init(apic_id);
	delay_us(10000);
	if (!dead) /* debug-dead-cpu: it stays in INIT, as a CPU that never answers */
		lapic_send_sipi(apic_id, (u8)(b->tramp_page >> PAGE_SHIFT));
	delay_us(200);
	if (!dead && !__atomic_load_n(&c->online, __ATOMIC_ACQUIRE))
		lapic_send_sipi(apic_id, (u8)(b->tramp_page >> PAGE_SHIFT));
	if (wait_online(c) && __atomic_load_n(&c->online, __ATOMIC_ACQUIRE) == 1)
		return 0;
	lapic_send_init(apic_id); /* hold it in INIT: it must not run on with this slot */
	return __atomic_load_n(&c->online, __ATOMIC_ACQUIRE) ? -EIO : -ETIMEDOUT;
}

/* Each started CPU runs one item from its mailbox: it must answer with its
 * own index (its GS base and struct pcpu are right). */
static void ping(void *arg)
{
	u32 *answer = arg;

	__atomic_store_n(answer, host_cpu_id(), __ATOMIC_RELEASE);
}

static void check_mailboxes(unsigned n)
{
	static u32 answers[KEEL_MAX_CPUS];

	for (unsigned i = 1; i < n; i++) {
		answers[i] = ~0u;
		if (pcpu_run_on(i, ping, &answers[i]))
			host_panic("cpu %u: mailbox refused work", i);
	}
	for (unsigned i = 1; i < n; i++) {
		pcpu_wait(i);
		if (answers[i] != i)
			host_panic("cpu %u answered as cpu %u", i, answers[i]);
	}
}

unsigned smp_start_cpus(const struct vendor_ops *ops, const struct smp_boot *b)
{
	u32 me = pcpu_get(0)->apic_id;
	unsigned n = 1;

	smp_ops = ops;
	if (read_cr3() >> 32 || !b->tramp_page) {
		if (b->ncpus > 1)
			host_log("keel: cpus: cannot start the other CPUs (%s)\n",
				 b->tramp_page ? "host page tables above 4 GiB"
					       : "no page below 1 MiB");
		return 1;
	}
	for (unsigned i = 0; i < b->ncpus && n < KEEL_MAX_CPUS; i++) {
		int r;

		if (b->apic_ids[i] == me)
			continue;
		r = start_one(b, i, n);
		if (r) {
			host_log("keel: cpu with apic id %u did not start (%d); left out\n",
				 b->apic_ids[i], r);
			continue;
		}
		n++;
		ncpus = n;
		rt_set_cpu_count(n);
	}
	check_mailboxes(n);
	return n;
}
