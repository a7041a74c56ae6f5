/* SPDX-License-Identifier: MIT */
/*
 * The Multiboot test kernel's entry (32-bit protected mode, paging off, as
 * the Multiboot v1 specification hands it over): the header, its own GDT,
 * a stack, then mb_main(eax, ebx). Interrupt stubs save the caller-saved registers and
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
	/* Multiboot leaves GDTR undefined: load our own flat GDT first. */
	lgdt gdt_desc
	ljmp $0x08, $1f
1:	mov $0x10, %cx
	mov %cx, %ds
	mov %cx, %es
	mov %cx, %fs
	mov %cx, %gs
	mov %cx, %ss
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

	.section .rodata
	.align 8
gdt:
	.quad 0
	.quad 0x00cf9a000000ffff	/* 0x08: 32-bit code, flat */
	.quad 0x00cf92000000ffff	/* 0x10: data, flat */
gdt_desc:
	.word gdt_desc - gdt - 1
	.long gdt

	.section .note.GNU-stack, "", @progbits

	.bss
	.align 16
	.space 16384
stack_top:
