; SPDX-License-Identifier: MIT
; The reference run (bare.asm) has no Keel, so a hypercall (VMMCALL) is
; #UD there; guest/traps.c's last resort for an unexpected exception is
; the DONE hypercall, which would fault again and again. In that run only,
; vector 6 goes here first: #UD on a VMMCALL ends the run through QEMU's
; debug-exit port with a failing status; any other #UD (the checks expect
; some) goes on to the guest's own handler.
section .note.GNU-stack noalloc noexec nowrite progbits ; no executable stack
bits 64
default rel
section .text

global bare_ud_entry
global bare_ud_next
bare_ud_entry:
	push rax
	mov rax, [rsp + 8]		; the faulting RIP
	cmp word [rax], 0x010f
	jne .pass
	cmp byte [rax + 2], 0xd9	; VMMCALL
	jne .pass
	mov dx, 0xf4
	mov eax, 1			; QEMU exits with status 3: failed
	out dx, eax
.stop:
	cli
	hlt
	jmp .stop
.pass:
	pop rax
	jmp [bare_ud_next]

section .data
align 8
bare_ud_next: dq 0
