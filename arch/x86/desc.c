// SPDX-License-Identifier: MIT
#include <keel/host.h>
#include <keel/string.h>
#include "arch/x86/desc.h"
#include "arch/x86/irq.h"

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

/* Each CPU has its own GDT and TSS (a TSS is busy while loaded, and its IST
 * stack is the CPU's own); the IDT is shared and built once. */
struct desc_cpu {
	u64 gdt[5] __aligned(16);
	struct tss64 tss __aligned(16);
};
static struct desc_cpu boot_cpu_desc;
static struct idt_gate idt[256] __aligned(16);
static bool idt_built;

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

static void idt_build(void)
{
	u64 stubs = (u64)(uintptr_t)x86_trap_stubs;

	for (unsigned v = 0; v < X86_NR_EXCEPTIONS; v++)
		idt_set(v, stubs + v * X86_TRAP_STUB_SIZE, vector_needs_ist(v) ? IST_FOR_FATAL : 0);
	/* Host interrupts (host_timer.c, intr.c): acknowledged, kicks counted. */
	for (unsigned v = X86_NR_EXCEPTIONS; v < 256; v++)
		idt_set(v, (u64)(uintptr_t)x86_irq_stubs + (v - X86_NR_EXCEPTIONS) * X86_IRQ_STUB_SIZE,
			0);
	idt_built = true;
}

static void desc_load(struct desc_cpu *d, void *ist_stack_top)
{
	struct desc_ptr gdtr = { sizeof(d->gdt) - 1, (u64)(uintptr_t)d->gdt };
	struct desc_ptr idtr = { sizeof(idt) - 1, (u64)(uintptr_t)idt };
	u64 *gdt = d->gdt;

	gdt[GDT_NULL / 8] = 0;
	gdt[GDT_CODE64 / 8] = SEG_LIMIT_MAX | SEG_ACCESSED | SEG_RW | SEG_CODE | SEG_S | SEG_P |
			      SEG_L | SEG_G;
	gdt[GDT_DATA / 8] = SEG_LIMIT_MAX | SEG_ACCESSED | SEG_RW | SEG_S | SEG_P | SEG_DB | SEG_G;
	memset(&d->tss, 0, sizeof(d->tss));
	d->tss.ist[IST_FOR_FATAL - 1] = ALIGN_DOWN((u64)(uintptr_t)ist_stack_top, 16);
	d->tss.iomap_base = sizeof(d->tss); /* no I/O bitmap */
	gdt_set_tss(&gdt[GDT_TSS / 8], &d->tss);

	x86_load_gdt(&gdtr, GDT_CODE64, GDT_DATA);
	asm volatile("lidt %0" : : "m"(idtr));
	asm volatile("ltr %w0" : : "r"((u16)GDT_TSS));
}

void desc_init(void *ist_stack_top)
{
	if (!idt_built)
		idt_build();
	desc_load(&boot_cpu_desc, ist_stack_top);
}

int desc_init_ap(void *ist_stack_top)
{
	struct desc_cpu *d = host_alloc(sizeof(*d));

	if (!d)
		return -1;
	desc_load(d, ist_stack_top);
	return 0;
}
