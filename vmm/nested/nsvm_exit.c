// SPDX-License-Identifier: MIT
/*
 * Running L2 and routing its exits (docs/nested-svm.md, "Exit routing").
 * Every L2 entry rebuilds the VMCB02's save area from v->regs (L2's state
 * while L2 runs) and gets its nested root: the shadow NPT of (nCR3, ASID)
 * from the nested MMU, or, without nested paging in VMCB12, Keel's own TDP
 * root for L1 (L2's addresses are then L1's). After the exit: physical
 * events are Keel's, an NPF goes to the shadow MMU (reflected when L1's
 * NPT does not allow the access), an exit L1 intercepts is reflected with
 * the hardware's EXITINFO1/2, EXITINTINFO and an nRIP Keel decodes, and
 * everything else is handled by Keel for L2 as it would be for L1.
 */
#include <keel/errno.h>
#include <keel/host.h>
#include "arch/x86/cpu.h"
#include "arch/x86/vendor.h"
#include "rt/log.h"
#include "vmm/insn_decode.h"
#include "vmm/nested/nested.h"
#include "vmm/nested/nsvm.h"
#include "vmm/vcpu_state.h"
#include "vmm/vmm.h"

#define NPF_REPEAT_LIMIT 10000
#define EVICT_RETRY_LIMIT 3

bool vmm_nested_in_l2(const struct vcpu *v)
{
	return v->nested && v->nested->in_l2;
}

static int l2_root(struct vcpu *v, struct nsvm_vcpu *n, hpa_t l1_root, bool l1_flush,
		   hpa_t *root, bool *flush)
{
	int r;

	*flush = n->l2_flush;
	n->l2_flush = false;
	if (!n->np) {
		*root = l1_root;
		*flush |= l1_flush;
		return 0;
	}
	r = nmmu_root_get(n->nv, GPA(n->c12.ncr3), n->c12.asid, &n->mode, root, flush);
	if (r == -ENOMEM || r == -EBUSY) {
		nmmu_evict(v->vm->nmmu);
		r = nmmu_root_get(n->nv, GPA(n->c12.ncr3), n->c12.asid, &n->mode, root, flush);
	}
	*flush |= n->l2_flush;
	return r;
}

static int run_l2(struct vcpu *v, struct nsvm_vcpu *n, hpa_t l1_root, bool l1_flush)
{
	struct vmcb *v02 = n->vmcb02;
	u64 vintr = v02->ctl.vintr, l1_cr8 = v->regs.cr8;
	hpa_t root;
	bool flush;
	int r = l2_root(v, n, l1_root, l1_flush, &root, &flush);

	if (r) {
		vm_stop(v->vm, "nested SVM: no shadow root for nCR3 0x%llx ASID %u (%d)",
			(unsigned long long)n->c12.ncr3, n->c12.asid, r);
		return r;
	}
	svm_regs_to_vmcb(v02, &v->regs);
	v02->ctl.vintr = vintr; /* L2's V_TPR, not L1's CR8 */
	v->vm->ops->nested->run_l2(v, v02, root, flush);
	if (n->np)
		nmmu_vcpu_exit_guest(n->nv); /* before anything that may wait */
	svm_vmcb_to_regs(&v->regs, v02);
	v->regs.cr8 = l1_cr8;
	v02->ctl.event_inj = svm_reinjection(v02->ctl.exit_int_info); /* as for L1 */
	return 0;
}

int vmm_enter_guest(struct vcpu *v, hpa_t root, bool flush)
{
	struct nsvm_vcpu *n = v->nested;

	if (!n || !n->in_l2) {
		if (n && n->l1_flush) {
			flush = true;
			n->l1_flush = false;
		}
		return v->vm->ops->vcpu_run(v, root, flush);
	}
	n->l1_flush |= flush; /* L1's ASID is not entered now: owed */
	return run_l2(v, n, root, flush);
}

/* ---- exits ---- */

/* ctx: the struct vm whose L1 memory is read. */
static bool read_l1_byte(void *ctx, u64 pa, u8 *out)
{
	return !vmm_read_guest(ctx, GPA(pa), out, 1);
}

/* The next RIP the hardware's NRIP save gives for an instruction
 * intercept: IOIO's EXITINFO2, the CPU's own nRIP, or decoded. */
static u64 l2_nrip(struct vcpu *v, u64 code)
{
	u8 b[INSN_MAX_LEN];
	size_t got;
	unsigned len;

	if (code == SVM_EXIT_IOIO)
		return v->nested->vmcb02->ctl.exit_info2;
	if (v->nested->vmcb02->ctl.next_rip)
		return v->nested->vmcb02->ctl.next_rip;
	got = vmm_fetch_insn(v, b, sizeof(b)); /* through L2's tables and L1's NPT */
	len = nsvm_insn_len(code, b, got, vcpu_code_bits(&v->regs));
	return len ? v->regs.rip + len : 0;
}

static void reflect(struct vcpu *v, struct nsvm_vcpu *n, u64 code, u64 info1, u64 info2)
{
	n->stats.reflected++;
	nsvm_vmexit(v, code, info1, info2, n->vmcb02->ctl.exit_int_info, l2_nrip(v, code));
}

static bool npf_repeats(struct vcpu *v, struct nsvm_vcpu *n, u64 gpa)
{
	if (n->repeat_gpa == gpa && n->repeat_rip == v->regs.rip)
		return ++n->repeat_count >= NPF_REPEAT_LIMIT;
	n->repeat_gpa = gpa;
	n->repeat_rip = v->regs.rip;
	n->repeat_count = 0;
	return false;
}

/* An L2 NPF under L1's nested paging: the shadow NPT (mmu/nested.h). */
static void shadow_fault(struct vcpu *v, struct nsvm_vcpu *n)
{
	const struct vmcb_control *c = &n->vmcb02->ctl;
	struct nmmu_fault_out out;
	enum nmmu_fault_result r;

	r = nmmu_page_fault(n->nv, NGPA(c->exit_info2), v->exit.tdp.access, c->exit_info1, &out);
	if (r != NMMU_FAULT_NOMEM)
		n->evict_streak = 0;
	switch (r) {
	case NMMU_FAULT_FIXED:
	case NMMU_FAULT_SPURIOUS:
	case NMMU_FAULT_RETRY:
	case NMMU_FAULT_RETRY_SLOT: /* nothing held: re-entering is the retry */
		n->stats.handled++;
		if (npf_repeats(v, n, c->exit_info2))
			vm_stop(v->vm, "nested SVM: L2 fault at 0x%llx makes no progress (%s)",
				(unsigned long long)c->exit_info2, nmmu_fault_result_name(r));
		return;
	case NMMU_FAULT_REFLECT:
		n->stats.reflected++;
		nsvm_vmexit(v, SVM_EXIT_NPF, out.exitinfo1, out.exitinfo2, c->exit_int_info, 0);
		return;
	case NMMU_FAULT_L1_MMIO:
		/* L2 reached L1's MMIO: emulate the instruction (decoded in L2)
		 * as an access to L1's device. */
		n->stats.handled++;
		v->exit.tdp.gpa = out.l1_gpa;
		vmm_handle_open_bus(v);
		return;
	case NMMU_FAULT_NOMEM:
		if (n->evict_streak++ < EVICT_RETRY_LIMIT) {
			nmmu_evict(v->vm->nmmu);
			return;
		}
		/* fall through */
	default:
		vm_stop(v->vm, "nested SVM: L2 fault at 0x%llx (L1 0x%llx): %s",
			(unsigned long long)c->exit_info2, (unsigned long long)out.l1_gpa.v,
			nmmu_fault_result_name(r));
	}
}

/* An exit L1 does not intercept (Keel's own intercept): Keel does for L2
 * what the hardware would have done, through the generic handlers where
 * their result is the same (CPUID model, MSR policy, ports, XSETBV). */
static void keel_handles(struct vcpu *v, struct nsvm_vcpu *n, u64 code)
{
	struct vm_exit *e = &v->exit;

	n->stats.handled++;
	switch (e->kind) {
	case EXIT_CPUID:
	case EXIT_RDMSR:
	case EXIT_WRMSR:
	case EXIT_XSETBV:
	case EXIT_IO:
		if (!e->next_rip)
			e->next_rip = l2_nrip(v, code);
		vmm_dispatch_exit(v);
		return;
	case EXIT_VIRT_INSN: /* a third level is not offered */
	case EXIT_HYPERCALL:
		vmm_inject_exception(v, X86_VEC_UD, false, 0);
		return;
	case EXIT_SHUTDOWN:
		vm_stop(v->vm, "nested SVM: L2 shut down (triple fault) and L1 does not "
			"intercept SHUTDOWN");
		return;
	default:
		if (code == 0x76 /* INVD: a no-op for Keel */ && l2_nrip(v, code)) {
			vmm_retire_insn(v, l2_nrip(v, code));
			return;
		}
		v->vm->ops->dump(v);
		vm_stop(v->vm, "nested SVM: L2 exit 0x%llx not intercepted by L1 and not "
			"handled by Keel", (unsigned long long)code);
	}
}

void vmm_nested_l2_exit(struct vcpu *v)
{
	struct nsvm_vcpu *n = v->nested;
	const struct vmcb_control *c = &n->vmcb02->ctl;
	u64 code = nsvm_exit_code(c->exit_code);

	n->stats.nested_exits++;
	switch (nsvm_route_exit(&n->c12, n->np, code, c->exit_info1, (u32)v->regs.rcx,
				read_l1_byte, v->vm)) {
	case NSVM_ROUTE_HOST:
		v->stats.preempts++;
		return; /* an L1 interrupt, if any, is reflected before the next entry */
	case NSVM_ROUTE_SHADOW:
		shadow_fault(v, n);
		return;
	case NSVM_ROUTE_L1_TDP:
		n->stats.handled++;
		vmm_dispatch_exit(v); /* L2 addresses are L1's: Keel's TDP fault */
		return;
	case NSVM_ROUTE_REFLECT:
		reflect(v, n, code, c->exit_info1, c->exit_info2);
		return;
	case NSVM_ROUTE_KEEL:
		keel_handles(v, n, code);
		return;
	}
}

/* ---- events ---- */

/* A physical interrupt for L1 is taken while L2 runs when L1's GIF is set
 * and, with V_INTR_MASKING, L1's RFLAGS.IF at VMRUN (else L2's) is set. */
static bool l1_irq_unmasked(const struct vcpu *v, const struct nsvm_vcpu *n)
{
	u64 rflags = (n->c12.vintr & SVM_V_INTR_MASKING) ? n->l1.rflags : v->regs.rflags;

	return rflags & X86_RFLAGS_IF;
}

bool vmm_nested_events(struct vcpu *v, bool irq_pending, bool nmi_pending)
{
	struct nsvm_vcpu *n = v->nested;

	if (!n)
		return false;
	if (n->in_l2) {
		if (nmi_pending && (n->c12.intercept3 & SVM_INTERCEPT_NMI)) {
			n->stats.reflected++;
			nsvm_vmexit(v, SVM_EXIT_NMI, 0, 0, n->vmcb02->ctl.event_inj, 0);
		} else if (irq_pending && (n->c12.intercept3 & SVM_INTERCEPT_INTR) &&
			   l1_irq_unmasked(v, n)) {
			n->stats.reflected++;
			nsvm_vmexit(v, SVM_EXIT_INTR, 0, 0, n->vmcb02->ctl.event_inj, 0);
		} else {
			return true; /* L1's events wait for its next #VMEXIT */
		}
	}
	if (!n->gif) {
		v->vm->ops->set_windows(v, false, false);
		return true; /* GIF clear: nothing reaches L1 until STGI */
	}
	return false;
}

/* An exception Keel raises for L2 (an instruction it emulated for L2
 * faulted): #VMEXIT(exception) when L1 intercepts the vector, as the CPU
 * would check, else delivered to L2 through the VMCB02. */
bool vmm_nested_inject(struct vcpu *v, u8 vector, bool has_error, u32 error)
{
	struct nsvm_vcpu *n = v->nested;
	u64 ev = vector | SVM_EVENTINJ_TYPE_EXCEPTION | SVM_EVENTINJ_VALID;

	if (!vmm_nested_in_l2(v))
		return false;
	if (vector < 32 && (n->c12.exceptions & (1u << vector))) {
		n->stats.reflected++;
		nsvm_vmexit(v, SVM_EXIT_EXCP_BASE + vector, has_error ? error : 0,
			    vector == X86_VEC_PF ? v->regs.cr2 : 0, n->vmcb02->ctl.event_inj, 0);
		return true;
	}
	if (has_error && (v->regs.cr0 & X86_CR0_PE))
		ev |= SVM_EVENTINJ_EV | ((u64)error << 32);
	v->nested->vmcb02->ctl.event_inj = ev;
	return true;
}

int vmm_nested_gpa(struct vcpu *v, u64 gpa, bool write, gpa_t *out)
{
	struct nsvm_vcpu *n = v->nested;
	struct nmmu_fault_out o;

	if (!n || !n->in_l2 || !n->np) {
		*out = GPA(gpa);
		return 0;
	}
	if (nmmu_translate(n->nv, NGPA(gpa), write ? MMU_ACC_WRITE : MMU_ACC_READ,
			   NPF_FINAL_GPA, &o) != NMMU_FAULT_FIXED)
		return -EFAULT;
	*out = o.l1_gpa;
	return 0;
}
