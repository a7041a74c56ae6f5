; SPDX-License-Identifier: MIT
; One guest entry under AMD SVM.
;
; void svm_vmrun(u64 vmcb_pa, struct vcpu_regs *regs, u64 host_save_pa)
;
; VMRUN switches RAX, RSP, RIP (and the rest of the VMCB save area) but not
; RBX, RCX, RDX, RSI, RDI, RBP, R8-R15: those are loaded here from 'regs'
; before VMRUN and stored back after #VMEXIT. GIF stays clear from before
; the host's hidden state is swapped out (VMSAVE/VMLOAD: FS, GS, TR, LDTR,
; syscall MSRs) until it is back, so no NMI or SMI sees guest TR or GS.
;
; The host runs with RFLAGS.IF = 1 from CLGI to STGI (GIF = 0 holds every
; interrupt off meanwhile): with V_INTR_MASKING the guest's physical
; interrupts follow the host's IF saved by VMRUN, so a host interrupt (Keel's
; LAPIC timer) ends the guest with an INTR intercept, however the guest runs.
; Keel is built with -mgeneral-regs-only: it never touches the FPU/SSE state
; the guest leaves in the registers (arch/x86/fpu.h).
section .note.GNU-stack noalloc noexec nowrite progbits ; no executable stack
default rel
bits 64
section .text

; struct vcpu_regs offsets (vmm/vcpu.h; checked by a static_assert in svm.c)
%define R_RAX 0
%define R_RCX 8
%define R_RDX 16
%define R_RBX 24
%define R_RBP 40
%define R_RSI 48
%define R_RDI 56
%define R_R8 64
%define R_R9 72
%define R_R10 80
%define R_R11 88
%define R_R12 96
%define R_R13 104
%define R_R14 112
%define R_R15 120

global svm_vmrun
svm_vmrun:
	push rbp
	push rbx
	push r12
	push r13
	push r14
	push r15
	push rdx		; [rsp+8]: host save area
	push rsi		; [rsp]:   regs

	clgi
	sti			; host IF = 1 under GIF = 0: see below
	mov rax, rdx
	vmsave			; host hidden state -> host save area
	mov rax, rdi
	vmload			; guest hidden state <- VMCB

	mov rcx, [rsi + R_RCX]
	mov rdx, [rsi + R_RDX]
	mov rbx, [rsi + R_RBX]
	mov rbp, [rsi + R_RBP]
	mov rdi, [rsi + R_RDI]
	mov r8,  [rsi + R_R8]
	mov r9,  [rsi + R_R9]
	mov r10, [rsi + R_R10]
	mov r11, [rsi + R_R11]
	mov r12, [rsi + R_R12]
	mov r13, [rsi + R_R13]
	mov r14, [rsi + R_R14]
	mov r15, [rsi + R_R15]
	mov rsi, [rsi + R_RSI]

	vmrun			; rax = VMCB; returns at #VMEXIT with host rax/rsp

	xchg rsi, [rsp]		; rsi = regs, [rsp] = guest rsi
	mov [rsi + R_RCX], rcx
	mov [rsi + R_RDX], rdx
	mov [rsi + R_RBX], rbx
	mov [rsi + R_RBP], rbp
	mov [rsi + R_RDI], rdi
	mov [rsi + R_R8],  r8
	mov [rsi + R_R9],  r9
	mov [rsi + R_R10], r10
	mov [rsi + R_R11], r11
	mov [rsi + R_R12], r12
	mov [rsi + R_R13], r13
	mov [rsi + R_R14], r14
	mov [rsi + R_R15], r15
	pop rcx
	mov [rsi + R_RSI], rcx

	vmsave			; guest hidden state -> VMCB (rax = VMCB)
	pop rax
	vmload			; host hidden state back
	stgi			; a pending host interrupt (the one that ended
	nop			; the guest: INTR intercept) is taken here by
	cli			; host_irq(), which EOIs it; then IF = 0 again

	pop r15
	pop r14
	pop r13
	pop r12
	pop rbx
	pop rbp
	ret
