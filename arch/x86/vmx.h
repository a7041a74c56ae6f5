/* SPDX-License-Identifier: MIT */
/*
 * Intel VMX backend, private to arch/x86/vmx*.c. The numbers here come from
 * the Intel SDM volume 3 (appendix A for the capability MSRs, appendix B for
 * the VMCS field encodings, appendix C for exit reasons). Section and table
 * numbers in the vmx* comments follow recent (2022 and later) editions:
 * chapter 25 VMCS, 27 VM entries, 28 VM exits, 29 EPT, 31 VMX instructions.
 * Generic code never sees any of this: it talks to vmx_ops (vendor.h).
 */
#pragma once

/* Offsets into struct vcpu_regs, shared with vmx_entry.S (checked below). */
#define VMX_REGS_RAX 0
#define VMX_REGS_RCX 8
#define VMX_REGS_RDX 16
#define VMX_REGS_RBX 24
#define VMX_REGS_RBP 40
#define VMX_REGS_RSI 48
#define VMX_REGS_RDI 56
#define VMX_REGS_R8 64
#define VMX_REGS_R9 72
#define VMX_REGS_R10 80
#define VMX_REGS_R11 88
#define VMX_REGS_R12 96
#define VMX_REGS_R13 104
#define VMX_REGS_R14 112
#define VMX_REGS_R15 120
#define VMX_REGS_CR2 152

/* vmx_enter() results. */
#define VMX_ENTER_EXITED 0       /* the guest ran and exited */
#define VMX_ENTER_FAIL_INVALID 1 /* VMfailInvalid: no current VMCS */
#define VMX_ENTER_FAIL_VALID 2   /* VMfailValid: see VM_INSTRUCTION_ERROR */

#define VMCS_HOST_RSP 0x6c14

#ifndef __ASSEMBLER__

#include <keel/types.h>
#include "arch/x86/cpu.h"
#include "vmm/vcpu.h"

_Static_assert(offsetof(struct vcpu_regs, rax) == VMX_REGS_RAX, "regs layout");
_Static_assert(offsetof(struct vcpu_regs, rbp) == VMX_REGS_RBP, "regs layout");
_Static_assert(offsetof(struct vcpu_regs, rdi) == VMX_REGS_RDI, "regs layout");
_Static_assert(offsetof(struct vcpu_regs, r8) == VMX_REGS_R8, "regs layout");
_Static_assert(offsetof(struct vcpu_regs, r15) == VMX_REGS_R15, "regs layout");
_Static_assert(offsetof(struct vcpu_regs, cr2) == VMX_REGS_CR2, "regs layout");

/* ---- MSRs -------------------------------------------------------------- */
#define MSR_IA32_FEATURE_CONTROL 0x03a
#define FEATURE_CONTROL_LOCKED BIT(0)
#define FEATURE_CONTROL_VMXON_OUTSIDE_SMX BIT(2)
#define MSR_IA32_SYSENTER_CS 0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_IA32_VMX_BASIC 0x480
#define MSR_IA32_VMX_PINBASED_CTLS 0x481
#define MSR_IA32_VMX_PROCBASED_CTLS 0x482
#define MSR_IA32_VMX_EXIT_CTLS 0x483
#define MSR_IA32_VMX_MISC 0x485
#define VMX_MISC_PREEMPT_RATE GENMASK(4, 0)
#define MSR_IA32_VMX_ENTRY_CTLS 0x484
#define MSR_IA32_VMX_CR0_FIXED0 0x486
#define MSR_IA32_VMX_CR0_FIXED1 0x487
#define MSR_IA32_VMX_CR4_FIXED0 0x488
#define MSR_IA32_VMX_CR4_FIXED1 0x489
#define MSR_IA32_VMX_PROCBASED_CTLS2 0x48b
#define MSR_IA32_VMX_EPT_VPID_CAP 0x48c
#define MSR_IA32_VMX_TRUE_PINBASED_CTLS 0x48d
#define MSR_IA32_VMX_TRUE_PROCBASED_CTLS 0x48e
#define MSR_IA32_VMX_TRUE_EXIT_CTLS 0x48f
#define MSR_IA32_VMX_TRUE_ENTRY_CTLS 0x490
#define MSR_IA32_FS_BASE 0xc0000100
#define MSR_IA32_GS_BASE 0xc0000101

/* IA32_VMX_BASIC */
#define VMX_BASIC_REVISION GENMASK(30, 0)
#define VMX_BASIC_REGION_SIZE GENMASK(44, 32)
#define VMX_BASIC_MEMTYPE GENMASK(53, 50)
#define VMX_BASIC_TRUE_CTLS BIT(55)
#define VMX_MEMTYPE_WB 6

/* IA32_VMX_EPT_VPID_CAP */
#define EPT_CAP_EXEC_ONLY BIT(0)
#define EPT_CAP_WALK_4 BIT(6)
#define EPT_CAP_WB BIT(14)
#define EPT_CAP_2M BIT(16)
#define EPT_CAP_1G BIT(17)
#define EPT_CAP_INVEPT BIT(20)
#define EPT_CAP_AD BIT(21)
#define EPT_CAP_INVEPT_SINGLE BIT(25)
#define EPT_CAP_INVEPT_ALL BIT(26)
#define VPID_CAP_INVVPID BIT(32)
#define VPID_CAP_INVVPID_SINGLE BIT(41)
#define VPID_CAP_INVVPID_ALL BIT(42)

/* ---- CR bits (the rest are in cpu.h) ------------------------------------ */
#define X86_CR4_VMXE BIT(13)

/* ---- VMX controls (SDM 25.6, 25.7, 25.8) ------------------------------- */
#define PIN_EXT_INTR_EXITING BIT(0)
#define PIN_NMI_EXITING BIT(3)
#define PIN_VIRTUAL_NMIS BIT(5)
#define PIN_PREEMPT_TIMER BIT(6)

#define PROC_IRQ_WINDOW_EXITING BIT(2)
#define PROC_HLT_EXITING BIT(7)
#define PROC_CR8_LOAD_EXITING BIT(19)
#define PROC_CR8_STORE_EXITING BIT(20)
#define PROC_NMI_WINDOW_EXITING BIT(22)
#define PROC_INVLPG_EXITING BIT(9)
#define PROC_CR3_LOAD_EXITING BIT(15)
#define PROC_CR3_STORE_EXITING BIT(16)
#define PROC_UNCOND_IO_EXITING BIT(24)
#define PROC_USE_IO_BITMAPS BIT(25)
#define PROC_USE_MSR_BITMAPS BIT(28)
#define PROC_SECONDARY_CTLS BIT(31)

#define PROC2_ENABLE_EPT BIT(1)
#define PROC2_ENABLE_VPID BIT(5)
#define PROC2_UNRESTRICTED_GUEST BIT(7)

#define EXIT_CTL_HOST_ADDR_SPACE_SIZE BIT(9)
#define EXIT_CTL_ACK_INTR_ON_EXIT BIT(15)
#define EXIT_CTL_SAVE_EFER BIT(20)
#define EXIT_CTL_LOAD_EFER BIT(21)

#define ENTRY_CTL_IA32E_GUEST BIT(9)
#define ENTRY_CTL_LOAD_EFER BIT(15)

/* EPT pointer (SDM 25.6.11). */
#define EPTP_MEMTYPE_WB 6ull
#define EPTP_WALK_LENGTH_4 (3ull << 3)
#define EPTP_AD_ENABLE BIT(6)
_Static_assert((EPTP_MEMTYPE_WB | EPTP_WALK_LENGTH_4 | EPTP_AD_ENABLE) < PAGE_SIZE,
	      "EPTP flags live below the 4 KiB-aligned root");

/* ---- VMCS field encodings (SDM appendix B) ----------------------------- */
enum vmcs_field {
	/* 16-bit */
	VMCS_VPID = 0x0000,
	VMCS_GUEST_ES_SEL = 0x0800,
	VMCS_GUEST_CS_SEL = 0x0802,
	VMCS_GUEST_SS_SEL = 0x0804,
	VMCS_GUEST_DS_SEL = 0x0806,
	VMCS_GUEST_FS_SEL = 0x0808,
	VMCS_GUEST_GS_SEL = 0x080a,
	VMCS_GUEST_LDTR_SEL = 0x080c,
	VMCS_GUEST_TR_SEL = 0x080e,
	VMCS_HOST_ES_SEL = 0x0c00,
	VMCS_HOST_CS_SEL = 0x0c02,
	VMCS_HOST_SS_SEL = 0x0c04,
	VMCS_HOST_DS_SEL = 0x0c06,
	VMCS_HOST_FS_SEL = 0x0c08,
	VMCS_HOST_GS_SEL = 0x0c0a,
	VMCS_HOST_TR_SEL = 0x0c0c,
	/* 64-bit */
	VMCS_EPT_POINTER = 0x201a,
	VMCS_GUEST_PHYS_ADDR = 0x2400,
	VMCS_LINK_POINTER = 0x2800,
	VMCS_GUEST_DEBUGCTL = 0x2802,
	VMCS_GUEST_EFER = 0x2806,
	VMCS_HOST_EFER = 0x2c02,
	/* 32-bit */
	VMCS_PIN_CTLS = 0x4000,
	VMCS_PROC_CTLS = 0x4002,
	VMCS_EXCEPTION_BITMAP = 0x4004,
	VMCS_PF_ERROR_MASK = 0x4006,
	VMCS_PF_ERROR_MATCH = 0x4008,
	VMCS_CR3_TARGET_COUNT = 0x400a,
	VMCS_EXIT_CTLS = 0x400c,
	VMCS_EXIT_MSR_STORE_COUNT = 0x400e,
	VMCS_EXIT_MSR_LOAD_COUNT = 0x4010,
	VMCS_ENTRY_CTLS = 0x4012,
	VMCS_ENTRY_MSR_LOAD_COUNT = 0x4014,
	VMCS_ENTRY_INTR_INFO = 0x4016,
	VMCS_ENTRY_EXC_ERROR = 0x4018,
	VMCS_ENTRY_INSN_LEN = 0x401a,
	VMCS_PROC_CTLS2 = 0x401e,
	VMCS_INSN_ERROR = 0x4400,
	VMCS_EXIT_REASON = 0x4402,
	VMCS_EXIT_INTR_INFO = 0x4404,
	VMCS_EXIT_INTR_ERROR = 0x4406,
	VMCS_IDT_VEC_INFO = 0x4408,
	VMCS_IDT_VEC_ERROR = 0x440a,
	VMCS_EXIT_INSN_LEN = 0x440c,
	VMCS_EXIT_INSN_INFO = 0x440e,
	VMCS_GUEST_ES_LIMIT = 0x4800,
	VMCS_GUEST_CS_LIMIT = 0x4802,
	VMCS_GUEST_SS_LIMIT = 0x4804,
	VMCS_GUEST_DS_LIMIT = 0x4806,
	VMCS_GUEST_FS_LIMIT = 0x4808,
	VMCS_GUEST_GS_LIMIT = 0x480a,
	VMCS_GUEST_LDTR_LIMIT = 0x480c,
	VMCS_GUEST_TR_LIMIT = 0x480e,
	VMCS_GUEST_GDTR_LIMIT = 0x4810,
	VMCS_GUEST_IDTR_LIMIT = 0x4812,
	VMCS_GUEST_ES_AR = 0x4814,
	VMCS_GUEST_CS_AR = 0x4816,
	VMCS_GUEST_SS_AR = 0x4818,
	VMCS_GUEST_DS_AR = 0x481a,
	VMCS_GUEST_FS_AR = 0x481c,
	VMCS_GUEST_GS_AR = 0x481e,
	VMCS_GUEST_LDTR_AR = 0x4820,
	VMCS_GUEST_TR_AR = 0x4822,
	VMCS_GUEST_INTERRUPTIBILITY = 0x4824,
	VMCS_GUEST_ACTIVITY = 0x4826,
	VMCS_GUEST_SYSENTER_CS = 0x482a,
	VMCS_PREEMPT_TIMER = 0x482e,
	VMCS_HOST_SYSENTER_CS = 0x4c00,
	/* natural width */
	VMCS_CR0_MASK = 0x6000,
	VMCS_CR4_MASK = 0x6002,
	VMCS_CR0_SHADOW = 0x6004,
	VMCS_CR4_SHADOW = 0x6006,
	VMCS_EXIT_QUAL = 0x6400,
	VMCS_GUEST_LINEAR_ADDR = 0x640a,
	VMCS_GUEST_CR0 = 0x6800,
	VMCS_GUEST_CR3 = 0x6802,
	VMCS_GUEST_CR4 = 0x6804,
	VMCS_GUEST_ES_BASE = 0x6806,
	VMCS_GUEST_CS_BASE = 0x6808,
	VMCS_GUEST_SS_BASE = 0x680a,
	VMCS_GUEST_DS_BASE = 0x680c,
	VMCS_GUEST_FS_BASE = 0x680e,
	VMCS_GUEST_GS_BASE = 0x6810,
	VMCS_GUEST_LDTR_BASE = 0x6812,
	VMCS_GUEST_TR_BASE = 0x6814,
	VMCS_GUEST_GDTR_BASE = 0x6816,
	VMCS_GUEST_IDTR_BASE = 0x6818,
	VMCS_GUEST_DR7 = 0x681a,
	VMCS_GUEST_RSP = 0x681c,
	VMCS_GUEST_RIP = 0x681e,
	VMCS_GUEST_RFLAGS = 0x6820,
	VMCS_GUEST_PENDING_DBG = 0x6822,
	VMCS_GUEST_SYSENTER_ESP = 0x6824,
	VMCS_GUEST_SYSENTER_EIP = 0x6826,
	VMCS_HOST_CR0 = 0x6c00,
	VMCS_HOST_CR3 = 0x6c02,
	VMCS_HOST_CR4 = 0x6c04,
	VMCS_HOST_FS_BASE = 0x6c06,
	VMCS_HOST_GS_BASE = 0x6c08,
	VMCS_HOST_TR_BASE = 0x6c0a,
	VMCS_HOST_GDTR_BASE = 0x6c0c,
	VMCS_HOST_IDTR_BASE = 0x6c0e,
	VMCS_HOST_SYSENTER_ESP = 0x6c10,
	VMCS_HOST_SYSENTER_EIP = 0x6c12,
	/* VMCS_HOST_RSP (0x6c14) is above: vmx_entry.S writes it. */
	VMCS_HOST_RIP = 0x6c16,
};

/* Encoding layout (SDM B.1): width in bits 14:13, type in bits 11:10. */
#define VMCS_FIELD_WIDTH(f) (((f) >> 13) & 3)
#define VMCS_WIDTH_16 0
#define VMCS_WIDTH_64 1
#define VMCS_WIDTH_32 2
#define VMCS_WIDTH_NATURAL 3
#define VMCS_FIELD_TYPE(f) (((f) >> 10) & 3)
#define VMCS_TYPE_CONTROL 0
#define VMCS_TYPE_EXIT_INFO 1
#define VMCS_TYPE_GUEST 2
#define VMCS_TYPE_HOST 3

/* ---- exits (SDM appendix C) -------------------------------------------- */
#define VMX_EXIT_REASON_BASIC GENMASK(15, 0)
#define VMX_EXIT_REASON_ENTRY_FAIL BIT(31)

enum vmx_exit_reason {
	VMX_EXIT_EXCEPTION_NMI = 0,
	VMX_EXIT_EXTINT = 1,
	VMX_EXIT_TRIPLE_FAULT = 2,
	VMX_EXIT_CPUID = 10,
	VMX_EXIT_HLT = 12,
	VMX_EXIT_VMCALL = 18,
	VMX_EXIT_CR_ACCESS = 28,
	VMX_EXIT_IO = 30,
	VMX_EXIT_RDMSR = 31,
	VMX_EXIT_WRMSR = 32,
	VMX_EXIT_INVALID_GUEST_STATE = 33,
	VMX_EXIT_MSR_LOADING = 34,
	VMX_EXIT_MACHINE_CHECK = 41,
	VMX_EXIT_EPT_VIOLATION = 48,
	VMX_EXIT_EPT_MISCONFIG = 49,
	VMX_EXIT_IRQ_WINDOW = 7,
	VMX_EXIT_NMI_WINDOW = 8,
	VMX_EXIT_GETSEC = 11,
	VMX_EXIT_VMCLEAR = 19,
	VMX_EXIT_VMLAUNCH = 20,
	VMX_EXIT_VMPTRLD = 21,
	VMX_EXIT_VMPTRST = 22,
	VMX_EXIT_VMREAD = 23,
	VMX_EXIT_VMRESUME = 24,
	VMX_EXIT_VMWRITE = 25,
	VMX_EXIT_VMXOFF = 26,
	VMX_EXIT_VMXON = 27,
	VMX_EXIT_INVEPT = 50,
	VMX_EXIT_PREEMPT_TIMER = 52,
	VMX_EXIT_INVVPID = 53,
	VMX_EXIT_XSETBV = 55,
	VMX_EXIT_VMFUNC = 59,
	VMX_EXIT_ENCLS = 60,
};

/* I/O exit qualification (SDM table 28-5). */
#define IO_QUAL_SIZE GENMASK(2, 0) /* size - 1 */
#define IO_QUAL_IN BIT(3)
#define IO_QUAL_STRING BIT(4)
#define IO_QUAL_REP BIT(5)
#define IO_QUAL_PORT GENMASK(31, 16)

/* EPT-violation exit qualification (SDM table 28-7). */
#define EPT_QUAL_READ BIT(0)
#define EPT_QUAL_WRITE BIT(1)
#define EPT_QUAL_FETCH BIT(2)
#define EPT_QUAL_READABLE BIT(3)
#define EPT_QUAL_WRITABLE BIT(4)
#define EPT_QUAL_EXECUTABLE BIT(5)
#define EPT_QUAL_LINEAR_VALID BIT(7)
#define EPT_QUAL_FINAL BIT(8) /* only meaningful with LINEAR_VALID */

/* CR-access exit qualification (SDM table 28-3). */
#define CR_QUAL_NUMBER GENMASK(3, 0)
#define CR_QUAL_TYPE GENMASK(5, 4)
#define CR_QUAL_TYPE_MOV_TO 0
#define CR_QUAL_GPR GENMASK(11, 8)

/* Interruption information (exit, IDT vectoring, entry injection). */
#define INTR_INFO_VECTOR GENMASK(7, 0)
#define INTR_INFO_TYPE GENMASK(10, 8)
#define INTR_INFO_HAS_ERROR BIT(11)
#define INTR_INFO_VALID BIT(31)
#define INTR_TYPE_EXT_INTR 0
#define INTR_TYPE_NMI 2
#define INTR_TYPE_HW_EXCEPTION 3
#define INTR_TYPE_SW_INTR 4
#define INTR_TYPE_PRIV_SW_EXCEPTION 5
#define INTR_TYPE_SW_EXCEPTION 6

/* Guest interruptibility state (SDM table 25-3). */
#define VMX_INTR_STI BIT(0)
#define VMX_INTR_MOVSS BIT(1)
#define VMX_INTR_NMI BIT(3)

/* Segment access rights in the VMCS format (SDM table 25-2). */
#define VMX_AR_TYPE_CODE_RX_ACCESSED 0xb
#define VMX_AR_TYPE_DATA_RW_ACCESSED 0x3
#define VMX_AR_TYPE_TSS64_BUSY 0xb
#define VMX_AR_S BIT(4)
#define VMX_AR_P BIT(7)
#define VMX_AR_L BIT(13)
#define VMX_AR_DB BIT(14)
#define VMX_AR_G BIT(15)
#define VMX_AR_UNUSABLE BIT(16)
#define VMX_AR_TYPE GENMASK(3, 0)
#define VMX_AR_DPL GENMASK(6, 5)
#define VMX_AR_RESERVED (GENMASK(11, 8) | GENMASK(31, 17))

/* The guest's initial flat 64-bit model (vmm/vcpu.h contract). */
#define VMX_GUEST_CS 0x08
#define VMX_GUEST_DS 0x10
#define VMX_GUEST_TR 0x18
#define VMX_AR_CODE64 (VMX_AR_TYPE_CODE_RX_ACCESSED | VMX_AR_S | VMX_AR_P | VMX_AR_L | VMX_AR_G)
#define VMX_AR_DATA (VMX_AR_TYPE_DATA_RW_ACCESSED | VMX_AR_S | VMX_AR_P | VMX_AR_DB | VMX_AR_G)
#define VMX_AR_TSS_BUSY (VMX_AR_TYPE_TSS64_BUSY | VMX_AR_P)
_Static_assert(VMX_AR_CODE64 == 0xa09b && VMX_AR_DATA == 0xc093 && VMX_AR_TSS_BUSY == 0x8b,
	       "flat 64-bit descriptors as the SDM tabulates them");

/* ---- state ------------------------------------------------------------- */

/* What this CPU's VMX offers, read once from the capability MSRs. */
struct vmx_caps {
	u32 revision;
	bool true_ctls;
	u32 pin, proc, proc2, exit, entry; /* the controls Keel will use */
	u64 cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	u64 ept_vpid;
	bool unrestricted, vpid, ept_ad;
	bool irq_window, nmi_window, preempt_timer; /* offered, taken when used */
	unsigned preempt_rate; /* the timer counts TSC >> rate */
};

/* A pending event to deliver at the next VM entry. */
struct vmx_event {
	u32 info; /* INTR_INFO_* format; 0 = none */
	u32 error;
	u32 insn_len;
};

/* The guest's paging context as the guest last saw it; when generic code
 * changes it behind the guest's back, VPID-tagged translations are stale. */
struct vmx_guest_ctx {
	u64 cr0, cr3, cr4, efer;
};

/* Per vCPU: v->hw. */
struct vmx_vcpu {
	void *vmcs;       /* 4 KiB VMCS region */
	int cpu;          /* host CPU it is active on, -1 when clear */
	bool launched;    /* VMLAUNCH done since the last VMCLEAR */
	bool flush_vpid;  /* INVVPID before the next entry */
	u16 vpid;         /* 0 when VPID is off for this vCPU */
	u32 entry_ctls;   /* last VM-entry controls written */
	u64 eptp;         /* last EPTP written, 0 before the first */
	u64 cr0_mask, cr4_mask; /* CR bits the host owns (guest sees shadows) */
	u64 cr0_fixed0;   /* CR0 bits forced on (PE/PG dropped when unrestricted) */
	struct vmx_guest_ctx ctx;
	struct vmx_event pending;
	u32 proc_ctls;    /* last processor-based controls written */
	u32 want_proc_ctls; /* with the window exits asked for */
	u32 preempt_ticks;  /* preemption timer value for the next entry */
	bool msrs_loaded;
	u64 dr6;          /* in the CPU (VMX does not switch DR6) */
	u64 msr_lstar, msr_star, msr_cstar, msr_sfmask, msr_kgs; /* last loaded */
};

struct vmx_dtr {
	u16 limit;
	u64 base;
} __packed;

/* Per host CPU. */
struct vmx_cpu {
	void *vmxon;      /* VMXON region */
	void *current;    /* VMCS made current with VMPTRLD, or NULL */
	bool on;
	/* VM exit sets the GDTR and IDTR limits to 0xffff: restored from here. */
	struct vmx_dtr gdtr, idtr;
};

/* ---- instructions ------------------------------------------------------- */

/* VMX instructions report failure in CF (VMfailInvalid) or ZF (VMfailValid);
 * 'setna' captures both at once. Returns true on success. */
static inline __must_check bool vmx_vmwrite(u64 field, u64 val)
{
	bool fail;

	asm volatile("vmwrite %2, %1; setna %0" : "=qm"(fail) : "r"(field), "rm"(val) : "cc");
	return !fail;
}

static inline u64 vmx_vmread(u64 field)
{
	u64 val = 0;

	asm volatile("vmread %1, %0" : "+rm"(val) : "r"(field) : "cc");
	return val;
}

static inline __must_check bool vmx_vmptrld(u64 pa)
{
	bool fail;

	asm volatile("vmptrld %1; setna %0" : "=qm"(fail) : "m"(pa) : "cc", "memory");
	return !fail;
}

static inline __must_check bool vmx_vmclear(u64 pa)
{
	bool fail;

	asm volatile("vmclear %1; setna %0" : "=qm"(fail) : "m"(pa) : "cc", "memory");
	return !fail;
}

static inline __must_check bool vmx_vmxon(u64 pa)
{
	bool fail;

	asm volatile("vmxon %1; setna %0" : "=qm"(fail) : "m"(pa) : "cc", "memory");
	return !fail;
}

static inline void vmx_vmxoff(void)
{
	asm volatile("vmxoff" ::: "cc", "memory");
}

/* INVEPT / INVVPID types (SDM 30.3). */
#define INV_SINGLE_CONTEXT 1
#define INV_ALL_CONTEXT 2

static inline __must_check bool vmx_invept(u64 type, u64 eptp)
{
	struct { u64 eptp, zero; } desc = { eptp, 0 };
	bool fail;

	asm volatile("invept %1, %2; setna %0" : "=qm"(fail) : "m"(desc), "r"(type)
		     : "cc", "memory");
	return !fail;
}

static inline __must_check bool vmx_invvpid(u64 type, u16 vpid)
{
	struct { u64 vpid, addr; } desc = { vpid, 0 };
	bool fail;

	asm volatile("invvpid %1, %2; setna %0" : "=qm"(fail) : "m"(desc), "r"(type)
		     : "cc", "memory");
	return !fail;
}

/* ---- between the vmx*.c files ------------------------------------------ */

extern struct vmx_caps vmx_caps;

/* vmx.c */
struct vmx_cpu *vmx_this_cpu(void);
void vmx_tlb_flush(struct vmx_vcpu *hw, unsigned plan);

/* vmx_caps.c */
bool vmx_detect(void);
int vmx_check(char *why, size_t len);
int vmx_tdp_max_level(void);
int vmx_caps_read(char *why, size_t len);
u32 vmx_adjust_ctls(u64 cap_msr_value, u32 want);
bool vmx_ctls_ok(u64 cap_msr_value, u32 required, u32 got);

/* vmx_vmcs.c: the VMCS contents. */
int vmx_vmcs_setup(struct vcpu *v);
int vmx_vmcs_write_host(struct vmx_vcpu *hw);
void vmx_host_tables_restore(void);
int vmx_set_eptp(struct vmx_vcpu *hw, hpa_t root);
int vmx_load_guest(struct vcpu *v, struct vmx_vcpu *hw);
void vmx_save_guest(struct vcpu *v, struct vmx_vcpu *hw);
void vmx_save_idt_vectoring(struct vmx_vcpu *hw);

/* vmx_exit.c: fills v->exit from the VMCS after a VM exit; handles the
 * exits generic code has no name for (returns 1 to re-enter). */
void vmx_decode_exit(struct vcpu *v);
int vmx_handle_internal(struct vcpu *v, struct vmx_vcpu *hw);

/* vmx_rules.c: pure functions, also built into the hosted test. */
void vmx_decode_ept_qual(u64 qual, gpa_t gpa, struct vm_exit *e);
void vmx_decode_io_qual(u64 qual, struct vm_exit *e);
enum exit_kind vmx_exit_kind(u32 basic_reason, u32 intr_info);
bool vmx_exit_has_insn_len(u32 basic_reason);
u32 vmx_exception_info(u8 vector, bool has_error);
u64 vmx_make_eptp(hpa_t root, bool ad);
/* What Keel loads: A/D off (Keel does not use hardware A/D bits). */
u64 vmx_keel_eptp(hpa_t root);
u16 vmx_vpid_alloc(u64 *map, size_t words);
void vmx_vpid_free(u64 *map, u16 vpid);
const char *vmx_insn_error_name(u32 err);
const char *vmx_exit_reason_name(u32 reason);
const char *vmx_entry_fail_detail(u32 reason, u64 qual);

/* What to flush before an entry (SDM 29.4.3 and docs/vmx.md). */
#define VMX_FLUSH_INVEPT_SINGLE BIT(0)
#define VMX_FLUSH_INVEPT_ALL BIT(1)
#define VMX_FLUSH_INVVPID_SINGLE BIT(2)
#define VMX_FLUSH_INVVPID_ALL BIT(3)
unsigned vmx_flush_plan(const struct vmx_caps *c, u16 vpid, bool mmu_flush, bool new_cpu,
			bool vpid_stale);

/* The guest-state fields VM entry checks most (SDM 27.3.1), as read back
 * from the VMCS after an entry failed, so a software check can name the
 * broken rule (hardware only says "invalid guest state"). */
struct vmx_seg_state {
	u16 sel;
	u32 limit, ar;
};

struct vmx_guest_state {
	u64 cr0, cr4, efer, rflags, rip, link;
	u32 entry_ctls, proc2, activity, interruptibility;
	struct vmx_seg_state cs, ss, tr, ldtr;
};

bool vmx_guest_state_problem(const struct vmx_guest_state *s, const struct vmx_caps *c,
			     char *why, size_t len);

/* Host state and controls, for VM-instruction errors 8 and 7 (SDM 27.2). */
struct vmx_host_state {
	u64 cr0, cr4, efer, rip;
	u64 fs_base, gs_base, tr_base, gdtr_base, idtr_base;
	u16 cs, ss, ds, es, fs, gs, tr;
	u32 exit_ctls;
};

struct vmx_control_state {
	u32 pin, proc, proc2, exit, entry;
	u64 cap_pin, cap_proc, cap_proc2, cap_exit, cap_entry; /* the MSRs in force */
	u64 ept_vpid, eptp;
	u16 vpid;
	u32 cr3_targets, entry_intr;
};

bool vmx_host_state_problem(const struct vmx_host_state *s, const struct vmx_caps *c,
			    char *why, size_t len);
bool vmx_controls_problem(const struct vmx_control_state *s, char *why, size_t len);

/* vmx_dump.c */
void vmx_dump(struct vcpu *v);
void vmx_read_guest_state(struct vmx_guest_state *s);
void vmx_read_host_state(struct vmx_host_state *s);
void vmx_read_control_state(struct vmx_control_state *s);

/* vmx_entry.S: enter the guest with the current VMCS. */
int vmx_enter(struct vcpu_regs *regs, u64 launched);
extern char vmx_exit_landing[];

#endif /* __ASSEMBLER__ */
