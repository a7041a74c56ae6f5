/* SPDX-License-Identifier: MIT */
/* Helpers shared by the MMU unit and seed tests (cmocka). */
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "tests/unit/ktest.h"
#include <keel/types.h>
#include <keel/errno.h>
#include "mmu/mmu.h"
#include "mmu/mmu_debug.h"
#include "mmu/env_hosted.h"

#define GIB_PAGES (SZ_1G / PAGE_SIZE)
#define MIB2_PAGES (SZ_2M / PAGE_SIZE)

struct tmmu {
	struct mmu *mmu;
	struct mmu_vcpu *v;
	const struct spte_format *fmt;
};

/* cmocka state: the format to test, passed as prestate. */
static inline int tmmu_setup(void **state)
{
	struct tmmu *t = test_calloc(1, sizeof(*t));

	env_hosted_reset();
	t->fmt = *state ? *state : &spte_format_npt;
	t->mmu = mmu_create(t->fmt);
	assert_non_null(t->mmu);
	t->v = mmu_vcpu_create(t->mmu, 0);
	assert_non_null(t->v);
	*state = t;
	return 0;
}

static inline void tmmu_assert_verify(struct mmu *mmu)
{
	char why[256];
	int r = mmu_verify(mmu, why, sizeof(why));

	if (r)
		fail_msg("mmu_verify: %s", why);
}

static inline int tmmu_teardown(void **state)
{
	struct tmmu *t = *state;

	tmmu_assert_verify(t->mmu);
	mmu_vcpu_destroy(t->v);
	mmu_destroy(t->mmu);
	assert_int_equal(env_hosted_pages_live(), 0);
	env_hosted_reset();
	test_free(t);
	return 0;
}

static inline void tmmu_add_slot(struct mmu *mmu, u16 id, u64 base_gfn, u64 npages,
				 u64 backing, u32 flags)
{
	struct memslot_desc d = {
		.id = id, .base_gfn = GFN(base_gfn), .npages = npages,
		.backing = HFN(backing), .flags = flags,
	};

	assert_int_equal(mmu_slot_add(mmu, &d), 0);
}

/* A vCPU's view: load the root, then fault; like a run loop, retry a few
 * times when told to. */
static inline enum mmu_fault_result tmmu_fault(struct mmu_vcpu *v, u64 gpa, u32 access)
{
	enum mmu_fault_result r = MMU_FAULT_RETRY;

	for (int i = 0; i < 8 && (r == MMU_FAULT_RETRY); i++) {
		hpa_t root;
		bool flush;

		assert_int_equal(mmu_vcpu_load_root(v, &root, &flush), 0);
		r = mmu_page_fault(v, GPA(gpa), access);
	}
	return r;
}

static inline int tmmu_level_of(struct mmu *mmu, u64 gfn, hfn_t *hfn, u32 *perms)
{
	hfn_t h;
	int level;
	u32 p;

	if (!mmu_debug_lookup(mmu, GFN(gfn), &h, &level, &p))
		return 0;
	if (hfn)
		*hfn = h;
	if (perms)
		*perms = p;
	return level;
}
