// SPDX-License-Identifier: MIT
#include "arch/x86/cpu.h"
#include "rt/serial.h"

enum {
	UART_DATA = 0, UART_IER = 1, UART_FCR = 2, UART_LCR = 3, UART_MCR = 4,
	UART_LSR = 5, UART_DLL = 0, UART_DLM = 1,
};
#define UART_LCR_DLAB 0x80
#define UART_LCR_8N1 0x03
#define UART_LSR_DR 0x01
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40
/* Bound on the wait for an absent or wedged UART: better to lose a byte than
 * to hang Keel on a machine without COM1. */
#define UART_SPIN_LIMIT 100000

void serial_init(void)
{
	outb(COM1_BASE + UART_IER, 0);
	outb(COM1_BASE + UART_LCR, UART_LCR_DLAB);
	outb(COM1_BASE + UART_DLL, 1); /* 115200 baud */
	outb(COM1_BASE + UART_DLM, 0);
	outb(COM1_BASE + UART_LCR, UART_LCR_8N1);
	outb(COM1_BASE + UART_FCR, 0xc7); /* FIFO on, cleared */
	outb(COM1_BASE + UART_MCR, 0x03); /* DTR, RTS */
}

void serial_putc(char c)
{
	for (int i = 0; i < UART_SPIN_LIMIT; i++) {
		if (inb(COM1_BASE + UART_LSR) & UART_LSR_THRE)
			break;
		cpu_relax();
	}
	outb(COM1_BASE + UART_DATA, (u8)c);
}

void serial_write(const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			serial_putc('\r');
		serial_putc(*s);
	}
}

int serial_try_getc(void)
{
	if (!(inb(COM1_BASE + UART_LSR) & UART_LSR_DR))
		return -1;
	return inb(COM1_BASE + UART_DATA);
}

void serial_drain(void)
{
	for (int i = 0; i < UART_SPIN_LIMIT; i++) {
		if (inb(COM1_BASE + UART_LSR) & UART_LSR_TEMT)
			return;
		cpu_relax();
	}
}
