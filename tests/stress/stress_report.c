// SPDX-License-Identifier: MIT
/* Violation recording: count every one, keep the first few messages. */
#include "stress.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void stress_report_init(struct stress_report *rep)
{
	memset(rep, 0, sizeof(*rep));
	pthread_mutex_init(&rep->lock, NULL);
}

void stress_fail(struct stress_report *rep, const char *fmt, ...)
{
	va_list ap;

	atomic_fetch_add(&rep->failures, 1);
	pthread_mutex_lock(&rep->lock);
	if (rep->nmsgs < STRESS_MAX_MSGS) {
		va_start(ap, fmt);
		vsnprintf(rep->msgs[rep->nmsgs++], sizeof(rep->msgs[0]), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&rep->lock);
}

/* As TAP comments, so the test tally shows them next to the "not ok". */
void stress_report_print(const struct stress_report *rep)
{
	unsigned long long n = atomic_load(&rep->failures);

	if (!n)
		return;
	printf("# %llu violation(s); the first %u:\n", n, rep->nmsgs);
	for (unsigned i = 0; i < rep->nmsgs; i++)
		printf("#   %s\n", rep->msgs[i]);
}
