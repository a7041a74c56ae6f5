// SPDX-License-Identifier: MIT
/*
 * The 16550A (uart.h). Interrupt sources by priority: receiver line status
 * (overrun), received data (at the FCR trigger level; below it, data
 * reports the character-timeout identification at once), THR empty,
 * modem status. The IRQ line is the interrupt output gated by MCR OUT2, as
 * PCs wire it. In loopback mode transmitted bytes are received and MSR
 * follows MCR; nothing reaches the console.
 */
#include <keel/string.h>
#include "vmm/dev/uart.h"

#define REG_DATA 0
#define REG_IER 1
#define REG_IIR 2 /* read; FCR write */
#define REG_LCR 3
#define REG_MCR 4
#define REG_LSR 5
#define REG_MSR 6
#define REG_SCR 7

#define IER_RDA 0x01
#define IER_THRE 0x02
#define IER_RLS 0x04
#define IER_MSI 0x08
#define IIR_NONE 0x01
#define IIR_MSI 0x00
#define IIR_THRE 0x02
#define IIR_RDA 0x04
#define IIR_RLS 0x06
#define IIR_TIMEOUT 0x0c
#define IIR_FIFO 0xc0
#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02
#define LCR_DLAB 0x80
#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80

static const unsigned trigger_level[4] = { 1, 4, 8, 14 };

static unsigned rx_capacity(const struct uart *u)
{
	return (u->fcr & FCR_ENABLE) ? UART_FIFO_SIZE : 1;
}

static u8 iir(const struct uart *u)
{
	u8 fifo = (u->fcr & FCR_ENABLE) ? IIR_FIFO : 0;

	if ((u->ier & IER_RLS) && u->overrun)
		return fifo | IIR_RLS;
	if ((u->ier & IER_RDA) && u->rx_count) {
		if (!(u->fcr & FCR_ENABLE) || u->rx_count >= trigger_level[u->fcr >> 6])
			return fifo | IIR_RDA;
		return fifo | IIR_TIMEOUT;
	}
	if ((u->ier & IER_THRE) && u->thre_pending)
		return fifo | IIR_THRE;
	if ((u->ier & IER_MSI) && (u->msr & 0x0f))
		return fifo | IIR_MSI;
	return fifo | IIR_NONE;
}

static void update_irq(struct uart *u)
{
	bool level = !(iir(u) & IIR_NONE) && (u->mcr & MCR_OUT2);

	if (level != u->irq_level)
		dev_irq_set(&u->irq, level);
	u->irq_level = level;
}

void uart_init(struct uart *u, enum plat_console_mode mode,
	       void (*write)(void *ctx, const char *s, size_t n), void *ctx,
	       const struct dev_irq *irq)
{
	memset(u, 0, sizeof(*u));
	u->mode = mode;
	u->write = write;
	u->ctx = ctx;
	u->irq = *irq;
	u->divisor = 12; /* 9600 baud */
	u->lcr = 0x03;   /* 8N1 */
	u->msr = MSR_DCD | MSR_DSR | MSR_CTS;
}

static void emit(struct uart *u, const char *s, size_t n)
{
	if (u->write && n)
		u->write(u->ctx, s, n);
}

void uart_flush(struct uart *u)
{
	static const char prefix[] = "guest: ";
	char buf[sizeof(prefix) + UART_LINE_MAX + 1];

	if (u->mode != PLAT_CONSOLE_LINES)
		return;
	memcpy(buf, prefix, sizeof(prefix) - 1);
	memcpy(buf + sizeof(prefix) - 1, u->line, u->line_len);
	buf[sizeof(prefix) - 1 + u->line_len] = '\n';
	emit(u, buf, sizeof(prefix) + u->line_len);
	u->line_len = 0;
}

static void transmit(struct uart *u, u8 c)
{
	u->tx++;
	if (u->mode == PLAT_CONSOLE_RAW) {
		emit(u, (const char *)&c, 1);
		return;
	}
	if (c == '\r')
		return;
	if (c == '\n') {
		uart_flush(u);
		return;
	}
	/* Non-printable bytes become '.': the self-test guest cannot drive
	 * Keel's terminal with escape sequences. */
	u->line[u->line_len++] = (c >= 0x20 && c < 0x7f) ? (char)c : '.';
	if (u->line_len == UART_LINE_MAX)
		uart_flush(u);
}

static bool rx_push(struct uart *u, u8 byte)
{
	if (u->rx_count >= rx_capacity(u)) {
		u->overrun = true;
		u->overruns++;
		update_irq(u);
		return false;
	}
	u->rx[(u->rx_head + u->rx_count) % UART_FIFO_SIZE] = byte;
	u->rx_count++;
	u->rx_bytes++;
	update_irq(u);
	return true;
}

bool uart_rx_room(const struct uart *u)
{
	return !(u->mcr & MCR_LOOP) && u->rx_count < rx_capacity(u);
}

bool uart_receive(struct uart *u, u8 byte)
{
	if (u->mcr & MCR_LOOP)
		return false; /* the line is disconnected in loopback */
	return rx_push(u, byte);
}

static u8 rx_pop(struct uart *u)
{
	u8 b;

	if (!u->rx_count)
		return 0;
	b = u->rx[u->rx_head];
	u->rx_head = (u->rx_head + 1) % UART_FIFO_SIZE;
	u->rx_count--;
	return b;
}

/* MSR in loopback: CTS = RTS, DSR = DTR, RI = OUT1, DCD = OUT2; deltas. */
static void set_msr_lines(struct uart *u, u8 lines)
{
	u8 old = u->msr & 0xf0, delta = 0;

	if ((old ^ lines) & MSR_CTS) delta |= 0x01;
	if ((old ^ lines) & MSR_DSR) delta |= 0x02;
	if ((old & MSR_RI) && !(lines & MSR_RI)) delta |= 0x04; /* trailing edge of RI */
	if ((old ^ lines) & MSR_DCD) delta |= 0x08;
	u->msr = (u8)(lines | (u->msr & 0x0f) | delta);
}

static void write_mcr(struct uart *u, u8 val)
{
	u->mcr = val & 0x1f;
	if (u->mcr & MCR_LOOP)
		set_msr_lines(u, (u8)(((val & MCR_RTS) ? MSR_CTS : 0) | ((val & MCR_DTR) ? MSR_DSR : 0) |
				      ((val & MCR_OUT1) ? MSR_RI : 0) | ((val & MCR_OUT2) ? MSR_DCD : 0)));
	else
		set_msr_lines(u, MSR_DCD | MSR_DSR | MSR_CTS);
}

static void write_fcr(struct uart *u, u8 val)
{
	if ((val ^ u->fcr) & FCR_ENABLE)
		u->rx_count = u->rx_head = 0; /* enabling or disabling the FIFOs clears them */
	if (val & FCR_CLEAR_RX)
		u->rx_count = u->rx_head = 0;
	u->fcr = val & (FCR_ENABLE | 0xc0);
	if (!(u->fcr & FCR_ENABLE))
		u->fcr = 0;
}

void uart_write(struct uart *u, unsigned reg, u8 val)
{
	bool dlab = u->lcr & LCR_DLAB;

	switch (reg) {
	case REG_DATA:
		if (dlab) {
			u->divisor = (u16)((u->divisor & 0xff00) | val);
			break;
		}
		if (u->mcr & MCR_LOOP)
			rx_push(u, val);
		else
			transmit(u, val);
		u->thre_pending = true; /* sent at once: THR empty again */
		break;
	case REG_IER:
		if (dlab) {
			u->divisor = (u16)((u->divisor & 0xff) | (val << 8));
			break;
		}
		/* Enabling THRE while THR is empty raises it (as a 16550A does). */
		if ((val & IER_THRE) && !(u->ier & IER_THRE))
			u->thre_pending = true;
		u->ier = val & 0x0f;
		break;
	case REG_IIR:
		write_fcr(u, val);
		break;
	case REG_LCR:
		u->lcr = val;
		break;
	case REG_MCR:
		write_mcr(u, val);
		break;
	case REG_SCR:
		u->scr = val;
		break;
	default:
		break; /* LSR, MSR: read-only */
	}
	update_irq(u);
}

u8 uart_read(struct uart *u, unsigned reg)
{
	bool dlab = u->lcr & LCR_DLAB;
	u8 v;

	switch (reg) {
	case REG_DATA:
		v = dlab ? (u8)u->divisor : rx_pop(u);
		break;
	case REG_IER:
		v = dlab ? (u8)(u->divisor >> 8) : u->ier;
		break;
	case REG_IIR:
		v = iir(u);
		if ((v & 0x0f) == IIR_THRE)
			u->thre_pending = false; /* reading IIR clears THRE as the source */
		break;
	case REG_LCR:
		v = u->lcr;
		break;
	case REG_MCR:
		v = u->mcr;
		break;
	case REG_LSR:
		v = LSR_THRE | LSR_TEMT | (u->rx_count ? LSR_DR : 0) | (u->overrun ? LSR_OE : 0);
		u->overrun = false;
		break;
	case REG_MSR:
		v = u->msr;
		u->msr &= 0xf0;
		break;
	default:
		v = u->scr;
		break;
	}
	update_irq(u);
	return v;
}
