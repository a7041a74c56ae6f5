/* SPDX-License-Identifier: MIT */
/*
 * Nested SVM internals (docs/nested-svm.md). Pure parts first, tested
 * hosted (vmm/nested/nsvm_test.c, tests/fuzz/fuzz_vmcb.c):
 *  - nsvm_check.c: VMRUN's consistency checks on a VMCB12 (-> VMEXIT_INVALID);
 *  - nsvm_route.c: the VMCB02 control area (Keel's intercepts merged with
 *    L1's), whether L1 intercepts an exit (with its MSR / I/O permission
 *    maps), the routing decision for an L2 exit, the nRIP decode.
 * Then the vCPU's nested state, used by nsvm_vmrun.c, nsvm_insn.c,
 * nsvm_exit.c (keel.efi only).
 */
#pragma once

#include <keel/types.h>
#include "arch/x86/svm.h"
#include "mmu/nested.h"
#include "vmm/vcpu.h"

/* ---- consistency checks (nsvm_check.c) ---- */

/* What L1 was offered, for the checks. */
struct nsvm_caps {
	u8 maxphyaddr;  /* L1's physical-address width */
	bool l1_long;   /* L1 runs in long mode (nested paging shadows only 4-level NPT12) */
};

enum nsvm_bad {
	NSVM_OK = 0,
	NSVM_BAD_EFER_SVME,    /* guest EFER.SVME = 0 */
	NSVM_BAD_CR0_CD_NW,    /* CR0.CD = 0 and CR0.NW = 1 */
	NSVM_BAD_CR0_HIGH,     /* CR0[63:32] != 0 */
	NSVM_BAD_CR3,          /* CR3 reserved bits (long mode) */
	NSVM_BAD_CR4,          /* CR4 reserved bits */
	NSVM_BAD_DR6,          /* DR6[63:32] != 0 */
	NSVM_BAD_DR7,          /* DR7[63:32] != 0 */
	NSVM_BAD_EFER,         /* EFER reserved bits */
	NSVM_BAD_LONG_NO_PAE,  /* EFER.LME, CR0.PG and CR4.PAE = 0 */
	NSVM_BAD_LONG_NO_PE,   /* EFER.LME, CR0.PG and CR0.PE = 0 */
	NSVM_BAD_LONG_CS,      /* long mode with CS.L and CS.D both set */
	NSVM_BAD_NO_VMRUN,     /* the VMRUN intercept is clear */
	NSVM_BAD_MSRPM,        /* the MSR permission map reaches MAXPHYADDR */
	NSVM_BAD_IOPM,         /* the I/O permission map reaches MAXPHYADDR */
	NSVM_BAD_EVENTINJ,     /* illegal event injection */
	NSVM_BAD_ASID,         /* guest ASID 0 */
	NSVM_BAD_TLB_CONTROL,  /* TLB_CONTROL other than 0, 1, 3, 7 */
	NSVM_BAD_NCR3,         /* nested paging with nCR3 beyond MAXPHYADDR */
	NSVM_BAD_NP_MODE,      /* nested paging while L1 is not in long mode (not shadowed) */
	NSVM_BAD_COUNT
};

enum nsvm_bad nsvm_check_vmcb(const struct vmcb *vmcb12, const struct nsvm_caps *caps);
const char *nsvm_bad_name(enum nsvm_bad b);

/* EFER and CR4 bits L2 may have (the features Keel's CPUID model offers). */
#define NSVM_EFER_VALID (BIT(0) | BIT(8) | BIT(10) | BIT(11) | BIT(12) | BIT(14) | BIT(15))
#define NSVM_CR4_VALID (GENMASK(11, 0) | BIT(16) | BIT(17) | BIT(18) | BIT(20) | BIT(21))

/* ---- intercepts and routing (nsvm_route.c) ---- */

/* What Keel itself needs intercepted while L2 runs, whatever L1 asks:
 * physical events (INTR, NMI, SMI, INIT: the preemption timer, kicks),
 * CPUID (Keel's model), INVD, IOIO and MSR (Keel's all-ones maps: no port
 * or MSR of the host reaches L2), SHUTDOWN, and every SVM instruction and
 * XSETBV (host state). */
#define NSVM_KEEL_INTERCEPT3 (SVM_INTERCEPT_INTR | SVM_INTERCEPT_NMI | SVM_INTERCEPT_SMI | \
			      SVM_INTERCEPT_INIT | SVM_INTERCEPT_CPUID | SVM_INTERCEPT_INVD | \
			      SVM_INTERCEPT_INVLPGA | SVM_INTERCEPT_IOIO | SVM_INTERCEPT_MSR | \
			      SVM_INTERCEPT_SHUTDOWN)
#define NSVM_KEEL_INTERCEPT4 (SVM_INTERCEPT_VMRUN | SVM_INTERCEPT_VMLOAD | \
			      SVM_INTERCEPT_VMSAVE | SVM_INTERCEPT_STGI | SVM_INTERCEPT_CLGI | \
			      SVM_INTERCEPT_SKINIT | SVM_INTERCEPT_XSETBV)

/* The VMCB02 control area from VMCB12's: intercepts = Keel's | L1's,
 * L1's event injection, virtual interrupt, shadow, TSC offset and pause
 * filter; V_INTR_MASKING always (physical interrupts stay Keel's). The
 * backend adds the permission maps, nCR3, ASID and TLB_CONTROL. */
void nsvm_merge_control(struct vmcb_control *c02, const struct vmcb_control *c12);

/* Reads one byte of an L1 permission map at L1 physical 'pa'; false when
 * it is not RAM (the caller then treats the access as intercepted). */
typedef bool (*nsvm_read_byte_fn)(void *ctx, u64 pa, u8 *out);

/* Where an MSR's two bits (read, write = read + 1) are in an MSRPM:
 * false for MSRs outside the three ranges (always intercepted). */
bool nsvm_msrpm_bit(u32 msr, u32 *byte, unsigned *bit);
/* Does L1 intercept this exit of L2? 'msr' is L2's ECX (MSR exits). */
bool nsvm_l1_intercepts(const struct vmcb_control *c12, u64 code, u64 info1, u32 msr,
			nsvm_read_byte_fn rd, void *ctx);

enum nsvm_route {
	NSVM_ROUTE_HOST,      /* a physical event: Keel's own (INTR, NMI, SMI, INIT) */
	NSVM_ROUTE_SHADOW,    /* NPF with L1's nested paging: the shadow NPT (nmmu) */
	NSVM_ROUTE_L1_TDP,    /* NPF without it: Keel's TDP fault for L1's memory */
	NSVM_ROUTE_REFLECT,   /* #VMEXIT to L1 */
	NSVM_ROUTE_KEEL,      /* L1 does not intercept it: Keel handles it for L2 */
};
enum nsvm_route nsvm_route_exit(const struct vmcb_control *c12, bool np, u64 code, u64 info1,
				u32 msr, nsvm_read_byte_fn rd, void *ctx);

/* Length of the instruction behind an instruction intercept 'code' in
 * b[0..n) ('bits': code segment size), 0 when unknown or not that one. */
unsigned nsvm_insn_len(u64 code, const u8 *b, size_t n, unsigned bits);
/* Normalise QEMU's 32-bit -1. */
static inline u64 nsvm_exit_code(u64 code)
{
	return code == 0xffffffffull ? SVM_EXIT_INVALID : code;
}

/* ---- the vCPU's nested state (keel.efi) ---- */

struct nsvm_stats {
	u64 vmruns, vmexit_invalid, nested_exits, reflected, handled;
};

struct nsvm_vcpu {
	bool in_l2;            /* L2 runs on this vCPU (VMCB02) */
	bool gif;              /* L1's global interrupt flag */
	bool np;               /* VMCB12 has nested paging */
	gpa_t vmcb12;          /* L1 address of the running VMCB12 */
	struct vmcb_control c12; /* its control area as VMRUN read it */
	struct vcpu_regs l1;   /* L1's state at VMRUN (what #VMEXIT restores) */
	struct vmcb *vmcb02;   /* the VMCB Keel runs L2 with */
	struct vmcb *scratch;  /* a VMCB-sized buffer (VMCB12 images) */
	struct nmmu_vcpu *nv;  /* this vCPU on the VM's nested MMU */
	struct nmmu_npt_mode mode;
	bool l1_flush;         /* an L1 TDP flush owed to L1's next entry */
	bool l2_flush;         /* flush Keel's L2 ASID at the next L2 entry */
	u64 repeat_gpa, repeat_rip, repeat_count; /* shadow NPFs without progress */
	unsigned evict_streak;
	struct nsvm_stats stats;
};

/* nsvm_vmrun.c */
struct nsvm_vcpu *nsvm_get(struct vcpu *v); /* created on first use; NULL: no memory */
/* VMRUN of the VMCB12 at 'vmcb12' (page-aligned, below MAXPHYADDR), L1
 * resuming at next_rip after the #VMEXIT: false when it is not L1 RAM. */
bool nsvm_vmrun(struct vcpu *v, gpa_t vmcb12, u64 next_rip);
u8 nsvm_phys_bits(void); /* L1's MAXPHYADDR */
void nsvm_kick(void *vcpu); /* make the vCPU leave L2 (an IPI to its CPU) */
void nsvm_vmexit(struct vcpu *v, u64 code, u64 info1, u64 info2, u64 exit_int_info,
		 u64 nrip);
