/* SPDX-License-Identifier: MIT */
/* Interrupts Keel takes around guest entries (irq.c). */
#pragma once

#include <keel/types.h>

/* Acknowledge an interrupt the CPU consumed on a VM exit (VMX). */
void irq_acknowledged(u8 vector);
/* Per CPU: kick IPIs taken, and other interrupts taken (should stay 0). */
u64 irq_kicks_taken(unsigned cpu);
u64 irq_others_taken(unsigned cpu);
