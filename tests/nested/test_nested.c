// SPDX-License-Identifier: MIT
/*
 * The nested MMU's unit tests (docs/nested-mmu.md): the NPT12 walk and its
 * reflected faults with their architectural EXITINFO1, the composition of
 * leaf sizes and permissions, the flush rule, the root cache, the TDP MMU's
 * reductions reaching shadow entries, dirty logging, allocation failure, the
 * root generation (seed 003), slots in flux (seed 004), and the guest mode
 * of kicked (SMP) nested vCPUs.
 */
#include <pthread.h>
#include "tests/nested/nested_test_util.h"

static struct nmmu_lookup lookup(struct nt *t, u64 l2gpa)
{
	struct nmmu_lookup l = { 0 };

	if (!nmmu_debug_lookup(t->nv, NGFN(l2gpa >> PAGE_SHIFT), &l))
		l.level = 0;
	return l;
}

static enum nmmu_fault_result fault(struct nt *t, u64 l2gpa, u32 access, struct nmmu_fault_out *o)
{
	return nfault(t->nv, NCR3, ASID, l2gpa, access, o);
}

/* 4 KiB, 2 MiB and 1 GiB NPT12 leaves over 1 GiB-capable L1 memory: the
 * shadow leaf has NPT12's size and maps the right host frame. */
static void test_leaf_sizes(void **state)
{
	struct nt *t = *state;
	struct nmmu_fault_out o;
	struct nmmu_lookup l;

	fl1_map(&t->f, NCR3, 0x5000, 0x40003000, 1, N_ALL);
	fl1_map(&t->f, NCR3, 0x80000000, 0x40200000, 2, N_ALL);
	fl1_map(&t->f, NCR3, 0x100000000, 0x40000000, 3, N_ALL);
	assert_int_equal(fault(t, 0x5000, MMU_ACC_READ, &o), NMMU_FAULT_FIXED);
	assert_int_equal(o.level, 1);
	assert_int_equal(fault(t, 0x80001000, MMU_ACC_WRITE, &o), NMMU_FAULT_FIXED);
	assert_int_equal(o.level, 2);
	assert_int_equal(fault(t, 0x100123000, MMU_ACC_EXEC, &o), NMMU_FAULT_FIXED);
	assert_int_equal(o.level, 3);
	l = lookup(t, 0x5000);
	assert_int_equal(l.hfn.v, fl1_hfn(&t->f, 0x40003));
	l = lookup(t, 0x80001000);
	assert_int_equal(l.level, 2);
	assert_int_equal(l.hfn.v, fl1_hfn(&t->f, 0x40201));
	l = lookup(t, 0x100123000);
	assert_int_equal(l.hfn.v, fl1_hfn(&t->f, 0x40123));
	/* The same access again: already mapped. */
	assert_int_equal(fault(t, 0x5000, MMU_ACC_READ, &o), NMMU_FAULT_SPURIOUS);
	nassert_verify(t->n);
}

/* Keel's own leaf is the limit: with 2 MiB TDP leaves a 1 GiB NPT12 leaf is
 * shadowed by 2 MiB leaves; an unaligned L1 slot gives 4 KiB. */
static void test_level_is_min_of_both(void **state)
{
	struct nt *t = *state;
	struct nmmu_fault_out o;

	assert_int_equal(mmu_set_max_page_level(t->f.mmu, 2), 0);
	fl1_map(&t->f, NCR3, 0x100000000, 0x40000000, 3, N_ALL);
	assert_int_equal(fault(t, 0x100400000, MMU_ACC_READ, &o), NMMU_FAULT_FIXED);
	assert_int_equal(o.level, 2);
	assert_int_equal(lookup(t, 0x100400000).hfn.v, fl1_hfn(&t->f, 0x40400));
	/* An L1 2 MiB leaf onto an L1 slot whose backing is not 2 MiB-congruent:
	 * the TDP MMU would map it at 4 KiB, so does the shadow. */
	struct memslot_desc d = { .id = 2, .base_gfn = GFN(L1_PAGES), .npages = 1024,
				  .backing = HFN(fl1_hfn(&t->f, 1)), .flags = 0 };

	assert_int_equal(mmu_slot_add(t->f.mmu, &d), 0);
	fl1_map(&t->f, NCR3, 0x200000, L1_PAGES << 12, 2, N_ALL);
	assert_int_equal(fault(t, 0x201000, MMU_ACC_READ, &o), NMMU_FAULT_FIXED);
	assert_int_equal(o.level, 1);
	assert_int_equal(lookup(t, 0x201000).hfn.v, fl1_hfn(&t->f, 2));
	nassert_verify(t->n);
}

/* Permissions are the intersection of NPT12 and the L1 slot. */
static void test_perm_intersection(void **state)
{
	struct nt *t = *state;
	struct nmmu_fault_out o;
	struct memslot_desc d = { .id = 1, .base_gfn = GFN(L1_PAGES), .npages = 512,
				  .backing = HFN(fl1_hfn(&t->f, 0)), .flags = MEMSLOT_READONLY };
	struct nmmu_lookup l;

	assert_int_equal(mmu_slot_add(t->f.mmu, &d), 0); /* L1 ROM aliasing the first 2 MiB */
	fl1_map(&t->f, NCR3, 0x7000, 0x3000, 1, N_P | N_US);            /* L1: read-only */
	fl1_map(&t->f, NCR3, 0x8000, (L1_PAGES << 12) + 0x4000, 1, N_ALL); /* L1 RW, slot RO */
	assert_int_equal(fault(t, 0x7000, MMU_ACC_READ, &o), NMMU_FAULT_FIXED);
	l = lookup(t, 0x7000);
	assert_int_equal(l.perms, MMU_ACC_READ | MMU_ACC_EXEC);
	assert_int_equal(fault(t, 0x7000, MMU_ACC_WRITE, &o), NMMU_FAULT_REFLECT);
	assert_int_equal(fault(t, 0x8000, MMU_ACC_READ, &o), NMMU_FAULT_FIXED);
	assert_int_equal(lookup(t, 0x8000).perms, MMU_ACC_READ | MMU_ACC_EXEC);
	assert_int_equal(fault(t, 0x8000, MMU_ACC_WRITE, &o), NMMU_FAULT_L1_PERM);
	assert_int_equal(o.l1_gpa.v, (L1_PAGES << 12) + 0x4000);
	/* NX in NPT12: no execute. */
	fl1_map(&t->f, NCR3, 0x9000, 0x5000, 1, N_ALL | N_NX);
	assert_int_equal(fault(t, 0x9000, MMU_ACC_WRITE, &o), NMMU_FAULT_FIXED);
	assert_int_equal(lookup(t, 0x9000).perms, MMU_ACC_READ | MMU_ACC_WRITE);
	nassert_verify(t->n);
}

/* The architectural EXITINFO1 of each reflected fault (kvm-unit-tests'
 * svm_npt expectations), EXITINFO2 = the L2 address. */
static void test_reflected_exitinfo(void **state)
{
	struct nt *t = *state;
	struct nmmu_fault_out o;
	hpa_t root;
	bool flush;

	fl1_map(&t->f, NCR3, 0x10000, 0x20000, 1, N_P | N_US);  /* read-only */
	fl1_map(&t->f, NCR3, 0x11000, 0x21000, 1, N_P | N_RW);  /* supervisor */
	fl1_map(&t->f, NCR3, 0x12000, 0x22000, 1, N_ALL | N_NX);
	fl1_map(&t->f, NCR3, 0x13000, 0x23000 | BIT(50), 1, N_ALL); /* reserved (48-bit) */

	assert_int_equal(fault(t, 0x14567, MMU_ACC_READ, &o), NMMU_FAULT_REFLECT);
	assert_int_equal(o.exitinfo1, 0x100000004ull);
	assert_int_equal(o.exitinfo2, 0x14567);
	assert_int_equal(fault(t, 0x10000, MMU_ACC_WRITE, &o), NMMU_FAULT_REFLECT);
	assert_int_equal(o.exitinfo1, 0x100000007ull);
	assert_int_equal(fault(t, 0x11000, MMU_ACC_READ, &o), NMMU_FAULT_REFLECT);
	assert_int_equal(o.exitinfo1, 0x100000005ull);
	assert_int_equal(fault(t, 0x12000, MMU_ACC_EXEC, &o), NMMU_FAULT_REFLECT);
	assert_int_equal(o.exitinfo1, 0x100000015ull);
	assert_int_equal(fault(t, 0x13000, MMU_ACC_READ, &o), NMMU_FAULT_REFLECT);
	assert_int_equal(o.exitinfo1, 0x10000000dull);
	/* A reserved bit in a PML4E, found while L2 walked its own page table:
	 * the hardware's bit 33 is passed on. */
	*fl1_ptr(&t->f, NCR3 + 8 * 1) = fl1_alloc_table(&t->f) | N_ALL | N_PS;
	assert_int_equal(nmmu_root_get(t->nv, GPA(NCR3), ASID, &fl1_mode, &root, &flush), 0);
	assert_int_equal(nmmu_page_fault(t->nv, NGPA(SZ_1G * 512), MMU_ACC_WRITE, NPF_GPT_WALK, &o),
			 NMMU_FAULT_REFLECT);
	assert_int_equal(o.exitinfo1, 0x20000000full);
	/* NPT12 points outside L1 memory: not present, never a host access. */
	*fl1_ptr(&t->f, NCR3 + 8 * 2) = ((L1_PAGES << 12) + SZ_1G) | N_ALL;
	assert_int_equal(fault(t, SZ_1G * 1024, MMU_ACC_READ, &o), NMMU_FAULT_REFLECT);
	assert_int_equal(o.exitinfo1, 0x100000004ull);
	/* A leaf in no L1 slot: L1 MMIO, emulated by the caller. */
	fl1_map(&t->f, NCR3, 0x15000, 0xfee00000000ull, 1, N_ALL);
	assert_int_equal(fault(t, 0x15030, MMU_ACC_READ, &o), NMMU_FAULT_L1_MMIO);
	assert_int_equal(o.l1_gpa.v, 0xfee00000030ull);
	nassert_verify(t->n);
}

/* A/D bits in NPT12 are set as hardware sets them, and the NPT12 table
 * pages written are marked in L1's dirty log. */
static void test_accessed_dirty(void **state)
{
	struct nt *t = *state;
	struct nmmu_fault_out o;
	static u64 bitmap[L1_PAGES / 64];
	u64 *pte;

	fl1_map(&t->f, NCR3, 0x30000, 0x31000, 1, N_ALL);
	pte = fl1_entry(&t->f, NCR3, 0x30000, 1);
	assert_int_equal(mmu_slot_set_flags(t->f.mmu, 0, MEMSLOT_DIRTY_LOG), 0);
	assert_int_equal(fault(t, 0x30000, MMU_ACC_READ, &o), NMMU_FAULT_FIXED);
	assert_true(*pte & N_A);
	assert_false(*pte & N_D);
	assert_true(*fl1_ptr(&t->f, NCR3) & N_A);
	/* A clean leaf is shadowed read-only: L2's first write comes back. */
	assert_int_equal(lookup(t, 0x30000).perms & MMU_ACC_WRITE, 0);
	assert_int_equal(fault(t, 0x30000, MMU_ACC_WRITE, &o), NMMU_FAULT_FIXED);
	assert_true(*pte & N_D);
	assert_true(lookup(t, 0x30000).perms & MMU_ACC_WRITE);
	assert_int_equal(mmu_slot_get_dirty_log(t->f.mmu, 0, bitmap), 0);
	assert_true(bitmap[(NCR3 >> 12) / 64] & BIT((NCR3 >> 12) % 64)); /* top table written */
	assert_true(bitmap[0x31 / 64] & BIT(0x31 % 64));          /* the L2 write */
	nassert_verify(t->n);
}

/* The flush rule: a removed NPT12 entry may stay until L1 flushes; after the
 * flush it is gone. Not-present -> present needs no flush. */
static void test_flush_rule(void **state)
{
	struct nt *t = *state;
	struct nmmu_fault_out o;
	hpa_t root;
	bool flush;

	assert_int_equal(fault(t, 0x40000, MMU_ACC_READ, &o), NMMU_FAULT_REFLECT);
	fl1_map(&t->f, NCR3, 0x40000, 0x50000, 1, N_ALL);               /* no flush */
	assert_int_equal(fault(t, 0x40000, MMU_ACC_READ, &o), NMMU_FAULT_FIXED);
	assert_int_equal(lookup(t, 0x40000).hfn.v, fl1_hfn(&t->f, 0x50));
	fl1_map(&t->f, NCR3, 0x40000, 0x60000, 1, N_ALL);               /* remap */
	assert_int_equal(lookup(t, 0x40000).hfn.v, fl1_hfn(&t->f, 0x50)); /* allowed: no flush yet */
	nmmu_flush_asid(t->n, ASID + 1);                                 /* another ASID */
	assert_int_equal(lookup(t, 0x40000).hfn.v, fl1_hfn(&t->f, 0x50));
	nmmu_flush_asid(t->n, ASID);
	assert_int_equal(lookup(t, 0x40000).level, 0);
	assert_int_equal(nmmu_root_get(t->nv, GPA(NCR3), ASID, &fl1_mode, &root, &flush), 0);
	assert_true(flush); /* the shadow lost entries: Keel flushes L2's ASID */
	assert_int_equal(fault(t, 0x40000, MMU_ACC_READ, &o), NMMU_FAULT_FIXED);
	assert_int_equal(lookup(t, 0x40000).hfn.v, fl1_hfn(&t->f, 0x60));
	/* Write-protect in NPT12 + INVLPGA: the write is reflected. */
	*fl1_entry(&t->f, NCR3, 0x40000, 1) &= ~N_RW;
	assert_int_equal(fault(t, 0x40000, MMU_ACC_WRITE, &o), NMMU_FAULT_REFLECT);
	nmmu_invlpga(t->n, ASID, GVA(0x1234000));
	assert_int_equal(lookup(t, 0x40000).level, 0);
	nassert_verify(t->n);
}

/* Walk-only translation for the emulator: L1 address or the NPF L1 would
 * get (here for an emulated access to L2's page table: bit 33), nothing
 * installed. */
static void test_translate(void **state)
{
	struct nt *t = *state;
	struct nmmu_fault_out o;
	struct nmmu_stats st;

	fl1_map(&t->f, NCR3, 0x80000000, 0x40200000, 2, N_P | N_US);
	assert_int_equal(fault(t, 0x5000, MMU_ACC_READ, &o), NMMU_FAULT_REFLECT); /* a root */
	assert_int_equal(nmmu_translate(t->nv, NGPA(0x80012345), MMU_ACC_READ, NPF_FINAL_GPA, &o),
			 NMMU_FAULT_FIXED);
	assert_int_equal(o.l1_gpa.v, 0x40212345);
	assert_int_equal(o.level, 2);
	assert_true(*fl1_entry(&t->f, NCR3, 0x80000000, 2) & N_A);
	assert_int_equal(nmmu_translate(t->nv, NGPA(0x80012345), MMU_ACC_WRITE, NPF_GPT_WALK, &o),
			 NMMU_FAULT_REFLECT);
	assert_int_equal(o.exitinfo1, 0x200000007ull);
	assert_int_equal(o.exitinfo2, 0x80012345);
	assert_int_equal(lookup(t, 0x80012345).level, 0);
	nmmu_get_stats(t->n, &st);
	assert_int_equal(st.maps_2m + st.maps_4k, 0);
}

/* Roots are cached per (nCR3, ASID), bounded, recycled LRU. */
static void test_root_cache(void **state)
{
	struct nt *t = *state;
	struct nmmu_stats st;
	hpa_t r1, r2, r3;
	bool flush;

	assert_int_equal(nmmu_root_get(t->nv, GPA(NCR3), 1, &fl1_mode, &r1, &flush), 0);
	assert_true(flush);
	assert_int_equal(nmmu_root_get(t->nv, GPA(NCR3), 1, &fl1_mode, &r2, &flush), 0);
	assert_false(flush);
	assert_int_equal(r1.v, r2.v);
	assert_int_equal(nmmu_root_get(t->nv, GPA(NCR3), 2, &fl1_mode, &r2, &flush), 0);
	assert_true(flush);
	assert_int_not_equal(r1.v, r2.v);
	assert_int_equal(nmmu_root_get(t->nv, GPA(0x2000), 1, &fl1_mode, &r3, &flush), 0);
	assert_int_equal(nmmu_root_get(t->nv, GPA(0x3000), 1, &fl1_mode, &r3, &flush), 0);
	assert_int_equal(nmmu_root_get(t->nv, GPA(0x4000), 1, &fl1_mode, &r3, &flush), 0);
	nmmu_get_stats(t->n, &st);
	assert_int_equal(st.root_hits, 1);
	assert_int_equal(st.root_misses, 5);
	assert_int_equal(st.root_recycled, 1); /* 4 roots: (NCR3,1) was the oldest */
	assert_int_equal(nmmu_root_get(t->nv, GPA(NCR3), 0, &fl1_mode, &r3, &flush), -EINVAL);
	{
		struct nmmu_npt_mode legacy = fl1_mode;

		legacy.lma = false; /* PAE / 32-bit NPT12: not shadowed */
		assert_int_equal(nmmu_root_get(t->nv, GPA(NCR3), 1, &legacy, &r3, &flush), -EINVAL);
	}
	nassert_verify(t->n);
}

/* Every reduction of Keel's mapping of L1 memory reaches the shadow before
 * it returns: zap, slot delete, eviction. */
static void test_reductions_reach_shadow(void **state)
{
	struct nt *t = *state;
	struct nmmu_fault_out o;

	fl1_map(&t->f, NCR3, 0x100000000, 0x40000000, 3, N_ALL);
	fl1_map(&t->f, NCR3, 0x5000, 0x6000, 1, N_ALL);
	assert_int_equal(fault(t, 0x100000000, MMU_ACC_WRITE, &o), NMMU_FAULT_FIXED);
	assert_int_equal(fault(t, 0x5000, MMU_ACC_WRITE, &o), NMMU_FAULT_FIXED);
	mmu_zap_gfn_range(t->f.mmu, GFN(0x40000), GFN(0x40001));
	assert_int_equal(lookup(t, 0x100000000).level, 0);
	assert_int_equal(fault(t, 0x100000000, MMU_ACC_WRITE, &o), NMMU_FAULT_FIXED);
	mmu_evict(t->f.mmu);
	assert_int_equal(lookup(t, 0x100000000).level, 0);
	assert_int_equal(fault(t, 0x5000, MMU_ACC_WRITE, &o), NMMU_FAULT_FIXED);
	assert_int_equal(mmu_slot_delete(t->f.mmu, 0), 0);
	assert_int_equal(lookup(t, 0x5000).level, 0);
	/* NPT12 itself was in the deleted slot. */
	assert_int_equal(fault(t, 0x5000, MMU_ACC_READ, &o), NMMU_FAULT_REFLECT);
	nassert_verify(t->n);
}

/* Dirty logging on L1 memory: start splits shadow huge leaves into
 * read-only 4 KiB leaves; a write marks the L1 page; harvest write-protects. */
static void test_dirty_logging(void **state)
{
	struct nt *t = *state;
	static u64 bitmap[L1_PAGES / 64];
	struct nmmu_fault_out o;
	struct nmmu_lookup l;
	struct nmmu_stats st;

	fl1_map(&t->f, NCR3, 0x100000000, 0x40000000, 3, N_ALL);
	assert_int_equal(fault(t, 0x100000000, MMU_ACC_WRITE, &o), NMMU_FAULT_FIXED);
	assert_int_equal(mmu_slot_set_flags(t->f.mmu, 0, MEMSLOT_DIRTY_LOG), 0);
	l = lookup(t, 0x100003000);
	assert_int_equal(l.level, 1);
	assert_int_equal(l.perms & MMU_ACC_WRITE, 0);
	nmmu_get_stats(t->n, &st);
	assert_int_equal(st.splits, 1 + 512);
	assert_int_equal(fault(t, 0x100003000, MMU_ACC_WRITE, &o), NMMU_FAULT_FIXED);
	l = lookup(t, 0x100003000);
	assert_true(l.perms & MMU_ACC_WRITE);
	assert_true(l.dirty_ok);
	nassert_verify(t->n);
	assert_int_equal(mmu_slot_get_dirty_log(t->f.mmu, 0, bitmap), 0);
	assert_true(bitmap[0x40003 / 64] & BIT(0x40003 % 64));
	assert_int_equal(lookup(t, 0x100003000).perms & MMU_ACC_WRITE, 0);
	/* Reads keep a read-only leaf. */
	assert_int_equal(fault(t, 0x100004000, MMU_ACC_READ, &o), NMMU_FAULT_SPURIOUS);
	nassert_verify(t->n);
	assert_int_equal(mmu_slot_set_flags(t->f.mmu, 0, 0), 0);
	assert_int_equal(fault(t, 0x100004000, MMU_ACC_READ, &o), NMMU_FAULT_FIXED);
	assert_int_equal(o.level, 3); /* huge again once logging stopped */
	nassert_verify(t->n);
}

/* Dirty-log start without memory for split tables: each shadow huge leaf
 * is zapped instead (never retried from the start), and L2 refaults it at
 * 4 KiB. */
static void test_dirty_log_split_nomem(void **state)
{
	struct nt *t = *state;
	struct nmmu_fault_out o;
	struct nmmu_stats st;

	fl1_map(&t->f, NCR3, 0x100000000, 0x40000000, 3, N_ALL);
	fl1_map(&t->f, NCR3, 0x80000000, 0x40200000, 2, N_ALL);
	assert_int_equal(fault(t, 0x100000000, MMU_ACC_WRITE, &o), NMMU_FAULT_FIXED);
	assert_int_equal(fault(t, 0x80000000, MMU_ACC_WRITE, &o), NMMU_FAULT_FIXED);
	env_hosted_fail_page_alloc_every(1);
	assert_int_equal(mmu_slot_set_flags(t->f.mmu, 0, MEMSLOT_DIRTY_LOG), 0);
	env_hosted_fail_page_alloc_every(0);
	nmmu_get_stats(t->n, &st);
	assert_int_equal(st.splits, 0);
	assert_int_equal(st.maps_1g + st.maps_2m + st.maps_4k, 0);
	nassert_verify(t->n);
	assert_int_equal(fault(t, 0x100001000, MMU_ACC_WRITE, &o), NMMU_FAULT_FIXED);
	assert_int_equal(o.level, 1);
	nassert_verify(t->n);
}

/* Shadow table allocation fails: NOMEM, nothing half-installed; eviction
 * (by the caller, holding nothing) makes room. */
static void test_nomem_and_evict(void **state)
{
	struct nt *t = *state;
	struct nmmu_fault_out o;
	hpa_t root;
	bool flush;

	fl1_map(&t->f, NCR3, 0x5000, 0x6000, 1, N_ALL);
	fl1_map(&t->f, NCR3, 0x7fff0000000ull, 0x7000, 1, N_ALL);
	assert_int_equal(fault(t, 0x5000, MMU_ACC_READ, &o), NMMU_FAULT_FIXED);
	env_hosted_fail_page_alloc_every(1);
	assert_int_equal(nmmu_page_fault(t->nv, NGPA(0x7fff0000000ull), MMU_ACC_READ,
					 NPF_FINAL_GPA, &o),
			 NMMU_FAULT_NOMEM);
	env_hosted_fail_page_alloc_every(0);
	nassert_verify(t->n);
	nmmu_evict(t->n);
	assert_int_equal(lookup(t, 0x5000).level, 0);
	assert_int_equal(nmmu_root_get(t->nv, GPA(NCR3), ASID, &fl1_mode, &root, &flush), 0);
	assert_true(flush);
	assert_int_equal(fault(t, 0x7fff0000000ull, MMU_ACC_READ, &o), NMMU_FAULT_FIXED);
	nassert_verify(t->n);
}

/* Seed 003 on the nested MMU: L1 flushes between the NPT12 walk and the
 * install; the walked translation is not installed. */
static struct nt *gen_t;
static void flush_after_walk(enum nmmu_hook h, void *arg, void *ctx)
{
	if (h == NMMU_HOOK_WALKED) {
		fl1_map(&gen_t->f, NCR3, 0x5000, 0x9000, 1, N_ALL);
		nmmu_flush_asid(gen_t->n, ASID);
	}
}

static void test_generation_checked_at_install(void **state)
{
	struct nt *t = *state;
	struct nmmu_fault_out o;
	hpa_t root;
	bool flush;

	gen_t = t;
	fl1_map(&t->f, NCR3, 0x5000, 0x6000, 1, N_ALL);
	assert_int_equal(nmmu_root_get(t->nv, GPA(NCR3), ASID, &fl1_mode, &root, &flush), 0);
	nmmu_set_hook(t->n, flush_after_walk, NULL);
	assert_int_equal(nmmu_page_fault(t->nv, NGPA(0x5000), MMU_ACC_READ, NPF_FINAL_GPA, &o),
			 NMMU_FAULT_RETRY);
	nmmu_set_hook(t->n, NULL, NULL);
	assert_int_equal(lookup(t, 0x5000).level, 0);
	assert_int_equal(fault(t, 0x5000, MMU_ACC_READ, &o), NMMU_FAULT_FIXED);
	assert_int_equal(lookup(t, 0x5000).hfn.v, fl1_hfn(&t->f, 0x9));
}

/* Seed 004 on the nested MMU: an L2 fault meeting an L1 slot in flux returns
 * RETRY_SLOT having left the slot read side (the deleter would wait for it). */
static enum nmmu_fault_result flux_result;
static void fault_during_delete(enum env_hook h, void *arg, void *ctx)
{
	struct nmmu_fault_out o;

	if (flux_result != NMMU_FAULT_FIXED)
		return; /* only at the first publish (slot marked invalid) */
	flux_result = nmmu_page_fault(gen_t->nv, NGPA(0x5000), MMU_ACC_READ, NPF_FINAL_GPA, &o);
	MMU_ASSERT(!srcu_read_held(&gen_t->f.mmu->slots_srcu));
}

static void test_slot_in_flux_retries_outside(void **state)
{
	struct nt *t = *state;
	struct nmmu_fault_out o;

	gen_t = t;
	fl1_map(&t->f, NCR3, 0x5000, 0x6000, 1, N_ALL);
	assert_int_equal(fault(t, 0x6000, MMU_ACC_READ, &o), NMMU_FAULT_REFLECT);
	flux_result = NMMU_FAULT_FIXED;
	env_hosted_bind_hook(HOOK_SLOT_SYNC_BEGIN, fault_during_delete, NULL);
	assert_int_equal(mmu_slot_delete(t->f.mmu, 0), 0);
	env_hosted_bind_hook(HOOK_SLOT_SYNC_BEGIN, NULL, NULL);
	assert_int_equal(flux_result, NMMU_FAULT_RETRY_SLOT);
	assert_int_equal(lookup(t, 0x5000).level, 0);
}

/* Regression: a harvest that runs while a root's drop (here L1's flush) has
 * yielded must still write-protect that root's writable leaves; the drop
 * used to clear the root's footprint first, so the harvest skipped it. */
static int drop_hook_done;
static char drop_hook_why[256];
static void harvest_during_drop(enum env_hook h, void *arg, void *ctx)
{
	static u64 bitmap[L1_PAGES / 64];

	if (arg != gen_t->n->sm || drop_hook_done++)
		return;
	mmu_slot_get_dirty_log(gen_t->f.mmu, 0, bitmap);
	if (nmmu_verify(gen_t->n, drop_hook_why, sizeof(drop_hook_why)) == 0)
		drop_hook_why[0] = 0;
}

static void test_harvest_during_drop(void **state)
{
	struct nt *t = *state;
	struct nmmu_fault_out o;

	gen_t = t;
	drop_hook_done = 0;
	assert_int_equal(mmu_slot_set_flags(t->f.mmu, 0, MEMSLOT_DIRTY_LOG), 0);
	for (u64 i = 0; i < 4; i++) {
		fl1_map(&t->f, NCR3, 0x5000 + i * PAGE_SIZE, 0x6000 + i * PAGE_SIZE, 1, N_ALL);
		assert_int_equal(fault(t, 0x5000 + i * PAGE_SIZE, MMU_ACC_WRITE, &o),
				 NMMU_FAULT_FIXED);
	}
	fl1_map(&t->f, NCR3, 0x80000000, 0x20000, 1, N_ALL); /* far ahead of the cursor */
	assert_int_equal(fault(t, 0x80000000, MMU_ACC_WRITE, &o), NMMU_FAULT_FIXED);
	env_hosted_set_resched(ENV_RESCHED_ALWAYS);
	env_hosted_bind_hook(HOOK_EXCL_YIELD, harvest_during_drop, NULL);
	nmmu_flush_asid(t->n, ASID);
	env_hosted_bind_hook(HOOK_EXCL_YIELD, NULL, NULL);
	env_hosted_set_resched(ENV_RESCHED_WHEN_CONTENDED);
	assert_true(drop_hook_done > 0);
	if (drop_hook_why[0])
		fail_msg("during the drop: %s", drop_hook_why);
}

/*
 * The flush decisions against a model TLB for L2's ASID: it caches what L2
 * used; before each L2 entry nmmu_root_get's 'flush' empties it. After every
 * entry the TLB may hold nothing the shadow no longer grants: L1's flushes,
 * zaps, dirty logging and eviction all take something away.
 */
#define TLB_PAGES 64
static void test_tlb_model(void **state)
{
	static u64 bitmap[L1_PAGES / 64];
	struct nt *t = *state;
	struct { bool valid; u64 hfn; u32 perms; } tlb[TLB_PAGES] = { { 0 } };
	struct nmmu_fault_out o;
	u64 rs = 12345;

	for (u64 i = 0; i < TLB_PAGES; i++)
		fl1_map(&t->f, NCR3, 0x100000 + i * PAGE_SIZE, 0x200000 + i * PAGE_SIZE, 1, N_ALL);
	for (int step = 0; step < 3000; step++) {
		u64 r = (rs = rs * 6364136223846793005ull + 1442695040888963407ull) >> 33;
		u64 i = r % TLB_PAGES, l2 = 0x100000 + i * PAGE_SIZE;
		struct nmmu_lookup l;
		hpa_t root;
		bool flush;

		switch ((r >> 8) % 8) {
		case 0: /* L1 remaps or write-protects, then flushes its ASID */
			fl1_map(&t->f, NCR3, l2, 0x200000 + ((r >> 12) % 256) * PAGE_SIZE, 1,
				r & BIT(20) ? N_ALL : N_P | N_US);
			if (r & BIT(21))
				nmmu_flush_asid(t->n, ASID);
			break;
		case 1:
			mmu_zap_gfn_range(t->f.mmu, GFN(0x200 + (r >> 12) % 256), GFN(0x300));
			break;
		case 2:
			mmu_slot_set_flags(t->f.mmu, 0, r & BIT(12) ? MEMSLOT_DIRTY_LOG : 0);
			break;
		case 3:
			mmu_slot_get_dirty_log(t->f.mmu, 0, bitmap);
			break;
		case 4:
			if (!(r & 0xf0))
				nmmu_evict(t->n);
			break;
		default: /* L2 runs and touches page i */
			break;
		}
		assert_int_equal(nmmu_root_get(t->nv, GPA(NCR3), ASID, &fl1_mode, &root, &flush), 0);
		if (flush)
			memset(tlb, 0, sizeof(tlb));
		for (u64 k = 0; k < TLB_PAGES; k++) {
			if (!tlb[k].valid)
				continue;
			if (!nmmu_debug_lookup(t->nv, NGFN((0x100000 >> 12) + k), &l) ||
			    l.hfn.v != tlb[k].hfn || (tlb[k].perms & ~l.perms))
				fail_msg("step %d: the TLB kept l2 page %llu after the shadow lost it "
					 "without a flush", step, (unsigned long long)k);
		}
		if ((r >> 8) % 8 >= 5) {
			u32 acc = r & BIT(13) ? MMU_ACC_WRITE : MMU_ACC_READ;
			enum nmmu_fault_result fr = nmmu_page_fault(t->nv, NGPA(l2), acc,
								    NPF_FINAL_GPA, &o);

			if ((fr == NMMU_FAULT_FIXED || fr == NMMU_FAULT_SPURIOUS) &&
			    nmmu_debug_lookup(t->nv, NGFN(l2 >> 12), &l))
				tlb[i].valid = true, tlb[i].hfn = l.hfn.v, tlb[i].perms = l.perms;
		}
	}
	mmu_slot_set_flags(t->f.mmu, 0, 0);
}

/* SMP (keel.efi): a nested vCPU with a kick is in guest mode on the shadow
 * MMU from nmmu_root_get until nmmu_vcpu_exit_guest. A drop of the root it
 * runs on (L1's flush on another vCPU) kicks it and waits until it has left;
 * once outside it is not kicked, and its next entry flushes. */
static struct nmmu_vcpu *kicked_nv;
static unsigned kicks;

static void kick_leaves_l2(void *arg)
{
	(void)arg;
	kicks++;
	nmmu_vcpu_exit_guest(kicked_nv); /* the IPI's exit from L2 */
}

static void test_kick_waits_for_l2(void **state)
{
	struct nt *t = *state;
	struct nmmu_fault_out o;
	hpa_t root;
	bool flush;

	fl1_map(&t->f, NCR3, 0x40000, 0x50000, 1, N_ALL);
	kicked_nv = nmmu_vcpu_create(t->n, 1);
	assert_non_null(kicked_nv);
	nmmu_vcpu_set_kick(kicked_nv, kick_leaves_l2, NULL);
	kicks = 0;
	assert_int_equal(nfault(kicked_nv, NCR3, ASID, 0x40000, MMU_ACC_READ, &o), NMMU_FAULT_FIXED);
	assert_int_equal(nmmu_root_get(kicked_nv, GPA(NCR3), ASID, &fl1_mode, &root, &flush), 0);
	nmmu_flush_asid(t->n, ASID);                   /* "in L2": kicked, waited for */
	assert_true(kicks >= 1);
	assert_int_equal(nmmu_root_get(kicked_nv, GPA(NCR3), ASID, &fl1_mode, &root, &flush), 0);
	assert_true(flush);
	assert_int_equal(nfault(kicked_nv, NCR3, ASID, 0x40000, MMU_ACC_READ, &o), NMMU_FAULT_FIXED);
	nmmu_vcpu_exit_guest(kicked_nv);               /* left L2 */
	kicks = 0;
	nmmu_flush_asid(t->n, ASID);
	assert_int_equal(kicks, 0);                    /* outside: nothing to wait for */
	assert_int_equal(nmmu_root_get(kicked_nv, GPA(NCR3), ASID, &fl1_mode, &root, &flush), 0);
	assert_true(flush);
	nmmu_vcpu_exit_guest(kicked_nv);
	nmmu_vcpu_destroy(kicked_nv);
}

#define NT(fn) cmocka_unit_test_setup_teardown(fn, nt_setup, nt_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		NT(test_leaf_sizes),
		NT(test_level_is_min_of_both),
		NT(test_perm_intersection),
		NT(test_reflected_exitinfo),
		NT(test_accessed_dirty),
		NT(test_flush_rule),
		NT(test_translate),
		NT(test_root_cache),
		NT(test_reductions_reach_shadow),
		NT(test_dirty_logging),
		NT(test_dirty_log_split_nomem),
		NT(test_nomem_and_evict),
		NT(test_generation_checked_at_install),
		NT(test_slot_in_flux_retries_outside),
		NT(test_harvest_during_drop),
		NT(test_tlb_model),
		NT(test_kick_waits_for_l2),
	};

	return cmocka_run_group_tests_name("unit_nested", tests, NULL, NULL);
}
