/* SPDX-License-Identifier: MIT */
/* Interrupts Keel takes around guest entries (intr.c, host_timer.c, irq.asm). */
#pragma once

#include <keel/types.h>

/* arch/x86/irq.asm: the stubs of vectors 32-255, 16 bytes apart, calling
 * host_irq(vector). */
#define X86_IRQ_STUB_SIZE 16
extern const u8 x86_irq_stubs[];
void host_irq(u64 vector);
/* Count an interrupt taken (host_irq() in host_timer.c). */
void irq_count(u64 vector);
/* Acknowledge an interrupt the CPU consumed on a VM exit (VMX). */
void irq_acknowledged(u8 vector);
/* Per CPU: kick IPIs taken, and other interrupts taken (should stay 0;
 * the host timer is not one of them). */
u64 irq_kicks_taken(unsigned cpu);
u64 irq_others_taken(unsigned cpu);
