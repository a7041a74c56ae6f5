; SPDX-License-Identifier: MIT
; Low-level entry points for keel.efi: loading the GDT (a far return reloads
; CS) and the exception stubs that build a struct trap_frame (arch/x86/trap.h)
; and call trap_entry(). Position independent: keel.efi is relocated by the
; firmware.
section .note.GNU-stack noalloc noexec nowrite progbits ; no executable stack
default rel
bits 64
section .text

; void x86_load_gdt(const struct desc_ptr *gdtr, u16 code_sel, u16 data_sel)
global x86_load_gdt
x86_load_gdt:
	lgdt [rdi]
	mov ds, dx
	mov es, dx
	mov ss, dx
	mov fs, dx
	mov gs, dx
	lea rax, [.reloaded]
	push rsi
	push rax
	o64 retf
.reloaded:
	ret

; Exception stubs, X86_TRAP_STUB_SIZE (16) bytes apart: vector v is at
; x86_trap_stubs + 16 * v. Vectors without a CPU error code push 0 so every
; frame has the same layout.
%macro TRAP_STUB 1
	align 16
%if (%1 == 8) || (%1 >= 10 && %1 <= 14) || (%1 == 17) || (%1 == 21) || (%1 == 29) || (%1 == 30)
	push qword %1
%else
	push qword 0
	push qword %1
%endif
	jmp trap_common
%endmacro

extern trap_entry
global x86_trap_stubs
align 16
x86_trap_stubs:
%assign v 0
%rep 32
	TRAP_STUB v
%assign v v+1
%endrep

; Stack on arrival: vector, error, rip, cs, rflags, rsp, ss.
trap_common:
	push rax
	push rbx
	push rcx
	push rdx
	push rsi
	push rdi
	push rbp
	push r8
	push r9
	push r10
	push r11
	push r12
	push r13
	push r14
	push r15
	mov rdi, rsp
	and rsp, -16
	call trap_entry		; does not return
.stop:
	cli
	hlt
	jmp .stop

