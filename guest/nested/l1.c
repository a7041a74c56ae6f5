// SPDX-License-Identifier: MIT
/*
 * L1's side of SVM: what CPUID offers, turning SVM on, the VMCB and the
 * memory of the L2 guest, and running L2 one VMRUN at a time.
 */
#include <keel/string.h>
#include "guest/nested/nested.h"
#include "guest/nested/l2.h"

#define L2_CR0 0x80010033ull /* PG, WP, NE, ET, MP, PE */
#define L2_CR4 0x20ull       /* PAE */
#define L2_PAT 0x0007040600070406ull
#define PDE_2M (PTE_P | PTE_W | PTE_PS)
#define RUN_MAX_EXITS 10000

struct l1_caps l1_caps;
bool l1_on_keel;
bool l1_svm_ready, l1_l2_ready;
struct l2_regs l1_l2_regs;
bool l1_run_with_irq;

void l1_caps_probe(void)
{
	u32 r[4];

	guest_cpuid(0x80000000u, r);
	if (r[0] < CPUID_EXT_FEATURES)
		return;
	guest_cpuid(CPUID_EXT_FEATURES, r);
	l1_caps.svm = r[2] & CPUID_EXT_ECX_SVM;
	l1_caps.page1gb = r[3] & CPUID_EXT_EDX_PAGE1GB;
	l1_caps.nx = r[3] & CPUID_EXT_EDX_NX;
	if (!l1_caps.svm)
		return;
	guest_cpuid(CPUID_SVM_LEAF, r);
	l1_caps.revision = r[0] & 0xff;
	l1_caps.asids = r[1];
	l1_caps.np = r[3] & CPUID_SVM_EDX_NP;
	l1_caps.nrips = r[3] & CPUID_SVM_EDX_NRIPS;
	l1_caps.flush_by_asid = r[3] & CPUID_SVM_EDX_FLUSH_BY_ASID;
}

static u64 hsave_try;

static void wrmsr_hsave_try(void)
{
	l1_wrmsr(MSR_VM_HSAVE_PA, hsave_try);
}

int l1_svm_enable(char *why, size_t len)
{
	u64 vm_cr = l1_rdmsr(MSR_VM_CR), efer;
	bool gp;

	if (vm_cr & VM_CR_SVMDIS) {
		snprintf(why, len, "VM_CR 0x%llx has SVMDIS set", (unsigned long long)vm_cr);
		return -1;
	}
	efer = l1_rdmsr(MSR_EFER) | EFER_SVME | (l1_caps.nx ? EFER_NXE : 0);
	l1_wrmsr(MSR_EFER, efer);
	if (l1_rdmsr(MSR_EFER) != efer) {
		snprintf(why, len, "EFER wrote 0x%llx, reads 0x%llx", (unsigned long long)efer,
			 (unsigned long long)l1_rdmsr(MSR_EFER));
		return -1;
	}
	hsave_try = L1_HSAVE + 0x10; /* not page-aligned: #GP */
	gp = guest_expect_gp(wrmsr_hsave_try);
	l1_wrmsr(MSR_VM_HSAVE_PA, L1_HSAVE);
	if (!gp || l1_rdmsr(MSR_VM_HSAVE_PA) != L1_HSAVE) {
		snprintf(why, len, "misaligned VM_HSAVE_PA %s #GP; VM_HSAVE_PA reads 0x%llx",
			 gp ? "raised" : "did not raise",
			 (unsigned long long)l1_rdmsr(MSR_VM_HSAVE_PA));
		return -1;
	}
	l1_svm_ready = true;
	return 0;
}

static u64 *l2_low(u64 l2_gpa)
{
	return (u64 *)(uintptr_t)(L1_L2_LOW + l2_gpa);
}

/* L2's own page tables: [0, 2G) identity with 2 MiB pages, and the 2 MiB
 * at L2_WALK_VA through a 4 KiB table at L2_LATE_PT. Its GDT. */
static void l2_memory_build(void)
{
	u64 *pml4 = l2_low(L2_PML4), *pdpt = l2_low(L2_PDPT), *gdt = l2_low(L2_GDT);
	u64 *pd0 = l2_low(L2_PD0), *pd1 = l2_low(L2_PD1), *pd2 = l2_low(L2_PD2);

	memset(l2_low(0), 0, L2_GDT + SZ_4K);
	pml4[0] = L2_PDPT | PTE_P | PTE_W;
	pdpt[0] = L2_PD0 | PTE_P | PTE_W;
	pdpt[1] = L2_PD1 | PTE_P | PTE_W;
	pdpt[2] = L2_PD2 | PTE_P | PTE_W;
	for (u64 i = 0; i < 512; i++) {
		pd0[i] = i * SZ_2M | PDE_2M;
		pd1[i] = (SZ_1G + i * SZ_2M) | PDE_2M;
	}
	pd2[0] = L2_LATE_PT | PTE_P | PTE_W;
	gdt[0] = 0;
	gdt[1] = 0x00af9b000000ffffull; /* 0x08: 64-bit code */
	gdt[2] = 0x00cf93000000ffffull; /* 0x10: flat data */
}

/* L1's NPT (nested.h's map). */
static void npt_build(void)
{
	const u64 rwu = PTE_P | PTE_W | PTE_U;

	npt_init(l1_caps.page1gb);
	for (u64 off = 0; off < SZ_1M; off += SZ_4K) {
		npt_map(NGPA(off), GPA(L1_L2_LOW + off), SZ_4K, rwu);
		npt_map(NGPA(SZ_1M + off), GPA(SZ_1M + off), SZ_4K, rwu);
	}
	for (u64 i = 0; i < 512; i++)
		npt_map(NGPA(L2_REGION_4K + i * SZ_4K), GPA(L1_4K_PAGE(i)), SZ_4K, rwu);
	npt_map(NGPA(L2_REGION_2M), GPA(L1_REGION_2M), SZ_2M, rwu);
	/* The late region gets its table now, with no page present. */
	npt_map(NGPA(L2_LATE), GPA(L1_SPARE), SZ_4K, rwu);
	*npt_leaf(NGPA(L2_LATE)) = 0;
	if (l1_caps.page1gb)
		npt_map(NGPA(L2_REGION_1G), GPA(L1_REGION_1G), SZ_1G, rwu);
}

static void permission_maps_build(void)
{
	u8 *iopm = (u8 *)(uintptr_t)L1_IOPM, *msrpm = (u8 *)(uintptr_t)L1_MSRPM;

	memset(iopm, 0, IOPM_SIZE);
	memset(msrpm, 0, MSRPM_SIZE);
	iopm[L2_PORT_INTERCEPTED / 8] |= 1u << (L2_PORT_INTERCEPTED % 8);
	iopm[L2_PORT_EDGE_BYTE / 8] |= 1u << (L2_PORT_EDGE_BYTE % 8);
	/* 0xc0000000-0xc0001fff: bytes 0x800-0xfff, 2 bits each (read, write). */
	msrpm[0x800 + (MSR_STAR - 0xc0000000u) / 4] |= 2u << 2 * (MSR_STAR % 4);
	msrpm[0x800 + (MSR_LSTAR - 0xc0000000u) / 4] |= 1u << 2 * (MSR_LSTAR % 4);
}

static void seg(u64 vmcb, unsigned off, u16 sel, u16 attr, u32 limit, u64 base)
{
	*(u16 *)(uintptr_t)(vmcb + off) = sel;
	*(u16 *)(uintptr_t)(vmcb + off + 2) = attr;
	*vmcb32(vmcb, off + 4) = limit;
	*vmcb64(vmcb, off + 8) = base;
}

void l1_vmcb_defaults(u64 vmcb)
{
	memset((void *)(uintptr_t)vmcb, 0, SZ_4K);
	*vmcb32(vmcb, VMCB_INTERCEPT_EXC) = ~0u; /* L2 has no IDT: L1 sees every exception */
	*vmcb32(vmcb, VMCB_INTERCEPT_MISC1) = INTERCEPT_CPUID | INTERCEPT_HLT | INTERCEPT_IOIO |
					      INTERCEPT_MSR | INTERCEPT_SHUTDOWN |
					      INTERCEPT_INVLPGA;
	*vmcb32(vmcb, VMCB_INTERCEPT_MISC2) = INTERCEPT_VMRUN | INTERCEPT_VMMCALL |
					      INTERCEPT_VMLOAD | INTERCEPT_VMSAVE |
					      INTERCEPT_STGI | INTERCEPT_CLGI | INTERCEPT_SKINIT;
	*vmcb64(vmcb, VMCB_IOPM_BASE) = L1_IOPM;
	*vmcb64(vmcb, VMCB_MSRPM_BASE) = L1_MSRPM;
	*vmcb32(vmcb, VMCB_ASID) = L2_ASID;
	*vmcb8(vmcb, VMCB_TLB_CONTROL) = TLB_CONTROL_FLUSH_ALL;
	*vmcb32(vmcb, VMCB_INT_CTL) = INT_CTL_V_INTR_MASKING;
	*vmcb64(vmcb, VMCB_NP_CTL) = 1;
	*vmcb64(vmcb, VMCB_NCR3) = npt_root();
	seg(vmcb, VMCB_CS, 0x08, SEG_ATTR_CODE64, 0xffffffff, 0);
	seg(vmcb, VMCB_DS, 0x10, SEG_ATTR_DATA, 0xffffffff, 0);
	seg(vmcb, VMCB_ES, 0x10, SEG_ATTR_DATA, 0xffffffff, 0);
	seg(vmcb, VMCB_SS, 0x10, SEG_ATTR_DATA, 0xffffffff, 0);
	seg(vmcb, VMCB_FS, 0x10, SEG_ATTR_DATA, 0xffffffff, 0);
	seg(vmcb, VMCB_GS, 0x10, SEG_ATTR_DATA, 0xffffffff, 0);
	seg(vmcb, VMCB_GDTR, 0, 0, 3 * 8 - 1, L2_GDT);
	seg(vmcb, VMCB_IDTR, 0, 0, 0, 0);
	seg(vmcb, VMCB_LDTR, 0, SEG_ATTR_LDT, 0, 0);
	seg(vmcb, VMCB_TR, 0x18, SEG_ATTR_TSS64_BUSY, 0x67, L2_GDT + 0x100);
	*vmcb8(vmcb, VMCB_CPL) = 0;
	*vmcb64(vmcb, VMCB_EFER) = EFER_LME | EFER_LMA | EFER_SVME | (l1_caps.nx ? EFER_NXE : 0);
	*vmcb64(vmcb, VMCB_CR0) = L2_CR0;
	*vmcb64(vmcb, VMCB_CR3) = L2_PML4;
	*vmcb64(vmcb, VMCB_CR4) = L2_CR4;
	*vmcb64(vmcb, VMCB_DR7) = 0x400;
	*vmcb64(vmcb, VMCB_DR6) = 0xffff0ff0;
	*vmcb64(vmcb, VMCB_RFLAGS) = 2;
	*vmcb64(vmcb, VMCB_G_PAT) = L2_PAT;
	*vmcb64(vmcb, VMCB_RIP) = (u64)(uintptr_t)l2_trampoline;
	*vmcb64(vmcb, VMCB_RSP) = L2_STACK_TOP;
}

void l1_l2_build(void)
{
	l2_memory_build();
	npt_build();
	permission_maps_build();
	l1_vmcb_defaults(L1_VMCB);
	l1_l2_ready = true;
}

int l1_need_l2(char *why, size_t len)
{
	if (!l1_caps.svm) {
		snprintf(why, len, "no SVM in CPUID 0x80000001 ecx");
		return -1;
	}
	if (!l1_svm_ready || !l1_l2_ready) {
		snprintf(why, len, "SVM is not enabled (svm-enable failed)");
		return -1;
	}
	return 0;
}

void l1_l2_start(void (*fn)(void))
{
	memset(&l1_l2_regs, 0, sizeof(l1_l2_regs));
	l1_l2_regs.rsi = (u64)(uintptr_t)fn;
	*vmcb64(L1_VMCB, VMCB_RIP) = (u64)(uintptr_t)l2_trampoline;
	*vmcb64(L1_VMCB, VMCB_RSP) = L2_STACK_TOP;
	*vmcb64(L1_VMCB, VMCB_RFLAGS) = 2;
	*vmcb64(L1_VMCB, VMCB_RAX) = 0;
	*vmcb64(L1_VMCB, VMCB_EVENTINJ) = 0;
}

void l1_enter(struct l2_exit *e)
{
	u64 v = L1_VMCB;

	*vmcb32(v, VMCB_CLEAN) = 0;
	l1_vmrun(v, &l1_l2_regs, l1_run_with_irq);
	*vmcb8(v, VMCB_TLB_CONTROL) = TLB_CONTROL_NONE;
	e->code = *vmcb64(v, VMCB_EXITCODE);
	e->info1 = *vmcb64(v, VMCB_EXITINFO1);
	e->info2 = *vmcb64(v, VMCB_EXITINFO2);
	e->intinfo = *vmcb64(v, VMCB_EXITINTINFO);
	e->rip = *vmcb64(v, VMCB_RIP);
	e->nrip = *vmcb64(v, VMCB_NRIP);
}

void l1_skip(const struct l2_exit *e, unsigned insn_len)
{
	*vmcb64(L1_VMCB, VMCB_RIP) = l1_caps.nrips ? e->nrip : e->rip + insn_len;
}

void l1_explain(const struct l2_exit *e, const char *what, char *why, size_t len)
{
	snprintf(why, len, "%s: exit 0x%llx info1 0x%llx info2 0x%llx rip 0x%llx", what,
		 (unsigned long long)e->code, (unsigned long long)e->info1,
		 (unsigned long long)e->info2, (unsigned long long)e->rip);
}

int l1_run(void (*fn)(void), l1_handler h, char *why, size_t len)
{
	l1_l2_start(fn);
	return l1_continue(h, why, len);
}

int l1_continue(l1_handler h, char *why, size_t len)
{
	struct l2_exit e;

	l2s.status = 0;
	for (unsigned n = 0; n < RUN_MAX_EXITS; n++) {
		int r;

		l1_enter(&e);
		if (e.code == VMEXIT_VMMCALL && *vmcb64(L1_VMCB, VMCB_RAX) == L2_DONE &&
		    e.rip == (u64)(uintptr_t)l2_trampoline_done) {
			if (!l2s.status)
				return 0;
			snprintf(why, len, "L2 failed at its step %llu: 0x%llx 0x%llx 0x%llx",
				 (unsigned long long)l2s.status, (unsigned long long)l2s.detail[0],
				 (unsigned long long)l2s.detail[1], (unsigned long long)l2s.detail[2]);
			return -1;
		}
		r = h ? h(&e, why, len) : L1_UNHANDLED;
		if (r == L1_RESUME)
			continue;
		if (r == L1_UNHANDLED)
			l1_explain(&e, "unexpected exit from L2", why, len);
		return -1;
	}
	snprintf(why, len, "L2 did not end within %u exits", RUN_MAX_EXITS);
	return -1;
}
