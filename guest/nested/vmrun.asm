; SPDX-License-Identifier: MIT
; VMRUN for the L1 test hypervisor (guest/nested/nested.h). VMRUN loads
; only RAX, RSP and RIP of L2 from the VMCB and restores only L1's RAX,
; RSP and RIP at #VMEXIT: every other GPR is L2's, so it is loaded from and
; stored to struct l2_regs around the instruction. GIF is cleared around
; the world switch and set again afterwards (#VMEXIT leaves GIF = 0).
section .note.GNU-stack noalloc noexec nowrite progbits ; no executable stack
bits 64
default rel
section .text

; struct l2_regs offsets
%define R_RBX 0
%define R_RCX 8
%define R_RDX 16
%define R_RSI 24
%define R_RDI 32
%define R_RBP 40
%define R_R8 48
%define R_R9 56
%define R_R10 64
%define R_R11 72
%define R_R12 80
%define R_R13 88
%define R_R14 96
%define R_R15 104

; void l1_vmrun(u64 vmcb, struct l2_regs *regs, u64 irq)
; irq != 0: VMRUN with RFLAGS.IF = 1 (GIF still 0 until VMRUN sets it), so a
; physical interrupt arriving in L2 exits with VMEXIT_INTR when intercepted
; (V_INTR_MASKING: L1's IF gates them); IF is cleared again after #VMEXIT.
global l1_vmrun
l1_vmrun:
	push rbx
	push rbp
	push r12
	push r13
	push r14
	push r15
	push rsi			; regs, found again after #VMEXIT
	push rdx			; irq
	mov rax, rdi
	mov rbx, [rsi + R_RBX]
	mov rcx, [rsi + R_RCX]
	mov rdx, [rsi + R_RDX]
	mov rdi, [rsi + R_RDI]
	mov rbp, [rsi + R_RBP]
	mov r8, [rsi + R_R8]
	mov r9, [rsi + R_R9]
	mov r10, [rsi + R_R10]
	mov r11, [rsi + R_R11]
	mov r12, [rsi + R_R12]
	mov r13, [rsi + R_R13]
	mov r14, [rsi + R_R14]
	mov r15, [rsi + R_R15]
	mov rsi, [rsi + R_RSI]
	clgi
	cmp qword [rsp], 0
	je .run
	sti
.run:
	vmrun
	cli
	; L1 again: rax = vmcb, rsp as before VMRUN, the rest is L2's.
	push rsi
	mov rsi, [rsp + 16]
	mov [rsi + R_RBX], rbx
	mov [rsi + R_RCX], rcx
	mov [rsi + R_RDX], rdx
	mov [rsi + R_RDI], rdi
	mov [rsi + R_RBP], rbp
	mov [rsi + R_R8], r8
	mov [rsi + R_R9], r9
	mov [rsi + R_R10], r10
	mov [rsi + R_R11], r11
	mov [rsi + R_R12], r12
	mov [rsi + R_R13], r13
	mov [rsi + R_R14], r14
	mov [rsi + R_R15], r15
	pop rax
	mov [rsi + R_RSI], rax
	stgi
	add rsp, 8			; irq
	pop rsi
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbp
	pop rbx
	ret

; L2's entry: rsi = the L2 program, called on L2's own stack; when it
; returns, VMMCALL with rax = L2_DONE ends the run (L1 always intercepts
; VMMCALL while a program runs). Should L1 resume L2 after that, it stops
; at an intercepted HLT forever.
%define L2_DONE 0x4c32444f4e45
global l2_trampoline
global l2_trampoline_done
l2_trampoline:
	and rsp, -16
	call rsi
	mov rax, L2_DONE
l2_trampoline_done:
	vmmcall
.stop:
	hlt
	jmp .stop
