// SPDX-License-Identifier: MIT
/*
 * Seed 002 (docs/seeds/002.md): shadow pages were
 * marked "unsync" from TDP-MMU faults holding mmu_lock only for read, so two
 * vCPUs did plain read-modify-writes of unsync_children at once; the counter
 * underflowed or hit 0 early.
 *
 * Keel has no shadow MMU yet. What TDP faults do update under the shared
 * lock is per-MMU metadata: the maps_4k/2m/1g gauges (sharded per CPU, the
 * total checked when read) and root refcounts. Each has one
 * owner (docs/mmu-locking.md): it is atomic, and follows one rule: a gain is
 * counted before the entry that carries it becomes visible, a loss after the
 * entry is gone, so a remover always finds the gain already counted.
 *
 * The race: vCPU A installs a 4 KiB leaf into table T and is stopped right
 * after its cmpxchg; meanwhile vCPU B, also under the shared lock, replaces
 * T by a 2 MiB leaf (freezing T's entries and uncounting what they held,
 * A's leaf included). Counting A's gain after its cmpxchg would make B's
 * decrement underflow, the analogue of unsync_children going negative.
 */
#include "tests/seeds/seeds.h"

enum { ROLE_A = 1 };

struct seed002 {
	struct env_gate parked, release;
	enum mmu_fault_result ra;
};
static struct seed002 *s2;

/* A has installed its leaf (cmpxchg done); its change is not finished. */
static void park_a_after_install(enum env_hook h, void *arg, void *ctx)
{
	if (seeds_role != ROLE_A)
		return;
	env_gate_open(&s2->parked);
	env_gate_wait(&s2->release);
}

static void *thread_a(void *arg)
{
	seeds_role = ROLE_A;
	s2->ra = mmu_page_fault(arg, GPA(0x7000), MMU_ACC_WRITE);
	return NULL;
}

static struct tdp_page *leaf_table(struct mmu *mmu, u64 gfn)
{
	struct tdp_page *pg = mmu->roots->pt;

	for (int level = TDP_ROOT_LEVEL; level > 1; level--) {
		spte_t s = pg->spt[tdp_level_index(gfn, level)];

		pg = env_hpa_to_virt(spte_table_hpa(mmu->fmt, s));
	}
	return pg;
}

/* Both vCPUs on one 2 MiB slot with 4 KiB mappings first, so a table T
 * sits where a 2 MiB leaf is allowed once the limit is lifted (no zap in
 * between; the max_level poke is test-only). Returns T. */
static struct tdp_page *setup_table(struct seed002 *ctx, struct tmmu *t, struct mmu_vcpu *va)
{
	hpa_t root;
	bool flush;

	s2 = ctx;
	env_gate_init(&ctx->parked);
	env_gate_init(&ctx->release);
	tmmu_add_slot(t->mmu, 0, 0, MIB2_PAGES, 0x100000, 0);
	assert_int_equal(mmu_vcpu_load_root(va, &root, &flush), 0);
	assert_int_equal(mmu_vcpu_load_root(t->v, &root, &flush), 0);
	atomic_set(&t->mmu->max_level, 1);
	assert_int_equal(mmu_page_fault(t->v, GPA(0x1000), MMU_ACC_WRITE), MMU_FAULT_FIXED);
	return leaf_table(t->mmu, 1);
}

void seed002_unsync_marking(void **state)
{
	struct seed002 ctx = { 0 };
	struct tmmu *t = *state;
	struct mmu_vcpu *va = mmu_vcpu_create(t->mmu, 1);
	struct mmu_stats st;
	struct tdp_page *table;
	pthread_t a;

	table = setup_table(&ctx, t, va);

	env_hosted_bind_hook(HOOK_FAULT_AFTER_INSTALL, park_a_after_install, NULL);
	assert_int_equal(pthread_create(&a, NULL, thread_a, va), 0);
	env_gate_wait(&ctx.parked);
	assert_int_equal(MMU_GAUGE(t->mmu, maps[0]), 2); /* A's gain is in */
	atomic_set(&t->mmu->max_level, 3);
	/* B replaces T by a 2 MiB leaf while A's change is half done. */
	assert_int_equal(mmu_page_fault(t->v, GPA(0x9000), MMU_ACC_READ), MMU_FAULT_FIXED);
	assert_int_equal(tmmu_level_of(t->mmu, 7, NULL, NULL), 2);
	env_gate_open(&ctx.release);
	pthread_join(a, NULL);
	env_hosted_bind_hook(HOOK_FAULT_AFTER_INSTALL, NULL, NULL);

	assert_int_equal(ctx.ra, MMU_FAULT_FIXED);
	mmu_get_stats(t->mmu, &st);
	assert_int_equal(st.maps_4k, 0);
	assert_int_equal(st.maps_2m, 1);
	for (unsigned i = 0; i < TDP_PTES_PER_TABLE; i++) /* retired, not yet freed */
		assert_true(spte_frozen(t->mmu->fmt, table->spt[i]));
	assert_int_equal(mmu_debug_tables_pending_free(t->mmu), 1);
	tmmu_assert_verify(t->mmu);
	mmu_vcpu_destroy(va);
	env_gate_destroy(&ctx.parked);
	env_gate_destroy(&ctx.release);
}

/* The counter helpers refuse to go below zero (the symptom in the seed). */
void seed002_counter_underflow_asserts(void **state)
{
	u64 counter = 1;

	(void)state;
	env_hosted_set_assert_handler(seeds_assert_to_cmocka);
	mmu_counter_sub(&counter, 1);
	expect_assert_failure(mmu_counter_sub(&counter, 1));
	env_hosted_set_assert_handler(NULL);
	assert_int_equal(counter, ~0ull); /* the check fired on this very update */
}

/* A has walked down to table T and stops just before its install (its
 * entry in T was empty); B replaces T by a 2 MiB leaf meanwhile. T's
 * entries must be *frozen*, not zeroed: A's cmpxchg then fails and A
 * retries. Zeroed entries would let A install into a table nobody can
 * reach any more (FIXED, a leaf and a count leaked into a retired table). */
static void park_a_before_install(enum env_hook h, void *arg, void *ctx)
{
	if (seeds_role != ROLE_A)
		return;
	env_gate_open(&s2->parked);
	env_gate_wait(&s2->release);
}

void seed002_parked_install_after_table_replaced(void **state)
{
	struct seed002 ctx = { 0 };
	struct tmmu *t = *state;
	struct mmu_vcpu *va = mmu_vcpu_create(t->mmu, 1);
	struct mmu_stats st;
	struct tdp_page *table;
	pthread_t a;

	table = setup_table(&ctx, t, va);

	env_hosted_bind_hook(HOOK_FAULT_BEFORE_INSTALL, park_a_before_install, NULL);
	assert_int_equal(pthread_create(&a, NULL, thread_a, va), 0);
	env_gate_wait(&ctx.parked);
	ktest_step("A parked before installing into T; B replaces T by a 2 MiB leaf");
	atomic_set(&t->mmu->max_level, 3);
	assert_int_equal(mmu_page_fault(t->v, GPA(0x9000), MMU_ACC_READ), MMU_FAULT_FIXED);
	assert_int_equal(tmmu_level_of(t->mmu, 7, NULL, NULL), 2);
	env_gate_open(&ctx.release);
	pthread_join(a, NULL);
	env_hosted_bind_hook(HOOK_FAULT_BEFORE_INSTALL, NULL, NULL);

	assert_int_equal(ctx.ra, MMU_FAULT_RETRY); /* it found T's entry frozen */
	mmu_get_stats(t->mmu, &st);
	assert_int_equal(st.maps_4k, 0);
	assert_int_equal(st.maps_2m, 1);
	for (unsigned i = 0; i < TDP_PTES_PER_TABLE; i++) /* retired: all frozen, A's leaf not in */
		assert_true(spte_frozen(t->mmu->fmt, table->spt[i]));
	tmmu_assert_verify(t->mmu);
	mmu_vcpu_destroy(va);
	env_gate_destroy(&ctx.parked);
	env_gate_destroy(&ctx.release);
}
