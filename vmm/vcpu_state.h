/* SPDX-License-Identifier: MIT */
/*
 * A vCPU's entry state in each mode Keel starts guests in. Loaders fill a
 * struct vcpu_regs with one of these helpers, then set the registers their
 * boot protocol passes (rsi for Linux's zero page, eax/ebx for Multiboot);
 * both vendor backends load every field at vcpu_init(). Everything not named
 * is the architectural reset value: DR6 0xffff0ff0, DR7 0x400, PAT the
 * power-on value, XCR0 = 1 (x87 only), no interrupt shadow, LDTR unusable.
 *
 * VMX runs paging-off and real-mode guests only with "unrestricted guest";
 * vcpu_init() fails with a one-line reason on a CPU without it.
 */
#pragma once

#include <keel/types.h>
#include "vmm/vcpu.h"

/* struct vcpu_seg.attr bits (the VMCB's packed form). */
#define VCPU_SEG_TYPE(t) ((u16)((t) & 0xf))
#define VCPU_SEG_S BIT(4)        /* code or data (not a system segment) */
#define VCPU_SEG_DPL(d) ((u16)(((d) & 3) << 5))
#define VCPU_SEG_P BIT(7)
#define VCPU_SEG_AVL BIT(8)
#define VCPU_SEG_L BIT(9)        /* 64-bit code */
#define VCPU_SEG_DB BIT(10)      /* 32-bit default operand / stack size */
#define VCPU_SEG_G BIT(11)       /* limit in 4 KiB units */

#define VCPU_SEG_TYPE_DATA_RW 0x3   /* read/write, accessed */
#define VCPU_SEG_TYPE_CODE_RX 0xb   /* execute/read, accessed */
#define VCPU_SEG_TYPE_TSS_BUSY 0xb  /* busy 32/64-bit TSS */
#define VCPU_SEG_TYPE_LDT 0x2

#define VCPU_ATTR_CODE64 (VCPU_SEG_TYPE(VCPU_SEG_TYPE_CODE_RX) | VCPU_SEG_S | VCPU_SEG_P | \
			  VCPU_SEG_L | VCPU_SEG_G)
#define VCPU_ATTR_CODE32 (VCPU_SEG_TYPE(VCPU_SEG_TYPE_CODE_RX) | VCPU_SEG_S | VCPU_SEG_P | \
			  VCPU_SEG_DB | VCPU_SEG_G)
#define VCPU_ATTR_DATA32 (VCPU_SEG_TYPE(VCPU_SEG_TYPE_DATA_RW) | VCPU_SEG_S | VCPU_SEG_P | \
			  VCPU_SEG_DB | VCPU_SEG_G)
#define VCPU_ATTR_CODE16 (VCPU_SEG_TYPE(VCPU_SEG_TYPE_CODE_RX) | VCPU_SEG_S | VCPU_SEG_P)
#define VCPU_ATTR_DATA16 (VCPU_SEG_TYPE(VCPU_SEG_TYPE_DATA_RW) | VCPU_SEG_S | VCPU_SEG_P)
#define VCPU_ATTR_TSS_BUSY (VCPU_SEG_TYPE(VCPU_SEG_TYPE_TSS_BUSY) | VCPU_SEG_P)

#define VCPU_DR6_INIT 0xffff0ff0ull
#define VCPU_DR7_INIT 0x400ull
#define VCPU_PAT_INIT 0x0007040600070406ull
#define VCPU_XCR0_INIT 1ull

/* The selectors of the 64-bit state (the self-test contract: guest/abi.h). */
#define VCPU_SEL_CODE64 0x08
#define VCPU_SEL_DATA 0x10
#define VCPU_SEL_TSS 0x18

/* The guest's operating mode, as instruction decoding needs it. */
enum vcpu_mode {
	VCPU_MODE_REAL,   /* CR0.PE = 0 (16-bit, segment base = selector << 4) */
	VCPU_MODE_VM86,   /* RFLAGS.VM = 1 */
	VCPU_MODE_PROT16, /* protected, CS.D = 0 */
	VCPU_MODE_PROT32, /* protected or compatibility mode, CS.D = 1 */
	VCPU_MODE_LONG64, /* EFER.LMA and CS.L */
};

/* Every field zero except the architectural reset values above. */
void vcpu_state_reset(struct vcpu_regs *r);

/* 64-bit mode, CPL 0, paging on (CR0 PE|MP|ET|NE|WP|PG, CR4.PAE, EFER
 * LME|LMA), flat segments CS = code_sel (L=1), DS/ES/SS/FS/GS = data_sel,
 * TR = VCPU_SEL_TSS (busy TSS, base 0, limit 0x67), GDTR/IDTR base 0 limit
 * 0xffff unless the caller sets them, RFLAGS = 2. The caller sets rip, rsp,
 * cr3 and any GDT it wrote. */
void vcpu_state_long64(struct vcpu_regs *r, u16 code_sel, u16 data_sel);

/* 32-bit protected mode with paging off (Multiboot): CR0 = PE|ET, CS =
 * code_sel base 0 limit 4 GiB 32-bit, DS/ES/SS/FS/GS = data_sel flat,
 * RFLAGS = 2 (interrupts off), EFER = 0, TR a 32-bit busy TSS at base 0. */
void vcpu_state_prot32(struct vcpu_regs *r, u16 code_sel, u16 data_sel);

/* Real mode at a SIPI vector: CS = vector << 8 (base vector << 12),
 * IP = 0, other segments 0, limits 0xffff, CR0 = ET, RFLAGS = 2. */
void vcpu_state_real_sipi(struct vcpu_regs *r, u8 vector);

/* Mode, CPL (SS.DPL, as both vendors keep it) and the width of the current
 * code segment's addresses and operands. */
enum vcpu_mode vcpu_mode(const struct vcpu_regs *r);
unsigned vcpu_cpl(const struct vcpu_regs *r);
/* Default address size of the code segment in bits: 16, 32 or 64 (64-bit
 * mode; its default operand size is still 32). */
unsigned vcpu_code_bits(const struct vcpu_regs *r);
