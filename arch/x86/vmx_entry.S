/* SPDX-License-Identifier: MIT */
/*
 * Entering and leaving the guest. VM entry loads the guest's RSP, RIP and
 * RFLAGS from the VMCS, VM exit the host's RSP and RIP; every other
 * general-purpose register is shared, so it is saved and loaded here.
 * CR2 is not switched by VMX at all: it travels in struct vcpu_regs too.
 *
 *   int vmx_enter(struct vcpu_regs *regs, u64 launched)
 *
 * returns VMX_ENTER_EXITED after a VM exit, VMX_ENTER_FAIL_INVALID or
 * VMX_ENTER_FAIL_VALID when VMLAUNCH/VMRESUME did not enter at all.
 */
#include "arch/x86/vmx.h"

	.text
	.globl vmx_enter
	.type vmx_enter, @function
vmx_enter:
	push %rbp
	push %rbx
	push %r12
	push %r13
	push %r14
	push %r15
	pushfq                  /* host RFLAGS: VM exit leaves only bit 1 set */
	push %rdi               /* regs, found at (%rsp) by vmx_exit_landing */

	mov $VMCS_HOST_RSP, %eax
	vmwrite %rsp, %rax
	jbe .Lfail_early

	mov VMX_REGS_CR2(%rdi), %rax
	mov %rax, %cr2

	test %rsi, %rsi         /* ZF tells VMLAUNCH from VMRESUME; MOVs keep it */
	mov VMX_REGS_RAX(%rdi), %rax
	mov VMX_REGS_RCX(%rdi), %rcx
	mov VMX_REGS_RDX(%rdi), %rdx
	mov VMX_REGS_RBX(%rdi), %rbx
	mov VMX_REGS_RBP(%rdi), %rbp
	mov VMX_REGS_RSI(%rdi), %rsi
	mov VMX_REGS_R8(%rdi), %r8
	mov VMX_REGS_R9(%rdi), %r9
	mov VMX_REGS_R10(%rdi), %r10
	mov VMX_REGS_R11(%rdi), %r11
	mov VMX_REGS_R12(%rdi), %r12
	mov VMX_REGS_R13(%rdi), %r13
	mov VMX_REGS_R14(%rdi), %r14
	mov VMX_REGS_R15(%rdi), %r15
	mov VMX_REGS_RDI(%rdi), %rdi
	jnz .Lresume
	vmlaunch
	jmp .Lfail
.Lresume:
	vmresume
	/* Falls through only when the entry failed: CF=1 VMfailInvalid, ZF=1
	 * VMfailValid. The guest's GPR values are in our registers now. */
.Lfail:
.Lfail_early:
	mov $VMX_ENTER_FAIL_VALID, %eax
	mov $VMX_ENTER_FAIL_INVALID, %ecx
	cmovc %ecx, %eax
	jmp .Lout

	.globl vmx_exit_landing
	.type vmx_exit_landing, @function
vmx_exit_landing:               /* HOST_RIP: RSP is the HOST_RSP written above */
	push %rdi
	mov 8(%rsp), %rdi       /* regs */
	mov %rax, VMX_REGS_RAX(%rdi)
	mov %rcx, VMX_REGS_RCX(%rdi)
	mov %rdx, VMX_REGS_RDX(%rdi)
	mov %rbx, VMX_REGS_RBX(%rdi)
	mov %rbp, VMX_REGS_RBP(%rdi)
	mov %rsi, VMX_REGS_RSI(%rdi)
	mov %r8, VMX_REGS_R8(%rdi)
	mov %r9, VMX_REGS_R9(%rdi)
	mov %r10, VMX_REGS_R10(%rdi)
	mov %r11, VMX_REGS_R11(%rdi)
	mov %r12, VMX_REGS_R12(%rdi)
	mov %r13, VMX_REGS_R13(%rdi)
	mov %r14, VMX_REGS_R14(%rdi)
	mov %r15, VMX_REGS_R15(%rdi)
	pop %rax
	mov %rax, VMX_REGS_RDI(%rdi)
	mov %cr2, %rax
	mov %rax, VMX_REGS_CR2(%rdi)
	xor %eax, %eax          /* VMX_ENTER_EXITED */
.Lout:
	add $8, %rsp            /* regs */
	popfq                   /* host IF back: a pending interrupt is taken now */
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbx
	pop %rbp
	ret
	.size vmx_enter, . - vmx_enter

	.section .note.GNU-stack, "", @progbits
