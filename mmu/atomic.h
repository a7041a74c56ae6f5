/* SPDX-License-Identifier: MIT */
/*
 * Atomics for the MMU: thin names over GCC __atomic builtins, which work the
 * same freestanding (keel.efi) and hosted (where ThreadSanitizer understands
 * them). Loads acquire and stores release; read-modify-writes and
 * compare-exchange are sequentially consistent, which the slot read side
 * (mmu/srcu.c) and the TLB flush generation rely on.
 */
#pragma once

#include <keel/types.h>

#define atomic_read(p)      __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define atomic_read_sc(p)   __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define atomic_set(p, v)    __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define atomic_set_sc(p, v) __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)
/* add/sub return the new value */
#define atomic_add(p, v)    __atomic_add_fetch((p), (v), __ATOMIC_SEQ_CST)
#define atomic_sub(p, v)    __atomic_sub_fetch((p), (v), __ATOMIC_SEQ_CST)
#define atomic_fetch_or(p, v) __atomic_fetch_or((p), (v), __ATOMIC_SEQ_CST)
#define atomic_xchg(p, v)   __atomic_exchange_n((p), (v), __ATOMIC_SEQ_CST)
/* On failure *(oldp) is refreshed with the current value. */
#define atomic_cmpxchg(p, oldp, new)                                      \
	__atomic_compare_exchange_n((p), (oldp), (new), false,            \
				    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)
