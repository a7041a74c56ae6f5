// SPDX-License-Identifier: MIT
/* The MMU environment for hosted builds: libc + pthreads (see env.h). */
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "mmu/env_hosted.h"
#include "mmu/atomic.h"

static u64 fail_nth, fail_every, page_allocs, pages_live, page_failures, page_limit;
static u32 resched_policy;
static u64 resched_queries;
/*
 * Hooks: each point holds up to ENV_HOOK_CALLBACKS callbacks (tests bind
 * their own without replacing anyone else's). 'live' is what env_hook()
 * reads on every pass: it is only written when a test binds, unbinds or
 * asks for hit counting, so with no test attached the hook points cost one
 * read of a line nobody writes (no shared counter is bumped per fault).
 */
#define ENV_HOOK_CALLBACKS 4
static struct {
	struct {
		env_hook_fn fn;
		void *ctx;
	} cb[ENV_HOOK_CALLBACKS];
	u32 live;      /* bound callbacks + (counting ? 1 : 0) */
	bool counting;
	u64 hits;      /* only while counting */
} hooks[HOOK__COUNT];
static struct {
	u32 locked;
} hooks_lock; /* serialises bind/unbind (tests only) */
static env_assert_fn assert_handler;

void env_hosted_reset(void)
{
	atomic_set(&fail_nth, 0);
	atomic_set(&fail_every, 0);
	atomic_set(&page_limit, 0);
	atomic_set(&resched_policy, ENV_RESCHED_WHEN_CONTENDED);
	for (unsigned i = 0; i < HOOK__COUNT; i++) {
		env_hosted_bind_hook(i, NULL, NULL);
		env_hosted_count_hook(i, false);
	}
	atomic_set(&assert_handler, NULL);
}

void env_hosted_fail_page_alloc_nth(u64 n)
{
	atomic_set(&fail_nth, n);
}

void env_hosted_fail_page_alloc_every(u64 k)
{
	atomic_set(&fail_every, k);
	atomic_set(&page_allocs, 0);
}

void env_hosted_set_page_limit(u64 pages)
{
	atomic_set(&page_limit, pages);
}

u64 env_hosted_pages_live(void)
{
	return atomic_read(&pages_live);
}

u64 env_hosted_page_failures(void)
{
	return atomic_read(&page_failures);
}

static bool inject_failure(void)
{
	u64 n = atomic_read(&fail_nth), k = atomic_read(&fail_every);

	while (n) {
		if (atomic_cmpxchg(&fail_nth, &n, n - 1))
			return n == 1;
	}
	return k && atomic_add(&page_allocs, 1) % k == 0;
}

void *env_pages_alloc(unsigned npages)
{
	void *p;

	u64 limit = atomic_read(&page_limit);

	if (inject_failure() || (limit && atomic_read(&pages_live) + npages > limit)) {
		atomic_add(&page_failures, 1);
		return NULL;
	}
	p = aligned_alloc(PAGE_SIZE, npages * PAGE_SIZE);
	if (!p)
		return NULL;
	memset(p, 0, npages * PAGE_SIZE);
	atomic_add(&pages_live, npages);
	return p;
}

void env_pages_free(void *p, unsigned npages)
{
	if (!p)
		return;
	atomic_sub(&pages_live, npages);
	free(p);
}

void *env_zalloc(size_t bytes)
{
	return calloc(1, bytes ? bytes : 1);
}

void env_free(void *p)
{
	free(p);
}

/* The "host-physical address" of hosted memory is its pointer value. */
hpa_t env_virt_to_hpa(const void *p)
{
	return HPA((u64)(uintptr_t)p);
}

void *env_hpa_to_virt(hpa_t hpa)
{
	return (void *)(uintptr_t)hpa.v;
}

void env_cpu_relax(void)
{
	__builtin_ia32_pause();
}

void env_yield(void)
{
	sched_yield();
}

void env_hosted_set_resched(enum env_resched_policy p)
{
	atomic_set(&resched_policy, p);
}

u64 env_hosted_resched_queries(void)
{
	return atomic_read(&resched_queries);
}

bool env_need_resched(bool contended)
{
	atomic_add(&resched_queries, 1);
	switch (atomic_read(&resched_policy)) {
	case ENV_RESCHED_NEVER:
		return false;
	case ENV_RESCHED_ALWAYS:
		return true;
	default:
		return contended;
	}
}

u64 env_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ull + (u64)ts.tv_nsec;
}

struct env_thread *env_thread_self(void)
{
	static _Thread_local struct env_thread self;

	return &self;
}

void env_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void env_hosted_set_assert_handler(env_assert_fn fn)
{
	atomic_set(&assert_handler, fn);
}

void env_assert_failed(const char *expr, const char *file, int line)
{
	env_assert_fn fn = atomic_read(&assert_handler);

	if (fn)
		fn(expr, file, line);
	fprintf(stderr, "MMU assertion failed: %s (%s:%d)\n", expr, file, line);
	abort();
}

static void hooks_lock_take(void)
{
	u32 z = 0;

	while (!atomic_cmpxchg(&hooks_lock.locked, &z, 1)) {
		z = 0;
		sched_yield();
	}
}

static void hooks_lock_drop(void)
{
	atomic_set(&hooks_lock.locked, 0);
}

static void hook_update_live(enum env_hook h)
{
	u32 n = hooks[h].counting;

	for (unsigned i = 0; i < ENV_HOOK_CALLBACKS; i++)
		n += atomic_read(&hooks[h].cb[i].fn) != NULL;
	atomic_set(&hooks[h].live, n);
}

void env_hosted_bind_hook(enum env_hook h, env_hook_fn fn, void *ctx)
{
	unsigned i;

	hooks_lock_take();
	if (!fn) {
		for (i = 0; i < ENV_HOOK_CALLBACKS; i++)
			atomic_set(&hooks[h].cb[i].fn, NULL);
	} else {
		for (i = 0; i < ENV_HOOK_CALLBACKS && atomic_read(&hooks[h].cb[i].fn); i++)
			;
		if (i == ENV_HOOK_CALLBACKS) {
			fprintf(stderr, "env_hosted_bind_hook: more than %d callbacks on hook %d\n",
				ENV_HOOK_CALLBACKS, h);
			abort();
		}
		atomic_set(&hooks[h].cb[i].ctx, ctx);
		atomic_set(&hooks[h].cb[i].fn, fn);
	}
	hook_update_live(h);
	hooks_lock_drop();
}

void env_hosted_unbind_hook(enum env_hook h, env_hook_fn fn)
{
	hooks_lock_take();
	for (unsigned i = 0; i < ENV_HOOK_CALLBACKS; i++)
		if (atomic_read(&hooks[h].cb[i].fn) == fn)
			atomic_set(&hooks[h].cb[i].fn, NULL);
	hook_update_live(h);
	hooks_lock_drop();
}

void env_hosted_count_hook(enum env_hook h, bool on)
{
	hooks_lock_take();
	atomic_set(&hooks[h].hits, 0);
	atomic_set(&hooks[h].counting, on);
	hook_update_live(h);
	hooks_lock_drop();
}

u64 env_hosted_hook_hits(enum env_hook h)
{
	return atomic_read(&hooks[h].hits);
}

void env_hook(enum env_hook h, void *arg)
{
	if (likely(!atomic_read(&hooks[h].live)))
		return;
	if (atomic_read(&hooks[h].counting))
		atomic_add(&hooks[h].hits, 1);
	for (unsigned i = 0; i < ENV_HOOK_CALLBACKS; i++) {
		env_hook_fn fn = atomic_read(&hooks[h].cb[i].fn);

		if (fn)
			fn(h, arg, atomic_read(&hooks[h].cb[i].ctx));
	}
}

/* ---- gates ---- */
struct gate_impl {
	pthread_mutex_t m;
	pthread_cond_t c;
	bool open;
	unsigned waiters;
};

void env_gate_init(struct env_gate *g)
{
	struct gate_impl *gi = calloc(1, sizeof(*gi));

	if (!gi)
		abort();
	pthread_mutex_init(&gi->m, NULL);
	pthread_cond_init(&gi->c, NULL);
	g->impl = gi;
}

void env_gate_destroy(struct env_gate *g)
{
	struct gate_impl *gi = g->impl;

	pthread_mutex_destroy(&gi->m);
	pthread_cond_destroy(&gi->c);
	free(gi);
	g->impl = NULL;
}

void env_gate_wait(struct env_gate *g)
{
	struct gate_impl *gi = g->impl;

	pthread_mutex_lock(&gi->m);
	gi->waiters++;
	pthread_cond_broadcast(&gi->c);
	while (!gi->open)
		pthread_cond_wait(&gi->c, &gi->m);
	gi->waiters--;
	pthread_mutex_unlock(&gi->m);
}

void env_gate_open(struct env_gate *g)
{
	struct gate_impl *gi = g->impl;

	pthread_mutex_lock(&gi->m);
	gi->open = true;
	pthread_cond_broadcast(&gi->c);
	pthread_mutex_unlock(&gi->m);
}

bool env_gate_is_open(struct env_gate *g)
{
	struct gate_impl *gi = g->impl;
	bool open;

	pthread_mutex_lock(&gi->m);
	open = gi->open;
	pthread_mutex_unlock(&gi->m);
	return open;
}

void env_gate_wait_for_waiters(struct env_gate *g, unsigned count)
{
	struct gate_impl *gi = g->impl;

	pthread_mutex_lock(&gi->m);
	while (gi->waiters < count && !gi->open)
		pthread_cond_wait(&gi->c, &gi->m);
	pthread_mutex_unlock(&gi->m);
}
