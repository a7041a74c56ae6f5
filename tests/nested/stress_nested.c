// SPDX-License-Identifier: MIT
/*
 * Stress of the nested MMU (docs/nested-mmu.md, "Tests"). Bounded, seeded
 * (NESTED_STRESS_SEED; NESTED_STRESS_ITERS: L1's NPT12 edits), under a
 * watchdog: it ends once L1 made its edits (default 1000), the dirty logger
 * did 50 operations, the deleter 8 deletions and the checker 20 checks.
 *
 * Threads: three L2 vCPUs faulting through two NPT12 trees and two ASIDs;
 * an L1 thread rewriting NPT12 leaf entries (4 KiB and 2 MiB) and flushing
 * (TLB_CONTROL by ASID, all, INVLPGA); a slot deleter (L1 slot 1 goes and
 * comes back); a dirty logger toggling logging on both slots, harvesting,
 * and injecting page-allocation failures (L2 vCPUs evict on NOMEM).
 *
 * Invariants:
 *  1. every present shadow leaf is the composition of an NPT12 value that L1
 *     has not yet been promised is gone (written since the last flush that
 *     covered its ASID, or current) with Keel's mapping of the L1 page: the
 *     right host frame, permissions within NPT12's (the main thread checks
 *     all leaves repeatedly, under the MMU's locks; plus nmmu_verify: within
 *     the slot, 4 KiB + marked dirty when writable under logging);
 *  2. nothing maps L1 slot 1 once its deletion has returned (the deleter
 *     checks before re-adding it);
 *  3. an L2 write through a writable shadow leaf reaches an L1 page marked
 *     dirty in its slot's bitmap when the slot is logged (checked at the
 *     "hardware" access, under the locks a harvest excludes).
 */
#include <pthread.h>
#include <stdio.h>
#include "tests/nested/nested_test_util.h"
#include "tests/nested/nested_watchdog.h"

#define TREES 2
#define ASIDS 2
#define E4K 1024                    /* 4 KiB entries: L2 gfns [L2_4K, +1024) */
#define E2M 8                       /* 2 MiB entries: L2 gfns [L2_2M, +8*512) */
#define NE (E4K + E2M)
#define L2_4K 0x100ull
#define L2_2M 0x40000ull
#define L1_DATA 0x200ull            /* data frames: L1 gfns [0x200, 0x2000) */
#define L1_END 0x2000ull
#define SLOT1 0x1000ull             /* slot 1: L1 gfns [0x1000, 0x2000) */
#define MAXV 8

static const u64 tree_ncr3[TREES] = { 0x1000, 0x2000 };

struct model {
	pthread_mutex_t m;
	u64 cur[TREES][NE];
	u64 allowed[TREES][ASIDS][NE][MAXV];
	unsigned nallowed[TREES][ASIDS][NE];
	u64 violations;
	char first[256];
};

struct stress {
	struct fake_l1 f;
	struct nmmu *n;
	struct model md;
	u64 seed, iters;
	int stop;           /* set by the main thread once enough happened */
	int editor_done;
	u64 logger_ops;
	u64 reflected, fixed, evictions, deletes, harvests;
	u64 logger_seq; /* odd while a dirty-log start/stop/harvest runs */
};

static struct stress *S;

static u64 rnd(u64 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

__printf(1, 2) static void violation(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&S->md.m);
	if (!S->md.violations++) {
		va_start(ap, fmt);
		vsnprintf(S->md.first, sizeof(S->md.first), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&S->md.m);
}

static u64 *entry_ptr(unsigned tree, unsigned e)
{
	if (e < E4K)
		return fl1_entry(&S->f, tree_ncr3[tree], (L2_4K + e) << PAGE_SHIFT, 1);
	return fl1_entry(&S->f, tree_ncr3[tree], (L2_2M + (e - E4K) * 512) << PAGE_SHIFT, 2);
}

static u64 random_value(u64 *rs, unsigned e)
{
	u64 v, r = rnd(rs);

	if (r % 8 == 0)
		return 0;
	if (e < E4K)
		v = (L1_DATA + (r >> 8) % (L1_END - L1_DATA)) << PAGE_SHIFT;
	else
		v = (L1_DATA + ((r >> 8) % ((L1_END - L1_DATA) / 512)) * 512) << PAGE_SHIFT | N_PS;
	v |= N_P | N_US;
	if (r & 0x30)
		v |= N_RW;
	if ((r & 0xc0) == 0xc0)
		v |= N_NX;
	return v;
}

/* ---- invariant 1: a shadow leaf against the model ---- */
static u32 value_perms(u64 v)
{
	return MMU_ACC_READ | (v & N_RW ? MMU_ACC_WRITE : 0) | (v & N_NX ? 0 : MMU_ACC_EXEC);
}

static bool value_explains(u64 v, unsigned e, u64 off, int level, u64 hfn, u32 perms)
{
	u64 l1;

	if (!(v & N_P))
		return false;
	if (e < E4K && level != 1)
		return false;
	l1 = ((v & GENMASK(51, 12)) >> PAGE_SHIFT) + off;
	return hfn == fl1_hfn(&S->f, l1) && !(perms & ~value_perms(v));
}

static void check_leaf(void *ctx, const struct nmmu_key *key, u64 l2gfn, hfn_t hfn, int level,
		       u32 perms)
{
	struct model *md = &S->md;
	unsigned tree = key->ncr3 == tree_ncr3[0] ? 0 : key->ncr3 == tree_ncr3[1] ? 1 : 2;
	unsigned asid = key->asid - 1, e;
	u64 off = 0;
	bool ok = false;

	if (tree >= TREES || asid >= ASIDS)
		return violation("shadow root with unknown key ncr3 %llx asid %u",
				 (unsigned long long)key->ncr3, key->asid);
	if (l2gfn >= L2_4K && l2gfn < L2_4K + E4K) {
		e = l2gfn - L2_4K;
	} else if (l2gfn >= L2_2M && l2gfn < L2_2M + E2M * 512 && level <= 2) {
		e = E4K + (l2gfn - L2_2M) / 512;
		off = (l2gfn - L2_2M) % 512;
	} else {
		return violation("l2 gfn %llx (level %d) is mapped but L1 never mapped it",
				 (unsigned long long)l2gfn, level);
	}
	pthread_mutex_lock(&md->m);
	for (unsigned k = 0; k < md->nallowed[tree][asid][e] && !ok; k++)
		ok = value_explains(md->allowed[tree][asid][e][k], e, off, level, hfn.v, perms);
	pthread_mutex_unlock(&md->m);
	if (!ok)
		violation("tree %u asid %u l2 gfn %llx level %d -> hfn %llx perms %x: no NPT12 value "
			  "L1 may still see composes to it", tree, key->asid,
			  (unsigned long long)l2gfn, level,
			  (unsigned long long)(hfn.v - fl1_hfn(&S->f, 0)), perms);
}

/* ---- L1: edit NPT12 and flush ---- */
static void model_flushed(bool all, unsigned asid)
{
	struct model *md = &S->md;

	pthread_mutex_lock(&md->m);
	for (unsigned t = 0; t < TREES; t++)
		for (unsigned a = 0; a < ASIDS; a++)
			if (all || a == asid)
				for (unsigned e = 0; e < NE; e++) {
					md->allowed[t][a][e][0] = md->cur[t][e];
					md->nallowed[t][a][e] = 1;
				}
	pthread_mutex_unlock(&md->m);
}

static bool model_write(unsigned tree, unsigned e, u64 v)
{
	struct model *md = &S->md;
	bool full = false;

	pthread_mutex_lock(&md->m);
	md->cur[tree][e] = v;
	for (unsigned a = 0; a < ASIDS; a++) {
		unsigned *n = &md->nallowed[tree][a][e];

		md->allowed[tree][a][e][(*n)++] = v; /* before L2 can read it */
		full |= *n == MAXV;
	}
	pthread_mutex_unlock(&md->m);
	__atomic_store_n(entry_ptr(tree, e), v, __ATOMIC_RELEASE);
	return full;
}

static void *l1_editor(void *arg)
{
	u64 rs = S->seed * 3 + 1;

	for (u64 i = 0; i < S->iters; i++) {
		unsigned tree = rnd(&rs) % TREES, e = rnd(&rs) % NE;
		bool full = model_write(tree, e, random_value(&rs, e));
		u64 r = rnd(&rs);

		if (!full && r % 4)
			continue;
		switch (full ? 0 : r % 3) {
		case 0:
			nmmu_flush_all(S->n);
			model_flushed(true, 0);
			break;
		case 1:
			nmmu_flush_asid(S->n, 1 + (r >> 8) % ASIDS);
			model_flushed(false, (r >> 8) % ASIDS);
			break;
		default:
			nmmu_invlpga(S->n, 1 + (r >> 8) % ASIDS, GVA(r & PAGE_MASK));
			model_flushed(false, (r >> 8) % ASIDS);
			break;
		}
		env_yield();
	}
	__atomic_store_n(&S->editor_done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/* ---- L2 vCPUs ---- */
static void *l2_vcpu(void *arg)
{
	struct nmmu_vcpu *nv = arg;
	u64 rs = S->seed * 7 + (uintptr_t)arg % 1000;

	for (u64 i = 0; i < 100 * S->iters && !__atomic_load_n(&S->stop, __ATOMIC_SEQ_CST); i++) {
		u64 r = rnd(&rs);
		unsigned tree = r % TREES, asid = 1 + (r >> 4) % ASIDS;
		u64 l2 = r & BIT(8) ? L2_4K + (r >> 16) % E4K : L2_2M + (r >> 16) % (E2M * 512);
		u32 acc = (r >> 12) % 3 == 0 ? MMU_ACC_WRITE : (r >> 12) % 3 == 1 ? MMU_ACC_READ
										 : MMU_ACC_EXEC;
		struct nmmu_fault_out o;
		struct nmmu_lookup l;
		hpa_t root;
		bool flush;
		enum nmmu_fault_result res;

		if (nmmu_root_get(nv, GPA(tree_ncr3[tree]), asid, &fl1_mode, &root, &flush)) {
			nmmu_evict(S->n);
			continue;
		}
		res = nmmu_page_fault(nv, NGPA(l2 << PAGE_SHIFT), acc, NPF_FINAL_GPA, &o);
		if (res == NMMU_FAULT_NOMEM) {
			nmmu_evict(S->n);
			__atomic_add_fetch(&S->evictions, 1, __ATOMIC_RELAXED);
		} else if (res == NMMU_FAULT_REFLECT) {
			__atomic_add_fetch(&S->reflected, 1, __ATOMIC_RELAXED);
			if (!(o.exitinfo1 & NPF_FINAL_GPA) || o.exitinfo2 != l2 << PAGE_SHIFT)
				violation("reflected NPF with EXITINFO1 %llx EXITINFO2 %llx",
					  (unsigned long long)o.exitinfo1,
					  (unsigned long long)o.exitinfo2);
		} else if (res == NMMU_FAULT_FIXED || res == NMMU_FAULT_SPURIOUS) {
			__atomic_add_fetch(&S->fixed, 1, __ATOMIC_RELAXED);
			/* The "hardware" write (invariant 3). While a harvest runs, a
			 * writable leaf may map a page this harvest has just reported
			 * (its write-protection comes before the harvest returns), and
			 * logging starts only when enabling it returns: check outside. */
			u64 seq = __atomic_load_n(&S->logger_seq, __ATOMIC_SEQ_CST);

			if (acc == MMU_ACC_WRITE && nmmu_debug_lookup(nv, NGFN(l2), &l) &&
			    (l.perms & MMU_ACC_WRITE) && !l.dirty_ok && !(seq & 1) &&
			    seq == __atomic_load_n(&S->logger_seq, __ATOMIC_SEQ_CST))
				violation("L2 write to l2 gfn %llx reached an L1 page not marked dirty",
					  (unsigned long long)l2);
		}
	}
	return NULL;
}

/* ---- slot deleter (invariant 2) ---- */
static void count_slot1(void *ctx, const struct nmmu_key *key, u64 l2gfn, hfn_t hfn, int level,
			u32 perms)
{
	u64 lo = fl1_hfn(&S->f, SLOT1), hi = fl1_hfn(&S->f, L1_END);

	*(u64 *)ctx += hfn.v + tdp_level_pages(level) > lo && hfn.v < hi;
}

static void *slot_deleter(void *arg)
{
	struct memslot_desc d = { .id = 1, .base_gfn = GFN(SLOT1), .npages = L1_END - SLOT1,
				  .backing = HFN(fl1_hfn(&S->f, SLOT1)) };

	while (!__atomic_load_n(&S->stop, __ATOMIC_SEQ_CST)) {
		u64 left = 0;

		for (int i = 0; i < 200; i++)
			env_yield();
		if (mmu_slot_delete(S->f.mmu, 1))
			continue;
		__atomic_add_fetch(&S->deletes, 1, __ATOMIC_RELAXED);
		nmmu_for_each_leaf(S->n, count_slot1, &left);
		if (left)
			violation("%llu shadow leaves map L1 slot 1 after its deletion returned",
				  (unsigned long long)left);
		for (int i = 0; i < 50; i++)
			env_yield();
		if (mmu_slot_add(S->f.mmu, &d))
			violation("re-adding slot 1 failed");
	}
	return NULL;
}

/* ---- dirty logger and allocation failures ---- */
static void *dirty_logger(void *arg)
{
	static u64 bitmap[(L1_END + 63) / 64];
	u64 rs = S->seed * 11 + 5;

	while (!__atomic_load_n(&S->stop, __ATOMIC_SEQ_CST)) {
		u64 r = rnd(&rs);
		u16 id = r & 1;

		__atomic_add_fetch(&S->logger_seq, 1, __ATOMIC_SEQ_CST); /* odd: in progress */
		if (r % 5 == 0)
			mmu_slot_set_flags(S->f.mmu, id, (r >> 8) & 1 ? MEMSLOT_DIRTY_LOG : 0);
		else if (!mmu_slot_get_dirty_log(S->f.mmu, id, bitmap))
			__atomic_add_fetch(&S->harvests, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&S->logger_seq, 1, __ATOMIC_SEQ_CST);
		__atomic_add_fetch(&S->logger_ops, 1, __ATOMIC_SEQ_CST);
		env_hosted_fail_page_alloc_every(r % 7 == 0 ? 3 + (r >> 16) % 60 : 0);
		for (int i = 0; i < 20; i++)
			env_yield();
	}
	env_hosted_fail_page_alloc_every(0);
	return NULL;
}

static void test_nested_stress(void **state)
{
	struct stress s = { 0 };
	struct nmmu_vcpu *nv[3];
	pthread_t th[6];
	struct memslot_desc d0 = { .id = 0, .base_gfn = GFN(0), .npages = SLOT1 };
	struct memslot_desc d1 = { .id = 1, .base_gfn = GFN(SLOT1), .npages = L1_END - SLOT1 };
	struct nwatchdog wd;
	const char *env;
	u64 checks = 0;

	S = &s;
	env_hosted_reset();
	env = getenv("NESTED_STRESS_SEED");
	s.seed = env ? strtoull(env, NULL, 0) : 1;
	env = getenv("NESTED_STRESS_ITERS");
	s.iters = env ? strtoull(env, NULL, 0) : 1000;
	printf("# nested stress: seed %llu, %llu NPT12 edits by L1\n",
	       (unsigned long long)s.seed, (unsigned long long)s.iters);
	pthread_mutex_init(&s.md.m, NULL);
	fl1_init_mmu(&s.f, NULL, L1_END, 0);
	s.f.mmu = mmu_create(&spte_format_npt);
	d0.backing = HFN(fl1_hfn(&s.f, 0));
	d1.backing = HFN(fl1_hfn(&s.f, SLOT1));
	assert_int_equal(mmu_slot_add(s.f.mmu, &d0), 0);
	assert_int_equal(mmu_slot_add(s.f.mmu, &d1), 0);
	for (unsigned t = 0; t < TREES; t++) {
		u64 rs = s.seed * 13 + t;

		memset(fl1_ptr(&s.f, tree_ncr3[t]), 0, PAGE_SIZE);
		for (unsigned e = 0; e < NE; e++) {
			u64 v = random_value(&rs, e);

			*entry_ptr(t, e) = v; /* the tables above the leaves exist for good */
			s.md.cur[t][e] = v;
			for (unsigned a = 0; a < ASIDS; a++) {
				s.md.allowed[t][a][e][0] = v;
				s.md.nallowed[t][a][e] = 1;
			}
		}
	}
	s.n = nmmu_create(s.f.mmu, 8);
	assert_non_null(s.n);
	nwatchdog_start(&wd, "nested stress", 600);
	for (unsigned i = 0; i < 3; i++) {
		nv[i] = nmmu_vcpu_create(s.n, i);
		assert_non_null(nv[i]);
		assert_int_equal(pthread_create(&th[i], NULL, l2_vcpu, nv[i]), 0);
	}
	assert_int_equal(pthread_create(&th[3], NULL, l1_editor, NULL), 0);
	assert_int_equal(pthread_create(&th[4], NULL, slot_deleter, NULL), 0);
	assert_int_equal(pthread_create(&th[5], NULL, dirty_logger, NULL), 0);
	/* Until L1 made all its edits and the others did enough of theirs. */
	while (!__atomic_load_n(&s.editor_done, __ATOMIC_SEQ_CST) ||
	       __atomic_load_n(&s.logger_ops, __ATOMIC_SEQ_CST) < 50 ||
	       __atomic_load_n(&s.deletes, __ATOMIC_SEQ_CST) < 8 || checks < 20) {
		char why[256];

		nmmu_for_each_leaf(s.n, check_leaf, NULL);
		if (nmmu_verify(s.n, why, sizeof(why)))
			violation("nmmu_verify: %s", why);
		checks++;
		for (int i = 0; i < 100; i++)
			env_yield();
	}
	__atomic_store_n(&s.stop, 1, __ATOMIC_SEQ_CST);
	for (unsigned i = 0; i < 6; i++)
		pthread_join(th[i], NULL);
	nwatchdog_stop(&wd);
	nmmu_for_each_leaf(s.n, check_leaf, NULL);
	printf("# fixed %llu reflected %llu evictions %llu deletes %llu harvests %llu checks %llu\n",
	       (unsigned long long)s.fixed, (unsigned long long)s.reflected,
	       (unsigned long long)s.evictions, (unsigned long long)s.deletes,
	       (unsigned long long)s.harvests, (unsigned long long)checks);
	if (s.md.violations)
		fail_msg("%llu violations (seed %llu), first: %s", (unsigned long long)s.md.violations,
			 (unsigned long long)s.seed, s.md.first);
	assert_true(s.fixed > 0 && s.reflected > 0 && checks > 0);
	nassert_verify(s.n);
	for (unsigned i = 0; i < 3; i++)
		nmmu_vcpu_destroy(nv[i]);
	nmmu_destroy(s.n);
	mmu_destroy(s.f.mmu);
	assert_int_equal(env_hosted_pages_live(), 0);
	fl1_fini(&s.f);
	pthread_mutex_destroy(&s.md.m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nested_stress),
	};

	return cmocka_run_group_tests_name("stress_nested", tests, NULL, NULL);
}
