// SPDX-License-Identifier: MIT
/*
 * A VM with several vCPUs, each pinned to its own host CPU (vCPU i on CPU
 * i): the APs waiting for INIT/SIPI, starting one by hypercall, ending them all, and the MMU hypercalls
 * the self-test's SMP part uses to exercise remote flushes (dirty logging
 * while others write, zaps while others read). docs/guest-abi.md has the
 * guest's side.
 */
#include <keel/errno.h>
#include <keel/host.h>
#include <keel/string.h>
#include "arch/x86/cpu.h"
#include "arch/x86/host_timer.h"
#include "arch/x86/smp.h"
#include "guest/abi.h"
#include "mmu/mmu.h"
#include "vmm/dev/platform.h"
#include "vmm/smp.h"
#include "vmm/vcpu_state.h"
#include "vmm/vmm.h"

#define VCPU_END_TIMEOUT_NS (10ull * 1000000000ull)

/* ---- starting and ending vCPUs ---- */

/*
 * An AP (vCPU > 0) lives on its own host CPU from VM start to VM end:
 * it waits, not entered, until a SIPI (real mode at CS = vector << 8,
 * IP = 0, as after INIT on hardware) or KEEL_HC_VCPU_START (the caller's
 * mode at a given RIP/RSP) starts it; then it runs until the VM ends, it
 * leaves (KEEL_HC_VCPU_EXIT), or an INIT resets it: the backend's state is
 * dropped and it waits for a SIPI again.
 */
#define AP_WAIT_SLICE_NS 10000000ull /* 10 ms: the VM state is checked as often */

static bool vm_running(const struct vm *vm)
{
	return __atomic_load_n(&vm->state, __ATOMIC_ACQUIRE) == VM_RUNNING;
}

/* Sleep until a kick (INIT, SIPI, a start request) or the slice ends. */
static void ap_sleep(void)
{
	if (host_timer_ready()) {
		host_timer_arm_ns(AP_WAIT_SLICE_NS);
		host_timer_wait();
		host_timer_arm_ns(0);
	} else {
		for (int k = 0; k < 10000; k++)
			cpu_relax();
	}
}

/* The architectural state after INIT, then what starts the vCPU. */
static void ap_reset(struct vcpu *v)
{
	v->halted = v->nmi_pending = v->init = false;
	v->iret_rip = v->cr8_seen = 0;
	v->fpu_ready = false;
	memset(&v->exit, 0, sizeof(v->exit));
}

/* Wait for a start; false when the VM ended first. */
static bool ap_wait_start(struct vm *vm, struct vcpu *v)
{
	u8 vec;

	while (vm_running(vm)) {
		/* INIT while waiting changes nothing; INIT and SIPI are taken
		 * together, so an INIT that came before the SIPI cannot reset
		 * the vCPU again once it runs. */
		if (v->lapic && lapic_take_start(v->lapic, &vec)) {
			vcpu_state_real_sipi(&v->regs, vec);
			host_log("keel: vm %s: vcpu %u: SIPI vector 0x%x: starting at %04x:0000\n",
				 vm->name, v->id, vec, (unsigned)vec << 8);
			return true;
		}
		if (__atomic_load_n(&v->start_req, __ATOMIC_ACQUIRE)) {
			v->regs = v->start_regs;
			return true;
		}
		ap_sleep();
	}
	return false;
}

static void ap_thread(void *arg)
{
	struct vcpu *v = arg;
	struct vm *vm = v->vm;

	if (vmm_vcpu_prepare(vm, v)) {
		vm_stop(vm, "vcpu %u: cannot be set up on cpu %u", v->id, v->cpu);
		goto out;
	}
	while (ap_wait_start(vm, v)) {
		ap_reset(v);
		if (vm->ops->vcpu_init(v)) {
			vm->ops->dump(v);
			vm_stop(vm, "vcpu %u: its start state is refused on cpu %u", v->id, v->cpu);
			break;
		}
		__atomic_store_n(&v->started, true, __ATOMIC_RELEASE);
		vm_run_loop(vm, v);
		vmm_nested_vcpu_free(v); /* an INIT drops L1's nested state too */
		vm->ops->vcpu_free(v);
		if (!v->init)
			break; /* the VM ended or the vCPU left */
		host_log("keel: vm %s: vcpu %u: INIT: waiting for a SIPI\n", vm->name, v->id);
		__atomic_store_n(&v->start_req, 0, __ATOMIC_RELEASE);
	}
	mmu_vcpu_destroy(v->mmu);
out:
	__atomic_store_n(&vm->vcpu_finished[v->id], 1, __ATOMIC_RELEASE);
}

void vmm_start_aps(struct vm *vm)
{
	for (unsigned id = 1; id < vm->max_vcpus; id++) {
		struct vcpu *v = host_alloc(sizeof(*v));
		int r;

		if (!v) {
			host_log("keel: vm %s: no memory for vcpu %u: left out\n", vm->name, id);
			return;
		}
		memset(v, 0, sizeof(*v));
		v->vm = vm;
		v->id = id;
		v->cpu = id; /* pinned: vCPU i on host CPU i */
		vcpu_state_reset(&v->regs);
		__atomic_store_n(&vm->vcpus[id], v, __ATOMIC_RELEASE);
		r = pcpu_run_on(v->cpu, ap_thread, v);
		if (r) {
			host_log("keel: vm %s: cpu %u cannot run vcpu %u (%d): left out\n", vm->name,
				 v->cpu, id, r);
			__atomic_store_n(&vm->vcpus[id], NULL, __ATOMIC_RELEASE);
			host_free(v);
		}
	}
}

/* The self-test's start: the caller's mode, segments, descriptor tables and
 * XCR0 (the backend loads every field, vmm/vcpu.h); fresh GPRs, no event
 * state; RIP = rcx, RSP = rdx, RDI = the vCPU number. */
static u64 hc_vcpu_start(struct vcpu *caller)
{
	struct vm *vm = caller->vm;
	u64 id = caller->regs.rbx;
	struct vcpu *v;
	struct vcpu_regs *r;

	if (caller->id != 0 || id == 0 || id >= vm->max_vcpus)
		return (u64)-EINVAL;
	v = __atomic_load_n(&vm->vcpus[id], __ATOMIC_ACQUIRE);
	if (!v)
		return (u64)-ENODEV; /* its CPU could not take it (vmm_start_aps) */
	if (__atomic_load_n(&v->start_req, __ATOMIC_ACQUIRE) ||
	    __atomic_load_n(&v->started, __ATOMIC_ACQUIRE))
		return (u64)-EEXIST;
	r = &v->start_regs;
	*r = caller->regs;
	memset(r, 0, offsetof(struct vcpu_regs, rip));
	r->cr2 = 0;
	r->rflags = 0x2;
	r->sti_shadow = r->movss_shadow = r->nmi_blocked = false;
	r->rip = caller->regs.rcx;
	r->rsp = caller->regs.rdx;
	r->rdi = id;
	__atomic_store_n(&v->start_req, 1, __ATOMIC_RELEASE);
	pcpu_kick(v->cpu);
	host_log("keel: vm %s: vcpu %u started on cpu %u at rip=0x%llx\n", vm->name, v->id,
		 v->cpu, (unsigned long long)r->rip);
	return 0;
}

/* Every vCPU but the caller's: kick it until its run loop has ended (the VM
 * is no longer running, so it ends at its next exit). */
void vmm_end_other_vcpus(struct vm *vm)
{
	for (unsigned i = 1; i < vm->max_vcpus; i++) {
		u64 t0 = host_time_ns();

		if (!vm->vcpus[i])
			continue;
		while (!__atomic_load_n(&vm->vcpu_finished[i], __ATOMIC_ACQUIRE)) {
			pcpu_kick(vm->vcpus[i]->cpu);
			for (int k = 0; k < 1000; k++)
				cpu_relax();
			if (host_time_ns() - t0 > VCPU_END_TIMEOUT_NS)
				host_panic("vm %s: vcpu %u on cpu %u does not leave the guest",
					   vm->name, i, vm->vcpus[i]->cpu);
		}
		pcpu_wait(vm->vcpus[i]->cpu);
	}
}

void vmm_kick_all(struct vm *vm)
{
	for (unsigned i = 0; i < vm->max_vcpus; i++)
		if (vm->vcpus[i] && vm->vcpus[i]->cpu != host_cpu_id())
			pcpu_kick(vm->vcpus[i]->cpu);
}

void vmm_free_other_vcpus(struct vm *vm)
{
	for (unsigned i = 1; i < vm->max_vcpus; i++) {
		host_free(vm->vcpus[i]);
		vm->vcpus[i] = NULL;
	}
	for (unsigned i = 0; i < vm->nr_ram; i++) {
		host_free(vm->dirty[i]);
		vm->dirty[i] = NULL;
	}
}

/* ---- dirty logging and zaps, for the self-test ---- */

static u64 hc_dirty_log(struct vm *vm, bool on)
{
	for (unsigned i = 0; i < vm->nr_ram; i++) {
		int r = mmu_slot_set_flags(vm->mmu, (u16)i, on ? MEMSLOT_DIRTY_LOG : 0);

		if (r)
			return (u64)(s64)r;
	}
	return 0;
}

static u64 hc_dirty_harvest(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nr_ram; i++) {
		u64 words = ALIGN_UP(vm->ram[i].size / PAGE_SIZE, 64) / 64;
		int r;

		if (!vm->dirty[i])
			vm->dirty[i] = host_alloc(words * 8);
		if (!vm->dirty[i])
			return (u64)-ENOMEM;
		r = mmu_slot_get_dirty_log(vm->mmu, (u16)i, vm->dirty[i]);
		if (r)
			return (u64)(s64)r;
	}
	return 0;
}

static bool page_dirty(const struct vm *vm, u64 gpa)
{
	for (unsigned i = 0; i < vm->nr_ram; i++) {
		const struct vm_ram_region *r = &vm->ram[i];
		u64 page;

		if (gpa < r->gpa.v || gpa >= r->gpa.v + r->size)
			continue;
		page = (gpa - r->gpa.v) / PAGE_SIZE;
		return vm->dirty[i] && (vm->dirty[i][page / 64] & BIT(page % 64));
	}
	return false;
}

static u64 hc_dirty_count(struct vm *vm, u64 gpa, u64 npages)
{
	u64 n = 0;

	for (u64 p = 0; p < npages && p < (1ull << 20); p++)
		n += page_dirty(vm, gpa + p * PAGE_SIZE);
	return n;
}

static u64 hc_zap(struct vm *vm, u64 gpa, u64 len)
{
	if (!len || gpa + len < gpa)
		return (u64)-EINVAL;
	mmu_zap_gfn_range(vm->mmu, gpa_to_gfn(GPA(gpa)),
			  gpa_to_gfn(GPA(ALIGN_UP(gpa + len, PAGE_SIZE))));
	return 0;
}

bool vmm_smp_hypercall(struct vcpu *v)
{
	struct vm *vm = v->vm;
	struct vcpu_regs *r = &v->regs;

	switch (r->rax) {
	case KEEL_HC_VCPUS:
		r->rax = vm->max_vcpus;
		return true;
	case KEEL_HC_VCPU_START:
		r->rax = hc_vcpu_start(v);
		return true;
	case KEEL_HC_VCPU_EXIT:
		if (v->id == 0) {
			r->rax = (u64)-EINVAL;
			return true;
		}
		v->leave = true;
		r->rax = 0;
		return true;
	case KEEL_HC_DIRTY_LOG:
		r->rax = hc_dirty_log(vm, r->rbx != 0);
		return true;
	case KEEL_HC_DIRTY_HARVEST:
		r->rax = hc_dirty_harvest(vm);
		return true;
	case KEEL_HC_DIRTY_COUNT:
		r->rax = hc_dirty_count(vm, r->rbx, r->rcx);
		return true;
	case KEEL_HC_ZAP:
		r->rax = hc_zap(vm, r->rbx, r->rcx);
		return true;
	default:
		return false;
	}
}
