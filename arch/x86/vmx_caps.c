/* SPDX-License-Identifier: MIT */
/*
 * What the CPU's VMX can do, and the controls Keel will run with.
 *
 * Every VMX control word has a pair of capability MSRs: the low 32 bits say
 * which bits must be 1 (allowed-0 settings), the high 32 bits which may be 1
 * (allowed-1 settings). When IA32_VMX_BASIC bit 55 is set, the TRUE_* MSRs
 * hold the exact settings and the plain ones force some "default1" bits (for
 * instance CR3-load exiting) that EPT makes unnecessary, so Keel reads the
 * TRUE_* ones then.
 */
#include <keel/errno.h>
#include <keel/host.h>
#include <keel/string.h>

#include "arch/x86/vmx.h"

struct vmx_caps vmx_caps;

/* The controls Keel needs, and the ones it takes when they are offered. */
#define PIN_REQUIRED (PIN_EXT_INTR_EXITING | PIN_NMI_EXITING)
/* Virtual NMIs: the CPU tracks the guest's NMI blocking (and offers NMI-
 * window exits); the preemption timer gives Keel the CPU back. */
#define PIN_OPTIONAL (PIN_VIRTUAL_NMIS | PIN_PREEMPT_TIMER)
/* MOV CR8 exits, so the guest's TPR never reaches the host's LAPIC. */
#define PROC_OPTIONAL (PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING)
#define PROC_REQUIRED (PROC_HLT_EXITING | PROC_UNCOND_IO_EXITING | PROC_SECONDARY_CTLS)
#define PROC2_REQUIRED PROC2_ENABLE_EPT
#define PROC2_OPTIONAL (PROC2_ENABLE_VPID | PROC2_UNRESTRICTED_GUEST)
/* Acknowledging the interrupt on exit consumes it: Keel runs with IF=0, and
 * an unacknowledged interrupt would stay pending and end every later entry
 * at once (a livelock on hardware). Every VMX CPU has it. */
#define EXIT_REQUIRED (EXIT_CTL_HOST_ADDR_SPACE_SIZE | EXIT_CTL_SAVE_EFER | EXIT_CTL_LOAD_EFER | \
		       EXIT_CTL_ACK_INTR_ON_EXIT)
#define ENTRY_REQUIRED (ENTRY_CTL_IA32E_GUEST | ENTRY_CTL_LOAD_EFER)
/* mmu/spte_ept.c puts leaves at 4 KiB, 2 MiB and, where EPT_CAP_1G says so
 * (vmx_tdp_max_level), 1 GiB. */
#define EPT_REQUIRED (EPT_CAP_WALK_4 | EPT_CAP_WB | EPT_CAP_2M | EPT_CAP_INVEPT)

bool vmx_detect(void)
{
	char vendor[13];

	cpu_vendor_string(vendor);
	return !strcmp(vendor, "GenuineIntel");
}

static u64 ctl_msr(u32 plain, u32 true_msr)
{
	return rdmsr(vmx_caps.true_ctls ? true_msr : plain);
}

/* Adjust one control word; on a missing required bit say which MSR. */
static int take_ctls(u32 *out, u64 cap, u32 want, u32 required, const char *what,
		     char *why, size_t len)
{
	*out = vmx_adjust_ctls(cap, want);
	if (vmx_ctls_ok(cap, required, *out))
		return 0;
	snprintf(why, len, "vmx: %s controls lack required bits 0x%x (allowed-1 0x%x)", what,
		 required & ~*out, (u32)(cap >> 32));
	return -ENOTSUP;
}

static int read_basic(char *why, size_t len)
{
	u64 basic = rdmsr(MSR_IA32_VMX_BASIC);
	u64 size = (basic & VMX_BASIC_REGION_SIZE) >> 32;

	vmx_caps.revision = basic & VMX_BASIC_REVISION;
	vmx_caps.true_ctls = basic & VMX_BASIC_TRUE_CTLS;
	if (size == 0 || size > PAGE_SIZE) {
		snprintf(why, len, "vmx: VMCS region size %llu unsupported (IA32_VMX_BASIC 0x%llx)",
			 (unsigned long long)size, (unsigned long long)basic);
		return -ENOTSUP;
	}
	return 0;
}

static int read_controls(char *why, size_t len)
{
	struct vmx_caps *c = &vmx_caps;
	u64 proc2_cap, proc_cap;
	int err;

	err = take_ctls(&c->pin, ctl_msr(MSR_IA32_VMX_PINBASED_CTLS, MSR_IA32_VMX_TRUE_PINBASED_CTLS),
			PIN_REQUIRED | PIN_OPTIONAL, PIN_REQUIRED, "pin-based", why, len);
	proc_cap = ctl_msr(MSR_IA32_VMX_PROCBASED_CTLS, MSR_IA32_VMX_TRUE_PROCBASED_CTLS);
	if (!err)
		err = take_ctls(&c->proc, proc_cap, PROC_REQUIRED | PROC_OPTIONAL, PROC_REQUIRED,
				"processor-based", why, len);
	if (err)
		return err;
	c->irq_window = (proc_cap >> 32) & PROC_IRQ_WINDOW_EXITING;
	c->nmi_window = ((proc_cap >> 32) & PROC_NMI_WINDOW_EXITING) && (c->pin & PIN_VIRTUAL_NMIS);
	c->preempt_timer = c->pin & PIN_PREEMPT_TIMER;
	if (c->preempt_timer)
		c->preempt_rate = rdmsr(MSR_IA32_VMX_MISC) & VMX_MISC_PREEMPT_RATE;
	proc2_cap = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2);
	err = take_ctls(&c->proc2, proc2_cap, PROC2_REQUIRED | PROC2_OPTIONAL, PROC2_REQUIRED,
			"secondary processor-based (EPT)", why, len);
	if (!err)
		err = take_ctls(&c->exit, ctl_msr(MSR_IA32_VMX_EXIT_CTLS, MSR_IA32_VMX_TRUE_EXIT_CTLS),
				EXIT_REQUIRED, EXIT_REQUIRED, "VM-exit", why, len);
	if (!err)
		err = take_ctls(&c->entry, ctl_msr(MSR_IA32_VMX_ENTRY_CTLS,
						   MSR_IA32_VMX_TRUE_ENTRY_CTLS),
				ENTRY_REQUIRED, ENTRY_REQUIRED, "VM-entry", why, len);
	return err;
}

static int read_ept_vpid(char *why, size_t len)
{
	struct vmx_caps *c = &vmx_caps;

	c->ept_vpid = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
	if ((c->ept_vpid & EPT_REQUIRED) != EPT_REQUIRED ||
	    !(c->ept_vpid & (EPT_CAP_INVEPT_SINGLE | EPT_CAP_INVEPT_ALL))) {
		snprintf(why, len,
			 "vmx: EPT lacks one of 4-level walk, write-back, 2 MiB pages, INVEPT "
			 "(IA32_VMX_EPT_VPID_CAP 0x%llx)",
			 (unsigned long long)c->ept_vpid);
		return -ENOTSUP;
	}
	/* VPID is only worth having when INVVPID can flush one context or all;
	 * without it every entry and exit flushes VPID 0 anyway. */
	if (!(c->ept_vpid & VPID_CAP_INVVPID) ||
	    !(c->ept_vpid & (VPID_CAP_INVVPID_SINGLE | VPID_CAP_INVVPID_ALL)))
		c->proc2 &= ~PROC2_ENABLE_VPID;
	c->vpid = c->proc2 & PROC2_ENABLE_VPID;
	c->unrestricted = c->proc2 & PROC2_UNRESTRICTED_GUEST;
	c->ept_ad = c->ept_vpid & EPT_CAP_AD;
	return 0;
}

static void read_fixed(void)
{
	struct vmx_caps *c = &vmx_caps;

	c->cr0_fixed0 = rdmsr(MSR_IA32_VMX_CR0_FIXED0);
	c->cr0_fixed1 = rdmsr(MSR_IA32_VMX_CR0_FIXED1);
	c->cr4_fixed0 = rdmsr(MSR_IA32_VMX_CR4_FIXED0);
	c->cr4_fixed1 = rdmsr(MSR_IA32_VMX_CR4_FIXED1);
}

/* Read every capability MSR once, into vmx_caps. Only valid when CPUID says
 * VMX exists: the MSRs #GP otherwise. */
int vmx_caps_read(char *why, size_t len)
{
	int err = read_basic(why, len);

	if (!err)
		err = read_controls(why, len);
	if (!err)
		err = read_ept_vpid(why, len);
	if (err)
		return err;
	read_fixed();
	return 0;
}

static void log_caps(void)
{
	const struct vmx_caps *c = &vmx_caps;
	u64 e = c->ept_vpid;

	host_log("vmx: VMCS revision 0x%x%s; EPT 4K%s%s%s%s; INVEPT %s; VPID %s; "
		 "unrestricted guest %s; preemption timer %s; virtual NMIs %s\n",
		 c->revision, c->true_ctls ? ", TRUE_* controls" : "",
		 e & EPT_CAP_2M ? " 2M" : "", e & EPT_CAP_1G ? " 1G" : "",
		 c->ept_ad ? " A/D" : "", e & EPT_CAP_EXEC_ONLY ? " exec-only" : "",
		 e & EPT_CAP_INVEPT_SINGLE ? "single-context" : "all-context",
		 !c->vpid ? "off" : e & VPID_CAP_INVVPID_SINGLE ? "on (INVVPID single-context)"
							       : "on (INVVPID all-context)",
		 c->unrestricted ? "yes" : "no", c->preempt_timer ? "yes" : "no",
		 (c->pin & PIN_VIRTUAL_NMIS) ? "yes" : "no");
}

/* VMX present, not locked off by the firmware, with EPT: the honest answer
 * to "can Keel run guests here", with the reason when not. */
int vmx_check(char *why, size_t len)
{
	u64 fc;
	int err;

	if (!(cpuid(1).ecx & CPUID_1_ECX_VMX)) {
		snprintf(why, len, "vmx: CPU has no VMX (CPUID.1:ECX bit 5 clear)");
		return -ENODEV;
	}
	fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
	if ((fc & FEATURE_CONTROL_LOCKED) && !(fc & FEATURE_CONTROL_VMXON_OUTSIDE_SMX)) {
		snprintf(why, len,
			 "vmx: disabled by firmware (IA32_FEATURE_CONTROL 0x%llx is locked with "
			 "VMXON outside SMX off; enable VT-x in the firmware setup)",
			 (unsigned long long)fc);
		return -ENODEV;
	}
	err = vmx_caps_read(why, len);
	if (!err)
		log_caps();
	return err;
}

int vmx_tdp_max_level(void)
{
	return (vmx_caps.ept_vpid & EPT_CAP_1G) ? 3 : 2;
}
