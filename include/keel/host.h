/* SPDX-License-Identifier: MIT */
/*
 * Services keel.efi offers to portable code (rt/mmu_env.c is their only
 * user outside vmm/ and boot/). Keel runs with an identity map of all host
 * memory, so a pointer to host memory is its host-physical address.
 */
#pragma once

#include <keel/types.h>

/* Zeroed, 4 KiB-aligned pages from Keel's own pool; NULL when exhausted. */
void *host_alloc_pages(size_t n);
void host_free_pages(void *p, size_t n);
/* Small objects (any size, 16-byte aligned, zeroed); NULL when exhausted. */
void *host_alloc(size_t bytes);
void host_free(void *p);

__printf(1, 2) void host_log(const char *fmt, ...);
__noreturn __printf(1, 2) void host_panic(const char *fmt, ...);

unsigned host_cpu_id(void);   /* 0 .. host_cpu_count()-1 */
unsigned host_cpu_count(void);
u64 host_time_ns(void);       /* monotonic, from the TSC */
