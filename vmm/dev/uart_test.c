// SPDX-License-Identifier: MIT
/* Hosted tests of the 16550A (uart.c): both console modes, divisor latch,
 * FIFO identification, THRE and RX interrupts gated by OUT2, the receive
 * FIFO and overrun, loopback as Linux's probe checks it. */
#include "vmm/dev/dev_test.h"
#include "vmm/dev/uart.h"

static struct uart u;
static char out[512];
static size_t out_len;
static bool line;

static void console(void *ctx, const char *s, size_t n)
{
	memcpy(out + out_len, s, n);
	out_len += n;
	out[out_len] = '\0';
}

static void set_irq(void *ctx, unsigned l, bool level)
{
	line = level;
}

static void init(enum plat_console_mode mode)
{
	struct dev_irq irq = { .set = set_irq };

	out_len = 0;
	out[0] = '\0';
	line = false;
	uart_init(&u, mode, console, NULL, &irq);
}

static void puts_uart(const char *s)
{
	while (*s)
		uart_write(&u, 0, (u8)*s++);
}

static void test_lines_mode(void **state)
{
	SCENARIO("LINES: \"guest: <line>\", CR dropped, control bytes as '.'");
	init(PLAT_CONSOLE_LINES);
	puts_uart("hello\r\n\x1b[2Jx");
	assert_string_equal(out, "guest: hello\n");
	uart_flush(&u);
	assert_string_equal(out, "guest: hello\nguest: .[2Jx\n");
}

static void test_raw_mode(void **state)
{
	SCENARIO("RAW: every byte as it is");
	init(PLAT_CONSOLE_RAW);
	puts_uart("$ \x1b[1m\r\n");
	assert_string_equal(out, "$ \x1b[1m\r\n");
	assert_int_equal(u.tx, 8);
}

static void test_divisor_and_scratch(void **state)
{
	SCENARIO("DLAB divisor latch, LCR, SCR");
	init(PLAT_CONSOLE_RAW);
	uart_write(&u, 3, 0x83);
	uart_write(&u, 0, 0x01);
	uart_write(&u, 1, 0x00);
	assert_int_equal(uart_read(&u, 0), 0x01);
	assert_int_equal(uart_read(&u, 1), 0x00);
	uart_write(&u, 3, 0x03);
	assert_int_equal(uart_read(&u, 3), 0x03);
	assert_int_equal(out_len, 0); /* divisor writes are not output */
	uart_write(&u, 7, 0x5a);
	assert_int_equal(uart_read(&u, 7), 0x5a);
}

static void test_fifo_id(void **state)
{
	SCENARIO("FCR enables the FIFOs: IIR bits 7:6 = 11 (16550A)");
	init(PLAT_CONSOLE_RAW);
	assert_int_equal(uart_read(&u, 2), 0x01);
	uart_write(&u, 2, 0xc7);
	assert_int_equal(uart_read(&u, 2), 0xc1);
	uart_write(&u, 2, 0x00);
	assert_int_equal(uart_read(&u, 2), 0x01);
}

static void test_thre_irq(void **state)
{
	SCENARIO("THRE interrupt: needs OUT2, cleared by IIR read, back after THR write");
	init(PLAT_CONSOLE_RAW);
	uart_write(&u, 1, 0x02);
	assert_false(line); /* OUT2 clear: the line is not driven */
	uart_write(&u, 4, 0x08);
	assert_true(line);
	assert_int_equal(uart_read(&u, 2), 0x02);
	assert_false(line);
	assert_int_equal(uart_read(&u, 2), 0x01);
	uart_write(&u, 0, 'a');
	assert_true(line);
	assert_int_equal(uart_read(&u, 5) & 0x60, 0x60);
}

static void test_rx(void **state)
{
	SCENARIO("RX: FIFO order, DR, RDA/timeout IIR, overrun at 17 bytes");
	init(PLAT_CONSOLE_RAW);
	uart_write(&u, 2, 0x81); /* FIFO, trigger 8 */
	uart_write(&u, 4, 0x08);
	uart_write(&u, 1, 0x01);
	assert_true(uart_receive(&u, 'x'));
	assert_true(line);
	assert_int_equal(uart_read(&u, 2), 0xcc); /* below the trigger: timeout id */
	assert_int_equal(uart_read(&u, 5) & 1, 1);
	for (int i = 1; i < 16; i++)
		assert_true(uart_receive(&u, (u8)('a' + i)));
	assert_int_equal(uart_read(&u, 2), 0xc4);
	assert_false(uart_receive(&u, '!'));
	assert_int_equal(u.overruns, 1);
	assert_int_equal(uart_read(&u, 5) & 0x03, 0x03);
	assert_int_equal(uart_read(&u, 5) & 0x02, 0); /* OE clears on read */
	assert_int_equal(uart_read(&u, 0), 'x');
	assert_int_equal(uart_read(&u, 0), 'b');
	for (int i = 2; i < 16; i++)
		(void)uart_read(&u, 0);
	assert_int_equal(uart_read(&u, 5) & 1, 0);
	assert_false(line);
}

static void test_loopback(void **state)
{
	SCENARIO("loopback: MSR follows MCR (Linux's probe), THR comes back, no output");
	init(PLAT_CONSOLE_RAW);
	uart_write(&u, 4, 0x1a);
	assert_int_equal(uart_read(&u, 6) & 0xf0, 0x90);
	uart_write(&u, 0, 'q');
	assert_int_equal(out_len, 0);
	assert_int_equal(uart_read(&u, 0), 'q');
	assert_false(uart_receive(&u, 'z')); /* the host line is disconnected */
	uart_write(&u, 4, 0x0b);
	assert_int_equal(uart_read(&u, 6) & 0xf0, 0xb0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_mode),
		cmocka_unit_test(test_raw_mode),
		cmocka_unit_test(test_divisor_and_scratch),
		cmocka_unit_test(test_fifo_id),
		cmocka_unit_test(test_thre_irq),
		cmocka_unit_test(test_rx),
		cmocka_unit_test(test_loopback),
	};

	dev_test_watchdog(30);
	return cmocka_run_group_tests_name("vmm_dev_uart", tests, NULL, NULL);
}
