/* SPDX-License-Identifier: MIT */
/*
 * The SVM architecture as the L1 test hypervisor uses it, written from the
 * AMD APM vol. 2 ch. 15 (and appendix B, the VMCB layout). Independent of
 * Keel's own arch/x86/svm.h on purpose: this L1 would run on real hardware.
 */
#pragma once

#include <keel/types.h>

/* CPUID. */
#define CPUID_EXT_FEATURES 0x80000001u
#define CPUID_EXT_ECX_SVM BIT(2)
#define CPUID_EXT_EDX_NX BIT(20)
#define CPUID_EXT_EDX_PAGE1GB BIT(26)
#define CPUID_SVM_LEAF 0x8000000au
#define CPUID_SVM_EDX_NP BIT(0)
#define CPUID_SVM_EDX_NRIPS BIT(3)
#define CPUID_SVM_EDX_FLUSH_BY_ASID BIT(6)

/* MSRs. */
#define MSR_EFER 0xc0000080u
#define EFER_LME BIT(8)
#define EFER_LMA BIT(10)
#define EFER_NXE BIT(11)
#define EFER_SVME BIT(12)
#define MSR_STAR 0xc0000081u
#define MSR_LSTAR 0xc0000082u
#define MSR_FS_BASE 0xc0000100u
#define MSR_KERNEL_GS_BASE 0xc0000102u
#define MSR_VM_CR 0xc0010114u
#define VM_CR_LOCK BIT(3)
#define VM_CR_SVMDIS BIT(4)
#define MSR_VM_HSAVE_PA 0xc0010117u

/* VMCB control area (offsets in bytes). */
#define VMCB_INTERCEPT_CR 0x000   /* u32: reads 0-15, writes 16-31 */
#define VMCB_INTERCEPT_DR 0x004
#define VMCB_INTERCEPT_EXC 0x008  /* u32: one bit per exception vector */
#define VMCB_INTERCEPT_MISC1 0x00c
#define VMCB_INTERCEPT_MISC2 0x010
#define VMCB_IOPM_BASE 0x040
#define VMCB_MSRPM_BASE 0x048
#define VMCB_TSC_OFFSET 0x050
#define VMCB_ASID 0x058           /* u32 */
#define VMCB_TLB_CONTROL 0x05c    /* u8 */
#define VMCB_INT_CTL 0x060        /* u32 */
#define VMCB_INT_VECTOR 0x064
#define VMCB_INT_STATE 0x068
#define VMCB_EXITCODE 0x070
#define VMCB_EXITINFO1 0x078
#define VMCB_EXITINFO2 0x080
#define VMCB_EXITINTINFO 0x088
#define VMCB_NP_CTL 0x090         /* bit 0: NP_ENABLE */
#define VMCB_EVENTINJ 0x0a8
#define VMCB_NCR3 0x0b0
#define VMCB_CLEAN 0x0c0
#define VMCB_NRIP 0x0c8

/* Intercept vector 3 (MISC1) and 4 (MISC2). */
#define INTERCEPT_INTR BIT(0)
#define INTERCEPT_VINTR BIT(4)
#define INTERCEPT_CPUID BIT(18)
#define INTERCEPT_HLT BIT(24)
#define INTERCEPT_INVLPGA BIT(26)
#define INTERCEPT_IOIO BIT(27)
#define INTERCEPT_MSR BIT(28)
#define INTERCEPT_SHUTDOWN BIT(31)
#define INTERCEPT_VMRUN BIT(0)
#define INTERCEPT_VMMCALL BIT(1)
#define INTERCEPT_VMLOAD BIT(2)
#define INTERCEPT_VMSAVE BIT(3)
#define INTERCEPT_STGI BIT(4)
#define INTERCEPT_CLGI BIT(5)
#define INTERCEPT_SKINIT BIT(6)

#define INT_CTL_V_IRQ BIT(8)
#define INT_CTL_V_INTR_PRIO_SHIFT 16
#define INT_CTL_V_INTR_MASKING BIT(24)

/* TLB_CONTROL values. */
#define TLB_CONTROL_NONE 0
#define TLB_CONTROL_FLUSH_ALL 1
#define TLB_CONTROL_FLUSH_ASID 3

/* EVENTINJ: vector 0-7, type 8-10, error-code valid 11, valid 31. */
#define EVENTINJ_VALID BIT(31)
#define EVENTINJ_TYPE_INTR (0u << 8)
#define EVENTINJ_TYPE_EXCEPTION (3u << 8)
#define EVENTINJ_TYPE_RESERVED1 (1u << 8)

/* VMCB state save area: segments are {u16 sel, u16 attrib, u32 limit, u64 base}. */
#define VMCB_ES 0x400
#define VMCB_CS 0x410
#define VMCB_SS 0x420
#define VMCB_DS 0x430
#define VMCB_FS 0x440
#define VMCB_GS 0x450
#define VMCB_GDTR 0x460
#define VMCB_LDTR 0x470
#define VMCB_IDTR 0x480
#define VMCB_TR 0x490
#define VMCB_CPL 0x4cb
#define VMCB_EFER 0x4d0
#define VMCB_CR4 0x548
#define VMCB_CR3 0x550
#define VMCB_CR0 0x558
#define VMCB_DR7 0x560
#define VMCB_DR6 0x568
#define VMCB_RFLAGS 0x570
#define VMCB_RIP 0x578
#define VMCB_RSP 0x5d8
#define VMCB_RAX 0x5f8
#define VMCB_STAR 0x600
#define VMCB_LSTAR 0x608
#define VMCB_KERNEL_GS_BASE 0x620
#define VMCB_CR2 0x640
#define VMCB_G_PAT 0x668

/* Segment attributes in the VMCB's packed form: type 0-3, S 4, DPL 5-6,
 * P 7, AVL 8, L 9, D/B 10, G 11. */
#define SEG_ATTR_CODE64 0x0a9b
#define SEG_ATTR_DATA 0x0c93
#define SEG_ATTR_TSS64_BUSY 0x008b
#define SEG_ATTR_LDT 0x0082

/* Exit codes. */
#define VMEXIT_EXCP_BASE 0x40
#define VMEXIT_INTR 0x60
#define VMEXIT_VINTR 0x64
#define VMEXIT_CPUID 0x72
#define VMEXIT_HLT 0x78
#define VMEXIT_IOIO 0x7b
#define VMEXIT_MSR 0x7c
#define VMEXIT_SHUTDOWN 0x7f
#define VMEXIT_VMRUN 0x80
#define VMEXIT_VMMCALL 0x81
#define VMEXIT_NPF 0x400
#define VMEXIT_INVALID ((u64)-1)

/* IOIO EXITINFO1. */
#define IOIO_TYPE_IN BIT(0)
#define IOIO_STR BIT(2)
#define IOIO_REP BIT(3)
#define IOIO_SZ8 BIT(4)
#define IOIO_SZ16 BIT(5)
#define IOIO_SZ32 BIT(6)
#define IOIO_PORT_SHIFT 16

/* NPF EXITINFO1 (a #PF-style error code plus where the fault happened). */
#define NPF_P BIT(0)
#define NPF_W BIT(1)
#define NPF_U BIT(2)
#define NPF_RSV BIT(3)
#define NPF_ID BIT(4)
#define NPF_FINAL_GPA BIT(32)
#define NPF_GPT_WALK BIT(33)

/* Nested page table entries: the long-mode format. */
#define PTE_P BIT(0)
#define PTE_W BIT(1)
#define PTE_U BIT(2)
#define PTE_A BIT(5)
#define PTE_D BIT(6)
#define PTE_PS BIT(7)
#define PTE_NX BIT(63)
#define PTE_ADDR 0x000ffffffffff000ull

/* Permission maps. */
#define IOPM_SIZE (3 * 4096)
#define MSRPM_SIZE (2 * 4096)
