// SPDX-License-Identifier: MIT
/*
 * L1's nested page table (NPT): the long-mode 4-level format, tables from
 * a fixed pool in L1 memory, leaves of 4 KiB, 2 MiB or 1 GiB. L1 is
 * identity-mapped, so a table's L1 address is also its pointer.
 */
#include <keel/string.h>
#include "guest/nested/nested.h"

#define NPT_TABLE_FLAGS (PTE_P | PTE_W | PTE_U)

static u64 pool_used, root;

static u64 *table_at(u64 pa)
{
	return (u64 *)(uintptr_t)(pa & PTE_ADDR);
}

static u64 table_alloc(void)
{
	u64 pa;

	if (pool_used >= L1_NPT_POOL_PAGES)
		return 0;
	pa = L1_NPT_POOL + pool_used++ * SZ_4K;
	memset(table_at(pa), 0, SZ_4K);
	return pa;
}

void npt_init(bool page1gb)
{
	(void)page1gb;
	pool_used = 0;
	root = table_alloc();
}

u64 npt_root(void)
{
	return root;
}

static unsigned index_at(u64 l2, unsigned level) /* level 4 = PML4 ... 1 = PT */
{
	return (unsigned)(l2 >> (12 + 9 * (level - 1))) & 511;
}

/* The entry for l2 at 'level', creating the tables above it when 'make'. */
static u64 *entry_at(u64 l2, unsigned level, bool make)
{
	u64 *t = table_at(root);

	for (unsigned l = 4; l > level; l--) {
		u64 *e = &t[index_at(l2, l)];

		if (!(*e & PTE_P)) {
			u64 pa = make ? table_alloc() : 0;

			if (!pa)
				return NULL;
			*e = pa | NPT_TABLE_FLAGS;
		} else if (*e & PTE_PS) {
			return NULL; /* a larger leaf covers it */
		}
		t = table_at(*e);
	}
	return &t[index_at(l2, level)];
}

bool npt_map(ngpa_t l2, gpa_t l1, u64 size, u64 flags)
{
	unsigned level = size == SZ_1G ? 3 : size == SZ_2M ? 2 : 1;
	u64 *e;

	if (!IS_ALIGNED(l2.v, size) || !IS_ALIGNED(l1.v, size))
		return false;
	e = entry_at(l2.v, level, true);
	if (!e)
		return false;
	*e = l1.v | flags | (level > 1 ? PTE_PS : 0);
	return true;
}

/* An existing 4 KiB table entry (present or not) or larger leaf for l2. */
u64 *npt_leaf(ngpa_t l2)
{
	u64 *t = table_at(root);

	for (unsigned l = 4; l >= 1; l--) {
		u64 *e = &t[index_at(l2.v, l)];

		if (l == 1 || (*e & PTE_PS))
			return e;
		if (!(*e & PTE_P))
			return NULL;
		t = table_at(*e);
	}
	return NULL;
}

u64 npt_clone_with(ngpa_t l2, gpa_t l1, u64 flags)
{
	u64 new_root = table_alloc(), *from = table_at(root), *to;

	if (!new_root)
		return 0;
	to = table_at(new_root);
	for (unsigned l = 4; l > 1; l--) {
		unsigned i = index_at(l2.v, l);
		u64 next;

		memcpy(to, from, SZ_4K);
		if (!(from[i] & PTE_P) || (from[i] & PTE_PS) || !(next = table_alloc()))
			return 0;
		to[i] = next | NPT_TABLE_FLAGS;
		from = table_at(from[i]);
		to = table_at(next);
	}
	memcpy(to, from, SZ_4K);
	to[index_at(l2.v, 1)] = l1.v | flags;
	return new_root;
}
