// SPDX-License-Identifier: MIT
/*
 * Seed 002 on the nested MMU (docs/seeds/002.md): a TDP-MMU fault
 * holding mmu_lock for read made L1's NPT page writable and, on the way,
 * marked the nested shadow page unsync: non-atomic read-modify-writes of
 * shadow-page metadata from several CPUs, counters corrupted.
 *
 * Keel's nested MMU has no unsync state and no write tracking: coherence
 * with L1's NPT12 edits comes from L1's flushes (docs/nested-mmu.md, "flush
 * rule"). So a TDP fault on an NPT12 page writes nothing of the nested MMU,
 * and everything the nested MMU does own is changed under its lock only.
 */
#include "tests/nested/nested_seeds.h"

enum { ROLE_MAIN, ROLE_L2 };
static _Thread_local int role;

struct s2 {
	struct nt *t;
	struct nmmu_vcpu *nv2;
	struct env_gate parked, release;
	enum nmmu_fault_result r2;
	u64 tdp_faults_under_nested_lock;
};
static struct s2 *g;

static void park_l2(enum nmmu_hook h, void *arg, void *ctx)
{
	if (h != NMMU_HOOK_BEFORE_INSTALL || role != ROLE_L2)
		return;
	env_gate_open(&g->parked);
	env_gate_wait(&g->release);
}

/* On the TDP fault path (shared lock, about to install): the nested lock is
 * not held by this thread. */
static void tdp_install_hook(enum env_hook h, void *arg, void *ctx)
{
	if (lock_held_mode(&g->t->n->sm->lock))
		__atomic_add_fetch(&g->tdp_faults_under_nested_lock, 1, __ATOMIC_SEQ_CST);
}

static void *l2_vcpu(void *arg)
{
	struct nmmu_fault_out o;

	role = ROLE_L2;
	g->r2 = nfault(g->nv2, NCR3, ASID, 0x9000, MMU_ACC_WRITE, &o);
	return NULL;
}

struct snap {
	u64 gen[4], footprint[4], users[4];
	struct nmmu_stats st;
};

static void snapshot(struct nmmu *n, struct snap *s)
{
	struct nmmu_excl nx = nmmu_lock(n);

	for (int i = 0; i < 4; i++) {
		s->gen[i] = n->roots[i].gen;
		s->footprint[i] = n->roots[i].footprint;
		s->users[i] = n->roots[i].users;
	}
	nmmu_unlock(&nx);
	nmmu_get_stats(n, &s->st);
}

/* L1 write-faults on its own NPT12 pages (as it does to edit them) while an
 * L2 fault is parked inside the nested lock: the TDP faults complete, map
 * the NPT12 pages writable, and change no nested state. L1's edit becomes
 * visible to L2 through L1's flush. */
void seed002_nested_tdp_fault_touches_no_nested_state(void **state)
{
	struct nt *t = *state;
	struct mmu_vcpu *l1v = mmu_vcpu_create(t->f.mmu, 0);
	struct s2 c = { .t = t, .nv2 = nmmu_vcpu_create(t->n, 1) };
	struct nmmu_fault_out o;
	struct nwatchdog wd;
	struct snap before, after;
	hfn_t hfn;
	int level;
	u32 perms;
	pthread_t th;

	g = &c;
	env_gate_init(&c.parked);
	env_gate_init(&c.release);
	fl1_map(&t->f, NCR3, 0x5000, 0x6000, 1, N_ALL);
	fl1_map(&t->f, NCR3, 0x9000, 0xa000, 1, N_ALL);
	assert_int_equal(nfault(t->nv, NCR3, ASID, 0x5000, MMU_ACC_WRITE, &o), NMMU_FAULT_FIXED);
	assert_int_equal(nfault(c.nv2, NCR3, ASID, 0x5000, MMU_ACC_READ, &o), NMMU_FAULT_SPURIOUS);
	assert_int_equal(mmu_set_max_page_level(t->f.mmu, 1), 0); /* NPT12 pages get own leaves */
	assert_int_equal(nfault(t->nv, NCR3, ASID, 0x5000, MMU_ACC_WRITE, &o), NMMU_FAULT_FIXED);
	snapshot(t->n, &before);
	nwatchdog_start(&wd, "seed002_nested_tdp_fault_touches_no_nested_state", 60);
	env_hosted_bind_hook(HOOK_FAULT_BEFORE_INSTALL, tdp_install_hook, NULL);
	nmmu_set_hook(t->n, park_l2, NULL);
	assert_int_equal(pthread_create(&th, NULL, l2_vcpu, NULL), 0);
	env_gate_wait(&c.parked);
	/* Every NPT12 table page: L1 maps it writable for its own edits. */
	for (u64 gfn = 16; gfn < t->f.next_table; gfn++) {
		assert_int_equal(tmmu_fault(l1v, gfn << PAGE_SHIFT, MMU_ACC_WRITE), MMU_FAULT_FIXED);
		assert_true(mmu_debug_lookup(t->f.mmu, GFN(gfn), &hfn, &level, &perms));
		assert_true(perms & MMU_ACC_WRITE);
	}
	assert_int_equal(tmmu_fault(l1v, NCR3, MMU_ACC_WRITE), MMU_FAULT_FIXED);
	env_gate_open(&c.release);
	pthread_join(th, NULL);
	nwatchdog_stop(&wd);
	env_hosted_bind_hook(HOOK_FAULT_BEFORE_INSTALL, NULL, NULL);
	nmmu_set_hook(t->n, NULL, NULL);
	assert_int_equal(c.r2, NMMU_FAULT_FIXED);
	assert_int_equal(c.tdp_faults_under_nested_lock, 0);
	snapshot(t->n, &after);
	/* Only the parked L2 fault changed nested state: one more leaf. */
	assert_memory_equal(before.gen, after.gen, sizeof(before.gen));
	assert_int_equal(after.st.maps_4k, before.st.maps_4k + 1);
	assert_int_equal(after.st.root_zaps, before.st.root_zaps);
	/* L1 edits NPT12 (a plain write into its now-writable page) and flushes. */
	fl1_map(&t->f, NCR3, 0x5000, 0xb000, 1, N_ALL);
	assert_int_equal(lookup_hfn(c.nv2, 0x5000), fl1_hfn(&t->f, 0x6));
	nmmu_flush_asid(t->n, ASID);
	assert_int_equal(nfault(c.nv2, NCR3, ASID, 0x5000, MMU_ACC_READ, &o), NMMU_FAULT_FIXED);
	assert_int_equal(lookup_hfn(c.nv2, 0x5000), fl1_hfn(&t->f, 0xb));
	nassert_verify(t->n);
	nmmu_vcpu_destroy(c.nv2);
	mmu_vcpu_destroy(l1v);
	env_gate_destroy(&c.parked);
	env_gate_destroy(&c.release);
}

struct hammer {
	struct nt *t;
	struct nmmu_vcpu *nv;
	struct mmu_vcpu *l1v;
	unsigned id;
	int stop;
};

static void *l2_hammer(void *arg)
{
	struct hammer *h = arg;
	struct nmmu_fault_out o;

	for (u64 i = 0; i < 3000; i++) {
		u64 l2 = 0x100000 + ((i * 31 + h->id * 7) % 256) * PAGE_SIZE;
		u32 acc = (i + h->id) % 3 ? MMU_ACC_READ : MMU_ACC_WRITE;

		if (nfault(h->nv, NCR3, ASID + (i & 1), l2, acc, &o) == NMMU_FAULT_NOMEM)
			nmmu_evict(h->t->n);
	}
	return NULL;
}

/* L1 rewrites NPT12 entries through its TDP mapping and flushes. */
static void *l1_editor(void *arg)
{
	struct hammer *h = arg;
	struct fake_l1 *f = &h->t->f;

	for (u64 i = 0; i < 3000; i++) {
		u64 l2 = 0x100000 + (i % 256) * PAGE_SIZE;
		u64 *e = fl1_entry(f, NCR3, l2, 1);

		if (tmmu_fault(h->l1v, ((uintptr_t)e - (uintptr_t)f->mem) & PAGE_MASK,
			       MMU_ACC_WRITE) == MMU_FAULT_NOMEM)
			mmu_evict(f->mmu);
		__atomic_store_n(e, (0x400000 + ((i * 13) % 512) * PAGE_SIZE) | N_ALL,
				 __ATOMIC_RELEASE);
		if (i % 16 == 0)
			nmmu_flush_asid(h->t->n, ASID + (i / 16) % 2);
		if (i % 97 == 0)
			nmmu_flush_all(h->t->n);
	}
	return NULL;
}

/* The KVM bug's symptom was counters corrupted by unlocked updates: three
 * L2 vCPUs, L1 editing its NPT12 through TDP write faults and flushing, and
 * occasional allocation failures; afterwards every count is exact. */
void seed002_nested_counts_exact_under_concurrency(void **state)
{
	struct nt *t = *state;
	struct hammer h[3];
	struct hammer ed = { .t = t, .l1v = mmu_vcpu_create(t->f.mmu, 9) };
	struct nwatchdog wd;
	pthread_t th[3], te;

	for (u64 i = 0; i < 256; i++)
		fl1_map(&t->f, NCR3, 0x100000 + i * PAGE_SIZE, 0x400000 + i * PAGE_SIZE, 1, N_ALL);
	nwatchdog_start(&wd, "seed002_nested_counts_exact_under_concurrency", 300);
	env_hosted_fail_page_alloc_every(41);
	for (unsigned i = 0; i < 3; i++) {
		h[i] = (struct hammer){ .t = t, .nv = i ? nmmu_vcpu_create(t->n, i) : t->nv, .id = i };
		assert_non_null(h[i].nv);
		assert_int_equal(pthread_create(&th[i], NULL, l2_hammer, &h[i]), 0);
	}
	assert_int_equal(pthread_create(&te, NULL, l1_editor, &ed), 0);
	for (unsigned i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	pthread_join(te, NULL);
	env_hosted_fail_page_alloc_every(0);
	nwatchdog_stop(&wd);
	nassert_verify(t->n);
	for (unsigned i = 1; i < 3; i++)
		nmmu_vcpu_destroy(h[i].nv);
	mmu_vcpu_destroy(ed.l1v);
}
