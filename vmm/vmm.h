/* SPDX-License-Identifier: MIT */
/*
 * vmm/ internals: the generic exit handlers and their helpers, shared by
 * the files of vmm/. They work on struct vcpu and struct vm_exit only, so the SVM
 * and VMX backends use them unchanged.
 */
#pragma once

#include <keel/types.h>
#include "vmm/vcpu.h"
#include "vmm/vm.h"

#define X86_VEC_GP 13

/* exit.c: handle v->exit; afterwards the VM runs on or is stopped. */
void vmm_handle_exit(struct vcpu *v);
const char *vmm_exit_name(enum exit_kind k);

/* Handlers (one file each). */
void vmm_handle_cpuid(struct vcpu *v);
void vmm_handle_rdmsr(struct vcpu *v);
void vmm_handle_wrmsr(struct vcpu *v);
void vmm_handle_io(struct vcpu *v);
void vmm_handle_hypercall(struct vcpu *v);
/* MMIO to a guest-physical address in no slot: open bus (mmio.c). */
void vmm_handle_open_bus(struct vcpu *v);

/* insn.c: move RIP past the instruction that exited. Uses the hardware's
 * next RIP or length when given, else decodes the instruction in guest
 * memory. False (VM stopped) when it cannot. */
bool vmm_skip_insn(struct vcpu *v);

/* guest_mem.c: guest memory access by the host, under the slot rules
 * (mmu_host_access_begin/end: read side held during the copy, read-only
 * slots refused for writes, dirty-logged slots marked). */
/* Copy into guest RAM (any length, across pages and slots); -EFAULT when
 * part of [gpa, gpa+len) is not RAM, -EPERM for a read-only slot, -EAGAIN
 * for a slot being changed. Bytes before the failing page were written. */
int vmm_write_guest(struct vm *vm, gpa_t gpa, const void *src, size_t len);
/* Copy out of guest memory; the same errors except -EPERM. */
int vmm_read_guest(struct vm *vm, gpa_t gpa, void *dst, size_t len);
/* Translate a guest-virtual address through the guest's page tables. */
int vmm_gva_to_gpa(struct vcpu *v, gva_t va, gpa_t *out);
/* Fetch up to 'len' instruction bytes at RIP (stops at unmapped memory);
 * returns the number of bytes read. */
size_t vmm_fetch_insn(struct vcpu *v, u8 *buf, size_t len);

/* GPR by x86 register number (0 = rax .. 15 = r15). */
u64 *vmm_gpr(struct vcpu *v, unsigned n);
