// SPDX-License-Identifier: MIT
/*
 * The self-tests. Each checks one thing Keel promises (docs/guest-abi.md)
 * and says what it saw when it fails. 'flip' makes a test expect the wrong
 * answer, so the failure path of the whole chain can be exercised.
 */
#include <keel/string.h>
#include "guest/guest.h"

#define RAM_TEST_BASE (2 * SZ_1M)
#define SZ_1M (1ull << 20)
#define GOLDEN 0x9e3779b97f4a7c15ull

static u64 flip_u64(u64 v, bool flip)
{
	return flip ? ~v : v;
}

static int test_cpuid(const struct guest_info *gi, bool flip, char *why, size_t len)
{
	u32 r[4];
	u32 sig = flip_u64(KEEL_CPUID_SIG_EBX, flip);

	guest_cpuid(KEEL_CPUID_SIGNATURE_LEAF, r);
	if (r[1] != sig || r[2] != sig || r[3] != sig) {
		snprintf(why, len, "leaf 0x40000000 signature %08x %08x %08x", r[1], r[2], r[3]);
		return -1;
	}
	guest_cpuid(1, r);
	if (!(r[2] & BIT(31)) || (r[2] & BIT(5))) {
		snprintf(why, len, "leaf 1 ecx 0x%08x: want hypervisor bit, no VMX", r[2]);
		return -1;
	}
	/* SVM is offered (nested SVM) on the SVM backend only; VMX never. */
	guest_cpuid(0x80000001, r);
	if (!!(r[2] & BIT(2)) == guest_use_vmcall) {
		snprintf(why, len, "leaf 0x80000001 ecx 0x%08x: want SVM %s", r[2],
			 guest_use_vmcall ? "hidden (VMX)" : "shown (nested SVM)");
		return -1;
	}
	return 0;
}

static int test_port(const struct guest_info *gi, bool flip, char *why, size_t len)
{
	u32 first = guest_inl(KEEL_TEST_PORT), back, unclaimed;

	guest_outl(KEEL_TEST_PORT, 0x12345678u);
	back = guest_inl(KEEL_TEST_PORT);
	unclaimed = guest_inl(KEEL_TEST_PORT + 4);
	if (first != KEEL_TEST_PORT_RESET || back != (u32)flip_u64(0x12345678u, flip) ||
	    unclaimed != 0xffffffffu) {
		snprintf(why, len, "test port read 0x%x then 0x%x, unclaimed port 0x%x", first,
			 back, unclaimed);
		return -1;
	}
	return 0;
}

static int test_hypercall(const struct guest_info *gi, bool flip, char *why, size_t len)
{
	u64 x = 0x0123456789abcdefull, b = x, c = 0;
	u64 ret = guest_hypercall(KEEL_HC_PING, &b, &c);
	u64 bad_b = 0, bad_ret = guest_hypercall(0x999, &bad_b, &c);

	if (ret != 0 || b != flip_u64(~x, flip) || bad_ret != (u64)-38) {
		snprintf(why, len, "ping returned %lld rbx 0x%llx; unknown call returned %lld",
			 (long long)ret, (unsigned long long)b, (long long)bad_ret);
		return -1;
	}
	return 0;
}

static u64 rdmsr(u32 msr)
{
	u32 lo, hi;

	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((u64)hi << 32) | lo;
}

static void rdmsr_bogus(void)
{
	(void)rdmsr(0x4b454500u); /* no such MSR: architecturally #GP */
}

static int test_msr(const struct guest_info *gi, bool flip, char *why, size_t len)
{
	u64 efer = rdmsr(0xc0000080u);
	u64 want = BIT(8) | BIT(10); /* LME, LMA */
	bool gp = guest_expect_gp(rdmsr_bogus);

	if ((efer & want) != want || (efer & BIT(12)) || gp == flip) {
		snprintf(why, len, "EFER 0x%llx (want LME|LMA, no SVME); bogus MSR %s #GP",
			 (unsigned long long)efer, gp ? "raised" : "did not raise");
		return -1;
	}
	return 0;
}

/* INT3 with the stack switched to the last page of RAM, which nothing has
 * touched yet (this runs before the RAM tests): pushing the exception frame
 * takes a nested page fault in the middle of delivering #BP. The exception
 * must reach the handler exactly once, with the address after the INT3. */
static u64 int3_on_stack(u64 stack_top)
{
	u64 after;

	asm volatile("mov %%rsp, %%rbx\n\t"
		     "mov %1, %%rsp\n\t"
		     "lea 1f(%%rip), %0\n\t"
		     "int3\n"
		     "1:\tmov %%rbx, %%rsp"
		     : "=&r"(after)
		     : "r"(stack_top)
		     : "rbx", "memory");
	return after;
}

static int test_int3(const struct guest_info *gi, bool flip, char *why, size_t len)
{
	u64 before = guest_bp_count, after = int3_on_stack(MIN(gi->mem_size, KEEL_GUEST_RAM_HOLE) - 64);
	u64 n = guest_bp_count - before;

	if (n != (flip ? 2 : 1) || guest_bp_rip != after) {
		snprintf(why, len, "#BP delivered %llu times, return rip 0x%llx (want once, 0x%llx)",
			 (unsigned long long)n, (unsigned long long)guest_bp_rip,
			 (unsigned long long)after);
		return -1;
	}
	return 0;
}

static void lapic_write(u32 reg, u32 v)
{
	*(volatile u32 *)(uintptr_t)(GUEST_LAPIC_BASE + reg) = v;
}

static u32 lapic_read(u32 reg)
{
	return *(volatile u32 *)(uintptr_t)(GUEST_LAPIC_BASE + reg);
}

/* The local APIC's one-shot timer through Keel's emulated xAPIC: with
 * CR8 = 3 (above the vector's class 2) the expired timer is held pending,
 * interrupts enabled or not; with CR8 = 0 HLT wakes for it, and it is
 * delivered exactly once. */
static int test_lapic_timer(const struct guest_info *gi, bool flip, char *why, size_t len)
{
	u64 blocked, n = 0;
	unsigned spins = 0;

	lapic_write(0xf0, 0x1ff);               /* SVR: enabled, spurious 0xff */
	lapic_write(0x3e0, 0xb);                /* divide by 1 */
	lapic_write(0x320, GUEST_IRQ_VECTOR);   /* LVT timer: one-shot */
	asm volatile("mov %0, %%cr8" : : "r"(3ull));
	lapic_write(0x380, 100000);             /* initial count */
	asm volatile("sti");
	while (lapic_read(0x390) && spins < 100000000u)
		spins++;
	blocked = guest_irq_count;
	asm volatile("mov %0, %%cr8" : : "r"(0ull));
	for (unsigned i = 0; i < 1000 && !guest_irq_count; i++)
		asm volatile("hlt");
	asm volatile("cli");
	n = guest_irq_count;
	if (blocked || n != (flip ? 2 : 1)) {
		snprintf(why, len, "timer irq: %llu while TPR blocked it, %llu after HLT (want 0, 1)",
			 (unsigned long long)blocked, (unsigned long long)n);
		return -1;
	}
	return 0;
}

/* REP INSB from an open-bus port fills memory with 0xff and counts rCX
 * down; OUTSL sends a dword from memory to the test port. */
static int test_string_io(const struct guest_info *gi, bool flip, char *why, size_t len)
{
	u8 buf[8] = { 0 };
	u32 word = flip_u64(0xdeadbeefu, flip) & 0xffffffffu;
	u64 cnt = sizeof(buf), di = (u64)(uintptr_t)buf, si = (u64)(uintptr_t)&word;
	u32 back;

	asm volatile("rep insb" : "+c"(cnt), "+D"(di) : "d"(KEEL_TEST_PORT + 4) : "memory");
	asm volatile("outsl" : "+S"(si) : "d"(KEEL_TEST_PORT) : "memory");
	back = guest_inl(KEEL_TEST_PORT);
	for (unsigned i = 0; i < sizeof(buf); i++) {
		if (buf[i] != 0xff || cnt || di != (u64)(uintptr_t)(buf + 8) || back != 0xdeadbeefu) {
			snprintf(why, len, "rep insb: buf[%u] 0x%x rcx %llu; outsl sent 0x%x", i,
				 buf[i], (unsigned long long)cnt, back);
			return -1;
		}
	}
	return 0;
}

/* A qword straddling the end of RAM: the RAM half is really written and
 * read back, the half beyond reads as open bus. */
static int test_ram_end(const struct guest_info *gi, bool flip, char *why, size_t len)
{
	volatile u64 *w = (volatile u64 *)(uintptr_t)(gi->mem_size - 4);
	volatile u32 *low = (volatile u32 *)(uintptr_t)(gi->mem_size - 4);
	u64 got;
	u32 lo;

	*w = 0x1122334455667788ull;
	got = *w;
	lo = *low;
	if (lo != (flip ? 0 : 0x55667788u) || got != 0xffffffff55667788ull) {
		snprintf(why, len, "qword across the end of RAM reads 0x%llx, its RAM half 0x%x",
			 (unsigned long long)got, lo);
		return -1;
	}
	return 0;
}

static volatile u64 ring3_result;

static void ring3_forge_verdict(void)
{
	u64 b = 0, c = 1; /* "0 of 1 failed": a pass, if Keel believed it */

	ring3_result = guest_hypercall(KEEL_HC_DONE, &b, &c);
	asm volatile("ud2");
}

/* VMXOFF (Intel) or VMRUN (AMD): 3 bytes each, never offered to guests. */
static void virt_insn(void)
{
	if (guest_use_vmcall)
		asm volatile("vmxoff" ::: "memory");
	else
		asm volatile("vmrun" : : "a"(0ull) : "memory");
}

static void ring3_virt_insn(void)
{
	virt_insn();
	asm volatile("int3"); /* not reached when virt_insn raises */
}

/* Ring-3 code cannot end the VM or forge the verdict: its hypercall gets
 * -EPERM; virtualization instructions raise #UD from ring 3 and ring 0. */
static int test_ring3(const struct guest_info *gi, bool flip, char *why, size_t len)
{
	u64 v1 = guest_run_ring3(ring3_forge_verdict);
	u64 v2 = guest_run_ring3(ring3_virt_insn);
	bool ud0 = guest_expect_trap(6, 3, virt_insn);

	if (ring3_result != (u64)-1 || v1 != 6 || v2 != (flip ? 13u : 6u) || !ud0) {
		snprintf(why, len, "ring-3 hypercall returned %lld (trap %llu); ring-3 VM insn "
			 "trap %llu; ring-0 #UD %s", (long long)ring3_result, (unsigned long long)v1,
			 (unsigned long long)v2, ud0 ? "yes" : "no");
		return -1;
	}
	return 0;
}

static u64 xcr0_try;

static void xsetbv_try(void)
{
	asm volatile("xsetbv" : : "c"(0u), "a"((u32)xcr0_try), "d"((u32)(xcr0_try >> 32)));
}

static u64 xgetbv0(void)
{
	u32 lo, hi;

	asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0u));
	return ((u64)hi << 32) | lo;
}

static void ring3_xsetbv(void)
{
	xsetbv_try();
	asm volatile("int3");
}

/* XSETBV with its checks: a valid XCR0 (x87|SSE) takes effect; x87 clear,
 * AVX without SSE, and CPL 3 raise #GP. */
static int test_xsetbv(const struct guest_info *gi, bool flip, char *why, size_t len)
{
	u32 r[4];
	u64 cr4, got;
	bool gp_zero, gp_avx;
	u64 v3;

	guest_cpuid(1, r);
	/* Keel's CPUID model offers XSAVE only when it can switch XCR0. */
	if (!(r[2] & BIT(26))) {
		snprintf(why, len, "no XSAVE for guests on this CPU");
		return flip ? -1 : GUEST_TEST_SKIP;
	}
	asm volatile("mov %%cr4, %0" : "=r"(cr4));
	asm volatile("mov %0, %%cr4" : : "r"(cr4 | BIT(18)));
	xcr0_try = 3;
	xsetbv_try();
	got = xgetbv0();
	xcr0_try = 0;
	gp_zero = guest_expect_trap(13, 3, xsetbv_try);
	xcr0_try = 5;
	gp_avx = guest_expect_trap(13, 3, xsetbv_try);
	xcr0_try = 3;
	v3 = guest_run_ring3(ring3_xsetbv);
	xcr0_try = 1;
	xsetbv_try();
	if (got != (flip ? 1u : 3u) || !gp_zero || !gp_avx || v3 != 13) {
		snprintf(why, len, "XCR0 after xsetbv(3) 0x%llx; #GP for 0: %d, for 5: %d; ring 3 "
			 "trap %llu", (unsigned long long)got, gp_zero, gp_avx, (unsigned long long)v3);
		return -1;
	}
	return 0;
}

/* CPUID under RFLAGS.TF: Keel emulates it, and the single-step #DB must
 * follow it, once, with RIP after it (POPF sets TF: the trap comes after
 * the next instruction, the CPUID). */
static int test_single_step(const struct guest_info *gi, bool flip, char *why, size_t len)
{
	u64 before = guest_db_count, after;
	u32 a = 0, b, c = 0, d;

	asm volatile("pushfq\n\t"
		     "orq $0x100, (%%rsp)\n\t"
		     "popfq\n\t"
		     "cpuid\n"
		     "1:\tlea 1b(%%rip), %4"
		     : "+a"(a), "=b"(b), "+c"(c), "=d"(d), "=r"(after)
		     :
		     : "memory");
	if (guest_db_count - before != (flip ? 2u : 1u) || guest_db_rip != after) {
		snprintf(why, len, "%llu #DB after CPUID under TF, at rip 0x%llx (want 1 at 0x%llx)",
			 (unsigned long long)(guest_db_count - before),
			 (unsigned long long)guest_db_rip, (unsigned long long)after);
		return -1;
	}
	return 0;
}

static volatile u64 nmis_in_handler;

static void self_nmi(void)
{
	lapic_write(0x300, (1u << 18) | (4u << 8)); /* ICR: self, delivery mode NMI */
}

/* Inside the first NMI's handler a second self-NMI stays blocked. */
static void nmi_hook(void)
{
	if (guest_nmi_count == 1) {
		self_nmi();
		for (unsigned i = 0; i < 20; i++)
			(void)guest_inl(KEEL_TEST_PORT); /* exits: chances to deliver */
		nmis_in_handler = guest_nmi_count;
	}
}

/* A self-NMI through the LAPIC's ICR is delivered at once; a second one,
 * sent from inside the NMI handler, waits until that handler's IRET. */
static int test_nmi(const struct guest_info *gi, bool flip, char *why, size_t len)
{
	u64 n;

	guest_nmi_count = 0;
	guest_nmi_hook = nmi_hook;
	self_nmi();
	for (unsigned i = 0; i < 1000 && guest_nmi_count < 2; i++)
		(void)guest_inl(KEEL_TEST_PORT);
	guest_nmi_hook = 0;
	n = guest_nmi_count;
	if (n != 2 || nmis_in_handler != (flip ? 2u : 1u)) {
		snprintf(why, len, "%llu NMIs, %llu of them inside the first one's handler "
			 "(want 2, 1)", (unsigned long long)n, (unsigned long long)nmis_in_handler);
		return -1;
	}
	return 0;
}

static u64 pattern(u64 addr, unsigned i)
{
	return addr ^ (GOLDEN * (i + 1));
}

static const u64 ram_offsets[] = { 0, 0x808, PAGE_SIZE - 8 };

/* RAM range i of the guest (0: low RAM from RAM_TEST_BASE, 1: RAM above
 * 4 GiB); false when there is none. */
static bool ram_range(const struct guest_info *gi, unsigned i, u64 *start, u64 *end)
{
	u64 low = MIN(gi->mem_size, KEEL_GUEST_RAM_HOLE);

	if (i == 0) {
		*start = RAM_TEST_BASE;
		*end = low;
		return true;
	}
	*start = KEEL_GUEST_HIGH_RAM;
	*end = KEEL_GUEST_HIGH_RAM + (gi->mem_size - low);
	return i == 1 && *end > *start;
}

static int check_ram(u64 start, u64 end, bool flip, char *why, size_t len)
{
	for (u64 p = start; p < end; p += PAGE_SIZE)
		for (unsigned i = 0; i < ARRAY_SIZE(ram_offsets); i++)
			*(volatile u64 *)(uintptr_t)(p + ram_offsets[i]) = pattern(p, i);
	for (u64 p = start; p < end; p += PAGE_SIZE) {
		for (unsigned i = 0; i < ARRAY_SIZE(ram_offsets); i++) {
			u64 a = p + ram_offsets[i];
			u64 got = *(volatile u64 *)(uintptr_t)a;

			if (got != flip_u64(pattern(p, i), flip)) {
				snprintf(why, len, "gpa 0x%llx holds 0x%llx, wrote 0x%llx",
					 (unsigned long long)a, (unsigned long long)got,
					 (unsigned long long)pattern(p, i));
				return -1;
			}
		}
	}
	return 0;
}

/* A few words in every 4 KiB page of RAM above the image (both ranges):
 * enough to prove each page is backed by distinct memory, fast under TCG. */
static int test_ram(const struct guest_info *gi, bool flip, char *why, size_t len)
{
	u64 start, end;

	for (unsigned i = 0; ram_range(gi, i, &start, &end); i++)
		if (check_ram(start, end, flip, why, len))
			return -1;
	return 0;
}

/* A word straddling each 'align' boundary inside RAM: the two halves live
 * in different huge pages, so a wrong huge-page mapping shows up here. */
static int test_boundaries(const struct guest_info *gi, u64 align, bool flip, char *why,
			   size_t len)
{
	u64 n = 0, start, end;

	for (unsigned r = 0; ram_range(gi, r, &start, &end); r++) {
		for (u64 b = ALIGN_UP(start + 8, align); b + 8 <= end; b += align, n++) {
			volatile u64 *w = (volatile u64 *)(uintptr_t)(b - 4);
			u64 v = pattern(b, 7);

			*w = v;
			if (*w != flip_u64(v, flip) || *(volatile u32 *)(uintptr_t)b != (u32)(v >> 32)) {
				snprintf(why, len, "word across 0x%llx reads 0x%llx",
					 (unsigned long long)b, (unsigned long long)*w);
				return -1;
			}
		}
	}
	if (!n) {
		snprintf(why, len, "no %llu MiB boundary inside RAM",
			 (unsigned long long)(align >> 20));
		return flip ? -1 : GUEST_TEST_SKIP;
	}
	return 0;
}

static int test_ram_2m(const struct guest_info *gi, bool flip, char *why, size_t len)
{
	return test_boundaries(gi, SZ_2M, flip, why, len);
}

static int test_ram_1g(const struct guest_info *gi, bool flip, char *why, size_t len)
{
	return test_boundaries(gi, SZ_1G, flip, why, len);
}

/* The first GiB-aligned address above low RAM (at most the PCI hole's
 * start): in no memslot, but inside the
 * identity map Keel built, so only the nested page fault sees it. */
static u64 unbacked_gpa(const struct guest_info *gi)
{
	return MIN(ALIGN_UP(gi->mem_size, SZ_1G), KEEL_GUEST_RAM_HOLE);
}

/* Each MOV form of docs/guest-abi.md once, in pinned encodings. */
static int open_bus_loads(u64 a, u64 out[5])
{
	u64 r32, r64, z8, z16, ah = 0;

	asm volatile("movl (%1), %k0" : "=r"(r32) : "r"(a) : "memory");
	asm volatile("movq (%1), %0" : "=r"(r64) : "r"(a) : "memory");
	asm volatile("movzbl (%1), %k0" : "=r"(z8) : "r"(a) : "memory");
	asm volatile("movzwl (%1), %k0" : "=r"(z16) : "r"(a) : "memory");
	/* AH cannot be encoded with a REX prefix: keep the address in rsi. */
	asm volatile("movb (%1), %%ah" : "+a"(ah) : "S"(a) : "memory");
	out[0] = r32;
	out[1] = r64;
	out[2] = z8;
	out[3] = z16;
	out[4] = ah;
	return 0;
}

static void open_bus_stores(u64 a)
{
	asm volatile("movl %k0, (%1)" : : "r"(0x11223344u), "r"(a) : "memory");
	asm volatile("movq %0, (%1)" : : "r"(0x5566778899aabbccull), "r"(a + 8) : "memory");
	asm volatile("movl $0x12345678, (%0)" : : "r"(a) : "memory");
	asm volatile("movb $0x5a, (%0)" : : "r"(a + 1) : "memory");
}

static int test_open_bus(const struct guest_info *gi, bool flip, char *why, size_t len)
{
	static const u64 want[5] = { 0xffffffffull, ~0ull, 0xff, 0xffff, 0xff00 };
	u64 a = unbacked_gpa(gi), got[5];

	if (a + 16 > gi->map_top) {
		snprintf(why, len, "no unbacked address below the map top 0x%llx",
			 (unsigned long long)gi->map_top);
		return -1;
	}
	open_bus_stores(a);
	open_bus_loads(a, got);
	for (unsigned i = 0; i < 5; i++) {
		if (got[i] != flip_u64(want[i], flip)) {
			snprintf(why, len, "load %u of gpa 0x%llx gave 0x%llx, want 0x%llx", i,
				 (unsigned long long)a, (unsigned long long)got[i],
				 (unsigned long long)want[i]);
			return -1;
		}
	}
	return 0;
}

const struct guest_test guest_tests[] = {
	{ "cpuid", test_cpuid },
	{ "port", test_port },
	{ "hypercall", test_hypercall },
	{ "msr", test_msr },
	{ "int3", test_int3 },
	{ "lapic-timer", test_lapic_timer },
	{ "nmi", test_nmi },
	{ "single-step", test_single_step },
	{ "string-io", test_string_io },
	{ "ring3", test_ring3 },
	{ "xsetbv", test_xsetbv },
	{ "ram", test_ram },
	{ "ram-2m", test_ram_2m },
	{ "ram-1g", test_ram_1g },
	{ "open-bus", test_open_bus },
	{ "smp", guest_test_smp },
	{ "ram-end", test_ram_end },
};
const size_t guest_test_count = ARRAY_SIZE(guest_tests);
