// SPDX-License-Identifier: MIT
/* The model vCPUs and the stale-translation oracle (smp_model.h). */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sched.h>
#include "tests/smp/smp_model.h"
#include "mmu/atomic.h"

#define WAIT_LIMIT_NS (60ull * 1000000000ull)

static u64 op_started;                /* number of the last operation begun */
static u64 op_done;                   /* ... and of the last one that returned */
static u64 revoked[SMP_MAX_GFN];      /* last returned op that removed the page */
static u64 revoked_w[SMP_MAX_GFN];    /* ... that write-protected it */

void smp_oracle_reset(void)
{
	atomic_set_sc(&op_started, 0);
	atomic_set_sc(&op_done, 0);
	for (unsigned i = 0; i < SMP_MAX_GFN; i++) {
		atomic_set(&revoked[i], 0);
		atomic_set(&revoked_w[i], 0);
	}
}

void smp_op_begin(void)
{
	atomic_add(&op_started, 1);
}

void smp_op_end(void)
{
	atomic_set_sc(&op_done, atomic_read_sc(&op_started));
}

/* The number of the last operation, when none is in progress; else ~0. */
static u64 quiet_op(void)
{
	u64 s = atomic_read_sc(&op_started);

	return atomic_read_sc(&op_done) == s ? s : ~0ull;
}

static void revoke_range(u64 *map, u64 start, u64 end)
{
	u64 op = atomic_read_sc(&op_started);

	for (u64 g = start; g < end && g < SMP_MAX_GFN; g++)
		atomic_set_sc(&map[g], op);
}

void smp_op_revoke(u64 start, u64 end)
{
	revoke_range(revoked, start, end);
}

void smp_op_revoke_write(u64 start, u64 end)
{
	revoke_range(revoked_w, start, end);
}

/* ---- the vCPU's TLB ---- */

static struct smp_tlb_entry *tlb_find(struct smp_vcpu *v, u64 gfn, u32 access)
{
	for (unsigned i = 0; i < SMP_TLB_SIZE; i++) {
		struct smp_tlb_entry *e = &v->tlb[i];

		if (e->valid && e->gfn == gfn && (e->perms & access) == access)
			return e;
	}
	return NULL;
}

static void tlb_flush(struct smp_vcpu *v)
{
	memset(v->tlb, 0, sizeof(v->tlb));
}

/* Outside the guest: after a fault, cache what the tables now say. A fill
 * that overlapped an operation is dropped: it may predate the operation's
 * change or follow it, and the oracle could not tell which. */
static void tlb_fill(struct smp_vcpu *v, u64 gfn, u64 op)
{
	hfn_t hfn;
	int level;
	u32 perms;
	struct smp_tlb_entry *slot = NULL;

	if (!mmu_debug_lookup(v->mmu, GFN(gfn), &hfn, &level, &perms))
		return;
	if (op == ~0ull || quiet_op() != op)
		return;
	for (unsigned i = 0; i < SMP_TLB_SIZE && !slot; i++)
		if (!v->tlb[i].valid || v->tlb[i].gfn == gfn)
			slot = &v->tlb[i];
	if (!slot)
		slot = &v->tlb[gfn % SMP_TLB_SIZE];
	*slot = (struct smp_tlb_entry){ gfn, hfn.v, perms, op, true };
}

/* In the guest: using entry e for 'access'. */
static void tlb_use(struct smp_vcpu *v, const struct smp_tlb_entry *e, u32 access)
{
	u64 r = atomic_read_sc(&revoked[e->gfn]);

	if ((access & MMU_ACC_WRITE) && atomic_read_sc(&revoked_w[e->gfn]) > r)
		r = atomic_read_sc(&revoked_w[e->gfn]);
	if (r <= e->fill_op)
		return;
	if (atomic_add(&v->violations, 1) == 1) {
		atomic_set(&v->bad_gfn, e->gfn);
		atomic_set(&v->bad_op, r);
	}
}

/* ---- the vCPU thread ---- */

static void model_kick(void *arg)
{
	struct smp_vcpu *v = arg;

	atomic_set_sc(&v->kicked, 1);
}

static void enter(struct smp_vcpu *v)
{
	hpa_t root;
	bool flush = false;

	assert_int_equal(mmu_vcpu_load_root(v->mv, &root, &flush), 0);
	if (flush) {
		tlb_flush(v);
		atomic_add(&v->flushes, 1);
	}
	atomic_set(&v->last_entry_flushed, flush);
	atomic_add(&v->entries, 1);
	atomic_set_sc(&v->in_guest, 1);
}

static void leave(struct smp_vcpu *v)
{
	atomic_set_sc(&v->in_guest, 0);
	mmu_vcpu_exit_guest(v->mv);
}

/* An exit for a TLB miss: fault the page in and cache it. */
static void handle_miss(struct smp_vcpu *v, u64 gfn)
{
	u64 op = quiet_op();
	enum mmu_fault_result r = mmu_page_fault(v->mv, GPA(gfn << PAGE_SHIFT), v->access);

	if (r == MMU_FAULT_FIXED || r == MMU_FAULT_SPURIOUS)
		tlb_fill(v, gfn, op);
	else if (r != MMU_FAULT_RETRY && r != MMU_FAULT_RETRY_SLOT && r != MMU_FAULT_NO_SLOT)
		fail_msg("vcpu %u: fault on gfn 0x%llx: %s", v->id, (unsigned long long)gfn,
			 mmu_fault_result_name(r));
}

/* One stay in the guest: until kicked, stopped, or a miss. */
static void run_in_guest(struct smp_vcpu *v)
{
	for (;;) {
		bool all_hit = true;

		for (unsigned i = 0; i < v->npages; i++) {
			const struct smp_tlb_entry *e;

			if (atomic_xchg(&v->kicked, 0)) {
				atomic_add(&v->kicks, 1);
				return;
			}
			if (atomic_read(&v->stop) || atomic_read(&v->park))
				return;
			e = tlb_find(v, v->gfns[i], v->access);
			if (!e) {
				all_hit = false;
				leave(v);
				handle_miss(v, v->gfns[i]);
				enter(v);
				continue;
			}
			tlb_use(v, e, v->access);
		}
		if (all_hit)
			atomic_add(&v->passes, 1);
		sched_yield();
	}
}

static void *vcpu_thread(void *arg)
{
	struct smp_vcpu *v = arg;

	while (!atomic_read(&v->stop)) {
		if (atomic_read(&v->park)) {
			atomic_set(&v->parked, 1);
			while (atomic_read(&v->park) && !atomic_read(&v->stop))
				usleep(100);
			atomic_set(&v->parked, 0);
			continue;
		}
		enter(v);
		run_in_guest(v);
		leave(v);
	}
	return NULL;
}

#define SMP_MAX_VCPUS 8
static struct smp_vcpu *running[SMP_MAX_VCPUS];

void smp_vcpu_stop_all(void)
{
	for (unsigned i = 0; i < SMP_MAX_VCPUS; i++)
		if (running[i])
			smp_vcpu_stop(running[i]);
}

void smp_vcpu_start(struct smp_vcpu *v, struct mmu *mmu, unsigned id, u64 first_gfn,
		    unsigned npages, u32 access)
{
	memset(v, 0, sizeof(*v));
	v->mmu = mmu;
	v->id = id;
	v->access = access;
	v->npages = npages < SMP_MAX_PAGES ? npages : SMP_MAX_PAGES;
	for (unsigned i = 0; i < v->npages; i++)
		v->gfns[i] = first_gfn + i;
	v->mv = mmu_vcpu_create(mmu, id);
	assert_non_null(v->mv);
	mmu_vcpu_set_kick(v->mv, model_kick, v);
	assert_int_equal(pthread_create(&v->thread, NULL, vcpu_thread, v), 0);
	for (unsigned i = 0; i < SMP_MAX_VCPUS; i++)
		if (!running[i]) {
			running[i] = v;
			break;
		}
}

void smp_vcpu_stop(struct smp_vcpu *v)
{
	if (!v->mv)
		return;
	atomic_set_sc(&v->stop, 1);
	pthread_join(v->thread, NULL);
	mmu_vcpu_destroy(v->mv);
	v->mv = NULL;
	for (unsigned i = 0; i < SMP_MAX_VCPUS; i++)
		if (running[i] == v)
			running[i] = NULL;
}

/* A vCPU that used a stale translation may never leave the guest: report it
 * instead of waiting for progress that will not come. */
static void check_waiting(struct smp_vcpu *v, u64 t0, const char *what)
{
	if (atomic_read(&v->violations))
		fail_msg("%s: vcpu %u used a stale translation in guest mode (gfn 0x%llx, "
			 "removed by operation %llu which had returned)", what, v->id,
			 (unsigned long long)atomic_read(&v->bad_gfn),
			 (unsigned long long)atomic_read(&v->bad_op));
	if (env_now_ns() - t0 > WAIT_LIMIT_NS)
		fail_msg("%s: vcpu %u made no progress", what, v->id);
	usleep(50);
}

void smp_vcpu_wait_passes(struct smp_vcpu *v, u64 more, const char *what)
{
	u64 target = atomic_read(&v->passes) + more, t0 = env_now_ns();

	while (atomic_read(&v->passes) < target)
		check_waiting(v, t0, what);
}

void smp_vcpu_wait_entries(struct smp_vcpu *v, u64 more, const char *what)
{
	u64 target = atomic_read(&v->entries) + more, t0 = env_now_ns();

	while (atomic_read(&v->entries) < target)
		check_waiting(v, t0, what);
}

void smp_vcpu_park(struct smp_vcpu *v, const char *what)
{
	u64 t0 = env_now_ns();

	atomic_set_sc(&v->park, 1);
	while (!atomic_read(&v->parked)) {
		if (env_now_ns() - t0 > WAIT_LIMIT_NS)
			fail_msg("%s: vcpu %u did not park", what, v->id);
		usleep(50);
	}
}

void smp_vcpu_unpark(struct smp_vcpu *v)
{
	atomic_set_sc(&v->park, 0);
}

/* ---- watchdog ---- */

static const char *volatile watchdog_scenario;

static void watchdog_fire(int sig)
{
	static const char msg[] = "smp: WATCHDOG: scenario hung: ";
	const char *s = watchdog_scenario ? watchdog_scenario : "?";

	(void)sig;
	if (write(2, msg, sizeof(msg) - 1) < 0 || write(2, s, strlen(s)) < 0 ||
	    write(2, "\n", 1) < 0)
		_exit(2);
	_exit(1);
}

void smp_watchdog_arm(const char *scenario, unsigned seconds)
{
	watchdog_scenario = scenario;
	signal(SIGALRM, watchdog_fire);
	alarm(seconds);
}

void smp_watchdog_disarm(void)
{
	alarm(0);
	watchdog_scenario = NULL;
}
