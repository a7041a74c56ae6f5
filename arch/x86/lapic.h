/* SPDX-License-Identifier: MIT */
/*
 * The host's local APIC, only as far as Keel needs it: its ID, and sending
 * INIT/SIPI (starting CPUs), NMI (stopping them on a panic) and a fixed
 * vector (a kick that makes a CPU leave guest mode). xAPIC (MMIO at
 * IA32_APIC_BASE) or x2APIC (MSRs), whichever the firmware left enabled.
 * Keel takes interrupts only around a guest entry (arch/x86/intr.c): the
 * kick, which matters while a CPU runs a guest (it causes a VM exit), and
 * the host timer (arch/x86/host_timer.c), which lapic_cpu_init() leaves
 * masked until it is armed.
 */
#pragma once

#include <keel/types.h>

#define LAPIC_KICK_VECTOR 0xf2

/* On each CPU, before any other call: masks every local interrupt source
 * (timer, LINT0/1, error, ...); only IPIs and NMIs remain. */
void lapic_cpu_init(void);
void lapic_mask_pic(void);    /* once: the 8259s (boot CPU) */
#define LAPIC_SPURIOUS_VECTOR 0xff
bool lapic_is_x2apic(void);
u32 lapic_id(void);
void lapic_send_init(u32 apic_id);
void lapic_send_sipi(u32 apic_id, u8 vector_page);
void lapic_send_nmi(u32 apic_id);
void lapic_send_fixed(u32 apic_id, u8 vector);
void lapic_eoi(void);
/* A register by its xAPIC offset (0x20 ID, 0x320 LVT timer, ...), in
 * whichever mode the APIC is: arch/x86/host_timer.c programs the timer. */
u32 lapic_read(u32 reg);
void lapic_write(u32 reg, u32 v);
