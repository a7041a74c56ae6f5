/* SPDX-License-Identifier: MIT */
/*
 * What the device models of vmm/dev/ share: an interrupt line as a
 * callback, and time arithmetic without 128-bit division (keel.efi links no
 * libgcc).
 */
#pragma once

#include <keel/types.h>

#define NS_PER_SEC 1000000000ull

/* A device's interrupt output: level true = asserted. An edge-triggered
 * device pulses it (true, then false). */
struct dev_irq {
	void (*set)(void *ctx, unsigned line, bool level);
	void *ctx;
	unsigned line;
};

static inline void dev_irq_set(const struct dev_irq *irq, bool level)
{
	if (irq->set)
		irq->set(irq->ctx, irq->line, level);
}

static inline void dev_irq_pulse(const struct dev_irq *irq)
{
	dev_irq_set(irq, true);
	dev_irq_set(irq, false);
}

/* a * b / c, exact while b and c are below 2^32 and the result fits. */
static inline u64 muldiv64(u64 a, u64 b, u64 c)
{
	return (a / c) * b + (a % c) * b / c;
}

/* The same, rounded up. */
static inline u64 muldiv64_up(u64 a, u64 b, u64 c)
{
	u64 q = (a / c) * b, r = (a % c) * b;

	return q + r / c + (r % c != 0);
}
