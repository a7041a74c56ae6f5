/* SPDX-License-Identifier: MIT */
/*
 * A virtual CPU as generic code sees it: registers, the last exit decoded into
 * a vendor-neutral form, and counters. The vendor backend keeps its own
 * hardware state (VMCB or VMCS) behind 'hw'.
 */
#pragma once

#include <keel/types.h>
#include "vmm/msr_policy.h"

struct vm;
struct mmu_vcpu;
struct lapic;
struct nsvm_vcpu;

/* A segment register as the CPU caches it. 'attr' is the descriptor's
 * attribute bits packed the SVM way (VMCB): bits 0-3 type, 4 S, 5-6 DPL,
 * 7 P, 8 AVL, 9 L, 10 D/B, 11 G (VCPU_SEG_* in vmm/vcpu_state.h). A segment
 * with P = 0 is "unusable" to VMX. */
struct vcpu_seg {
	u16 sel;
	u16 attr;
	u32 limit;
	u64 base;
};

struct vcpu_dtable {
	u64 base;
	u32 limit;
};

/* The guest's architectural register state. The vendor backend loads it
 * before entry and stores it after exit, so generic code only ever edits
 * this struct. The GPRs up to cr2 keep their offsets (the entry assembly
 * of both backends uses them). */
struct vcpu_regs {
	u64 rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi;
	u64 r8, r9, r10, r11, r12, r13, r14, r15;
	u64 rip, rflags;
	u64 cr0, cr2, cr3, cr4, efer;
	u64 cr8;  /* TPR as the guest sees it (bits 0-3) */
	struct vcpu_seg es, cs, ss, ds, fs, gs, ldtr, tr;
	struct vcpu_dtable gdtr, idtr;
	u64 dr6, dr7;
	u64 pat;
	u64 sysenter_cs, sysenter_esp, sysenter_eip;
	u64 star, lstar, cstar, sfmask, kernel_gs_base;
	u64 xcr0;
	/* Interruptibility: the instruction just executed was STI or MOV SS /
	 * POP SS (no interrupt before the next one retires), NMIs are blocked
	 * (an NMI handler runs until its IRET). */
	bool sti_shadow, movss_shadow, nmi_blocked;
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
	EXIT_PREEMPT,      /* Keel's time slice ended (VMX preemption timer) */
	EXIT_IRQ_WINDOW,   /* the guest can take an interrupt now */
	EXIT_NMI_WINDOW,   /* the guest can take an NMI now */
	EXIT_IRET,         /* SVM: IRET intercepted (ends NMI blocking) */
	EXIT_XSETBV,
	EXIT_VIRT_INSN,    /* a virtualization instruction the guest is not offered: #UD */
	EXIT_ENTRY_FAILED, /* VMRUN / VMLAUNCH refused the state */
	EXIT_OTHER,        /* anything else: logged with full state, VM stops */
};

struct vm_exit {
	enum exit_kind kind;
	u64 raw_reason;   /* vendor exit code, for the log */
	u64 qual[2];      /* vendor exit information, for the log */
	u64 next_rip;     /* 0 when the hardware did not tell */
	u32 insn_len;     /* 0 when the hardware did not tell */
	bool vectoring;   /* the exit interrupted the delivery of an event */
	bool vectoring_exc;  /* ... of a hardware exception */
	u8 vectoring_vector; /* ... with this vector */
	union {
		struct { u16 port; u8 size; bool in, string, rep; } io;
		struct { gpa_t gpa; u32 access; bool present, on_walk; } tdp;
		struct { u8 vector; bool has_error; u32 error; } exc;
	};
};

struct vcpu_stats {
	u64 exits, tdp_faults, cpuid, msr, io, hlt, hypercalls;
	u64 preempts, irqs, nmis, windows, exceptions, mmio, idles;
};

/*
 * Initial state: whatever v->regs holds when vcpu_init() runs, in any mode
 * (64-bit, 32-bit protected with paging off, real mode): the backend loads
 * every field, segments included. vmm/vcpu_state.h builds the usual ones.
 */
struct vcpu {
	struct vm *vm;
	unsigned id;
	struct vcpu_regs regs;
	struct msr_state msr; /* Keel-held MSRs (vmm/msr_policy.h) */
	struct vm_exit exit;
	struct mmu_vcpu *mmu;
	struct vcpu_stats stats;
	/* Events (vmm/event.c). */
	struct lapic *lapic;  /* this vCPU's local APIC (vmm/dev/) */
	bool halted;          /* in HLT: not entered until an event wakes it */
	bool nmi_pending;     /* taken from the LAPIC, not yet injected */
	u64 iret_rip;         /* SVM: RIP of the IRET that ends NMI blocking, or 0 */
	u64 cr8_seen;         /* CR8 as the LAPIC last saw it */
	bool fpu_ready;       /* guest FPU state put in its reset state */
	u64 xcr0_loaded;      /* XCR0 in the CPU */
	void *hw; /* vendor state: VMCB page(s) or VMCS region */
	struct nsvm_vcpu *nested; /* nested SVM state (vmm/nested/), NULL until used */
	unsigned cpu;  /* the host CPU it runs on (vmm/smp.c pins one per CPU) */
	bool leave;    /* it asked to stop (KEEL_HC_VCPU_EXIT): its run loop ends */
	/* Start-up (vmm/smp.c). vCPU 0 starts at the guest's entry; the others
	 * wait for a SIPI (or KEEL_HC_VCPU_START) on their CPU, not entered. */
	bool started;  /* atomic: it was started (vCPU 0 reads it for KEEL_HC_VCPU_START) */
	bool init;     /* an INIT arrived while it ran: its run loop ends, it waits again */
	u32 start_req; /* atomic: KEEL_HC_VCPU_START asked it to start at start_regs */
	struct vcpu_regs start_regs; /* written before start_req is set */
};
