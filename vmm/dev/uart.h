/* SPDX-License-Identifier: MIT */
/*
 * The 16550A UART on COM1 (0x3f8-0x3ff, ISA IRQ 4): THR/RBR, IER, IIR with
 * FIFO bits, FCR, LCR with the DLAB divisor latch, MCR with loopback, LSR,
 * MSR, SCR. Transmission is instant (THR is always empty again at once);
 * received bytes come from the host through a 16-byte FIFO.
 */
#pragma once

#include <keel/types.h>
#include "vmm/dev/dev.h"
#include "vmm/dev/platform.h"

#define UART_FIFO_SIZE 16
#define UART_LINE_MAX 160

struct uart {
	u8 ier, lcr, mcr, scr, fcr, msr;
	u16 divisor;
	u8 rx[UART_FIFO_SIZE];
	unsigned rx_head, rx_count;
	bool overrun;       /* LSR OE until LSR is read */
	bool thre_pending;  /* THR empty interrupt, until IIR read or THR written */
	bool irq_level;
	enum plat_console_mode mode;
	char line[UART_LINE_MAX];
	size_t line_len;
	void (*write)(void *ctx, const char *s, size_t n);
	void *ctx;
	u64 tx, rx_bytes, overruns;
	struct dev_irq irq;
};

void uart_init(struct uart *u, enum plat_console_mode mode,
	       void (*write)(void *ctx, const char *s, size_t n), void *ctx,
	       const struct dev_irq *irq);
u8 uart_read(struct uart *u, unsigned reg);
void uart_write(struct uart *u, unsigned reg, u8 val);
/* A byte from the host; false when the FIFO is full (counted overrun). */
bool uart_receive(struct uart *u, u8 byte);
/* True when the receive FIFO (or holding register) has room for a byte. */
bool uart_rx_room(const struct uart *u);
/* Flush a partial line (LINES mode) when the VM ends. */
void uart_flush(struct uart *u);
