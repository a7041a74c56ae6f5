/* SPDX-License-Identifier: MIT */
/*
 * Shared x86 CPU primitives for keel.efi (both vendor backends use them):
 * CPUID, MSRs, control registers, port I/O, TSC. Thin inline wrappers only.
 */
#pragma once

#include <keel/types.h>

#define X86_CR0_PE BIT(0)
#define X86_CR0_MP BIT(1)
#define X86_CR0_ET BIT(4)
#define X86_CR0_NE BIT(5)
#define X86_CR0_WP BIT(16)
#define X86_CR0_AM BIT(18)
#define X86_CR0_PG BIT(31)
#define X86_CR4_PAE BIT(5)
#define X86_CR4_PGE BIT(7)
#define X86_RFLAGS_FIXED BIT(1)
#define X86_RFLAGS_IF BIT(9)

#define MSR_IA32_TSC 0x10u
#define MSR_IA32_APIC_BASE 0x1bu
#define MSR_IA32_PAT 0x277u
#define MSR_EFER 0xc0000080u
#define EFER_SCE BIT(0)
#define EFER_LME BIT(8)
#define EFER_LMA BIT(10)
#define EFER_NXE BIT(11)
#define EFER_SVME BIT(12)

/* CPUID.1:ECX and EDX, 8000_0001:EDX bits Keel looks at. */
#define CPUID_1_ECX_VMX BIT(5)
#define CPUID_1_ECX_HYPERVISOR BIT(31)
#define CPUID_80000001_ECX_SVM BIT(2)
#define CPUID_80000001_EDX_NX BIT(20)
#define CPUID_80000001_EDX_PDPE1GB BIT(26)

struct cpuid_regs {
	u32 eax, ebx, ecx, edx;
};

static inline struct cpuid_regs cpuid_count(u32 leaf, u32 sub)
{
	struct cpuid_regs r;

	asm volatile("cpuid"
		     : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
		     : "a"(leaf), "c"(sub));
	return r;
}

static inline struct cpuid_regs cpuid(u32 leaf)
{
	return cpuid_count(leaf, 0);
}

/* The highest extended leaf, so callers never read past it. */
static inline bool cpuid_has_leaf(u32 leaf)
{
	return cpuid(leaf & 0x80000000u).eax >= leaf;
}

/* CPUID.0 vendor string into a 13-byte buffer. */
void cpu_vendor_string(char out[13]);
/* Running under a hypervisor or emulator (CPUID.1:ECX[31]). */
bool cpu_is_virtual(void);

static inline u64 rdmsr(u32 msr)
{
	u32 lo, hi;

	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((u64)hi << 32) | lo;
}

static inline void wrmsr(u32 msr, u64 v)
{
	asm volatile("wrmsr" : : "c"(msr), "a"((u32)v), "d"((u32)(v >> 32)) : "memory");
}

#define DEFINE_CR_ACCESS(n)                                                   \
	static inline u64 read_cr##n(void)                                    \
	{                                                                     \
		u64 v;                                                        \
		asm volatile("mov %%cr" #n ", %0" : "=r"(v));                 \
		return v;                                                     \
	}                                                                     \
	static inline void write_cr##n(u64 v)                                 \
	{                                                                     \
		asm volatile("mov %0, %%cr" #n : : "r"(v) : "memory");        \
	}
DEFINE_CR_ACCESS(0)
DEFINE_CR_ACCESS(2)
DEFINE_CR_ACCESS(3)
DEFINE_CR_ACCESS(4)
#undef DEFINE_CR_ACCESS

static inline void outb(u16 port, u8 v)
{
	asm volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(u16 port, u32 v)
{
	asm volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline u8 inb(u16 port)
{
	u8 v;

	asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline u64 rdtsc(void)
{
	u32 lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

static inline void cpu_relax(void)
{
	asm volatile("pause" ::: "memory");
}

static inline void cli(void)
{
	asm volatile("cli" ::: "memory");
}

static inline void hlt(void)
{
	asm volatile("hlt" ::: "memory");
}
