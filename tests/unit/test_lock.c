// SPDX-License-Identifier: MIT
/* The MMU's locks: writer preference, holder tracking, order checks, and the
 * slot read side. */
#include <pthread.h>
#include "tests/unit/mmu_test_util.h"
#include "mmu/lock.h"
#include "mmu/srcu.h"
#include "mmu/atomic.h"

static struct mmu_rwlock rw;
static u32 stop_readers, readers_started;

static void assert_to_cmocka(const char *expr, const char *file, int line)
{
	mock_assert(0, expr, file, line);
}

/* Readers that always hold or retake the lock: with a reader-preferring
 * lock the writer below would never get in (and the test would time out). */
static void *reader_stream(void *arg)
{
	atomic_add(&readers_started, 1);
	while (!atomic_read(&stop_readers)) {
		mmu_rwlock_read_lock(&rw);
		for (int i = 0; i < 100; i++)
			env_cpu_relax();
		mmu_rwlock_read_unlock(&rw);
	}
	return NULL;
}

static void test_writer_not_starved(void **state)
{
	pthread_t th[3];

	(void)state;
	mmu_rwlock_init(&rw, "test", 30);
	atomic_set(&stop_readers, 0);
	atomic_set(&readers_started, 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(pthread_create(&th[i], NULL, reader_stream, NULL), 0);
	while (atomic_read(&readers_started) < 3)
		env_yield();
	for (int i = 0; i < 200; i++) {
		mmu_rwlock_write_lock(&rw);
		assert_int_equal(lock_held_mode(&rw), LOCK_EXCL);
		mmu_rwlock_write_unlock(&rw);
	}
	atomic_set(&stop_readers, 1);
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(lock_held_mode(&rw), 0);
}

static void test_tracking_and_order(void **state)
{
	struct mmu_rwlock outer;
	struct mmu_spinlock inner, low;

	(void)state;
	mmu_rwlock_init(&outer, "outer", 30);
	mmu_spin_init(&inner, "inner", 40);
	mmu_spin_init(&low, "low", 10);
	mmu_rwlock_read_lock(&outer);
	assert_int_equal(lock_held_mode(&outer), LOCK_SHARED);
	mmu_spin_lock(&inner);
	assert_int_equal(lock_held_mode(&inner), LOCK_EXCL);
	env_hosted_set_assert_handler(assert_to_cmocka);
	/* Out of order (10 after 40) and recursive acquisitions are refused
	 * before they can deadlock. */
	expect_assert_failure(mmu_spin_lock(&low));
	expect_assert_failure(mmu_spin_lock(&inner));
	env_hosted_set_assert_handler(NULL);
	mmu_spin_unlock(&inner);
	mmu_rwlock_read_unlock(&outer);
	assert_int_equal(lock_held_mode(&outer), 0);
	assert_int_equal(lock_held_mode(&inner), 0);
	mmu_spin_lock(&low); /* fine on its own */
	mmu_spin_unlock(&low);
}

static struct slots_srcu ss;
static struct env_gate reader_in, reader_out;
static u32 sync_done;

static void *reader(void *arg)
{
	int idx = srcu_read_lock(&ss);

	env_gate_open(&reader_in);
	env_gate_wait(&reader_out);
	assert_int_equal(atomic_read(&sync_done), 0); /* the writer is still waiting */
	srcu_read_unlock(&ss, idx);
	return NULL;
}

static void *writer(void *arg)
{
	srcu_synchronize(&ss);
	atomic_set(&sync_done, 1);
	return NULL;
}

static void test_srcu_waits_for_old_readers_only(void **state)
{
	pthread_t r, w;
	int idx;

	(void)state;
	srcu_init(&ss);
	atomic_set(&sync_done, 0);
	env_gate_init(&reader_in);
	env_gate_init(&reader_out);
	assert_int_equal(pthread_create(&r, NULL, reader, NULL), 0);
	env_gate_wait(&reader_in);
	assert_int_equal(pthread_create(&w, NULL, writer, NULL), 0);
	/* A reader that arrives now does not hold the writer up. */
	while (atomic_read(&ss.phase) == 0)
		env_yield();
	idx = srcu_read_lock(&ss);
	srcu_read_unlock(&ss, idx);
	env_gate_open(&reader_out);
	pthread_join(r, NULL);
	pthread_join(w, NULL);
	assert_int_equal(atomic_read(&sync_done), 1);
	/* A writer inside a read section would wait for itself: refused. */
	env_hosted_set_assert_handler(assert_to_cmocka);
	idx = srcu_read_lock(&ss);
	expect_assert_failure(srcu_synchronize(&ss));
	srcu_read_unlock(&ss, idx);
	env_hosted_set_assert_handler(NULL);
	env_gate_destroy(&reader_in);
	env_gate_destroy(&reader_out);
}

/*
 * The brlock handshake: a reader that saw no writer but has not counted
 * itself yet is overtaken by a writer, whose drain finds no reader and
 * enters. The reader, once it counts itself, must see the writer's flag and
 * back out (then wait), not enter next to the writer.
 */
static struct mmu_rwlock xrw;
static struct env_gate reader_parked, reader_go;
static int reader_entered;
static _Thread_local bool park_me;

static void park_reader(enum env_hook h, void *arg, void *ctx)
{
	if (!park_me || arg != &xrw)
		return;
	park_me = false;
	env_gate_open(&reader_parked);
	env_gate_wait(&reader_go);
}

static void *overtaken_reader(void *arg)
{
	park_me = true;
	mmu_rwlock_read_lock(&xrw);
	atomic_set(&reader_entered, 1);
	mmu_rwlock_read_unlock(&xrw);
	return NULL;
}

static void test_reader_rechecks_writer(void **state)
{
	pthread_t th;
	int entered;

	(void)state;
	mmu_rwlock_init(&xrw, "overtaken", 30);
	atomic_set(&reader_entered, 0);
	env_gate_init(&reader_parked);
	env_gate_init(&reader_go);
	env_hosted_bind_hook(HOOK_RWLOCK_READ_CHECKED, park_reader, NULL);
	assert_int_equal(pthread_create(&th, NULL, overtaken_reader, NULL), 0);
	env_gate_wait(&reader_parked);
	ktest_step("reader checked for writers, not counted yet; a writer enters");
	mmu_rwlock_write_lock(&xrw);
	env_gate_open(&reader_go);
	KTEST_SPIN_UNTIL(atomic_read(&xrw.readers_waiting) || atomic_read(&reader_entered),
			 "the reader backing out (or entering)");
	entered = atomic_read(&reader_entered);
	mmu_rwlock_write_unlock(&xrw);
	pthread_join(th, NULL);
	env_hosted_unbind_hook(HOOK_RWLOCK_READ_CHECKED, park_reader);
	env_gate_destroy(&reader_parked);
	env_gate_destroy(&reader_go);
	if (entered)
		fail_msg("a reader entered while a writer held the MMU lock");
	assert_int_equal(atomic_read(&reader_entered), 1); /* got in after the writer */
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_writer_not_starved),
		cmocka_unit_test(test_tracking_and_order),
		cmocka_unit_test(test_srcu_waits_for_old_readers_only),
		cmocka_unit_test(test_reader_rechecks_writer),
	};

	env_hosted_reset();
	return ktest_run_group("unit_lock", tests, argc, argv);
}
