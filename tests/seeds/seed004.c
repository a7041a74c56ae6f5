// SPDX-License-Identifier: MIT
/*
 * Seed 004 (../shared/seeds/004_196ccc55c973f0ed.txt): KVM_PRE_FAULT_MEMORY
 * held the memslot SRCU read side across a retry loop while a slot deletion
 * waited in synchronize_srcu for that very reader: deadlock.
 *
 * Invariant: no retry inside a read section for a condition only a waiting
 * writer can clear. A fault that meets a slot in flux returns
 * MMU_FAULT_RETRY_SLOT and has left the read side; mmu_prefault() turns it
 * into -EAGAIN. Deletion always completes.
 */
#include "tests/seeds/seeds.h"

#define SLOT_BASE 0x1000ull
#define SLOT_PAGES 64ull

enum { ROLE_PREFAULT = 1, ROLE_DELETER };

struct seed004 {
	struct tmmu *t;
	pthread_t deleter;
	struct env_gate deleter_waiting, deleter_zapping, deleter_release;
	int delete_result;
	bool delete_done;
	bool deleter_synced;    /* the deleter finished waiting for readers */
	u64 prefault_steps;
	u64 slot_lookups;
	u64 watchdog_lookups; /* count_lookup's own count */
};
static struct seed004 *s4;

static void *thread_delete(void *arg)
{
	seeds_role = ROLE_DELETER;
	s4->delete_result = mmu_slot_delete(s4->t->mmu, 0);
	__atomic_store_n(&s4->delete_done, true, __ATOMIC_RELEASE);
	return NULL;
}

static void deleter_sync_begin(enum env_hook h, void *arg, void *ctx)
{
	if (seeds_role == ROLE_DELETER)
		env_gate_open(&s4->deleter_waiting);
}

static void deleter_sync_end(enum env_hook h, void *arg, void *ctx)
{
	if (seeds_role == ROLE_DELETER)
		__atomic_store_n(&s4->deleter_synced, true, __ATOMIC_RELEASE);
}

/* The deleter stops with the slot invalid and every root obsolete. */
static void deleter_park_after_invalidate(enum env_hook h, void *arg, void *ctx)
{
	if (seeds_role != ROLE_DELETER)
		return;
	env_gate_open(&s4->deleter_zapping);
	env_gate_wait(&s4->deleter_release);
}

/* Watchdog: a prefault that kept retrying inside the read side would spin
 * here forever while the deleter waits. */
static void count_lookup(enum env_hook h, void *arg, void *ctx)
{
	if (seeds_role == ROLE_PREFAULT && ++s4->watchdog_lookups > 10000)
		fail_msg("prefault keeps retrying while the slot is being deleted");
}

/* After the 3rd page: start the deletion and let it get as far as parking
 * with the slot invalid (it waited for readers: we hold none here). */
static void start_delete_between_pages(enum env_hook h, void *arg, void *ctx)
{
	if (seeds_role != ROLE_PREFAULT || ++s4->prefault_steps != 3)
		return;
	assert_int_equal(pthread_create(&s4->deleter, NULL, thread_delete, NULL), 0);
	env_gate_wait(&s4->deleter_zapping);
}

static void seed004_init(struct seed004 *ctx, struct tmmu *t)
{
	hpa_t root;
	bool flush;

	*ctx = (struct seed004){ .t = t };
	s4 = ctx;
	env_gate_init(&ctx->deleter_waiting);
	env_gate_init(&ctx->deleter_zapping);
	env_gate_init(&ctx->deleter_release);
	seeds_role = ROLE_PREFAULT;
	/* Misaligned backing: 4 KiB leaves, one prefault step per page. */
	tmmu_add_slot(t->mmu, 0, SLOT_BASE, SLOT_PAGES, 0x100001, 0);
	/* A loaded root, so page n is the n-th slot lookup (no reload retry). */
	assert_int_equal(mmu_vcpu_load_root(t->v, &root, &flush), 0);
	env_hosted_bind_hook(HOOK_SLOT_SYNC_BEGIN, deleter_sync_begin, NULL);
	env_hosted_bind_hook(HOOK_SLOT_SYNC_END, deleter_sync_end, NULL);
	env_hosted_bind_hook(HOOK_ROOTS_INVALIDATED, deleter_park_after_invalidate, NULL);
	env_hosted_bind_hook(HOOK_FAULT_SLOT_FOUND, count_lookup, NULL);
	env_hosted_count_hook(HOOK_PREFAULT_RETRY, true);
}

static void seed004_finish(struct seed004 *ctx)
{
	struct tmmu *t = ctx->t;

	env_gate_open(&ctx->deleter_release);
	pthread_join(ctx->deleter, NULL);
	env_hosted_reset();
	seeds_role = 0;
	assert_true(ctx->delete_done);
	assert_int_equal(ctx->delete_result, 0);
	for (u64 g = SLOT_BASE; g < SLOT_BASE + SLOT_PAGES; g++)
		assert_int_equal(tmmu_level_of(t->mmu, g, NULL, NULL), 0);
	tmmu_assert_verify(t->mmu);
	/* Put the slot back: prefault now completes. */
	tmmu_add_slot(t->mmu, 0, SLOT_BASE, SLOT_PAGES, 0x100001, 0);
	assert_int_equal(mmu_prefault(t->v, GPA(SLOT_BASE << 12), SLOT_PAGES * PAGE_SIZE), 0);
	env_gate_destroy(&ctx->deleter_waiting);
	env_gate_destroy(&ctx->deleter_zapping);
	env_gate_destroy(&ctx->deleter_release);
}

void seed004_prefault_vs_slot_delete(void **state)
{
	struct seed004 ctx;

	seed004_init(&ctx, *state);
	env_hosted_bind_hook(HOOK_PREFAULT_STEP, start_delete_between_pages, NULL);
	assert_int_equal(mmu_prefault(ctx.t->v, GPA(SLOT_BASE << 12), SLOT_PAGES * PAGE_SIZE),
			 -EAGAIN);
	assert_int_equal(env_hosted_hook_hits(HOOK_PREFAULT_RETRY), 1);
	assert_int_equal(ctx.prefault_steps, 3);
	seed004_finish(&ctx);
}

/* At the 3rd page's slot lookup (read side held): start the deletion and
 * wait until it is waiting for readers. It must not get past us; once this
 * page is done, the next one finds the slot invalid and prefault leaves. */
static void start_delete_inside_read_side(enum env_hook h, void *arg, void *ctx)
{
	if (seeds_role != ROLE_PREFAULT || ++s4->slot_lookups != 3)
		return;
	assert_int_equal(pthread_create(&s4->deleter, NULL, thread_delete, NULL), 0);
	env_gate_wait(&s4->deleter_waiting);
	for (int i = 0; i < 100; i++)
		env_yield();
	/* We hold the read side: the deleter is still waiting. */
	assert_false(__atomic_load_n(&s4->deleter_synced, __ATOMIC_ACQUIRE));
}

static void wait_for_deleter_parked(enum env_hook h, void *arg, void *ctx)
{
	if (seeds_role == ROLE_PREFAULT && ++s4->prefault_steps == 3)
		env_gate_wait(&s4->deleter_zapping);
}

void seed004_delete_waits_for_reader(void **state)
{
	struct seed004 ctx;

	seed004_init(&ctx, *state);
	env_hosted_bind_hook(HOOK_FAULT_SLOT_FOUND, start_delete_inside_read_side, NULL);
	env_hosted_bind_hook(HOOK_PREFAULT_STEP, wait_for_deleter_parked, NULL);
	assert_int_equal(mmu_prefault(ctx.t->v, GPA(SLOT_BASE << 12), SLOT_PAGES * PAGE_SIZE),
			 -EAGAIN);
	assert_true(ctx.deleter_synced);
	assert_int_equal(ctx.prefault_steps, 3);
	seed004_finish(&ctx);
}
