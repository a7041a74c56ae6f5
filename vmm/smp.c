// SPDX-License-Identifier: MIT
/*
 * A VM with several vCPUs, each pinned to its own host CPU (vCPU i on CPU
 * i): starting one by hypercall, ending them all, and the MMU hypercalls
 * the self-test's SMP part uses to exercise remote flushes (dirty logging
 * while others write, zaps while others read). docs/guest-abi.md has the
 * guest's side.
 */
#include <keel/errno.h>
#include <keel/host.h>
#include <keel/string.h>
#include "arch/x86/cpu.h"
#include "arch/x86/smp.h"
#include "guest/abi.h"
#include "mmu/mmu.h"
#include "vmm/smp.h"
#include "vmm/vmm.h"

#define VCPU_END_TIMEOUT_NS (10ull * 1000000000ull)

/* ---- starting and ending vCPUs ---- */

static void vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct vm *vm = v->vm;

	if (vmm_vcpu_setup(vm, v) == 0) {
		vm_run_loop(vm, v);
		vmm_vcpu_teardown(v);
	} else {
		vm_stop(vm, "vcpu %u: cannot be set up on cpu %u", v->id, v->cpu);
	}
	__atomic_store_n(&vm->vcpu_finished[v->id], 1, __ATOMIC_RELEASE);
}

static u64 hc_vcpu_start(struct vcpu *caller)
{
	struct vm *vm = caller->vm;
	u64 id = caller->regs.rbx;
	struct vcpu *v;
	int r;

	if (caller->id != 0 || id == 0 || id >= vm->max_vcpus)
		return (u64)-EINVAL;
	if (vm->vcpus[id])
		return (u64)-EEXIST;
	v = host_alloc(sizeof(*v));
	if (!v)
		return (u64)-ENOMEM;
	memset(v, 0, sizeof(*v));
	v->vm = vm;
	v->id = (unsigned)id;
	v->cpu = (unsigned)id;
	/* The caller's mode, segments, descriptor tables and XCR0 (the
	 * backend loads every field, vmm/vcpu.h); fresh GPRs, no event state. */
	v->regs = caller->regs;
	memset(&v->regs, 0, offsetof(struct vcpu_regs, rip));
	v->regs.cr2 = 0;
	v->regs.rflags = 0x2;
	v->regs.sti_shadow = v->regs.movss_shadow = v->regs.nmi_blocked = false;
	v->regs.rip = caller->regs.rcx;
	v->regs.rsp = caller->regs.rdx;
	v->regs.rdi = id;
	vm->vcpus[id] = v;
	r = pcpu_run_on(v->cpu, vcpu_thread, v);
	if (r) {
		vm->vcpus[id] = NULL;
		host_free(v);
		return (u64)(s64)r;
	}
	host_log("keel: vm %s: vcpu %u started on cpu %u at rip=0x%llx\n", vm->name, v->id,
		 v->cpu, (unsigned long long)v->regs.rip);
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
