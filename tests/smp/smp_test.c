// SPDX-License-Identifier: MIT
/*
 * The remote-flush protocol with vCPUs on other CPUs (model vCPU threads,
 * smp_model.h). Each scenario checks behaviour: after a zap, a slot
 * deletion, a dirty-log enable or a harvest returns, no vCPU in guest mode
 * uses a translation the operation removed (the oracle counts violations);
 * pages written after a harvest appear in the next one; a vCPU parked
 * outside the guest is not waited for and flushes when it enters again; and
 * a parked vCPU does not keep page tables from being freed.
 *
 * smp_zap_waits_for_entering_vcpu parks a vCPU between its lock-free
 * flush-generation check and its entry (HOOK_VCPU_ENTERING).
 *
 * The two interleavings of issue "SMP" are here as deterministic tests: smp_zap_kicks_vcpus_in_guest and smp_harvest_write_protects_writers
 * (a zap or write-protect returned while another CPU's vCPU kept using its
 * TLB), smp_parked_vcpu_does_not_block_reclaim (the grace period waited for a
 * vCPU parked outside the guest, so evict rounds freed nothing).
 */
#include <string.h>
#include <unistd.h>
#include "tests/smp/smp_model.h"

#define SLOT_PAGES 512   /* 2 MiB of 4 KiB leaves (backing is not 2 MiB-congruent) */
#define BACKING 0x300001

static struct mmu_vcpu *extra_vcpu; /* a test's second vCPU of its own */

static int teardown(void **state)
{
	smp_vcpu_stop_all();
	smp_watchdog_disarm();
	mmu_vcpu_destroy(extra_vcpu);
	extra_vcpu = NULL;
	return tmmu_teardown(state);
}

static int setup(void **state)
{
	int r = tmmu_setup(state);

	smp_oracle_reset();
	return r;
}

static void assert_no_violations(struct smp_vcpu *v, const char *scenario)
{
	u64 n = __atomic_load_n(&v->violations, __ATOMIC_SEQ_CST);

	if (n)
		fail_msg("%s: vcpu %u used %llu stale translation(s) in guest mode; first: "
			 "gfn 0x%llx, removed by operation %llu which had returned",
			 scenario, v->id, (unsigned long long)n, (unsigned long long)v->bad_gfn,
			 (unsigned long long)v->bad_op);
}

static u64 rd(const u64 *p)
{
	return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}

/* Stop n vCPUs, then check that none used a stale translation and that each
 * was kicked at least min_kicks times. */
static void stop_and_check(struct smp_vcpu *v, int n, const char *sc, u64 min_kicks)
{
	for (int i = 0; i < n; i++)
		smp_vcpu_stop(&v[i]);
	for (int i = 0; i < n; i++) {
		assert_no_violations(&v[i], sc);
		assert_true(rd(&v[i].kicks) >= min_kicks);
	}
}

/* Interleaving (a), zap: two vCPUs are in the guest with their pages in
 * their TLBs; the zap must kick both and return only once neither can use
 * the removed translations. */
static void smp_zap_kicks_vcpus_in_guest(void **state)
{
	const char *sc = "zap while two vCPUs run in the guest";
	struct tmmu *t = *state;
	static struct smp_vcpu v[2];

	smp_watchdog_arm(sc, 120);
	tmmu_add_slot(t->mmu, 0, 0, SLOT_PAGES, BACKING, 0);
	smp_vcpu_start(&v[0], t->mmu, 1, 0, 8, MMU_ACC_WRITE);
	smp_vcpu_start(&v[1], t->mmu, 2, 4, 8, MMU_ACC_READ);
	for (int i = 0; i < 2; i++)
		smp_vcpu_wait_passes(&v[i], 2, sc);

	smp_op_begin();
	mmu_zap_gfn_range(t->mmu, GFN(0), GFN(16));
	smp_op_revoke(0, 16);
	smp_op_end();

	for (int i = 0; i < 2; i++)
		smp_vcpu_wait_passes(&v[i], 3, sc);
	stop_and_check(v, 2, sc, 1);
	for (int i = 0; i < 2; i++)
		assert_true(rd(&v[i].flushes) >= 2); /* first entry, and after the kick */
	smp_watchdog_disarm();
}

static bool bitmap_has(const u64 *bm, u64 first, u64 n)
{
	for (u64 g = first; g < first + n; g++)
		if (!(bm[g / 64] & BIT(g % 64)))
			return false;
	return true;
}

/* Interleaving (a), dirty logging: writers keep writing while dirty logging
 * is enabled and harvested; a write through a TLB entry that is writable
 * after the harvest returned would never reach the bitmap. */
static void smp_harvest_write_protects_writers(void **state)
{
	const char *sc = "dirty-log enable and harvest while two vCPUs write";
	struct tmmu *t = *state;
	static struct smp_vcpu v[2];
	static u64 bm[SLOT_PAGES / 64];

	smp_watchdog_arm(sc, 120);
	tmmu_add_slot(t->mmu, 0, 0, SLOT_PAGES, BACKING, 0);
	smp_vcpu_start(&v[0], t->mmu, 1, 0, 8, MMU_ACC_WRITE);
	smp_vcpu_start(&v[1], t->mmu, 2, 8, 8, MMU_ACC_WRITE);
	for (int i = 0; i < 2; i++)
		smp_vcpu_wait_passes(&v[i], 2, sc);

	smp_op_begin();
	assert_int_equal(mmu_slot_set_flags(t->mmu, 0, MEMSLOT_DIRTY_LOG), 0);
	smp_op_revoke_write(0, SLOT_PAGES);
	smp_op_end();
	for (int i = 0; i < 2; i++)
		smp_vcpu_wait_passes(&v[i], 2, sc);

	for (int round = 0; round < 3; round++) {
		smp_op_begin();
		assert_int_equal(mmu_slot_get_dirty_log(t->mmu, 0, bm), 0);
		smp_op_revoke_write(0, SLOT_PAGES);
		smp_op_end();
		/* Every page was written since the previous harvest (or enable). */
		if (!bitmap_has(bm, 0, 16))
			fail_msg("%s: harvest %d lost pages written after the previous one "
				 "(bitmap word 0x%llx)", sc, round, (unsigned long long)bm[0]);
		for (int i = 0; i < 2; i++)
			smp_vcpu_wait_passes(&v[i], 2, sc);
	}
	stop_and_check(v, 2, sc, 1);
	smp_watchdog_disarm();
}

/* Slot deletion invalidates every root: a vCPU in the guest on the other
 * slot keeps an obsolete root loaded until it is kicked; the one on the
 * deleted slot must stop using it. */
static void smp_slot_delete_covers_obsolete_roots(void **state)
{
	const char *sc = "slot deletion while vCPUs run on it and on another slot";
	struct tmmu *t = *state;
	static struct smp_vcpu v[2];

	smp_watchdog_arm(sc, 120);
	tmmu_add_slot(t->mmu, 0, 0, SLOT_PAGES, BACKING, 0);
	tmmu_add_slot(t->mmu, 1, 1024, SLOT_PAGES, BACKING + 0x1000, 0);
	smp_vcpu_start(&v[0], t->mmu, 1, 0, 8, MMU_ACC_WRITE);
	smp_vcpu_start(&v[1], t->mmu, 2, 1024, 8, MMU_ACC_READ);
	for (int i = 0; i < 2; i++)
		smp_vcpu_wait_passes(&v[i], 2, sc);

	smp_op_begin();
	assert_int_equal(mmu_slot_delete(t->mmu, 1), 0);
	smp_op_revoke(1024, 1024 + SLOT_PAGES);
	smp_op_end();
	smp_vcpu_wait_passes(&v[0], 3, sc);
	smp_vcpu_wait_entries(&v[1], 3, sc); /* its pages are gone: it keeps exiting */

	smp_op_begin();
	tmmu_add_slot(t->mmu, 1, 1024, SLOT_PAGES, BACKING + 0x1000, 0);
	smp_op_end();
	smp_vcpu_wait_passes(&v[1], 2, sc);
	stop_and_check(v, 2, sc, 1);
	smp_watchdog_disarm();
}

/* Flush waits consider only vCPUs that can see the tables: a vCPU parked
 * outside the guest is not kicked nor waited for (the zap returns while it
 * sleeps), and it flushes when it next enters. */
static void smp_parked_vcpu_flushes_on_entry(void **state)
{
	const char *sc = "zap while one vCPU runs and one is parked outside the guest";
	struct tmmu *t = *state;
	static struct smp_vcpu v[2];
	u64 flushes, kicks;

	smp_watchdog_arm(sc, 120);
	tmmu_add_slot(t->mmu, 0, 0, SLOT_PAGES, BACKING, 0);
	smp_vcpu_start(&v[0], t->mmu, 1, 0, 8, MMU_ACC_WRITE);
	smp_vcpu_start(&v[1], t->mmu, 2, 0, 8, MMU_ACC_READ);
	for (int i = 0; i < 2; i++)
		smp_vcpu_wait_passes(&v[i], 2, sc);
	smp_vcpu_park(&v[1], sc);
	flushes = rd(&v[1].flushes);
	kicks = rd(&v[1].kicks);

	smp_op_begin();
	mmu_zap_gfn_range(t->mmu, GFN(0), GFN(8));
	smp_op_revoke(0, 8);
	smp_op_end();
	assert_int_equal(rd(&v[1].kicks), kicks); /* parked: not kicked */

	smp_vcpu_unpark(&v[1]);
	for (int i = 0; i < 2; i++)
		smp_vcpu_wait_passes(&v[i], 2, sc);
	assert_true(rd(&v[1].flushes) > flushes); /* flushed on its way back in */
	stop_and_check(v, 2, sc, 0);
	smp_watchdog_disarm();
}

struct entering {
	struct smp_vcpu *v;
	struct env_gate parked, release;
	struct mmu *mmu;
	u32 once, zap_done;
};

/* Park the vCPU once, ENTERING, after its lock-free check passed. */
static void park_entering(enum env_hook h, void *arg, void *ctx)
{
	struct entering *e = ctx;

	if (arg != e->v->mv || __atomic_exchange_n(&e->once, 1, __ATOMIC_SEQ_CST))
		return;
	env_gate_open(&e->parked);
	env_gate_wait(&e->release);
}

static void *zap_thread(void *arg)
{
	struct entering *e = arg;

	smp_op_begin();
	mmu_zap_gfn_range(e->mmu, GFN(0), GFN(8));
	smp_op_revoke(0, 8);
	smp_op_end();
	__atomic_store_n(&e->zap_done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/* The entering race: a vCPU has read flush_gen (unchanged: no flush) and is
 * about to enter the guest when a zap bumps it. The zap must wait for the
 * ENTERING vCPU too, and kick it; a flush that only looked for vCPUs
 * already IN the guest would return while this one enters with a stale
 * TLB. */
static void smp_zap_waits_for_entering_vcpu(void **state)
{
	const char *sc = "zap while a vCPU is entering the guest";
	struct tmmu *t = *state;
	static struct smp_vcpu v;
	static struct entering e;
	pthread_t z;

	smp_watchdog_arm(sc, 120);
	tmmu_add_slot(t->mmu, 0, 0, SLOT_PAGES, BACKING, 0);
	smp_vcpu_start(&v, t->mmu, 1, 0, 8, MMU_ACC_WRITE);
	smp_vcpu_wait_passes(&v, 2, sc);
	smp_vcpu_park(&v, sc); /* outside the guest, its TLB still full */

	memset(&e, 0, sizeof(e));
	e.v = &v;
	e.mmu = t->mmu;
	env_gate_init(&e.parked);
	env_gate_init(&e.release);
	env_hosted_bind_hook(HOOK_VCPU_ENTERING, park_entering, &e);
	smp_vcpu_unpark(&v);
	env_gate_wait(&e.parked);

	assert_int_equal(pthread_create(&z, NULL, zap_thread, &e), 0);
	for (int i = 0; i < 300 && !__atomic_load_n(&e.zap_done, __ATOMIC_SEQ_CST); i++)
		usleep(1000);
	if (__atomic_load_n(&e.zap_done, __ATOMIC_SEQ_CST)) {
		env_gate_open(&e.release);
		pthread_join(z, NULL);
		fail_msg("%s: the zap returned while the vCPU was entering with an older flush "
			 "generation", sc);
	}
	env_gate_open(&e.release);
	pthread_join(z, NULL);
	env_hosted_bind_hook(HOOK_VCPU_ENTERING, NULL, NULL);
	smp_vcpu_wait_passes(&v, 2, sc);
	smp_vcpu_stop(&v);
	assert_no_violations(&v, sc);
	assert_true(rd(&v.kicks) >= 1);
	env_gate_destroy(&e.parked);
	env_gate_destroy(&e.release);
	smp_watchdog_disarm();
}

static void enter_fault_exit(struct mmu_vcpu *mv, u64 first_gfn, unsigned regions)
{
	hpa_t root;
	bool flush;

	assert_int_equal(mmu_vcpu_load_root(mv, &root, &flush), 0);
	mmu_vcpu_exit_guest(mv); /* the faults are exits */
	for (unsigned i = 0; i < regions; i++) {
		enum mmu_fault_result r =
			mmu_page_fault(mv, GPA((first_gfn + i * MIB2_PAGES) << 12), MMU_ACC_WRITE);

		assert_true(r == MMU_FAULT_FIXED || r == MMU_FAULT_SPURIOUS);
	}
}

/* Interleaving (b): vCPU A entered once and is parked outside the guest;
 * vCPU B faults tables in and the pool runs dry, so B's run loop evicts.
 * The zapped tables must be freed: A cannot walk them before it flushes. */
static void smp_parked_vcpu_does_not_block_reclaim(void **state)
{
	const char *sc = "evict rounds while a vCPU is parked outside the guest";
	struct tmmu *t = *state;
	struct mmu_vcpu *a = extra_vcpu = mmu_vcpu_create(t->mmu, 1), *b = t->v;
	u64 freed = 0;

	smp_watchdog_arm(sc, 120);
	tmmu_add_slot(t->mmu, 0, 0, 64 * MIB2_PAGES, BACKING, 0);
	enter_fault_exit(a, 0, 1);
	for (int round = 0; round < 4; round++) {
		u64 f, pending;

		enter_fault_exit(b, 0, 64);
		f = mmu_evict(t->mmu);
		pending = mmu_debug_tables_pending_free(t->mmu);
		freed += f;
		if (!f || pending)
			fail_msg("%s: round %d freed %llu page tables, %llu still pending", sc,
				 round, (unsigned long long)f, (unsigned long long)pending);
	}
	assert_true(freed >= 4 * 64);
	smp_watchdog_disarm();
}

/* Everything at once: three vCPUs on overlapping pages while the test zaps
 * ranges, turns dirty logging on and off, harvests, and deletes and re-adds
 * the slot. */
static void smp_mixed_operations(void **state)
{
	const char *sc = "mixed zap/dirty-log/harvest/delete while three vCPUs run";
	struct tmmu *t = *state;
	static struct smp_vcpu v[3];
	static u64 bm[SLOT_PAGES / 64];
	u64 kicks = 0, seed = 0x9e3779b97f4a7c15ull;
	bool dirty = false;

	smp_watchdog_arm(sc, 300);
	tmmu_add_slot(t->mmu, 0, 0, SLOT_PAGES, BACKING, 0);
	smp_vcpu_start(&v[0], t->mmu, 1, 0, 16, MMU_ACC_WRITE);
	smp_vcpu_start(&v[1], t->mmu, 2, 8, 16, MMU_ACC_WRITE);
	smp_vcpu_start(&v[2], t->mmu, 3, 4, 24, MMU_ACC_READ);
	for (int op = 0; op < 120; op++) {
		u64 lo, hi;

		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		lo = (seed >> 33) % 32;
		hi = lo + 1 + (seed >> 40) % 16;
		smp_op_begin();
		switch ((seed >> 50) % 4) {
		case 0:
			mmu_zap_gfn_range(t->mmu, GFN(lo), GFN(hi));
			smp_op_revoke(lo, hi);
			break;
		case 1:
			dirty = !dirty;
			assert_int_equal(mmu_slot_set_flags(t->mmu, 0,
							    dirty ? MEMSLOT_DIRTY_LOG : 0), 0);
			/* Stopping removes no translation: huge-page recovery
			 * replaces a table by a leaf of the same frames and at
			 * least the same rights (none here: the backing is not
			 * 2 MiB-congruent). */
			if (dirty)
				smp_op_revoke_write(0, SLOT_PAGES);
			break;
		case 2:
			if (dirty) {
				assert_int_equal(mmu_slot_get_dirty_log(t->mmu, 0, bm), 0);
				smp_op_revoke_write(0, SLOT_PAGES);
			}
			break;
		default:
			assert_int_equal(mmu_slot_delete(t->mmu, 0), 0);
			smp_op_revoke(0, SLOT_PAGES);
			smp_op_end();
			smp_op_begin();
			tmmu_add_slot(t->mmu, 0, 0, SLOT_PAGES, BACKING, dirty ? MEMSLOT_DIRTY_LOG : 0);
			break;
		}
		smp_op_end();
		for (int i = 0; i < 3; i++)
			if (op % 8 == 0)
				smp_vcpu_wait_passes(&v[i], 1, sc);
		usleep(200);
	}
	for (int i = 0; i < 3; i++)
		smp_vcpu_stop(&v[i]);
	for (int i = 0; i < 3; i++) {
		assert_no_violations(&v[i], sc);
		kicks += rd(&v[i].kicks);
	}
	assert_true(kicks > 0);
	tmmu_assert_verify(t->mmu);
	smp_watchdog_disarm();
}

#define SMP_TEST(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		SMP_TEST(smp_zap_kicks_vcpus_in_guest),
		SMP_TEST(smp_harvest_write_protects_writers),
		SMP_TEST(smp_slot_delete_covers_obsolete_roots),
		SMP_TEST(smp_parked_vcpu_flushes_on_entry),
		SMP_TEST(smp_zap_waits_for_entering_vcpu),
		SMP_TEST(smp_parked_vcpu_does_not_block_reclaim),
		SMP_TEST(smp_mixed_operations),
	};

	return cmocka_run_group_tests_name("smp", tests, NULL, NULL);
}
