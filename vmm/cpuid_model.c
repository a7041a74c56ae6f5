// SPDX-License-Identifier: MIT
/*
 * The CPUID model (cpuid_model.h). Every leaf is one of: passed from the
 * host through the feature masks below, made up by Keel, or zero. The
 * tables are the policy: docs/platform.md copies them with the reasons.
 */
#include "vmm/cpuid_model.h"

enum reg { EAX, EBX, ECX, EDX };

/* Feature bits of passed leaves: 'hide' is cleared, 'show' is set. */
struct cpuid_mask {
	u32 leaf, sub;
	enum reg reg;
	u32 hide, show;
};

#define B(n) (1u << (n))

static const struct cpuid_mask masks[] = {
	/* 1.ECX: DTES64, MONITOR, DS-CPL, VMX, SMX, EST, TM2, CNXT-ID, SDBG,
	 * xTPR, PDCM, PCID, DCA hidden; x2APIC, TSC-deadline, hypervisor shown.
	 * OSXSAVE, AVX and XSAVE are set from the vCPU and the XCR0 policy. */
	{ 1, 0, ECX, B(2) | B(3) | B(4) | B(5) | B(6) | B(7) | B(8) | B(10) | B(11) | B(14) |
		     B(15) | B(17) | B(18) | B(27), B(21) | B(24) | B(31) },
	/* 1.EDX: DS, ACPI (thermal MSRs), TM, PBE hidden; APIC shown per APIC_BASE. */
	{ 1, 0, EDX, B(21) | B(22) | B(29) | B(31), 0 },
	/* 6: only ARAT (the APIC timer does not stop in C-states); no thermal,
	 * power or APERF/MPERF features (they are MSRs). */
	{ 6, 0, EAX, ~B(2), B(2) },
	{ 6, 0, EBX, ~0u, 0 },
	{ 6, 0, ECX, ~0u, 0 },
	{ 6, 0, EDX, ~0u, 0 },
	/* 7.0.EBX: SGX, TSC_ADJUST, HLE, INVPCID, RTM, PQM, MPX, PQE, AVX-512*,
	 * Intel PT hidden; AVX2 follows AVX below. */
	{ 7, 0, EBX, B(1) | B(2) | B(4) | B(10) | B(11) | B(12) | B(13) | B(14) | B(15) | B(16) |
		     B(17) | B(21) | B(25) | B(26) | B(27) | B(28) | B(30) | B(31), 0 },
	/* 7.0.ECX: AVX-512 VBMI, PKU/OSPKE, WAITPKG, AVX-512 parts, LA57, RDPID,
	 * SGX-LC, ENQCMD and the rest of the newer extensions hidden; kept:
	 * UMIP (2), GFNI (8), VAES (9), VPCLMULQDQ (10), CLDEMOTE (25),
	 * MOVDIRI (27), MOVDIR64B (28). */
	{ 7, 0, ECX, ~(B(2) | B(8) | B(9) | B(10) | B(25) | B(27) | B(28)), 0 },
	/* 7.0.EDX: only FSRM (4), MD_CLEAR (10), SERIALIZE (14): every other bit
	 * names an MSR or feature Keel does not model (SPEC_CTRL, ARCH_CAPS...). */
	{ 7, 0, EDX, ~(B(4) | B(10) | B(14)), 0 },
	/* 0x80000001.ECX: SVM, ExtApicSpace, CR8 legacy, OSVW, IBS, SKINIT, WDT,
	 * LWP, NodeId, PerfCtrCore, PerfCtrNb, PerfCtrLlc, MWAITX hidden. */
	{ 0x80000001, 0, ECX, B(2) | B(3) | B(4) | B(9) | B(10) | B(12) | B(13) | B(15) | B(19) |
			      B(23) | B(24) | B(28) | B(29), 0 },
	/* 0x80000001.EDX: RDTSCP hidden (TSC_AUX is emulated; the instruction
	 * would read the host's). */
	{ 0x80000001, 0, EDX, B(27), 0 },
	/* 0x80000007.EDX: only invariant TSC (8): the guest TSC is the host's
	 * plus a constant offset. */
	{ 0x80000007, 0, EDX, ~B(8), 0 },
	{ 0x80000007, 0, EAX, ~0u, 0 },
	{ 0x80000007, 0, EBX, ~0u, 0 },
	{ 0x80000007, 0, ECX, ~0u, 0 },
	/* 0x80000008.EBX: only CLZERO (0) and XSaveErPtr (2); the speculation
	 * control bits name MSRs Keel does not model. */
	{ 0x80000008, 0, EBX, ~(B(0) | B(2)), 0 },
};

/* Leaves answered from the host (then masked / adjusted); any other leaf
 * inside the guest's ranges reads 0. */
static bool passed(const struct cpuid_model *m, u32 leaf)
{
	switch (leaf) {
	case 0: case 1: case 2: case 6: case 7: case 0x16:
		return true;
	case 4:
		return m->vendor == CPUID_VENDOR_INTEL;
	case 0x80000000: case 0x80000001: case 0x80000002: case 0x80000003: case 0x80000004:
	case 0x80000005: case 0x80000006: case 0x80000007: case 0x80000008: case 0x80000019:
		return true;
	case 0x8000001d:
		return m->vendor == CPUID_VENDOR_AMD;
	default:
		return false;
	}
}

static u32 *reg_of(struct cpuid_out *r, enum reg reg)
{
	switch (reg) {
	case EAX: return &r->eax;
	case EBX: return &r->ebx;
	case ECX: return &r->ecx;
	default: return &r->edx;
	}
}

static unsigned order(unsigned n) /* ceil(log2(n)) */
{
	unsigned b = 0;

	while ((1u << b) < n)
		b++;
	return b;
}

void cpuid_model_init(struct cpuid_model *m, struct cpuid_out (*host)(void *ctx, u32 leaf, u32 sub),
		      void *ctx, unsigned nr_vcpus, u64 xcr0_mask, u64 tsc_hz)
{
	struct cpuid_out r = host(ctx, 0, 0), x;

	*m = (struct cpuid_model){ .host = host, .ctx = ctx, .nr_vcpus = nr_vcpus ? nr_vcpus : 1 };
	if (r.ebx == 0x756e6547u) /* "GenuineIntel" */
		m->vendor = CPUID_VENDOR_INTEL;
	else if (r.ebx == 0x68747541u || r.ebx == 0x6f677948u) /* "AuthenticAMD", "HygonGenuine" */
		m->vendor = CPUID_VENDOR_AMD;
	m->max_basic = r.eax < 0x1f ? r.eax : 0x1f;
	if (m->vendor == CPUID_VENDOR_INTEL && tsc_hz && tsc_hz <= 0xffffffffull) {
		m->tsc_hz = tsc_hz; /* leaf 0x15 tells it: Linux needs no PIT calibration */
		if (m->max_basic < 0x15)
			m->max_basic = 0x15;
	}
	x = host(ctx, 0x80000000u, 0);
	m->max_ext = x.eax < 0x80000000u ? 0x80000000u : x.eax;
	if (m->vendor == CPUID_VENDOR_AMD && (host(ctx, 0x80000001u, 0).ecx & B(22)))
		m->max_ext = m->max_ext > 0x8000001eu ? m->max_ext : 0x8000001eu; /* TOPOEXT */
	if (m->max_ext > 0x80000021u)
		m->max_ext = 0x80000021u;
	m->xcr0_mask = 0;
	if (m->max_basic >= 0xd && (host(ctx, 1, 0).ecx & B(26))) {
		struct cpuid_out d = host(ctx, 0xd, 0);

		m->xcr0_mask = (((u64)d.edx << 32) | d.eax) & CPUID_XCR0_ALLOWED & xcr0_mask;
	}
}

void cpuid_model_set_svm(struct cpuid_model *m)
{
	m->svm = true;
	if (m->max_ext < 0x8000000au)
		m->max_ext = 0x8000000au;
}

/* Bytes of the XSAVE area for the components in 'xcr0' (standard format). */
static u32 xsave_size(const struct cpuid_model *m, u64 xcr0)
{
	u32 size = 512 + 64; /* legacy area + header */

	for (unsigned i = 2; i < 64; i++) {
		struct cpuid_out c;

		if (!(xcr0 & (1ull << i)))
			continue;
		c = m->host(m->ctx, 0xd, i);
		if (c.ebx + c.eax > size)
			size = c.ebx + c.eax;
	}
	return size;
}

/* Bytes of the compacted-format area (XSAVEC) for the components in 'xcr0'. */
static u32 xsave_compacted_size(const struct cpuid_model *m, u64 xcr0)
{
	u32 size = 512 + 64;

	for (unsigned i = 2; i < 64; i++) {
		struct cpuid_out c;

		if (!(xcr0 & (1ull << i)))
			continue;
		c = m->host(m->ctx, 0xd, i);
		if (c.ecx & B(1))
			size = (size + 63) & ~63u; /* 64-byte aligned component */
		size += c.eax;
	}
	return size;
}

static struct cpuid_out leaf_xsave(const struct cpuid_model *m, const struct cpuid_vcpu_view *v,
				   u32 sub)
{
	struct cpuid_out r = { 0 };

	if (!m->xcr0_mask)
		return r;
	if (sub == 0) {
		r.eax = (u32)m->xcr0_mask;
		r.edx = (u32)(m->xcr0_mask >> 32);
		r.ebx = xsave_size(m, v->xcr0 & m->xcr0_mask);
		r.ecx = xsave_size(m, m->xcr0_mask);
	} else if (sub == 1) {
		/* XSAVEOPT, XSAVEC, XGETBV1; not XSAVES (no IA32_XSS). EBX is
		 * the compacted size for XCR0 | XSS (XSS = 0): XSAVEC's size,
		 * which Linux uses when XSAVEC is offered. */
		r.eax = m->host(m->ctx, 0xd, 1).eax & (B(0) | B(1) | B(2));
		if (r.eax & B(1))
			r.ebx = xsave_compacted_size(m, v->xcr0 & m->xcr0_mask);
	} else if (sub < 64 && (m->xcr0_mask & (1ull << sub)) && sub >= 2) {
		r = m->host(m->ctx, 0xd, sub);
		r.ecx &= B(1); /* aligned-in-compacted bit only; not supervisor state */
		r.edx = 0;
	}
	return r;
}

/* Intel 0xb / 0x1f: one thread per core, nr_vcpus cores in one package. */
static struct cpuid_out leaf_topology(const struct cpuid_model *m, unsigned index, u32 sub)
{
	struct cpuid_out r = { .ecx = sub & 0xff, .edx = index };

	if (sub == 0) {
		r.eax = 0;
		r.ebx = 1;
		r.ecx |= 1u << 8; /* SMT level */
	} else if (sub == 1) {
		r.eax = order(m->nr_vcpus);
		r.ebx = m->nr_vcpus;
		r.ecx |= 2u << 8; /* core level */
	}
	return r;
}

static void adjust_leaf1(const struct cpuid_model *m, const struct cpuid_vcpu_view *v,
			 struct cpuid_out *r)
{
	unsigned logical = 1u << order(m->nr_vcpus);

	r->ebx = (r->ebx & 0xffff) | ((logical & 0xff) << 16) | (v->index << 24);
	if (m->nr_vcpus > 1)
		r->edx |= B(28); /* HTT: more than one logical processor */
	else
		r->edx &= ~B(28);
	if (v->apic_enabled)
		r->edx |= B(9);
	else
		r->edx &= ~B(9);
	if (!m->xcr0_mask)
		r->ecx &= ~(B(26) | B(28) | B(12) | B(29)); /* XSAVE, AVX, FMA, F16C */
	else if (v->osxsave)
		r->ecx |= B(27);
	if (!(m->xcr0_mask & 4))
		r->ecx &= ~(B(28) | B(12) | B(29)); /* AVX, FMA, F16C need the YMM state */
}

static void adjust(const struct cpuid_model *m, const struct cpuid_vcpu_view *v, u32 leaf, u32 sub,
		   struct cpuid_out *r)
{
	/* The policy masks first, then what depends on the VM and the vCPU. */
	for (unsigned i = 0; i < sizeof(masks) / sizeof(masks[0]); i++) {
		if (masks[i].leaf != leaf || masks[i].sub != sub)
			continue;
		*reg_of(r, masks[i].reg) = (*reg_of(r, masks[i].reg) & ~masks[i].hide) | masks[i].show;
	}
	switch (leaf) {
	case 0:
		r->eax = m->max_basic;
		break;
	case 1:
		adjust_leaf1(m, v, r);
		break;
	case 4: /* caches: per core, the last level shared by the package */
		if ((r->eax & 0x1f) == 0)
			break;
		r->eax &= 0x3fff;
		r->eax |= (m->nr_vcpus - 1) << 26;
		if (((r->eax >> 5) & 7) >= 3)
			r->eax |= (m->nr_vcpus - 1) << 14;
		break;
	case 7:
		if (sub != 0) {
			*r = (struct cpuid_out){ 0 };
			break;
		}
		r->eax = 0; /* only sub-leaf 0 */
		if (!(m->xcr0_mask & 4))
			r->ebx &= ~B(5); /* AVX2 */
		break;
	case 0x80000000:
		r->eax = m->max_ext;
		break;
	case 0x80000001:
		if (m->svm)
			r->ecx |= B(2); /* SVM, emulated by vmm/nested/ */
		break;
	case 0x80000008:
		if (m->vendor == CPUID_VENDOR_AMD)
			r->ecx = (order(m->nr_vcpus) << 12) | (m->nr_vcpus - 1);
		else
			r->ecx = 0;
		r->edx = 0;
		break;
	case 0x8000001d:
		if ((r->eax & 0x1f) == 0)
			break;
		r->eax &= ~(0xfffu << 14);
		if (((r->eax >> 5) & 7) >= 3)
			r->eax |= (m->nr_vcpus - 1) << 14;
		break;
	default:
		break;
	}
}

static bool in_range(const struct cpuid_model *m, u32 leaf)
{
	if (leaf < 0x80000000u)
		return leaf <= m->max_basic;
	return leaf <= m->max_ext;
}

struct cpuid_out cpuid_model_query(const struct cpuid_model *m, const struct cpuid_vcpu_view *v,
				   u32 leaf, u32 sub)
{
	struct cpuid_out r = { 0 };

	if ((leaf & 0xffff0000u) == 0x40000000u) {
		if (leaf == 0x40000000u)
			r = (struct cpuid_out){ KEEL_CPUID_MAX_HV_LEAF, KEEL_CPUID_SIG_WORD,
						KEEL_CPUID_SIG_WORD, KEEL_CPUID_SIG_WORD };
		return r;
	}
	if (!in_range(m, leaf)) {
		/* Intel answers out-of-range basic leaves with the highest one;
		 * Keel answers 0 on both vendors (a guest must check leaf 0). */
		return r;
	}
	if (leaf == 0xd)
		return leaf_xsave(m, v, sub);
	if (leaf == 0x15) {
		/* TSC / "crystal" = 1 / 1, crystal = the TSC's rate: exact to 1 Hz. */
		if (m->tsc_hz)
			r = (struct cpuid_out){ 1, 1, (u32)m->tsc_hz, 0 };
		return r;
	}
	if ((leaf == 0xb || leaf == 0x1f) && m->vendor == CPUID_VENDOR_INTEL)
		return leaf_topology(m, v->index, sub);
	if (leaf == 0x8000001eu && m->vendor == CPUID_VENDOR_AMD) {
		r.eax = v->index;   /* extended APIC ID */
		r.ebx = v->index;   /* compute unit ID; one thread per unit */
		r.ecx = 0;          /* node 0, one node */
		return r;
	}
	if (leaf == 0x8000000au) {
		if (m->svm)
			r = (struct cpuid_out){ KEEL_SVM_REVISION, KEEL_SVM_NASID, 0,
						KEEL_SVM_FEATURES };
		return r;
	}
	if (!passed(m, leaf))
		return r;
	r = m->host(m->ctx, leaf, sub);
	adjust(m, v, leaf, sub, &r);
	return r;
}
