// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <keel/string.h>
#include "rt/serial.h"
#include "rt/log.h"
#include "rt/spinlock.h"

#define LOG_LINE_MAX 256

static enum log_level log_level = LOG_INFO;
static struct rt_lock console_lock;

/* One lock around every write: a line is never interleaved with another
 * CPU's. A CPU that already holds it (an NMI or panic on top of a write)
 * writes without it. */
void console_write(const char *text)
{
	bool took = rt_lock_acquire(&console_lock);

	serial_write(text);
	if (took)
		rt_lock_release(&console_lock);
}

void log_set_level(enum log_level level)
{
	log_level = level;
}

enum log_level log_get_level(void)
{
	return log_level;
}

static void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];

	if (level > log_level)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	console_write(line);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}
