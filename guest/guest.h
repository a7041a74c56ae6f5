/* SPDX-License-Identifier: MIT */
/* The self-test guest: freestanding, 64-bit, runs under Keel (guest/abi.h). */
#pragma once

#include <keel/types.h>
#include "guest/abi.h"

/* Entry state handed over by Keel (guest/abi.h). */
struct guest_info {
	u64 mem_size;
	u64 map_top;
	const char *fail_test; /* "" when none */
};

/* lib.c: console on the emulated COM1, hypercalls, port I/O. */
__printf(1, 2) void guest_printf(const char *fmt, ...);
void guest_detect_vendor(void);
u64 guest_hypercall(u64 nr, u64 *rbx, u64 *rcx);
u64 guest_hypercall3(u64 nr, u64 rbx, u64 rcx, u64 rdx); /* rax result */
__noreturn void guest_done(u64 failures, u64 tests);
u32 guest_inl(u16 port);
void guest_outl(u16 port, u32 v);
void guest_cpuid(u32 leaf, u32 r[4]);

/* traps.c: the guest's own GDT and IDT; #GP can be expected by a test. */
void guest_traps_init(void);
void guest_traps_load(void); /* another vCPU: the same IDT */
/* Run fn expecting it to raise #GP from a 2-byte instruction (RDMSR/WRMSR);
 * true when it did. */
bool guest_expect_gp(void (*fn)(void));
/* Every #BP is counted and returns to the pushed RIP. */
extern volatile u64 guest_bp_count, guest_bp_rip;
/* The one interrupt vector the guest handles (EOI to its LAPIC), counted. */
#define GUEST_IRQ_VECTOR 32
#define GUEST_LAPIC_BASE 0xfee00000ull
extern volatile u64 guest_irq_count;
/* NMIs taken; the hook (if set) runs inside the NMI handler. */
extern volatile u64 guest_nmi_count;
/* #DB taken (the handler clears RFLAGS.TF), and the last one's RIP. */
extern volatile u64 guest_db_count, guest_db_rip;
extern void (*volatile guest_nmi_hook)(void);

/* Run fn at CPL 3 (interrupts off) until it raises an exception; returns
 * the vector, back at CPL 0. */
u64 guest_run_ring3(void (*fn)(void));
extern bool guest_use_vmcall;
/* Run fn expecting exception 'vector' from an insn_len-byte instruction,
 * which is then skipped; true when it came. */
bool guest_expect_trap(u64 vector, unsigned insn_len, void (*fn)(void));

/* tests.c */
#define GUEST_TEST_SKIP 1

struct guest_test {
	const char *name;
	/* Returns 0 on pass, GUEST_TEST_SKIP when the guest's memory does not
	 * allow the test (why[] says so), else fails with why[] filled. 'flip'
	 * asks the test to expect the wrong answer (keel.cfg guest-fail) so it
	 * fails on purpose. */
	int (*run)(const struct guest_info *gi, bool flip, char *why, size_t len);
};
extern const struct guest_test guest_tests[];
/* smp.c: every vCPU faults its own and a shared range at once; dirty logging
 * and harvests while the others write; zaps while the others read. */
int guest_test_smp(const struct guest_info *gi, bool flip, char *why, size_t len);
extern const size_t guest_test_count;

/* lib.c: run every test of tests[0..n) and print PASS / FAIL / SKIP lines;
 * the one named by gi->fail_test runs with 'flip'. 'prefix', when not NULL,
 * announces each test first ("<prefix>: check <name>"); 'flip_must_fail'
 * counts a flipped test that still passes as failed. Adds to *failures and
 * *run (the tests not skipped). */
struct guest_run_opts {
	const char *prefix;
	bool flip_must_fail;
};
void guest_run_tests(const struct guest_test *tests, size_t n, const struct guest_info *gi,
		     const struct guest_run_opts *o, u64 *failures, u64 *run);
