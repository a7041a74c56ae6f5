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

#ifndef U64_MAX
#define U64_MAX (~0ull)
#endif

#define X86_VEC_DB 1
#define X86_VEC_UD 6
#define X86_VEC_GP 13
#define X86_VEC_PF 14

/* exit.c: handle v->exit; afterwards the VM runs on or is stopped. */
void vmm_handle_exit(struct vcpu *v);
/* The generic handlers for v->exit, at the vCPU's current level (L1, or L2
 * for the exits vmm/nested/ gives Keel). */
void vmm_dispatch_exit(struct vcpu *v);
const char *vmm_exit_name(enum exit_kind k);

/* event.c: interrupts, NMIs and virtual time between the run loop and the
 * platform's devices. */
/* Inject what the guest can take now; ask for window exits for the rest. */
void vmm_events_before_entry(struct vcpu *v);
/* After every exit, before the handler: TPR, NMI blocking. */
void vmm_events_after_exit(struct vcpu *v);
/* An event is pending that ends HLT (an interrupt the guest would take, an
 * NMI). */
bool vmm_events_wake(struct vcpu *v);
/* Anything could still wake a halted vCPU (RFLAGS.IF = 1, or NMIs). */
bool vmm_events_can_wake(const struct vcpu *v);
/* Run this vCPU's LAPIC timer up to now; vCPU 0 also the shared device
 * timers, and feeds host serial input to the guest. */
void vmm_time_advance(struct vcpu *v);
/* When the next timer this vCPU drives fires (host_time_ns() clock),
 * U64_MAX = none. */
u64 vmm_next_event_ns(const struct vcpu *v);

/* vm_plat.c: the VM's virtual platform and its callbacks. */
int vm_plat_create(struct vm *vm, const struct vm_setup *s);

/* Handlers (one file each). */
void vmm_handle_cpuid(struct vcpu *v);
void vmm_handle_rdmsr(struct vcpu *v);
void vmm_handle_wrmsr(struct vcpu *v);
void vmm_handle_io(struct vcpu *v);
void vmm_handle_string_io(struct vcpu *v);                /* io_string.c */
u32 vmm_port_in(struct vcpu *v, u16 port, u8 size);        /* io.c */
void vmm_port_out(struct vcpu *v, u16 port, u8 size, u32 val);
/* Copy between 'buf' and the guest's linear address 'lin' through its page
 * tables (guest_mem.c): 0; -EFAULT with the #PF error code in *pf and the
 * faulting linear address in *fault_lin; -ENXIO when it is not RAM. */
int vmm_linear_copy(struct vcpu *v, u64 lin, void *buf, size_t n, bool write, u32 *pf,
		    u64 *fault_lin);
void vmm_handle_hypercall(struct vcpu *v);
void vmm_handle_xsetbv(struct vcpu *v);   /* xsetbv.c */
/* An exception for the instruction at RIP (it does not retire). */
void vmm_inject_exception(struct vcpu *v, u8 vector, bool has_error, u32 error);
/* MMIO to a guest-physical address in no slot: open bus (mmio.c). */
void vmm_handle_open_bus(struct vcpu *v);

/* insn.c: move RIP past the instruction that exited. Uses the hardware's
 * next RIP or length when given, else decodes the instruction in guest
 * memory. False (VM stopped) when it cannot. */
bool vmm_skip_insn(struct vcpu *v);
/* RIP to next_rip for an instruction Keel emulated: ends the interrupt
 * shadow, raises the single-step #DB under RFLAGS.TF. */
void vmm_retire_insn(struct vcpu *v, u64 next_rip);
#define X86_RFLAGS_TF BIT(8)
#define X86_DR6_BS BIT(14)

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
/* The same for an access by the guest's current CPL: -EFAULT with the
 * #PF error code in *pf when the guest's tables refuse it. */
int vmm_translate(struct vcpu *v, u64 va, bool write, gpa_t *out, u32 *pf);
/* Linear address of seg:offset (segment 0-5 in encoding order: ES CS SS
 * DS FS GS); in 64-bit mode only FS and GS have a base. */
u64 vmm_seg_linear(const struct vcpu *v, int seg, u64 offset);
/* Fetch up to 'len' instruction bytes at RIP (stops at unmapped memory);
 * returns the number of bytes read. */
size_t vmm_fetch_insn(struct vcpu *v, u8 *buf, size_t len);

/* GPR by x86 register number (0 = rax .. 15 = r15). */
u64 *vmm_gpr(struct vcpu *v, unsigned n);
