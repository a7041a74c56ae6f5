/* SPDX-License-Identifier: MIT */
/*
 * Second-level page-table entries (SPTEs) behind one abstraction.
 *
 * A struct spte_format is a table of masks: which bits make an entry present
 * for the hardware, grant write or execute, mark a huge leaf, carry the
 * accessed/dirty flags and the frame address, which levels may hold leaves,
 * and one special FROZEN value. Generic code (this file's helpers, the
 * walker, the fault path) builds and decodes entries only through it; the
 * formats themselves are spte_npt.c (AMD) and spte_ept.c (Intel).
 *
 * Levels count from the leaf: 1 = 4 KiB entries, 2 = 2 MiB, 3 = 1 GiB,
 * 4 = the root (PML4-equivalent, 512 GiB per entry). 4-level tables give a
 * 48-bit guest-physical space.
 *
 * Keel pre-sets the accessed bit in every entry and the dirty bit in every
 * writable leaf, so hardware never has to write entries back: dirty logging
 * works by write protection, not by hardware D bits.
 *
 * FROZEN is non-present for the hardware and means "someone is in the middle
 * of a multi-step change of this entry". Nobody installs over it or acts on
 * it except the thread that froze it.
 */
#pragma once

#include <keel/types.h>
#include "mmu/atomic.h"

#define TDP_ROOT_LEVEL 4
#define TDP_PTES_PER_TABLE 512
#define TDP_GFN_BITS 36                 /* 48-bit gpa */
#define TDP_MAX_GFN (1ull << TDP_GFN_BITS)

struct spte_format {
	const char *name;
	u64 present_mask;  /* any of these set: present for the hardware */
	u64 read_mask;     /* grants read */
	u64 write_mask;    /* grants write */
	u64 exec_mask;     /* grants execute (EPT X); 0 when the format uses NX */
	u64 nx_mask;       /* forbids execute (NPT bit 63); 0 when it uses X */
	u64 always_mask;   /* set in every present entry (NPT U bit) */
	u64 huge_mask;     /* leaf above level 1 (PS) */
	u64 accessed_mask;
	u64 dirty_mask;
	u64 leaf_extra;    /* set in every leaf (EPT memory type WB) */
	u64 addr_mask;     /* frame address bits */
	u64 frozen;        /* non-present marker for multi-step changes */
	u8 leaf_levels;    /* BIT(level) for each level that may be a leaf */
};

typedef u64 spte_t;

static inline u64 tdp_level_pages(int level)
{
	return 1ull << (9 * (level - 1));
}

static inline unsigned tdp_level_index(u64 gfn, int level)
{
	return (gfn >> (9 * (level - 1))) & (TDP_PTES_PER_TABLE - 1);
}

static inline spte_t spte_read(const spte_t *p)
{
	return atomic_read(p);
}

static inline bool spte_present(const struct spte_format *f, spte_t s)
{
	return (s & f->present_mask) != 0;
}

static inline bool spte_frozen(const struct spte_format *f, spte_t s)
{
	return s == f->frozen;
}

static inline bool spte_is_leaf(const struct spte_format *f, spte_t s, int level)
{
	return spte_present(f, s) && (level == 1 || (s & f->huge_mask));
}

static inline bool spte_is_table(const struct spte_format *f, spte_t s, int level)
{
	return spte_present(f, s) && !spte_is_leaf(f, s, level);
}

static inline bool spte_writable(const struct spte_format *f, spte_t s)
{
	return spte_present(f, s) && (s & f->write_mask);
}

spte_t spte_make_leaf(const struct spte_format *f, hfn_t hfn, int level, u32 perms);
spte_t spte_make_table(const struct spte_format *f, hpa_t table);
spte_t spte_wrprot(const struct spte_format *f, spte_t s);
hfn_t spte_leaf_hfn(const struct spte_format *f, spte_t s, int level);
hpa_t spte_table_hpa(const struct spte_format *f, spte_t s);
u32 spte_perms(const struct spte_format *f, spte_t s);   /* MMU_ACC_* */
bool spte_level_can_leaf(const struct spte_format *f, int level);
