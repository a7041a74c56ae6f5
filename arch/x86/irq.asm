; SPDX-License-Identifier: MIT
; Host interrupt stubs for vectors 32-255, X86_IRQ_STUB_SIZE (16) bytes
; apart. Keel runs with interrupts off except in two short windows: around
; VMRUN (SVM: a physical interrupt exits the guest and is taken right after
; STGI) and while idling (sti; hlt). Every stub saves the caller-saved
; registers, calls host_irq(vector), and returns with IRETQ.
section .note.GNU-stack noalloc noexec nowrite progbits ; no executable stack
default rel
bits 64
section .text

%macro IRQ_STUB 1
	align 16
	push qword %1
	jmp irq_common
%endmacro

extern host_irq
global x86_irq_stubs
align 16
x86_irq_stubs:
%assign v 32
%rep 224
	IRQ_STUB v
%assign v v+1
%endrep

irq_common:
	push rax
	push rcx
	push rdx
	push rsi
	push rdi
	push r8
	push r9
	push r10
	push r11
	push rbp
	mov rbp, rsp
	mov rdi, [rsp + 80]	; the vector
	and rsp, -16
	cld
	call host_irq
	mov rsp, rbp
	pop rbp
	pop r11
	pop r10
	pop r9
	pop r8
	pop rdi
	pop rsi
	pop rdx
	pop rcx
	pop rax
	add rsp, 8		; vector
	iretq
