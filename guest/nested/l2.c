// SPDX-License-Identifier: MIT
/*
 * The L2 programs (l2.h). They run in L2 at CPL 0 in 64-bit mode with no
 * IDT (L1 intercepts every exception), on L2's own stack and page tables.
 * The instructions whose exits L1 checks carry a global label, so L1 can
 * compare the exit's RIP and next RIP with the instruction's address.
 */
#include "guest/nested/l2.h"

#define L2_NOINLINE __attribute__((noinline, noclone))

volatile struct l2_shared l2s;

static void fail(u64 step, u64 a, u64 b, u64 c)
{
	if (l2s.status)
		return;
	l2s.status = step;
	l2s.detail[0] = a;
	l2s.detail[1] = b;
	l2s.detail[2] = c;
}

void l2_nop(void)
{
}

void l2_ram_test(void)
{
	u64 base = l2s.arg[0], bytes = l2s.arg[1], stride = l2s.arg[2], seed = l2s.arg[3];

	for (u64 off = 0; off < bytes; off += stride) {
		volatile u64 *p = (volatile u64 *)(uintptr_t)(base + off);
		u64 got = *p;

		if (got != l2_pattern(base + off, seed)) {
			fail(1, base + off, got, l2_pattern(base + off, seed));
			return;
		}
		*p = l2_pattern(base + off, seed + 1);
	}
}

void l2_read(void)
{
	l2s.out[0] = *(volatile u64 *)(uintptr_t)l2s.arg[0];
}

void l2_write(void)
{
	*(volatile u64 *)(uintptr_t)l2s.arg[0] = l2s.arg[1];
}

void l2_fetch(void)
{
	((void (*)(void))(uintptr_t)l2s.arg[0])();
}

L2_NOINLINE void l2_cpuid(void)
{
	u32 a = (u32)l2s.arg[0], b, c = 0, d;

	asm volatile(".globl l2_cpuid_insn\nl2_cpuid_insn: cpuid"
		     : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	l2s.out[0] = a;
	l2s.out[1] = b;
	l2s.out[2] = c;
	l2s.out[3] = d;
}

L2_NOINLINE void l2_hlt(void)
{
	asm volatile(".globl l2_hlt_insn\nl2_hlt_insn: hlt" : : : "memory");
}

L2_NOINLINE void l2_vmmcall(void)
{
	u64 a = l2s.arg[0];

	asm volatile(".globl l2_vmmcall_insn\nl2_vmmcall_insn: vmmcall" : "+a"(a) : : "memory");
	l2s.out[0] = a;
}

L2_NOINLINE void l2_out(void)
{
	asm volatile(".globl l2_out_insn\nl2_out_insn: outl %0, %w1"
		     : : "a"((u32)l2s.arg[1]), "d"((u16)l2s.arg[0]));
}

L2_NOINLINE void l2_in(void)
{
	u32 v;

	asm volatile(".globl l2_in_insn\nl2_in_insn: inl %w1, %0" : "=a"(v) : "d"((u16)l2s.arg[0]));
	l2s.out[0] = v;
}

L2_NOINLINE void l2_rdmsr(void)
{
	u32 lo, hi;

	asm volatile(".globl l2_rdmsr_insn\nl2_rdmsr_insn: rdmsr"
		     : "=a"(lo), "=d"(hi) : "c"((u32)l2s.arg[0]));
	l2s.out[0] = ((u64)hi << 32) | lo;
}

L2_NOINLINE void l2_wrmsr(void)
{
	u64 v = l2s.arg[1];

	asm volatile(".globl l2_wrmsr_insn\nl2_wrmsr_insn: wrmsr"
		     : : "c"((u32)l2s.arg[0]), "a"((u32)v), "d"((u32)(v >> 32)) : "memory");
}

L2_NOINLINE void l2_vmrun(void)
{
	asm volatile(".globl l2_vmrun_insn\nl2_vmrun_insn: vmrun" : : "a"(l2s.arg[0]) : "memory");
}

void l2_write_list(void)
{
	for (u64 i = 0; i < l2s.arg[0] && i < L2_LIST_MAX; i++)
		*(volatile u64 *)(uintptr_t)l2s.list[i] = l2s.arg[1] + i;
}

static u64 l2_rdtsc(void)
{
	u32 lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

void l2_spin(void)
{
	u64 t0 = l2_rdtsc();

	l2s.out[0] = 0;
	while (l2_rdtsc() - t0 < l2s.arg[0]) {
		if (l2s.arg[1]) {
			l2s.out[0] = 1;
			return;
		}
	}
}

void l2_cpuid_loop(void)
{
	u64 n = l2s.arg[0], t0 = l2_rdtsc();

	for (u64 i = 0; i < n; i++) {
		u32 a = (u32)l2s.arg[1], b, c = 0, d;

		asm volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	}
	l2s.out[0] = l2_rdtsc() - t0;
}

void l2_sti(void)
{
	asm volatile("sti; nop; nop; nop; nop; cli" : : : "memory");
}
