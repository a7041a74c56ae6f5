/* SPDX-License-Identifier: MIT */
/* Preparing guest memory and the initial registers (guest/abi.h). */
#pragma once

#include "vmm/vcpu.h"
#include "vmm/vm.h"

/* Load the image, build the guest's identity page tables, hand over the
 * fail-test name, and fill the initial registers. 0 or -E2BIG (image or
 * memory does not fit the layout). */
int guest_setup(struct vm *vm, const struct vm_setup *s, struct vcpu_regs *regs);
