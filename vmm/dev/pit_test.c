// SPDX-License-Identifier: MIT
/* Hosted tests of the PIT (pit.c): channel 0 periodic and one-shot IRQs,
 * latch, read-back, LSB/MSB, channel 2 gated by port 0x61 with OUT2 in
 * bit 5 (the way Linux calibrates the TSC). */
#include "vmm/dev/dev_test.h"
#include "vmm/dev/layout.h"
#include "vmm/dev/pit.h"

static struct pit pit;
static unsigned rises;
static bool line;

static void set_irq(void *ctx, unsigned l, bool level)
{
	if (level && !line)
		rises++;
	line = level;
}

static int setup(void **state)
{
	struct dev_irq irq = { .set = set_irq };

	fake_now = 5000000000ull;
	rises = 0;
	line = false;
	pit_init(&pit, &irq);
	return 0;
}

static u64 ticks_ns(u64 t)
{
	return t * NS_PER_SEC / PLAT_PIT_HZ;
}

static void test_idle(void **state)
{
	SCENARIO("channels start idle: no IRQ before programming");
	assert_int_equal(pit_next_event_ns(&pit), PLAT_NO_EVENT);
	fake_now += NS_PER_SEC;
	pit_advance(&pit, fake_now);
	assert_int_equal(rises, 0);
}

static void test_mode2_periodic(void **state)
{
	u64 t0 = fake_now;

	SCENARIO("channel 0 mode 2: IRQ 0 every count ticks, missed ones coalesce");
	pit_write(&pit, 0x43, 0x34, fake_now);
	pit_write(&pit, 0x40, 0xa9, fake_now); /* 1193 = 0x4a9 */
	pit_write(&pit, 0x40, 0x04, fake_now);
	assert_true(pit_next_event_ns(&pit) >= t0 + ticks_ns(1193));
	assert_true(pit_next_event_ns(&pit) <= t0 + ticks_ns(1193) + 1);
	fake_now = pit_next_event_ns(&pit);
	pit_advance(&pit, fake_now);
	assert_int_equal(rises, 1);
	fake_now = pit_next_event_ns(&pit);
	pit_advance(&pit, fake_now);
	assert_int_equal(rises, 2);
	fake_now += 10 * ticks_ns(1193) + 10; /* ten periods later */
	pit_advance(&pit, fake_now);
	assert_int_equal(rises, 3);
	assert_true(pit_next_event_ns(&pit) > fake_now);
	/* The 9 periods in between are owed, delivered one by one. */
	assert_int_equal(pit.owed, 9);
	for (int i = 0; i < 9; i++)
		assert_true(pit_reinject(&pit));
	assert_false(pit_reinject(&pit));
	assert_int_equal(rises, 12);
	/* Reprogramming forgets the debt. */
	fake_now += 5 * ticks_ns(1193);
	pit_advance(&pit, fake_now);
	assert_true(pit.owed > 0);
	pit_write(&pit, 0x43, 0x34, fake_now);
	assert_int_equal(pit.owed, 0);
}

static void test_mode0_once(void **state)
{
	SCENARIO("channel 0 mode 0: one IRQ at terminal count");
	pit_write(&pit, 0x43, 0x30, fake_now);
	pit_write(&pit, 0x40, 100, fake_now);
	pit_write(&pit, 0x40, 0, fake_now);
	assert_false(pit_out(&pit, 0, fake_now));
	fake_now += ticks_ns(101);
	pit_advance(&pit, fake_now);
	assert_int_equal(rises, 1);
	assert_true(pit_out(&pit, 0, fake_now));
	assert_int_equal(pit_next_event_ns(&pit), PLAT_NO_EVENT);
}

static void test_latch_and_readback(void **state)
{
	u8 lo, hi, st;

	SCENARIO("counter latch holds the count; read-back status");
	pit_write(&pit, 0x43, 0x34, fake_now);
	pit_write(&pit, 0x40, 0x00, fake_now);
	pit_write(&pit, 0x40, 0x10, fake_now); /* 4096 */
	fake_now += ticks_ns(1000) + 10;
	pit_write(&pit, 0x43, 0x00, fake_now); /* latch channel 0 */
	fake_now += ticks_ns(500);
	lo = pit_read(&pit, 0x40, fake_now);
	hi = pit_read(&pit, 0x40, fake_now);
	assert_int_equal(lo | (hi << 8), 4096 - 1000);
	/* live reads continue after the latch is consumed */
	lo = pit_read(&pit, 0x40, fake_now);
	hi = pit_read(&pit, 0x40, fake_now);
	assert_int_equal(lo | (hi << 8), 4096 - 1500);
	pit_write(&pit, 0x43, 0xe2, fake_now); /* read-back status of channel 0 */
	st = pit_read(&pit, 0x40, fake_now);
	assert_int_equal(st & 0x3f, 0x34); /* rw 3, mode 2, binary */
}

static void test_channel2_gate(void **state)
{
	SCENARIO("channel 2 mode 0 gated by port 0x61: OUT2 rises after the count");
	pit_write(&pit, 0x61, 0x00, fake_now);
	pit_write(&pit, 0x43, 0xb0, fake_now);
	pit_write(&pit, 0x42, 0xff, fake_now);
	pit_write(&pit, 0x42, 0x0f, fake_now); /* 4095 */
	fake_now += ticks_ns(5000);
	assert_false(pit_read(&pit, 0x61, fake_now) & 0x20); /* gate low: frozen */
	pit_write(&pit, 0x61, 0x01, fake_now);
	assert_int_equal(pit_read(&pit, 0x61, fake_now) & 0x0f, 0x01);
	fake_now += ticks_ns(4000);
	assert_false(pit_read(&pit, 0x61, fake_now) & 0x20);
	fake_now += ticks_ns(100);
	assert_true(pit_read(&pit, 0x61, fake_now) & 0x20);
	assert_int_equal(rises, 0); /* channel 2 has no IRQ */
}

static void test_mode3_square(void **state)
{
	SCENARIO("mode 3: OUT high for the first half of each period");
	pit_write(&pit, 0x43, 0x16, fake_now); /* channel 0, LSB only, mode 3 */
	pit_write(&pit, 0x40, 100, fake_now);
	fake_now += ticks_ns(10) + 1;
	assert_true(pit_out(&pit, 0, fake_now));
	fake_now += ticks_ns(60);
	assert_false(pit_out(&pit, 0, fake_now));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_idle, setup),
		cmocka_unit_test_setup(test_mode2_periodic, setup),
		cmocka_unit_test_setup(test_mode0_once, setup),
		cmocka_unit_test_setup(test_latch_and_readback, setup),
		cmocka_unit_test_setup(test_channel2_gate, setup),
		cmocka_unit_test_setup(test_mode3_square, setup),
	};

	dev_test_watchdog(30);
	return cmocka_run_group_tests_name("vmm_dev_pit", tests, NULL, NULL);
}
