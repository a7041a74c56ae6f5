; SPDX-License-Identifier: MIT
; Guest entry (guest/abi.h): 64-bit mode, Keel's flat segments, rsp set.
; Load our own GDT first (the contract says GDTR/IDTR are placeholders),
; then call guest_main(mem_size, fail_name_gpa, map_top).
section .note.GNU-stack noalloc noexec nowrite progbits ; no executable stack
bits 64
default rel
section .text.entry
global _start
extern guest_main
_start:
	lgdt [gdt_ptr]
	mov ax, 0x10
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov fs, ax
	mov gs, ax
	lea rax, [.cs_reloaded]
	push qword 0x08
	push rax
	o64 retf
.cs_reloaded:
	and rsp, -16
	call guest_main
.stop:
	hlt
	jmp .stop

; Another vCPU (KEEL_HC_VCPU_START): rdi = its id, rsp = its stack. Same
; GDT, then guest_ap_main(id) (guest/smp.c), which does not return.
global guest_ap_entry
extern guest_ap_main
guest_ap_entry:
	lgdt [gdt_ptr]
	mov ax, 0x10
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov fs, ax
	mov gs, ax
	lea rax, [.ap_cs_reloaded]
	push qword 0x08
	push rax
	o64 retf
.ap_cs_reloaded:
	and rsp, -16
	call guest_ap_main
.ap_stop:
	hlt
	jmp .ap_stop

section .data
align 16
gdt:
	dq 0
	dq 0x00af9b000000ffff	; 0x08: 64-bit code
	dq 0x00cf93000000ffff	; 0x10: flat data
	dq 0x00affb000000ffff	; 0x18: 64-bit code, DPL 3
	dq 0x00cff3000000ffff	; 0x20: flat data, DPL 3
global guest_gdt_tss
guest_gdt_tss:
	dq 0, 0			; 0x28: TSS (traps.c fills it in)
gdt_end:
gdt_ptr:
	dw gdt_end - gdt - 1
	dq gdt

; void guest_enter_ring3(u64 rip, u64 rsp): run rip at CPL 3 on stack rsp
; with interrupts off; comes back (to the caller, at CPL 0) when the trap
; handler sends the ring-3 code to guest_ring3_return.
section .text
global guest_enter_ring3
global guest_ring3_return
guest_enter_ring3:
	push rbx
	push rbp
	push r12
	push r13
	push r14
	push r15
	mov [ring3_saved_rsp], rsp
	push qword 0x23		; SS: user data | RPL 3
	push rsi		; RSP
	push qword 0x2		; RFLAGS: interrupts off
	push qword 0x1b		; CS: user code | RPL 3
	push rdi		; RIP
	iretq
guest_ring3_return:
	mov rsp, [ring3_saved_rsp]
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbp
	pop rbx
	ret

section .bss
align 8
ring3_saved_rsp: resq 1

; Exception stubs, 16 bytes apart, like Keel's own (arch/x86/entry.asm),
; and one for vector 32 (the LAPIC timer of the lapic-timer self-test).
section .text
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

extern guest_trap
global guest_trap_stubs
align 16
guest_trap_stubs:
%assign v 0
%rep 33
	TRAP_STUB v
%assign v v+1
%endrep

; guest_trap(frame) returns; frame = {vector, error, rip, cs, rflags, rsp, ss}
; after the saved caller-clobbered registers.
trap_common:
	push rbx
	push rax
	push rcx
	push rdx
	push rsi
	push rdi
	push r8
	push r9
	push r10
	push r11
	lea rdi, [rsp + 10 * 8]
	mov rbx, rsp
	and rsp, -16
	call guest_trap
	mov rsp, rbx
	pop r11
	pop r10
	pop r9
	pop r8
	pop rdi
	pop rsi
	pop rdx
	pop rcx
	pop rax
	pop rbx
	add rsp, 16		; vector, error
	iretq
