// SPDX-License-Identifier: MIT
/*
 * The VM's virtual platform (vmm/dev/platform.h): created with the VM, its
 * callbacks answered here. Guest time is host time (host_time_ns); COM1's
 * output goes to Keel's console; a stop the guest asks for (debug exit,
 * ACPI poweroff, reset) ends the VM with its reason, and a debug-exit value
 * becomes the run's exit code (boot/ hands it to the emulator as QEMU's
 * isa-debug-exit would).
 */
#include <keel/errno.h>
#include <keel/host.h>
#include <keel/string.h>
#include "arch/x86/cpu.h"
#include "arch/x86/smp.h"
#include "rt/serial.h"
#include "rt/timer.h"
#include "vmm/dev/layout.h"
#include "vmm/dev/platform.h"
#include "vmm/vmm.h"

static u64 plat_now(void *ctx)
{
	(void)ctx;
	return host_time_ns();
}

/* The guest reads the host's TSC directly (no offset, no RDTSC exits). */
static u64 plat_guest_tsc(void *ctx, unsigned vcpu)
{
	(void)ctx;
	(void)vcpu;
	return rdtsc();
}

static void plat_console(void *ctx, const char *s, size_t n)
{
	struct vm *vm = ctx;

	char buf[128];

	if (!vm->console_raw) {
		/* Whole "guest: <line>\n" lines, through the log. */
		while (n) {
			size_t k = MIN(n, sizeof(buf) - 1);

			memcpy(buf, s, k);
			buf[k] = '\0';
			host_log("%s", buf);
			s += k;
			n -= k;
		}
		return;
	}
	for (size_t i = 0; i < n; i++)
		serial_putc(s[i]);
}

/* An interrupt, NMI, INIT or SIPI became pending for a vCPU: a vCPU on
 * another CPU leaves the guest (or its idle sleep) to see it. The vCPU
 * checks its LAPIC before every entry, so a kick that arrives before the
 * entry makes the entry exit at once: none is lost. */
static void plat_kick(void *ctx, unsigned id)
{
	struct vm *vm = ctx;
	struct vcpu *v;

	if (id >= VM_MAX_VCPUS)
		return;
	v = __atomic_load_n(&vm->vcpus[id], __ATOMIC_ACQUIRE);
	if (v && v->cpu != host_cpu_id())
		pcpu_kick(v->cpu);
}

static void plat_stop_request(void *ctx, enum plat_stop why, u32 code)
{
	struct vm *vm = ctx;

	if (vm->state != VM_RUNNING)
		return;
	switch (why) {
	case PLAT_STOP_DEBUG_EXIT:
		vm->has_exit_code = true;
		vm->exit_code = code;
		vm->guest_pass = code == 0;
		vm->state = VM_DONE;
		host_log("keel: vm %s: guest wrote 0x%x to the debug-exit port 0x%x\n", vm->name,
			 code, PLAT_PORT_DEBUG_EXIT);
		break;
	case PLAT_STOP_POWEROFF:
		vm->guest_pass = vm->pass_on_poweroff;
		vm->state = VM_DONE;
		host_log("keel: vm %s: guest powered off (ACPI S5)\n", vm->name);
		break;
	default:
		vm_stop(vm, "guest reset the machine (0x%x)", code);
		break;
	}
}

int vm_plat_create(struct vm *vm, const struct vm_setup *s)
{
	struct plat_config c = {
		.nr_vcpus = vm->max_vcpus ? vm->max_vcpus : 1,
		.tsc_hz = timer_tsc_hz(),
		.ram_below_4g = MIN(s->mem_size, PLAT_PCI_HOLE_BASE),
		.ram_above_4g = s->mem_size > PLAT_PCI_HOLE_BASE ? s->mem_size - PLAT_PCI_HOLE_BASE
								 : 0,
		.console_mode = s->console_raw ? PLAT_CONSOLE_RAW : PLAT_CONSOLE_LINES,
		.now_ns = plat_now,
		.guest_tsc = plat_guest_tsc,
		.console_write = plat_console,
		.request_stop = plat_stop_request,
		.kick_vcpu = plat_kick,
		.ctx = vm,
	};

	vm->console_raw = s->console_raw;
	vm->pass_on_poweroff = s->pass_on_poweroff;
	vm->plat = plat_create(&c);
	return vm->plat ? 0 : -ENOMEM;
}
