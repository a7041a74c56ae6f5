// SPDX-License-Identifier: MIT
/*
 * Seed 001 on the nested MMU (docs/seeds/001.md, CVE-2022-45869):
 * KVM's TDP fault, holding mmu_lock for read, reached the shadow MMU's page
 * reclaim (kvm_mmu_zap_oldest_mmu_pages), which zapped nested shadow pages
 * and edited their list while another reader linked pages.
 *
 * In Keel every nested structure is owned by the nested lock, taken only
 * exclusively; the functions that zap or recycle shadow tables take a
 * 'struct nmmu_excl *' that only nmmu_lock() makes (asserted at run time,
 * and a shared TDP token does not convert: tests/nested/token_misuse.c).
 * The TDP fault path never calls the nested MMU; the nested fault path
 * returns NOMEM and never evicts.
 */
#include "tests/nested/nested_seeds.h"

enum { ROLE_MAIN, ROLE_A };
static _Thread_local int role;

struct s1 {
	struct nt *t;
	struct nmmu_vcpu *nva;
	struct env_gate parked, release;
	enum nmmu_fault_result ra;
	int evicted;
};
static struct s1 *g;

static void park_a(enum nmmu_hook h, void *arg, void *ctx)
{
	if (h != NMMU_HOOK_BEFORE_INSTALL || role != ROLE_A)
		return;
	env_gate_open(&g->parked);
	env_gate_wait(&g->release);
}

static void *vcpu_a(void *arg)
{
	struct nmmu_fault_out o;

	role = ROLE_A;
	g->ra = nfault(g->nva, NCR3, ASID, 0x5000, MMU_ACC_WRITE, &o);
	return NULL;
}

static void *evictor(void *arg)
{
	nmmu_evict(g->t->n);
	__atomic_store_n(&g->evicted, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void s1_init(struct s1 *c, struct nt *t)
{
	*c = (struct s1){ .t = t, .nva = nmmu_vcpu_create(t->n, 1) };
	assert_non_null(c->nva);
	env_gate_init(&c->parked);
	env_gate_init(&c->release);
	g = c;
}

static void s1_fini(struct s1 *c)
{
	nmmu_set_hook(c->t->n, NULL, NULL);
	nmmu_vcpu_destroy(c->nva);
	env_gate_destroy(&c->parked);
	env_gate_destroy(&c->release);
}

/* vCPU A is parked inside its install (L1 lock shared + nested lock held).
 * Eviction must wait for it instead of zapping beside it, while L1's own TDP
 * faults (the shared path) go on: they never need the nested lock. */
void seed001_nested_evict_waits_for_fault(void **state)
{
	struct nt *t = *state;
	struct mmu_vcpu *l1v = mmu_vcpu_create(t->f.mmu, 0);
	struct nmmu_fault_out o;
	struct nwatchdog wd;
	struct s1 c;
	pthread_t a, e;

	s1_init(&c, t);
	fl1_map(&t->f, NCR3, 0x5000, 0x6000, 1, N_ALL);
	fl1_map(&t->f, NCR3, 0x7000, 0x8000, 1, N_ALL);
	assert_int_equal(nfault(t->nv, NCR3, ASID, 0x7000, MMU_ACC_WRITE, &o), NMMU_FAULT_FIXED);
	nwatchdog_start(&wd, "seed001_nested_evict_waits_for_fault", 60);
	nmmu_set_hook(t->n, park_a, NULL);
	assert_int_equal(pthread_create(&a, NULL, vcpu_a, NULL), 0);
	env_gate_wait(&c.parked);
	assert_int_equal(pthread_create(&e, NULL, evictor, NULL), 0);
	while (!mmu_rwlock_writers_waiting(&t->n->sm->lock))
		env_yield();
	assert_false(__atomic_load_n(&c.evicted, __ATOMIC_ACQUIRE));
	/* L1's TDP fault completes meanwhile. */
	assert_int_equal(tmmu_fault(l1v, 0x300000, MMU_ACC_WRITE), MMU_FAULT_FIXED);
	assert_false(__atomic_load_n(&c.evicted, __ATOMIC_ACQUIRE));
	env_gate_open(&c.release);
	pthread_join(a, NULL);
	pthread_join(e, NULL);
	nwatchdog_stop(&wd);
	assert_int_equal(c.ra, NMMU_FAULT_FIXED);
	nassert_verify(t->n);
	s1_fini(&c);
	mmu_vcpu_destroy(l1v);
}

/* A stale token (kept from an earlier hold) fires the assertion of every
 * function that zaps, recycles or yields shadow tables. */
void seed001_nested_exclusive_only_asserts(void **state)
{
	struct nt *t = *state;
	struct nmmu_fault_out o;
	struct nmmu_excl nx, stale;
	struct tdp_iter it = { 0 };
	struct nmmu_stats before, after;

	fl1_map(&t->f, NCR3, 0x5000, 0x6000, 1, N_ALL);
	assert_int_equal(nfault(t->nv, NCR3, ASID, 0x5000, MMU_ACC_WRITE, &o), NMMU_FAULT_FIXED);
	nmmu_get_stats(t->n, &before);
	nx = nmmu_lock(t->n);
	stale = nx;
	nmmu_unlock(&nx);
	env_hosted_set_assert_handler(seeds_nested_assert_to_cmocka);
	expect_assert_failure(nmmu_root_drop(&stale, NULL, t->nv->root));
	expect_assert_failure(nmmu_cond_resched(&stale, NULL, &it));
	expect_assert_failure(nmmu_assert_locked(&stale));
	env_hosted_set_assert_handler(NULL);
	nmmu_get_stats(t->n, &after);
	assert_int_equal(after.root_zaps, before.root_zaps);
	assert_int_equal(after.maps_4k, 1);
	nassert_verify(t->n);
}

/* Out of shadow-table memory in the nested fault path: NOMEM, and nothing
 * zapped or evicted by the fault itself. */
void seed001_nested_nomem_never_evicts(void **state)
{
	struct nt *t = *state;
	struct nmmu_fault_out o;
	struct nmmu_stats before, after;

	for (u64 i = 0; i < 16; i++) {
		fl1_map(&t->f, NCR3, 0x5000 + i * PAGE_SIZE, 0x6000 + i * PAGE_SIZE, 1, N_ALL);
		assert_int_equal(nfault(t->nv, NCR3, ASID, 0x5000 + i * PAGE_SIZE, MMU_ACC_READ, &o),
				 NMMU_FAULT_FIXED);
	}
	fl1_map(&t->f, NCR3, 0x40000000, 0x6000, 1, N_ALL); /* needs new shadow tables */
	nmmu_get_stats(t->n, &before);
	env_hosted_fail_page_alloc_every(1);
	assert_int_equal(nmmu_page_fault(t->nv, NGPA(0x40000000), MMU_ACC_READ, NPF_FINAL_GPA, &o),
			 NMMU_FAULT_NOMEM);
	env_hosted_fail_page_alloc_every(0);
	nmmu_get_stats(t->n, &after);
	assert_int_equal(after.root_zaps, before.root_zaps);
	assert_int_equal(after.evictions, before.evictions);
	assert_int_equal(after.maps_4k, before.maps_4k);
	assert_int_equal(after.tables_in_use, before.tables_in_use);
	nassert_verify(t->n);
}
