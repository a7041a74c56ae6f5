// SPDX-License-Identifier: MIT
/*
 * Creating a VM, running its vCPU until the guest ends or Keel stops it,
 * and tearing it down. The run loop is the only place that enters the
 * guest; every exit goes through vmm_handle_exit().
 */
#include <stdarg.h>
#include <keel/errno.h>
#include <keel/host.h>
#include <keel/string.h>
#include "arch/x86/cpu.h"
#include "arch/x86/pcpu.h"
#include "arch/x86/smp.h"
#include "guest/abi.h"
#include "mmu/mmu.h"
#include "vmm/guest_setup.h"
#include "vmm/smp.h"
#include "vmm/vmm.h"

void vm_stop(struct vm *vm, const char *fmt, ...)
{
	va_list ap;

	if (vm->state != VM_RUNNING)
		return;
	va_start(ap, fmt);
	vsnprintf(vm->stop_reason, sizeof(vm->stop_reason), fmt, ap);
	va_end(ap);
	__atomic_store_n(&vm->state, VM_STOPPED, __ATOMIC_RELEASE);
	host_log("keel: vm %s stopped: %s\n", vm->name, vm->stop_reason);
	vmm_kick_all(vm); /* vCPUs on other CPUs see it at their next exit */
}

/* One memslot per RAM region boot/ reserved; their alignment lets the MMU
 * map 2 MiB- and 1 GiB-aligned guest regions with huge pages. */
static int vm_add_ram(struct vm *vm, const struct vm_setup *s)
{
	vm->nr_ram = s->nr_ram;
	memcpy(vm->ram, s->ram, sizeof(vm->ram));
	for (unsigned i = 0; i < s->nr_ram; i++) {
		const struct vm_ram_region *r = &s->ram[i];
		struct memslot_desc d = {
			.id = (u16)i,
			.base_gfn = gpa_to_gfn(r->gpa),
			.npages = r->size / PAGE_SIZE,
			.backing = hpa_to_hfn(r->hpa),
			.flags = 0,
		};
		int err = mmu_slot_add(vm->mmu, &d);

		if (err) {
			host_log("keel: vm %s: memslot %u (gpa 0x%llx, %llu MiB) refused: %d\n",
				 vm->name, i, (unsigned long long)r->gpa.v,
				 (unsigned long long)(r->size >> 20), err);
			return err;
		}
	}
	return 0;
}

static struct vm *vm_create(const struct vendor_ops *ops, const struct vm_setup *s)
{
	struct vm *vm = host_alloc(sizeof(*vm));

	if (!vm)
		return NULL;
	snprintf(vm->name, sizeof(vm->name), "%s", s->name);
	vm->ops = ops;
	vm->mem_size = s->mem_size;
	vm->test_port_value = KEEL_TEST_PORT_RESET;
	vm->mmu = mmu_create(ops->tdp_format);
	if (vm->mmu)
		mmu_set_max_page_level(vm->mmu, ops->tdp_max_level());
	if (!vm->mmu || vm_add_ram(vm, s)) {
		if (vm->mmu)
			mmu_destroy(vm->mmu);
		host_free(vm);
		return NULL;
	}
	return vm;
}

/* The MMU's remote flush kicks a vCPU in guest mode through its CPU. */
static void vcpu_kick(void *arg)
{
	pcpu_kick(((struct pcpu *)arg)->id);
}

/* On the CPU that will run it (v->cpu), with v->id and v->regs set: the
 * backend builds the VMCB/VMCS from v->regs. */
int vmm_vcpu_setup(struct vm *vm, struct vcpu *v)
{
	int r;

	v->mmu = mmu_vcpu_create(vm->mmu, v->id);
	if (!v->mmu)
		return -ENOMEM;
	mmu_vcpu_set_kick(v->mmu, vcpu_kick, pcpu_get(v->cpu)); /* pinned: v->cpu */
	r = vm->ops->vcpu_init(v);
	if (r)
		mmu_vcpu_destroy(v->mmu);
	return r;
}

static int vcpu_create(struct vm *vm, struct vcpu *v, const struct vcpu_regs *initial)
{
	memset(v, 0, sizeof(*v));
	v->vm = vm;
	v->id = 0;
	v->cpu = host_cpu_id();
	v->regs = *initial;
	return vmm_vcpu_setup(vm, v);
}

/* On the CPU that ran it. */
void vmm_vcpu_teardown(struct vcpu *v)
{
	v->vm->ops->vcpu_free(v);
	mmu_vcpu_destroy(v->mmu);
}

static bool vm_running(struct vm *vm)
{
	return __atomic_load_n(&vm->state, __ATOMIC_ACQUIRE) == VM_RUNNING;
}

/* Enter the guest until it ends, is stopped, or this vCPU leaves. */
void vm_run_loop(struct vm *vm, struct vcpu *v)
{
	while (vm_running(vm) && !v->leave) {
		hpa_t root;
		bool flush = false;

		if (mmu_vcpu_load_root(v->mmu, &root, &flush)) {
			vm_stop(vm, "no memory for a TDP root");
			break;
		}
		if (vm->ops->vcpu_run(v, root, flush)) {
			mmu_vcpu_exit_guest(v->mmu);
			vm->ops->dump(v);
			vm_stop(vm, "guest entry failed");
			break;
		}
		mmu_vcpu_exit_guest(v->mmu); /* out of guest mode before any MMU call */
		v->stats.exits++;
		vmm_handle_exit(v);
	}
}

static void vm_collect(const struct vm *vm, struct vm_result *res)
{
	memset(res, 0, sizeof(*res));
	res->pass = vm->state == VM_DONE && vm->guest_pass;
	for (unsigned i = 0; i < vm->max_vcpus; i++) {
		if (!vm->vcpus[i])
			continue;
		res->vcpus++;
		res->exits += vm->vcpus[i]->stats.exits;
		res->npf += vm->vcpus[i]->stats.tdp_faults;
	}
	res->failures = vm->guest_failures;
	res->tests = vm->guest_tests;
	res->open_bus = vm->open_bus_reads + vm->open_bus_writes;
	memcpy(res->stop_reason, vm->stop_reason, sizeof(res->stop_reason));
	mmu_get_stats(vm->mmu, &res->mmu);
	mmu_get_flush_stats(vm->mmu, &res->flush);
}

static void log_time(const struct vm *vm, const struct vm_result *res, u64 ns)
{
	host_log("keel: vm %s ran %llu ms: %llu exits, %llu nested page faults\n", vm->name,
		 (unsigned long long)(ns / 1000000), (unsigned long long)res->exits,
		 (unsigned long long)res->npf);
}

/*
 * Guest RAM comes from memory the firmware used; the guest must not see
 * what was there. Clearing it all up front costs one pass over guest RAM
 * (the self-test touches every page anyway).
 */
static void vm_scrub_ram(const struct vm_setup *s)
{
	u64 t0 = host_time_ns();

	for (unsigned i = 0; i < s->nr_ram; i++)
		memset((void *)(uintptr_t)s->ram[i].hpa.v, 0, s->ram[i].size);
	host_log("keel: guest RAM cleared in %llu ms\n",
		 (unsigned long long)((host_time_ns() - t0) / 1000000));
}

int vm_run_guest(const struct vendor_ops *ops, const struct vm_setup *s, struct vm_result *res)
{
	struct pcpu *cpu = pcpu_this();
	struct vcpu_regs initial;
	struct vcpu v;
	struct vm *vm;
	int r = ops->cpu_enable(cpu);

	if (r)
		return r;
	vm_scrub_ram(s);
	vm = vm_create(ops, s);
	if (!vm) {
		ops->cpu_disable(cpu);
		return -ENOMEM;
	}
	vm->max_vcpus = s->max_vcpus ? s->max_vcpus : host_cpu_count();
	vm->max_vcpus = MIN(MIN(vm->max_vcpus, host_cpu_count()), VM_MAX_VCPUS);
	r = guest_setup(vm, s, &initial);
	if (!r)
		r = vcpu_create(vm, &v, &initial);
	if (!r)
		vm->vcpus[0] = &v;
	if (!r) {
		u64 t0 = host_time_ns();

		host_log("keel: vm %s: entering guest at rip=0x%llx\n", vm->name,
			 (unsigned long long)v.regs.rip);
		vm_run_loop(vm, &v);
		vmm_end_other_vcpus(vm);
		vm_collect(vm, res);
		log_time(vm, res, host_time_ns() - t0);
		vmm_vcpu_teardown(&v);
		vm->vcpus[0] = NULL;
		vmm_free_other_vcpus(vm);
	}
	mmu_destroy(vm->mmu);
	host_free(vm);
	ops->cpu_disable(cpu);
	return r;
}
