// SPDX-License-Identifier: MIT
/*
 * include/keel/host.h for keel.efi: log, panic, CPU id and time. The pool
 * half is rt/pool.c. The CPU id comes from each CPU's GS base (cpu_local.h);
 * a panic stops every CPU through the hook arch/x86 installs.
 */
#include <stdarg.h>
#include <keel/host.h>
#include <keel/string.h>
#include "arch/x86/cpu.h"
#include "rt/cpu_local.h"
#include "rt/platform.h"
#include "rt/serial.h"
#include "rt/log.h"
#include "rt/timer.h"

#define NSEC_PER_SEC 1000000000ull
#define MSR_GS_BASE 0xc0000101u
#define STOP_OTHERS_WAIT_NS 200000000ull /* for the stopped CPUs' reports */

static u64 tsc_hz;
static u32 cpu_local_on, cpu_count = 1, panic_cpu, stopping;
static void (*stop_others_hook)(void);

void host_log(const char *fmt, ...)
{
	char line[256];
	va_list ap;

	if (log_get_level() < LOG_INFO)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	console_write(line);
}

bool rt_stopping(void)
{
	return __atomic_load_n(&stopping, __ATOMIC_ACQUIRE) || rt_panicking();
}

void rt_stop_others(void)
{
	__atomic_store_n(&stopping, 1, __ATOMIC_RELEASE);
	if (stop_others_hook && cpu_count > 1)
		stop_others_hook();
}

bool rt_panicking(void)
{
	return __atomic_load_n(&panic_cpu, __ATOMIC_ACQUIRE) != 0;
}

void rt_set_stop_others(void (*stop_others)(void))
{
	stop_others_hook = stop_others;
}

bool rt_panic_claim(void)
{
	u32 none = 0;

	return __atomic_compare_exchange_n(&panic_cpu, &none, host_cpu_id() + 1, false,
					   __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

void rt_cpu_halt(void)
{
	for (;;) {
		cli();
		hlt();
	}
}

void rt_panic_finish(void)
{
	if (stop_others_hook && cpu_count > 1) {
		u64 t0 = host_time_ns();

		rt_stop_others();
		while (host_time_ns() - t0 < STOP_OTHERS_WAIT_NS)
			cpu_relax();
	}
	console_write("keel: stopped (panic)\n");
	platform_stop(KEEL_STATUS_PANIC);
}

void host_panic(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	if (!rt_panic_claim())
		rt_cpu_halt(); /* another CPU reports; it stops us too */
	n = snprintf(line, sizeof(line), "keel: PANIC: ");
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	console_write(line);
	snprintf(line, sizeof(line), " (cpu %u)\n", host_cpu_id());
	console_write(line);
	rt_panic_finish();
}

void rt_cpu_local_init(void *block)
{
	wrmsr(MSR_GS_BASE, (u64)(uintptr_t)block);
	__atomic_store_n(&cpu_local_on, 1, __ATOMIC_RELEASE);
}

void rt_set_cpu_count(unsigned n)
{
	cpu_count = n ? n : 1;
}

/* Every CPU but the boot CPU runs only after cpu_local_on is set and its own
 * GS base is loaded; the boot CPU sets its GS base first. */
unsigned host_cpu_id(void)
{
	u32 id;

	if (!__atomic_load_n(&cpu_local_on, __ATOMIC_RELAXED))
		return 0;
	__asm__ volatile("movl %%gs:0, %0" : "=r"(id));
	return id;
}

unsigned host_cpu_count(void)
{
	return cpu_count;
}

void timer_set_tsc_hz(u64 hz)
{
	tsc_hz = hz;
}

u64 timer_tsc_hz(void)
{
	return tsc_hz;
}

/* Split so the product never overflows 64 bits (no 128-bit division in a
 * freestanding build): valid for TSC rates below 18 GHz. */
u64 host_time_ns(void)
{
	u64 t = rdtsc();

	if (!tsc_hz)
		return 0;
	return (t / tsc_hz) * NSEC_PER_SEC + (t % tsc_hz) * NSEC_PER_SEC / tsc_hz;
}
