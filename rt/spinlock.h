/* SPDX-License-Identifier: MIT */
/*
 * The runtime's spinlock (interrupts are always off in Keel, so holding one
 * is never interrupted except by NMI). It records its owner CPU so that a
 * CPU stopped by a panic NMI while holding the console lock can still print
 * its own state (rt_lock_acquire_console). The MMU has its own locks
 * (mmu/lock.c); this one is for rt/ only.
 */
#pragma once

#include <keel/types.h>

struct rt_lock {
	u32 locked;
	u32 owner; /* CPU index + 1 while locked */
};

/* Returns false when the lock was already held by this CPU (a nested
 * acquire from an NMI or a panic): the caller then must not release it. */
bool rt_lock_acquire(struct rt_lock *l);
void rt_lock_release(struct rt_lock *l);
