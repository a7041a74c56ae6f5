// SPDX-License-Identifier: MIT
/*
 * Seed 000 on the nested MMU (docs/seeds/000.md): KVM's shadow-MMU
 * eager split restarted its rmap walk from the head after every lock drop and
 * yielded before doing any work, so under constant "need resched" it never
 * finished. Keel's nested split (mmu/nested_reduce.c) walks each shadow root
 * with the one walker's cursor and yields only through nmmu_cond_resched(),
 * which refuses until the cursor moved: bounded progress, never from the head.
 */
#include "tests/nested/nested_seeds.h"

static void map_mixed(struct nt *t)
{
	struct nmmu_fault_out o;

	fl1_map(&t->f, NCR3, 0x100000000, 0x40000000, 3, N_ALL);   /* 1 GiB */
	fl1_map(&t->f, NCR3, 0x80000000, 0x40200000, 2, N_ALL);    /* 2 MiB */
	for (u64 i = 0; i < 300; i++)                              /* 300 x 4 KiB */
		fl1_map(&t->f, NCR3, 0x200000 + i * PAGE_SIZE, 0x40400000 + i * PAGE_SIZE, 1,
			N_ALL);
	assert_int_equal(nfault(t->nv, NCR3, ASID, 0x100000000, MMU_ACC_WRITE, &o),
			 NMMU_FAULT_FIXED);
	assert_int_equal(nfault(t->nv, NCR3, ASID, 0x80000000, MMU_ACC_WRITE, &o),
			 NMMU_FAULT_FIXED);
	for (u64 i = 0; i < 300; i++)
		assert_int_equal(nfault(t->nv, NCR3, ASID, 0x200000 + i * PAGE_SIZE, MMU_ACC_WRITE,
					&o),
				 NMMU_FAULT_FIXED);
}

static void no_writable_or_huge(void *ctx, const struct nmmu_key *key, u64 l2gfn, hfn_t hfn,
				int level, u32 perms)
{
	unsigned *bad = ctx;

	*bad += level > 1 || (perms & MMU_ACC_WRITE);
}

/* Resched forced to "always yield now": dirty-log start still finishes,
 * splits exactly 1 + 512 + 1 shadow leaves, write-protects the 300, and
 * drops the locks at most once per step of its cursor. */
void seed000_nested_split_livelock(void **state)
{
	struct nt *t = *state;
	struct nmmu_stats before, after;
	struct mmu_lock_stats lb, la;
	struct nwatchdog wd;
	unsigned bad = 0;

	map_mixed(t);
	nmmu_get_stats(t->n, &before);
	mmu_debug_lock_stats(t->f.mmu, &lb, false);
	env_hosted_set_resched(ENV_RESCHED_ALWAYS);
	nwatchdog_start(&wd, "seed000_nested_split_livelock", 120);
	assert_int_equal(mmu_slot_set_flags(t->f.mmu, 0, MEMSLOT_DIRTY_LOG), 0);
	nwatchdog_stop(&wd);
	env_hosted_set_resched(ENV_RESCHED_WHEN_CONTENDED);
	nmmu_get_stats(t->n, &after);
	mmu_debug_lock_stats(t->f.mmu, &la, false);
	assert_int_equal(after.splits - before.splits, 1 + 512 + 1);
	assert_int_equal(after.wrprot_leaves - before.wrprot_leaves, 300);
	/* The policy was obeyed, and each drop had a finished step before it:
	 * at most one per entry of the (at most 8) tables walked. */
	assert_true(la.yields - lb.yields > 0);
	assert_true(la.yields - lb.yields <= 8 * 512);
	nmmu_for_each_leaf(t->n, no_writable_or_huge, &bad);
	assert_int_equal(bad, 0);
	nassert_verify(t->n);
}

struct stream {
	struct nt *t;
	struct nmmu_vcpu *nv;
	int stop;
	u64 faults;
};

static void *fault_stream(void *arg)
{
	struct stream *s = arg;
	struct nmmu_fault_out o;
	u64 i = 0;

	while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
		u64 l2 = 0x100000000 + ((i * 7919) % GIB_PAGES) * PAGE_SIZE;
		enum nmmu_fault_result r = nfault(s->nv, NCR3, ASID, l2,
						  i & 1 ? MMU_ACC_WRITE : MMU_ACC_READ, &o);

		if (r == NMMU_FAULT_NOMEM)
			nmmu_evict(s->t->n);
		i++;
	}
	s->faults = i;
	return NULL;
}

/* The default policy while another vCPU faults continuously into the same
 * region: dirty-log start finishes and the invariants hold after it. */
void seed000_nested_split_under_fault_stream(void **state)
{
	struct nt *t = *state;
	struct stream s = { .t = t, .nv = nmmu_vcpu_create(t->n, 1) };
	struct nwatchdog wd;
	pthread_t th;

	assert_non_null(s.nv);
	map_mixed(t);
	assert_int_equal(pthread_create(&th, NULL, fault_stream, &s), 0);
	for (int i = 0; i < 50 && !__atomic_load_n(&t->n->c.shadow_faults, __ATOMIC_ACQUIRE); i++)
		env_yield();
	nwatchdog_start(&wd, "seed000_nested_split_under_fault_stream", 120);
	assert_int_equal(mmu_slot_set_flags(t->f.mmu, 0, MEMSLOT_DIRTY_LOG), 0);
	nwatchdog_stop(&wd);
	__atomic_store_n(&s.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	nassert_verify(t->n);
	nmmu_vcpu_destroy(s.nv);
}
