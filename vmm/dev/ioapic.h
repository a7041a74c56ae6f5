/* SPDX-License-Identifier: MIT */
/*
 * The I/O APIC at PLAT_IOAPIC_BASE (version 0x11, 24 pins): IOREGSEL at
 * +0x00, IOWIN at +0x10; registers ID, version, arbitration and the 24
 * redirection entries. Edge pins deliver on a rising edge, level pins while
 * asserted and not waiting for their EOI (remote IRR).
 */
#pragma once

#include <keel/types.h>
#include "vmm/dev/layout.h"

/* A message to the local APICs: the platform routes it. */
struct ioapic_msg {
	u8 vector;
	u8 delivery;  /* 0 fixed, 1 lowest priority, 2 SMI, 4 NMI, 5 INIT, 7 ExtINT */
	bool logical; /* destination mode */
	bool level;   /* trigger mode */
	u8 dest;
};

struct ioapic {
	u32 regsel;
	u8 id;
	u64 redir[PLAT_IOAPIC_PINS];
	u32 lines; /* input levels */
	void (*deliver)(void *ctx, const struct ioapic_msg *m);
	void *ctx;
};

#define IOAPIC_REDIR_MASKED BIT(16)
#define IOAPIC_REDIR_LEVEL BIT(15)
#define IOAPIC_REDIR_REMOTE_IRR BIT(14)

void ioapic_init(struct ioapic *io, void (*deliver)(void *ctx, const struct ioapic_msg *m),
		 void *ctx);
void ioapic_set_irq(struct ioapic *io, unsigned pin, bool level);
/* A local APIC's EOI of a level-triggered vector (broadcast to every pin). */
void ioapic_eoi(struct ioapic *io, u8 vector);
/* MMIO at offset 0..0xfff of the page (32-bit accesses to IOREGSEL/IOWIN). */
u32 ioapic_read(struct ioapic *io, u64 off);
void ioapic_write(struct ioapic *io, u64 off, u32 val);
