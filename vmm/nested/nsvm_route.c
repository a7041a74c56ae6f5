// SPDX-License-Identifier: MIT
/*
 * The intercept merge and the exit routing of nested SVM (nsvm.h). Pure:
 * L1's permission maps are read through a callback.
 *
 * Keel's own permission maps intercept every port and every MSR, so the
 * union of Keel's and L1's maps is Keel's: the VMCB02 uses Keel's maps,
 * and an IOIO or MSR exit from L2 is reflected when L1's map has the bit
 * (read from L1 memory at the exit), else Keel handles it for L2.
 */
#include "vmm/insn_decode.h"
#include "vmm/nested/nsvm.h"

void nsvm_merge_control(struct vmcb_control *c02, const struct vmcb_control *c12)
{
	*c02 = (struct vmcb_control){ 0 };
	c02->cr_read = c12->cr_read;
	c02->cr_write = c12->cr_write;
	c02->dr_read = c12->dr_read;
	c02->dr_write = c12->dr_write;
	c02->exceptions = c12->exceptions;
	c02->intercept3 = c12->intercept3 | NSVM_KEEL_INTERCEPT3;
	c02->intercept4 = c12->intercept4 | NSVM_KEEL_INTERCEPT4;
	c02->intercept5 = c12->intercept5;
	c02->pause_threshold = c12->pause_threshold;
	c02->pause_count = c12->pause_count;
	c02->tsc_offset = c12->tsc_offset;
	c02->vintr = c12->vintr | SVM_V_INTR_MASKING;
	c02->interrupt_shadow = c12->interrupt_shadow & 1;
	c02->np_enable = SVM_NP_ENABLE; /* always: the shadow NPT, or Keel's TDP of L1 */
	c02->event_inj = c12->event_inj;
}

bool nsvm_msrpm_bit(u32 msr, u32 *byte, unsigned *bit)
{
	static const struct { u32 first, offset; } ranges[] = {
		{ 0x00000000u, 0x000 }, { 0xc0000000u, 0x800 }, { 0xc0010000u, 0x1000 },
	};

	for (unsigned i = 0; i < ARRAY_SIZE(ranges); i++) {
		u32 idx = msr - ranges[i].first;

		if (msr >= ranges[i].first && idx < 0x2000) {
			*byte = ranges[i].offset + idx / 4;
			*bit = (idx % 4) * 2;
			return true;
		}
	}
	return false;
}

static bool map_bit(nsvm_read_byte_fn rd, void *ctx, u64 base, u32 byte, unsigned bit)
{
	u8 b;

	if (!rd(ctx, (base & ~0xfffull) + byte, &b))
		return true; /* not RAM: reads as ones */
	return b & (1u << bit);
}

static bool msr_intercepted(const struct vmcb_control *c, u64 info1, u32 msr,
			    nsvm_read_byte_fn rd, void *ctx)
{
	u32 byte;
	unsigned bit;

	if (!nsvm_msrpm_bit(msr, &byte, &bit))
		return true;
	return map_bit(rd, ctx, c->msrpm_base_pa, byte, bit + (info1 & 1 ? 1 : 0));
}

static bool io_intercepted(const struct vmcb_control *c, u64 info1, nsvm_read_byte_fn rd,
			   void *ctx)
{
	u32 port = (u32)(info1 >> SVM_IOIO_PORT_SHIFT) & 0xffff;
	unsigned size = (unsigned)((info1 & SVM_IOIO_SIZE_MASK) >> SVM_IOIO_SIZE_SHIFT);

	if (size != 1 && size != 2 && size != 4)
		return true;
	for (unsigned i = 0; i < size; i++)
		if (map_bit(rd, ctx, c->iopm_base_pa, (port + i) / 8, (port + i) % 8))
			return true;
	return false;
}

bool nsvm_l1_intercepts(const struct vmcb_control *c12, u64 code, u64 info1, u32 msr,
			nsvm_read_byte_fn rd, void *ctx)
{
	if (code < 0x10)
		return c12->cr_read & (1u << code);
	if (code < 0x20)
		return c12->cr_write & (1u << (code - 0x10));
	if (code < 0x30)
		return c12->dr_read & (1u << (code - 0x20));
	if (code < 0x40)
		return c12->dr_write & (1u << (code - 0x30));
	if (code < 0x60)
		return c12->exceptions & (1u << (code - 0x40));
	if (code < 0x80) {
		if (!(c12->intercept3 & (1u << (code - 0x60))))
			return false;
		if (code == SVM_EXIT_IOIO)
			return io_intercepted(c12, info1, rd, ctx);
		if (code == SVM_EXIT_MSR)
			return msr_intercepted(c12, info1, msr, rd, ctx);
		return true;
	}
	if (code < 0xa0)
		return c12->intercept4 & (1u << (code - 0x80));
	if (code < 0xc0)
		return c12->intercept5 & (1u << (code - 0xa0));
	return true; /* VMEXIT_INVALID, and codes Keel does not know: L1's */
}

enum nsvm_route nsvm_route_exit(const struct vmcb_control *c12, bool np, u64 code, u64 info1,
				u32 msr, nsvm_read_byte_fn rd, void *ctx)
{
	code = nsvm_exit_code(code);
	if (code == SVM_EXIT_NPF)
		return np ? NSVM_ROUTE_SHADOW : NSVM_ROUTE_L1_TDP;
	/* Physical events are Keel's; L1's own (virtual) interrupts become
	 * #VMEXIT(INTR) before an entry (nsvm_exit.c), not here. */
	if (code == SVM_EXIT_INTR || code == SVM_EXIT_NMI || code == 0x62 /* SMI */ ||
	    code == 0x63 /* INIT */)
		return NSVM_ROUTE_HOST;
	if (nsvm_l1_intercepts(c12, code, info1, msr, rd, ctx))
		return NSVM_ROUTE_REFLECT;
	return NSVM_ROUTE_KEEL;
}

/* Opcode bytes after the prefixes of each instruction intercept whose
 * length is fixed (ModRM register forms included). */
struct insn_form {
	u64 code;
	u8 len, op[3];
};

static const struct insn_form forms[] = {
	{ SVM_EXIT_CPUID, 2, { 0x0f, 0xa2 } },
	{ SVM_EXIT_HLT, 1, { 0xf4 } },
	{ 0x76 /* INVD */, 2, { 0x0f, 0x08 } },
	{ 0x89 /* WBINVD */, 2, { 0x0f, 0x09 } },
	{ 0x6e /* RDTSC */, 2, { 0x0f, 0x31 } },
	{ 0x6f /* RDPMC */, 2, { 0x0f, 0x33 } },
	{ 0x87 /* RDTSCP */, 3, { 0x0f, 0x01, 0xf9 } },
	{ 0x77 /* PAUSE (F3 is a prefix) */, 1, { 0x90 } },
	{ 0x8a /* MONITOR */, 3, { 0x0f, 0x01, 0xc8 } },
	{ 0x8b /* MWAIT */, 3, { 0x0f, 0x01, 0xc9 } },
	{ SVM_EXIT_VMRUN, 3, { 0x0f, 0x01, 0xd8 } },
	{ SVM_EXIT_VMMCALL, 3, { 0x0f, 0x01, 0xd9 } },
	{ SVM_EXIT_VMLOAD, 3, { 0x0f, 0x01, 0xda } },
	{ SVM_EXIT_VMSAVE, 3, { 0x0f, 0x01, 0xdb } },
	{ SVM_EXIT_STGI, 3, { 0x0f, 0x01, 0xdc } },
	{ SVM_EXIT_CLGI, 3, { 0x0f, 0x01, 0xdd } },
	{ SVM_EXIT_SKINIT, 3, { 0x0f, 0x01, 0xde } },
	{ SVM_EXIT_INVLPGA, 3, { 0x0f, 0x01, 0xdf } },
	{ SVM_EXIT_XSETBV, 3, { 0x0f, 0x01, 0xd1 } },
};

static unsigned msr_len(const u8 *op, size_t left)
{
	return left >= 2 && op[0] == 0x0f && (op[1] == 0x30 || op[1] == 0x32) ? 2 : 0;
}

/* MOV to/from CRn / DRn: 0F 20-23 with a register ModRM (always mod = 3). */
static unsigned crdr_len(u64 code, const u8 *op, size_t left)
{
	u8 want = code < 0x20 ? (code < 0x10 ? 0x20 : 0x22) : (code < 0x30 ? 0x21 : 0x23);

	return left >= 3 && op[0] == 0x0f && op[1] == want ? 3 : 0;
}

unsigned nsvm_insn_len(u64 code, const u8 *b, size_t n, unsigned bits)
{
	struct insn_prefixes p;
	const u8 *op;
	size_t left;
	unsigned len = 0;

	if (!insn_prefixes(b, n, bits, &p) || p.len >= n)
		return 0;
	op = b + p.len;
	left = n - p.len;
	if (code == SVM_EXIT_MSR)
		len = msr_len(op, left);
	else if (code < 0x40)
		len = crdr_len(code, op, left);
	for (unsigned i = 0; !len && i < ARRAY_SIZE(forms); i++) {
		const struct insn_form *f = &forms[i];
		unsigned k;

		if (f->code != code || left < f->len)
			continue;
		for (k = 0; k < f->len && op[k] == f->op[k]; k++)
			;
		if (k == f->len)
			len = f->len;
	}
	return len && p.len + len <= INSN_MAX_LEN ? p.len + len : 0;
}
