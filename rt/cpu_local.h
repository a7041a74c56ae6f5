/* SPDX-License-Identifier: MIT */
/*
 * Which CPU is running, and how Keel stops every CPU (rt/host.c). Each CPU's
 * GS base points at its per-CPU block (arch/x86/pcpu.c's struct pcpu) whose
 * first 32-bit word is the CPU's index: host_cpu_id() is one load from
 * %gs:0 once rt_cpu_local_init() has run on that CPU, and 0 before (the
 * boot CPU, before any other CPU runs).
 */
#pragma once

#include <keel/types.h>

/* This CPU: GS base = block; *(u32 *)block is its index. */
void rt_cpu_local_init(void *block);
void rt_set_cpu_count(unsigned n);

/* A panic in progress: the first CPU to panic owns the console and stops
 * the others through the hook arch/x86 installs (an NMI to each). */
bool rt_panicking(void);
void rt_set_stop_others(void (*stop_others)(void));
/* Claim the panic: true for the first CPU (it reports and stops the
 * machine); a later one should just stop itself (rt_cpu_halt). */
bool rt_panic_claim(void);
/* Stop the other CPUs (each prints its state and halts), then end. */
__noreturn void rt_panic_finish(void);
__noreturn void rt_cpu_halt(void);
/* Any stop (platform_stop, panic): the other CPUs halt on their NMI. */
void rt_stop_others(void);
bool rt_stopping(void);
