// SPDX-License-Identifier: MIT
/* The host's local APIC timer (arch/x86/host_timer.h). */
#include <keel/host.h>
#include "arch/x86/cpu.h"
#include "arch/x86/host_timer.h"
#include "arch/x86/lapic.h"

#define APIC_BASE_ENABLE BIT(11)
#define APIC_BASE_X2APIC BIT(10)
#define APIC_BASE_ADDR GENMASK(51, 12)
#define CPUID_1_EDX_APIC BIT(9)

enum {
	APIC_EOI = 0xb0, APIC_SVR = 0xf0, APIC_LVT_TIMER = 0x320, APIC_LVT_LINT0 = 0x350,
	APIC_TIMER_INIT = 0x380, APIC_TIMER_CUR = 0x390, APIC_TIMER_DIV = 0x3e0,
};
#define APIC_SVR_ENABLE BIT(8)
#define APIC_LVT_MASKED BIT(16)
#define APIC_DIV_16 0x3
#define CALIBRATE_NS 2000000ull /* 2 ms against the TSC */

static struct {
	bool ready, x2apic;
	volatile u32 *mmio;
	u64 ticks_per_ms;
	u64 irqs;
} ht;

static u32 apic_read(u32 reg)
{
	return ht.x2apic ? (u32)rdmsr(0x800 + (reg >> 4)) : ht.mmio[reg / 4];
}

static void apic_write(u32 reg, u32 v)
{
	if (ht.x2apic)
		wrmsr(0x800 + (reg >> 4), v);
	else
		ht.mmio[reg / 4] = v;
}

/* lapic_cpu_init() (arch/x86/lapic.c) ran on every CPU before its first
 * interrupt: the kick vector needs the EOI even without a timer. */
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

static void mask_legacy_pics(void)
{
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
}

static void calibrate(void)
{
	u64 t0, t1;
	u32 left;

	apic_write(APIC_TIMER_DIV, APIC_DIV_16);
	apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED | HOST_TIMER_VECTOR);
	apic_write(APIC_TIMER_INIT, 0xffffffffu);
	t0 = host_time_ns();
	do
		t1 = host_time_ns();
	while (t1 - t0 < CALIBRATE_NS);
	left = apic_read(APIC_TIMER_CUR);
	apic_write(APIC_TIMER_INIT, 0);
	ht.ticks_per_ms = (0xffffffffull - left) * 1000000ull / (t1 - t0);
	if (!ht.ticks_per_ms)
		ht.ticks_per_ms = 1;
}

bool host_timer_init(void)
{
	u64 base;

	if (ht.ready)
		return true;
	if (!(cpuid(1).edx & CPUID_1_EDX_APIC))
		return false;
	base = rdmsr(MSR_IA32_APIC_BASE);
	if (!(base & APIC_BASE_ENABLE))
		wrmsr(MSR_IA32_APIC_BASE, base |= APIC_BASE_ENABLE);
	ht.x2apic = base & APIC_BASE_X2APIC;
	ht.mmio = (volatile u32 *)(uintptr_t)(base & APIC_BASE_ADDR);
	mask_legacy_pics();
	apic_write(APIC_SVR, APIC_SVR_ENABLE | HOST_SPURIOUS_VECTOR);
	apic_write(APIC_LVT_LINT0, APIC_LVT_MASKED);
	calibrate();
	ht.ready = true;
	host_log("keel: host LAPIC timer (%s) at %llu ticks/ms\n", ht.x2apic ? "x2APIC" : "xAPIC",
		 (unsigned long long)ht.ticks_per_ms);
	return true;
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
		apic_write(APIC_TIMER_INIT, 0);
		return;
	}
	ticks = ns / 1000 * ht.ticks_per_ms / 1000;
	ticks = ticks ? MIN(ticks, 0xffffffffull) : 1;
	/* Per CPU: an AP's divider is still its reset value (lapic_cpu_init()
	 * masked its timer; one-shot arming unmasks it). */
	apic_write(APIC_TIMER_DIV, APIC_DIV_16);
	apic_write(APIC_LVT_TIMER, HOST_TIMER_VECTOR); /* one-shot, unmasked */
	apic_write(APIC_TIMER_INIT, (u32)ticks);
}

void host_timer_wait(void)
{
	/* STI's shadow covers HLT: an interrupt pending already wakes it. */
	asm volatile("sti; hlt; cli" ::: "memory");
}
