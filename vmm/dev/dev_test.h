/* SPDX-License-Identifier: MIT */
/*
 * What the hosted device tests share: cmocka, a watchdog that names the
 * scenario that hung, a fake clock, and the host services the devices
 * use (host_alloc/host_free on the C library).
 */
#pragma once

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <keel/types.h>

static const char *dev_test_scenario = "(start-up)";

#define SCENARIO(s) (dev_test_scenario = (s))

static void dev_test_watchdog_fired(int sig)
{
	char buf[256];
	int n = snprintf(buf, sizeof(buf), "not ok - watchdog: scenario '%s' hung\n",
			 dev_test_scenario);

	(void)sig;
	if (write(2, buf, (size_t)n) < 0)
		_exit(2);
	_exit(1);
}

/* Every test program arms this first: no scenario may hang the run. */
static inline void dev_test_watchdog(unsigned seconds)
{
	signal(SIGALRM, dev_test_watchdog_fired);
	alarm(seconds);
}

static u64 fake_now;

static inline u64 fake_now_ns(void *ctx)
{
	(void)ctx;
	return fake_now;
}
