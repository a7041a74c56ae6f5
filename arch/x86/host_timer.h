/* SPDX-License-Identifier: MIT */
/*
 * The host's own local APIC timer: how Keel gets the CPU back from a guest
 * under SVM (a physical interrupt intercept), and how it sleeps while the
 * guest halts. Vector HOST_TIMER_VECTOR, one-shot; every host interrupt is
 * acknowledged by host_irq() (EOI), so none stays in service.
 */
#pragma once

#include <keel/types.h>
#include "arch/x86/irq.h" /* host_irq(), the stubs */

#define HOST_TIMER_VECTOR 0xf0
#define HOST_SPURIOUS_VECTOR 0xff

/* After lapic_cpu_init() (arch/x86/lapic.h): measure the timer's rate
 * against the TSC. False when the CPU has no local APIC (then there is no
 * preemption on SVM and idling spins). */
bool host_timer_init(void);
/* On each other CPU as it starts (smp.c): measure its own timer's rate, in
 * ticks/ms (0: no local APIC; it then uses the boot CPU's). */
u64 host_timer_cpu_init(void);
bool host_timer_ready(void);
/* Fire once, 'ns' from now (clamped to the timer's range); 0 disarms. */
void host_timer_arm_ns(u64 ns);
/* Sleep with interrupts on until any host interrupt (the timer included). */
void host_timer_wait(void);
/* Acknowledge an interrupt the CPU took or a VM exit acknowledged. */
void host_apic_eoi(void);
/* Host interrupts taken since start, for the log. */
u64 host_irq_count(void);
