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
	switch (c) {
	case 0x66: p->opsize = true; break;
	case 0x67: p->addrsize = true; break;
	case 0xf0: p->lock = true; break;
	case 0xf2: case 0xf3: p->rep = true; break;
	case 0x26: p->seg = SEG_ES; break;
	case 0x2e: p->seg = SEG_CS; break;
	case 0x36: p->seg = SEG_SS; break;
	case 0x3e: p->seg = SEG_DS; break;
	case 0x64: p->seg = SEG_FS; break;
	default: p->seg = SEG_GS; break; /* 0x65 */
	}
}

/* 0x67 toggles 16/32 outside 64-bit mode and selects 32 in it. */
static unsigned addr_bits(unsigned bits, bool addrsize)
{
	if (bits == 64)
		return addrsize ? 32 : 64;
	if (bits == 32)
		return addrsize ? 16 : 32;
	return addrsize ? 32 : 16;
}

bool insn_prefixes(const u8 *b, size_t n, unsigned bits, struct insn_prefixes *p)
{
	size_t i = 0;

	memset(p, 0, sizeof(*p));
	p->seg = SEG_NONE;
	p->bits = bits;
	n = MIN(n, (size_t)INSN_MAX_LEN);
	while (i < n && is_legacy_prefix(b[i]))
		note_legacy(p, b[i++]);
	p->addr_bits = addr_bits(bits, p->addrsize);
	/* REX exists in 64-bit mode only (0x40-0x4f are INC/DEC elsewhere),
	 * and counts only directly before the opcode. */
	if (bits == 64 && i < n && (b[i] & 0xf0) == 0x40) {
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
		if (n >= 1 && op[0] >= 0x6c && op[0] <= 0x6f)
			return 1; /* ins/outs */
		return n >= 1 && op[0] >= 0xec && op[0] <= 0xef ? 1 : 0; /* port in DX */
	default:
		return 0;
	}
}

unsigned insn_len_for_exit(enum exit_kind k, const u8 *b, size_t n, unsigned bits)
{
	struct insn_prefixes p;
	unsigned len;

	if (!insn_prefixes(b, n, bits, &p))
		return 0;
	len = opcode_len_for_exit(k, b + p.len, MIN(n, (size_t)INSN_MAX_LEN) - p.len);
	return len ? p.len + len : 0;
}

static s64 sign_extend(u64 v, unsigned bytes);

static u64 read_le(const u8 *b, unsigned size)
{
	u64 v = 0;

	for (unsigned i = 0; i < size; i++)
		v |= (u64)b[i] << (8 * i);
	return v;
}

/* 16-bit addressing: no SIB; mod 0 rm 6 is a disp16, mod 2 a disp16. */
static int modrm16_len(const u8 *b, size_t n, struct mmio_insn *m)
{
	unsigned mod = MODRM_MOD(b[0]), rm = MODRM_RM(b[0]), dl;

	dl = mod == 1 ? 1 : (mod == 2 || (mod == 0 && rm == 6)) ? 2 : 0;
	if (1 + dl > n)
		return -EINVAL;
	m->disp = dl ? sign_extend(read_le(b + 1, dl), dl) : 0;
	return (int)(1 + dl);
}

/* Bytes taken by ModRM, SIB and displacement at b, noting them in m;
 * -EINVAL when truncated or when the operand is a register (mod = 3),
 * since then nothing touched memory and the instruction cannot be the
 * faulting one. */
static int modrm_len(const u8 *b, size_t n, struct mmio_insn *m)
{
	unsigned mod, rm, len = 1, dl;

	if (n < 1)
		return -EINVAL;
	mod = MODRM_MOD(b[0]);
	rm = MODRM_RM(b[0]);
	if (mod == 3)
		return -EINVAL;
	m->modrm = b[0];
	if (m->pfx.addr_bits == 16)
		return modrm16_len(b, n, m);
	dl = mod == 1 ? 1 : mod == 2 ? 4 : 0;
	if (rm == 4) {
		if (n < 2)
			return -EINVAL;
		m->sib = b[1];
		len++;
		if (mod == 0 && SIB_BASE(b[1]) == 5)
			dl = 4;
	}
	if (mod == 0 && rm == 5)
		dl = 4; /* RIP-relative (64-bit mode) or disp32 */
	if (len + dl > n)
		return -EINVAL;
	m->disp = dl ? sign_extend(read_le(b + len, dl), dl) : 0;
	return (int)(len + dl);
}

unsigned insn_operand_size(const struct insn_prefixes *p)
{
	if (p->rex_w)
		return 8;
	if (p->bits == 16)
		return p->opsize ? 4 : 2;
	return p->opsize ? 2 : 4;
}

static unsigned operand_size(const struct insn_prefixes *p)
{
	return insn_operand_size(p);
}

static u64 read_imm(const u8 *b, unsigned size)
{
	return read_le(b, size);
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
	int ml = modrm_len(b + at, n - at, m);
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

/* A0-A3: AL/eAX to or from an absolute offset as wide as the address. */
static int decode_moffs(const u8 *b, size_t n, const struct insn_prefixes *p, u8 op,
			unsigned at, struct mmio_insn *m)
{
	unsigned addr_len = p->addr_bits / 8;

	m->size = (op & 1) ? operand_size(p) : 1;
	m->store = op >= 0xa2;
	m->reg = 0;
	m->dest_size = m->size;
	m->moffs = true;
	m->len = at + addr_len;
	if (m->len > n)
		return -EINVAL;
	m->disp = (s64)read_le(b + at, addr_len);
	return 0;
}

/* 88/89/8A/8B and 0F B6/B7: register to or from memory. */
static int decode_reg_form(const u8 *b, size_t n, const struct insn_prefixes *p, unsigned op,
			   unsigned at, struct mmio_insn *m)
{
	int ml = modrm_len(b + at, n - at, m);

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

int insn_decode_mov(const u8 *b, size_t n, unsigned bits, struct mmio_insn *m)
{
	struct insn_prefixes p;
	unsigned at, op;

	memset(m, 0, sizeof(*m));
	n = MIN(n, (size_t)INSN_MAX_LEN);
	if (!insn_prefixes(b, n, bits, &p))
		return -EINVAL;
	m->pfx = p;
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
		return decode_moffs(b, n, &p, (u8)op, at, m);
	default:
		return -ENOTSUP;
	}
}

static u64 addr_mask(unsigned bits)
{
	return bits == 64 ? ~0ull : (1ull << bits) - 1;
}

/* 16-bit forms: BX+SI, BX+DI, BP+SI, BP+DI, SI, DI, BP (disp16 with mod 0), BX. */
static u64 offset16(const struct mmio_insn *m, const u64 r[16], int *seg)
{
	static const int base[8] = { 3, 3, 5, 5, 6, 7, 5, 3 };
	static const int index[8] = { 6, 7, 6, 7, -1, -1, -1, -1 };
	unsigned rm = MODRM_RM(m->modrm), mod = MODRM_MOD(m->modrm);
	u64 off = (u64)m->disp;

	if (mod == 0 && rm == 6)
		return off & 0xffff;
	off += r[base[rm]];
	if (index[rm] >= 0)
		off += r[index[rm]];
	if (base[rm] == 5)
		*seg = SEG_SS; /* BP-based */
	return off & 0xffff;
}

static u64 offset_sib(const struct mmio_insn *m, const u64 r[16], int *seg)
{
	const struct insn_prefixes *p = &m->pfx;
	unsigned base = SIB_BASE(m->sib) | (p->rex_b ? 8 : 0);
	unsigned index = ((m->sib >> 3) & 7) | (p->rex_x ? 8 : 0);
	u64 off = (u64)m->disp;

	if (index != 4)
		off += r[index] << (m->sib >> 6);
	if ((m->sib & 7) == 5 && MODRM_MOD(m->modrm) == 0)
		return off; /* no base, disp32 */
	if (base == 4 || base == 5)
		*seg = SEG_SS; /* rSP / rBP based */
	return off + r[base];
}

u64 insn_mem_offset(const struct mmio_insn *m, const u64 r[16], u64 next_rip, int *seg)
{
	const struct insn_prefixes *p = &m->pfx;
	unsigned rm = MODRM_RM(m->modrm), mod = MODRM_MOD(m->modrm);
	u64 off;

	*seg = SEG_DS;
	if (m->moffs)
		off = (u64)m->disp;
	else if (p->addr_bits == 16)
		off = offset16(m, r, seg);
	else if (rm == 4)
		off = offset_sib(m, r, seg);
	else if (mod == 0 && rm == 5)
		off = (p->bits == 64 ? next_rip : 0) + (u64)m->disp;
	else {
		unsigned b = rm | (p->rex_b ? 8 : 0);

		if (b == 5 || b == 4)
			*seg = SEG_SS; /* rBP / rSP based */
		off = r[b] + (u64)m->disp;
	}
	if (p->seg != SEG_NONE)
		*seg = p->seg;
	return off & addr_mask(p->addr_bits);
}
