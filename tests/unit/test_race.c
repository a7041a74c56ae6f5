// SPDX-License-Identifier: MIT
/*
 * Data-race classes, each forced into the one interleaving that exposes it.
 *
 *  - A missing lock around a shared list (reclaim_retire without
 *    reclaim_lock): a hook parks thread A *inside* the critical section,
 *    between reading the list head and storing the new one; a second
 *    retire must wait for A. Deterministic in every flavour: without the
 *    lock, B's table is linked while A is parked and then lost when A
 *    stores its stale head (a leak the test also checks).
 *
 *  - A plain read-modify-write of a shared counter (seed 002's class): no
 *    hook can sit inside "x += n", and a lost update needs two CPUs inside
 *    the same three instructions, so no deterministic plain-flavour test
 *    sees it. ThreadSanitizer does, deterministically, once the two
 *    accesses are not ordered by happens-before: thread A counts its leaf
 *    in the maps_4k gauge and parks (with *relaxed* flags only, so the
 *    parking creates no synchronisation), then the main thread installs a
 *    leaf too. The gauge is sharded per CPU (mmu/percpu.h), so the two
 *    threads are put on one slot, as threads beyond ENV_CPU_SLOTS are. With
 *    the shard updated atomically there is nothing to report; with a plain
 *    += TSan reports the race and fails the case. make test runs this
 *    program in the tsan flavour, and the plain_rmw_gauge mutant runs it
 *    there (tests/mutants/). The same technique covers max_level, which
 *    faults read before they take the MMU lock.
 */
#include <pthread.h>
#include <sched.h>
#include "tests/unit/mmu_test_util.h"
#include "mmu/mmu_internal.h"

static _Thread_local int role;
enum { ROLE_A = 1, ROLE_B };

/* ---- reclaim_retire is serialised by reclaim_lock ---- */

struct retire_ctx {
	struct mmu *mmu;
	struct tdp_page *pg_a, *pg_b;
	struct env_gate a_inside, a_release;
	bool b_done;
};
static struct retire_ctx *rc;

static void park_a_in_retire(enum env_hook h, void *arg, void *ctx)
{
	if (role != ROLE_A)
		return;
	env_gate_open(&rc->a_inside);
	env_gate_wait(&rc->a_release);
}

static void *retire_thread(void *arg)
{
	struct mmu_shared s;

	role = arg == rc->pg_a ? ROLE_A : ROLE_B;
	s = mmu_lock_shared(rc->mmu);
	reclaim_retire(rc->mmu, arg);
	mmu_unlock_shared(&s);
	if (role == ROLE_B)
		__atomic_store_n(&rc->b_done, true, __ATOMIC_RELEASE);
	return NULL;
}

static void test_reclaim_retire_serialised(void **state)
{
	struct tmmu *t = *state;
	struct retire_ctx ctx = { .mmu = t->mmu };
	pthread_t a, b;
	struct mmu_excl x;

	rc = &ctx;
	env_gate_init(&ctx.a_inside);
	env_gate_init(&ctx.a_release);
	ctx.pg_a = tdp_page_alloc(t->mmu);
	ctx.pg_b = tdp_page_alloc(t->mmu);
	assert_non_null(ctx.pg_a);
	assert_non_null(ctx.pg_b);
	env_hosted_bind_hook(HOOK_RECLAIM_RETIRE, park_a_in_retire, NULL);
	assert_int_equal(pthread_create(&a, NULL, retire_thread, ctx.pg_a), 0);
	env_gate_wait(&ctx.a_inside);
	ktest_step("A parked inside reclaim_retire; B retiring another table");
	assert_int_equal(pthread_create(&b, NULL, retire_thread, ctx.pg_b), 0);
	KTEST_SPIN_UNTIL(mmu_spin_waiting(&t->mmu->reclaim_lock) ||
				 __atomic_load_n(&ctx.b_done, __ATOMIC_ACQUIRE),
			 "B waiting for reclaim_lock");
	if (__atomic_load_n(&ctx.b_done, __ATOMIC_ACQUIRE))
		fail_msg("B retired a table while A was inside reclaim_retire: "
			 "the deferred-free list is not serialised by reclaim_lock");
	env_gate_open(&ctx.a_release);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	env_hosted_bind_hook(HOOK_RECLAIM_RETIRE, NULL, NULL);
	x = mmu_lock_excl(t->mmu);
	assert_int_equal(reclaim_pending(&x), 2); /* neither retire was lost */
	mmu_unlock_excl(&x);                      /* frees both: no vCPU entered */
	env_gate_destroy(&ctx.a_inside);
	env_gate_destroy(&ctx.a_release);
}

/* ---- a gauge shard under concurrent shared-mode installs ---- */

static int a_parked, a_release; /* relaxed only: no happens-before edges */

static void park_a_relaxed(enum env_hook h, void *arg, void *ctx)
{
	if (role != ROLE_A)
		return;
	__atomic_store_n(&a_parked, 1, __ATOMIC_RELAXED);
	while (!__atomic_load_n(&a_release, __ATOMIC_RELAXED))
		sched_yield();
}

static void park_reset(void)
{
	__atomic_store_n(&a_parked, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&a_release, 0, __ATOMIC_RELAXED);
}

static void *install_thread(void *arg)
{
	role = ROLE_A;
	return (void *)(uintptr_t)mmu_page_fault(arg, GPA(1 << 12), MMU_ACC_WRITE);
}

static void test_gauge_shard_concurrent_installs(void **state)
{
	struct tmmu *t = *state;
	struct mmu_vcpu *va = mmu_vcpu_create(t->mmu, 1);
	struct mmu_stats st;
	pthread_t a;
	hpa_t root;
	bool flush;
	void *ra;

	park_reset();
	env_hosted_share_cpu_slot(true); /* both threads count in shard 0 */
	tmmu_add_slot(t->mmu, 0, 0, MIB2_PAGES, 0x100001, 0); /* 4 KiB leaves only */
	assert_int_equal(mmu_vcpu_load_root(va, &root, &flush), 0);
	assert_int_equal(mmu_vcpu_load_root(t->v, &root, &flush), 0);
	/* The leaf table T exists before either thread installs into it. */
	assert_int_equal(mmu_page_fault(t->v, GPA(0), MMU_ACC_WRITE), MMU_FAULT_FIXED);
	env_hosted_bind_hook(HOOK_FAULT_AFTER_INSTALL, park_a_relaxed, NULL);
	assert_int_equal(pthread_create(&a, NULL, install_thread, va), 0);
	ktest_step("A counted its gain in T and parked; main installs into T");
	KTEST_SPIN_UNTIL(__atomic_load_n(&a_parked, __ATOMIC_RELAXED), "A parked after install");
	assert_int_equal(mmu_page_fault(t->v, GPA(2 << 12), MMU_ACC_WRITE), MMU_FAULT_FIXED);
	__atomic_store_n(&a_release, 1, __ATOMIC_RELAXED);
	pthread_join(a, &ra);
	env_hosted_bind_hook(HOOK_FAULT_AFTER_INSTALL, NULL, NULL);
	env_hosted_share_cpu_slot(false);
	assert_int_equal((uintptr_t)ra, MMU_FAULT_FIXED);
	mmu_get_stats(t->mmu, &st);
	assert_int_equal(st.maps_4k, 3);
	tmmu_assert_verify(t->mmu); /* the gauge matches the 3 leaves */
	mmu_vcpu_destroy(va);
}

/* ---- max_level, read by faults without the MMU lock ---- */

static void park_a_at_lookup(enum env_hook h, void *arg, void *ctx)
{
	park_a_relaxed(h, arg, ctx);
}

static void *fault_2m_thread(void *arg)
{
	role = ROLE_A;
	return (void *)(uintptr_t)mmu_page_fault(arg, GPA(0x5000), MMU_ACC_READ);
}

/* A fault has looked its slot up (slot read side only) when the largest
 * page level drops to 4 KiB; it then reads max_level with no lock and no
 * happens-before edge to the change (a plain read is a TSan report), and
 * whatever it read, it must not install a 2 MiB leaf: the change
 * invalidated its root, which it re-checks under the lock. */
static void test_max_level_change_mid_fault(void **state)
{
	struct tmmu *t = *state;
	pthread_t a;
	hpa_t root;
	bool flush;
	void *ra;

	park_reset();
	tmmu_add_slot(t->mmu, 0, 0, MIB2_PAGES, 0x100000, 0); /* 2 MiB allowed */
	assert_int_equal(mmu_vcpu_load_root(t->v, &root, &flush), 0);
	env_hosted_bind_hook(HOOK_FAULT_SLOT_FOUND, park_a_at_lookup, NULL);
	assert_int_equal(pthread_create(&a, NULL, fault_2m_thread, t->v), 0);
	ktest_step("fault parked after its slot lookup; max level set to 4 KiB");
	KTEST_SPIN_UNTIL(__atomic_load_n(&a_parked, __ATOMIC_RELAXED), "A parked at lookup");
	assert_int_equal(mmu_set_max_page_level(t->mmu, 1), 0);
	__atomic_store_n(&a_release, 1, __ATOMIC_RELAXED);
	pthread_join(a, &ra);
	env_hosted_bind_hook(HOOK_FAULT_SLOT_FOUND, NULL, NULL);
	assert_int_equal((uintptr_t)ra, MMU_FAULT_RETRY);
	assert_int_equal(tmmu_level_of(t->mmu, 5, NULL, NULL), 0);
	assert_int_equal(tmmu_fault(t->v, 0x5000, MMU_ACC_READ), MMU_FAULT_FIXED);
	assert_int_equal(tmmu_level_of(t->mmu, 5, NULL, NULL), 1);
	tmmu_assert_verify(t->mmu);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reclaim_retire_serialised, tmmu_setup,
						tmmu_teardown),
		cmocka_unit_test_setup_teardown(test_gauge_shard_concurrent_installs, tmmu_setup,
						tmmu_teardown),
		cmocka_unit_test_setup_teardown(test_max_level_change_mid_fault, tmmu_setup,
						tmmu_teardown),
	};

	return ktest_run_group("unit_race", tests, argc, argv);
}
