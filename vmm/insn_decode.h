/* SPDX-License-Identifier: MIT */
/*
 * The little x86 decoding Keel needs, as pure functions over instruction
 * bytes (hosted-tested by vmm/insn_decode_test.c):
 *  - the length of the instruction behind a CPUID, MSR, HLT, hypercall or
 *    port I/O exit, for CPUs that do not report it (QEMU has no NRIP save);
 *  - the MOV forms Keel emulates against open bus (docs/guest-abi.md).
 * 64-bit mode only.
 */
#pragma once

#include <keel/types.h>
#include "vmm/vcpu.h"

#define INSN_MAX_LEN 15

struct insn_prefixes {
	unsigned len;                /* bytes of legacy prefixes and REX */
	bool opsize, addrsize, lock, rep;
	bool rex, rex_w, rex_r, rex_x, rex_b;
};

/* Prefixes at the start of b[0..n). Returns false when they run past n or
 * past the 15-byte limit. */
bool insn_prefixes(const u8 *b, size_t n, struct insn_prefixes *p);

/* Length of the instruction in b[0..n) if it is one that raises exit 'k'
 * (CPUID, RDMSR, WRMSR, HLT, VMMCALL/VMCALL, IN/OUT), else 0. */
unsigned insn_len_for_exit(enum exit_kind k, const u8 *b, size_t n);

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
};

/* Decode b[0..n). 0, -EINVAL (truncated or not a memory operand), or
 * -ENOTSUP (a valid instruction Keel does not emulate). */
int insn_decode_mov(const u8 *b, size_t n, struct mmio_insn *out);
