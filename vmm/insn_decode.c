// SPDX-License-Identifier: MIT
#include <keel/errno.h>
#include <keel/string.h>
#include "vmm/insn_decode.h"

#define MODRM_MOD(m) ((m) >> 6)
#define MODRM_REG(m) (((m) >> 3) & 7)
#define MODRM_RM(m) ((m) & 7)
#define SIB_BASE(s) ((s) & 7)

static bool is_legacy_prefix(u8 c)
{
	switch (c) {
	case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65:
	case 0x66: case 0x67: case 0xf0: case 0xf2: case 0xf3:
		return true;
	default:
		return false;
	}
}

static void note_legacy(struct insn_prefixes *p, u8 c)
{
	if (c == 0x66)
		p->opsize = true;
	else if (c == 0x67)
		p->addrsize = true;
	else if (c == 0xf0)
		p->lock = true;
	else if (c == 0xf2 || c == 0xf3)
		p->rep = true;
}

bool insn_prefixes(const u8 *b, size_t n, struct insn_prefixes *p)
{
	size_t i = 0;

	memset(p, 0, sizeof(*p));
	n = MIN(n, (size_t)INSN_MAX_LEN);
	while (i < n && is_legacy_prefix(b[i]))
		note_legacy(p, b[i++]);
	/* REX counts only directly before the opcode. */
	if (i < n && (b[i] & 0xf0) == 0x40) {
		p->rex = true;
		p->rex_w = b[i] & 8;
		p->rex_r = b[i] & 4;
		p->rex_x = b[i] & 2;
		p->rex_b = b[i] & 1;
		i++;
	}
	p->len = (unsigned)i;
	return i < n;
}

/* Opcode bytes and length (after prefixes) of the instruction behind each
 * instruction exit. */
static unsigned opcode_len_for_exit(enum exit_kind k, const u8 *op, size_t n)
{
	switch (k) {
	case EXIT_CPUID:
		return n >= 2 && op[0] == 0x0f && op[1] == 0xa2 ? 2 : 0;
	case EXIT_RDMSR:
		return n >= 2 && op[0] == 0x0f && op[1] == 0x32 ? 2 : 0;
	case EXIT_WRMSR:
		return n >= 2 && op[0] == 0x0f && op[1] == 0x30 ? 2 : 0;
	case EXIT_HLT:
		return n >= 1 && op[0] == 0xf4 ? 1 : 0;
	case EXIT_HYPERCALL: /* VMMCALL 0f 01 d9, VMCALL 0f 01 c1 */
		if (n < 3 || op[0] != 0x0f || op[1] != 0x01)
			return 0;
		return op[2] == 0xd9 || op[2] == 0xc1 ? 3 : 0;
	case EXIT_XSETBV: /* 0f 01 d1 */
		return n >= 3 && op[0] == 0x0f && op[1] == 0x01 && op[2] == 0xd1 ? 3 : 0;
	case EXIT_IO:
		if (n >= 1 && op[0] >= 0xe4 && op[0] <= 0xe7)
			return n >= 2 ? 2 : 0; /* in/out with imm8 port */
		return n >= 1 && op[0] >= 0xec && op[0] <= 0xef ? 1 : 0; /* port in DX */
	default:
		return 0;
	}
}

unsigned insn_len_for_exit(enum exit_kind k, const u8 *b, size_t n)
{
	struct insn_prefixes p;
	unsigned len;

	if (!insn_prefixes(b, n, &p))
		return 0;
	len = opcode_len_for_exit(k, b + p.len, MIN(n, (size_t)INSN_MAX_LEN) - p.len);
	return len ? p.len + len : 0;
}

/* Bytes taken by ModRM, SIB and displacement at b; -EINVAL when truncated or
 * when the operand is a register (mod = 3), since then nothing touched
 * memory and the instruction cannot be the faulting one. */
static int modrm_len(const u8 *b, size_t n)
{
	unsigned mod, rm, len = 1;

	if (n < 1)
		return -EINVAL;
	mod = MODRM_MOD(b[0]);
	rm = MODRM_RM(b[0]);
	if (mod == 3)
		return -EINVAL;
	if (rm == 4) {
		if (n < 2)
			return -EINVAL;
		len++;
		if (mod == 0 && SIB_BASE(b[1]) == 5)
			len += 4;
	}
	if (mod == 0 && rm == 5)
		len += 4; /* RIP-relative */
	len += mod == 1 ? 1 : mod == 2 ? 4 : 0;
	return len <= n ? (int)len : -EINVAL;
}

static unsigned operand_size(const struct insn_prefixes *p)
{
	return p->rex_w ? 8 : p->opsize ? 2 : 4;
}

static u64 read_imm(const u8 *b, unsigned size)
{
	u64 v = 0;

	for (unsigned i = 0; i < size; i++)
		v |= (u64)b[i] << (8 * i);
	return v;
}

static s64 sign_extend(u64 v, unsigned bytes)
{
	unsigned shift = 64 - 8 * bytes;

	return (s64)(v << shift) >> shift;
}

static void set_reg(struct mmio_insn *m, const struct insn_prefixes *p, u8 modrm)
{
	m->reg = MODRM_REG(modrm) | (p->rex_r ? 8 : 0);
	/* Without REX, byte registers 4-7 are AH, CH, DH, BH. */
	if (m->size == 1 && !p->rex && m->reg >= 4 && m->reg < 8) {
		m->high_byte = true;
		m->reg -= 4;
	}
}

/* C6 /0 ib and C7 /0 iw/id: store an immediate. */
static int decode_store_imm(const u8 *b, size_t n, const struct insn_prefixes *p, u8 op,
			    unsigned at, struct mmio_insn *m)
{
	int ml = modrm_len(b + at, n - at);
	unsigned imm_size;

	if (ml < 0)
		return ml;
	if (MODRM_REG(b[at]) != 0)
		return -ENOTSUP;
	m->store = m->has_imm = true;
	m->size = op == 0xc6 ? 1 : operand_size(p);
	imm_size = MIN(m->size, 4u);
	if (at + (unsigned)ml + imm_size > n)
		return -EINVAL;
	m->imm = (u64)sign_extend(read_imm(b + at + ml, imm_size), imm_size);
	m->len = at + (unsigned)ml + imm_size;
	return 0;
}

/* A0-A3: AL/eAX to or from an absolute 64-bit (32-bit with 67) address. */
static int decode_moffs(size_t n, const struct insn_prefixes *p, u8 op, unsigned at,
			struct mmio_insn *m)
{
	unsigned addr_len = p->addrsize ? 4 : 8;

	m->size = (op & 1) ? operand_size(p) : 1;
	m->store = op >= 0xa2;
	m->reg = 0;
	m->dest_size = m->size;
	m->len = at + addr_len;
	return m->len <= n ? 0 : -EINVAL;
}

/* 88/89/8A/8B and 0F B6/B7: register to or from memory. */
static int decode_reg_form(const u8 *b, size_t n, const struct insn_prefixes *p, unsigned op,
			   unsigned at, struct mmio_insn *m)
{
	int ml = modrm_len(b + at, n - at);

	if (ml < 0)
		return ml;
	switch (op) {
	case 0x88: case 0x8a:
		m->size = 1;
		break;
	case 0x89: case 0x8b:
		m->size = operand_size(p);
		break;
	case 0x0fb6:
		m->size = 1;
		break;
	default: /* 0x0fb7 */
		m->size = 2;
		break;
	}
	m->store = op == 0x88 || op == 0x89;
	m->dest_size = (op >> 8) == 0x0f ? operand_size(p) : m->size;
	set_reg(m, p, b[at]);
	if ((op >> 8) == 0x0f)
		m->high_byte = false; /* movzx destinations are never byte registers */
	m->len = at + (unsigned)ml;
	return 0;
}

int insn_decode_mov(const u8 *b, size_t n, struct mmio_insn *m)
{
	struct insn_prefixes p;
	unsigned at, op;

	memset(m, 0, sizeof(*m));
	n = MIN(n, (size_t)INSN_MAX_LEN);
	if (!insn_prefixes(b, n, &p))
		return -EINVAL;
	if (p.lock || p.rep)
		return -ENOTSUP;
	at = p.len;
	op = b[at++];
	if (op == 0x0f) {
		if (at >= n)
			return -EINVAL;
		op = 0x0f00 | b[at++];
	}
	switch (op) {
	case 0x88: case 0x89: case 0x8a: case 0x8b: case 0x0fb6: case 0x0fb7:
		return decode_reg_form(b, n, &p, op, at, m);
	case 0xc6: case 0xc7:
		return decode_store_imm(b, n, &p, (u8)op, at, m);
	case 0xa0: case 0xa1: case 0xa2: case 0xa3:
		return decode_moffs(n, &p, (u8)op, at, m);
	default:
		return -ENOTSUP;
	}
}
