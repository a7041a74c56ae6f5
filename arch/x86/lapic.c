// SPDX-License-Identifier: MIT
/* The host local APIC: ID and IPIs (lapic.h). Intel SDM vol. 3, 11.6. */
#include <keel/host.h>
#include "arch/x86/cpu.h"
#include "arch/x86/lapic.h"

#define APIC_BASE_EXTD BIT(10)  /* x2APIC mode */
#define APIC_BASE_EN BIT(11)
#define APIC_BASE_ADDR GENMASK(51, 12)

#define XAPIC_ID 0x20
#define XAPIC_EOI 0xb0
#define XAPIC_SVR 0xf0
#define XAPIC_ICR_LO 0x300
#define XAPIC_ICR_HI 0x310
#define XAPIC_LVT_TIMER 0x320
#define XAPIC_LVT_ERROR 0x370
#define LVT_MASKED BIT(16)
#define X2APIC_MSR(reg) (0x800u + ((reg) >> 4))

#define ICR_FIXED (0u << 8)
#define ICR_NMI (4u << 8)
#define ICR_INIT (5u << 8)
#define ICR_STARTUP (6u << 8)
#define ICR_PENDING BIT(12)
#define ICR_ASSERT BIT(14)
#define ICR_SPIN_LIMIT 1000000

static volatile u32 *xapic; /* NULL in x2APIC mode */

static u32 xapic_read(u32 reg)
{
	return xapic[reg / 4];
}

static void xapic_write(u32 reg, u32 v)
{
	xapic[reg / 4] = v;
}

u32 lapic_read(u32 reg)
{
	return xapic ? xapic_read(reg) : (u32)rdmsr(X2APIC_MSR(reg));
}

void lapic_write(u32 reg, u32 v)
{
	if (xapic)
		xapic_write(reg, v);
	else
		wrmsr(X2APIC_MSR(reg), v);
}

/* Keel takes no device interrupts: mask every local source (timer, thermal,
 * performance counters, LINT0 with the firmware's ExtINT, LINT1, error), so
 * that the only interrupts left are IPIs (the kick) and NMIs. */
static void mask_local_sources(void)
{
	for (u32 reg = XAPIC_LVT_TIMER; reg <= XAPIC_LVT_ERROR; reg += 0x10)
		lapic_write(reg, lapic_read(reg) | LVT_MASKED);
}

void lapic_cpu_init(void)
{
	u64 base = rdmsr(MSR_IA32_APIC_BASE);

	if (base & APIC_BASE_EXTD) {
		xapic = NULL;
	} else {
		if (!(base & APIC_BASE_EN))
			wrmsr(MSR_IA32_APIC_BASE, base | APIC_BASE_EN);
		xapic = (volatile u32 *)(uintptr_t)(base & APIC_BASE_ADDR);
	}
	mask_local_sources();
	/* Software-enable it (SVR bit 8; spurious vector 0xff) so it accepts
	 * and sends IPIs. */
	lapic_write(XAPIC_SVR, lapic_read(XAPIC_SVR) | BIT(8) | 0xff);
}

/* The legacy 8259s: masked, their interrupts would arrive as ExtINT. */
void lapic_mask_pic(void)
{
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
}

bool lapic_is_x2apic(void)
{
	return !xapic;
}

u32 lapic_id(void)
{
	if (!xapic)
		return (u32)rdmsr(X2APIC_MSR(XAPIC_ID));
	return xapic_read(XAPIC_ID) >> 24;
}

static void send_icr(u32 apic_id, u32 lo)
{
	if (!xapic) {
		wrmsr(X2APIC_MSR(XAPIC_ICR_LO), ((u64)apic_id << 32) | lo);
		return;
	}
	xapic_write(XAPIC_ICR_HI, apic_id << 24);
	xapic_write(XAPIC_ICR_LO, lo);
	for (int i = 0; i < ICR_SPIN_LIMIT && (xapic_read(XAPIC_ICR_LO) & ICR_PENDING); i++)
		cpu_relax();
}

void lapic_send_init(u32 apic_id)
{
	send_icr(apic_id, ICR_INIT | ICR_ASSERT);
}

void lapic_send_sipi(u32 apic_id, u8 vector_page)
{
	send_icr(apic_id, ICR_STARTUP | ICR_ASSERT | vector_page);
}

void lapic_send_nmi(u32 apic_id)
{
	send_icr(apic_id, ICR_NMI | ICR_ASSERT);
}

void lapic_send_fixed(u32 apic_id, u8 vector)
{
	send_icr(apic_id, ICR_FIXED | ICR_ASSERT | vector);
}

void lapic_eoi(void)
{
	if (!xapic)
		wrmsr(X2APIC_MSR(XAPIC_EOI), 0);
	else
		xapic_write(XAPIC_EOI, 0);
}
