; SPDX-License-Identifier: MIT
; The start-up code of the other CPUs (arch/x86/smp.c). The boot CPU copies
; ap_tramp_start..ap_tramp_end to a page below 1 MiB, fills the data block at
; AP_DATA (struct ap_tramp_data in smp.c) and sends INIT-SIPI-SIPI with that
; page. The CPU starts here in real mode with CS = page >> 4, IP = 0:
; real mode -> 32-bit protected mode (the trampoline's GDT) -> PAE, Keel's
; CR3, EFER.LME -> 64-bit mode -> Keel's stack, call entry(arg).
; Every address is relative to the page (EBX/RBX holds its base), so the
; code runs wherever it is copied.
section .note.GNU-stack noalloc noexec nowrite progbits
section .text
bits 16

AP_DATA    equ 0x800
D_GDTR     equ AP_DATA + 0   ; u16 limit, u32 base
D_PM32     equ AP_DATA + 8   ; u32 offset, u16 selector (far pointer)
D_CR3      equ AP_DATA + 16  ; u32
D_EFER     equ AP_DATA + 20  ; u32: bits to set in EFER (LME, NXE)
D_STACK    equ AP_DATA + 24  ; u64
D_ARG      equ AP_DATA + 32  ; u64
D_ENTRY    equ AP_DATA + 40  ; u64

global ap_tramp_start, ap_tramp_pm32, ap_tramp_gdt, ap_tramp_end
align 16
ap_tramp_start:
	cli
	cld
	xor ebx, ebx
	mov bx, cs
	mov ds, bx
	shl ebx, 4
	lgdt [D_GDTR]
	mov eax, cr0
	or eax, 1
	mov cr0, eax
	o32 jmp far [D_PM32]

bits 32
ap_tramp_pm32:
	mov ax, 0x10
	mov ds, ax
	mov es, ax
	mov ss, ax
	lea esp, [ebx + 0xff0]            ; a stack in the page, for the far return
	mov eax, cr4
	or eax, 1 << 5                    ; PAE
	mov cr4, eax
	mov eax, [ebx + D_CR3]
	mov cr3, eax
	mov ecx, 0xc0000080               ; EFER
	rdmsr
	or eax, [ebx + D_EFER]
	wrmsr
	mov eax, cr0
	or eax, 0x80000000                ; PG: long mode active
	mov cr0, eax
	lea eax, [ebx + (.lm64 - ap_tramp_start)]
	push dword 0x18
	push eax
	retf

bits 64
.lm64:
	mov rsp, [rbx + D_STACK]
	and rsp, -16
	mov rdi, [rbx + D_ARG]
	mov rax, [rbx + D_ENTRY]
	call rax                          ; does not return
.stop:
	cli
	hlt
	jmp .stop

align 8
ap_tramp_gdt:
	dq 0
	dq 0x00cf9a000000ffff             ; 0x08: 32-bit code
	dq 0x00cf92000000ffff             ; 0x10: data
	dq 0x00af9a000000ffff             ; 0x18: 64-bit code
	times AP_DATA - ($ - ap_tramp_start) db 0
	times 48 db 0                     ; the data block
ap_tramp_end:
