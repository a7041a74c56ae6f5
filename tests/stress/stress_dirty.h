/* SPDX-License-Identifier: MIT */
/*
 * Exact dirty-log checking.
 *
 * The property checked: every write to the dirty slot that *succeeded*
 * (its fault returned FIXED or SPURIOUS, SPURIOUS standing for a write that
 * hit an already writable entry) and that *started after harvest e had
 * returned* appears in some harvest numbered > e. A correct MMU guarantees
 * it: such a write either set the page's dirty bit after harvest e took its
 * snapshot, or found the entry writable, which it can only be if a fault set
 * the bit after that snapshot. A lost bit, or an entry left writable by a
 * harvest, breaks it. The check has no false positives and needs no timing:
 *
 *  - Writer: opseq++ (odd); s = session; e = harvests_done; fault;
 *    on success while s is odd, max_epoch[page] = max(max_epoch, e + 1);
 *    opseq++ (even). All seq_cst.
 *  - Harvester (one thread): harvest h = harvests_done + 1: get the bitmap,
 *    last_seen[page] = h for each set bit, then harvests_done = h.
 *  - Closing a session: session++ (even); wait until every writer that was
 *    odd has moved on (after that no writer can record into this session,
 *    by the seq_cst store/load pairs on session and opseq); one last harvest
 *    with logging still on; then for every page max_epoch <= last_seen,
 *    else that page lost a write. Only then logging is switched off.
 *
 * Keeping the maximum epoch per page suffices: if the latest-starting write
 * is covered by a harvest > its e, every earlier one is too.
 */
#pragma once

#include "stress.h"

struct stress_dirty {
	u64 npages;
	atomic_uint *max_epoch;   /* per page: e + 1 of the latest write; 0: none */
	u32 *last_seen;           /* per page: last harvest that reported it */
	u64 *bitmap;              /* harvest buffer */
	atomic_ullong session;    /* odd while writes are tracked */
	atomic_uint harvests_done;
	bool drop_harvests;       /* self-test: pretend every bitmap came back empty */
	/* Totals for the summary (harvester thread only). */
	u64 harvests, sessions, pages_reported, writes_checked;
};

int stress_dirty_init(struct stress_dirty *d, u64 npages);
void stress_dirty_fini(struct stress_dirty *d);

/* Writer side; 'token' carries the snapshot from begin to end. */
struct stress_dirty_token {
	u64 session;
	u32 epoch;
};
struct stress_dirty_token stress_dirty_begin(struct stress_dirty *d, atomic_ullong *opseq);
void stress_dirty_end(struct stress_dirty *d, atomic_ullong *opseq,
		      struct stress_dirty_token t, u64 page, bool succeeded);

/* Harvester side. */
void stress_dirty_open(struct stress_dirty *d);
int stress_dirty_harvest(struct stress_dirty *d, struct mmu *mmu, u16 slot_id);
void stress_dirty_quiesce(struct stress_dirty *d, atomic_ullong *const *opseqs, unsigned n);
u64 stress_dirty_check(struct stress_dirty *d, struct stress_report *rep);
