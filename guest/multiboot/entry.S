/* SPDX-License-Identifier: MIT */
/*
 * The Multiboot test kernel's entry (32-bit protected mode, paging off, as
 * the Multiboot v1 specification hands it over): the header, a stack, then
 * mb_main(eax, ebx). Interrupt stubs save the caller-saved registers and
 * call mb_interrupt(vector).
 */
#define MB_MAGIC 0x1badb002
#define MB_FLAGS 0x3 /* page-aligned modules, memory information */

	.section .multiboot, "a"
	.align 4
	.long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

	.text
	.code32
	.globl _start
_start:
	cli
	mov $stack_top, %esp
	push %ebx
	push %eax
	call mb_main
1:	hlt
	jmp 1b

	.macro stub vec
	.globl mb_stub_\vec
mb_stub_\vec:
	push %eax
	push %ecx
	push %edx
	push $\vec
	call mb_interrupt
	add $4, %esp
	pop %edx
	pop %ecx
	pop %eax
	iret
	.endm

	stub 64		/* the LAPIC timer vector */
	stub 255	/* spurious */

	/* Exceptions without an error code, then with one: report and stop. */
	.globl mb_stub_exception
mb_stub_exception:
	push $0
	call mb_exception
1:	hlt
	jmp 1b

	.section .note.GNU-stack, "", @progbits

	.bss
	.align 16
	.space 16384
stack_top:
