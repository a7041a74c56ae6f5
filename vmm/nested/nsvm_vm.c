// SPDX-License-Identifier: MIT
/*
 * The lifetime of nested SVM state: the VM's nested MMU (created with the
 * VM when the backend offers nested SVM, so vCPUs never race to create it),
 * each vCPU's nested state (created at its first SVM instruction, freed on
 * the vCPU's own CPU at teardown), and the figures for the summary.
 */
#include <keel/host.h>
#include <keel/string.h>
#include "vmm/nested/nested.h"
#include "vmm/nested/nsvm.h"
#include "vmm/vmm.h"

/* Shadow roots: more than the vCPUs (mmu/nested.h), a few per vCPU so that
 * an L1 alternating between some L2s keeps their shadows. */
#define NSVM_ROOTS (2 * VM_MAX_VCPUS + 1)

void vmm_nested_vm_init(struct vm *vm)
{
	if (!vm->ops->nested)
		return;
	vm->nmmu = nmmu_create(vm->mmu, NSVM_ROOTS);
	if (!vm->nmmu)
		host_log("keel: vm %s: no memory for the nested MMU: VMRUN with nested "
			 "paging will be refused\n", vm->name);
}

void vmm_nested_vcpu_free(struct vcpu *v)
{
	struct nsvm_vcpu *n = v->nested;

	if (!n)
		return;
	if (n->nv)
		nmmu_vcpu_destroy(n->nv);
	host_free_pages(n->vmcb02, 1);
	host_free_pages(n->scratch, 1);
	host_free(n);
	v->nested = NULL;
}

void vmm_nested_vm_free(struct vm *vm)
{
	if (vm->nmmu)
		nmmu_destroy(vm->nmmu);
	vm->nmmu = NULL;
}

void vmm_nested_collect(const struct vm *vm, struct vm_nested_result *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < vm->max_vcpus; i++) {
		const struct nsvm_vcpu *n = vm->vcpus[i] ? vm->vcpus[i]->nested : NULL;

		if (!n)
			continue;
		out->vmruns += n->stats.vmruns;
		out->vmexit_invalid += n->stats.vmexit_invalid;
		out->nested_exits += n->stats.nested_exits;
		out->reflected += n->stats.reflected;
		out->handled += n->stats.handled;
	}
	if (vm->nmmu) {
		out->has_mmu = true;
		nmmu_get_stats(vm->nmmu, &out->mmu);
	}
}
