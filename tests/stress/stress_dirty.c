// SPDX-License-Identifier: MIT
/* Exact dirty-log checking; the protocol is described in stress_dirty.h. */
#include "stress_dirty.h"

#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

int stress_dirty_init(struct stress_dirty *d, u64 npages)
{
	memset(d, 0, sizeof(*d));
	d->npages = npages;
	d->max_epoch = calloc(npages, sizeof(*d->max_epoch));
	d->last_seen = calloc(npages, sizeof(*d->last_seen));
	d->bitmap = calloc(ALIGN_UP(npages, 64) / 64, sizeof(u64));
	if (!d->max_epoch || !d->last_seen || !d->bitmap) {
		stress_dirty_fini(d);
		return -ENOMEM;
	}
	return 0;
}

void stress_dirty_fini(struct stress_dirty *d)
{
	free(d->max_epoch);
	free(d->last_seen);
	free(d->bitmap);
	d->max_epoch = NULL;
	d->last_seen = NULL;
	d->bitmap = NULL;
}

struct stress_dirty_token stress_dirty_begin(struct stress_dirty *d, atomic_ullong *opseq)
{
	struct stress_dirty_token t;

	atomic_fetch_add(opseq, 1); /* odd: in flight */
	t.session = atomic_load(&d->session);
	t.epoch = atomic_load(&d->harvests_done);
	return t;
}

static void record_write(struct stress_dirty *d, u64 page, u32 epoch)
{
	unsigned want = epoch + 1;
	unsigned cur = atomic_load(&d->max_epoch[page]);

	while (cur < want && !atomic_compare_exchange_weak(&d->max_epoch[page], &cur, want))
		;
}

void stress_dirty_end(struct stress_dirty *d, atomic_ullong *opseq,
		      struct stress_dirty_token t, u64 page, bool succeeded)
{
	if (succeeded && (t.session & 1))
		record_write(d, page, t.epoch);
	atomic_fetch_add(opseq, 1); /* even: done */
}

void stress_dirty_open(struct stress_dirty *d)
{
	atomic_fetch_add(&d->session, 1); /* odd: writes count from now on */
	d->sessions++;
}

/* One harvest: the MMU's bitmap (cleared and re-protected by the call) is
 * folded into last_seen before harvests_done says it happened. */
int stress_dirty_harvest(struct stress_dirty *d, struct mmu *mmu, u16 slot_id)
{
	u64 words = ALIGN_UP(d->npages, 64) / 64;
	u32 h = atomic_load(&d->harvests_done) + 1;
	int rc;

	memset(d->bitmap, 0, words * sizeof(u64));
	rc = mmu_slot_get_dirty_log(mmu, slot_id, d->bitmap);
	if (rc)
		return rc;
	if (d->drop_harvests)
		memset(d->bitmap, 0, words * sizeof(u64));
	for (u64 w = 0; w < words; w++) {
		for (u64 bits = d->bitmap[w]; bits; bits &= bits - 1) {
			u64 page = w * 64 + (u64)__builtin_ctzll(bits);

			if (page < d->npages)
				d->last_seen[page] = h;
			d->pages_reported++;
		}
	}
	atomic_store(&d->harvests_done, h);
	d->harvests++;
	return 0;
}

/* Close the write side of a session: after this returns no writer can
 * record into it. 'opseqs' are the writers' in-flight counters. */
void stress_dirty_quiesce(struct stress_dirty *d, atomic_ullong *const *opseqs, unsigned n)
{
	atomic_fetch_add(&d->session, 1); /* even: no new tracked writes */
	for (unsigned i = 0; i < n; i++) {
		unsigned long long v = atomic_load(opseqs[i]);

		if (!(v & 1))
			continue;
		while (atomic_load(opseqs[i]) == v)
			sched_yield();
	}
}

/* After quiesce and a final harvest: every tracked write was reported by a
 * harvest that started after the write did. Resets the write records.
 * Returns the number of pages that lost a write. */
u64 stress_dirty_check(struct stress_dirty *d, struct stress_report *rep)
{
	u64 lost = 0;

	for (u64 p = 0; p < d->npages; p++) {
		unsigned want = atomic_load(&d->max_epoch[p]);

		if (!want)
			continue;
		d->writes_checked++;
		if (d->last_seen[p] < want) {
			lost++;
			stress_fail(rep, "dirty page %" PRIu64 " written after harvest %u was "
				    "never reported after it (last reported by harvest %u)",
				    p, want - 1, d->last_seen[p]);
		}
		atomic_store(&d->max_epoch[p], 0);
	}
	return lost;
}
