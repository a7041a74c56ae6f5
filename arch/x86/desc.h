/* SPDX-License-Identifier: MIT */
/*
 * Keel's own descriptor tables: GDT (flat 64-bit code and data, one TSS),
 * IDT (exception vectors 0-31 go to the panic path, 32-255 to intr.c), TSS with an IST stack
 * for #DF, NMI and #MC so a blown stack still produces a report. The
 * selectors equal the ones of the guest's initial state (vmm/vcpu.h). Each
 * CPU has its own GDT and TSS; the IDT is shared. A
 * valid TR matters to VMX, whose host state must name a TSS.
 */
#pragma once

#include <keel/types.h>

#define GDT_NULL 0x00
#define GDT_CODE64 0x08
#define GDT_DATA 0x10
#define GDT_TSS 0x18

struct desc_ptr {
	u16 limit;
	u64 base;
} __packed;

/* Build the tables for this CPU and load GDTR, IDTR, TR and the segments.
 * 'ist_stack_top' is the top of a stack reserved for the IST entries. The
 * boot CPU calls desc_init (static tables, builds the shared IDT); every
 * other CPU desc_init_ap (its own GDT and TSS from the pool; 0 or -1). */
void desc_init(void *ist_stack_top);
int desc_init_ap(void *ist_stack_top);

/* entry.asm */
void x86_load_gdt(const struct desc_ptr *gdtr, u16 code_sel, u16 data_sel);
extern const u8 x86_trap_stubs[];
#define X86_TRAP_STUB_SIZE 16
#define X86_NR_EXCEPTIONS 32
