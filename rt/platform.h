/* SPDX-License-Identifier: MIT */
/*
 * How Keel ends. In an emulator (CPUID hypervisor bit set) it writes its
 * status to QEMU's isa-debug-exit port, which ends QEMU with exit code
 * (status << 1) | 1; scripts/run-qemu.sh maps that back. On hardware, and if
 * the port is absent, it halts the CPU with interrupts off: never a reboot,
 * never a spin that heats the machine.
 */
#pragma once

#include <keel/types.h>

enum keel_status {
	KEEL_STATUS_PASS = 0,       /* guest reported pass */
	KEEL_STATUS_GUEST_FAIL = 1, /* guest reported failures, or the VM was stopped */
	KEEL_STATUS_ERROR = 2,      /* configuration, capability or setup error */
	KEEL_STATUS_PANIC = 3,      /* Keel itself failed (exception, assertion) */
};

#define QEMU_DEBUG_EXIT_PORT 0xf4

__noreturn void platform_stop(enum keel_status status);
/* Only the debug-exit write, for callers that can still return to firmware. */
void platform_signal_exit(enum keel_status status);
