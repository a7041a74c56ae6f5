/* SPDX-License-Identifier: MIT */
/*
 * A watchdog for the nested MMU's concurrency tests: a test that would catch
 * a livelock or deadlock by hanging fails instead, naming its scenario.
 */
#pragma once

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct nwatchdog {
	pthread_t thread;
	pthread_mutex_t m;
	pthread_cond_t c;
	int done;
	const char *scenario;
	unsigned seconds;
};

static inline void *nwatchdog_main(void *arg)
{
	struct nwatchdog *w = arg;
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += w->seconds;
	pthread_mutex_lock(&w->m);
	while (!w->done) {
		if (pthread_cond_timedwait(&w->c, &w->m, &until) == ETIMEDOUT && !w->done) {
			fprintf(stdout, "not ok - %s: watchdog fired after %u s (livelock or deadlock)\n",
				w->scenario, w->seconds);
			fprintf(stderr, "WATCHDOG: %s did not finish within %u s\n", w->scenario,
				w->seconds);
			fflush(NULL);
			abort();
		}
	}
	pthread_mutex_unlock(&w->m);
	return NULL;
}

static inline void nwatchdog_start(struct nwatchdog *w, const char *scenario, unsigned seconds)
{
	pthread_mutex_init(&w->m, NULL);
	pthread_cond_init(&w->c, NULL);
	w->done = 0;
	w->scenario = scenario;
	w->seconds = seconds;
	if (pthread_create(&w->thread, NULL, nwatchdog_main, w))
		abort();
}

static inline void nwatchdog_stop(struct nwatchdog *w)
{
	pthread_mutex_lock(&w->m);
	w->done = 1;
	pthread_cond_broadcast(&w->c);
	pthread_mutex_unlock(&w->m);
	pthread_join(w->thread, NULL);
	pthread_mutex_destroy(&w->m);
	pthread_cond_destroy(&w->c);
}
