// SPDX-License-Identifier: MIT
/*
 * The 8254 (pit.h): modes 0-5 (1 and 5 as gate-triggered 0 and 4), binary
 * counting (BCD is stored and reported, the count runs binary), counter
 * latch, read-back, LSB/MSB access. Channel 0's IRQ 0 is an edge at each
 * rising OUT. Periods that ended while Keel was away (modes 2 and 3) are
 * owed and re-injected one at a time once the guest took the previous
 * one (pit_reinject, as KVM's PIT does by default), up to PIT_MAX_OWED.
 */
#include "vmm/dev/pit.h"
#include "vmm/dev/layout.h"
#include "vmm/dev/platform.h"

#define REFRESH_NS 15085 /* port 0x61 bit 4 toggles every ~15 us */

static u64 ticks_to_ns(u64 t)
{
	return muldiv64_up(t, NS_PER_SEC, PLAT_PIT_HZ);
}

/* Ticks counted since the load. */
static u64 elapsed(const struct pit_channel *c, u64 now)
{
	if (!c->counting)
		return 0;
	if (!c->gate && (c->mode == 0 || c->mode == 4 || c->mode == 2 || c->mode == 3))
		return c->frozen;
	return now > c->load_ns ? muldiv64(now - c->load_ns, PLAT_PIT_HZ, NS_PER_SEC) : 0;
}

static bool out_at(const struct pit_channel *c, u64 d)
{
	u64 n = c->count;

	if (!c->counting)
		return c->mode != 0;
	switch (c->mode) {
	case 0:
	case 1:
		return d >= n;
	case 2:
		return n < 2 || d % n != n - 1;
	case 3:
		return d % n < (n + 1) / 2;
	default: /* 4, 5: one low tick at the terminal count */
		return d != n;
	}
}

bool pit_out(const struct pit *pit, unsigned ch, u64 now)
{
	const struct pit_channel *c = &pit->ch[ch];

	if (!c->gate && (c->mode == 2 || c->mode == 3))
		return true;
	return out_at(c, elapsed(c, now));
}

static u16 current_count(const struct pit_channel *c, u64 now)
{
	u64 d = elapsed(c, now), n = c->count;

	if (!c->counting)
		return (u16)c->count;
	switch (c->mode) {
	case 2:
		return (u16)(n - d % n);
	case 3:
		return (u16)((n - (2 * d) % n) & ~1ull);
	default:
		return (u16)(n - d);
	}
}

/* Channel 0's next interrupt (a rising OUT), in ns. */
static void schedule(struct pit *pit, u64 now)
{
	struct pit_channel *c = &pit->ch[0];
	u64 d, n = c->count, at;

	pit->next_irq_ns = PLAT_NO_EVENT;
	if (!c->counting || !c->gate)
		return;
	d = elapsed(c, now);
	switch (c->mode) {
	case 2:
	case 3:
		pit->next_period = d / n + 1;
		at = pit->next_period * n;
		break;
	case 0:
	case 1:
		if (d >= n)
			return;
		at = n;
		break;
	default:
		if (d > n)
			return;
		at = n + 1;
		break;
	}
	pit->next_irq_ns = c->load_ns + ticks_to_ns(at);
}

void pit_init(struct pit *pit, const struct dev_irq *irq)
{
	*pit = (struct pit){ .irq = *irq, .next_irq_ns = PLAT_NO_EVENT };
	for (unsigned i = 0; i < 3; i++)
		pit->ch[i] = (struct pit_channel){ .count = 0x10000, .gate = i != 2, .rw = 3 };
}

/* Periods of channel 0 that ended by 'now' since the pending one (>= 1). */
static u64 periods_due(const struct pit *pit, u64 now)
{
	const struct pit_channel *c = &pit->ch[0];
	u64 k = elapsed(c, now) / c->count;

	if ((c->mode != 2 && c->mode != 3) || k < pit->next_period)
		return 1;
	return k - pit->next_period + 1;
}

void pit_advance(struct pit *pit, u64 now)
{
	u64 due;

	if (pit->next_irq_ns == PLAT_NO_EVENT || now < pit->next_irq_ns)
		return;
	due = periods_due(pit, now);
	pit->irqs++;
	dev_irq_pulse(&pit->irq);
	/* The periods Keel was away for are owed, not lost: a guest counting
	 * ticks (Linux's jiffies) gets them one by one (pit_reinject). */
	pit->owed = MIN(pit->owed + due - 1, PIT_MAX_OWED);
	schedule(pit, now);
}

bool pit_reinject(struct pit *pit)
{
	if (!pit->owed)
		return false;
	pit->owed--;
	pit->irqs++;
	pit->reinjected++;
	dev_irq_pulse(&pit->irq);
	return true;
}

u64 pit_next_event_ns(const struct pit *pit)
{
	return pit->next_irq_ns;
}

static void load(struct pit *pit, unsigned ch, u32 count, u64 now)
{
	struct pit_channel *c = &pit->ch[ch];

	c->count = count ? count : 0x10000;
	c->counting = true;
	c->null_count = false;
	c->load_ns = now;
	c->frozen = 0;
	if (ch == 0) {
		pit->owed = 0;
		schedule(pit, now);
	}
}

static void set_gate(struct pit *pit, unsigned ch, bool gate, u64 now)
{
	struct pit_channel *c = &pit->ch[ch];

	if (gate == c->gate)
		return;
	if (!gate) {
		c->frozen = elapsed(c, now);
		c->gate = false;
	} else {
		c->gate = true;
		if (c->mode == 0 || c->mode == 4)
			c->load_ns = now - ticks_to_ns(c->frozen); /* resume */
		else
			c->load_ns = now; /* modes 1, 2, 3, 5: the rising edge restarts */
	}
	if (ch == 0)
		schedule(pit, now);
}

static void latch_count(struct pit_channel *c, u64 now)
{
	if (c->latched)
		return; /* the first latch holds until read */
	c->latch = current_count(c, now);
	c->latched = true;
	c->latch_msb = false;
}

static void latch_status(struct pit *pit, unsigned ch, u64 now)
{
	struct pit_channel *c = &pit->ch[ch];

	if (c->status_latched)
		return;
	c->status = (u8)((pit_out(pit, ch, now) ? 0x80 : 0) | (c->null_count ? 0x40 : 0) |
			 (c->rw << 4) | (c->mode << 1) | c->bcd);
	c->status_latched = true;
}

static void control(struct pit *pit, u8 val, u64 now)
{
	unsigned sc = val >> 6, rw = (val >> 4) & 3;
	struct pit_channel *c;

	if (sc == 3) { /* read-back: bits 1-3 select, bit 5 = 0 count, bit 4 = 0 status */
		for (unsigned i = 0; i < 3; i++) {
			if (!(val & (2u << i)))
				continue;
			if (!(val & 0x20))
				latch_count(&pit->ch[i], now);
			if (!(val & 0x10))
				latch_status(pit, i, now);
		}
		return;
	}
	c = &pit->ch[sc];
	if (rw == 0) {
		latch_count(c, now);
		return;
	}
	c->rw = (u8)rw;
	c->mode = (val >> 1) & 7;
	if (c->mode > 5)
		c->mode -= 4; /* 6, 7 are aliases of 2, 3 */
	c->bcd = val & 1;
	c->counting = false; /* until a count is written */
	if (sc == 0)
		pit->owed = 0;
	c->null_count = true;
	c->write_msb = c->read_msb = false;
	c->latched = c->status_latched = false;
	if (sc == 0)
		schedule(pit, now);
}

static void write_count(struct pit *pit, unsigned ch, u8 val, u64 now)
{
	struct pit_channel *c = &pit->ch[ch];

	switch (c->rw) {
	case 1:
		load(pit, ch, val, now);
		break;
	case 2:
		load(pit, ch, (u32)val << 8, now);
		break;
	default:
		if (!c->write_msb) {
			c->write_lsb = val;
			c->write_msb = true;
			if (c->mode == 0)
				c->counting = false; /* mode 0: writing the LSB stops the count */
		} else {
			c->write_msb = false;
			load(pit, ch, c->write_lsb | ((u32)val << 8), now);
		}
		break;
	}
}

static u8 read_count(struct pit_channel *c, u64 now)
{
	u16 v;
	u8 r;

	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	v = c->latched ? c->latch : current_count(c, now);
	switch (c->rw) {
	case 1:
		c->latched = false;
		return (u8)v;
	case 2:
		c->latched = false;
		return (u8)(v >> 8);
	default:
		if (c->latched) {
			r = c->latch_msb ? (u8)(v >> 8) : (u8)v;
			if (c->latch_msb)
				c->latched = false;
			c->latch_msb = !c->latch_msb;
			return r;
		}
		r = c->read_msb ? (u8)(v >> 8) : (u8)v;
		c->read_msb = !c->read_msb;
		return r;
	}
}

u8 pit_read(struct pit *pit, u16 port, u64 now)
{
	if (port == PLAT_PORT_SYS_CTRL_B)
		return (u8)((pit->port61 & 0x0f) | (((now / REFRESH_NS) & 1) << 4) |
			    (pit_out(pit, 2, now) ? 0x20 : 0));
	if (port >= PLAT_PORT_PIT && port < PLAT_PORT_PIT + 3)
		return read_count(&pit->ch[port - PLAT_PORT_PIT], now);
	return 0xff; /* the control word register cannot be read */
}

void pit_write(struct pit *pit, u16 port, u8 val, u64 now)
{
	if (port == PLAT_PORT_SYS_CTRL_B) {
		pit->port61 = val & 0x0f;
		set_gate(pit, 2, val & 1, now);
	} else if (port == PLAT_PORT_PIT + 3) {
		control(pit, val, now);
	} else if (port >= PLAT_PORT_PIT && port < PLAT_PORT_PIT + 3) {
		write_count(pit, port - PLAT_PORT_PIT, val, now);
	}
}
