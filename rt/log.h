/* SPDX-License-Identifier: MIT */
/*
 * Keel's log: lines on COM1. Levels filter what is printed (keel.cfg "log =
 * error|info|debug"); errors and the final summary line always print.
 */
#pragma once

#include <keel/types.h>

enum log_level { LOG_ERROR = 0, LOG_INFO = 1, LOG_DEBUG = 2 };

/* Write text (whole lines) to the console under the console lock. */
void console_write(const char *text);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
__printf(2, 3) void log_msg(enum log_level level, const char *fmt, ...);

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
