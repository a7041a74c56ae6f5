// SPDX-License-Identifier: MIT
#include <keel/host.h>
#include <keel/string.h>
#include "boot/boot.h"
#include "rt/log.h"
#include "rt/pool.h"

static unsigned long long ull(u64 v)
{
	return (unsigned long long)v;
}

/* One line per vCPU that ran: where its exits went. */
static void print_vcpus(const struct vm_result *res)
{
	for (unsigned i = 0; i < VM_MAX_VCPUS; i++) {
		const struct vcpu_stats *v = &res->per_vcpu[i];

		if (!res->vcpu_ran[i])
			continue;
		log_info("keel: vcpu %u exits=%llu npf=%llu hlt=%llu idles=%llu io=%llu mmio=%llu "
			 "hypercall=%llu irq=%llu preempt=%llu exception=%llu\n", i,
			 ull(v->exits), ull(v->tdp_faults), ull(v->hlt), ull(v->idles), ull(v->io),
			 ull(v->mmio), ull(v->hypercalls), ull(v->irqs), ull(v->preempts),
			 ull(v->exceptions));
	}
}

void boot_print_summary(const struct vendor_ops *ops, const struct vm_setup *s,
			const struct vm_result *res)
{
	const struct mmu_stats *m = &res->mmu;
	struct pool_stats p;

	pool_get_stats(&p);
	if (res->stop_reason[0])
		log_error("keel: vm stopped: %s\n", res->stop_reason);
	log_info("keel: mmu faults_fixed=%llu spurious=%llu retries=race:%llu,obsolete:%llu,"
		 "slot:%llu splits=%llu zaps=%llu pt_pages=%llu maps=4k:%llu,2m:%llu,1g:%llu\n",
		 ull(m->faults_fixed), ull(m->faults_spurious), ull(m->retries_race),
		 ull(m->retries_obsolete), ull(m->retries_slot), ull(m->splits), ull(m->zaps),
		 ull(m->tables_in_use), ull(m->maps_4k), ull(m->maps_2m), ull(m->maps_1g));
	log_info("keel: smp vcpus=%u remote_flushes=%llu kicks=%llu worst_wait_us=%llu "
		 "mean_wait_us=%llu\n",
		 res->vcpus, ull(res->flush.remote_flushes), ull(res->flush.kicks),
		 ull(res->flush.worst_wait_ns / 1000),
		 ull(res->flush.remote_flushes
			     ? res->flush.total_wait_ns / res->flush.remote_flushes / 1000 : 0));
	print_vcpus(res);
	log_info("keel: exits by reason: io=%llu mmio=%llu npf=%llu msr=%llu cpuid=%llu hlt=%llu "
		 "hypercall=%llu irq=%llu preempt=%llu window=%llu exception=%llu\n",
		 ull(res->vcpu.io), ull(res->vcpu.mmio), ull(res->vcpu.tdp_faults),
		 ull(res->vcpu.msr), ull(res->vcpu.cpuid), ull(res->vcpu.hlt),
		 ull(res->vcpu.hypercalls), ull(res->vcpu.irqs), ull(res->vcpu.preempts),
		 ull(res->vcpu.windows), ull(res->vcpu.exceptions));
	if (res->platform[0])
		log_info("keel: platform: %s\n", res->platform);
	log_info("keel: nested nested_exits=%llu reflected=%llu shadow_faults=%llu "
		 "roots=hits:%llu,misses:%llu,recycled:%llu flushes=%llu vmruns=%llu invalid=%llu\n",
		 ull(res->nested.nested_exits), ull(res->nested.reflected),
		 ull(res->nested.mmu.shadow_faults), ull(res->nested.mmu.root_hits),
		 ull(res->nested.mmu.root_misses), ull(res->nested.mmu.root_recycled),
		 ull(res->nested.mmu.flush_all + res->nested.mmu.flush_asid + res->nested.mmu.invlpga),
		 ull(res->nested.vmruns), ull(res->nested.vmexit_invalid));
	log_info("keel: pool pages used=%llu peak=%llu of %llu\n", ull(p.pages_used),
		 ull(p.pages_peak), ull(p.pages_total));
	char code[24] = "";

	if (res->has_exit_code)
		snprintf(code, sizeof(code), " exit_code=%u", res->exit_code);
	log_error("keel: done guest=%s result=%s%s exits=%llu npf=%llu vendor=%s tests=%llu "
		  "failures=%llu open_bus=%llu faults_fixed=%llu retries=%llu splits=%llu "
		  "zaps=%llu pt_pages=%llu cpus=%u vcpus=%u\n",
		  s->name, res->pass ? "pass" : "fail", code, ull(res->exits), ull(res->npf), ops->name,
		  ull(res->tests), ull(res->failures), ull(res->open_bus), ull(m->faults_fixed),
		  ull(m->retries_race + m->retries_obsolete + m->retries_slot), ull(m->splits),
		  ull(m->zaps), ull(m->tables_in_use), host_cpu_count(), res->vcpus);
}
