// SPDX-License-Identifier: MIT
/*
 * Port I/O the guest sees. Every port exits (the backend's I/O bitmap is
 * all ones). Keel's test register (PLAT_PORT_KEEL_TEST) is a 32-bit scratch
 * register; every other port goes to the VM's virtual platform
 * (vmm/dev/platform.h: devices, or counted open bus).
 *
 * A VM without a platform (vm->plat NULL) keeps the minimal model: COM1
 * is a 16550 subset whose bytes are collected into lines and forwarded as
 * "guest: <line>", the line status register always says "transmitter
 * empty", and any other port is open bus. String I/O (INS/OUTS) is not
 * emulated here: it stops the VM with a report.
 */
#include <keel/host.h>
#include <keel/string.h>
#include "rt/log.h"
#include "guest/abi.h"
#include "vmm/dev/layout.h"
#include "vmm/dev/platform.h"
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

/* The test register lives at layout.h's port; the old KEEL_TEST_PORT
 * (0x510, fw_cfg's selector) answers too while no platform claims it. */
static bool is_test_port(const struct vm *vm, u16 port, u8 size)
{
	return size == 4 && (port == PLAT_PORT_KEEL_TEST || (!vm->plat && port == KEEL_TEST_PORT));
}

static u32 port_read(struct vm *vm, unsigned vcpu, u16 port, u8 size)
{
	if (is_test_port(vm, port, size))
		return vm->test_port_value;
	if (vm->plat) {
		u32 val = 0;

		plat_pio(vm->plat, vcpu, port, size, true, &val);
		return val;
	}
	if (port == COM1_LSR)
		return UART_LSR_TX_IDLE;
	if (port >= KEEL_COM1_PORT && port < KEEL_COM1_PORT + 8)
		return 0;
	log_debug("keel: vm %s: in from unclaimed port 0x%x -> all ones\n", vm->name, port);
	return 0xffffffffu;
}

static void port_write(struct vm *vm, unsigned vcpu, u16 port, u8 size, u32 val)
{
	if (is_test_port(vm, port, size)) {
		vm->test_port_value = val;
		return;
	}
	if (vm->plat) {
		plat_pio(vm->plat, vcpu, port, size, false, &val);
		return;
	}
	if (port == KEEL_COM1_PORT) {
		serial_out(vm, (u8)val);
		return;
	}
	if (port > KEEL_COM1_PORT && port < KEEL_COM1_PORT + 8)
		return; /* UART setup: divisor, FIFO, line control */
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
	if (e->io.string && io_size_ok(e->io.size)) {
		vmm_handle_string_io(v); /* io_string.c */
		return;
	}
	if (e->io.string || e->io.rep || !io_size_ok(e->io.size)) {
		vm_stop(v->vm, "string or malformed port I/O at port 0x%x (not emulated)",
			e->io.port);
		return;
	}
	if (e->io.in) {
		u32 val = port_read(v->vm, v->id, e->io.port, e->io.size) & mask;

		/* IN to AL/AX keeps the rest of RAX; IN to EAX zero-extends. */
		if (e->io.size == 4)
			v->regs.rax = val;
		else
			v->regs.rax = (v->regs.rax & ~(u64)mask) | val;
	} else {
		port_write(v->vm, v->id, e->io.port, e->io.size, (u32)v->regs.rax & mask);
	}
	vmm_skip_insn(v);
}

/* One port access for string I/O (io_string.c). */
u32 vmm_port_in(struct vcpu *v, u16 port, u8 size)
{
	return port_read(v->vm, v->id, port, size) & size_mask(size);
}

void vmm_port_out(struct vcpu *v, u16 port, u8 size, u32 val)
{
	port_write(v->vm, v->id, port, size, val & size_mask(size));
}
