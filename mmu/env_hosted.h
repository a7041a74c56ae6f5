/* SPDX-License-Identifier: MIT */
/*
 * Knobs of the hosted environment (mmu/env_hosted.c).
 *
 * THIS HEADER IS A CONTRACT FOR TESTS: unit tests, seed tests, the stress
 * harness and the benchmarks turn these knobs. All of them are process-wide
 * and thread-safe; env_hosted_reset() puts every knob back to its default
 * (no injected failures, resched only when the lock is contended, no hooks,
 * assertion failures abort).
 */
#pragma once

#include "mmu/env.h"

void env_hosted_reset(void);

/* Page allocation failures. fail_nth(n): the n-th page allocation from now
 * fails (1 = the next one), once; 0 disarms. fail_every(k): every k-th one
 * fails until reset (0 = off). Small-object allocations never fail. */
void env_hosted_fail_page_alloc_nth(u64 n);
void env_hosted_fail_page_alloc_every(u64 k);
/* A budget: allocations fail while pages_live + request > pages (0 = no
 * limit), as when keel.efi's pool is exhausted; freeing makes room again. */
void env_hosted_set_page_limit(u64 pages);
u64 env_hosted_pages_live(void);      /* pages allocated and not freed */
u64 env_hosted_page_failures(void);   /* failures injected so far */

/* The need-resched policy consulted by long walks under the exclusive lock. */
enum env_resched_policy {
	ENV_RESCHED_WHEN_CONTENDED, /* default: yield when someone waits */
	ENV_RESCHED_NEVER,
	ENV_RESCHED_ALWAYS,         /* "yield now", every time it is asked */
};
void env_hosted_set_resched(enum env_resched_policy p);
u64 env_hosted_resched_queries(void);

/* Hooks: fn(hook, arg, ctx) runs on the thread that reaches the hook point.
 * 'arg' is point-specific (see enum env_hook). A point holds up to four
 * callbacks, run in the order bound: binding adds one (it never replaces
 * another test's), unbind_hook removes every binding of fn, and binding
 * NULL removes all of the point's callbacks. */
typedef void (*env_hook_fn)(enum env_hook h, void *arg, void *ctx);
void env_hosted_bind_hook(enum env_hook h, env_hook_fn fn, void *ctx);
void env_hosted_unbind_hook(enum env_hook h, env_hook_fn fn);
/* Hits are counted only while a test asks (turning it on zeroes the count):
 * an idle hook point bumps no shared counter. */
void env_hosted_count_hook(enum env_hook h, bool on);
u64 env_hosted_hook_hits(enum env_hook h);

/* Every thread on per-CPU slot 0 (env_cpu_slot), as when threads outnumber
 * ENV_CPU_SLOTS; switch only while no thread holds an MMU lock. */
void env_hosted_share_cpu_slot(bool on);

/* Assertion failures call this handler (default: print and abort). A test
 * handler must not return (e.g. cmocka's mock_assert longjmps). */
typedef void (*env_assert_fn)(const char *expr, const char *file, int line);
void env_hosted_set_assert_handler(env_assert_fn fn);

/* A gate for parking a thread at a hook point until the test opens it. */
struct env_gate {
	void *impl;
};
void env_gate_init(struct env_gate *g);
void env_gate_destroy(struct env_gate *g);
void env_gate_wait(struct env_gate *g);   /* blocks until opened */
void env_gate_open(struct env_gate *g);
bool env_gate_is_open(struct env_gate *g);
/* Wait until 'count' threads are blocked in env_gate_wait(). */
void env_gate_wait_for_waiters(struct env_gate *g, unsigned count);
