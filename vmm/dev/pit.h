/* SPDX-License-Identifier: MIT */
/*
 * The 8254 PIT at 0x40-0x43 (PLAT_PIT_HZ) and port 0x61 (system control
 * port B: channel 2's gate in bit 0, speaker data bit 1, refresh toggle
 * bit 4, channel 2's OUT in bit 5). Channel 0 drives ISA IRQ 0. Channels
 * start idle (no count loaded): nothing fires before the guest programs it.
 */
#pragma once

#include <keel/types.h>
#include "vmm/dev/dev.h"
#include "vmm/dev/platform.h"

struct pit_channel {
	u32 count;          /* 1 .. 65536 */
	u8 mode, rw, bcd;   /* mode 0-5; rw 1 LSB, 2 MSB, 3 LSB then MSB */
	bool gate, counting, null_count;
	u64 load_ns;        /* when the count was loaded (or the gate triggered) */
	u64 frozen;         /* ticks counted when the gate went low (modes 0, 4) */
	bool write_msb, read_msb; /* rw 3 flip-flops */
	u8 write_lsb;
	bool latched, status_latched, latch_msb;
	u16 latch;
	u8 status;
};

struct pit {
	struct pit_channel ch[3];
	u8 port61;          /* bits 0-3 as written */
	u64 next_irq_ns;    /* channel 0, PLAT_NO_EVENT when none */
	u64 owed;           /* channel 0 periods not yet delivered */
	u64 next_period;    /* modes 2/3: index of the period whose end is next_irq_ns */
	u64 irqs, reinjected;
	struct dev_irq irq;
};

void pit_init(struct pit *pit, const struct dev_irq *irq);
u8 pit_read(struct pit *pit, u16 port, u64 now);
void pit_write(struct pit *pit, u16 port, u8 val, u64 now);
void pit_advance(struct pit *pit, u64 now);
u64 pit_next_event_ns(const struct pit *pit);
/* Deliver one owed channel 0 period (the caller checks that the guest took
 * the previous IRQ 0); false when none is owed. */
#define PIT_MAX_OWED 1000
bool pit_reinject(struct pit *pit);
/* A channel's OUT pin now (tests, port 0x61). */
bool pit_out(const struct pit *pit, unsigned ch, u64 now);
