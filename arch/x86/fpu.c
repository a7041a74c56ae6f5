// SPDX-License-Identifier: MIT
/* The guest's FPU/SSE/AVX state at the start (arch/x86/fpu.h). */
#include <keel/host.h>
#include <keel/string.h>
#include "arch/x86/cpu.h"
#include "arch/x86/fpu.h"

#define CPUID_1_ECX_XSAVE BIT(26)
#define X86_CR4_OSFXSR BIT(9)
#define X86_CR4_OSXSAVE BIT(18)
#define MXCSR_RESET 0x1f80u
#define FCW_RESET 0x37fu
#define XCR0_KEEL_ALLOWS (XCR0_X87 | XCR0_SSE | XCR0_AVX | XCR0_AVX512 | XCR0_PKRU)

/*
 * XSAVE for guests needs CR4.OSXSAVE in the host (XSETBV, XRSTOR). Keel
 * turns it on where the backend allows (vendor_ops.host_xsave; today no
 * backend does: see svm.c and vmx.c), else only a firmware that left it
 * on gives guests XSAVE. Turning it on in Keel makes QEMU's TCG SVM reset
 * the machine at the next VMRUN (seen with -cpu qemu64,+xsave). Without it the reset below is FNINIT +
 * FXRSTOR (x87, MXCSR, XMM), the CPUID model hides XSAVE and XSETBV is #UD.
 */
static bool has_xsave(void)
{
	return (cpuid(1).ecx & CPUID_1_ECX_XSAVE) && (read_cr4() & X86_CR4_OSXSAVE);
}

static u64 cpu_xcr0_bits(void)
{
	struct cpuid_regs r;

	if (!has_xsave() || cpuid(0).eax < 0xd)
		return 0;
	r = cpuid_count(0xd, 0);
	return ((u64)r.edx << 32) | r.eax;
}

u64 fpu_guest_xcr0_mask(void)
{
	return cpu_xcr0_bits() & XCR0_KEEL_ALLOWS;
}

bool fpu_xcr0_valid(u64 x, u64 mask)
{
	if (!(x & XCR0_X87) || (x & ~mask))
		return false;
	if ((x & XCR0_AVX) && !(x & XCR0_SSE))
		return false;
	if (x & XCR0_AVX512)
		return (x & XCR0_AVX512) == XCR0_AVX512 && (x & XCR0_AVX);
	return true;
}

void fpu_set_xcr0(u64 xcr0)
{
	asm volatile("xsetbv" : : "c"(0u), "a"((u32)xcr0), "d"((u32)(xcr0 >> 32)) : "memory");
}

/* XRSTOR of a header with XSTATE_BV = 0 puts every requested component in
 * its initial state; MXCSR comes from the legacy area all the same. */
static void reset_xsave(u64 all)
{
	u32 size = cpuid_count(0xd, 0).ecx;
	size_t pages = (size + PAGE_SIZE - 1) / PAGE_SIZE;
	u8 *area = host_alloc_pages(pages ? pages : 1);

	if (!area) {
		host_log("keel: no memory for the XSAVE area: guest FPU state not reset\n");
		return;
	}
	*(u16 *)area = FCW_RESET;
	*(u32 *)(area + 24) = MXCSR_RESET;
	fpu_set_xcr0(all);
	asm volatile("xrstor64 (%0)" : : "r"(area), "a"((u32)all), "d"((u32)(all >> 32))
		     : "memory");
	host_free_pages(area, pages ? pages : 1);
}

static void reset_fxsave(void)
{
	static u8 area[512] __aligned(16);

	memset(area, 0, sizeof(area));
	*(u16 *)area = FCW_RESET;
	*(u32 *)(area + 24) = MXCSR_RESET;
	asm volatile("fninit; fxrstor64 (%0)" : : "r"(area) : "memory");
}

void fpu_reset(u64 xcr0, bool enable_xsave)
{
	u64 all;

	write_cr4(read_cr4() | X86_CR4_OSFXSR);
	if (enable_xsave && (cpuid(1).ecx & CPUID_1_ECX_XSAVE))
		write_cr4(read_cr4() | X86_CR4_OSXSAVE);
	all = cpu_xcr0_bits();
	if (all) {
		reset_xsave(all);
		fpu_set_xcr0(xcr0 & all);
	} else {
		reset_fxsave();
	}
}
