// SPDX-License-Identifier: MIT
/*
 * The interrupts Keel takes: only in the window around a guest entry, where
 * the host's RFLAGS.IF is set so that a kick IPI makes the CPU leave the
 * guest (svm_run.asm; VMX acknowledges on exit instead), and while a CPU
 * idles for a halted vCPU (host_timer_wait). Device interrupts
 * are masked at the local APIC and the 8259s (lapic.c). host_irq()
 * (host_timer.c) acknowledges every interrupt and counts it here: kicks, and
 * the others, which should not come (the host timer's own vector, which
 * preempts a guest and wakes an idle CPU, is counted by host_timer.c).
 */
#include <keel/host.h>
#include "arch/x86/host_timer.h"
#include "arch/x86/irq.h"
#include "arch/x86/lapic.h"
#include "arch/x86/pcpu.h"

static u64 kicks[KEEL_MAX_CPUS], others[KEEL_MAX_CPUS];

/* From host_irq() (host_timer.c), for every vector 32-255 taken or
 * acknowledged on a VM exit, the spurious one included. */
void irq_count(u64 vector)
{
	unsigned cpu = host_cpu_id();

	/* The host timer is expected (host_timer.h counts it): "others" are
	 * the interrupts nobody asked for. */
	if (vector == LAPIC_SPURIOUS_VECTOR || vector == HOST_TIMER_VECTOR || cpu >= KEEL_MAX_CPUS)
		return;
	__atomic_add_fetch(vector == LAPIC_KICK_VECTOR ? &kicks[cpu] : &others[cpu], 1,
			   __ATOMIC_RELAXED);
}

/* A kick that VMX acknowledged on exit (the vector is consumed, the EOI is
 * still owed). */
void irq_acknowledged(u8 vector)
{
	host_irq(vector);
}

u64 irq_kicks_taken(unsigned cpu)
{
	return cpu < KEEL_MAX_CPUS ? __atomic_load_n(&kicks[cpu], __ATOMIC_RELAXED) : 0;
}

u64 irq_others_taken(unsigned cpu)
{
	return cpu < KEEL_MAX_CPUS ? __atomic_load_n(&others[cpu], __ATOMIC_RELAXED) : 0;
}
