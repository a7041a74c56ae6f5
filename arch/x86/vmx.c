/* SPDX-License-Identifier: MIT */
/*
 * Intel VMX: the vendor_ops instance, per-CPU VMX operation, and running a
 * vCPU. The VMCS contents are built in vmx_vmcs.c, exits decoded in
 * vmx_exit.c, TLB flush rules live in vmx_rules.c (docs/vmx.md explains them).
 */
#include <keel/errno.h>
#include <keel/host.h>
#include <keel/string.h>
#include "mmu/mmu.h"
#include "arch/x86/pcpu.h"
#include "arch/x86/vendor.h"
#include "rt/timer.h"

#include "arch/x86/vmx.h"

#define VMX_MAX_CPUS 64
static struct vmx_cpu vmx_cpus[VMX_MAX_CPUS];

struct vmx_cpu *vmx_this_cpu(void)
{
	unsigned id = host_cpu_id();

	return id < VMX_MAX_CPUS ? &vmx_cpus[id] : NULL;
}

/* OVMF leaves IA32_FEATURE_CONTROL unlocked at 0 (Bochs, QEMU): enable VMX
 * outside SMX and lock it, as firmware would. Locked with VMX off is final
 * until reset. */
static int enable_feature_control(void)
{
	u64 fc = rdmsr(MSR_IA32_FEATURE_CONTROL);

	if (!(fc & FEATURE_CONTROL_LOCKED)) {
		fc |= FEATURE_CONTROL_LOCKED | FEATURE_CONTROL_VMXON_OUTSIDE_SMX;
		wrmsr(MSR_IA32_FEATURE_CONTROL, fc);
		return 0;
	}
	if (fc & FEATURE_CONTROL_VMXON_OUTSIDE_SMX)
		return 0;
	host_log("vmx: cpu %u: IA32_FEATURE_CONTROL 0x%llx locked with VMX off\n",
		 host_cpu_id(), (unsigned long long)fc);
	return -ENODEV;
}

/* CR0 and CR4 must respect IA32_VMX_CR{0,4}_FIXED{0,1} in VMX operation. */
static int set_host_fixed_bits(void)
{
	const struct vmx_caps *c = &vmx_caps;
	u64 cr0 = (read_cr0() | c->cr0_fixed0) & c->cr0_fixed1;
	u64 cr4 = (read_cr4() | c->cr4_fixed0 | X86_CR4_VMXE) & c->cr4_fixed1;

	if (!(cr4 & X86_CR4_VMXE)) {
		host_log("vmx: CR4.VMXE not allowed (IA32_VMX_CR4_FIXED1 0x%llx)\n",
			 (unsigned long long)c->cr4_fixed1);
		return -ENOTSUP;
	}
	write_cr0(cr0);
	write_cr4(cr4);
	return 0;
}

/* Nothing says what EPT- or VPID-tagged translations this CPU cached before
 * VMXON (an earlier Keel run, the firmware): start from a clean TLB. */
static void flush_all_contexts(void)
{
	const struct vmx_caps *c = &vmx_caps;

	if ((c->ept_vpid & EPT_CAP_INVEPT_ALL) && !vmx_invept(INV_ALL_CONTEXT, 0))
		host_log("vmx: cpu %u: INVEPT all-context failed\n", host_cpu_id());
	if (c->vpid && (c->ept_vpid & VPID_CAP_INVVPID_ALL) &&
	    !vmx_invvpid(INV_ALL_CONTEXT, 0))
		host_log("vmx: cpu %u: INVVPID all-context failed\n", host_cpu_id());
}

static int vmx_cpu_enable(struct pcpu *pcpu)
{
	struct vmx_cpu *cpu = vmx_this_cpu();
	int err;

	if (!cpu || !vmx_caps.revision) {
		host_log("vmx: cpu_enable on cpu %u before vmx_check, or beyond %u CPUs\n",
			 host_cpu_id(), VMX_MAX_CPUS);
		return -EINVAL;
	}
	if (cpu->on)
		return 0;
	err = enable_feature_control();
	if (!err)
		err = set_host_fixed_bits();
	if (err)
		return err;
	if (!cpu->vmxon && !(cpu->vmxon = host_alloc_pages(1)))
		return -ENOMEM;
	*(u32 *)cpu->vmxon = vmx_caps.revision;
	if (!vmx_vmxon((u64)cpu->vmxon)) {
		host_log("vmx: cpu %u: VMXON failed (CR0 0x%llx CR4 0x%llx)\n", host_cpu_id(),
			 (unsigned long long)read_cr0(), (unsigned long long)read_cr4());
		write_cr4(read_cr4() & ~X86_CR4_VMXE);
		return -EIO;
	}
	cpu->on = true;
	cpu->current = NULL;
	flush_all_contexts();
	pcpu->vendor = cpu;
	pcpu->enabled = true;
	host_log("vmx: cpu %u in VMX operation\n", host_cpu_id());
	return 0;
}

static void vmx_cpu_disable(struct pcpu *pcpu)
{
	struct vmx_cpu *cpu = vmx_this_cpu();

	if (!cpu || !cpu->on)
		return;
	if (cpu->current) {
		/* A vCPU still loaded here: write its VMCS back to memory first,
		 * since VMXOFF leaves the processor's copy undefined. */
		host_log("vmx: cpu %u disabled with a VMCS still current\n", host_cpu_id());
		if (!vmx_vmclear((u64)cpu->current))
			host_log("vmx: VMCLEAR %p failed\n", cpu->current);
	}
	vmx_vmxoff();
	write_cr4(read_cr4() & ~X86_CR4_VMXE);
	cpu->on = false;
	cpu->current = NULL;
	pcpu->enabled = false;
}

/* ---- VPIDs ------------------------------------------------------------------ */
#define VMX_NR_VPIDS 4096
static u64 vpid_map[VMX_NR_VPIDS / 64] = { 1 }; /* bit 0: VPID 0 is the host's */

static u16 vpid_alloc(void)
{
	return vmx_vpid_alloc(vpid_map, ARRAY_SIZE(vpid_map));
}

static void vpid_free(u16 vpid)
{
	vmx_vpid_free(vpid_map, vpid);
}

/* ---- vCPU lifetime -------------------------------------------------------- */

/* Make hw's VMCS current on this CPU. A VMCS may be active on one CPU only:
 * moving it needs VMCLEAR on the old CPU, which only that CPU can do, so a
 * vCPU that wanders is refused rather than corrupted. */
static int vmcs_load(struct vmx_vcpu *hw, bool *moved)
{
	struct vmx_cpu *cpu = vmx_this_cpu();
	unsigned id = host_cpu_id();

	*moved = false;
	if (!cpu || !cpu->on) {
		host_log("vmx: cpu %u is not in VMX operation (cpu_enable first)\n", id);
		return -EINVAL;
	}
	if (hw->cpu >= 0 && (unsigned)hw->cpu != id) {
		host_log("vmx: VMCS active on cpu %d, run on cpu %u: VMCLEAR it there first\n",
			 hw->cpu, id);
		return -EBUSY;
	}
	if (cpu->current == hw->vmcs)
		return 0;
	if (!vmx_vmptrld((u64)hw->vmcs)) {
		host_log("vmx: VMPTRLD %p failed\n", hw->vmcs);
		return -EIO;
	}
	cpu->current = hw->vmcs;
	*moved = hw->cpu < 0;
	hw->cpu = (int)id;
	return 0;
}

static void vmcs_clear(struct vmx_vcpu *hw)
{
	struct vmx_cpu *cpu = vmx_this_cpu();

	/* Outside VMX operation VMCLEAR would #UD; cpu_disable has already
	 * written back whatever was current. */
	if (cpu && cpu->on && !vmx_vmclear((u64)hw->vmcs))
		host_log("vmx: VMCLEAR %p failed\n", hw->vmcs);
	if (cpu && cpu->current == hw->vmcs)
		cpu->current = NULL;
	hw->cpu = -1;
	hw->launched = false;
}

static int vmx_vcpu_init(struct vcpu *v)
{
	struct vmx_vcpu *hw = host_alloc(sizeof(*hw));
	bool moved;
	int err;

	if (!hw || !(hw->vmcs = host_alloc_pages(1))) {
		host_free(hw);
		return -ENOMEM;
	}
	*(u32 *)hw->vmcs = vmx_caps.revision;
	hw->cpu = -1;
	hw->vpid = vmx_caps.vpid ? vpid_alloc() : 0;
	hw->flush_vpid = true; /* the VPID may have been used before */
	v->hw = hw;
	/* VMCLEAR initialises the region (launch state "clear"), VMPTRLD makes
	 * it current so the fields can be written. */
	vmcs_clear(hw);
	err = vmcs_load(hw, &moved);
	if (!err)
		err = vmx_vmcs_setup(v);
	/* Leave it clear, so the first run may happen on any CPU. */
	vmcs_clear(hw);
	if (err) {
		host_log("vmx: vcpu %u: VMCS setup failed (%d)\n", v->id, err);
		host_free_pages(hw->vmcs, 1);
		vpid_free(hw->vpid);
		host_free(hw);
		v->hw = NULL;
	}
	return err;
}

static void vmx_vcpu_free(struct vcpu *v)
{
	struct vmx_vcpu *hw = v->hw;

	if (!hw)
		return;
	if (hw->cpu >= 0 && (unsigned)hw->cpu != host_cpu_id()) {
		/* The other CPU may still write the VMCS back: keep the page. */
		host_log("vmx: vcpu %u freed while its VMCS is active on cpu %d: page leaked\n",
			 v->id, hw->cpu);
	} else {
		if (hw->cpu >= 0)
			vmcs_clear(hw);
		host_free_pages(hw->vmcs, 1);
	}
	vpid_free(hw->vpid);
	host_free(hw);
	v->hw = NULL;
}

/* ---- running ---------------------------------------------------------------- */

/* Errors 7 and 8 name a class of fields; a software check of the rules
 * Keel can break narrows it to one. */
static void explain_insn_error(struct vcpu *v, u32 err)
{
	struct vmx_control_state ctl;
	struct vmx_host_state host;
	char why[160];
	bool found;

	if (err == 7) {
		vmx_read_control_state(&ctl);
		found = vmx_controls_problem(&ctl, why, sizeof(why));
	} else if (err == 8) {
		vmx_read_host_state(&host);
		found = vmx_host_state_problem(&host, &vmx_caps, why, sizeof(why));
	} else {
		return;
	}
	if (found)
		host_log("vmx: vcpu %u: %s: %s\n", v->id, err == 7 ? "controls" : "host state", why);
	else
		host_log("vmx: vcpu %u: the fields pass Keel's checks; see the VMCS dump\n", v->id);
}

static int entry_failed(struct vcpu *v, int how, bool launched)
{
	struct vm_exit *e = &v->exit;
	const char *insn = launched ? "VMRESUME" : "VMLAUNCH";

	memset(e, 0, sizeof(*e));
	e->kind = EXIT_ENTRY_FAILED;
	if (how == VMX_ENTER_FAIL_INVALID) {
		host_log("vmx: vcpu %u: %s failed: VMfailInvalid (no current VMCS)\n", v->id, insn);
		return -EIO;
	}
	e->raw_reason = vmx_vmread(VMCS_INSN_ERROR);
	host_log("vmx: vcpu %u: %s failed: VM-instruction error %llu: %s\n", v->id, insn,
		 (unsigned long long)e->raw_reason, vmx_insn_error_name((u32)e->raw_reason));
	explain_insn_error(v, (u32)e->raw_reason);
	return -EIO;
}

static void vmx_inject_exception(struct vcpu *v, u8 vector, bool has_error, u32 error)
{
	struct vmx_vcpu *hw = v->hw;

	if (hw->pending.info & INTR_INFO_VALID)
		host_log("vmx: vcpu %u: event 0x%x not yet delivered, replaced by #%u\n", v->id,
			 hw->pending.info, vector);
	hw->pending.info = vmx_exception_info(vector, has_error);
	/* Real mode pushes no error codes; VM entry insists (SDM 26.2.1.3). */
	if (!(v->regs.cr0 & X86_CR0_PE))
		hw->pending.info &= ~INTR_INFO_HAS_ERROR;
	else if (!!(hw->pending.info & INTR_INFO_HAS_ERROR) != has_error)
		host_log("vmx: vcpu %u: #%u %s an error code architecturally; injected so\n",
			 v->id, vector, has_error ? "has no" : "has");
	hw->pending.error = error;
	hw->pending.insn_len = 0;
}

static bool vmx_event_queued(struct vcpu *v)
{
	return ((struct vmx_vcpu *)v->hw)->pending.info & INTR_INFO_VALID;
}

static void vmx_inject_irq(struct vcpu *v, u8 vector)
{
	struct vmx_vcpu *hw = v->hw;

	hw->pending = (struct vmx_event){ INTR_INFO_VALID | (INTR_TYPE_EXT_INTR << 8) | vector, 0,
					  0 };
}

/* With virtual NMIs the CPU blocks further NMIs until the guest's IRET and
 * keeps that in the interruptibility state (v->regs.nmi_blocked). */
static void vmx_inject_nmi(struct vcpu *v)
{
	struct vmx_vcpu *hw = v->hw;

	hw->pending = (struct vmx_event){ INTR_INFO_VALID | (INTR_TYPE_NMI << 8) | 2, 0, 0 };
}

static void vmx_set_windows(struct vcpu *v, bool irq, bool nmi)
{
	struct vmx_vcpu *hw = v->hw;
	u32 p = hw->proc_ctls & ~(PROC_IRQ_WINDOW_EXITING | PROC_NMI_WINDOW_EXITING);

	if (irq && vmx_caps.irq_window)
		p |= PROC_IRQ_WINDOW_EXITING;
	if (nmi && vmx_caps.nmi_window)
		p |= PROC_NMI_WINDOW_EXITING;
	hw->want_proc_ctls = p;
}

/* The VMX-preemption timer counts down at the TSC rate >> IA32_VMX_MISC[4:0]
 * (Bochs: per instruction). */
static void vmx_set_preemption(struct vcpu *v, u64 ns)
{
	struct vmx_vcpu *hw = v->hw;
	u64 tsc = ns / 1000 * (timer_tsc_hz() / 1000) / 1000;
	u64 ticks = tsc >> vmx_caps.preempt_rate;

	if (!ns)
		return; /* after the exit: the next entry sets it again */
	hw->preempt_ticks = (u32)MIN(MAX(ticks, 1ull), 0xffffffffull);
}

/* Carry out a flush plan from vmx_flush_plan(). A failing INVEPT/INVVPID
 * means a wrong operand, a Keel bug: say so loudly. */
void vmx_tlb_flush(struct vmx_vcpu *hw, unsigned plan)
{
	bool ok = true;

	if (plan & VMX_FLUSH_INVEPT_SINGLE)
		ok &= vmx_invept(INV_SINGLE_CONTEXT, hw->eptp);
	if (plan & VMX_FLUSH_INVEPT_ALL)
		ok &= vmx_invept(INV_ALL_CONTEXT, 0);
	if (plan & VMX_FLUSH_INVVPID_SINGLE)
		ok &= vmx_invvpid(INV_SINGLE_CONTEXT, hw->vpid);
	if (plan & VMX_FLUSH_INVVPID_ALL)
		ok &= vmx_invvpid(INV_ALL_CONTEXT, 0);
	if (!ok)
		host_log("vmx: TLB flush 0x%x failed (EPTP 0x%llx VPID %u)\n", plan,
			 (unsigned long long)hw->eptp, hw->vpid);
}

/* The entry failed while loading guest state: say which check, and, for
 * invalid guest state, which rule a software check finds broken. */
static void explain_entry_failure(struct vcpu *v)
{
	u32 reason = (u32)v->exit.raw_reason;
	struct vmx_guest_state s;
	char why[160];

	host_log("vmx: vcpu %u: VM entry failed: %s\n", v->id,
		 vmx_entry_fail_detail(reason, v->exit.qual[0]));
	if ((reason & VMX_EXIT_REASON_BASIC) != VMX_EXIT_INVALID_GUEST_STATE)
		return;
	vmx_read_guest_state(&s);
	if (vmx_guest_state_problem(&s, &vmx_caps, why, sizeof(why)))
		host_log("vmx: vcpu %u: guest state: %s\n", v->id, why);
	else
		host_log("vmx: vcpu %u: guest state passes Keel's checks; see the VMCS dump\n",
			 v->id);
}

/* One VM entry and exit. Returns 1 when the exit was handled here (an exit
 * generic code has no name for, such as a CR write) and the guest should be
 * entered again, 0 for an exit decoded into v->exit, or a negative error. */
static int run_once(struct vcpu *v, struct vmx_vcpu *hw, bool mmu_flush, bool new_cpu)
{
	int how;

	if (vmx_load_guest(v, hw)) {
		memset(&v->exit, 0, sizeof(v->exit));
		v->exit.kind = EXIT_ENTRY_FAILED; /* VMWRITE refused a value: logged */
		return -EIO;
	}
	vmx_tlb_flush(hw, vmx_flush_plan(&vmx_caps, hw->vpid, mmu_flush, new_cpu,
					 hw->flush_vpid));
	hw->flush_vpid = false;
	how = vmx_enter(&v->regs, hw->launched);
	vmx_host_tables_restore();
	if (how != VMX_ENTER_EXITED)
		return entry_failed(v, how, hw->launched);
	hw->launched = true;
	vmx_save_guest(v, hw);
	vmx_decode_exit(v);
	if (v->exit.kind == EXIT_ENTRY_FAILED) {
		explain_entry_failure(v);
		return -EIO;
	}
	vmx_save_idt_vectoring(hw);
	return vmx_handle_internal(v, hw);
}

static int vmx_vcpu_run(struct vcpu *v, hpa_t root, bool flush)
{
	struct vmx_vcpu *hw = v->hw;
	bool moved;
	int err = vmcs_load(hw, &moved);

	if (!err && moved)
		err = vmx_vmcs_write_host(hw);
	if (!err)
		err = vmx_set_eptp(hw, root);
	if (err) {
		memset(&v->exit, 0, sizeof(v->exit));
		v->exit.kind = EXIT_ENTRY_FAILED;
		return err;
	}
	err = run_once(v, hw, flush, moved);
	while (err == 1)
		err = run_once(v, hw, false, false);
	return err;
}

const struct vendor_ops vmx_ops = {
	.name = "vmx",
	.tdp_name = "ept",
	.tdp_format = &spte_format_ept,
	/* Off for now: with it, Linux under Bochs runs its init into a #UD on
	 * XGETBV at CPL 3 (CPUID says OSXSAVE, the CPU's CR4 apparently not);
	 * the xsetbv self-test passes either way. Not yet understood. */
	.host_xsave = false,
	.detect = vmx_detect,
	.check = vmx_check,
	.tdp_max_level = vmx_tdp_max_level,
	.cpu_enable = vmx_cpu_enable,
	.cpu_disable = vmx_cpu_disable,
	.vcpu_init = vmx_vcpu_init,
	.vcpu_free = vmx_vcpu_free,
	.vcpu_run = vmx_vcpu_run,
	.inject_exception = vmx_inject_exception,
	.event_queued = vmx_event_queued,
	.inject_irq = vmx_inject_irq,
	.inject_nmi = vmx_inject_nmi,
	.set_windows = vmx_set_windows,
	.set_preemption = vmx_set_preemption,
	.dump = vmx_dump,
};
