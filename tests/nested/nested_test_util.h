/* SPDX-License-Identifier: MIT */
/*
 * A fake L1 for the nested MMU's hosted tests: L1 "physical" memory is a
 * 1 GiB-aligned anonymous mapping (only touched pages cost memory) backing
 * one memslot, and L1's nested page table (NPT12) is built in it by hand,
 * entry by entry, the way an L1 hypervisor would.
 */
#pragma once

#include <sys/mman.h>
#include <stdlib.h>
#include <string.h>
#include "tests/unit/mmu_test_util.h"
#include "mmu/nested_internal.h"
#include "mmu/tdp_iter.h"

#define N_P   BIT(0)
#define N_RW  BIT(1)
#define N_US  BIT(2)
#define N_A   BIT(5)
#define N_D   BIT(6)
#define N_PS  BIT(7)
#define N_NX  BIT(63)
#define N_ALL (N_P | N_RW | N_US)

struct fake_l1 {
	struct mmu *mmu;
	void *map;
	size_t map_len;
	u8 *mem;          /* L1 gpa 0, 1 GiB aligned */
	u64 npages;       /* slot 0: L1 gfns [0, npages) */
	u64 next_table;   /* bump allocator for NPT12 tables (L1 gfn) */
	u64 table_limit;
};

static inline void fl1_init_mmu(struct fake_l1 *f, struct mmu *mmu, u64 npages, u32 flags)
{
	size_t len = npages * PAGE_SIZE + SZ_1G;
	uintptr_t p;

	memset(f, 0, sizeof(*f));
	f->mmu = mmu;
	f->map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		      -1, 0);
	if (f->map == MAP_FAILED)
		abort();
	f->map_len = len;
	p = ALIGN_UP((uintptr_t)f->map, SZ_1G);
	f->mem = (u8 *)p;
	f->npages = npages;
	f->next_table = 16;       /* NPT12 tables from L1 gfn 16 up */
	f->table_limit = 512;     /* ... below 2 MiB */
	if (mmu) {
		struct memslot_desc d = { .id = 0, .base_gfn = GFN(0), .npages = npages,
					  .backing = HFN(p >> PAGE_SHIFT), .flags = flags };

		if (mmu_slot_add(mmu, &d))
			abort();
	}
}

static inline void fl1_fini(struct fake_l1 *f)
{
	munmap(f->map, f->map_len);
}

static inline u64 fl1_hfn(const struct fake_l1 *f, u64 l1gfn)
{
	return ((uintptr_t)f->mem >> PAGE_SHIFT) + l1gfn;
}

static inline u64 *fl1_ptr(const struct fake_l1 *f, u64 gpa)
{
	return (u64 *)(f->mem + gpa);
}

static inline u64 fl1_alloc_table(struct fake_l1 *f)
{
	u64 gpa = f->next_table++ << PAGE_SHIFT;

	if (f->next_table > f->table_limit)
		abort();
	memset(fl1_ptr(f, gpa), 0, PAGE_SIZE);
	return gpa;
}

/* The NPT12 entry for l2gpa at 'level' under ncr3, creating tables above it
 * (P|RW|US) as needed. */
static inline u64 *fl1_entry(struct fake_l1 *f, u64 ncr3, u64 l2gpa, int level)
{
	u64 table = ncr3;

	for (int l = 4; l > level; l--) {
		u64 *e = fl1_ptr(f, table) + ((l2gpa >> (12 + 9 * (l - 1))) & 511);
		u64 v = __atomic_load_n(e, __ATOMIC_ACQUIRE);

		if (!(v & N_P) || (v & N_PS)) {
			v = fl1_alloc_table(f) | N_ALL;
			__atomic_store_n(e, v, __ATOMIC_RELEASE);
		}
		table = v & GENMASK(51, 12);
	}
	return fl1_ptr(f, table) + ((l2gpa >> (12 + 9 * (level - 1))) & 511);
}

/* Map l2gpa -> l1gpa with a leaf at 'level' and these flags (P/RW/US/NX). */
static inline void fl1_map(struct fake_l1 *f, u64 ncr3, u64 l2gpa, u64 l1gpa, int level,
			   u64 flags)
{
	u64 v = l1gpa | flags | (level > 1 ? N_PS : 0);

	__atomic_store_n(fl1_entry(f, ncr3, l2gpa, level), v, __ATOMIC_RELEASE);
}

/* The host frame the vCPU's shadow maps l2gpa to, or 0. */
static inline u64 lookup_hfn(struct nmmu_vcpu *nv, u64 l2gpa)
{
	struct nmmu_lookup l;

	return nmmu_debug_lookup(nv, NGFN(l2gpa >> PAGE_SHIFT), &l) ? l.hfn.v : 0;
}

static const struct nmmu_npt_mode fl1_mode = { .lma = true, .maxphyaddr = 48, .nx = true, .gbpages = true };

static inline void nassert_verify(struct nmmu *n)
{
	char why[256];

	if (nmmu_verify(n, why, sizeof(why)))
		fail_msg("nmmu_verify: %s", why);
	tmmu_assert_verify(n->l1);
}

/* Enter L2 (root for ncr3/asid) then take the NPF, like the run loop. */
static inline enum nmmu_fault_result nfault(struct nmmu_vcpu *nv, u64 ncr3, u32 asid, u64 l2gpa,
					    u32 access, struct nmmu_fault_out *out)
{
	hpa_t root;
	bool flush;
	enum nmmu_fault_result r = NMMU_FAULT_RETRY;

	for (int i = 0; i < 8 && (r == NMMU_FAULT_RETRY || r == NMMU_FAULT_RETRY_SLOT); i++) {
		if (nmmu_root_get(nv, GPA(ncr3), asid, &fl1_mode, &root, &flush))
			return NMMU_FAULT_NOMEM;
		r = nmmu_page_fault(nv, NGPA(l2gpa), access, NPF_FINAL_GPA, out);
	}
	return r;
}

/* The usual fixture: 2 GiB of L1 memory in slot 0, NPT12 top table at NCR3,
 * a nested MMU with 4 roots and one nested vCPU. */
#define L1_PAGES (2 * GIB_PAGES)
#define NCR3 0x1000ull
#define ASID 1

struct nt {
	struct fake_l1 f;
	struct nmmu *n;
	struct nmmu_vcpu *nv;
};

static inline int nt_setup(void **state)
{
	struct nt *t = test_calloc(1, sizeof(*t));

	env_hosted_reset();
	fl1_init_mmu(&t->f, mmu_create(&spte_format_npt), L1_PAGES, 0);
	memset(fl1_ptr(&t->f, NCR3), 0, PAGE_SIZE);
	t->n = nmmu_create(t->f.mmu, 4);
	assert_non_null(t->n);
	t->nv = nmmu_vcpu_create(t->n, 0);
	assert_non_null(t->nv);
	*state = t;
	return 0;
}

static inline int nt_teardown(void **state)
{
	struct nt *t = *state;

	nassert_verify(t->n);
	nmmu_vcpu_destroy(t->nv);
	nmmu_destroy(t->n);
	mmu_destroy(t->f.mmu);
	assert_int_equal(env_hosted_pages_live(), 0);
	fl1_fini(&t->f);
	env_hosted_reset();
	test_free(t);
	return 0;
}

