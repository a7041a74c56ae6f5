// SPDX-License-Identifier: MIT
/* The host's local APIC timer (arch/x86/host_timer.h), programmed through
 * the LAPIC driver (arch/x86/lapic.c), which lapic_cpu_init() set up on
 * every CPU (xAPIC or x2APIC, software-enabled, local sources and the 8259s
 * masked). */
#include <keel/host.h>
#include "arch/x86/cpu.h"
#include "arch/x86/host_timer.h"
#include "arch/x86/lapic.h"
#include "arch/x86/pcpu.h"

#define CPUID_1_EDX_APIC BIT(9)

enum { APIC_LVT_TIMER = 0x320, APIC_TIMER_INIT = 0x380, APIC_TIMER_CUR = 0x390,
       APIC_TIMER_DIV = 0x3e0 };
#define APIC_LVT_MASKED BIT(16)
#define APIC_DIV_16 0x3
#define CALIBRATE_NS 2000000ull /* 2 ms against the TSC */

/* Each CPU measures its own timer (on hardware they share one crystal, but
 * nothing promises it, and under an emulator each CPU's measurement is its
 * own); a CPU that has not measured uses the boot CPU's rate. */
static struct {
	bool ready;
	u64 irqs;
} ht;
static u64 ticks_per_ms[KEEL_MAX_CPUS];

void host_apic_eoi(void)
{
	lapic_eoi();
}

void host_irq(u64 vector)
{
	__atomic_add_fetch(&ht.irqs, 1, __ATOMIC_RELAXED);
	irq_count(vector);
	if (vector != HOST_SPURIOUS_VECTOR)
		host_apic_eoi();
}

u64 host_irq_count(void)
{
	return __atomic_load_n(&ht.irqs, __ATOMIC_RELAXED);
}

static u64 calibrate(void)
{
	u64 t0, t1;
	u32 left;

	lapic_write(APIC_TIMER_DIV, APIC_DIV_16);
	lapic_write(APIC_LVT_TIMER, APIC_LVT_MASKED | HOST_TIMER_VECTOR);
	lapic_write(APIC_TIMER_INIT, 0xffffffffu);
	t0 = host_time_ns();
	do
		t1 = host_time_ns();
	while (t1 - t0 < CALIBRATE_NS);
	left = lapic_read(APIC_TIMER_CUR);
	lapic_write(APIC_TIMER_INIT, 0);
	return MAX((0xffffffffull - left) * 1000000ull / (t1 - t0), 1ull);
}

static u64 rate(unsigned cpu)
{
	u64 r = cpu < KEEL_MAX_CPUS ? __atomic_load_n(&ticks_per_ms[cpu], __ATOMIC_RELAXED) : 0;

	return r ? r : __atomic_load_n(&ticks_per_ms[0], __ATOMIC_RELAXED);
}

/* Once, on the boot CPU. */
bool host_timer_init(void)
{
	if (ht.ready)
		return true;
	if (!(cpuid(1).edx & CPUID_1_EDX_APIC))
		return false;
	if (!ticks_per_ms[0])
		ticks_per_ms[0] = calibrate();
	ht.ready = true;
	host_log("keel: host LAPIC timer (%s) at %llu ticks/ms\n",
		 lapic_is_x2apic() ? "x2APIC" : "xAPIC", (unsigned long long)ticks_per_ms[0]);
	return true;
}

u64 host_timer_cpu_init(void)
{
	unsigned cpu = host_cpu_id();

	if (cpu >= KEEL_MAX_CPUS || !(cpuid(1).edx & CPUID_1_EDX_APIC))
		return 0;
	__atomic_store_n(&ticks_per_ms[cpu], calibrate(), __ATOMIC_RELAXED);
	return ticks_per_ms[cpu];
}

bool host_timer_ready(void)
{
	return ht.ready;
}

void host_timer_arm_ns(u64 ns)
{
	u64 ticks;

	if (!ht.ready)
		return;
	if (!ns) {
		lapic_write(APIC_TIMER_INIT, 0);
		return;
	}
	ticks = ns / 1000 * rate(host_cpu_id()) / 1000;
	ticks = ticks ? MIN(ticks, 0xffffffffull) : 1;
	/* On this CPU: an AP's divider is still its reset value (lapic_cpu_init()
	 * only masked its timer; one-shot arming unmasks it). */
	lapic_write(APIC_TIMER_DIV, APIC_DIV_16);
	lapic_write(APIC_LVT_TIMER, HOST_TIMER_VECTOR); /* one-shot, unmasked */
	lapic_write(APIC_TIMER_INIT, (u32)ticks);
}

void host_timer_wait(void)
{
	/* STI's shadow covers HLT: an interrupt pending already wakes it. */
	asm volatile("sti; hlt; cli" ::: "memory");
}
