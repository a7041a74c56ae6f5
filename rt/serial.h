/* SPDX-License-Identifier: MIT */
/* COM1 (0x3f8), polled, 115200 8N1: Keel's console on QEMU and hardware. */
#pragma once

#include <keel/types.h>

#define COM1_BASE 0x3f8

void serial_init(void);
void serial_putc(char c);
/* Writes s, turning "\n" into "\r\n" for terminals. */
void serial_write(const char *s);
/* A received byte, or -1 when none is waiting (never blocks). */
int serial_try_getc(void);
/* Wait (bounded) until every byte has left the UART, e.g. before exiting QEMU. */
void serial_drain(void);
