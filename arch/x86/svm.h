/* SPDX-License-Identifier: MIT */
/*
 * AMD SVM hardware definitions (AMD64 APM vol. 2, ch. 15 and appendix B):
 * the VMCB layout, intercept bits, exit codes. Private to the SVM backend
 * (arch/x86/svm.c, svm_exit.c, svm_run.asm) and to the nested SVM emulation
 * (vmm/nested/), which reads and builds VMCBs for L1.
 */
#pragma once

#include <keel/types.h>

/* CPUID 8000_000A:EDX */
#define SVM_FEAT_NPT BIT(0)
#define SVM_FEAT_NRIPS BIT(3)
#define SVM_FEAT_FLUSH_BY_ASID BIT(6)

#define MSR_VM_CR 0xc0010114u
#define VM_CR_SVMDIS BIT(4)
#define MSR_VM_HSAVE_PA 0xc0010117u

/* Intercept word 3 (VMCB 0x00c) and word 4 (0x010). */
#define SVM_INTERCEPT_INTR BIT(0)
#define SVM_INTERCEPT_VINTR BIT(4)
#define SVM_INTERCEPT_IRET BIT(20)
#define SVM_INTERCEPT_NMI BIT(1)
#define SVM_INTERCEPT_SMI BIT(2)
#define SVM_INTERCEPT_INIT BIT(3)
#define SVM_INTERCEPT_CPUID BIT(18)
#define SVM_INTERCEPT_INVD BIT(22)
#define SVM_INTERCEPT_HLT BIT(24)
#define SVM_INTERCEPT_INVLPGA BIT(26)
#define SVM_INTERCEPT_IOIO BIT(27)
#define SVM_INTERCEPT_MSR BIT(28)
#define SVM_INTERCEPT_TASK_SWITCH BIT(29)
#define SVM_INTERCEPT_SHUTDOWN BIT(31)
#define SVM_INTERCEPT_VMRUN BIT(0)
#define SVM_INTERCEPT_VMMCALL BIT(1)
#define SVM_INTERCEPT_VMLOAD BIT(2)
#define SVM_INTERCEPT_VMSAVE BIT(3)
#define SVM_INTERCEPT_STGI BIT(4)
#define SVM_INTERCEPT_CLGI BIT(5)
#define SVM_INTERCEPT_SKINIT BIT(6)
#define SVM_INTERCEPT_XSETBV BIT(13)

/* Exit codes. */
#define SVM_EXIT_EXCP_BASE 0x40
#define SVM_EXIT_INTR 0x60
#define SVM_EXIT_NMI 0x61
#define SVM_EXIT_VINTR 0x64
#define SVM_EXIT_IRET 0x74
#define SVM_EXIT_INVLPGA 0x7a
#define SVM_EXIT_VMRUN 0x80
#define SVM_EXIT_VMLOAD 0x82
#define SVM_EXIT_VMSAVE 0x83
#define SVM_EXIT_STGI 0x84
#define SVM_EXIT_CLGI 0x85
#define SVM_EXIT_SKINIT 0x86
#define SVM_EXIT_XSETBV 0x8d
#define SVM_EXIT_CPUID 0x72
#define SVM_EXIT_HLT 0x78
#define SVM_EXIT_IOIO 0x7b
#define SVM_EXIT_MSR 0x7c
#define SVM_EXIT_SHUTDOWN 0x7f
#define SVM_EXIT_VMMCALL 0x81
#define SVM_EXIT_NPF 0x400
#define SVM_EXIT_INVALID ((u64)-1)

/* EXITINFO1 of IOIO exits. */
#define SVM_IOIO_IN BIT(0)
#define SVM_IOIO_STR BIT(2)
#define SVM_IOIO_REP BIT(3)
#define SVM_IOIO_SIZE_MASK GENMASK(6, 4)
#define SVM_IOIO_SIZE_SHIFT 4
#define SVM_IOIO_PORT_SHIFT 16

/* EXITINFO1 of nested page faults: a #PF error code plus where it hit. */
#define SVM_NPF_P BIT(0)
#define SVM_NPF_W BIT(1)
#define SVM_NPF_RSVD BIT(3)
#define SVM_NPF_FETCH BIT(4)
#define SVM_NPF_FINAL BIT(32)
#define SVM_NPF_WALK BIT(33)

#define SVM_EVENTINJ_VALID BIT(31)
#define SVM_EVENTINJ_VECTOR GENMASK(7, 0)
#define SVM_EVENTINJ_TYPE_MASK (7u << 8)
#define SVM_EVENTINJ_TYPE_INTR (0u << 8)
#define SVM_EVENTINJ_TYPE_NMI (2u << 8)
#define SVM_EVENTINJ_TYPE_EXCEPTION (3u << 8)
#define SVM_EVENTINJ_TYPE_SOFT (4u << 8)
#define SVM_EVENTINJ_EV BIT(11)

#define SVM_V_TPR GENMASK(3, 0)
#define SVM_V_IRQ BIT(8)
#define SVM_V_INTR_PRIO_SHIFT 16
#define SVM_V_IGN_TPR BIT(20)
#define SVM_V_INTR_MASKING BIT(24)
#define SVM_NP_ENABLE BIT(0)
#define SVM_TLB_FLUSH_ALL 1
#define SVM_IOPM_BYTES (3 * SZ_4K)
#define SVM_MSRPM_BYTES (2 * SZ_4K)

/* Segment attribute words as the VMCB packs them (descriptor bits 8-15 and
 * 20-23 squeezed into 12 bits). */
#define SVM_ATTR_CODE64 0x029b /* P, S, type 0xb, L */
#define SVM_ATTR_DATA 0x0c93   /* P, S, type 0x3, DB, G */
#define SVM_ATTR_TSS_BUSY 0x008b

struct vmcb_seg {
	u16 selector;
	u16 attrib;
	u32 limit;
	u64 base;
} __packed;

struct vmcb_control {
	u16 cr_read, cr_write;   /* 0x000 */
	u16 dr_read, dr_write;   /* 0x004 */
	u32 exceptions;          /* 0x008 */
	u32 intercept3;          /* 0x00c */
	u32 intercept4;          /* 0x010 */
	u32 intercept5;          /* 0x014 */
	u8 reserved1[0x03c - 0x018];
	u16 pause_threshold;     /* 0x03c */
	u16 pause_count;         /* 0x03e */
	u64 iopm_base_pa;        /* 0x040 */
	u64 msrpm_base_pa;       /* 0x048 */
	u64 tsc_offset;          /* 0x050 */
	u32 asid;                /* 0x058 */
	u8 tlb_control;          /* 0x05c */
	u8 reserved2[3];
	u64 vintr;               /* 0x060 */
	u64 interrupt_shadow;    /* 0x068 */
	u64 exit_code;           /* 0x070 */
	u64 exit_info1;          /* 0x078 */
	u64 exit_info2;          /* 0x080 */
	u64 exit_int_info;       /* 0x088 */
	u64 np_enable;           /* 0x090 */
	u8 reserved3[0x0a8 - 0x098];
	u64 event_inj;           /* 0x0a8 */
	u64 ncr3;                /* 0x0b0 */
	u64 lbr_virt;            /* 0x0b8 */
	u64 clean;               /* 0x0c0 */
	u64 next_rip;            /* 0x0c8 */
	u8 insn_len;             /* 0x0d0 */
	u8 insn_bytes[15];       /* 0x0d1 */
	u8 reserved4[0x400 - 0x0e0];
} __packed;

struct vmcb_save {
	struct vmcb_seg es, cs, ss, ds, fs, gs, gdtr, ldtr, idtr, tr; /* 0x400 */
	u8 reserved1[0x4cb - 0x4a0];
	u8 cpl;                  /* 0x4cb */
	u32 reserved2;
	u64 efer;                /* 0x4d0 */
	u8 reserved3[0x548 - 0x4d8];
	u64 cr4, cr3, cr0, dr7, dr6, rflags, rip; /* 0x548 */
	u8 reserved4[0x5d8 - 0x580];
	u64 rsp;                 /* 0x5d8 */
	u8 reserved5[0x5f8 - 0x5e0];
	u64 rax;                 /* 0x5f8 */
	u64 star, lstar, cstar, sfmask, kernel_gs_base; /* 0x600 */
	u64 sysenter_cs, sysenter_esp, sysenter_eip;    /* 0x628 */
	u64 cr2;                 /* 0x640 */
	u8 reserved6[0x668 - 0x648];
	u64 g_pat;               /* 0x668 */
} __packed;

struct vmcb {
	struct vmcb_control ctl;
	struct vmcb_save save;
} __packed;

#define VMCB_OFF(f) offsetof(struct vmcb, f)
_Static_assert(VMCB_OFF(ctl.intercept3) == 0x00c, "VMCB intercept word 3");
_Static_assert(VMCB_OFF(ctl.iopm_base_pa) == 0x040, "VMCB IOPM base");
_Static_assert(VMCB_OFF(ctl.asid) == 0x058, "VMCB ASID");
_Static_assert(VMCB_OFF(ctl.exit_code) == 0x070, "VMCB exit code");
_Static_assert(VMCB_OFF(ctl.np_enable) == 0x090, "VMCB NP enable");
_Static_assert(VMCB_OFF(ctl.event_inj) == 0x0a8, "VMCB EVENTINJ");
_Static_assert(VMCB_OFF(ctl.next_rip) == 0x0c8, "VMCB nRIP");
_Static_assert(VMCB_OFF(save.es) == 0x400, "VMCB save area");
_Static_assert(VMCB_OFF(save.tr) == 0x490, "VMCB TR");
_Static_assert(VMCB_OFF(save.cpl) == 0x4cb, "VMCB CPL");
_Static_assert(VMCB_OFF(save.efer) == 0x4d0, "VMCB EFER");
_Static_assert(VMCB_OFF(save.cr4) == 0x548, "VMCB CR4");
_Static_assert(VMCB_OFF(save.rip) == 0x578, "VMCB RIP");
_Static_assert(VMCB_OFF(save.rsp) == 0x5d8, "VMCB RSP");
_Static_assert(VMCB_OFF(save.rax) == 0x5f8, "VMCB RAX");
_Static_assert(VMCB_OFF(save.cr2) == 0x640, "VMCB CR2");
_Static_assert(VMCB_OFF(save.g_pat) == 0x668, "VMCB G_PAT");
_Static_assert(sizeof(struct vmcb) <= SZ_4K, "VMCB fits its page");

/* svm_run.asm: VMLOAD guest, VMRUN, VMSAVE guest, with the GPRs that VMRUN
 * does not switch loaded from and stored to 'regs'. 'host_save_pa' is the
 * per-CPU area for the host's VMSAVE state. */
struct vcpu_regs;
void svm_vmrun(u64 vmcb_pa, struct vcpu_regs *regs, u64 host_save_pa);

/* svm_state.c: struct vcpu_regs to and from the save area (all of it). */
void svm_regs_to_vmcb(struct vmcb *vmcb, const struct vcpu_regs *r);
void svm_vmcb_to_regs(struct vcpu_regs *r, const struct vmcb *vmcb);

/* svm_exit.c */
struct vcpu;
void svm_decode_exit(struct vcpu *v, const struct vmcb *vmcb, bool nrips);

/* svm.c: EVENTINJ for the next entry from a VMCB's EXITINTINFO: an
 * interrupted event delivery is delivered again, except a software
 * interrupt or INT3/INTO, whose instruction simply runs again (the event is
 * delivered once). Used for L1 and, by vmm/nested/, for L2. */
u64 svm_reinjection(u64 exit_int_info);
