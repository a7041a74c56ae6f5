// SPDX-License-Identifier: MIT
#include "arch/x86/cpu.h"
#include "rt/cpu_local.h"
#include "rt/platform.h"
#include "rt/serial.h"

void platform_signal_exit(enum keel_status status)
{
	/* Only under a hypervisor: on hardware, port 0xf4 may belong to a
	 * device, and Keel does not poke ports it does not own. */
	serial_drain();
	if (cpu_is_virtual())
		outl(QEMU_DEBUG_EXIT_PORT, status);
}

void platform_stop(enum keel_status status)
{
	/* Under an emulator the exit port ends the run here, whatever the
	 * other CPUs are doing; on hardware this only drains the UART. */
	platform_signal_exit(status);
	rt_stop_others(); /* the other CPUs halt too (on hardware: no spinning) */
	for (;;) {
		cli();
		hlt();
	}
}
