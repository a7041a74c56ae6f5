// SPDX-License-Identifier: MIT
/* Hosted tests of the 8259 pair (pic.c): Linux's init sequence, edge and
 * level lines, the cascade, priorities, EOIs, auto-EOI, poll, spurious
 * IRQ 7/15, ELCR. */
#include "vmm/dev/dev_test.h"
#include "vmm/dev/pic.h"

static struct pic_pair pp;

static void init_linux(u8 icw4)
{
	pic_init(&pp);
	pic_write(&pp, 0x21, 0xff);
	pic_write(&pp, 0xa1, 0xff);
	pic_write(&pp, 0x20, 0x11);
	pic_write(&pp, 0x21, 0x30);
	pic_write(&pp, 0x21, 0x04);
	pic_write(&pp, 0x21, icw4);
	pic_write(&pp, 0xa0, 0x11);
	pic_write(&pp, 0xa1, 0x38);
	pic_write(&pp, 0xa1, 0x02);
	pic_write(&pp, 0xa1, icw4);
	pic_write(&pp, 0x21, 0xff);
	pic_write(&pp, 0xa1, 0xff);
}

static u8 read_isr(u16 cmd)
{
	pic_write(&pp, cmd, 0x0b);
	return pic_read(&pp, cmd);
}

static u8 read_irr(u16 cmd)
{
	pic_write(&pp, cmd, 0x0a);
	return pic_read(&pp, cmd);
}

static void test_init_and_mask(void **state)
{
	SCENARIO("init sequence leaves every line masked, IMR reads back");
	init_linux(0x01);
	assert_int_equal(pic_read(&pp, 0x21), 0xff);
	assert_int_equal(pic_read(&pp, 0xa1), 0xff);
	pic_set_irq(&pp, 0, true);
	assert_false(pic_intr(&pp));
	assert_int_equal(read_irr(0x20) & 1, 1); /* requested, masked */
	pic_write(&pp, 0x21, 0xfe);
	assert_true(pic_intr(&pp));
}

static void test_edge_ack_eoi(void **state)
{
	SCENARIO("edge IRQ 0: ack gives base vector, ISR until EOI");
	init_linux(0x01);
	pic_write(&pp, 0x21, 0xfe);
	pic_set_irq(&pp, 0, true);
	assert_true(pic_intr(&pp));
	assert_int_equal(pic_ack(&pp), 0x30);
	assert_false(pic_intr(&pp));
	assert_int_equal(read_isr(0x20), 0x01);
	pic_set_irq(&pp, 0, false);
	pic_set_irq(&pp, 0, true); /* a new edge while in service: waits */
	assert_false(pic_intr(&pp));
	pic_write(&pp, 0x20, 0x20); /* non-specific EOI */
	assert_int_equal(read_isr(0x20), 0);
	assert_true(pic_intr(&pp));
	/* A held edge line does not re-request after its ack. */
	assert_int_equal(pic_ack(&pp), 0x30);
	pic_write(&pp, 0x20, 0x60); /* specific EOI, IRQ 0 */
	assert_false(pic_intr(&pp));
}

static void test_cascade(void **state)
{
	SCENARIO("slave IRQ 8 through the master's IRQ 2");
	init_linux(0x01);
	pic_write(&pp, 0x21, 0xfb);
	pic_write(&pp, 0xa1, 0xfe);
	pic_set_irq(&pp, 8, true);
	assert_true(pic_intr(&pp));
	assert_int_equal(pic_ack(&pp), 0x38);
	assert_int_equal(read_isr(0x20), 0x04);
	assert_int_equal(read_isr(0xa0), 0x01);
	pic_write(&pp, 0xa0, 0x20);
	pic_write(&pp, 0x20, 0x20);
	assert_int_equal(read_isr(0x20), 0);
	assert_int_equal(read_isr(0xa0), 0);
}

static void test_priority(void **state)
{
	SCENARIO("IRQ 1 in service blocks IRQ 3, IRQ 0 preempts");
	init_linux(0x01);
	pic_write(&pp, 0x21, 0x00);
	pic_set_irq(&pp, 1, true);
	assert_int_equal(pic_ack(&pp), 0x31);
	pic_set_irq(&pp, 3, true);
	assert_false(pic_intr(&pp));
	pic_set_irq(&pp, 0, true);
	assert_true(pic_intr(&pp));
	assert_int_equal(pic_ack(&pp), 0x30);
	pic_write(&pp, 0x20, 0x20); /* EOI IRQ 0 (highest in service) */
	assert_int_equal(read_isr(0x20), 0x02);
	pic_write(&pp, 0x20, 0x20);
	assert_int_equal(pic_ack(&pp), 0x33);
}

static void test_spurious(void **state)
{
	SCENARIO("a level request gone before INTA: spurious IRQ 7 and 15");
	init_linux(0x01);
	pic_write(&pp, 0x4d0, 0x20); /* IRQ 5 level */
	pic_write(&pp, 0x21, 0x00);
	pic_set_irq(&pp, 5, true);
	assert_true(pic_intr(&pp));
	pic_set_irq(&pp, 5, false);
	assert_int_equal(pic_ack(&pp), 0x37);
	assert_int_equal(read_isr(0x20), 0); /* spurious: no ISR bit */
	pic_write(&pp, 0x4d1, 0x02); /* IRQ 9 level */
	pic_write(&pp, 0xa1, 0x00);
	pic_set_irq(&pp, 9, true);
	assert_true(pic_intr(&pp));
	pic_set_irq(&pp, 9, false);
	/* The slave's request went away: the cascade input drops with it. */
	assert_false(pic_intr(&pp));
	assert_int_equal(pic_ack(&pp), 0x37); /* an INTA anyway: spurious IRQ 7 */
}

static void test_level_stays(void **state)
{
	SCENARIO("a level line requests again after EOI while asserted");
	init_linux(0x01);
	pic_write(&pp, 0x4d1, 0x08); /* IRQ 11 level */
	pic_write(&pp, 0x21, 0xfb);
	pic_write(&pp, 0xa1, 0xf7);
	pic_set_irq(&pp, 11, true);
	assert_int_equal(pic_ack(&pp), 0x3b);
	pic_write(&pp, 0xa0, 0x20);
	pic_write(&pp, 0x20, 0x20);
	assert_true(pic_intr(&pp));
	pic_set_irq(&pp, 11, false);
	assert_false(pic_intr(&pp));
}

static void test_auto_eoi_and_poll(void **state)
{
	SCENARIO("auto-EOI sets no ISR bit; poll mode acks");
	init_linux(0x03);
	pic_write(&pp, 0x21, 0x00);
	pic_set_irq(&pp, 4, true);
	assert_int_equal(pic_ack(&pp), 0x34);
	assert_int_equal(read_isr(0x20), 0);
	pic_set_irq(&pp, 6, true);
	pic_write(&pp, 0x20, 0x0c); /* OCW3 poll */
	assert_int_equal(pic_read(&pp, 0x20), 0x86);
	assert_false(pic_intr(&pp));
	pic_write(&pp, 0x20, 0x0c);
	assert_int_equal(pic_read(&pp, 0x20), 0x00); /* nothing pending */
}

static void test_elcr(void **state)
{
	SCENARIO("ELCR: IRQ 0-2, 8 and 13 cannot be level");
	init_linux(0x01);
	pic_write(&pp, 0x4d0, 0xff);
	pic_write(&pp, 0x4d1, 0xff);
	assert_int_equal(pic_read(&pp, 0x4d0), 0xf8);
	assert_int_equal(pic_read(&pp, 0x4d1), 0xde);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_and_mask),
		cmocka_unit_test(test_edge_ack_eoi),
		cmocka_unit_test(test_cascade),
		cmocka_unit_test(test_priority),
		cmocka_unit_test(test_spurious),
		cmocka_unit_test(test_level_stays),
		cmocka_unit_test(test_auto_eoi_and_poll),
		cmocka_unit_test(test_elcr),
	};

	dev_test_watchdog(30);
	return cmocka_run_group_tests_name("vmm_dev_pic", tests, NULL, NULL);
}
