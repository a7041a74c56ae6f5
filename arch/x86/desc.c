// SPDX-License-Identifier: MIT
#include <keel/string.h>
#include "arch/x86/desc.h"
#include "arch/x86/host_timer.h"

/* Descriptor bits (Intel SDM vol. 3 3.4.5). */
#define SEG_ACCESSED BIT(40)
#define SEG_RW BIT(41)
#define SEG_CODE BIT(43)
#define SEG_S BIT(44)
#define SEG_P BIT(47)
#define SEG_L BIT(53)
#define SEG_DB BIT(54)
#define SEG_G BIT(55)
#define SEG_LIMIT_MAX (0xffffull | (0xfull << 48))
#define SYS_TSS_AVAIL (9ull << 40)

#define IDT_INTERRUPT_GATE 0x8e /* P, DPL 0, 64-bit interrupt gate */
#define IST_FOR_FATAL 1         /* TSS.IST1 */

struct tss64 {
	u32 reserved0;
	u64 rsp[3];
	u64 reserved1;
	u64 ist[7];
	u64 reserved2;
	u16 reserved3;
	u16 iomap_base;
} __packed;
_Static_assert(sizeof(struct tss64) == 0x68, "TSS is 104 bytes");

struct idt_gate {
	u16 offset_lo;
	u16 selector;
	u8 ist;
	u8 type;
	u16 offset_mid;
	u32 offset_hi;
	u32 reserved;
} __packed;
_Static_assert(sizeof(struct idt_gate) == 16, "64-bit gates are 16 bytes");

/* One CPU today; per-CPU copies come with SMP. */
static u64 gdt[5] __aligned(16);
static struct tss64 tss __aligned(16);
static struct idt_gate idt[256] __aligned(16);

static void gdt_set_tss(u64 *slot, const struct tss64 *t)
{
	u64 base = (u64)(uintptr_t)t, limit = sizeof(*t) - 1;

	slot[0] = (limit & 0xffff) | ((base & 0xffffff) << 16) | SYS_TSS_AVAIL | SEG_P |
		  (((base >> 24) & 0xff) << 56);
	slot[1] = base >> 32;
}

static void idt_set(unsigned vec, u64 handler, u8 ist)
{
	idt[vec] = (struct idt_gate){
		.offset_lo = (u16)handler,
		.selector = GDT_CODE64,
		.ist = ist,
		.type = IDT_INTERRUPT_GATE,
		.offset_mid = (u16)(handler >> 16),
		.offset_hi = (u32)(handler >> 32),
	};
}

static bool vector_needs_ist(unsigned vec)
{
	return vec == 2 || vec == 8 || vec == 18; /* NMI, #DF, #MC */
}

void desc_init(void *ist_stack_top)
{
	struct desc_ptr gdtr = { sizeof(gdt) - 1, (u64)(uintptr_t)gdt };
	struct desc_ptr idtr = { sizeof(idt) - 1, (u64)(uintptr_t)idt };
	u64 stubs = (u64)(uintptr_t)x86_trap_stubs;

	gdt[GDT_NULL / 8] = 0;
	gdt[GDT_CODE64 / 8] = SEG_LIMIT_MAX | SEG_ACCESSED | SEG_RW | SEG_CODE | SEG_S | SEG_P |
			      SEG_L | SEG_G;
	gdt[GDT_DATA / 8] = SEG_LIMIT_MAX | SEG_ACCESSED | SEG_RW | SEG_S | SEG_P | SEG_DB | SEG_G;
	memset(&tss, 0, sizeof(tss));
	tss.ist[IST_FOR_FATAL - 1] = ALIGN_DOWN((u64)(uintptr_t)ist_stack_top, 16);
	tss.iomap_base = sizeof(tss); /* no I/O bitmap */
	gdt_set_tss(&gdt[GDT_TSS / 8], &tss);

	for (unsigned v = 0; v < X86_NR_EXCEPTIONS; v++)
		idt_set(v, stubs + v * X86_TRAP_STUB_SIZE, vector_needs_ist(v) ? IST_FOR_FATAL : 0);
	/* Host interrupts (arch/x86/host_timer.h): acknowledged and ignored. */
	for (unsigned v = X86_NR_EXCEPTIONS; v < 256; v++)
		idt_set(v, (u64)(uintptr_t)x86_irq_stubs + (v - X86_NR_EXCEPTIONS) * X86_IRQ_STUB_SIZE,
			0);

	x86_load_gdt(&gdtr, GDT_CODE64, GDT_DATA);
	asm volatile("lidt %0" : : "m"(idtr));
	asm volatile("ltr %w0" : : "r"((u16)GDT_TSS));
}
