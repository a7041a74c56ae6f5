// SPDX-License-Identifier: MIT
/*
 * L2's exits as L1 sees them: each intercepted instruction exits to L1
 * with the exit code, EXITINFO1/2 and next RIP hardware gives, at the
 * instruction's address; an instruction L1 does not intercept does not
 * exit to L1 (and gets what L1 itself would get from Keel).
 */
#include <keel/string.h>
#include "guest/nested/checks.h"
#include "guest/nested/l2.h"
#include "guest/nested/nested.h"

#define VEC_UD 6

static u64 *vmcb(unsigned off)
{
	return vmcb64(L1_VMCB, off);
}

/* What the one expected exit looks like; its handler's extra work. */
static struct {
	u64 code;
	const u8 *insn;
	unsigned insn_len;
	unsigned seen;
	int (*more)(const struct l2_exit *e, char *why, size_t len);
} want;

static void expect(u64 code, const u8 *insn, unsigned insn_len,
		   int (*more)(const struct l2_exit *e, char *why, size_t len))
{
	want.code = code;
	want.insn = insn;
	want.insn_len = insn_len;
	want.seen = 0;
	want.more = more;
}

/* Checks exit code, RIP and next RIP, runs 'more', skips the instruction. */
static int expected_exit(const struct l2_exit *e, char *why, size_t len)
{
	u64 rip = (u64)(uintptr_t)want.insn;

	if (e->code != want.code || want.seen)
		return L1_UNHANDLED;
	want.seen++;
	if (e->rip != rip || (l1_caps.nrips && want.code != VMEXIT_EXCP_BASE + VEC_UD &&
			      e->nrip != rip + want.insn_len)) {
		snprintf(why, len, "exit 0x%llx at rip 0x%llx next_rip 0x%llx, want 0x%llx 0x%llx",
			 (unsigned long long)e->code, (unsigned long long)e->rip,
			 (unsigned long long)e->nrip, (unsigned long long)rip,
			 (unsigned long long)(rip + want.insn_len));
		return -1;
	}
	if (want.more && want.more(e, why, len))
		return -1;
	*vmcb(VMCB_RIP) = rip + want.insn_len;
	return L1_RESUME;
}

static int run_expecting(void (*fn)(void), char *why, size_t len)
{
	if (l1_run(fn, expected_exit, why, len))
		return -1;
	if (want.seen != 1) {
		snprintf(why, len, "the exit 0x%llx did not reach L1", (unsigned long long)want.code);
		return -1;
	}
	return 0;
}

static int cpuid_answer(const struct l2_exit *e, char *why, size_t len)
{
	if ((u32)*vmcb(VMCB_RAX) != L2_CPUID_LEAF) {
		snprintf(why, len, "CPUID exit with eax 0x%llx", (unsigned long long)*vmcb(VMCB_RAX));
		return -1;
	}
	*vmcb(VMCB_RAX) = 0x11111111;
	l1_l2_regs.rbx = 0x22222222;
	l1_l2_regs.rcx = 0x33333333;
	l1_l2_regs.rdx = 0x44444444;
	return 0;
}

NESTED_CHECK(check_exit_cpuid)
{
	if (l1_need_l2(why, len))
		return -1;
	l2s.arg[0] = L2_CPUID_LEAF;
	expect(VMEXIT_CPUID, l2_cpuid_insn, 2, cpuid_answer);
	if (run_expecting(l2_cpuid, why, len))
		return -1;
	if (l2s.out[0] != 0x11111111 || l2s.out[1] != 0x22222222 || l2s.out[2] != 0x33333333 ||
	    l2s.out[3] != 0x44444444) {
		snprintf(why, len, "L2's CPUID returned %llx %llx %llx %llx, not L1's answer",
			 (unsigned long long)l2s.out[0], (unsigned long long)l2s.out[1],
			 (unsigned long long)l2s.out[2], (unsigned long long)l2s.out[3]);
		return -1;
	}
	return 0;
}

/* CPUID not intercepted: no exit to L1; L2 gets Keel's answer, as L1 does. */
NESTED_CHECK(check_exit_cpuid_not_intercepted)
{
	u32 r[4];
	int ret;

	if (l1_need_l2(why, len))
		return -1;
	guest_cpuid(KEEL_CPUID_SIGNATURE_LEAF, r);
	*vmcb32(L1_VMCB, VMCB_INTERCEPT_MISC1) &= ~INTERCEPT_CPUID;
	l2s.arg[0] = KEEL_CPUID_SIGNATURE_LEAF;
	ret = l1_run(l2_cpuid, NULL, why, len);
	*vmcb32(L1_VMCB, VMCB_INTERCEPT_MISC1) |= INTERCEPT_CPUID;
	if (ret)
		return -1;
	if (l2s.out[1] != r[1] || l2s.out[2] != r[2] || l2s.out[3] != r[3]) {
		snprintf(why, len, "L2's CPUID 0x40000000: %llx %llx %llx, L1's %x %x %x",
			 (unsigned long long)l2s.out[1], (unsigned long long)l2s.out[2],
			 (unsigned long long)l2s.out[3], r[1], r[2], r[3]);
		return -1;
	}
	return 0;
}

NESTED_CHECK(check_exit_hlt)
{
	if (l1_need_l2(why, len))
		return -1;
	expect(VMEXIT_HLT, l2_hlt_insn, 1, NULL);
	return run_expecting(l2_hlt, why, len);
}

static int vmmcall_answer(const struct l2_exit *e, char *why, size_t len)
{
	if (*vmcb(VMCB_RAX) != 0x1234) {
		snprintf(why, len, "VMMCALL exit with rax 0x%llx", (unsigned long long)*vmcb(VMCB_RAX));
		return -1;
	}
	*vmcb(VMCB_RAX) = 0x5678;
	return 0;
}

NESTED_CHECK(check_exit_vmmcall)
{
	if (l1_need_l2(why, len))
		return -1;
	l2s.arg[0] = 0x1234;
	expect(VMEXIT_VMMCALL, l2_vmmcall_insn, 3, vmmcall_answer);
	if (run_expecting(l2_vmmcall, why, len))
		return -1;
	if (l2s.out[0] != 0x5678) {
		snprintf(why, len, "L2's rax after VMMCALL 0x%llx", (unsigned long long)l2s.out[0]);
		return -1;
	}
	return 0;
}

/* VMMCALL not intercepted is #UD in L2 (the APM), which L1 intercepts; it
 * must not become one of Keel's hypercalls. */
static int ud_restore_intercept(const struct l2_exit *e, char *why, size_t len)
{
	*vmcb32(L1_VMCB, VMCB_INTERCEPT_MISC2) |= INTERCEPT_VMMCALL;
	return 0;
}

NESTED_CHECK(check_exit_vmmcall_not_intercepted)
{
	int r;

	if (l1_need_l2(why, len))
		return -1;
	l2s.arg[0] = KEEL_HC_PING;
	*vmcb32(L1_VMCB, VMCB_INTERCEPT_MISC2) &= ~INTERCEPT_VMMCALL;
	expect(VMEXIT_EXCP_BASE + VEC_UD, l2_vmmcall_insn, 3, ud_restore_intercept);
	r = run_expecting(l2_vmmcall, why, len);
	*vmcb32(L1_VMCB, VMCB_INTERCEPT_MISC2) |= INTERCEPT_VMMCALL;
	if (!r && l2s.out[0] != KEEL_HC_PING) {
		snprintf(why, len, "L2's rax changed to 0x%llx", (unsigned long long)l2s.out[0]);
		return -1;
	}
	return r;
}

/* IOIO: EXITINFO1 = port, size, direction; EXITINFO2 = the next RIP. */
static u64 io_port;
static bool io_in;

static int io_check(const struct l2_exit *e, char *why, size_t len)
{
	u64 mask = 0xffff0000ull | IOIO_TYPE_IN | IOIO_STR | IOIO_REP | IOIO_SZ8 | IOIO_SZ16 |
		   IOIO_SZ32;
	u64 info1 = (io_port << IOIO_PORT_SHIFT) | IOIO_SZ32 | (io_in ? IOIO_TYPE_IN : 0);
	u64 next = (u64)(uintptr_t)want.insn + 1;

	if ((e->info1 & mask) != info1 || e->info2 != next) {
		snprintf(why, len, "IOIO EXITINFO1 0x%llx EXITINFO2 0x%llx, want 0x%llx 0x%llx",
			 (unsigned long long)e->info1, (unsigned long long)e->info2,
			 (unsigned long long)info1, (unsigned long long)next);
		return -1;
	}
	if (io_in) {
		*vmcb(VMCB_RAX) = 0xfeedf00d;
	} else if ((u32)*vmcb(VMCB_RAX) != (u32)l2s.arg[1]) {
		snprintf(why, len, "OUT exit with eax 0x%llx", (unsigned long long)*vmcb(VMCB_RAX));
		return -1;
	}
	return 0;
}

static int io_intercepted(u64 port, bool in, char *why, size_t len)
{
	io_port = port;
	io_in = in;
	l2s.arg[0] = port;
	l2s.arg[1] = 0xc0ffee00 + port;
	expect(VMEXIT_IOIO, in ? l2_in_insn : l2_out_insn, 1, io_check);
	if (run_expecting(in ? l2_in : l2_out, why, len))
		return -1;
	if (in && l2s.out[0] != 0xfeedf00d) {
		snprintf(why, len, "L2's IN returned 0x%llx, not L1's answer",
			 (unsigned long long)l2s.out[0]);
		return -1;
	}
	return 0;
}

NESTED_CHECK(check_exit_io)
{
	if (l1_need_l2(why, len))
		return -1;
	if (io_intercepted(L2_PORT_INTERCEPTED, false, why, len) ||
	    io_intercepted(L2_PORT_INTERCEPTED, true, why, len))
		return -1;
	/* A dword at L2_PORT_EDGE: only its last byte's IOPM bit is set. */
	if (io_intercepted(L2_PORT_EDGE, false, why, len)) {
		snprintf(why + strlen(why), len - strlen(why), " (dword whose last port is intercepted)");
		return -1;
	}
	/* Not intercepted: the OUT reaches Keel's test port as L1's would. */
	l2s.arg[0] = KEEL_TEST_PORT;
	l2s.arg[1] = 0x4e455354;
	if (l1_run(l2_out, NULL, why, len))
		return -1;
	if (l1_on_keel && guest_inl(KEEL_TEST_PORT) != 0x4e455354) {
		snprintf(why, len, "after L2's unintercepted OUT the test port reads 0x%x",
			 guest_inl(KEEL_TEST_PORT));
		return -1;
	}
	return 0;
}

/* MSR: EXITINFO1 0 = RDMSR, 1 = WRMSR; ECX, EDX:EAX as L2 had them. */
static u64 msr_value;

static int msr_write_check(const struct l2_exit *e, char *why, size_t len)
{
	u64 v = (l1_l2_regs.rdx << 32) | (u32)*vmcb(VMCB_RAX);

	if (e->info1 != 1 || (u32)l1_l2_regs.rcx != MSR_STAR || v != msr_value) {
		snprintf(why, len, "WRMSR exit: EXITINFO1 %llu ecx 0x%llx value 0x%llx",
			 (unsigned long long)e->info1, (unsigned long long)l1_l2_regs.rcx,
			 (unsigned long long)v);
		return -1;
	}
	return 0;
}

static int msr_read_answer(const struct l2_exit *e, char *why, size_t len)
{
	if (e->info1 != 0 || (u32)l1_l2_regs.rcx != MSR_LSTAR) {
		snprintf(why, len, "RDMSR exit: EXITINFO1 %llu ecx 0x%llx",
			 (unsigned long long)e->info1, (unsigned long long)l1_l2_regs.rcx);
		return -1;
	}
	*vmcb(VMCB_RAX) = (u32)msr_value;
	l1_l2_regs.rdx = msr_value >> 32;
	return 0;
}

NESTED_CHECK(check_exit_msr)
{
	u64 star = l1_rdmsr(MSR_STAR);

	if (l1_need_l2(why, len))
		return -1;
	msr_value = 0x0023001000000000ull;
	l2s.arg[0] = MSR_STAR;
	l2s.arg[1] = msr_value;
	expect(VMEXIT_MSR, l2_wrmsr_insn, 2, msr_write_check);
	if (run_expecting(l2_wrmsr, why, len))
		return -1;
	msr_value = 0xffffffff81234567ull;
	l2s.arg[0] = MSR_LSTAR;
	expect(VMEXIT_MSR, l2_rdmsr_insn, 2, msr_read_answer);
	if (run_expecting(l2_rdmsr, why, len))
		return -1;
	if (l2s.out[0] != msr_value) {
		snprintf(why, len, "L2's RDMSR LSTAR got 0x%llx, not L1's answer",
			 (unsigned long long)l2s.out[0]);
		return -1;
	}
	/* Not intercepted: EFER reads L2's own (the VMCB's); STAR's read (only
	 * its write is intercepted) reads the CPU's, which L1 left. */
	l2s.arg[0] = MSR_EFER;
	if (l1_run(l2_rdmsr, NULL, why, len))
		return -1;
	if (l2s.out[0] != *vmcb(VMCB_EFER)) {
		snprintf(why, len, "L2's unintercepted RDMSR EFER 0x%llx, its VMCB has 0x%llx",
			 (unsigned long long)l2s.out[0], (unsigned long long)*vmcb(VMCB_EFER));
		return -1;
	}
	l2s.arg[0] = MSR_STAR;
	if (l1_run(l2_rdmsr, NULL, why, len))
		return -1;
	if (l2s.out[0] != star) {
		snprintf(why, len, "L2's unintercepted RDMSR STAR 0x%llx, L1's is 0x%llx",
			 (unsigned long long)l2s.out[0], (unsigned long long)star);
		return -1;
	}
	return 0;
}

/* VMRUN in L2 always exits to L1 (its intercept is mandatory). */
NESTED_CHECK(check_exit_vmrun_in_l2)
{
	if (l1_need_l2(why, len))
		return -1;
	l2s.arg[0] = L2_REGION_4K; /* a page-aligned L2 address: L1 would emulate it */
	expect(VMEXIT_VMRUN, l2_vmrun_insn, 3, NULL);
	return run_expecting(l2_vmrun, why, len);
}
