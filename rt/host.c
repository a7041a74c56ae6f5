// SPDX-License-Identifier: MIT
/*
 * include/keel/host.h for keel.efi: log, panic, CPU id and time. The pool
 * half is rt/pool.c. One CPU runs Keel today (the boot CPU), so the CPU
 * id is 0 and the count 1; SMP adds a per-CPU lookup here.
 */
#include <stdarg.h>
#include <keel/host.h>
#include <keel/string.h>
#include "arch/x86/cpu.h"
#include "rt/platform.h"
#include "rt/serial.h"
#include "rt/log.h"
#include "rt/timer.h"

#define NSEC_PER_SEC 1000000000ull

static u64 tsc_hz;

void host_log(const char *fmt, ...)
{
	char line[256];
	va_list ap;

	if (log_get_level() < LOG_INFO)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	serial_write(line);
}

void host_panic(const char *fmt, ...)
{
	char line[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	serial_write("keel: PANIC: ");
	serial_write(line);
	serial_write("\nkeel: stopped (panic)\n");
	platform_stop(KEEL_STATUS_PANIC);
}

unsigned host_cpu_id(void)
{
	return 0;
}

unsigned host_cpu_count(void)
{
	return 1;
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
