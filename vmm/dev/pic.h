/* SPDX-License-Identifier: MIT */
/*
 * The 8259A pair of a PC: master at 0x20/0x21 (IRQ 0-7), slave at
 * 0xa0/0xa1 (IRQ 8-15) cascaded on the master's IRQ 2, and the ELCR at
 * 0x4d0/0x4d1 that makes a line level-triggered. Its INTR output reaches
 * the BSP's LINT0 (virtual wire): plat_extint_pending.
 */
#pragma once

#include <keel/types.h>

struct pic {
	u8 irr, isr, imr;
	u8 lines;           /* input levels, for edge detection */
	u8 elcr, elcr_mask; /* level-triggered lines; which bits the ELCR has */
	u8 vector_base;     /* ICW2 & 0xf8 */
	u8 priority_add;    /* the lowest-priority line + 1 (rotation) */
	u8 init_state;      /* 0 ready, 1 ICW2 next, 2 ICW3 next, 3 ICW4 next */
	bool init4, single, auto_eoi, rotate_on_auto_eoi, special_mask;
	bool read_isr, poll;
};

struct pic_pair {
	struct pic pic[2]; /* 0 master, 1 slave */
};

void pic_init(struct pic_pair *pp);
/* An ISA line 0-15 changes level. */
void pic_set_irq(struct pic_pair *pp, unsigned irq, bool level);
/* The master's INTR output. */
bool pic_intr(const struct pic_pair *pp);
/* INTA: the vector to deliver (spurious IRQ 7 / 15 when nothing is
 * pending any more). */
u8 pic_ack(struct pic_pair *pp);
/* Ports 0x20/0x21, 0xa0/0xa1, 0x4d0/0x4d1 (byte access). */
u8 pic_read(struct pic_pair *pp, u16 port);
void pic_write(struct pic_pair *pp, u16 port, u8 val);
