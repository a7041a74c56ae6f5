// SPDX-License-Identifier: MIT
/*
 * IPI routing between the local APICs of one VM (docs/platform.md, "Local
 * APIC"): an ICR write that names other APICs is delivered here, after the
 * sender's lock is released (lapic.c), taking each target's lock in turn.
 */
#include "vmm/dev/lapic.h"

/* One IPI message to one LAPIC (its lock taken inside). */
static void ipi_to(struct lapic *a, u32 lo)
{
	switch (LVT_DELIVERY(lo)) {
	case 0: /* fixed */
	case 1: /* lowest priority: to the first match (below) */
		lapic_accept_irq(a, (u8)lo, lo & BIT(15));
		break;
	case 4:
		lapic_accept_nmi(a);
		break;
	case 5: /* INIT, level assert (de-assert never gets here) */
		lapic_accept_init(a);
		break;
	case 6:
		lapic_accept_sipi(a, (u8)lo);
		break;
	default:
		break; /* SMI, ExtINT, reserved: not delivered */
	}
}

void lapic_route_ipi(struct lapic *apics, unsigned n, unsigned from, u64 icr)
{
	u32 lo = (u32)icr, hi = (u32)(icr >> 32);
	bool x2 = lapic_x2apic_mode(&apics[from]);
	u32 dest = x2 ? hi : hi >> 24;
	bool logical = lo & BIT(11);
	unsigned shorthand = (lo >> 18) & 3;

	for (unsigned i = 0; i < n && shorthand != 1; i++) {
		struct lapic *a = &apics[i];

		if (i == from)
			continue;
		if (shorthand == 0 && !lapic_match_dest(a, dest, logical))
			continue;
		if (shorthand != 0 && !lapic_hw_enabled(a))
			continue;
		ipi_to(a, lo);
		if (LVT_DELIVERY(lo) == 1)
			break;
	}
}

