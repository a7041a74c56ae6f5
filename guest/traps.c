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
volatile u64 guest_bp_count, guest_bp_rip;
volatile u64 guest_irq_count; /* interrupts at GUEST_IRQ_VECTOR */ /* every #BP: how many, last return RIP */

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

void guest_trap(struct trap_frame *f)
{
	if (f->vector == GUEST_IRQ_VECTOR) {
		guest_irq_count++;
		*(volatile u32 *)(uintptr_t)(GUEST_LAPIC_BASE + 0xb0) = 0; /* EOI */
		return;
	}
	if (f->vector == X86_VEC_BP) {
		guest_bp_count++;
		guest_bp_rip = f->rip;
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
