// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: random VMCB12s through nested SVM's pure parts
 * (vmm/nested/nsvm_check.c, nsvm_route.c).
 *
 * The input starts with a 22-byte header (L1's MAXPHYADDR and mode, an
 * exit code, EXITINFO1, an MSR number); the rest is 3-byte patches
 * (offset low, offset high, value) XORed onto a VMCB12 that every check
 * accepts, so an input without patches is valid and every field of the
 * page is one patch away. The same bytes are also instruction bytes. Properties (a failure traps; libFuzzer reports the
 * input):
 *  - nsvm_check_vmcb never accepts a VMCB12 that an independent restatement
 *    of the APM's must-refuse rules (below, written separately from the
 *    checks) refuses, and names a reason whenever it refuses;
 *  - the VMCB02 control area built from an accepted VMCB12 always carries
 *    Keel's intercepts and V_INTR_MASKING, and nothing Keel owns (ASID,
 *    nCR3, permission maps, TLB_CONTROL) comes from L1;
 *  - the routing decision for any exit is one of the five, the physical
 *    events are always Keel's, VMRUN is always reflected; the permission
 *    maps are only read inside their 12 KiB / 8 KiB;
 *  - the nRIP decode never returns more than the bytes it was given or 15.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "vmm/insn_decode.h"
#include "vmm/nested/nsvm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fz_die(const char *what)
{
	fprintf(stderr, "fuzz_vmcb: %s\n", what);
	__builtin_trap();
}

/* The rules again, in the APM's words (15.5.1, 15.20), not nsvm_check's. */
static bool must_refuse(const struct vmcb *v, const struct nsvm_caps *c)
{
	const struct vmcb_save *s = &v->save;
	const struct vmcb_control *k = &v->ctl;
	u64 hi = c->maxphyaddr >= 64 ? 0 : ~0ull << (c->maxphyaddr ? c->maxphyaddr : 36);
	bool long_mode = ((s->efer >> 8) & 1) && ((s->cr0 >> 31) & 1);
	u64 ev = k->event_inj, type = (ev >> 8) & 7;

	if (!((s->efer >> 12) & 1) || (((s->cr0 >> 29) & 3) == 1) || (s->cr0 >> 32) ||
	    (s->dr6 >> 32) || (s->dr7 >> 32))
		return true;
	if ((s->efer & ~(u64)NSVM_EFER_VALID) || (s->cr4 & ~(u64)NSVM_CR4_VALID))
		return true;
	if (long_mode && (!((s->cr4 >> 5) & 1) || !(s->cr0 & 1) || (s->cr3 & hi) ||
			  (((s->cs.attrib >> 9) & 3) == 3)))
		return true;
	if (!(k->intercept4 & 1) || k->asid == 0)
		return true;
	if (((k->intercept3 >> 28) & 1) && ((((k->msrpm_base_pa & ~0xfffull) + 0x1fff) & hi) ||
					    (k->msrpm_base_pa & ~0xfffull) + 0x1fff <
						    (k->msrpm_base_pa & ~0xfffull)))
		return true;
	if (((k->intercept3 >> 27) & 1) && ((((k->iopm_base_pa & ~0xfffull) + 0x2fff) & hi) ||
					    (k->iopm_base_pa & ~0xfffull) + 0x2fff <
						    (k->iopm_base_pa & ~0xfffull)))
		return true;
	if ((ev >> 31) & 1) {
		if ((ev >> 12) & 0x7ffff)
			return true;
		if (type == 1 || type == 5 || type == 6 || type == 7)
			return true;
		if (type == 3 && ((ev & 0xff) > 31 || (ev & 0xff) == 2))
			return true;
	}
	if (k->tlb_control != 0 && k->tlb_control != 1 && k->tlb_control != 3 &&
	    k->tlb_control != 7)
		return true;
	if ((k->np_enable & 1) && ((k->ncr3 & hi) || !c->l1_long))
		return true;
	return false;
}

static const u8 *map_data;
static size_t map_len;

/* L1 memory for the maps: the fuzz input again, at 0x10000000. */
static bool rd(void *ctx, u64 pa, u8 *out)
{
	const struct vmcb_control *c = ctx;
	u64 io = c->iopm_base_pa & ~0xfffull, msr = c->msrpm_base_pa & ~0xfffull;

	if (!((pa >= io && pa - io < SVM_IOPM_BYTES) || (pa >= msr && pa - msr < SVM_MSRPM_BYTES)))
		fz_die("permission map read outside the map");
	if (pa < 0x10000000u || pa - 0x10000000u >= map_len)
		return false;
	*out = map_data[pa - 0x10000000u];
	return true;
}

static void check_merge(const struct vmcb *v)
{
	struct vmcb_control c02;

	memset(&c02, 0xa5, sizeof(c02));
	nsvm_merge_control(&c02, &v->ctl);
	if ((c02.intercept3 & NSVM_KEEL_INTERCEPT3) != NSVM_KEEL_INTERCEPT3 ||
	    (c02.intercept4 & NSVM_KEEL_INTERCEPT4) != NSVM_KEEL_INTERCEPT4)
		fz_die("VMCB02 lost one of Keel's intercepts");
	if (!(c02.vintr & SVM_V_INTR_MASKING))
		fz_die("VMCB02 without V_INTR_MASKING");
	if (c02.asid || c02.ncr3 || c02.iopm_base_pa || c02.msrpm_base_pa || c02.tlb_control)
		fz_die("VMCB02 took a Keel-owned field from L1");
	if ((c02.intercept3 & v->ctl.intercept3) != v->ctl.intercept3 ||
	    (c02.intercept4 & v->ctl.intercept4) != v->ctl.intercept4)
		fz_die("VMCB02 dropped one of L1's intercepts");
}

static void baseline(struct vmcb *v)
{
	memset(v, 0, sizeof(*v));
	v->ctl.intercept4 = SVM_INTERCEPT_VMRUN;
	v->ctl.intercept3 = SVM_INTERCEPT_IOIO | SVM_INTERCEPT_MSR | SVM_INTERCEPT_CPUID;
	v->ctl.iopm_base_pa = 0x10000000;
	v->ctl.msrpm_base_pa = 0x10000000;
	v->ctl.asid = 1;
	v->ctl.np_enable = SVM_NP_ENABLE;
	v->ctl.ncr3 = 0x200000;
	v->save.efer = BIT(8) | BIT(10) | BIT(12);
	v->save.cr0 = BIT(0) | BIT(31);
	v->save.cr4 = BIT(5);
	v->save.cs.attrib = 0x029b;
}

/* A patch's byte: with bit 15 set, one of the 8 bytes of a field the
 * checks read (so that single-bit rules are found fast); else anywhere. */
static size_t patch_offset(u8 lo, u8 hi)
{
	static const u16 fields[] = {
		0x00c, 0x010, 0x040, 0x048, 0x058, 0x05c, 0x090, 0x0a8, 0x0b0,
		0x410, 0x4d0, 0x548, 0x550, 0x558, 0x560, 0x568,
	};

	if (hi & 0x80)
		return fields[lo % ARRAY_SIZE(fields)] + (hi & 7);
	return (size_t)(lo | ((hi & 0x7f) << 8)) % sizeof(struct vmcb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vmcb v;
	struct nsvm_caps caps = { .maxphyaddr = 40, .l1_long = true };
	const u8 *tail = size > 22 ? data + 22 : NULL;
	size_t tail_len = tail ? size - 22 : 0;
	u64 code = 0, info1 = 0;
	u32 msr = 0;
	enum nsvm_bad bad;
	enum nsvm_route r;

	baseline(&v);
	if (size >= 22) {
		caps.maxphyaddr = (u8)(32 + data[0] % 21);
		caps.l1_long = !(data[1] & 1);
		memcpy(&code, data + 2, 8);
		memcpy(&info1, data + 10, 8);
		memcpy(&msr, data + 18, 4);
		code &= (data[9] & 0x80) ? ~0ull : 0x4ff; /* mostly real exit codes */
	}
	for (size_t i = 0; i + 3 <= tail_len; i += 3)
		((u8 *)&v)[patch_offset(tail[i], tail[i + 1])] ^= tail[i + 2];
	bad = nsvm_check_vmcb(&v, &caps);
	if (bad >= NSVM_BAD_COUNT)
		fz_die("unknown refusal");
	if (!bad && must_refuse(&v, &caps))
		fz_die("a VMCB12 the APM refuses passed the checks");
	if (bad && !must_refuse(&v, &caps))
		fz_die("a VMCB12 the APM accepts was refused");
	if (!bad)
		check_merge(&v);
	map_data = data;
	map_len = size;
	r = nsvm_route_exit(&v.ctl, v.ctl.np_enable & 1, code, info1, msr, rd, &v.ctl);
	if (r > NSVM_ROUTE_KEEL)
		fz_die("unknown route");
	if ((code == SVM_EXIT_INTR || code == SVM_EXIT_NMI) && r != NSVM_ROUTE_HOST)
		fz_die("a physical event was not Keel's");
	if (code == SVM_EXIT_VMRUN && !bad && r != NSVM_ROUTE_REFLECT)
		fz_die("VMRUN in L2 was not reflected");
	if (tail_len) {
		size_t n = tail_len < INSN_MAX_LEN ? tail_len : INSN_MAX_LEN;
		unsigned len = nsvm_insn_len(code & 0xff, tail, n, 64);

		if (len > n || len > 15)
			fz_die("nRIP decode past its bytes");
	}
	return 0;
}
