/* SPDX-License-Identifier: MIT */
/*
 * The L2 programs: C functions of this image that run in L2 (the image is
 * mapped at the same address in both). L1 hands them arguments and reads
 * their results in l2_shared (image data, so shared too); an L2 program
 * that sees something wrong sets 'status' to its step number and fills
 * 'detail'. Each ends by returning into l2_trampoline's VMMCALL L2_DONE.
 */
#pragma once

#include <keel/types.h>

#define L2_PORT_INTERCEPTED 0x530 /* IOPM bit set: exits to L1 */
#define L2_PORT_EDGE 0x540        /* a dword here touches the intercepted... */
#define L2_PORT_EDGE_BYTE 0x543   /* ...last byte: exits to L1 too */
#define L2_CPUID_LEAF 0x4e455354u /* "NEST": L1 answers it */
#define L2_LIST_MAX 64

struct l2_shared {
	u64 arg[4];
	u64 out[4];
	u64 status; /* 0: L2 saw nothing wrong */
	u64 detail[3];
	u64 list[L2_LIST_MAX]; /* addresses for l2_write_list */
};
extern volatile struct l2_shared l2s;

/* Addresses of the instructions the exit checks expect in RIP. */
extern const u8 l2_cpuid_insn[], l2_hlt_insn[], l2_vmmcall_insn[], l2_out_insn[],
	l2_in_insn[], l2_rdmsr_insn[], l2_wrmsr_insn[], l2_vmrun_insn[];

/* Programs (void (*)(void), arguments in l2s.arg). */
void l2_nop(void);
void l2_ram_test(void);   /* arg: base, bytes, stride, seed: check then rewrite */
void l2_read(void);       /* out[0] = *arg[0] */
void l2_write(void);      /* *arg[0] = arg[1] */
void l2_fetch(void);      /* call arg[0] */
void l2_cpuid(void);      /* out[0..3] = CPUID(arg[0]) */
void l2_hlt(void);
void l2_vmmcall(void);    /* rax = arg[0]; VMMCALL; out[0] = rax */
void l2_out(void);        /* OUT dx = arg[0], eax = arg[1] */
void l2_in(void);         /* out[0] = IN eax, dx = arg[0] */
void l2_rdmsr(void);      /* out[0] = RDMSR arg[0] */
void l2_wrmsr(void);      /* WRMSR arg[0] = arg[1] */
void l2_vmrun(void);      /* VMRUN rax = arg[0] */
void l2_write_list(void); /* *list[i] = arg[1] + i for i < arg[0] */
void l2_cpuid_loop(void);
void l2_sti(void);
void l2_spin(void);       /* until arg[1] != 0 or arg[0] TSC cycles passed; out[0] = 1 if stopped */        /* STI, a few NOPs, CLI: room for a (virtual) interrupt */ /* arg[0] CPUIDs of leaf arg[1]; out[0] = TSC cycles */

/* The value the RAM test expects at 'addr' in round 'seed'. */
static inline u64 l2_pattern(u64 addr, u64 seed)
{
	return (addr * 0x9e3779b97f4a7c15ull) ^ (seed << 56) ^ 0x5a5a5a5aull;
}
