// SPDX-License-Identifier: MIT
/* Hosted tests of the CMOS RTC (rtc.c): calendar, BCD/binary, 12/24 h,
 * UIP, update-ended and periodic interrupts, setting the time, the CMOS
 * memory-size bytes. */
#include "vmm/dev/dev_test.h"
#include "vmm/dev/rtc.h"

static struct rtc rtc;
static bool line;
static unsigned rises;

static void set_irq(void *ctx, unsigned l, bool level)
{
	if (level && !line)
		rises++;
	line = level;
}

/* 2026-12-01 18:52:31 UTC, a Tuesday. */
#define T0 1796151151ull

static int setup(void **state)
{
	struct dev_irq irq = { .set = set_irq };
	struct rtc_config cfg = { .unix_time = T0, .ram_below_4g = 512ull << 20,
				  .ram_above_4g = 3ull << 30, .nr_vcpus = 2 };

	fake_now = 7000000000ull; /* not aligned to the RTC's seconds on purpose */
	line = false;
	rises = 0;
	rtc_init(&rtc, &cfg, &irq, fake_now);
	return 0;
}

static u8 cmos(u8 idx)
{
	rtc_write(&rtc, 0x70, idx, fake_now);
	return rtc_read(&rtc, 0x71, fake_now);
}

static void set_cmos(u8 idx, u8 v)
{
	rtc_write(&rtc, 0x70, idx, fake_now);
	rtc_write(&rtc, 0x71, v, fake_now);
}

static void test_calendar(void **state)
{
	s64 y;
	unsigned m, d;

	SCENARIO("days since 1970 <-> civil date");
	assert_int_equal(rtc_days_from_civil(1970, 1, 1), 0);
	assert_int_equal(rtc_days_from_civil(2000, 3, 1), 11017);
	assert_int_equal(rtc_days_from_civil(2026, 12, 1), T0 / 86400);
	rtc_civil_from_days(11016, &y, &m, &d);
	assert_int_equal(y, 2000);
	assert_int_equal(m, 2);
	assert_int_equal(d, 29);
}

static void test_bcd_time(void **state)
{
	SCENARIO("BCD 24 h time and date at creation");
	assert_int_equal(cmos(0), 0x31);
	assert_int_equal(cmos(2), 0x52);
	assert_int_equal(cmos(4), 0x18);
	assert_int_equal(cmos(6), 3); /* Tuesday (1 = Sunday) */
	assert_int_equal(cmos(7), 0x01);
	assert_int_equal(cmos(8), 0x12);
	assert_int_equal(cmos(9), 0x26);
	assert_int_equal(cmos(0x32), 0x20);
	assert_int_equal(cmos(0x0d), 0x80);
	fake_now += 29 * NS_PER_SEC;
	assert_int_equal(cmos(0), 0x00);
	assert_int_equal(cmos(2), 0x53);
}

static void test_binary_12h(void **state)
{
	SCENARIO("binary mode and 12 h mode per register B");
	set_cmos(0x0b, 0x06); /* binary, 24 h */
	assert_int_equal(cmos(4), 18);
	assert_int_equal(cmos(9), 26);
	set_cmos(0x0b, 0x00); /* BCD, 12 h */
	assert_int_equal(cmos(4), 0x86); /* 6 PM */
}

static void test_set_time(void **state)
{
	SCENARIO("writing the hour moves the clock, which runs on");
	set_cmos(0x04, 0x07);
	assert_int_equal(cmos(4), 0x07);
	assert_int_equal(cmos(2), 0x52);
	fake_now += 3600 * NS_PER_SEC;
	assert_int_equal(cmos(4), 0x08);
}

static void test_uip(void **state)
{
	SCENARIO("UIP is set in the last 244 us before an update");
	assert_false(cmos(0x0a) & 0x80);
	assert_int_equal(cmos(0x0a), 0x26);
	fake_now += NS_PER_SEC - 100000;
	assert_true(cmos(0x0a) & 0x80);
}

static void test_update_irq(void **state)
{
	SCENARIO("update-ended interrupt on IRQ 8; register C read clears it");
	(void)cmos(0x0c);
	set_cmos(0x0b, 0x12); /* UIE, 24 h */
	assert_int_equal(rtc_next_event_ns(&rtc), 7000000000ull + NS_PER_SEC);
	fake_now = rtc_next_event_ns(&rtc);
	rtc_advance(&rtc, fake_now);
	assert_true(line);
	assert_int_equal(rises, 1);
	assert_int_equal(cmos(0x0c) & 0xb0, 0x90); /* IRQF, UF (PF runs too) */
	assert_false(line);
	assert_int_equal(cmos(0x0c) & 0xb0, 0);
	assert_int_equal(rtc_next_event_ns(&rtc), 7000000000ull + 2 * NS_PER_SEC);
}

static void test_periodic_irq(void **state)
{
	SCENARIO("periodic interrupt at 1024 Hz (rate 6)");
	(void)cmos(0x0c);
	set_cmos(0x0b, 0x42); /* PIE */
	assert_int_equal(rtc_next_event_ns(&rtc), 7000000000ull + 976562);
	fake_now = rtc_next_event_ns(&rtc);
	rtc_advance(&rtc, fake_now);
	assert_true(line);
	assert_int_equal(cmos(0x0c) & 0xc0, 0xc0);
	set_cmos(0x0b, 0x02);
	assert_int_equal(rtc_next_event_ns(&rtc), PLAT_NO_EVENT);
	/* PF is still set by time passing, without an interrupt */
	fake_now += 2000000;
	assert_int_equal(cmos(0x0c), 0x40);
	assert_false(line);
}

static void test_memory_bytes(void **state)
{
	SCENARIO("CMOS memory-size bytes from the RAM sizes");
	assert_int_equal(cmos(0x15) | (cmos(0x16) << 8), 640);
	assert_int_equal(cmos(0x30) | (cmos(0x31) << 8), 0xffff); /* 511 MiB: capped */
	assert_int_equal(cmos(0x34) | (cmos(0x35) << 8), (512 - 16) * 16);
	assert_int_equal(cmos(0x5b) | (cmos(0x5c) << 8) | (cmos(0x5d) << 16), 3 * 16384);
	assert_int_equal(cmos(0x5f), 1);
	rtc_write(&rtc, 0x70, 0x80 | 0x40, fake_now); /* NMI mask bit, index 0x40 */
	assert_true(rtc.nmi_masked);
	rtc_write(&rtc, 0x71, 0x5a, fake_now);
	assert_int_equal(cmos(0x40), 0x5a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_calendar, setup),
		cmocka_unit_test_setup(test_bcd_time, setup),
		cmocka_unit_test_setup(test_binary_12h, setup),
		cmocka_unit_test_setup(test_set_time, setup),
		cmocka_unit_test_setup(test_uip, setup),
		cmocka_unit_test_setup(test_update_irq, setup),
		cmocka_unit_test_setup(test_periodic_irq, setup),
		cmocka_unit_test_setup(test_memory_bytes, setup),
	};

	dev_test_watchdog(30);
	return cmocka_run_group_tests_name("vmm_dev_rtc", tests, NULL, NULL);
}
