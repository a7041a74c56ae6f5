/* SPDX-License-Identifier: MIT */
/*
 * The L1 test hypervisor (docs/nested-guest.md): a flat 64-bit guest of
 * Keel that enables SVM, builds a VMCB, its own nested page table (NPT) and
 * a 64-bit L2 guest, and checks what L2's exits look like from L1.
 *
 * L1 memory (identity-mapped by Keel, virtual = physical):
 *   [1M, 2M)     this image (code and data), shared with L2 at the same address
 *   16M          L1's SVM pages: HSAVE, VMCBs, IOPM, MSRPM, NPT table pool
 *   32M          L2's private low MiB (its page tables, GDT, stack)
 *   40M          backing of L2's 4 KiB region (pages in reverse order)
 *   44M          backing of L2's 2 MiB region
 *   48M          spare pages (remap targets, late mappings)
 *   [1G, 2G)     backing of L2's 1 GiB region (identity)
 * L2 guest-physical (L1's NPT) = L2 virtual (L2's own page tables, 2 MiB pages):
 *   [0, 1M)      4 KiB leaves -> 32M      [1M, 2M) 4 KiB leaves -> [1M, 2M)
 *   [2M, 4M)     4 KiB leaves -> 40M, page i -> backing page 511 - i
 *   [4M, 6M)     one 2 MiB leaf -> 44M
 *   [6M, 8M)     a 4 KiB table, not present until a check maps a page
 *   [1G, 2G)     one 1 GiB leaf -> [1G, 2G) (when CPUID has Page1GB)
 *   [2G, 2G+2M)  L2 virtual only: its page table lives at L2 gpa 7M
 */
#pragma once

#include <keel/types.h>
#include "guest/guest.h"
#include "guest/nested/svm.h"

#define SZ_1M (1ull << 20)

/* L1 addresses. */
#define L1_HSAVE (16 * SZ_1M)
#define L1_VMCB (L1_HSAVE + 0x1000)
#define L1_VMCB_SCRATCH (L1_HSAVE + 0x2000) /* VMLOAD/VMSAVE check */
#define L1_IOPM (L1_HSAVE + 0x4000)          /* 3 pages */
#define L1_MSRPM (L1_HSAVE + 0x8000)         /* 2 pages */
#define L1_NPT_POOL (L1_HSAVE + 0x10000)
#define L1_NPT_POOL_PAGES 64
#define L1_L2_LOW (32 * SZ_1M)
#define L1_REGION_4K (40 * SZ_1M)
#define L1_REGION_2M (44 * SZ_1M)
#define L1_SPARE (48 * SZ_1M)
#define L1_REGION_1G SZ_1G
#define L1_MEM_NEEDED (2 * SZ_1G)

/* L2 addresses. */
#define L2_PML4 0x1000ull
#define L2_PDPT 0x2000ull
#define L2_PD0 0x3000ull
#define L2_PD1 0x4000ull
#define L2_PD2 0x5000ull
#define L2_GDT 0x6000ull
#define L2_STACK_TOP 0xf0000ull
#define L2_REGION_4K (2 * SZ_1M)
#define L2_REGION_2M (4 * SZ_1M)
#define L2_LATE (6 * SZ_1M)                 /* not present until mapped */
#define L2_LATE_PT (7 * SZ_1M)              /* L2's own page table for 2G */
#define L2_REGION_1G SZ_1G
#define L2_WALK_VA (2 * SZ_1G)              /* translated through L2_LATE_PT */

/* Which backing page holds L2 page 'i' of the 4 KiB region. */
#define L1_4K_PAGE(i) (L1_REGION_4K + (511 - (u64)(i)) * SZ_4K)

/* ASIDs L1 gives L2. */
#define L2_ASID 1
#define L2_ASID_ALT 2

/* VMCB fields, by APM offset. */
static inline u64 *vmcb64(u64 vmcb, unsigned off)
{
	return (u64 *)(uintptr_t)(vmcb + off);
}

static inline u32 *vmcb32(u64 vmcb, unsigned off)
{
	return (u32 *)(uintptr_t)(vmcb + off);
}

static inline u8 *vmcb8(u64 vmcb, unsigned off)
{
	return (u8 *)(uintptr_t)(vmcb + off);
}

static inline u64 l1_rdmsr(u32 msr)
{
	u32 lo, hi;

	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((u64)hi << 32) | lo;
}

static inline void l1_wrmsr(u32 msr, u64 v)
{
	asm volatile("wrmsr" : : "c"(msr), "a"((u32)v), "d"((u32)(v >> 32)) : "memory");
}

static inline u64 l1_rdtsc(void)
{
	u32 lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

/* vmrun.asm: one VMRUN of the VMCB at 'vmcb' with L2's other GPRs in
 * *regs (rax, rsp and rip are in the VMCB); L2's GPRs are stored back. */
struct l2_regs {
	u64 rbx, rcx, rdx, rsi, rdi, rbp, r8, r9, r10, r11, r12, r13, r14, r15;
};
void l1_vmrun(u64 vmcb, struct l2_regs *regs, u64 irq);
extern const u8 l2_trampoline[];      /* L2 entry: call rsi, then VMMCALL L2_DONE */
extern const u8 l2_trampoline_done[]; /* that VMMCALL */

/* npt.c: L1's nested page table. */
void npt_init(bool page1gb);
u64 npt_root(void);
bool npt_map(ngpa_t l2, gpa_t l1, u64 size, u64 flags); /* size 4K, 2M or 1G */
u64 *npt_leaf(ngpa_t l2);  /* the leaf entry for l2, or NULL */
/* A second NPT that shares every table with the first except those on
 * the path to the 4 KiB page l2, which it maps to l1 instead; its root, or
 * 0 when the pool is out of pages. */
u64 npt_clone_with(ngpa_t l2, gpa_t l1, u64 flags);

/* l1.c: SVM state and running L2. */
struct l1_caps {
	bool svm, np, nrips, page1gb, nx, flush_by_asid;
	u32 revision, asids;
};
extern struct l1_caps l1_caps;
/* Under Keel (CPUID 0x40000000 says "Keel"), or the reference run on
 * QEMU's own SVM (bare.asm), where there are no hypercalls. */
extern bool l1_on_keel;
extern bool l1_svm_ready;   /* EFER.SVME set, HSAVE set */
extern bool l1_l2_ready;    /* VMCB, NPT and L2 memory built */
extern struct l2_regs l1_l2_regs;
extern bool l1_run_with_irq; /* VMRUN with RFLAGS.IF = 1 (see vmrun.asm) */

struct l2_exit {
	u64 code, info1, info2, intinfo, rip, nrip;
};
void l1_caps_probe(void);
int l1_svm_enable(char *why, size_t len);
void l1_l2_build(void);            /* VMCB + NPT + L2 memory, default intercepts */
void l1_vmcb_defaults(u64 vmcb);   /* a valid VMCB for L2 */
void l1_l2_start(void (*fn)(void)); /* next VMRUN starts fn in L2 */
void l1_enter(struct l2_exit *e);  /* one VMRUN; the exit, TLB_CONTROL reset */
void l1_skip(const struct l2_exit *e, unsigned insn_len); /* RIP past the exiting instruction */
/* An exit handler: L1_RESUME (handled: enter L2 again), L1_UNHANDLED (the
 * run fails, the exit is described) or -1 (failed, why[] filled). */
#define L1_RESUME 1
#define L1_UNHANDLED 0
typedef int (*l1_handler)(const struct l2_exit *e, char *why, size_t len);
/* Run the L2 program fn until it ends (its final VMMCALL), handing every
 * other exit to h (may be NULL); 0 when it ended and saw nothing wrong. */
int l1_run(void (*fn)(void), l1_handler h, char *why, size_t len);
/* The same from wherever L2 is now (after l1_l2_start and VMCB edits). */
int l1_continue(l1_handler h, char *why, size_t len);
/* Describe an exit in why[]. */
void l1_explain(const struct l2_exit *e, const char *what, char *why, size_t len);
/* The precondition of every check after svm-enable. */
int l1_need_l2(char *why, size_t len);

/* l2.c: the L2 programs (they run in L2, see l2.h for the shared area). */
#define L2_DONE 0x4c32444f4e45ull  /* rax of the final VMMCALL: "L2DONE" */
