// SPDX-License-Identifier: MIT
/*
 * Events between the platform's interrupt controllers and the vCPU: which
 * interrupt or NMI to inject before an entry, when to ask the backend for
 * an interrupt- or NMI-window exit instead, what wakes a halted vCPU, and
 * the TPR (CR8) kept in step with the local APIC. The backend only delivers
 * (vendor.h); the decisions are here, the same for SVM and VMX.
 *
 * An interrupt is injected only when the guest can take it: RFLAGS.IF = 1,
 * no STI / MOV SS shadow, no event already queued (an exception Keel injects
 * or an interrupted delivery being re-injected comes first). Otherwise the
 * backend is asked for an exit as soon as the window opens. The vector
 * moves from the LAPIC's IRR to its ISR when it is injected
 * (lapic_accept_vector); a delivery the exit interrupts is re-injected by
 * the backend from EXITINTINFO / IDT-vectoring information, never accepted
 * twice.
 */
#include <keel/host.h>
#include "arch/x86/cpu.h"
#include "rt/serial.h"
#include "vmm/dev/platform.h"
#include "vmm/nested/nested.h"
#include "vmm/vmm.h"

/* An interrupt is pending for this vCPU: the 8259 through LINT0 (ExtINT,
 * not subject to the PPR) or a LAPIC vector above the PPR. */
static bool irq_pending(struct vcpu *v)
{
	struct plat *p = v->vm->plat;

	if (!p || !v->lapic)
		return false; /* a vCPU without a LAPIC (vmm_vcpu_setup) */
	return plat_extint_pending(p, v->id) || lapic_pending_vector(v->lapic) >= 0;
}

/* The interrupt acknowledge cycle: the vector, now in service, or -1. */
static int take_irq(struct vcpu *v)
{
	struct plat *p = v->vm->plat;
	int vec;

	if (plat_extint_pending(p, v->id))
		return plat_extint_accept(p, v->id);
	vec = lapic_pending_vector(v->lapic);
	if (vec >= 0)
		lapic_accept_vector(v->lapic, vec);
	return vec;
}

static void take_nmi(struct vcpu *v)
{
	if (v->lapic && lapic_take_nmi(v->lapic))
		v->nmi_pending = true;
}

static bool shadowed(const struct vcpu *v)
{
	return v->regs.sti_shadow || v->regs.movss_shadow;
}

static bool can_take_irq(const struct vcpu *v)
{
	return (v->regs.rflags & X86_RFLAGS_IF) && !shadowed(v);
}

/* SVM: NMI blocking ends when the intercepted IRET has run, i.e. once the
 * guest is past it. */
static bool nmi_blocked(struct vcpu *v)
{
	if (v->iret_rip && v->regs.rip != v->iret_rip) {
		v->iret_rip = 0;
		v->regs.nmi_blocked = false;
	}
	return v->regs.nmi_blocked || v->iret_rip;
}

void vmm_events_before_entry(struct vcpu *v)
{
	const struct vendor_ops *ops = v->vm->ops;
	bool want_irq, want_nmi;
	int vec;

	take_nmi(v);
	if (v->lapic)
		v->regs.cr8 = v->cr8_seen = lapic_get_cr8(v->lapic);
	if (vmm_nested_events(v, irq_pending(v), v->nmi_pending))
		return; /* L2 runs, or L1's GIF is clear (vmm/nested/) */
	if (!ops->event_queued(v)) {
		if (v->nmi_pending && !nmi_blocked(v) && !shadowed(v)) {
			ops->inject_nmi(v);
			v->nmi_pending = false;
			v->stats.nmis++;
		} else if (can_take_irq(v) && irq_pending(v) && (vec = take_irq(v)) >= 0) {
			ops->inject_irq(v, (u8)vec);
			v->stats.irqs++;
		}
	}
	/* One event per entry: whatever else is pending waits for a window
	 * (or for the exit the queued event's delivery leads to). */
	want_nmi = v->nmi_pending;
	want_irq = irq_pending(v);
	ops->set_windows(v, want_irq, want_nmi);
}

void vmm_events_after_exit(struct vcpu *v)
{
	if (v->exit.kind == EXIT_IRQ_WINDOW || v->exit.kind == EXIT_NMI_WINDOW)
		v->stats.windows++;
	/* MOV CR8 changed the TPR (SVM V_TPR, VMX CR8 exits). */
	if (v->lapic && v->regs.cr8 != v->cr8_seen) {
		lapic_set_cr8(v->lapic, v->regs.cr8);
		v->cr8_seen = v->regs.cr8;
	}
}

bool vmm_events_wake(struct vcpu *v)
{
	take_nmi(v);
	if (v->nmi_pending)
		return true;
	/* HLT ends on an interrupt the guest would take (IF = 1); the HLT
	 * itself retired, so no shadow is left. */
	return (v->regs.rflags & X86_RFLAGS_IF) && irq_pending(v);
}

bool vmm_events_can_wake(const struct vcpu *v)
{
	/* An AP (vCPU > 0) halted with interrupts off can still be woken by
	 * an NMI or INIT from another vCPU (Linux parks APs so at poweroff). */
	return (v->regs.rflags & X86_RFLAGS_IF) || v->nmi_pending || v->id != 0;
}

/* Bytes typed on the host's serial line go to the guest's COM1 while its
 * receive FIFO has room (at most a FIFO's worth per call); the rest waits
 * in the host UART, so a paste is not cut off at the guest's 16 bytes. */
#define SERIAL_POLL_MAX 16

static void serial_feed(struct vm *vm)
{
	int c;

	for (unsigned i = 0; i < SERIAL_POLL_MAX && plat_serial_room(vm->plat); i++) {
		c = serial_try_getc();
		if (c < 0)
			return;
		plat_serial_input(vm->plat, (u8)c);
	}
}

void vmm_time_advance(struct vcpu *v)
{
	struct vm *vm = v->vm;

	if (!vm->plat)
		return;
	if (v->id == 0)
		serial_feed(vm);
	plat_advance_vcpu(vm->plat, v->id);
}

u64 vmm_next_event_ns(const struct vcpu *v)
{
	return v->vm->plat ? plat_next_event_vcpu_ns(v->vm->plat, v->id) : U64_MAX;
}
