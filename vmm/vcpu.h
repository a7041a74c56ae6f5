/* SPDX-License-Identifier: MIT */
/*
 * A virtual CPU as generic code sees it: registers, the last exit decoded into
 * a vendor-neutral form, and counters. The vendor backend keeps its own
 * hardware state (VMCB or VMCS) behind 'hw'.
 */
#pragma once

#include <keel/types.h>

struct vm;
struct mmu_vcpu;

/* Guest registers. The vendor backend loads them before entry and stores them
 * after exit, so generic code only ever edits this struct. */
struct vcpu_regs {
	u64 rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi;
	u64 r8, r9, r10, r11, r12, r13, r14, r15;
	u64 rip, rflags;
	u64 cr0, cr2, cr3, cr4, efer;
};

enum exit_kind {
	EXIT_NONE,
	EXIT_CPUID,
	EXIT_RDMSR,
	EXIT_WRMSR,
	EXIT_IO,
	EXIT_HLT,
	EXIT_HYPERCALL,    /* VMMCALL / VMCALL */
	EXIT_TDP_FAULT,    /* nested page fault / EPT violation */
	EXIT_TDP_MISCONFIG,/* EPT misconfiguration (NPT: reserved-bit fault) */
	EXIT_SHUTDOWN,     /* triple fault */
	EXIT_EXTINT,       /* physical interrupt while in guest */
	EXIT_EXCEPTION,    /* intercepted guest exception */
	EXIT_ENTRY_FAILED, /* VMRUN / VMLAUNCH refused the state */
	EXIT_OTHER,        /* anything else: logged with full state, VM stops */
};

struct vm_exit {
	enum exit_kind kind;
	u64 raw_reason;   /* vendor exit code, for the log */
	u64 qual[2];      /* vendor exit information, for the log */
	u64 next_rip;     /* 0 when the hardware did not tell */
	u32 insn_len;     /* 0 when the hardware did not tell */
	union {
		struct { u16 port; u8 size; bool in, string, rep; } io;
		struct { gpa_t gpa; u32 access; bool present, on_walk; } tdp;
		struct { u8 vector; bool has_error; u32 error; } exc;
	};
};

struct vcpu_stats {
	u64 exits, tdp_faults, cpuid, msr, io, hlt, hypercalls;
};

/*
 * Initial state contract (both vendors): Keel starts every test guest directly
 * in 64-bit mode. v->regs gives rip, rsp, rflags, cr0, cr3, cr4, efer and the
 * GPRs; segments are a fixed flat model the backend builds itself:
 * CS = 0x08 (64-bit code, DPL 0), DS/ES/SS/FS/GS = 0x10 (flat data),
 * TR = 0x18 (busy 64-bit TSS, base 0, limit 0x67), LDTR unusable,
 * GDTR/IDTR base 0 limit 0xffff (the guest loads its own tables first thing).
 */
struct vcpu {
	struct vm *vm;
	unsigned id;
	struct vcpu_regs regs;
	struct vm_exit exit;
	struct mmu_vcpu *mmu;
	struct vcpu_stats stats;
	void *hw; /* vendor state: VMCB page(s) or VMCS region */
	unsigned cpu;  /* the host CPU it runs on (vmm/smp.c pins one per CPU) */
	bool leave;    /* it asked to stop (KEEL_HC_VCPU_EXIT): its run loop ends */
};
