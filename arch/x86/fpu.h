/* SPDX-License-Identifier: MIT */
/*
 * The guest's FPU/SSE/AVX state. Keel is built with -mgeneral-regs-only and
 * never executes an x87, SSE or XSAVE instruction of its own, so the state
 * the guest leaves in the registers stays there across every exit: with
 * one vCPU per CPU there is nothing to swap. What Keel does own is the
 * start: the firmware's values must not leak into the guest, so before the
 * vCPU's first entry every XSAVE component is put in its initial state
 * (FNINIT values, MXCSR 0x1f80, XMM/YMM/ZMM zero) and XCR0 gets the
 * guest's value (1 at reset). XCR0 then always holds the guest's value;
 * the host never needs another.
 */
#pragma once

#include <keel/types.h>

#define XCR0_X87 BIT(0)
#define XCR0_SSE BIT(1)
#define XCR0_AVX BIT(2)
#define XCR0_AVX512 (BIT(5) | BIT(6) | BIT(7))
#define XCR0_PKRU BIT(9)

/* XCR0 bits a guest may set: what the CPU supports (CPUID 0xd.0) among the
 * components Keel lets guests use. 0 when the CPU has no XSAVE. */
u64 fpu_guest_xcr0_mask(void);
/* Architectural XSETBV checks on the value (not the CPL): #GP when false. */
bool fpu_xcr0_valid(u64 xcr0, u64 mask);
/* All state to its initial values, then XCR0 = xcr0; with enable_xsave
 * CR4.OSXSAVE is turned on first when the CPU has XSAVE. */
void fpu_reset(u64 xcr0, bool enable_xsave);
void fpu_set_xcr0(u64 xcr0);
