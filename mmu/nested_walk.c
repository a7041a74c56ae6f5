// SPDX-License-Identifier: MIT
/*
 * The NPT12 walk: L2 guest-physical -> L1 guest-physical through L1's
 * long-mode nested page table, as the hardware does it (APM vol. 2, "Nested
 * Paging" and "Page Translation and Protection").
 *
 * It is the one walker (mmu/tdp_iter.c) over the NPT entry format
 * (spte_format_npt), with a guest-memory accessor: each table address is an
 * L1 guest-physical address, looked up in L1's memslots under the slot read
 * side. A table in no slot is reflected to L1 as a not-present fault, and a
 * table in a slot being changed ends the walk with RETRY_SLOT; nothing
 * outside L1's memory is ever read or written.
 *
 * Checks per entry, top down: present, reserved bits (MAXPHYADDR, NX without
 * EFER.NXE, PS where it is reserved, the MBZ bits of PML4Es and huge leaves);
 * then the accumulated permissions: nested walks are user accesses (U must be
 * set at every level), W is the AND of the RW bits, NX at any level forbids
 * fetches. On success the accessed bits of every level and the dirty bit of
 * the leaf (writes) are set with a compare-exchange on L1 memory, and the
 * table pages written are marked in L1's dirty log. A lost compare-exchange
 * or an entry that changed while walking restarts the walk (bounded).
 */
#include "mmu/nested_internal.h"
#include "mmu/tdp_iter.h"

#define NPT_P   BIT(0)
#define NPT_RW  BIT(1)
#define NPT_US  BIT(2)
#define NPT_A   BIT(5)
#define NPT_D   BIT(6)
#define NPT_PS  BIT(7)
#define NPT_NX  BIT(63)
#define WALK_RESTARTS 4

enum { MEM_NO_SLOT = 1, MEM_IN_FLUX = 2 };

struct l1_mem {
	struct tdp_mem mem;
	struct nmmu *n;
	const struct memslot *slot[TDP_ROOT_LEVEL + 1]; /* of each level's table */
	u64 gfn[TDP_ROOT_LEVEL + 1];
	int next_level;                                 /* level of the next table mapped */
};

u32 nmmu_mode_bits(const struct nmmu_npt_mode *m)
{
	return m->maxphyaddr | (m->nx ? BIT(8) : 0) | (m->gbpages ? BIT(9) : 0);
}

bool nmmu_mode_ok(const struct nmmu_npt_mode *m)
{
	return m->lma && m->maxphyaddr >= 32 && m->maxphyaddr <= 52;
}

/* The accessor: an L1 table address to its host mapping (slot read side). */
static spte_t *l1_map(const struct tdp_mem *mem, u64 addr, int *err)
{
	struct l1_mem *m = container_of(mem, struct l1_mem, mem);
	u64 gfn = addr >> PAGE_SHIFT;
	const struct memslot *slot = NULL;
	int level = m->next_level--;

	if (gfn < TDP_MAX_GFN)
		slot = slots_find_gfn(slots_deref(m->n->l1), gfn);
	if (!slot || slot->invalid) {
		*err = slot ? MEM_IN_FLUX : MEM_NO_SLOT;
		return NULL;
	}
	MMU_ASSERT(level >= 1 && level <= TDP_ROOT_LEVEL);
	m->slot[level] = slot;
	m->gfn[level] = gfn;
	return env_hpa_to_virt(hfn_to_hpa(slot_gfn_to_hfn(slot, gfn)));
}

static u64 rsvd_mask(const struct nmmu_npt_mode *m, int level, spte_t e)
{
	u64 r = m->maxphyaddr < 52 ? GENMASK(51, m->maxphyaddr) : 0;

	if (!m->nx)
		r |= NPT_NX;
	if (level == 4)
		return r | NPT_PS | BIT(8);
	if (!(e & NPT_PS) || level == 1)
		return r | (level == 3 ? BIT(8) : 0);
	if (level == 3)
		return m->gbpages ? r | GENMASK(29, 13) : r | NPT_PS;
	return r | GENMASK(20, 13);
}

static u64 walk_error(const struct nmmu_npt_mode *m, u32 access, u64 bits)
{
	u64 ec = bits | NPF_U;

	if (access & MMU_ACC_WRITE)
		ec |= NPF_W;
	if ((access & MMU_ACC_EXEC) && m->nx)
		ec |= NPF_ID;
	return ec;
}

/* Set A (all levels) and D (leaf, writes) where missing; false if an entry
 * changed under us. Tables in read-only slots are left alone, like KVM. */
static bool set_accessed_dirty(struct l1_mem *m, struct tdp_iter *it, const spte_t *vals,
			       int leaf_level, u32 access)
{
	for (int level = TDP_ROOT_LEVEL; level >= leaf_level; level--) {
		spte_t *p = &it->path[level][tdp_level_index(it->gfn, level)];
		spte_t want = vals[level] | NPT_A, old = vals[level];
		const struct memslot *slot = m->slot[level];

		if (level == leaf_level && (access & MMU_ACC_WRITE))
			want |= NPT_D;
		if (want == old || (slot->d.flags & MEMSLOT_READONLY)) {
			if (spte_read(p) != old)
				return false;
			continue;
		}
		if (!atomic_cmpxchg(p, &old, want))
			return false;
		nmmu_count(&m->n->c.ad_updates);
		if (slot->d.flags & MEMSLOT_DIRTY_LOG)
			slot_dirty_mark(slot, m->gfn[level]); /* after the write */
	}
	return true;
}

static enum nwalk_result walk_once(struct nmmu *n, const struct nmmu_npt_mode *mode, u64 ncr3,
				   struct nwalk *w, bool *restart)
{
	struct l1_mem m = { .mem.map = l1_map, .n = n, .next_level = TDP_ROOT_LEVEL };
	spte_t vals[TDP_ROOT_LEVEL + 1] = { 0 };
	bool user = true, write = true, exec = true;
	struct tdp_iter it;
	spte_t *root;
	int err = 0;

	*restart = false;
	root = l1_map(&m.mem, ncr3 & spte_format_npt.addr_mask, &err);
	if (!root)
		goto no_table;
	tdp_iter_start_mem(&it, &spte_format_npt, &m.mem, root, GFN(w->l2gfn),
			   GFN(w->l2gfn + 1), 1);
	for (; it.valid && it.gfn < it.end; tdp_iter_next(&it)) {
		spte_t e = it.old;

		if (!(e & NPT_P)) {
			w->error_code = walk_error(mode, w->access, 0);
			return NWALK_FAULT;
		}
		if (e & rsvd_mask(mode, it.level, e)) {
			w->error_code = walk_error(mode, w->access, NPF_P | NPF_RSVD);
			return NWALK_FAULT;
		}
		vals[it.level] = e;
		user &= !!(e & NPT_US);
		write &= !!(e & NPT_RW);
		exec &= !(mode->nx && (e & NPT_NX));
		if (it.level > 1 && !(e & NPT_PS))
			continue; /* a table: the walker descends through the accessor */
		w->level = it.level;
		w->perms = MMU_ACC_READ | (write ? MMU_ACC_WRITE : 0) | (exec ? MMU_ACC_EXEC : 0);
		if (!user || (w->access & ~w->perms)) {
			w->error_code = walk_error(mode, w->access, NPF_P);
			return NWALK_FAULT;
		}
		w->dirty = (e & NPT_D) || (w->access & MMU_ACC_WRITE);
		w->l1gfn = spte_leaf_hfn(&spte_format_npt, e, it.level).v +
			   (w->l2gfn & (tdp_level_pages(it.level) - 1));
		*restart = !set_accessed_dirty(&m, &it, vals, it.level, w->access);
		return NWALK_OK;
	}
	err = it.mem_err;
no_table:
	if (err == MEM_IN_FLUX)
		return NWALK_RETRY_SLOT;
	/* NPT12 points outside L1's memory: L1 sees a not-present fault. */
	w->error_code = walk_error(mode, w->access, 0);
	return NWALK_FAULT;
}

enum nwalk_result nested_walk(struct nmmu *n, const struct nmmu_npt_mode *mode, u64 ncr3,
			      struct nwalk *w)
{
	enum nwalk_result r = NWALK_FAULT;
	bool restart = true;

	MMU_ASSERT(srcu_read_held(&n->l1->slots_srcu));
	w->error_code = 0;
	if (w->l2gfn >= TDP_MAX_GFN) {
		w->error_code = walk_error(mode, w->access, 0);
		return NWALK_FAULT;
	}
	for (int i = 0; i < WALK_RESTARTS && restart; i++)
		r = walk_once(n, mode, ncr3, w, &restart);
	if (restart)
		return NWALK_RETRY; /* L1 keeps rewriting the entries: re-enter and retry */
	return r;
}
