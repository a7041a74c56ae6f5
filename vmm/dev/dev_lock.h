/* SPDX-License-Identifier: MIT */
/*
 * The device models' lock (docs/platform.md, "Locking"): a spinlock that
 * records its holder (host CPU + 1; a thread in the hosted tests), so every
 * function that needs a lock asserts it holds it. Interrupts are always off
 * in Keel, so a holder is never interrupted but by an NMI, which never
 * touches the platform. Locks are never taken recursively.
 */
#pragma once

#include <keel/host.h>
#include <keel/types.h>

struct dev_lock {
	u32 locked;
	u32 owner; /* host_cpu_id() + 1 of the holder, 0 when free */
	const char *name;
};

static inline void dev_lock_init(struct dev_lock *l, const char *name)
{
	l->locked = 0;
	l->owner = 0;
	l->name = name;
}

static inline bool dev_lock_held(const struct dev_lock *l)
{
	return __atomic_load_n(&l->owner, __ATOMIC_RELAXED) == host_cpu_id() + 1;
}

static inline void dev_lock(struct dev_lock *l)
{
	if (dev_lock_held(l))
		host_panic("vmm/dev: %s taken twice on one CPU", l->name);
	while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED))
			__builtin_ia32_pause();
	__atomic_store_n(&l->owner, host_cpu_id() + 1, __ATOMIC_RELAXED);
}

static inline void dev_unlock(struct dev_lock *l)
{
	if (!dev_lock_held(l))
		host_panic("vmm/dev: %s released by a CPU that does not hold it", l->name);
	__atomic_store_n(&l->owner, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

/* Every function that touches a field the lock owns says so. */
#define DEV_ASSERT_HELD(l)                                                              \
	do {                                                                            \
		if (!dev_lock_held(l))                                                  \
			host_panic("%s:%d: %s not held", __FILE__, __LINE__, (l)->name); \
	} while (0)
