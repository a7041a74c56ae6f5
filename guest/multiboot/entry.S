/* SPDX-License-Identifier: MIT */
/*
 * The Multiboot test kernel's entry (32-bit protected mode, paging off, as
 * the Multiboot v1 specification hands it over): the header, its own GDT,
 * a stack, then mb_main(eax, ebx). Interrupt stubs save the caller-saved registers and
 * call mb_interrupt(vector). The AP trampoline (copied below 1 MiB by
 * mb_main, started there by INIT/SIPI): real mode -> 32-bit protected mode
 * -> mb_ap_main on its own stack.
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

	/*
	 * The AP's start, copied to a page below 1 MiB (CS = that page >> 4,
	 * IP = 0 after the SIPI). Position-independent in real mode: the GDT
	 * descriptor is addressed relative to CS, and mb_main patches its base
	 * to where the copy's GDT lies. The far jump's target is absolute.
	 */
	.code16
	.globl mb_ap_tramp, mb_ap_tramp_end, mb_ap_gdt_desc, mb_ap_gdt
mb_ap_tramp:
	cli
	mov %cs, %ax
	mov %ax, %ds
	lgdtl (mb_ap_gdt_desc - mb_ap_tramp)
	mov %cr0, %eax
	or $1, %eax
	mov %eax, %cr0
	ljmpl $0x08, $ap_entry32
	.align 8
mb_ap_gdt:
	.quad 0
	.quad 0x00cf9a000000ffff	/* 0x08: 32-bit code, flat */
	.quad 0x00cf92000000ffff	/* 0x10: data, flat */
mb_ap_gdt_desc:
	.word 23
	.long 0				/* patched: the copy's mb_ap_gdt */
mb_ap_tramp_end:

	.code32
ap_entry32:
	mov $0x10, %cx
	mov %cx, %ds
	mov %cx, %es
	mov %cx, %fs
	mov %cx, %gs
	mov %cx, %ss
	mov $ap_stack_top, %esp
	call mb_ap_main
1:	cli
	hlt
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
	.space 4096
ap_stack_top:
