// SPDX-License-Identifier: MIT
/*
 * Port I/O the guest sees. Every port exits (the backend's I/O bitmap is
 * all ones). COM1 is a minimal 16550: transmitted bytes are collected into
 * lines and forwarded to Keel's console as "guest: <line>"; the line status
 * register always says "transmitter empty". KEEL_TEST_PORT is a 32-bit
 * scratch register. Any other port is open bus: reads return all ones,
 * writes are dropped. String I/O (INS/OUTS) is not emulated: it stops the
 * VM with a report.
 */
#include <keel/host.h>
#include <keel/string.h>
#include "rt/log.h"
#include "guest/abi.h"
#include "vmm/vmm.h"

#define COM1_LSR (KEEL_COM1_PORT + 5)
#define UART_LSR_TX_IDLE 0x60 /* THR empty, transmitter empty */

static void serial_flush(struct vm *vm)
{
	vm->serial_line[vm->serial_len] = '\0';
	host_log("guest: %s\n", vm->serial_line);
	vm->serial_len = 0;
}

static void serial_out(struct vm *vm, u8 c)
{
	if (c == '\r')
		return;
	if (c == '\n') {
		serial_flush(vm);
		return;
	}
	/* Non-printable bytes become '.', so a guest cannot drive Keel's
	 * terminal with escape sequences. */
	vm->serial_line[vm->serial_len++] = (c >= 0x20 && c < 0x7f) ? (char)c : '.';
	if (vm->serial_len == sizeof(vm->serial_line) - 1)
		serial_flush(vm);
}

static u32 port_read(struct vm *vm, u16 port, u8 size)
{
	if (port == COM1_LSR)
		return UART_LSR_TX_IDLE;
	if (port >= KEEL_COM1_PORT && port < KEEL_COM1_PORT + 8)
		return 0;
	if (port == KEEL_TEST_PORT && size == 4)
		return vm->test_port_value;
	log_debug("keel: vm %s: in from unclaimed port 0x%x -> all ones\n", vm->name, port);
	return 0xffffffffu;
}

static void port_write(struct vm *vm, u16 port, u8 size, u32 val)
{
	if (port == KEEL_COM1_PORT) {
		serial_out(vm, (u8)val);
		return;
	}
	if (port > KEEL_COM1_PORT && port < KEEL_COM1_PORT + 8)
		return; /* UART setup: divisor, FIFO, line control */
	if (port == KEEL_TEST_PORT && size == 4) {
		vm->test_port_value = val;
		return;
	}
	log_debug("keel: vm %s: out 0x%x to unclaimed port 0x%x dropped\n", vm->name, val, port);
}

static u32 size_mask(u8 size)
{
	return size >= 4 ? 0xffffffffu : (1u << (size * 8)) - 1;
}

static bool io_size_ok(u8 size)
{
	return size == 1 || size == 2 || size == 4;
}

void vmm_handle_io(struct vcpu *v)
{
	const struct vm_exit *e = &v->exit;
	u32 mask = size_mask(e->io.size);

	v->stats.io++;
	if (e->io.string || e->io.rep || !io_size_ok(e->io.size)) {
		vm_stop(v->vm, "string or malformed port I/O at port 0x%x (not emulated)",
			e->io.port);
		return;
	}
	if (e->io.in) {
		u32 val = port_read(v->vm, e->io.port, e->io.size) & mask;

		/* IN to AL/AX keeps the rest of RAX; IN to EAX zero-extends. */
		if (e->io.size == 4)
			v->regs.rax = val;
		else
			v->regs.rax = (v->regs.rax & ~(u64)mask) | val;
	} else {
		port_write(v->vm, e->io.port, e->io.size, (u32)v->regs.rax & mask);
	}
	vmm_skip_insn(v);
}
