/* SPDX-License-Identifier: MIT */
/* The few C library functions portable code may use. Hosted builds take them
 * from libc; keel.efi has its own (lib/string.c). */
#pragma once

#include <keel/types.h>

#ifdef KEEL_HOSTED
#include <stdio.h>
#include <string.h>
#else
void *memset(void *s, int c, size_t n);
void *memcpy(void *restrict d, const void *restrict s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
#include <stdarg.h>
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
__printf(3, 4) int snprintf(char *buf, size_t size, const char *fmt, ...);
#endif
