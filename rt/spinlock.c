// SPDX-License-Identifier: MIT
#include <keel/host.h>
#include "arch/x86/cpu.h"
#include "rt/spinlock.h"
#include "rt/cpu_local.h"

/* During a panic a lock held by a CPU that was stopped mid-line is taken
 * over after this many spins: the panic report matters more than one line. */
#define RT_LOCK_PANIC_SPINS 10000000u

bool rt_lock_acquire(struct rt_lock *l)
{
	u32 me = host_cpu_id() + 1, zero;
	unsigned spins = 0;

	if (__atomic_load_n(&l->owner, __ATOMIC_RELAXED) == me)
		return false;
	for (;;) {
		zero = 0;
		if (!__atomic_load_n(&l->locked, __ATOMIC_RELAXED) &&
		    __atomic_compare_exchange_n(&l->locked, &zero, 1, false, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			break;
		if (rt_panicking() && ++spins > RT_LOCK_PANIC_SPINS)
			break;
		cpu_relax();
	}
	__atomic_store_n(&l->owner, me, __ATOMIC_RELAXED);
	return true;
}

void rt_lock_release(struct rt_lock *l)
{
	__atomic_store_n(&l->owner, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}
