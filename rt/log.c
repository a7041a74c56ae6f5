// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <keel/string.h>
#include "rt/serial.h"
#include "rt/log.h"

#define LOG_LINE_MAX 256

static enum log_level log_level = LOG_INFO;

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
	serial_write(line);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}
