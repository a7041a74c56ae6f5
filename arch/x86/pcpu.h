/* SPDX-License-Identifier: MIT */
/*
 * A physical CPU: its index, its APIC ID, the vendor backend's state
 * (vendor.h's cpu_enable / cpu_disable; SVM: host save area and VMSAVE
 * area; VMX: VMXON region) and the mailbox it parks on (arch/x86/smp.c).
 * Each CPU's GS base points at its struct pcpu, whose first field is its
 * index (rt/cpu_local.h): pcpu_this() is one load. Fields may be added,
 * never repurposed.
 */
#pragma once

#include <keel/types.h>

#define KEEL_MAX_CPUS 64

typedef void (*pcpu_fn)(void *arg);

struct pcpu {
	u32 id;        /* first: host_cpu_id() reads it at %gs:0 */
	u32 apic_id;
	bool enabled;  /* cpu_enable succeeded */
	void *vendor;  /* backend-owned per-CPU state */
	/* mailbox (smp.c), atomics */
	pcpu_fn fn;
	void *arg;
	u32 online;    /* 1: running Keel code, parked or working; 2 (smp.c): started
	                  but its cpu_enable failed, left out */
	u64 done;      /* work items finished */
};

/* The CPU this code runs on. */
struct pcpu *pcpu_this(void);
/* CPU by index (0 .. host_cpu_count()-1), NULL beyond. */
struct pcpu *pcpu_get(unsigned id);
/* Register a CPU's block (boot: the boot CPU, smp.c: every started CPU). */
struct pcpu *pcpu_slot(unsigned id);
