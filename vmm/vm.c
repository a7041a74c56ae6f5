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
#include "arch/x86/fpu.h"
#include "arch/x86/host_timer.h"
#include "arch/x86/pcpu.h"
#include "arch/x86/smp.h"
#include "guest/abi.h"
#include "mmu/mmu.h"
#include "vmm/dev/platform.h"
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
	vm->timeout_s = s->timeout_s;
	/* One vCPU per host CPU unless keel.cfg cpus says fewer; the platform
	 * gets one LAPIC per vCPU. */
	vm->max_vcpus = s->max_vcpus ? s->max_vcpus : host_cpu_count();
	vm->max_vcpus = MIN(MIN(vm->max_vcpus, host_cpu_count()), VM_MAX_VCPUS);
	vm->mmu = mmu_create(ops->tdp_format);
	if (vm->mmu)
		mmu_set_max_page_level(vm->mmu, ops->tdp_max_level());
	if (!vm->mmu || vm_add_ram(vm, s) || vm_plat_create(vm, s)) {
		if (vm->mmu)
			mmu_destroy(vm->mmu);
		host_free(vm);
		return NULL;
	}
	vmm_nested_vm_init(vm);
	return vm;
}

/* The MMU's remote flush kicks a vCPU in guest mode through its CPU. */
static void vcpu_kick(void *arg)
{
	pcpu_kick(((struct pcpu *)arg)->id);
}

/* On the CPU that will run it (v->cpu): its LAPIC and MMU view, not yet
 * the backend's state. */
int vmm_vcpu_prepare(struct vm *vm, struct vcpu *v)
{
	v->lapic = vm->plat ? plat_lapic(vm->plat, v->id) : NULL;
	v->mmu = mmu_vcpu_create(vm->mmu, v->id);
	if (!v->mmu)
		return -ENOMEM;
	mmu_vcpu_set_kick(v->mmu, vcpu_kick, pcpu_get(v->cpu)); /* pinned: v->cpu */
	return 0;
}

/* On the CPU that will run it (v->cpu), with v->id and v->regs set: the
 * backend builds the VMCB/VMCS from v->regs. */
int vmm_vcpu_setup(struct vm *vm, struct vcpu *v)
{
	int r = vmm_vcpu_prepare(vm, v);

	if (r)
		return r;
	r = vm->ops->vcpu_init(v);
	if (r)
		mmu_vcpu_destroy(v->mmu);
	v->started = !r;
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
	vmm_nested_vcpu_free(v);
	v->vm->ops->vcpu_free(v);
	mmu_vcpu_destroy(v->mmu);
}

/* The longest Keel lets a guest run without an exit: the slice after
 * which it takes the CPU back to advance virtual time, poll serial input
 * and check the timeout, whatever the guest does (a spinning "jmp $"). */
#define VM_SLICE_NS 10000000ull /* 10 ms */

static u64 vm_deadline(const struct vm *vm, const struct vcpu *v, u64 now)
{
	u64 d = now + VM_SLICE_NS;

	d = MIN(d, vmm_next_event_ns(v)); /* its LAPIC; vCPU 0: the devices too */

	if (vm->timeout_at)
		d = MIN(d, vm->timeout_at);
	return d;
}

/* Work due on every trip through the loop: virtual time (each vCPU its own
 * LAPIC timer; vCPU 0 the shared devices, vmm/dev/platform.h), host serial
 * input and the keel.cfg timeout (vCPU 0). */
static void vm_tick(struct vm *vm, struct vcpu *v)
{
	u64 now = host_time_ns();

	vmm_time_advance(v);
	if (v->id != 0)
		return;
	if (vm->timeout_at && now >= vm->timeout_at) {
		host_log("keel: vm %s: timeout: still running after %llu s (rip 0x%llx); "
			 "stopping it\n", vm->name, (unsigned long long)vm->timeout_s,
			 (unsigned long long)v->regs.rip);
		vm_stop(vm, "timeout after %llu s (keel.cfg timeout)",
			(unsigned long long)vm->timeout_s);
	}
}

/* HLT: sleep until an event can wake the vCPU. True when it stays halted
 * (the loop comes back here after the sleep). */
static bool vm_idle(struct vm *vm, struct vcpu *v)
{
	u64 now, until;

	if (!v->halted)
		return false;
	if (vmm_events_wake(v)) {
		v->halted = false;
		return false;
	}
	if (!vmm_events_can_wake(v)) {
		vm->ops->dump(v);
		vm_stop(vm, "guest halted with interrupts disabled and nothing to wake it "
			"(rip 0x%llx)", (unsigned long long)v->regs.rip);
		return true;
	}
	now = host_time_ns();
	until = vm_deadline(vm, v, now);
	if (until > now && host_timer_ready()) {
		host_timer_arm_ns(until - now);
		host_timer_wait();
		host_timer_arm_ns(0);
	}
	v->stats.idles++;
	return true;
}

/* The guest's FPU state starts reset, and the CPU's XCR0 is the guest's
 * (arch/x86/fpu.h: Keel never touches either itself). */
static void vm_load_fpu(struct vcpu *v)
{
	if (!v->fpu_ready) {
		fpu_reset(v->regs.xcr0, v->vm->ops->host_xsave);
		v->fpu_ready = true;
		v->xcr0_loaded = v->regs.xcr0;
	} else if (v->regs.xcr0 != v->xcr0_loaded && fpu_guest_xcr0_mask()) {
		fpu_set_xcr0(v->regs.xcr0);
		v->xcr0_loaded = v->regs.xcr0;
	}
}

static bool vm_running(struct vm *vm)
{
	return __atomic_load_n(&vm->state, __ATOMIC_ACQUIRE) == VM_RUNNING;
}

/* INIT from another vCPU: an AP leaves its run loop and waits for a SIPI
 * again (vmm/smp.c). The boot vCPU ignores INIT (Keel has no BIOS to run). */
static bool vm_got_init(struct vcpu *v)
{
	if (!v->lapic || !lapic_take_init(v->lapic))
		return false;
	if (v->id == 0)
		return false;
	v->init = true;
	return true;
}

/* Enter the guest until it ends, is stopped, or this vCPU leaves. */
void vm_run_loop(struct vm *vm, struct vcpu *v)
{
	while (vm_running(vm) && !v->leave) {
		hpa_t root;
		bool flush = false;
		u64 now;

		vm_tick(vm, v);
		if (vm_got_init(v))
			break;
		if (!vm_running(vm) || vm_idle(vm, v))
			continue;
		vmm_events_before_entry(v);
		vm_load_fpu(v);
		if (mmu_vcpu_load_root(v->mmu, &root, &flush)) {
			vm_stop(vm, "no memory for a TDP root");
			break;
		}
		now = host_time_ns();
		vm->ops->set_preemption(v, MAX(vm_deadline(vm, v, now), now + 1) - now);
		if (vmm_enter_guest(v, root, flush)) { /* L1, or its L2 (vmm/nested/) */
			mmu_vcpu_exit_guest(v->mmu);
			vm->ops->dump(v);
			vm_stop(vm, "guest entry failed");
			break;
		}
		mmu_vcpu_exit_guest(v->mmu); /* out of guest mode before any MMU call */
		vm->ops->set_preemption(v, 0);
		v->stats.exits++;
		vmm_events_after_exit(v);
		vmm_handle_exit(v);
	}
}

/* struct vcpu_stats is all u64 counters. */
static void add_stats(struct vcpu_stats *sum, const struct vcpu_stats *s)
{
	u64 *d = (u64 *)sum;
	const u64 *a = (const u64 *)s;

	for (size_t i = 0; i < sizeof(*s) / sizeof(u64); i++)
		d[i] += a[i];
}

static void vm_collect(const struct vm *vm, struct vm_result *res)
{
	memset(res, 0, sizeof(*res));
	res->pass = vm->state == VM_DONE && vm->guest_pass;
	for (unsigned i = 0; i < vm->max_vcpus; i++) {
		if (!vm->vcpus[i] || !vm->vcpus[i]->started)
			continue;
		res->vcpus++;
		add_stats(&res->vcpu, &vm->vcpus[i]->stats);
		res->per_vcpu[i] = vm->vcpus[i]->stats;
		res->vcpu_ran[i] = true;
	}
	res->exits = res->vcpu.exits;
	res->npf = res->vcpu.tdp_faults;
	res->failures = vm->guest_failures;
	res->tests = vm->guest_tests;
	res->open_bus = vm->open_bus_reads + vm->open_bus_writes;
	if (vm->plat) {
		struct plat_counters c;

		plat_get_counters(vm->plat, &c);
		res->open_bus += c.open_bus_reads + c.open_bus_writes;
		plat_format_counters(&c, res->platform, sizeof(res->platform));
	}
	res->has_exit_code = vm->has_exit_code;
	res->exit_code = vm->exit_code;
	memcpy(res->stop_reason, vm->stop_reason, sizeof(res->stop_reason));
	mmu_get_stats(vm->mmu, &res->mmu);
	mmu_get_flush_stats(vm->mmu, &res->flush);
	vmm_nested_collect(vm, &res->nested);
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
	if (!host_timer_init())
		host_log("keel: no usable local APIC: no preemption on SVM, idling spins\n");
	vm_scrub_ram(s);
	vm = vm_create(ops, s);
	if (!vm) {
		ops->cpu_disable(cpu);
		return -ENOMEM;
	}
	r = guest_setup(vm, s, &initial);
	if (!r)
		r = vcpu_create(vm, &v, &initial);
	if (!r)
		vm->vcpus[0] = &v;
	if (!r)
		vmm_start_aps(vm); /* vCPUs 1.. wait for a SIPI on their CPUs */
	if (!r) {
		u64 t0 = host_time_ns();

		host_log("keel: vm %s: entering guest at rip=0x%llx\n", vm->name,
			 (unsigned long long)v.regs.rip);
		if (vm->timeout_s)
			vm->timeout_at = t0 + vm->timeout_s * 1000000000ull;
		vm_run_loop(vm, &v);
		vmm_end_other_vcpus(vm);
		vm_collect(vm, res);
		log_time(vm, res, host_time_ns() - t0);
		vmm_vcpu_teardown(&v);
		vm->vcpus[0] = NULL;
		vmm_free_other_vcpus(vm);
	}
	vmm_nested_vm_free(vm);
	mmu_destroy(vm->mmu);
	if (vm->plat)
		plat_destroy(vm->plat);
	host_free(vm);
	ops->cpu_disable(cpu);
	return r;
}
