// SPDX-License-Identifier: MIT
/*
 * The I/O APIC (ioapic.h). The polarity bit is stored and reported but
 * lines are modelled as asserted / deasserted (the devices drive them so),
 * which is what an OS that follows the MADT sees. No EOI register (that
 * came with version 0x20): EOIs come from the LAPICs' broadcast.
 */
#include "vmm/dev/ioapic.h"

#define IOREGSEL 0x00
#define IOWIN 0x10
#define REG_ID 0x00
#define REG_VER 0x01
#define REG_ARB 0x02
#define REG_REDIR 0x10
#define IOAPIC_VERSION 0x11
/* Writable bits: vector, delivery mode, destination mode, polarity,
 * trigger mode, mask, destination (delivery status and remote IRR are
 * read-only). */
#define REDIR_WRITABLE (GENMASK(11, 0) | BIT(13) | BIT(15) | BIT(16) | GENMASK(63, 56))

void ioapic_init(struct ioapic *io, void (*deliver)(void *ctx, const struct ioapic_msg *m),
		 void *ctx)
{
	*io = (struct ioapic){ .id = PLAT_IOAPIC_ID, .deliver = deliver, .ctx = ctx };
	for (unsigned i = 0; i < PLAT_IOAPIC_PINS; i++)
		io->redir[i] = IOAPIC_REDIR_MASKED;
}

static void send(struct ioapic *io, unsigned pin)
{
	u64 r = io->redir[pin];
	struct ioapic_msg m = {
		.vector = (u8)r,
		.delivery = (u8)((r >> 8) & 7),
		.logical = r & BIT(11),
		.level = r & IOAPIC_REDIR_LEVEL,
		.dest = (u8)(r >> 56),
	};

	if (m.level)
		io->redir[pin] |= IOAPIC_REDIR_REMOTE_IRR;
	if (io->deliver)
		io->deliver(io->ctx, &m);
}

/* Deliver a level pin that is asserted, unmasked and not awaiting its EOI. */
static void service_level(struct ioapic *io, unsigned pin)
{
	u64 r = io->redir[pin];

	if ((io->lines & (1u << pin)) && (r & IOAPIC_REDIR_LEVEL) &&
	    !(r & (IOAPIC_REDIR_MASKED | IOAPIC_REDIR_REMOTE_IRR)))
		send(io, pin);
}

void ioapic_set_irq(struct ioapic *io, unsigned pin, bool level)
{
	u32 bit;
	bool was;

	if (pin >= PLAT_IOAPIC_PINS)
		return;
	bit = 1u << pin;
	was = io->lines & bit;
	io->lines = level ? io->lines | bit : io->lines & ~bit;
	if (io->redir[pin] & IOAPIC_REDIR_LEVEL)
		service_level(io, pin);
	else if (level && !was && !(io->redir[pin] & IOAPIC_REDIR_MASKED))
		send(io, pin);
}

void ioapic_eoi(struct ioapic *io, u8 vector)
{
	for (unsigned pin = 0; pin < PLAT_IOAPIC_PINS; pin++) {
		u64 r = io->redir[pin];

		if ((u8)r != vector || !(r & IOAPIC_REDIR_REMOTE_IRR))
			continue;
		io->redir[pin] &= ~IOAPIC_REDIR_REMOTE_IRR;
		service_level(io, pin);
	}
}

static u32 reg_read(const struct ioapic *io, u32 reg)
{
	switch (reg) {
	case REG_ID:
		return (u32)io->id << 24;
	case REG_VER:
		return ((u32)(PLAT_IOAPIC_PINS - 1) << 16) | IOAPIC_VERSION;
	case REG_ARB:
		return (u32)io->id << 24;
	}
	if (reg >= REG_REDIR && reg < REG_REDIR + 2 * PLAT_IOAPIC_PINS) {
		u64 r = io->redir[(reg - REG_REDIR) / 2];

		return (reg & 1) ? (u32)(r >> 32) : (u32)r;
	}
	return 0xffffffffu; /* no such register */
}

static void reg_write(struct ioapic *io, u32 reg, u32 val)
{
	unsigned pin;
	u64 r, nv;

	if (reg == REG_ID) {
		io->id = (val >> 24) & 0xf;
		return;
	}
	if (reg < REG_REDIR || reg >= REG_REDIR + 2 * PLAT_IOAPIC_PINS)
		return; /* version, arbitration: read-only */
	pin = (reg - REG_REDIR) / 2;
	r = io->redir[pin];
	nv = (reg & 1) ? ((u64)val << 32) | (u32)r : (r & GENMASK(63, 32)) | val;
	nv = (nv & REDIR_WRITABLE) | (r & ~REDIR_WRITABLE);
	if (!(nv & IOAPIC_REDIR_LEVEL))
		nv &= ~IOAPIC_REDIR_REMOTE_IRR; /* edge pins have no remote IRR */
	io->redir[pin] = nv;
	service_level(io, pin); /* unmasking an asserted level pin delivers it */
}

u32 ioapic_read(struct ioapic *io, u64 off)
{
	if (off == IOREGSEL)
		return io->regsel;
	if (off == IOWIN)
		return reg_read(io, io->regsel);
	return 0xffffffffu;
}

void ioapic_write(struct ioapic *io, u64 off, u32 val)
{
	if (off == IOREGSEL)
		io->regsel = val & 0xff;
	else if (off == IOWIN)
		reg_write(io, io->regsel, val);
}
