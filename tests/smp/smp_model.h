/* SPDX-License-Identifier: MIT */
/*
 * A model of vCPUs running on other CPUs, for the remote-flush protocol
 * (docs/mmu-design.md, "TLB flush rules"). Each model vCPU is a thread that
 * enters the guest (mmu_vcpu_load_root), then keeps translating its pages
 * through a private model TLB until it is kicked (its mmu_kick_fn sets a
 * flag, as an IPI would force a VM exit). A TLB miss is an exit: the vCPU
 * leaves guest mode, faults the page in, fills its TLB from the tables and
 * enters again, flushing its TLB when load_root says so.
 *
 * The oracle: before an MMU operation starts, the test publishes its number
 * (smp_op_begin); after it returns, which pages it took translations or
 * write permission from (smp_op_revoke*), then that it ended (smp_op_end).
 * A TLB entry remembers the number of the last operation that had ended when
 * it was filled (a fill that overlaps an operation is dropped). A vCPU that, in guest mode,
 * uses an entry older than an operation that revoked its page and has
 * already returned is using a stale translation: a violation, reported with
 * the page and the operation.
 */
#pragma once

#include <pthread.h>
#include "tests/unit/mmu_test_util.h"

#define SMP_TLB_SIZE 64
#define SMP_MAX_PAGES 64
#define SMP_MAX_GFN 4096

struct smp_tlb_entry {
	u64 gfn, hfn;
	u32 perms;
	u64 fill_op; /* last operation started when the entry was filled */
	bool valid;
};

struct smp_vcpu {
	struct mmu *mmu;
	struct mmu_vcpu *mv;
	unsigned id;
	pthread_t thread;
	u64 gfns[SMP_MAX_PAGES];
	unsigned npages;
	u32 access;                 /* MMU_ACC_READ or MMU_ACC_WRITE */
	struct smp_tlb_entry tlb[SMP_TLB_SIZE]; /* private to the vCPU thread */

	/* atomics shared with the test */
	u32 kicked, stop, park;     /* park: stay outside the guest while set */
	u32 in_guest, parked;
	u64 passes;                 /* guest passes in which every page hit */
	u64 kicks, entries, flushes, violations;
	u64 bad_gfn, bad_op;        /* the first violation */
	u32 last_entry_flushed;     /* load_root's answer at the latest entry */
};

/* Process-wide oracle state. */
void smp_oracle_reset(void);
void smp_op_begin(void);                      /* the next operation starts */
void smp_op_revoke(u64 gfn_start, u64 gfn_end);       /* ... it removed these */
void smp_op_revoke_write(u64 gfn_start, u64 gfn_end); /* ... it write-protected these */
void smp_op_end(void);                        /* ... and has returned */

void smp_vcpu_start(struct smp_vcpu *v, struct mmu *mmu, unsigned id, u64 first_gfn,
		    unsigned npages, u32 access);
void smp_vcpu_stop(struct smp_vcpu *v);      /* joins and destroys the mmu_vcpu */
void smp_vcpu_stop_all(void);                /* every vCPU still running (teardown) */
/* Wait (bounded, failing the test with 'what') until the vCPU has done
 * 'more' further all-hit guest passes. */
void smp_vcpu_wait_passes(struct smp_vcpu *v, u64 more, const char *what);
void smp_vcpu_wait_entries(struct smp_vcpu *v, u64 more, const char *what);
void smp_vcpu_park(struct smp_vcpu *v, const char *what); /* returns once parked outside */
void smp_vcpu_unpark(struct smp_vcpu *v);

/* A watchdog for the current scenario: if it is not disarmed within
 * 'seconds', print the scenario and exit(1). */
void smp_watchdog_arm(const char *scenario, unsigned seconds);
void smp_watchdog_disarm(void);
