/* SPDX-License-Identifier: MIT */
/*
 * Starting the other CPUs and giving them work (smp.c). After
 * ExitBootServices the boot CPU sends each CPU the firmware reported
 * INIT-SIPI-SIPI; each gets its own GDT/TSS (desc.c), stacks, struct pcpu
 * and GS base, enables SVM/VMX (ops->cpu_enable), and parks on its mailbox.
 * A CPU that does not come up within a bound, or whose SVM/VMX enable
 * fails, is reported and left out (held in INIT).
 */
#pragma once

#include <keel/types.h>
#include "arch/x86/pcpu.h"

struct vendor_ops;

struct smp_boot {
	u32 apic_ids[KEEL_MAX_CPUS]; /* CPUs the firmware reported, enabled ones */
	unsigned ncpus;
	u64 tramp_page;              /* a page below 1 MiB, 0 if none */
	unsigned dead;               /* test: apic_ids[dead] gets no SIPI (0: none) */
	unsigned no_enable;          /* test: apic_ids[no_enable] fails cpu_enable (0: none) */
};

/* The boot CPU, after desc_init and paging_init: its struct pcpu and GS base. */
void smp_init_boot_cpu(void);
/* Start every other CPU in b. Returns the number of CPUs running Keel
 * (the boot CPU included); host_cpu_count() says the same afterwards. */
unsigned smp_start_cpus(const struct vendor_ops *ops, const struct smp_boot *b);

/* Run fn(arg) on CPU 'cpu' (not the caller's). -EBUSY while it still runs
 * an earlier item (e.g. a vCPU), -EINVAL for a CPU that is not running. */
int pcpu_run_on(unsigned cpu, pcpu_fn fn, void *arg);
/* Wait until CPU 'cpu' has finished everything given to it. */
void pcpu_wait(unsigned cpu);
/* Make CPU 'cpu' leave guest mode (a kick IPI; a VM exit if it runs one). */
void pcpu_kick(unsigned cpu);
