/* SPDX-License-Identifier: MIT */
/*
 * The little x86 decoding Keel needs, as pure functions over instruction
 * bytes (hosted-tested by vmm/insn_decode_test.c):
 *  - the length of the instruction behind a CPUID, MSR, HLT, hypercall or
 *    port I/O exit, for CPUs that do not report it (QEMU has no NRIP save);
 *  - the MOV forms Keel emulates for MMIO and open bus (docs/guest-abi.md);
 *  - the prefixes of string port I/O (INS/OUTS).
 * In every mode: 'bits' is the code segment's default size (16, 32 or 64,
 * vcpu_code_bits()); operand- and address-size prefixes switch from it as
 * the CPU does, REX exists only in 64-bit mode, 16-bit addressing has its
 * own ModRM forms.
 */
#pragma once

#include <keel/types.h>
#include "vmm/vcpu.h"

#define INSN_MAX_LEN 15

/* Segment registers in encoding order (as struct vcpu_regs keeps them). */
enum insn_seg { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_NONE = -1 };

struct insn_prefixes {
	unsigned len;                /* bytes of legacy prefixes and REX */
	bool opsize, addrsize, lock, rep;
	bool rex, rex_w, rex_r, rex_x, rex_b;
	int seg;                     /* segment override, or SEG_NONE */
	unsigned bits;               /* the code segment's default size */
	unsigned addr_bits;          /* address size after 0x67 */
};

/* Prefixes at the start of b[0..n) in a 'bits'-bit code segment. Returns
 * false when they run past n or past the 15-byte limit. */
bool insn_prefixes(const u8 *b, size_t n, unsigned bits, struct insn_prefixes *p);
/* Operand size in bytes (2, 4 or 8) for an instruction with these prefixes. */
unsigned insn_operand_size(const struct insn_prefixes *p);

/* Length of the instruction in b[0..n) if it is one that raises exit 'k'
 * (CPUID, RDMSR, WRMSR, HLT, VMMCALL/VMCALL, XSETBV, IN/OUT/INS/OUTS),
 * else 0. */
unsigned insn_len_for_exit(enum exit_kind k, const u8 *b, size_t n, unsigned bits);

/* A decoded MOV between a register or immediate and memory. */
struct mmio_insn {
	unsigned len;        /* instruction length */
	unsigned size;       /* bytes accessed in memory: 1, 2, 4, 8 */
	bool store;          /* memory is written */
	bool has_imm;        /* store of an immediate (C6/C7) */
	u64 imm;             /* sign-extended to the operand size */
	unsigned reg;        /* GPR number of the register operand */
	bool high_byte;      /* reg is AH, CH, DH or BH (bits 8-15 of reg) */
	unsigned dest_size;  /* loads: bytes of the register written */
	/* The memory operand, for its effective address (insn_mem_offset). */
	struct insn_prefixes pfx;
	bool moffs;          /* A0-A3: absolute offset in 'disp' */
	u8 modrm, sib;
	s64 disp;
};

/* Decode b[0..n) in a 'bits'-bit code segment. 0, -EINVAL (truncated or
 * not a memory operand), or -ENOTSUP (a valid instruction Keel does not
 * emulate). */
int insn_decode_mov(const u8 *b, size_t n, unsigned bits, struct mmio_insn *out);

/* The memory operand's offset within its segment (wrapped to the address
 * size), given the GPRs (x86 order) and the RIP of the next instruction;
 * its segment in *seg (DS or SS by default, or the override). */
u64 insn_mem_offset(const struct mmio_insn *m, const u64 gpr[16], u64 next_rip, int *seg);
