// SPDX-License-Identifier: MIT
/*
 * The MMU environment inside keel.efi, on include/keel/host.h. Keel's memory
 * is identity-mapped, so a page's pointer is its host-physical address.
 * Per-thread state is per CPU (the MMU never runs preemptibly). Test hooks
 * do nothing here.
 */
#include <stdarg.h>
#include <keel/host.h>
#include <keel/string.h>
#include "mmu/env.h"

#define ENV_MAX_CPUS 64

void *env_pages_alloc(unsigned npages)
{
	return host_alloc_pages(npages);
}

void env_pages_free(void *p, unsigned npages)
{
	if (p)
		host_free_pages(p, npages);
}

void *env_zalloc(size_t bytes)
{
	return host_alloc(bytes);
}

void env_free(void *p)
{
	if (p)
		host_free(p);
}

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
	__asm__ volatile("pause" ::: "memory");
}

void env_yield(void)
{
	env_cpu_relax();
}

/* Give the lock up only when another CPU waits for it. */
bool env_need_resched(bool contended)
{
	return contended;
}

u64 env_now_ns(void)
{
	return host_time_ns();
}

struct env_thread *env_thread_self(void)
{
	static struct env_thread per_cpu[ENV_MAX_CPUS];
	unsigned cpu = host_cpu_id();

	if (cpu >= ENV_MAX_CPUS)
		host_panic("mmu: cpu %u beyond ENV_MAX_CPUS", cpu);
	return &per_cpu[cpu];
}

unsigned env_cpu_slot(void)
{
	return host_cpu_id() % ENV_CPU_SLOTS;
}

void env_log(const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	host_log("mmu: %s", buf);
}

void env_assert_failed(const char *expr, const char *file, int line)
{
	host_panic("MMU assertion failed: %s (%s:%d)", expr, file, line);
}

void env_hook(enum env_hook h, void *arg)
{
	(void)h;
	(void)arg;
}
