/* SPDX-License-Identifier: MIT */
/* Several vCPUs in one VM, one per host CPU (vmm/smp.c). */
#pragma once

#include "vmm/vm.h"

/* The SMP and MMU hypercalls of guest/abi.h; false for any other number. */
bool vmm_smp_hypercall(struct vcpu *v);
/* After the VM stopped running: end every other vCPU's run loop (kicking its
 * CPU) and wait for it; then free them. */
void vmm_end_other_vcpus(struct vm *vm);
void vmm_free_other_vcpus(struct vm *vm);
/* Make every vCPU on another CPU leave the guest (it sees the VM state). */
void vmm_kick_all(struct vm *vm);

/* At VM start, after vCPU 0 exists: vCPUs 1 .. max_vcpus-1 on their host
 * CPUs, waiting for INIT/SIPI (or KEEL_HC_VCPU_START), not entered. A CPU
 * that cannot take one is reported and that vCPU left out. */
void vmm_start_aps(struct vm *vm);

/* vm.c: one vCPU's life on the CPU that runs it. */
int vmm_vcpu_prepare(struct vm *vm, struct vcpu *v); /* LAPIC, MMU view */
int vmm_vcpu_setup(struct vm *vm, struct vcpu *v);   /* and the backend's state */
void vm_run_loop(struct vm *vm, struct vcpu *v);
void vmm_vcpu_teardown(struct vcpu *v);
