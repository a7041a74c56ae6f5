/* SPDX-License-Identifier: MIT */
/*
 * A physical CPU as the vendor backends see it (vendor.h's cpu_enable /
 * cpu_disable). Generic fields first; each backend keeps what it needs per
 * CPU behind 'vendor' (SVM: host save area and VMSAVE area; VMX: VMXON
 * region). Fields may be added, never repurposed.
 */
#pragma once

#include <keel/types.h>

struct pcpu {
	unsigned id;
	bool enabled;  /* cpu_enable succeeded */
	void *vendor;  /* backend-owned per-CPU state */
};

/* The CPU Keel runs on (one today). */
struct pcpu *pcpu_this(void);
