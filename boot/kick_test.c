// SPDX-License-Identifier: MIT
/*
 * keel.cfg "debug-kick = yes": while the guest runs on CPU 0, CPU 1 sends it
 * kick IPIs (what a remote TLB flush does to a CPU in guest mode). Each kick
 * must force a VM exit and be acknowledged; the guest must still pass. The
 * log reports how many were sent and taken.
 */
#include <keel/host.h>
#include "arch/x86/cpu.h"
#include "arch/x86/irq.h"
#include "arch/x86/smp.h"
#include "boot/boot.h"
#include "rt/timer.h"

#define KICK_INTERVAL_US 200

static struct {
	u32 stop;
	u64 sent;
} kt;

static void kick_loop(void *arg)
{
	u64 hz = timer_tsc_hz() ? timer_tsc_hz() : 1000000000ull;

	(void)arg;
	while (!__atomic_load_n(&kt.stop, __ATOMIC_ACQUIRE)) {
		u64 t0 = rdtsc();

		pcpu_kick(0);
		__atomic_add_fetch(&kt.sent, 1, __ATOMIC_RELAXED);
		while (rdtsc() - t0 < KICK_INTERVAL_US * (hz / 1000000))
			cpu_relax();
	}
}

void kick_test_start(void)
{
	if (host_cpu_count() < 2) {
		host_log("keel: debug-kick: needs a second CPU, skipped\n");
		return;
	}
	pcpu_run_on(1, kick_loop, NULL);
}

void kick_test_stop(void)
{
	if (host_cpu_count() < 2)
		return;
	__atomic_store_n(&kt.stop, 1, __ATOMIC_RELEASE);
	pcpu_wait(1);
	host_log("keel: debug-kick: sent %llu kicks, cpu 0 took %llu, other interrupts %llu\n",
		 (unsigned long long)kt.sent, (unsigned long long)irq_kicks_taken(0),
		 (unsigned long long)irq_others_taken(0));
}
