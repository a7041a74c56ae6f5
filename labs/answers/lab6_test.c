// SPDX-License-Identifier: MIT
/*
 * Lab 6, a reference answer (labs/lab6.md). Copy it to tests/labs/lab6_test.c
 * to run it with make test and make lab-6; `make lab-6 LAB_ANSWER=1` does
 * that in the scratch copy only.
 *
 * Two vCPUs replace the same page table T by the same 2 MiB leaf:
 *
 *   thread B: walks down, reads T's entry E (a table), parks at
 *             HOOK_FAULT_BEFORE_INSTALL with it->old = T;
 *   thread A: walks down, freezes E (cmpxchg T -> FROZEN) and parks at
 *             HOOK_FAULT_AFTER_INSTALL, before tearing T down;
 *   B resumes: its freeze cmpxchg (T -> FROZEN) fails, E is FROZEN by A.
 *             Correct: RETRY, nothing stored. With the bug: B stores its
 *             leaf over A's FROZEN entry and counts a 2 MiB leaf (and still
 *             answers RETRY, so only the counts and mmu_verify show it);
 *   A resumes: tears T down and stores its leaf (counts another one).
 *
 * Correct end state: one 2 MiB leaf, counted once, B answered RETRY.
 */
#include <pthread.h>
#include "tests/unit/mmu_test_util.h"
#include "mmu/mmu_internal.h"

enum { ROLE_A = 1, ROLE_B };
static _Thread_local int role;

struct lab6 {
	struct env_gate a_parked, a_release, b_parked, b_release;
	struct mmu_vcpu *va, *vb;
	enum mmu_fault_result ra, rb;
};
static struct lab6 *L;

static void park(struct env_gate *parked, struct env_gate *release)
{
	env_gate_open(parked);
	env_gate_wait(release);
}

/* B: entry read (a table), about to freeze it. */
static void b_before_install(enum env_hook h, void *arg, void *ctx)
{
	if (role == ROLE_B && !env_gate_is_open(&L->b_parked))
		park(&L->b_parked, &L->b_release);
}

/* A: its freeze cmpxchg succeeded (the first shared-mode change A makes). */
static void a_after_install(enum env_hook h, void *arg, void *ctx)
{
	if (role == ROLE_A && !env_gate_is_open(&L->a_parked))
		park(&L->a_parked, &L->a_release);
}

static void *thread_a(void *arg)
{
	role = ROLE_A;
	L->ra = mmu_page_fault(L->va, GPA(0x2000), MMU_ACC_READ);
	return NULL;
}

static void *thread_b(void *arg)
{
	role = ROLE_B;
	L->rb = mmu_page_fault(L->vb, GPA(0x3000), MMU_ACC_READ);
	return NULL;
}

static void lab6_lost_freeze_stores_nothing(void **state)
{
	struct tmmu *t = *state;
	struct lab6 ctx = { 0 };
	struct mmu_stats st;
	pthread_t a, b;
	hpa_t root;
	bool flush;

	L = &ctx;
	env_gate_init(&ctx.a_parked);
	env_gate_init(&ctx.a_release);
	env_gate_init(&ctx.b_parked);
	env_gate_init(&ctx.b_release);
	ctx.va = mmu_vcpu_create(t->mmu, 1);
	ctx.vb = mmu_vcpu_create(t->mmu, 2);
	tmmu_add_slot(t->mmu, 0, 0, MIB2_PAGES, 0x100000, 0); /* 2 MiB, aligned */
	assert_int_equal(mmu_vcpu_load_root(ctx.va, &root, &flush), 0);
	assert_int_equal(mmu_vcpu_load_root(ctx.vb, &root, &flush), 0);
	assert_int_equal(mmu_vcpu_load_root(t->v, &root, &flush), 0);
	/* Test-only poke (as seed002): 4 KiB first, so a table T sits where a
	 * 2 MiB leaf is allowed once the limit is lifted. */
	atomic_set(&t->mmu->max_level, 1);
	assert_int_equal(mmu_page_fault(t->v, GPA(0x1000), MMU_ACC_WRITE), MMU_FAULT_FIXED);
	atomic_set(&t->mmu->max_level, 3);

	env_hosted_bind_hook(HOOK_FAULT_BEFORE_INSTALL, b_before_install, NULL);
	env_hosted_bind_hook(HOOK_FAULT_AFTER_INSTALL, a_after_install, NULL);
	ktest_step("B walks to T's entry and parks before its freeze");
	assert_int_equal(pthread_create(&b, NULL, thread_b, NULL), 0);
	KTEST_SPIN_UNTIL(env_gate_is_open(&ctx.b_parked), "B parked before install");
	ktest_step("A freezes T's entry and parks");
	assert_int_equal(pthread_create(&a, NULL, thread_a, NULL), 0);
	KTEST_SPIN_UNTIL(env_gate_is_open(&ctx.a_parked), "A parked after its freeze");
	ktest_step("B resumes: its freeze must lose and store nothing");
	env_gate_open(&ctx.b_release);
	pthread_join(b, NULL);
	ktest_step("A resumes and finishes the replacement");
	env_gate_open(&ctx.a_release);
	pthread_join(a, NULL);
	env_hosted_bind_hook(HOOK_FAULT_BEFORE_INSTALL, NULL, NULL);
	env_hosted_bind_hook(HOOK_FAULT_AFTER_INSTALL, NULL, NULL);

	assert_int_equal(ctx.ra, MMU_FAULT_FIXED);
	assert_int_equal(ctx.rb, MMU_FAULT_RETRY); /* it met A's FROZEN entry */
	mmu_get_stats(t->mmu, &st);
	assert_int_equal(st.maps_2m, 1);           /* one leaf, counted once */
	assert_int_equal(st.maps_4k, 0);
	assert_int_equal(tmmu_level_of(t->mmu, 3, NULL, NULL), 2);
	tmmu_assert_verify(t->mmu);
	mmu_vcpu_destroy(ctx.va);
	mmu_vcpu_destroy(ctx.vb);
	env_gate_destroy(&ctx.a_parked);
	env_gate_destroy(&ctx.a_release);
	env_gate_destroy(&ctx.b_parked);
	env_gate_destroy(&ctx.b_release);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(lab6_lost_freeze_stores_nothing, tmmu_setup,
						tmmu_teardown),
	};

	return ktest_run_group("lab6", tests, argc, argv);
}
