// SPDX-License-Identifier: MIT
/* Hosted tests of the I/O APIC (ioapic.c): registers, edge and level pins,
 * remote IRR and EOI, masking. */
#include "vmm/dev/dev_test.h"
#include "vmm/dev/ioapic.h"

static struct ioapic io;
static struct ioapic_msg last;
static unsigned sent;

static void deliver(void *ctx, const struct ioapic_msg *m)
{
	last = *m;
	sent++;
}

static int setup(void **state)
{
	ioapic_init(&io, deliver, NULL);
	sent = 0;
	return 0;
}

static u32 reg(u32 r)
{
	ioapic_write(&io, 0x00, r);
	return ioapic_read(&io, 0x10);
}

static void set_reg(u32 r, u32 v)
{
	ioapic_write(&io, 0x00, r);
	ioapic_write(&io, 0x10, v);
}

static void test_registers(void **state)
{
	SCENARIO("ID, version (24 pins, 0x11), redirection entries reset masked");
	assert_int_equal(reg(1), 0x00170011);
	assert_int_equal(reg(0), 0);
	set_reg(0, 0x0f000000);
	assert_int_equal(reg(0), 0x0f000000);
	assert_int_equal(reg(0x10), 0x10000);
	assert_int_equal(reg(0x10 + 2 * 23), 0x10000);
	set_reg(0x11, 0x01000000);
	assert_int_equal(reg(0x11), 0x01000000);
	assert_int_equal(ioapic_read(&io, 0x00), 0x11);
}

static void test_edge(void **state)
{
	SCENARIO("edge pin: one message per rising edge, none while masked");
	set_reg(0x10 + 2 * 4, 0x24);
	set_reg(0x11 + 2 * 4, 0x01000000);
	ioapic_set_irq(&io, 4, true);
	assert_int_equal(sent, 1);
	assert_int_equal(last.vector, 0x24);
	assert_int_equal(last.dest, 1);
	assert_false(last.level);
	ioapic_set_irq(&io, 4, true);
	assert_int_equal(sent, 1);
	ioapic_set_irq(&io, 4, false);
	ioapic_set_irq(&io, 4, true);
	assert_int_equal(sent, 2);
	set_reg(0x10 + 2 * 4, 0x10024);
	ioapic_set_irq(&io, 4, false);
	ioapic_set_irq(&io, 4, true);
	assert_int_equal(sent, 2);
}

static void test_level(void **state)
{
	SCENARIO("level pin: remote IRR until EOI, redelivery while asserted");
	set_reg(0x10 + 2 * 9, 0x8000 | 0x800 | 0x39); /* level, logical */
	ioapic_set_irq(&io, 9, true);
	assert_int_equal(sent, 1);
	assert_true(last.level);
	assert_true(last.logical);
	assert_true(reg(0x10 + 2 * 9) & IOAPIC_REDIR_REMOTE_IRR);
	ioapic_eoi(&io, 0x38); /* another vector: nothing */
	assert_int_equal(sent, 1);
	ioapic_eoi(&io, 0x39);
	assert_int_equal(sent, 2); /* still asserted */
	ioapic_set_irq(&io, 9, false);
	ioapic_eoi(&io, 0x39);
	assert_int_equal(sent, 2);
	assert_false(reg(0x10 + 2 * 9) & IOAPIC_REDIR_REMOTE_IRR);
	/* remote IRR is read-only */
	set_reg(0x10 + 2 * 9, 0x10000 | 0x4000 | 0x8000 | 0x39);
	assert_false(reg(0x10 + 2 * 9) & IOAPIC_REDIR_REMOTE_IRR);
	/* unmasking an asserted level pin delivers it */
	ioapic_set_irq(&io, 9, true);
	assert_int_equal(sent, 2);
	set_reg(0x10 + 2 * 9, 0x8000 | 0x39);
	assert_int_equal(sent, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_registers, setup),
		cmocka_unit_test_setup(test_edge, setup),
		cmocka_unit_test_setup(test_level, setup),
	};

	dev_test_watchdog(30);
	return cmocka_run_group_tests_name("vmm_dev_ioapic", tests, NULL, NULL);
}
