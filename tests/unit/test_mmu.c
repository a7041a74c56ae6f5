// SPDX-License-Identifier: MIT
/*
 * Functional tests of the MMU through its public API (mmu/mmu.h) and the
 * debug API (mmu/mmu_debug.h). Every test runs once per entry format.
 */
#include "tests/unit/mmu_test_util.h"
#include <pthread.h>
#include <string.h>
#include "mmu/mmu_internal.h"

#define BACKING 0x100000ull /* host frame 4 GiB: 1 GiB aligned */

/* A 1 GiB-aligned 2 GiB slot: one fault maps 1 GiB. */
static void test_fault_1g(void **state)
{
	struct tmmu *t = *state;
	struct mmu_stats st;
	hfn_t hfn;

	tmmu_add_slot(t->mmu, 0, GIB_PAGES, 2 * GIB_PAGES, BACKING, 0);
	assert_int_equal(tmmu_fault(t->v, SZ_1G + 0x1234, MMU_ACC_WRITE), MMU_FAULT_FIXED);
	assert_int_equal(tmmu_level_of(t->mmu, GIB_PAGES + 77, &hfn, NULL), 3);
	assert_int_equal(hfn.v, BACKING + 77);
	assert_int_equal(tmmu_fault(t->v, SZ_1G + 0x5000, MMU_ACC_READ), MMU_FAULT_SPURIOUS);
	mmu_get_stats(t->mmu, &st);
	assert_int_equal(st.maps_1g, 1);
	assert_int_equal(st.faults_fixed, 1);
	assert_int_equal(st.faults_spurious, 1);
	/* root + level-3 table */
	assert_int_equal(st.tables_in_use, 2);
}

/* 2 MiB alignment but not 1 GiB: 2 MiB leaves. */
static void test_fault_2m(void **state)
{
	struct tmmu *t = *state;
	struct mmu_stats st;

	tmmu_add_slot(t->mmu, 1, GIB_PAGES, GIB_PAGES, BACKING + MIB2_PAGES, 0);
	assert_int_equal(tmmu_fault(t->v, SZ_1G + SZ_2M + 8, MMU_ACC_READ), MMU_FAULT_FIXED);
	assert_int_equal(tmmu_level_of(t->mmu, GIB_PAGES + MIB2_PAGES, NULL, NULL), 2);
	mmu_get_stats(t->mmu, &st);
	assert_int_equal(st.maps_2m, 1);
	assert_int_equal(st.maps_1g, 0);
}

/* Misaligned backing, and the edges of a slot that is not 2 MiB-sized. */
static void test_fault_4k(void **state)
{
	struct tmmu *t = *state;
	struct mmu_stats st;
	hfn_t hfn;

	tmmu_add_slot(t->mmu, 0, 0x1000, MIB2_PAGES, BACKING + 1, 0);
	assert_int_equal(tmmu_fault(t->v, 0x1000ull << 12, MMU_ACC_EXEC), MMU_FAULT_FIXED);
	assert_int_equal(tmmu_level_of(t->mmu, 0x1000, &hfn, NULL), 1);
	assert_int_equal(hfn.v, BACKING + 1);
	/* Aligned backing, but the slot covers only part of a 2 MiB range. */
	tmmu_add_slot(t->mmu, 1, 0x200 * 9 + 5, 100, BACKING + 0x200 * 9 + 5, 0);
	assert_int_equal(tmmu_fault(t->v, (0x200ull * 9 + 50) << 12, MMU_ACC_READ),
			 MMU_FAULT_FIXED);
	assert_int_equal(tmmu_level_of(t->mmu, 0x200 * 9 + 50, NULL, NULL), 1);
	mmu_get_stats(t->mmu, &st);
	assert_int_equal(st.maps_4k, 2);
}

static void test_no_slot(void **state)
{
	struct tmmu *t = *state;
	struct mmu_stats st;

	tmmu_add_slot(t->mmu, 0, 0, 16, BACKING, 0);
	assert_int_equal(tmmu_fault(t->v, 16 << 12, MMU_ACC_READ), MMU_FAULT_NO_SLOT);
	assert_int_equal(tmmu_fault(t->v, 1ull << 50, MMU_ACC_READ), MMU_FAULT_NO_SLOT);
	assert_int_equal(tmmu_level_of(t->mmu, 16, NULL, NULL), 0);
	mmu_get_stats(t->mmu, &st);
	assert_int_equal(st.no_slot, 2);
	assert_int_equal(st.maps_4k + st.maps_2m + st.maps_1g, 0);
}

static void test_readonly_slot(void **state)
{
	struct tmmu *t = *state;
	u32 perms = 0;

	tmmu_add_slot(t->mmu, 0, 0, MIB2_PAGES, BACKING, MEMSLOT_READONLY);
	assert_int_equal(tmmu_fault(t->v, 0x3000, MMU_ACC_WRITE), MMU_FAULT_PERM);
	assert_int_equal(tmmu_level_of(t->mmu, 3, NULL, NULL), 0);
	assert_int_equal(tmmu_fault(t->v, 0x3000, MMU_ACC_READ), MMU_FAULT_FIXED);
	assert_int_equal(tmmu_level_of(t->mmu, 3, NULL, &perms), 2);
	assert_int_equal(perms, MMU_ACC_READ | MMU_ACC_EXEC);
	assert_int_equal(tmmu_fault(t->v, 0x3000, MMU_ACC_WRITE), MMU_FAULT_PERM);
	assert_int_equal(mmu_slot_set_flags(t->mmu, 0, 0), -EINVAL);
}

static void test_bad_slots(void **state)
{
	struct tmmu *t = *state;
	struct memslot_desc d = { .id = 3, .base_gfn = GFN(100), .npages = 100,
				  .backing = HFN(BACKING) };

	assert_int_equal(mmu_slot_add(t->mmu, &d), 0);
	assert_int_equal(mmu_slot_add(t->mmu, &d), -EEXIST);
	d.id = 4;
	d.base_gfn = GFN(150); /* overlaps slot 3 */
	assert_int_equal(mmu_slot_add(t->mmu, &d), -EEXIST);
	d.base_gfn = GFN(1ull << 36); /* beyond 48-bit gpa */
	assert_int_equal(mmu_slot_add(t->mmu, &d), -EINVAL);
	d.base_gfn = GFN(0);
	d.npages = 0;
	assert_int_equal(mmu_slot_add(t->mmu, &d), -EINVAL);
	d.npages = 1;
	d.id = MMU_MAX_SLOTS;
	assert_int_equal(mmu_slot_add(t->mmu, &d), -EINVAL);
	d.id = 4;
	d.flags = BIT(7);
	assert_int_equal(mmu_slot_add(t->mmu, &d), -EINVAL);
	assert_int_equal(mmu_slot_delete(t->mmu, 9), -ENOENT);
	assert_int_equal(mmu_slot_move(t->mmu, 9, GFN(0)), -ENOENT);
	assert_int_equal(mmu_slot_move(t->mmu, 3, GFN((1ull << 36) - 50)), -EINVAL);
	assert_int_equal(mmu_slot_set_flags(t->mmu, 9, 0), -ENOENT);
	assert_int_equal(mmu_slot_set_flags(t->mmu, 3, BIT(9)), -EINVAL);
}

static void test_zap_range(void **state)
{
	struct tmmu *t = *state;
	struct mmu_stats st;

	tmmu_add_slot(t->mmu, 0, 0, 4 * MIB2_PAGES, BACKING + 1, 0); /* 4 KiB only */
	for (u64 g = 0; g < 64; g++)
		assert_int_equal(tmmu_fault(t->v, g << 12, MMU_ACC_WRITE), MMU_FAULT_FIXED);
	mmu_zap_gfn_range(t->mmu, GFN(10), GFN(20));
	assert_int_equal(tmmu_level_of(t->mmu, 9, NULL, NULL), 1);
	assert_int_equal(tmmu_level_of(t->mmu, 10, NULL, NULL), 0);
	assert_int_equal(tmmu_level_of(t->mmu, 19, NULL, NULL), 0);
	assert_int_equal(tmmu_level_of(t->mmu, 20, NULL, NULL), 1);
	mmu_get_stats(t->mmu, &st);
	assert_int_equal(st.maps_4k, 54);
	assert_int_equal(st.zaps, 10);
	assert_true(st.tlb_flush_requests >= 1);
	tmmu_assert_verify(t->mmu);
	/* Zapping a valid root removes leaves only: the tables stay linked
	 * (empty) and faults refill them without allocating. Invalidating the
	 * root tears the tables down. */
	mmu_zap_gfn_range(t->mmu, GFN(0), GFN(MIB2_PAGES));
	mmu_get_stats(t->mmu, &st);
	assert_int_equal(st.maps_4k, 0);
	assert_int_equal(st.tables_in_use, 4);
	assert_int_equal(mmu_debug_tables_pending_free(t->mmu), 0);
	tmmu_assert_verify(t->mmu);
	assert_int_equal(tmmu_fault(t->v, 5 << 12, MMU_ACC_WRITE), MMU_FAULT_FIXED);
	mmu_get_stats(t->mmu, &st);
	assert_int_equal(st.tables_in_use, 4);
	mmu_invalidate_all_roots(t->mmu);
	mmu_get_stats(t->mmu, &st);
	assert_int_equal(st.maps_4k, 0);
	assert_int_equal(st.tables_in_use - mmu_debug_tables_pending_free(t->mmu), 1);
}

/* Zapping part of a huge mapping removes all of it. */
static void test_zap_partial_huge(void **state)
{
	struct tmmu *t = *state;

	tmmu_add_slot(t->mmu, 0, 0, MIB2_PAGES, BACKING, 0);
	assert_int_equal(tmmu_fault(t->v, 0, MMU_ACC_READ), MMU_FAULT_FIXED);
	mmu_zap_gfn_range(t->mmu, GFN(5), GFN(6));
	assert_int_equal(tmmu_level_of(t->mmu, 100, NULL, NULL), 0);
}

static void test_invalidate_roots(void **state)
{
	struct tmmu *t = *state;
	struct mmu_stats st;
	hpa_t r1, r2;
	bool flush;
	unsigned valid;

	tmmu_add_slot(t->mmu, 0, 0, MIB2_PAGES, BACKING, 0);
	assert_int_equal(mmu_vcpu_load_root(t->v, &r1, &flush), 0);
	assert_true(flush); /* first entry */
	assert_int_equal(mmu_vcpu_load_root(t->v, &r1, &flush), 0);
	assert_false(flush);
	assert_int_equal(mmu_page_fault(t->v, GPA(0x1000), MMU_ACC_READ), MMU_FAULT_FIXED);
	mmu_invalidate_all_roots(t->mmu);
	/* The old root is obsolete: the fault must not install into it. */
	assert_int_equal(mmu_page_fault(t->v, GPA(0x1000), MMU_ACC_READ), MMU_FAULT_RETRY);
	assert_int_equal(mmu_debug_root_count(t->mmu, &valid), 1);
	assert_int_equal(valid, 0);
	assert_int_equal(mmu_vcpu_load_root(t->v, &r2, &flush), 0);
	assert_true(flush);
	assert_int_not_equal(r1.v, r2.v);
	assert_int_equal(tmmu_level_of(t->mmu, 1, NULL, NULL), 0);
	assert_int_equal(mmu_page_fault(t->v, GPA(0x1000), MMU_ACC_READ), MMU_FAULT_FIXED);
	mmu_get_stats(t->mmu, &st);
	assert_int_equal(st.root_invalidations, 1);
	assert_int_equal(st.retries_obsolete, 1);
	assert_int_equal(mmu_debug_root_count(t->mmu, &valid), 1);
	assert_int_equal(valid, 1);
}

static void test_slot_move_delete(void **state)
{
	struct tmmu *t = *state;
	hfn_t hfn;
	u32 flags;

	tmmu_add_slot(t->mmu, 2, 0x100, 0x100, BACKING, 0);
	assert_int_equal(tmmu_fault(t->v, 0x180ull << 12, MMU_ACC_WRITE), MMU_FAULT_FIXED);
	assert_int_equal(mmu_slot_move(t->mmu, 2, GFN(0x1000)), 0);
	tmmu_assert_verify(t->mmu);
	assert_int_equal(tmmu_level_of(t->mmu, 0x180, NULL, NULL), 0);
	assert_int_equal(tmmu_fault(t->v, 0x180ull << 12, MMU_ACC_READ), MMU_FAULT_NO_SLOT);
	assert_int_equal(tmmu_fault(t->v, 0x1080ull << 12, MMU_ACC_READ), MMU_FAULT_FIXED);
	assert_int_equal(tmmu_level_of(t->mmu, 0x1080, &hfn, NULL), 1);
	assert_int_equal(hfn.v, BACKING + 0x80);
	assert_true(mmu_gfn_to_hfn(t->mmu, GFN(0x10ff), &hfn, &flags));
	assert_int_equal(hfn.v, BACKING + 0xff);
	assert_int_equal(mmu_slot_delete(t->mmu, 2), 0);
	tmmu_assert_verify(t->mmu);
	assert_int_equal(tmmu_level_of(t->mmu, 0x1080, NULL, NULL), 0);
	assert_false(mmu_gfn_to_hfn(t->mmu, GFN(0x1080), &hfn, &flags));
	assert_int_equal(tmmu_fault(t->v, 0x1080ull << 12, MMU_ACC_READ), MMU_FAULT_NO_SLOT);
	/* The id can be reused. */
	tmmu_add_slot(t->mmu, 2, 0x100, 0x100, BACKING, 0);
}

static u64 count_bits(const u64 *bm, u64 words)
{
	u64 n = 0;

	for (u64 i = 0; i < words; i++)
		n += __builtin_popcountll(bm[i]);
	return n;
}

/* Enable splits 1 GiB -> 2 MiB -> 4 KiB; writes are logged; harvest
 * write-protects again; disable lets faults map huge pages again. */
static void test_dirty_log_cycle(void **state)
{
	struct tmmu *t = *state;
	static u64 bitmap[GIB_PAGES / 64];
	struct mmu_stats st;
	u32 perms = 0;

	tmmu_add_slot(t->mmu, 0, GIB_PAGES, GIB_PAGES, BACKING, 0);
	assert_int_equal(tmmu_fault(t->v, SZ_1G, MMU_ACC_WRITE), MMU_FAULT_FIXED);
	assert_int_equal(mmu_slot_get_dirty_log(t->mmu, 0, bitmap), -EINVAL);
	assert_int_equal(mmu_slot_set_flags(t->mmu, 0, MEMSLOT_DIRTY_LOG), 0);
	mmu_get_stats(t->mmu, &st);
	assert_int_equal(st.maps_1g, 0);
	assert_int_equal(st.maps_2m, 0);
	assert_int_equal(st.maps_4k, GIB_PAGES);
	assert_int_equal(st.splits, 1 + 512);
	tmmu_assert_verify(t->mmu);
	assert_int_equal(tmmu_level_of(t->mmu, GIB_PAGES + 5, NULL, &perms), 1);
	assert_false(perms & MMU_ACC_WRITE);

	/* Writes to 3 pages: fixed (write-protection fault), logged. */
	assert_int_equal(tmmu_fault(t->v, SZ_1G + 5 * PAGE_SIZE, MMU_ACC_WRITE), MMU_FAULT_FIXED);
	assert_int_equal(tmmu_fault(t->v, SZ_1G + 700 * PAGE_SIZE, MMU_ACC_WRITE), MMU_FAULT_FIXED);
	assert_int_equal(tmmu_fault(t->v, SZ_1G + 0x3ffff000ull, MMU_ACC_WRITE), MMU_FAULT_FIXED);
	assert_int_equal(tmmu_fault(t->v, SZ_1G + 5 * PAGE_SIZE, MMU_ACC_WRITE), MMU_FAULT_SPURIOUS);
	tmmu_assert_verify(t->mmu);
	assert_int_equal(mmu_slot_get_dirty_log(t->mmu, 0, bitmap), 0);
	assert_int_equal(count_bits(bitmap, GIB_PAGES / 64), 3);
	assert_true(bitmap[0] & BIT(5));
	assert_true(bitmap[700 / 64] & BIT(700 % 64));
	assert_true(bitmap[GIB_PAGES / 64 - 1] & BIT(63));
	assert_int_equal(tmmu_level_of(t->mmu, GIB_PAGES + 5, NULL, &perms), 1);
	assert_false(perms & MMU_ACC_WRITE);
	/* Harvest cleared the log. */
	assert_int_equal(mmu_slot_get_dirty_log(t->mmu, 0, bitmap), 0);
	assert_int_equal(count_bits(bitmap, GIB_PAGES / 64), 0);
	/* A read fault of a clean page maps it read-only. */
	mmu_zap_gfn_range(t->mmu, GFN(GIB_PAGES + 9), GFN(GIB_PAGES + 10));
	assert_int_equal(tmmu_fault(t->v, SZ_1G + 9 * PAGE_SIZE, MMU_ACC_READ), MMU_FAULT_FIXED);
	assert_int_equal(tmmu_level_of(t->mmu, GIB_PAGES + 9, NULL, &perms), 1);
	assert_false(perms & MMU_ACC_WRITE);

	/* Disabling recovers the huge mapping in place: 4 KiB -> 2 MiB -> 1 GiB,
	 * writable again, with no refault. */
	assert_int_equal(mmu_slot_set_flags(t->mmu, 0, 0), 0);
	mmu_get_stats(t->mmu, &st);
	assert_int_equal(st.maps_4k, 0);
	assert_int_equal(st.maps_2m, 0);
	assert_int_equal(st.maps_1g, 1);
	tmmu_assert_verify(t->mmu);
	assert_int_equal(tmmu_level_of(t->mmu, GIB_PAGES, NULL, &perms), 3);
	assert_true(perms & MMU_ACC_WRITE);
	assert_int_equal(tmmu_fault(t->v, SZ_1G, MMU_ACC_WRITE), MMU_FAULT_SPURIOUS);
}

/* A huge mapping met by a write fault while the slot is dirty-logged is
 * split on demand (eager splitting could not allocate). */
static void test_dirty_log_split_nomem(void **state)
{
	struct tmmu *t = *state;
	u32 perms = 0;

	tmmu_add_slot(t->mmu, 0, 0, MIB2_PAGES, BACKING, 0);
	assert_int_equal(tmmu_fault(t->v, 0, MMU_ACC_WRITE), MMU_FAULT_FIXED);
	env_hosted_fail_page_alloc_every(1);
	assert_int_equal(mmu_slot_set_flags(t->mmu, 0, MEMSLOT_DIRTY_LOG), 0);
	env_hosted_fail_page_alloc_every(0);
	tmmu_assert_verify(t->mmu);
	assert_int_equal(tmmu_level_of(t->mmu, 0, NULL, &perms), 2);
	assert_false(perms & MMU_ACC_WRITE);
	assert_int_equal(tmmu_fault(t->v, 7 * PAGE_SIZE, MMU_ACC_WRITE), MMU_FAULT_FIXED);
	assert_int_equal(tmmu_level_of(t->mmu, 7, NULL, &perms), 1);
	assert_true(perms & MMU_ACC_WRITE);
	assert_int_equal(tmmu_level_of(t->mmu, 8, NULL, &perms), 1);
	assert_false(perms & MMU_ACC_WRITE);
}

/* Every page-table allocation of a fault fails in turn: NOMEM, nothing
 * leaked, nothing inconsistent, and the fault succeeds once memory is back. */
static void test_alloc_failure(void **state)
{
	struct tmmu *t = *state;
	hpa_t root;
	bool flush;

	tmmu_add_slot(t->mmu, 0, 0x40000, 16, BACKING, 0);
	assert_int_equal(mmu_vcpu_load_root(t->v, &root, &flush), 0);
	for (u64 n = 1; n <= 3; n++) {
		env_hosted_fail_page_alloc_nth(n);
		assert_int_equal(mmu_page_fault(t->v, GPA(0x40000ull << 12), MMU_ACC_READ),
				 n == 1 ? MMU_FAULT_NOMEM : MMU_FAULT_NOMEM);
		tmmu_assert_verify(t->mmu);
		/* A fresh root, so the walk allocates every level again (a zap
		 * of a valid root would keep the tables linked). */
		mmu_invalidate_all_roots(t->mmu);
		assert_int_equal(mmu_vcpu_load_root(t->v, &root, &flush), 0);
	}
	env_hosted_fail_page_alloc_nth(0);
	assert_int_equal(mmu_page_fault(t->v, GPA(0x40000ull << 12), MMU_ACC_READ),
			 MMU_FAULT_FIXED);
	/* Root allocation failure */
	mmu_invalidate_all_roots(t->mmu);
	env_hosted_fail_page_alloc_every(1); /* (load_root frees and retries once) */
	assert_int_equal(mmu_vcpu_load_root(t->v, &root, &flush), -ENOMEM);
	env_hosted_fail_page_alloc_every(0);
	assert_int_equal(mmu_vcpu_load_root(t->v, &root, &flush), 0);
}

/* The pool runs dry: faults report NOMEM and evict nothing themselves; the
 * caller evicts (zap all, free past the grace period), re-enters, and the
 * fault then succeeds. Zapped tables are freed only after the vCPU has
 * re-entered the guest (it could still walk them until it flushes). */
static void test_evict(void **state)
{
	struct tmmu *t = *state;
	u64 gfn = 0x40000, live_full, live_after;
	enum mmu_fault_result r = MMU_FAULT_FIXED;
	struct mmu_stats st;
	hpa_t root;
	bool flush;

	tmmu_add_slot(t->mmu, 0, gfn, 64 * MIB2_PAGES, BACKING + 1, 0); /* 4 KiB leaves */
	assert_int_equal(mmu_vcpu_load_root(t->v, &root, &flush), 0);
	env_hosted_set_page_limit(env_hosted_pages_live() + 8 * 2);
	for (u64 i = 0; i < 64 && r != MMU_FAULT_NOMEM; i++)
		r = tmmu_fault(t->v, (gfn + i * MIB2_PAGES) * PAGE_SIZE, MMU_ACC_WRITE);
	assert_int_equal(r, MMU_FAULT_NOMEM);
	tmmu_assert_verify(t->mmu);
	live_full = env_hosted_pages_live();
	mmu_get_stats(t->mmu, &st);
	assert_int_equal(st.evictions, 0);

	assert_int_equal(mmu_evict(t->mmu), 0); /* the vCPU may still walk them */
	for (u64 i = 0; i < 64; i++)
		assert_int_equal(tmmu_level_of(t->mmu, gfn + i * MIB2_PAGES, NULL, NULL), 0);
	assert_int_equal(env_hosted_pages_live(), live_full);

	/* Re-entry: the pool is still full (the evicted tables wait for this
	 * vCPU), but the vCPU left its obsolete root and flushes, so loading
	 * frees them and finds room for the new root. */
	assert_int_equal(mmu_vcpu_load_root(t->v, &root, &flush), 0);
	assert_true(flush);
	live_after = env_hosted_pages_live();
	assert_true(live_after < live_full);
	assert_int_equal(mmu_debug_tables_pending_free(t->mmu), 0);
	assert_int_equal(tmmu_fault(t->v, gfn * PAGE_SIZE, MMU_ACC_WRITE), MMU_FAULT_FIXED);
	mmu_get_stats(t->mmu, &st);
	assert_int_equal(st.evictions, 1);
	tmmu_assert_verify(t->mmu);
}

static void test_prefault(void **state)
{
	struct tmmu *t = *state;
	struct mmu_stats st;

	tmmu_add_slot(t->mmu, 0, MIB2_PAGES, 2 * MIB2_PAGES + 3, BACKING, 0);
	assert_int_equal(mmu_prefault(t->v, GPA(SZ_2M), 2 * SZ_2M + 3 * PAGE_SIZE), 0);
	mmu_get_stats(t->mmu, &st);
	assert_int_equal(st.maps_2m, 2);
	assert_int_equal(st.maps_4k, 3);
	assert_int_equal(mmu_prefault(t->v, GPA(SZ_2M), 3 * SZ_2M), -ENOENT);
	assert_int_equal(mmu_prefault(t->v, GPA(~0ull - 10), 100), -EINVAL);
	/* The top page of the address space: rounding the end up would wrap
	 * to 0 and report success for a range no slot covers. */
	assert_int_equal(mmu_prefault(t->v, GPA(~0ull - 0xfff), 0x800), -ENOENT);
	assert_int_equal(mmu_prefault(t->v, GPA(~0ull - 0xfff), 0x1000), -EINVAL);
}

/*
 * Bounded units in a valid root: with the resched policy at "always yield
 * now", every unit of a zap between two lock drops removes at most one
 * leaf, even while another vCPU refills pages behind the zap's cursor at
 * each drop. (Tearing tables down in a valid root would remove a refilled
 * table, and every leaf in it, in one unit.)
 */
struct zap_units {
	struct mmu_vcpu *refiller;
	struct mmu *mmu;
	u64 last_zaps, max_per_unit, drops;
};

static void zap_unit_check(enum env_hook h, void *arg, void *ctx)
{
	struct zap_units *z = ctx;
	struct mmu_stats st;

	mmu_get_stats(z->mmu, &st);
	z->max_per_unit = MAX(z->max_per_unit, st.zaps - z->last_zaps);
	/* Refill behind the cursor: gfns the zap has passed. */
	if (z->drops++ < 600 && z->drops % 2 == 0)
		assert_int_equal(tmmu_fault(z->refiller, (z->drops / 2) << 12, MMU_ACC_WRITE),
				 MMU_FAULT_FIXED);
	mmu_get_stats(z->mmu, &st);
	z->last_zaps = st.zaps;
}

static void test_zap_units_bounded(void **state)
{
	struct tmmu *t = *state;
	struct zap_units z = { .mmu = t->mmu };
	struct mmu_stats st;

	z.refiller = mmu_vcpu_create(t->mmu, 1);
	tmmu_add_slot(t->mmu, 0, 0, 2 * MIB2_PAGES, BACKING + 1, 0); /* 4 KiB leaves */
	for (u64 g = 0; g < 2 * MIB2_PAGES; g++)
		assert_int_equal(tmmu_fault(t->v, g << 12, MMU_ACC_WRITE), MMU_FAULT_FIXED);
	mmu_get_stats(t->mmu, &st);
	z.last_zaps = st.zaps;
	env_hosted_bind_hook(HOOK_EXCL_YIELD, zap_unit_check, &z);
	env_hosted_set_resched(ENV_RESCHED_ALWAYS);
	ktest_step("zap with a yield per unit, refilling behind the cursor");
	mmu_zap_gfn_range(t->mmu, GFN(0), GFN(2 * MIB2_PAGES));
	env_hosted_set_resched(ENV_RESCHED_WHEN_CONTENDED);
	env_hosted_bind_hook(HOOK_EXCL_YIELD, NULL, NULL);
	mmu_get_stats(t->mmu, &st);
	assert_true(z.drops > 1000);
	if (z.max_per_unit > 1)
		fail_msg("one unit of a valid-root zap removed %llu leaves",
			 (unsigned long long)z.max_per_unit);
	tmmu_assert_verify(t->mmu);
	mmu_vcpu_destroy(z.refiller);
}

/* ---- host access to guest memory (mmu_host_access_begin/end) ---- */

struct host_delete {
	struct mmu *mmu;
	struct env_gate parked, release;
	bool syncing, done;
};
static struct host_delete *hd;

static void *host_delete_thread(void *arg)
{
	hd->done = false;
	assert_int_equal(mmu_slot_delete(hd->mmu, 1), 0);
	__atomic_store_n(&hd->done, true, __ATOMIC_RELEASE);
	return NULL;
}

static void host_delete_syncing(enum env_hook h, void *arg, void *ctx)
{
	__atomic_store_n(&hd->syncing, true, __ATOMIC_RELEASE);
}

static void host_delete_park(enum env_hook h, void *arg, void *ctx)
{
	env_gate_open(&hd->parked);
	env_gate_wait(&hd->release);
}

static void test_host_access(void **state)
{
	struct tmmu *t = *state;
	struct host_delete ctx = { .mmu = t->mmu };
	struct mmu_host_access a;
	u64 bitmap[1];
	pthread_t th;

	tmmu_add_slot(t->mmu, 0, 0x100, 16, BACKING, MEMSLOT_READONLY);
	tmmu_add_slot(t->mmu, 1, 0x200, 16, BACKING + 16, 0);
	tmmu_add_slot(t->mmu, 2, 0x300, 64, BACKING + 32, MEMSLOT_DIRTY_LOG);
	/* No slot; read-only slot refuses writes, allows reads. */
	assert_int_equal(mmu_host_access_begin(t->mmu, GFN(0x50), false, &a), -EFAULT);
	assert_int_equal(mmu_host_access_begin(t->mmu, GFN(0x101), true, &a), -EPERM);
	assert_int_equal(mmu_host_access_begin(t->mmu, GFN(0x101), false, &a), 0);
	assert_int_equal(a.hfn.v, BACKING + 1);
	mmu_host_access_end(&a);
	/* A host write to a dirty-logged slot is logged, once written (end). */
	assert_int_equal(mmu_host_access_begin(t->mmu, GFN(0x305), true, &a), 0);
	mmu_host_access_end(&a);
	assert_int_equal(mmu_host_access_begin(t->mmu, GFN(0x307), false, &a), 0);
	mmu_host_access_end(&a); /* reads are not */
	assert_int_equal(mmu_slot_get_dirty_log(t->mmu, 2, bitmap), 0);
	assert_int_equal(bitmap[0], BIT(5));

	/* The read side is held while the host uses the page: a deletion of
	 * the slot waits until end(); once the slot is invalid, begin says
	 * -EAGAIN and holds nothing. */
	hd = &ctx;
	env_gate_init(&ctx.parked);
	env_gate_init(&ctx.release);
	env_hosted_bind_hook(HOOK_SLOT_SYNC_BEGIN, host_delete_syncing, NULL);
	env_hosted_bind_hook(HOOK_ROOTS_INVALIDATED, host_delete_park, NULL);
	assert_int_equal(mmu_host_access_begin(t->mmu, GFN(0x201), true, &a), 0);
	assert_int_equal(pthread_create(&th, NULL, host_delete_thread, NULL), 0);
	ktest_step("host holds a page of slot 1; its deletion must wait");
	KTEST_SPIN_UNTIL(__atomic_load_n(&ctx.syncing, __ATOMIC_ACQUIRE), "the deleter syncing");
	for (int i = 0; i < 1000; i++)
		env_yield();
	assert_false(env_gate_is_open(&ctx.parked)); /* still waiting for us */
	mmu_host_access_end(&a);
	env_gate_wait(&ctx.parked);
	assert_int_equal(mmu_host_access_begin(t->mmu, GFN(0x201), false, &a), -EAGAIN);
	env_gate_open(&ctx.release);
	pthread_join(th, NULL);
	assert_true(ctx.done);
	env_hosted_bind_hook(HOOK_SLOT_SYNC_BEGIN, NULL, NULL);
	env_hosted_bind_hook(HOOK_ROOTS_INVALIDATED, NULL, NULL);
	assert_int_equal(mmu_host_access_begin(t->mmu, GFN(0x201), false, &a), -EFAULT);
	env_gate_destroy(&ctx.parked);
	env_gate_destroy(&ctx.release);
}

/* The level-1 entry mapping gfn in the only root (test-only access). */
static spte_t *leaf_sptep(struct mmu *mmu, u64 gfn)
{
	spte_t *pt = mmu->roots->pt->spt;

	for (int level = TDP_ROOT_LEVEL; level > 1; level--)
		pt = env_hpa_to_virt(spte_table_hpa(mmu->fmt, pt[tdp_level_index(gfn, level)]));
	return &pt[tdp_level_index(gfn, 1)];
}

static void expect_verify_failure(struct mmu *mmu, const char *needle)
{
	char why[256];

	assert_int_equal(mmu_verify(mmu, why, sizeof(why)), -EINVAL);
	if (!strstr(why, needle))
		fail_msg("mmu_verify said \"%s\", expected \"%s\"", why, needle);
}

/* mmu_verify is only useful if it can fail: corrupt the tables by hand and
 * check it names each problem, then repair. */
static void test_verify_detects_corruption(void **state)
{
	struct tmmu *t = *state;
	const struct spte_format *f = t->fmt;
	spte_t *sptep, good;

	tmmu_add_slot(t->mmu, 0, 0, 64, BACKING + 1, MEMSLOT_READONLY);
	tmmu_add_slot(t->mmu, 1, 64, 64, BACKING + 65, MEMSLOT_DIRTY_LOG);
	assert_int_equal(tmmu_fault(t->v, 3 << 12, MMU_ACC_READ), MMU_FAULT_FIXED);
	assert_int_equal(tmmu_fault(t->v, 70ull << 12, MMU_ACC_READ), MMU_FAULT_FIXED);
	tmmu_assert_verify(t->mmu);
	sptep = leaf_sptep(t->mmu, 3);
	good = *sptep;

	*sptep = spte_make_leaf(f, HFN(BACKING + 99), 1, MMU_ACC_READ);
	expect_verify_failure(t->mmu, "wrong host frame");
	*sptep = spte_make_leaf(f, HFN(BACKING + 4), 1, MMU_ACC_READ | MMU_ACC_WRITE);
	expect_verify_failure(t->mmu, "writable in read-only slot");
	*sptep = good;
	sptep = leaf_sptep(t->mmu, 70);
	good = *sptep;
	*sptep = spte_make_leaf(f, HFN(BACKING + 71), 1, MMU_ACC_READ | MMU_ACC_WRITE);
	expect_verify_failure(t->mmu, "not marked dirty");
	*sptep = good;
	sptep[5] = spte_make_leaf(f, HFN(BACKING + 76), 1, MMU_ACC_READ); /* gfn 75, uncounted */
	expect_verify_failure(t->mmu, "gauge says");
	sptep[5] = f->frozen;
	expect_verify_failure(t->mmu, "FROZEN");
	sptep[5] = 0;
	atomic_add(&t->mmu->shard[0].tables_in_use, 1);
	expect_verify_failure(t->mmu, "tables:");
	atomic_sub(&t->mmu->shard[0].tables_in_use, 1);
	atomic_add(&t->mmu->shard[0].maps[0], 1);
	expect_verify_failure(t->mmu, "leaves");
	atomic_sub(&t->mmu->shard[0].maps[0], 1);
	t->mmu->reclaim.reserved++; /* a deferred-free slot nobody holds */
	expect_verify_failure(t->mmu, "reclaim:");
	t->mmu->reclaim.reserved--;
	tmmu_assert_verify(t->mmu);
}

static int count_leaves;

static void leaf_counter(void *ctx, gfn_t gfn, hfn_t hfn, int level, u32 perms)
{
	u64 *last = ctx;

	assert_true(gfn.v >= *last); /* gfn order */
	*last = gfn.v;
	assert_int_equal(hfn.v, BACKING + gfn.v);
	count_leaves++;
}

static void test_for_each_leaf(void **state)
{
	struct tmmu *t = *state;
	u64 last = 0;

	tmmu_add_slot(t->mmu, 0, 0, 2 * MIB2_PAGES + 4, BACKING, 0);
	assert_int_equal(mmu_prefault(t->v, GPA(0), (2 * MIB2_PAGES + 4) * PAGE_SIZE), 0);
	count_leaves = 0;
	mmu_for_each_leaf(t->mmu, leaf_counter, &last);
	assert_int_equal(count_leaves, 2 + 4);
}

/* CPUs without 1 GiB (or 2 MiB) second-level pages. */
static void test_max_page_level(void **state)
{
	struct tmmu *t = *state;

	tmmu_add_slot(t->mmu, 0, GIB_PAGES, GIB_PAGES, BACKING, 0);
	assert_int_equal(tmmu_fault(t->v, SZ_1G, MMU_ACC_READ), MMU_FAULT_FIXED);
	assert_int_equal(tmmu_level_of(t->mmu, GIB_PAGES, NULL, NULL), 3);
	assert_int_equal(mmu_set_max_page_level(t->mmu, 2), 0);
	assert_int_equal(tmmu_level_of(t->mmu, GIB_PAGES, NULL, NULL), 0); /* zapped */
	assert_int_equal(tmmu_fault(t->v, SZ_1G, MMU_ACC_READ), MMU_FAULT_FIXED);
	assert_int_equal(tmmu_level_of(t->mmu, GIB_PAGES, NULL, NULL), 2);
	assert_int_equal(mmu_set_max_page_level(t->mmu, 1), 0);
	assert_int_equal(tmmu_fault(t->v, SZ_1G, MMU_ACC_READ), MMU_FAULT_FIXED);
	assert_int_equal(tmmu_level_of(t->mmu, GIB_PAGES, NULL, NULL), 1);
	assert_int_equal(mmu_set_max_page_level(t->mmu, 0), -EINVAL);
	assert_int_equal(mmu_set_max_page_level(t->mmu, 4), -EINVAL);
}

/* Moving a dirty-logged slot keeps its log (bits are per page of the slot). */
static void test_move_keeps_dirty_log(void **state)
{
	struct tmmu *t = *state;
	u64 bitmap[1];
	u32 perms = 0;

	tmmu_add_slot(t->mmu, 0, 0x100, 64, BACKING, MEMSLOT_DIRTY_LOG);
	assert_int_equal(tmmu_fault(t->v, 0x105ull << 12, MMU_ACC_WRITE), MMU_FAULT_FIXED);
	assert_int_equal(mmu_slot_move(t->mmu, 0, GFN(0x900)), 0);
	assert_int_equal(mmu_slot_get_dirty_log(t->mmu, 0, bitmap), 0);
	assert_int_equal(bitmap[0], BIT(5));
	/* Still logging at the new place: reads map read-only 4 KiB leaves. */
	assert_int_equal(mmu_prefault(t->v, GPA(0x900ull << 12), 64 * PAGE_SIZE), 0);
	assert_int_equal(tmmu_level_of(t->mmu, 0x905, NULL, &perms), 1);
	assert_false(perms & MMU_ACC_WRITE);
	assert_int_equal(mmu_slot_get_dirty_log(t->mmu, 0, bitmap), 0);
	assert_int_equal(bitmap[0], 0);
}

static void test_result_names(void **state)
{
	(void)state;
	assert_string_equal(mmu_fault_result_name(MMU_FAULT_RETRY_SLOT), "retry-slot");
	assert_string_equal(mmu_fault_result_name((enum mmu_fault_result)99), "?");
}

/* Each test twice, named after the format it runs on. */
#define FMT_TESTS(fn)                                                                    \
	{ #fn "_npt", fn, tmmu_setup, tmmu_teardown, (void *)&spte_format_npt },          \
	{ #fn "_ept", fn, tmmu_setup, tmmu_teardown, (void *)&spte_format_ept }

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		FMT_TESTS(test_fault_1g),
		FMT_TESTS(test_fault_2m),
		FMT_TESTS(test_fault_4k),
		FMT_TESTS(test_no_slot),
		FMT_TESTS(test_readonly_slot),
		FMT_TESTS(test_bad_slots),
		FMT_TESTS(test_zap_range),
		FMT_TESTS(test_zap_partial_huge),
		FMT_TESTS(test_zap_units_bounded),
		FMT_TESTS(test_invalidate_roots),
		FMT_TESTS(test_slot_move_delete),
		FMT_TESTS(test_dirty_log_cycle),
		FMT_TESTS(test_dirty_log_split_nomem),
		FMT_TESTS(test_alloc_failure),
		FMT_TESTS(test_evict),
		FMT_TESTS(test_prefault),
		FMT_TESTS(test_host_access),
		FMT_TESTS(test_verify_detects_corruption),
		FMT_TESTS(test_for_each_leaf),
		FMT_TESTS(test_max_page_level),
		FMT_TESTS(test_move_keeps_dirty_log),
		cmocka_unit_test(test_result_names),
	};

	return ktest_run_group("unit_mmu", tests, argc, argv);
}
