/* SPDX-License-Identifier: MIT */
/*
 * The memslot read side: a minimal sleepable-RCU. Readers (faults, prefault
 * steps, translations) enter, read the published slot snapshot, and leave;
 * a slot writer publishes a new snapshot and then waits until every reader
 * that could still see the old one has left (srcu_synchronize()).
 *
 * The rule that rules out seed 004: no code ever waits for a slot writer
 * while inside a read section. A fault that meets a slot in flux returns
 * MMU_FAULT_RETRY_SLOT and leaves the section before anyone retries.
 */
#pragma once

#include <keel/types.h>
#include "mmu/env.h"

/* One CPU's readers of each phase, alone on its cache line. */
struct srcu_slot {
	u64 readers[2];
} __aligned(64);

struct slots_srcu {
	u32 phase;      /* which counter new readers use */
	struct srcu_slot slot[ENV_CPU_SLOTS]; /* readers that entered in each
	                   phase, per CPU; the writer sums them after its flip */
};

void srcu_init(struct slots_srcu *s);
/* Returns the token to pass to srcu_read_unlock() (CPU slot and phase). */
int srcu_read_lock(struct slots_srcu *s);
void srcu_read_unlock(struct slots_srcu *s, int token);
/* Wait for every reader that entered before this call. Must not be called
 * inside a read section (asserted). */
void srcu_synchronize(struct slots_srcu *s);
bool srcu_read_held(const struct slots_srcu *s);
