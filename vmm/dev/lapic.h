/* SPDX-License-Identifier: MIT */
/*
 * One vCPU's local APIC (docs/platform.md, "Local APIC"): the xAPIC page at
 * IA32_APIC_BASE (relocatable) and the x2APIC MSRs 0x800-0x8ff; ID,
 * version, TPR/APR/PPR, EOI (level vectors broadcast to the I/O APIC),
 * ISR/IRR/TMR, SVR, six LVT entries, ESR, the timer (one-shot, periodic,
 * TSC-deadline) and ICR/SELF_IPI. IPIs to other vCPUs are handed to a hook
 * (the platform delivers them: platform.c). The public part (pending
 * vector, NMI, INIT/SIPI, CR8) is declared in platform.h.
 *
 * Every function here takes the APIC's own lock (struct lapic.lock), so any
 * CPU may call any of them: the owning vCPU (registers, pending vectors),
 * another vCPU (an IPI), the I/O APIC (a message). The lock is innermost:
 * the EOI broadcast and IPIs to others run after it is released.
 */
#pragma once

#include <keel/types.h>
#include "vmm/dev/dev_lock.h"
#include "vmm/dev/platform.h"

#define MSR_APIC_BASE 0x1bu
#define MSR_TSC_DEADLINE 0x6e0u
#define MSR_X2APIC_FIRST 0x800u
#define MSR_X2APIC_LAST 0x8ffu

#define APIC_BASE_BSP BIT(8)
#define APIC_BASE_EXTD BIT(10)
#define APIC_BASE_EN BIT(11)

/* The timer counts at 1 GHz before the divider (as KVM's). */
#define LAPIC_TIMER_HZ 1000000000ull

enum lapic_lvt { LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR, LVT_COUNT };
#define LVT_MASKED BIT(16)
#define LVT_DELIVERY(v) (((v) >> 8) & 7)
#define LVT_DM_EXTINT 7
#define LVT_DM_NMI 4

/* What the APICs of a VM share: time, the I/O APIC's EOI, other vCPUs. */
struct lapic_env {
	u64 (*now_ns)(void *ctx);
	u64 (*guest_tsc)(void *ctx, unsigned vcpu); /* NULL: from now_ns */
	void (*eoi)(void *ctx, u8 vector);
	void (*send_ipi)(void *ctx, unsigned from_vcpu, u64 icr);
	void (*kick)(void *ctx, unsigned vcpu);
	void *ctx;
	u64 tsc_hz;
	unsigned nr_vcpus, phys_bits;
};

struct lapic {
	/* Set by lapic_init, then read-only. */
	const struct lapic_env *env;
	unsigned vcpu;
	/* Everything below: owned by lock. */
	struct dev_lock lock;
	u64 apic_base;
	u32 id; /* xAPIC: bits 31:24 of the ID register; x2APIC: all of it */
	u32 tpr, svr, ldr, dfr;
	u32 esr, esr_pending; /* readable ESR / errors since the last ESR write */
	u32 icr_lo, icr_hi;
	u32 lvt[LVT_COUNT];
	u32 tmict, tdcr;
	u32 irr[8], isr[8], tmr[8];
	u64 timer_start_ns;   /* when TMICT was written (count-down modes) */
	bool timer_running;   /* count-down armed (one-shot until it expires) */
	u64 timer_next_ns;    /* next expiry, PLAT_NO_EVENT when none */
	u64 tsc_deadline;
	bool nmi_pending, init_pending, sipi_pending;
	u8 sipi_vector;
	u64 ipis_self, ipis_other, msr_gp, timer_fired, mmio, inits, sipis;
	u64 dropped;          /* fixed interrupts refused while disabled */
};

void lapic_init(struct lapic *a, const struct lapic_env *env, unsigned vcpu);
/* Power-up state (also what a global disable leaves): IDs, SVR 0xff, LVTs
 * masked, no interrupts; the APIC_BASE MSR is not changed. */
void lapic_reset(struct lapic *a);

bool lapic_hw_enabled(struct lapic *a);   /* APIC_BASE.EN */
bool lapic_sw_enabled(struct lapic *a);   /* and SVR bit 8 */

/* MSRs: 0 handled, -ENOENT not an APIC MSR, -EINVAL #GP. */
int lapic_rdmsr(struct lapic *a, u32 msr, u64 *val);
int lapic_wrmsr(struct lapic *a, u32 msr, u64 val);
/* xAPIC page: true when gpa is in this APIC's page and it is enabled in
 * xAPIC mode. */
bool lapic_mmio(struct lapic *a, u64 gpa, unsigned size, bool write, u64 *val);

/* An interrupt message for this APIC (fixed delivery): refused (counted)
 * while the APIC is disabled, globally or by SVR (NMIs are still taken);
 * vectors below 16 are refused with ESR "receive illegal vector". */
void lapic_accept_irq(struct lapic *a, u8 vector, bool level);
void lapic_accept_nmi(struct lapic *a);
/* INIT (level assert) and SIPI from another APIC (ignored while the APIC is
 * disabled). INIT resets the APIC but its APIC_BASE (mode kept). */
void lapic_accept_init(struct lapic *a);
void lapic_accept_sipi(struct lapic *a, u8 vector);
/* Is the vector requested (IRR)? */
bool lapic_irr_test(struct lapic *a, u8 vector);
/* Does this APIC match a destination (physical ID or logical mask)? */
bool lapic_match_dest(struct lapic *a, u32 dest, bool logical);

/* Timer: fire what is due at 'now'; the next expiry. */
void lapic_advance(struct lapic *a, u64 now);
u64 lapic_next_event_ns(struct lapic *a);

/* ipi.c: an ICR write of APIC 'from' (its lock not held) for the others of
 * apics[0 .. n-1]: the shorthand, or the destination (physical ID, logical
 * flat or cluster; x2APIC: 32-bit) matched against each APIC but the
 * sender's, which lapic.c served itself. Fixed, lowest priority (the first
 * match only), NMI, INIT (assert), SIPI; SMI and ExtINT are not delivered. */
void lapic_route_ipi(struct lapic *apics, unsigned n, unsigned from, u64 icr);

struct lapic_counters {
	u64 ipis_self, ipis_other, mmio, inits, sipis;
};
void lapic_get_counters(struct lapic *a, struct lapic_counters *c);
