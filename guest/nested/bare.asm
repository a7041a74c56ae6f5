; SPDX-License-Identifier: MIT
; The reference run of the L1 test hypervisor: the same image on QEMU's own
; SVM with no Keel underneath (tests/boot/qemu-nested.sh), so that a check
; which passes here and fails under Keel points at Keel. QEMU boots this
; file as a Multiboot kernel (the a.out-kludge header: a flat file loaded
; at 0xff000); the 32-bit code below builds Keel's entry state (guest/abi.h:
; 64-bit mode, [0, 4G) identity-mapped with 2 MiB pages at 0x1000, rdi =
; RAM size, rsi = 0, rdx = 4G, rsp below 1 MiB) and jumps to the image,
; which follows this page at 0x100000 exactly as Keel loads it.
bits 32
org 0xff000

MB_MAGIC equ 0x1badb002
MB_FLAGS equ 0x00010002		; memory info; header addresses valid
mb_header:
	dd MB_MAGIC
	dd MB_FLAGS
	dd -(MB_MAGIC + MB_FLAGS)
	dd mb_header		; header_addr
	dd mb_header		; load_addr
	dd 0			; load_end_addr: the whole file
	dd 0			; bss_end_addr: none
	dd entry32

PML4 equ 0x1000			; guest/abi.h KEEL_GUEST_PML4_GPA
PDPT equ 0x2000
PD0 equ 0x3000			; four page directories: 4 GiB

entry32:
	mov esi, [ebx + 8]	; multiboot mem_upper: KiB above 1 MiB
	mov al, 0xff		; mask both 8259s: the firmware left the PIT on
	out 0x21, al		; vector 8, which the image takes for #DF
	out 0xa1, al
	mov edi, PML4
	mov ecx, (PD0 + 4 * 0x1000 - PML4) / 4
	xor eax, eax
	rep stosd
	mov dword [PML4], PDPT | 3
	mov dword [PDPT], (PD0 + 0x0000) | 3
	mov dword [PDPT + 8], (PD0 + 0x1000) | 3
	mov dword [PDPT + 16], (PD0 + 0x2000) | 3
	mov dword [PDPT + 24], (PD0 + 0x3000) | 3
	xor ecx, ecx
.pde:	mov eax, ecx
	shl eax, 21
	or eax, 0x83		; present, writable, 2 MiB
	mov [PD0 + ecx * 8], eax
	mov edx, ecx
	shr edx, 11		; bits 32+ of the address (always 0 below 4 GiB)
	mov [PD0 + ecx * 8 + 4], edx
	inc ecx
	cmp ecx, 2048
	jb .pde
	mov eax, cr4
	or eax, 0x20		; PAE
	mov cr4, eax
	mov eax, PML4
	mov cr3, eax
	mov ecx, 0xc0000080	; EFER.LME
	rdmsr
	or eax, 0x100
	wrmsr
	mov eax, cr0
	or eax, 0x80000001	; PG, PE
	mov cr0, eax
	lgdt [gdt_ptr]
	jmp 0x08:entry64

bits 64
entry64:
	mov ax, 0x10
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov rsp, 0xf0000
	mov edi, esi
	add rdi, 1024
	shl rdi, 10		; RAM bytes (below the PCI hole)
	xor esi, esi
	mov rdx, 0x100000000
	mov rax, 0x100000
	jmp rax

align 8
gdt:
	dq 0
	dq 0x00af9b000000ffff	; 0x08: 64-bit code
	dq 0x00cf93000000ffff	; 0x10: flat data
gdt_ptr:
	dw gdt_ptr - gdt - 1
	dd gdt

	times 0x1000 - ($ - $$) db 0
	incbin "guest/nested.bin"
