// SPDX-License-Identifier: MIT
/*
 * The guest's IDT. An expected #GP (guest_expect_gp) is recorded and the
 * faulting 2-byte instruction skipped; #BP is counted (guest_bp_count) and
 * returns; any other exception is a failure:
 * it is reported and the guest ends with a failing verdict rather than
 * triple-faulting.
 */
#include "guest/guest.h"

#define X86_VEC_BP 3
#define X86_VEC_GP 13
#define STUB_SIZE 16

struct trap_frame {
	u64 vector, error, rip, cs, rflags, rsp, ss;
};

struct idt_gate {
	u16 lo, sel;
	u8 ist, type;
	u16 mid;
	u32 hi, zero;
} __packed;

struct idt_ptr {
	u16 limit;
	u64 base;
} __packed;

extern const u8 guest_trap_stubs[];
void guest_trap(struct trap_frame *f);

static struct idt_gate idt[GUEST_IRQ_VECTOR + 1] __aligned(16);
static volatile bool gp_expected, gp_seen;
static volatile u64 trap_expected = ~0ull, trap_skip; /* guest_expect_trap */
static volatile bool trap_seen;
volatile u64 guest_bp_count, guest_bp_rip;
volatile u64 guest_irq_count; /* interrupts at GUEST_IRQ_VECTOR */
volatile u64 guest_nmi_count;
volatile u64 guest_db_count, guest_db_rip;
void (*volatile guest_nmi_hook)(void); /* every #BP: how many, last return RIP */

void guest_traps_init(void)
{
	struct idt_ptr p = { sizeof(idt) - 1, (u64)(uintptr_t)idt };

	for (unsigned v = 0; v < ARRAY_SIZE(idt); v++) {
		u64 h = (u64)(uintptr_t)guest_trap_stubs + v * STUB_SIZE;

		idt[v] = (struct idt_gate){ (u16)h, 0x08, 0, 0x8e, (u16)(h >> 16),
					    (u32)(h >> 32), 0 };
	}
	asm volatile("lidt %0" : : "m"(p));
}

/* Another vCPU: the same IDT. */
void guest_traps_load(void)
{
	struct idt_ptr p = { sizeof(idt) - 1, (u64)(uintptr_t)idt };

	asm volatile("lidt %0" : : "m"(p));
}

/* ---- ring 3 ----------------------------------------------------------- */
struct tss64 {
	u32 reserved0;
	u64 rsp0, rsp1, rsp2, reserved1, ist[7], reserved2;
	u16 reserved3, iomap;
} __packed;

extern u64 guest_gdt_tss[2];
void guest_enter_ring3(u64 rip, u64 rsp);
extern const u8 guest_ring3_return[];

static struct tss64 tss __aligned(16);
static u8 kstack[4096] __aligned(16), ustack[4096] __aligned(16);
static volatile bool in_ring3;
static volatile u64 ring3_vector;

/* The image, its stacks and the low page tables become user-accessible
 * (U/S in the PML4, PDPT and PD entries Keel built for the first 2 MiB),
 * and a TSS gives the CPU a ring-0 stack to trap to. */
static void ring3_setup(void)
{
	u64 base = (u64)(uintptr_t)&tss, limit = sizeof(tss) - 1, cr3;

	tss.rsp0 = (u64)(uintptr_t)(kstack + sizeof(kstack));
	tss.iomap = sizeof(tss);
	guest_gdt_tss[0] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
			   (((base >> 24) & 0xff) << 56);
	guest_gdt_tss[1] = base >> 32;
	asm volatile("ltr %w0" : : "r"(0x28));
	*(volatile u64 *)(uintptr_t)KEEL_GUEST_PML4_GPA |= 4;
	*(volatile u64 *)(uintptr_t)KEEL_GUEST_PDPT_GPA |= 4;
	*(volatile u64 *)(uintptr_t)KEEL_GUEST_PD_GPA |= 4;
	asm volatile("mov %%cr3, %0; mov %0, %%cr3" : "=r"(cr3) : : "memory");
}

/* Run fn at CPL 3 until it raises an exception; returns the vector. */
u64 guest_run_ring3(void (*fn)(void))
{
	static bool ready;

	if (!ready) {
		ring3_setup();
		ready = true;
	}
	ring3_vector = ~0ull;
	in_ring3 = true;
	guest_enter_ring3((u64)(uintptr_t)fn, (u64)(uintptr_t)(ustack + sizeof(ustack) - 8));
	return ring3_vector;
}

void guest_trap(struct trap_frame *f)
{
	if (in_ring3 && (f->cs & 3) == 3) {
		in_ring3 = false;
		ring3_vector = f->vector;
		f->rip = (u64)(uintptr_t)guest_ring3_return;
		f->cs = 0x08;
		f->ss = 0x10;
		f->rsp = (u64)(uintptr_t)(kstack + sizeof(kstack) - 64);
		f->rflags = 2;
		return;
	}
	if (f->vector == GUEST_IRQ_VECTOR) {
		guest_irq_count++;
		*(volatile u32 *)(uintptr_t)(GUEST_LAPIC_BASE + 0xb0) = 0; /* EOI */
		return;
	}
	if (f->vector == 1) { /* #DB: counted; single-stepping stops here */
		guest_db_count++;
		guest_db_rip = f->rip;
		f->rflags &= ~0x100ull;
		return;
	}
	if (f->vector == 2) { /* NMI: counted; the nmi self-test's hook runs */
		guest_nmi_count++;
		if (guest_nmi_hook)
			guest_nmi_hook();
		return;
	}
	if (f->vector == X86_VEC_BP) {
		guest_bp_count++;
		guest_bp_rip = f->rip;
		return;
	}
	if (f->vector == trap_expected) {
		trap_seen = true;
		trap_expected = ~0ull;
		f->rip += trap_skip;
		return;
	}
	if (f->vector == X86_VEC_GP && gp_expected) {
		gp_seen = true;
		gp_expected = false;
		f->rip += 2;
		return;
	}
	guest_printf("FAIL unexpected exception %llu error 0x%llx at rip 0x%llx\n",
		     (unsigned long long)f->vector, (unsigned long long)f->error,
		     (unsigned long long)f->rip);
	guest_done(1, 1);
}

bool guest_expect_gp(void (*fn)(void))
{
	gp_seen = false;
	gp_expected = true;
	fn();
	gp_expected = false;
	return gp_seen;
}

bool guest_expect_trap(u64 vector, unsigned insn_len, void (*fn)(void))
{
	trap_seen = false;
	trap_skip = insn_len;
	trap_expected = vector;
	fn();
	trap_expected = ~0ull;
	return trap_seen;
}
