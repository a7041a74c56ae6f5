/* SPDX-License-Identifier: MIT */
/*
 * The parts of the VMX backend that are pure functions of numbers: exit
 * qualification decoding, the TLB flush plan, EPTP and event encodings, and
 * the names of VMX errors and exit reasons. They build both into keel.efi and
 * into the hosted test (vmx_rules_test.c), which is how they are checked
 * without an Intel CPU.
 */
#include "mmu/mmu.h"

#include <keel/string.h>
#include "arch/x86/vmx.h"

/* Control words (SDM A.3): the low 32 bits of a capability MSR are the
 * allowed-0 settings (bits that must be 1), the high 32 bits the allowed-1
 * settings (bits that may be 1). Forced bits go on, forbidden ones off. */
u32 vmx_adjust_ctls(u64 cap, u32 want)
{
	u32 must_be_1 = (u32)cap;
	u32 may_be_1 = (u32)(cap >> 32);

	return (want | must_be_1) & may_be_1;
}

/* The adjusted word still has every required bit, and no bit the CPU
 * forbids (a CPU whose allowed-0 and allowed-1 disagree would fail entry). */
bool vmx_ctls_ok(u64 cap, u32 required, u32 got)
{
	u32 may_be_1 = (u32)(cap >> 32);

	return (got & required) == required && (got & ~may_be_1) == 0;
}

/* EPT violation: the access that faulted, whether a translation existed
 * (any of the entry's R/W/X bits reported), and whether it happened while
 * the CPU walked the guest's own page tables (linear address valid, not a
 * translated access; SDM table 28-7). */
void vmx_decode_ept_qual(u64 qual, gpa_t gpa, struct vm_exit *e)
{
	u32 access = 0;

	if (qual & EPT_QUAL_READ)
		access |= MMU_ACC_READ;
	if (qual & EPT_QUAL_WRITE)
		access |= MMU_ACC_WRITE;
	if (qual & EPT_QUAL_FETCH)
		access |= MMU_ACC_EXEC;
	e->tdp.gpa = gpa;
	e->tdp.access = access;
	e->tdp.present = qual & (EPT_QUAL_READABLE | EPT_QUAL_WRITABLE | EPT_QUAL_EXECUTABLE);
	e->tdp.on_walk = (qual & EPT_QUAL_LINEAR_VALID) && !(qual & EPT_QUAL_FINAL);
}

void vmx_decode_io_qual(u64 qual, struct vm_exit *e)
{
	e->io.port = (u16)((qual & IO_QUAL_PORT) >> 16);
	e->io.size = (u8)((qual & IO_QUAL_SIZE) + 1);
	e->io.in = qual & IO_QUAL_IN;
	e->io.string = qual & IO_QUAL_STRING;
	e->io.rep = qual & IO_QUAL_REP;
}

enum exit_kind vmx_exit_kind(u32 reason, u32 intr_info)
{
	if (reason & VMX_EXIT_REASON_ENTRY_FAIL)
		return EXIT_ENTRY_FAILED;
	switch (reason & VMX_EXIT_REASON_BASIC) {
	case VMX_EXIT_EXCEPTION_NMI:
		/* An NMI is the host's, not a guest exception. */
		if (((intr_info & INTR_INFO_TYPE) >> 8) == INTR_TYPE_NMI)
			return EXIT_EXTINT;
		return EXIT_EXCEPTION;
	case VMX_EXIT_EXTINT:         return EXIT_EXTINT;
	case VMX_EXIT_TRIPLE_FAULT:   return EXIT_SHUTDOWN;
	case VMX_EXIT_CPUID:          return EXIT_CPUID;
	case VMX_EXIT_HLT:            return EXIT_HLT;
	case VMX_EXIT_VMCALL:         return EXIT_HYPERCALL;
	case VMX_EXIT_IO:             return EXIT_IO;
	case VMX_EXIT_RDMSR:          return EXIT_RDMSR;
	case VMX_EXIT_WRMSR:          return EXIT_WRMSR;
	case VMX_EXIT_EPT_VIOLATION:  return EXIT_TDP_FAULT;
	case VMX_EXIT_EPT_MISCONFIG:  return EXIT_TDP_MISCONFIG;
	case VMX_EXIT_IRQ_WINDOW:     return EXIT_IRQ_WINDOW;
	case VMX_EXIT_NMI_WINDOW:     return EXIT_NMI_WINDOW;
	case VMX_EXIT_PREEMPT_TIMER:  return EXIT_PREEMPT;
	case VMX_EXIT_XSETBV:         return EXIT_XSETBV;
	case VMX_EXIT_GETSEC: case VMX_EXIT_VMCLEAR: case VMX_EXIT_VMLAUNCH:
	case VMX_EXIT_VMPTRLD: case VMX_EXIT_VMPTRST: case VMX_EXIT_VMREAD:
	case VMX_EXIT_VMRESUME: case VMX_EXIT_VMWRITE: case VMX_EXIT_VMXOFF:
	case VMX_EXIT_VMXON: case VMX_EXIT_INVEPT: case VMX_EXIT_INVVPID:
	case VMX_EXIT_VMFUNC: case VMX_EXIT_ENCLS:
		return EXIT_VIRT_INSN;
	default:                      return EXIT_OTHER;
	}
}

/* The exits caused by executing an instruction, for which the VMCS holds
 * that instruction's length (SDM 28.2.5). */
bool vmx_exit_has_insn_len(u32 reason)
{
	switch (reason) {
	case VMX_EXIT_CPUID:
	case VMX_EXIT_HLT:
	case VMX_EXIT_VMCALL:
	case VMX_EXIT_CR_ACCESS:
	case VMX_EXIT_IO:
	case VMX_EXIT_RDMSR:
	case VMX_EXIT_WRMSR:
	case VMX_EXIT_XSETBV:
		return true;
	default:
		return false;
	}
}

/* Exceptions that push an error code in protected and long mode. VM entry
 * refuses an injection whose "deliver error code" bit disagrees. */
#define EXC_WITH_ERROR (BIT(8) | BIT(10) | BIT(11) | BIT(12) | BIT(13) | BIT(14) | BIT(17) | \
			BIT(21))

u32 vmx_exception_info(u8 vector, bool has_error)
{
	u32 info = INTR_INFO_VALID | (INTR_TYPE_HW_EXCEPTION << 8) | vector;

	/* The architecture decides, not the caller: a wrong bit would only turn
	 * into a VM-entry failure later. */
	if (vector < 32 && (EXC_WITH_ERROR & BIT(vector)))
		info |= INTR_INFO_HAS_ERROR;
	(void)has_error;
	return info;
}

u64 vmx_make_eptp(hpa_t root, bool ad)
{
	return (root.v & PAGE_MASK) | EPTP_MEMTYPE_WB | EPTP_WALK_LENGTH_4 |
	       (ad ? EPTP_AD_ENABLE : 0);
}

/*
 * The EPTP Keel programs. Accessed/dirty flags stay OFF whatever the CPU
 * offers: Keel's MMU never reads or clears EPT A/D bits (dirty logging is
 * write protection), and with them on the CPU treats every guest
 * page-table walk as a write to the guest-physical page holding the paging
 * structure (SDM 29.3.3.2), so walks through a read-only slot would fault
 * as writes and stop the VM, and in a dirty-logged slot every page-table
 * page would be reported dirty.
 */
u64 vmx_keel_eptp(hpa_t root)
{
	return vmx_make_eptp(root, false);
}

/*
 * Which invalidations an entry needs (docs/vmx.md has the reasoning):
 *  - EPT entries changed (the MMU asked): INVEPT for this EPTP, which drops
 *    guest-physical and combined mappings of it under every VPID;
 *  - first entry on this CPU since VMCLEAR: same, because this CPU may hold
 *    mappings of this EPTP from an earlier stay, made under older entries;
 *  - the guest's own paging context changed without the guest doing it
 *    (first run with a recycled VPID, generic code edited CR0/CR3/CR4/EFER,
 *    or Keel emulated a CR write): INVVPID for this VPID.
 * Single-context forms when the CPU has them, else all-context.
 */
unsigned vmx_flush_plan(const struct vmx_caps *c, u16 vpid, bool mmu_flush, bool new_cpu,
			bool vpid_stale)
{
	unsigned plan = 0;

	if (mmu_flush || new_cpu)
		plan |= (c->ept_vpid & EPT_CAP_INVEPT_SINGLE) ? VMX_FLUSH_INVEPT_SINGLE
							       : VMX_FLUSH_INVEPT_ALL;
	if ((vpid_stale || new_cpu) && vpid)
		plan |= (c->ept_vpid & VPID_CAP_INVVPID_SINGLE) ? VMX_FLUSH_INVVPID_SINGLE
								 : VMX_FLUSH_INVVPID_ALL;
	return plan;
}

/* SDM 31.4, "VM-instruction error numbers". */
static const char *const insn_errors[] = {
	[1] = "VMCALL executed in VMX root operation",
	[2] = "VMCLEAR with invalid physical address",
	[3] = "VMCLEAR with VMXON pointer",
	[4] = "VMLAUNCH with non-clear VMCS",
	[5] = "VMRESUME with non-launched VMCS",
	[6] = "VMRESUME after VMXOFF",
	[7] = "VM entry with invalid control field(s)",
	[8] = "VM entry with invalid host-state field(s)",
	[9] = "VMPTRLD with invalid physical address",
	[10] = "VMPTRLD with VMXON pointer",
	[11] = "VMPTRLD with incorrect VMCS revision identifier",
	[12] = "VMREAD/VMWRITE from/to unsupported VMCS component",
	[13] = "VMWRITE to read-only VMCS component",
	[15] = "VMXON executed in VMX root operation",
	[16] = "VM entry with invalid executive-VMCS pointer",
	[17] = "VM entry with non-launched executive VMCS",
	[18] = "VM entry with executive-VMCS pointer not VMXON pointer",
	[19] = "VMCALL with non-clear VMCS",
	[20] = "VMCALL with invalid VM-exit control fields",
	[22] = "VMCALL with incorrect MSEG revision identifier",
	[23] = "VMXOFF under dual-monitor treatment of SMIs and SMM",
	[24] = "VMCALL with invalid SMM-monitor features",
	[25] = "VM entry with invalid VM-execution control fields in executive VMCS",
	[26] = "VM entry with events blocked by MOV SS",
	[28] = "invalid operand to INVEPT/INVVPID",
};

const char *vmx_insn_error_name(u32 err)
{
	if (err < ARRAY_SIZE(insn_errors) && insn_errors[err])
		return insn_errors[err];
	return "unknown VM-instruction error";
}

/* SDM appendix C, "VMX basic exit reasons". */
static const char *const exit_reasons[] = {
	[0] = "exception or NMI", [1] = "external interrupt", [2] = "triple fault",
	[3] = "INIT signal", [4] = "start-up IPI", [5] = "I/O SMI", [6] = "other SMI",
	[7] = "interrupt window", [8] = "NMI window", [9] = "task switch", [10] = "CPUID",
	[11] = "GETSEC", [12] = "HLT", [13] = "INVD", [14] = "INVLPG", [15] = "RDPMC",
	[16] = "RDTSC", [17] = "RSM", [18] = "VMCALL", [19] = "VMCLEAR", [20] = "VMLAUNCH",
	[21] = "VMPTRLD", [22] = "VMPTRST", [23] = "VMREAD", [24] = "VMRESUME",
	[25] = "VMWRITE", [26] = "VMXOFF", [27] = "VMXON", [28] = "control-register access",
	[29] = "MOV DR", [30] = "I/O instruction", [31] = "RDMSR", [32] = "WRMSR",
	[33] = "VM-entry failure: invalid guest state",
	[34] = "VM-entry failure: MSR loading", [36] = "MWAIT", [37] = "monitor trap flag",
	[39] = "MONITOR", [40] = "PAUSE", [41] = "VM-entry failure: machine-check event",
	[43] = "TPR below threshold", [44] = "APIC access", [45] = "virtualized EOI",
	[46] = "GDTR/IDTR access", [47] = "LDTR/TR access", [48] = "EPT violation",
	[49] = "EPT misconfiguration", [50] = "INVEPT", [51] = "RDTSCP",
	[52] = "VMX-preemption timer expired", [53] = "INVVPID", [54] = "WBINVD",
	[55] = "XSETBV", [56] = "APIC write", [57] = "RDRAND", [58] = "INVPCID",
	[59] = "VMFUNC", [60] = "ENCLS", [61] = "RDSEED", [62] = "page-modification log full",
	[63] = "XSAVES", [64] = "XRSTORS",
};

const char *vmx_exit_reason_name(u32 reason)
{
	u32 basic = reason & VMX_EXIT_REASON_BASIC;

	if (basic < ARRAY_SIZE(exit_reasons) && exit_reasons[basic])
		return exit_reasons[basic];
	return "unknown exit reason";
}

/* For an exit with bit 31 set (the entry itself failed after the checks on
 * controls and host state passed): which check, from reason and
 * qualification (SDM 27.8). */
const char *vmx_entry_fail_detail(u32 reason, u64 qual)
{
	switch (reason & VMX_EXIT_REASON_BASIC) {
	case VMX_EXIT_INVALID_GUEST_STATE:
		switch (qual) {
		case 2: return "invalid guest state: PDPTE load failed";
		case 3: return "invalid guest state: NMI injection while blocked by STI/MOV SS";
		case 4: return "invalid guest state: VMCS link pointer";
		default: return "invalid guest state (a guest-state field failed the SDM 27.3.1 checks)";
		}
	case VMX_EXIT_MSR_LOADING:
		return "VM-entry MSR loading failed";
	case VMX_EXIT_MACHINE_CHECK:
		return "machine-check event during VM entry";
	default:
		return "unexpected VM-entry failure reason";
	}
}

static bool is_canonical(u64 va)
{
	return (u64)((s64)(va << 16) >> 16) == va;
}

/* Limit and granularity agree (SDM 27.3.1.2): a limit with any of bits
 * 11:0 clear needs G=0, one with any of bits 31:20 set needs G=1. */
static bool limit_ok(const struct vmx_seg_state *s)
{
	if ((s->limit & 0xfff) != 0xfff && (s->ar & VMX_AR_G))
		return false;
	return !((s->limit & 0xfff00000) && !(s->ar & VMX_AR_G));
}

static bool check_crs(const struct vmx_guest_state *s, const struct vmx_caps *c, char *why,
		      size_t len)
{
	bool ia32e = s->entry_ctls & ENTRY_CTL_IA32E_GUEST;
	u64 fixed0 = c->cr0_fixed0;

	if (s->proc2 & PROC2_UNRESTRICTED_GUEST)
		fixed0 &= ~(X86_CR0_PE | X86_CR0_PG);
	if ((s->cr0 & fixed0) != fixed0 || (s->cr0 & ~c->cr0_fixed1))
		snprintf(why, len, "CR0 0x%llx outside IA32_VMX_CR0_FIXED0/1 (0x%llx/0x%llx)",
			 (unsigned long long)s->cr0, (unsigned long long)fixed0,
			 (unsigned long long)c->cr0_fixed1);
	else if ((s->cr0 & X86_CR0_PG) && !(s->cr0 & X86_CR0_PE))
		snprintf(why, len, "CR0.PG set without CR0.PE");
	else if ((s->cr4 & c->cr4_fixed0) != c->cr4_fixed0 || (s->cr4 & ~c->cr4_fixed1))
		snprintf(why, len, "CR4 0x%llx outside IA32_VMX_CR4_FIXED0/1 (0x%llx/0x%llx)",
			 (unsigned long long)s->cr4, (unsigned long long)c->cr4_fixed0,
			 (unsigned long long)c->cr4_fixed1);
	else if (ia32e && (!(s->cr0 & X86_CR0_PG) || !(s->cr4 & X86_CR4_PAE)))
		snprintf(why, len, "IA-32e mode guest without CR0.PG and CR4.PAE");
	else if (!!(s->efer & EFER_LMA) != ia32e)
		snprintf(why, len, "EFER.LMA (0x%llx) differs from the IA-32e mode guest control",
			 (unsigned long long)s->efer);
	else if ((s->cr0 & X86_CR0_PG) && !!(s->efer & EFER_LMA) != !!(s->efer & EFER_LME))
		snprintf(why, len, "EFER.LMA differs from EFER.LME with paging on");
	else
		return false;
	return true;
}

#define RFLAGS_RESERVED_0 (BIT(3) | BIT(5) | BIT(15) | GENMASK(63, 22))
#define RFLAGS_VM BIT(17)

static bool check_rip_rflags(const struct vmx_guest_state *s, char *why, size_t len)
{
	bool ia32e = s->entry_ctls & ENTRY_CTL_IA32E_GUEST;

	if (!(s->rflags & BIT(1)) || (s->rflags & RFLAGS_RESERVED_0))
		snprintf(why, len, "RFLAGS 0x%llx: bit 1 must be 1, bits 3, 5, 15, 63:22 must be 0",
			 (unsigned long long)s->rflags);
	else if (ia32e && (s->rflags & RFLAGS_VM))
		snprintf(why, len, "RFLAGS.VM set in IA-32e mode");
	else if (ia32e && (s->cs.ar & VMX_AR_L) && !is_canonical(s->rip))
		snprintf(why, len, "RIP 0x%llx not canonical in 64-bit mode",
			 (unsigned long long)s->rip);
	else if (!(ia32e && (s->cs.ar & VMX_AR_L)) && (s->rip >> 32))
		snprintf(why, len, "RIP 0x%llx above 4 GiB outside 64-bit mode",
			 (unsigned long long)s->rip);
	else
		return false;
	return true;
}

static bool check_segments(const struct vmx_guest_state *s, char *why, size_t len)
{
	bool ia32e = s->entry_ctls & ENTRY_CTL_IA32E_GUEST;
	u32 cs_type = s->cs.ar & VMX_AR_TYPE, tr_type = s->tr.ar & VMX_AR_TYPE;

	if ((s->cs.ar & VMX_AR_RESERVED) || !(s->cs.ar & VMX_AR_S) || !(s->cs.ar & VMX_AR_P) ||
	    !(cs_type & 8) || !(cs_type & 1) || !limit_ok(&s->cs))
		snprintf(why, len, "CS access rights 0x%x / limit 0x%x: need an accessed code "
			 "segment, S=1, P=1, G matching the limit", s->cs.ar, s->cs.limit);
	else if (ia32e && (s->cs.ar & VMX_AR_L) && (s->cs.ar & VMX_AR_DB))
		snprintf(why, len, "CS has both L and D/B set");
	else if (!(s->ss.ar & VMX_AR_UNUSABLE) &&
		 ((s->ss.ar & VMX_AR_RESERVED) || !(s->ss.ar & VMX_AR_P) ||
		  ((s->ss.ar & VMX_AR_TYPE) != 3 && (s->ss.ar & VMX_AR_TYPE) != 7) ||
		  (s->ss.ar & VMX_AR_DPL) != (s->cs.ar & VMX_AR_DPL) || !limit_ok(&s->ss)))
		snprintf(why, len, "SS access rights 0x%x: need a present read/write data "
			 "segment with CS's DPL", s->ss.ar);
	else if ((s->tr.ar & (VMX_AR_UNUSABLE | VMX_AR_S | VMX_AR_RESERVED)) ||
		 !(s->tr.ar & VMX_AR_P) || (s->tr.sel & 4) || !limit_ok(&s->tr) ||
		 (ia32e ? tr_type != 11 : tr_type != 3 && tr_type != 11))
		snprintf(why, len, "TR 0x%x access rights 0x%x: need a present, usable busy TSS "
			 "(type 11 in IA-32e mode) in the GDT", s->tr.sel, s->tr.ar);
	else if (!(s->ldtr.ar & VMX_AR_UNUSABLE) &&
		 ((s->ldtr.ar & (VMX_AR_S | VMX_AR_RESERVED)) || !(s->ldtr.ar & VMX_AR_P) ||
		  (s->ldtr.ar & VMX_AR_TYPE) != 2 || (s->ldtr.sel & 4)))
		snprintf(why, len, "LDTR access rights 0x%x: usable LDTR must be a present LDT",
			 s->ldtr.ar);
	else
		return false;
	return true;
}

static bool check_misc(const struct vmx_guest_state *s, char *why, size_t len)
{
	if (s->activity > 3)
		snprintf(why, len, "activity state %u is not 0-3", s->activity);
	else if (s->interruptibility & GENMASK(31, 5))
		snprintf(why, len, "interruptibility 0x%x has reserved bits", s->interruptibility);
	else if (s->link != ~0ull)
		snprintf(why, len, "VMCS link pointer 0x%llx is not all ones (no shadow VMCS)",
			 (unsigned long long)s->link);
	else
		return false;
	return true;
}

/* The first rule of SDM 27.3.1 the state breaks, in why[]; false when none
 * of the rules checked here is broken. Hardware only reports "invalid guest
 * state"; this names the field. It covers what Keel sets, not every rule. */
bool vmx_guest_state_problem(const struct vmx_guest_state *s, const struct vmx_caps *c,
			     char *why, size_t len)
{
	return check_crs(s, c, why, len) || check_rip_rflags(s, why, len) ||
	       check_segments(s, why, len) || check_misc(s, why, len);
}

/* Host-state checks (SDM 27.2.2-27.2.4), for VM-instruction error 8. */
bool vmx_host_state_problem(const struct vmx_host_state *s, const struct vmx_caps *c,
			    char *why, size_t len)
{
	const u16 sels[] = { s->cs, s->ss, s->ds, s->es, s->fs, s->gs, s->tr };
	const u64 bases[] = { s->fs_base, s->gs_base, s->tr_base, s->gdtr_base, s->idtr_base };
	bool long_host = s->exit_ctls & EXIT_CTL_HOST_ADDR_SPACE_SIZE;
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(sels) && !(sels[i] & 7); i++)
		;
	if ((s->cr0 & c->cr0_fixed0) != c->cr0_fixed0 || (s->cr0 & ~c->cr0_fixed1) ||
	    (s->cr4 & c->cr4_fixed0) != c->cr4_fixed0 || (s->cr4 & ~c->cr4_fixed1))
		snprintf(why, len, "host CR0 0x%llx / CR4 0x%llx outside the VMX fixed bits",
			 (unsigned long long)s->cr0, (unsigned long long)s->cr4);
	else if (i < ARRAY_SIZE(sels))
		snprintf(why, len, "host selector 0x%x has RPL or TI set (CS SS DS ES FS GS TR order: #%u)",
			 sels[i], i);
	else if (!s->cs || !s->tr)
		snprintf(why, len, "host %s selector is 0 (firmware runs with TR = 0: load Keel's GDT and TSS)",
			 s->cs ? "TR" : "CS");
	else if (!long_host && !s->ss)
		snprintf(why, len, "host SS is 0 outside 64-bit mode");
	else if (!!(s->efer & EFER_LMA) != long_host || !!(s->efer & EFER_LME) != long_host)
		snprintf(why, len, "host EFER 0x%llx LMA/LME differ from the host address-space size control",
			 (unsigned long long)s->efer);
	else if (long_host && (!(s->cr4 & X86_CR4_PAE) || !is_canonical(s->rip)))
		snprintf(why, len, "64-bit host needs CR4.PAE and a canonical RIP (0x%llx)",
			 (unsigned long long)s->rip);
	else {
		for (i = 0; i < ARRAY_SIZE(bases) && is_canonical(bases[i]); i++)
			;
		if (i == ARRAY_SIZE(bases))
			return false;
		snprintf(why, len, "host base 0x%llx not canonical (FS GS TR GDTR IDTR order: #%u)",
			 (unsigned long long)bases[i], i);
	}
	return true;
}

/* One control word against its capability MSR. */
static bool word_bad(u32 word, u64 cap)
{
	return (word & (u32)cap) != (u32)cap || (word & ~(u32)(cap >> 32));
}

static bool check_words(const struct vmx_control_state *s, char *why, size_t len)
{
	const char *bad = word_bad(s->pin, s->cap_pin) ? "pin-based"
		: word_bad(s->proc, s->cap_proc) ? "processor-based"
		: (s->proc & PROC_SECONDARY_CTLS) && word_bad(s->proc2, s->cap_proc2) ? "secondary"
		: word_bad(s->exit, s->cap_exit) ? "VM-exit"
		: word_bad(s->entry, s->cap_entry) ? "VM-entry" : NULL;

	if (bad)
		snprintf(why, len, "%s controls break their allowed-0/allowed-1 settings", bad);
	return bad;
}

/* EPTP (SDM 25.6.11 and 27.2.1.1): memory type the CPU allows, 4-level walk,
 * A/D only when offered, reserved bits 11:7 clear. */
static bool check_eptp(const struct vmx_control_state *s, char *why, size_t len)
{
	u64 type = s->eptp & 7;
	bool type_ok = (type == 6 && (s->ept_vpid & EPT_CAP_WB)) ||
		       (type == 0 && (s->ept_vpid & BIT(8)));

	if (!type_ok || ((s->eptp >> 3) & 7) != 3 || (s->eptp & GENMASK(11, 7)) ||
	    ((s->eptp & EPTP_AD_ENABLE) && !(s->ept_vpid & EPT_CAP_AD))) {
		snprintf(why, len, "EPT pointer 0x%llx invalid for IA32_VMX_EPT_VPID_CAP 0x%llx",
			 (unsigned long long)s->eptp, (unsigned long long)s->ept_vpid);
		return true;
	}
	return false;
}

/* The injected event (SDM 27.2.1.3): no reserved type or bits, NMI is
 * vector 2, hardware exceptions are vectors 0-31, only they carry an error
 * code. */
static bool check_injection(u32 info, char *why, size_t len)
{
	u32 type = (info & INTR_INFO_TYPE) >> 8, vector = info & INTR_INFO_VECTOR;

	if (!(info & INTR_INFO_VALID))
		return false;
	if (type == 1 || type == 7 || (info & GENMASK(30, 12)) ||
	    (type == INTR_TYPE_NMI && vector != 2) ||
	    (type == INTR_TYPE_HW_EXCEPTION && vector > 31) ||
	    ((info & INTR_INFO_HAS_ERROR) && type != INTR_TYPE_HW_EXCEPTION)) {
		snprintf(why, len, "VM-entry interruption information 0x%x is malformed", info);
		return true;
	}
	return false;
}

/* Control checks (SDM 27.2.1), for VM-instruction error 7. */
bool vmx_controls_problem(const struct vmx_control_state *s, char *why, size_t len)
{
	u32 proc2 = (s->proc & PROC_SECONDARY_CTLS) ? s->proc2 : 0;

	if (check_words(s, why, len))
		return true;
	if ((proc2 & PROC2_ENABLE_EPT) && check_eptp(s, why, len))
		return true;
	if ((proc2 & PROC2_ENABLE_VPID) && !s->vpid)
		snprintf(why, len, "VPID enabled with VPID 0 (the host's)");
	else if ((proc2 & PROC2_UNRESTRICTED_GUEST) && !(proc2 & PROC2_ENABLE_EPT))
		snprintf(why, len, "unrestricted guest without EPT");
	else if (s->cr3_targets > 4)
		snprintf(why, len, "CR3-target count %u above 4", s->cr3_targets);
	else
		return check_injection(s->entry_intr, why, len);
	return true;
}

/* VPIDs from a bitmap shared by every CPU: lock-free, so vCPUs may be
 * created and destroyed on any CPU at once. Bit 0 of word 0 must be set by
 * the owner (VPID 0 is the host's). Returns 0 when all are taken: the vCPU
 * then runs with VPID off, which is correct, only slower. */
u16 vmx_vpid_alloc(u64 *map, size_t words)
{
	for (size_t w = 0; w < words; w++) {
		u64 old = __atomic_load_n(&map[w], __ATOMIC_RELAXED);

		while (~old) {
			u64 bit = ~old & (old + 1); /* lowest clear bit */

			if (__atomic_compare_exchange_n(&map[w], &old, old | bit, false,
							__ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
				return (u16)(w * 64 + (size_t)__builtin_ctzll(bit));
		}
	}
	return 0;
}

void vmx_vpid_free(u64 *map, u16 vpid)
{
	if (vpid)
		__atomic_fetch_and(&map[vpid / 64], ~BIT(vpid % 64), __ATOMIC_RELEASE);
}
