/* SPDX-License-Identifier: MIT */
/*
 * A virtual machine as vmm/ runs it: one guest-physical address space (one
 * struct mmu), its memslots, the devices Keel emulates for it (COM1, the
 * Keel test port, open bus), and its outcome. Generic: the vendor backend
 * is reached only through vm->ops.
 */
#pragma once

#include <keel/types.h>
#include "arch/x86/vendor.h"
#include "mmu/mmu.h"
#include "vmm/loader/loader.h"
#include "vmm/nested/nested.h"
#include "vmm/vcpu.h"

struct mmu;
struct plat;

#define VM_NAME_MAX 32
#define VM_MAX_RAM_REGIONS MMU_MAX_SLOTS
#define VM_STOP_REASON_MAX 128
#define VM_SERIAL_LINE_MAX 160
#define VM_MAX_VCPUS 8

/* A piece of guest RAM and the host memory behind it (one memslot). */
struct vm_ram_region {
	gpa_t gpa;
	hpa_t hpa;
	u64 size;
};

/* What Keel is asked to run. */
struct vm_setup {
	const char *name;       /* for the log and the summary line */
	const char *image_path; /* as keel.cfg names it (Multiboot cmdline), or NULL */
	const void *image;      /* loaded by the loader for its format */
	size_t image_size;
	enum loader_kind loader; /* LOADER_AUTO: from the image's format */
	const char *cmdline;    /* keel.cfg cmdline, or NULL */
	struct loader_file initrd;
	struct loader_file modules[LOADER_MAX_MODULES];
	unsigned nr_modules;
	/* Guest RAM: mem_size bytes, [0, PLAT_PCI_HOLE_BASE) and the rest from
	 * PLAT_HIGH_RAM_BASE (vmm/dev/layout.h). */
	u64 mem_size;
	/* Its backing, in guest-physical order, together covering it. */
	struct vm_ram_region ram[VM_MAX_RAM_REGIONS];
	unsigned nr_ram;
	const char *fail_test;  /* self-test to fail on purpose, or "" */
	unsigned max_vcpus;     /* keel.cfg cpus; 0: one per host CPU */
	u64 timeout_s;          /* stop the VM after this long (keel.cfg timeout), 0 = never */
	bool console_raw;       /* COM1 bytes to the console as they are (real OSes), not
				 * as "guest: " lines (the self-test) */
	bool pass_on_poweroff;  /* an ACPI poweroff is the guest's passing verdict */
};

enum vm_state {
	VM_RUNNING,
	VM_DONE,    /* the guest reported its verdict */
	VM_STOPPED, /* Keel stopped the VM (unhandled exit, bad state) */
};

/* The last TDP fault, to notice one that repeats without progress. */
struct vm_fault_repeat {
	u64 gpa, rip, count;
};

struct vm {
	char name[VM_NAME_MAX];
	const struct vendor_ops *ops;
	struct mmu *mmu;
	u64 mem_size; /* RAM: guest-physical [0, mem_size), in memslots */
	enum vm_state state;
	/* Verdict from the guest's final hypercall. */
	bool guest_pass;
	u64 guest_failures, guest_tests;
	char stop_reason[VM_STOP_REASON_MAX];
	/* Devices. */
	struct plat *plat; /* the virtual platform (vmm/dev/platform.h), or NULL */
	char serial_line[VM_SERIAL_LINE_MAX];
	size_t serial_len;
	u32 test_port_value;
	u64 open_bus_reads, open_bus_writes;
	struct vm_fault_repeat tdp_repeat;
	u64 timeout_s, timeout_at; /* keel.cfg timeout; host_time_ns() deadline, 0 = none */
	bool console_raw, pass_on_poweroff;
	bool has_exit_code;        /* the guest wrote to the debug-exit port */
	u32 exit_code;             /* ... this value */
	unsigned evict_streak; /* evictions since the last fault that mapped */
	/* SMP (vmm/smp.c): vCPU 0 is the boot vCPU, run by the boot CPU; vCPU i
	 * runs on host CPU i once the guest starts it. */
	unsigned max_vcpus;
	struct vcpu *vcpus[VM_MAX_VCPUS];
	u32 vcpu_finished[VM_MAX_VCPUS];  /* atomic: its run loop ended */
	struct vm_ram_region ram[VM_MAX_RAM_REGIONS]; /* one memslot each */
	unsigned nr_ram;
	u64 *dirty[VM_MAX_RAM_REGIONS];   /* last harvest, per slot */
	struct nmmu *nmmu; /* nested MMU for L1's L2 guests (vmm/nested/), or NULL */
};

struct vm_result {
	bool pass;
	u64 exits, npf, failures, tests;
	u64 open_bus;
	unsigned vcpus;       /* vCPUs that ran */
	struct mmu_stats mmu; /* taken just before the VM is torn down */
	struct mmu_flush_stats flush;
	struct vcpu_stats vcpu; /* exits by reason (boot/summary.c prints them) */
	struct vcpu_stats per_vcpu[VM_MAX_VCPUS]; /* the same for each vCPU that ran */
	bool vcpu_ran[VM_MAX_VCPUS];
	char platform[192];     /* plat_format_counters' line, "" without a platform */
	char stop_reason[VM_STOP_REASON_MAX];
	bool has_exit_code;     /* the guest ended the VM through the debug-exit port */
	u32 exit_code;          /* with this value: the run's status is (v << 1) | 1 */
	struct vm_nested_result nested; /* nested SVM figures (vmm/nested/) */
};

/* Create the VM and its vCPU, run the guest to its end, tear it down.
 * 0 when the VM ran (pass or fail is in *res), negative when it could not
 * be set up. Keel survives every guest behaviour. */
int vm_run_guest(const struct vendor_ops *ops, const struct vm_setup *s, struct vm_result *res);

/* Stop the VM with a reason (logged once). */
__printf(2, 3) void vm_stop(struct vm *vm, const char *fmt, ...);
