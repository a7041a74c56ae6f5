// SPDX-License-Identifier: MIT
/*
 * The 8259A pair (pic.h): initialization by ICW1-ICW4, OCW1 masks, OCW2
 * EOIs and rotation, OCW3 register reads and poll mode, auto-EOI, edge and
 * level (ELCR) lines, the slave cascaded on IRQ 2, spurious IRQ 7/15.
 * Not modelled: special fully nested mode, buffered mode (stored, no
 * effect).
 */
#include "vmm/dev/pic.h"
#include "vmm/dev/layout.h"

static void pic_reset(struct pic *c)
{
	u8 elcr = c->elcr, mask = c->elcr_mask;

	*c = (struct pic){ .elcr = elcr, .elcr_mask = mask };
}

void pic_init(struct pic_pair *pp)
{
	pp->pic[0] = (struct pic){ .elcr_mask = 0xf8 }; /* IRQ 0-2 are edge only */
	pp->pic[1] = (struct pic){ .elcr_mask = 0xde }; /* IRQ 8 and 13 are edge only */
}

/* The highest-priority line set in 'mask' (0 = highest after rotation), or 8. */
static unsigned priority(const struct pic *c, u8 mask)
{
	unsigned p;

	if (!mask)
		return 8;
	for (p = 0; !(mask & (1u << ((p + c->priority_add) & 7))); p++)
		;
	return p;
}

/* The line this PIC would raise INTR for, or -1: the highest-priority
 * unmasked request above every line in service (in special mask mode a
 * masked line in service does not block lower ones). */
static int pic_pending(const struct pic *c)
{
	u8 req = c->irr & ~c->imr;
	u8 in_service = c->special_mask ? c->isr & ~c->imr : c->isr;
	unsigned p;

	if (!req)
		return -1;
	p = priority(c, req);
	return p < priority(c, in_service) ? (int)((p + c->priority_add) & 7) : -1;
}

static void update_cascade(struct pic_pair *pp)
{
	struct pic *m = &pp->pic[0];
	bool slave = pic_pending(&pp->pic[1]) >= 0;

	/* The cascade input is level-sensitive from the slave's INTR. */
	if (slave)
		m->irr |= 1u << 2;
	else
		m->irr &= ~(1u << 2);
	m->lines = slave ? m->lines | (1u << 2) : m->lines & ~(1u << 2);
}

static void line_set(struct pic *c, unsigned bit, bool level)
{
	u8 m = (u8)(1u << bit);

	if (c->elcr & m) {
		if (level)
			c->irr |= m;
		else
			c->irr &= ~m;
	} else if (level && !(c->lines & m)) {
		c->irr |= m; /* rising edge */
	}
	c->lines = level ? c->lines | m : c->lines & ~m;
}

void pic_set_irq(struct pic_pair *pp, unsigned irq, bool level)
{
	if (irq >= 16 || irq == 2)
		return; /* IRQ 2 is the cascade; ISA IRQ 2 devices use 9 */
	line_set(&pp->pic[irq >> 3], irq & 7, level);
	update_cascade(pp);
}

bool pic_intr(const struct pic_pair *pp)
{
	return pic_pending(&pp->pic[0]) >= 0;
}

/* Acknowledge line 'irq' of one PIC: IRR -> ISR (or not, in auto-EOI). */
static void ack_line(struct pic *c, unsigned irq)
{
	u8 m = (u8)(1u << irq);

	if (!(c->elcr & m))
		c->irr &= ~m; /* edge: the request is consumed */
	if (c->auto_eoi) {
		if (c->rotate_on_auto_eoi)
			c->priority_add = (u8)((irq + 1) & 7);
	} else {
		c->isr |= m;
	}
}

u8 pic_ack(struct pic_pair *pp)
{
	struct pic *m = &pp->pic[0], *s = &pp->pic[1];
	int irq = pic_pending(m);
	u8 vec;

	if (irq < 0) {
		vec = (u8)(m->vector_base + 7); /* spurious IRQ 7 */
	} else if (irq == 2) {
		int sirq = pic_pending(s);

		ack_line(m, 2);
		if (sirq < 0) {
			vec = (u8)(s->vector_base + 7); /* spurious IRQ 15 */
		} else {
			ack_line(s, (unsigned)sirq);
			vec = (u8)(s->vector_base + sirq);
		}
	} else {
		ack_line(m, (unsigned)irq);
		vec = (u8)(m->vector_base + irq);
	}
	update_cascade(pp);
	return vec;
}

/* Poll command (OCW3 P=1): the next read returns 0x80 | line and acks it. */
static u8 poll_read(struct pic_pair *pp, unsigned idx)
{
	struct pic *c = &pp->pic[idx];
	int irq = pic_pending(c);

	c->poll = false;
	if (irq < 0)
		return 0;
	ack_line(c, (unsigned)irq);
	update_cascade(pp);
	return (u8)(0x80 | irq);
}

static void eoi(struct pic *c, int irq, bool rotate)
{
	if (irq < 0)
		return;
	c->isr &= ~(u8)(1u << irq);
	if (rotate)
		c->priority_add = (u8)((irq + 1) & 7);
}

static void write_command(struct pic *c, u8 val)
{
	if (val & 0x10) { /* ICW1 */
		pic_reset(c);
		c->irr &= c->elcr; /* level requests stay; edges are forgotten */
		c->init_state = 1;
		c->init4 = val & 1;
		c->single = val & 2;
		return;
	}
	if (val & 0x08) { /* OCW3 */
		if (val & 0x04)
			c->poll = true;
		if (val & 0x02)
			c->read_isr = val & 1;
		if (val & 0x40)
			c->special_mask = (val >> 5) & 1;
		return;
	}
	switch (val >> 5) { /* OCW2 */
	case 0: c->rotate_on_auto_eoi = false; break;
	case 4: c->rotate_on_auto_eoi = true; break;
	case 1: /* non-specific EOI */
	case 5: { /* rotate on non-specific EOI */
		unsigned p = priority(c, c->isr);

		if (p < 8)
			eoi(c, (int)((p + c->priority_add) & 7), (val >> 5) == 5);
		break;
	}
	case 3: eoi(c, val & 7, false); break;
	case 7: eoi(c, val & 7, true); break;
	case 6: c->priority_add = (u8)((val + 1) & 7); break;
	default: break; /* 2: no operation */
	}
}

static void write_data(struct pic *c, u8 val)
{
	switch (c->init_state) {
	case 0:
		c->imr = val; /* OCW1 */
		break;
	case 1:
		c->vector_base = val & 0xf8;
		c->init_state = c->single ? (c->init4 ? 3 : 0) : 2;
		break;
	case 2: /* ICW3: the cascade wiring is fixed (slave on IRQ 2) */
		c->init_state = c->init4 ? 3 : 0;
		break;
	default: /* ICW4 */
		c->auto_eoi = val & 2;
		c->init_state = 0;
		break;
	}
}

u8 pic_read(struct pic_pair *pp, u16 port)
{
	unsigned idx;
	struct pic *c;

	if (port == PLAT_PORT_ELCR || port == PLAT_PORT_ELCR + 1)
		return pp->pic[port - PLAT_PORT_ELCR].elcr;
	idx = (port & 0x80) ? 1 : 0;
	c = &pp->pic[idx];
	if (c->poll)
		return poll_read(pp, idx);
	if (port & 1)
		return c->imr;
	return c->read_isr ? c->isr : c->irr;
}

void pic_write(struct pic_pair *pp, u16 port, u8 val)
{
	struct pic *c;

	if (port == PLAT_PORT_ELCR || port == PLAT_PORT_ELCR + 1) {
		c = &pp->pic[port - PLAT_PORT_ELCR];
		c->elcr = val & c->elcr_mask;
		return;
	}
	c = &pp->pic[(port & 0x80) ? 1 : 0];
	if (port & 1)
		write_data(c, val);
	else
		write_command(c, val);
	update_cascade(pp);
}
