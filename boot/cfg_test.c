// SPDX-License-Identifier: MIT
/* Hosted tests of the keel.cfg parser (boot/cfg.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "tests/unit/ktest.h"
#include <string.h>

#include <keel/errno.h>
#include "boot/cfg.h"

static int parse(struct keel_cfg *c, const char *text, char *err)
{
	cfg_defaults(c);
	err[0] = '\0';
	return cfg_parse(c, text, strlen(text), err, CFG_ERROR_MAX + 32);
}

static void test_defaults(void **state)
{
	struct keel_cfg c;
	char err[CFG_ERROR_MAX + 32];

	assert_int_equal(parse(&c, "", err), 0);
	assert_string_equal(c.guest, "builtin");
	assert_int_equal(c.guest_mem, 2 * SZ_1G + 64 * (1ull << 20));
	assert_int_equal(c.log_level, LOG_INFO);
	assert_string_equal(c.guest_fail, "");
}

static void test_all_keys(void **state)
{
	struct keel_cfg c;
	char err[CFG_ERROR_MAX + 32];
	const char *text = "# Keel\r\n\n  guest = \\keel\\other.bin  # comment\n"
			   "guest-mem=4G\nlog = debug\r\nguest-fail = ram-2m\n";

	assert_int_equal(parse(&c, text, err), 0);
	assert_string_equal(c.guest, "\\keel\\other.bin");
	assert_int_equal(c.guest_mem, 4 * SZ_1G);
	assert_int_equal(c.log_level, LOG_DEBUG);
	assert_string_equal(c.guest_fail, "ram-2m");
	assert_int_equal(parse(&c, "guest-fail = ram\nguest-fail = none", err), 0);
	assert_string_equal(c.guest_fail, "");
	assert_false(c.debug_panic);
	assert_int_equal(parse(&c, "debug-panic = yes\n", err), 0);
	assert_true(c.debug_panic);
	assert_int_equal(parse(&c, "debug-panic = maybe\n", err), -EINVAL);
	assert_int_equal(parse(&c, "guest-mem = 2112M\n", err), 0);
	assert_int_equal(c.guest_mem, 2112ull << 20);
}

static void test_errors_name_the_line(void **state)
{
	struct keel_cfg c;
	char err[CFG_ERROR_MAX + 32];

	assert_int_equal(parse(&c, "log = info\n\nthis is not a setting\n", err), -EINVAL);
	assert_non_null(strstr(err, "keel.cfg:3:"));
	assert_int_equal(parse(&c, "# one\nfoo = 1\n", err), -EINVAL);
	assert_non_null(strstr(err, "keel.cfg:2: unknown key \"foo\""));
	assert_int_equal(parse(&c, "guest-mem = lots\n", err), -EINVAL);
	assert_non_null(strstr(err, "keel.cfg:1: guest-mem"));
	assert_int_equal(parse(&c, "guest-mem = 3M\n", err), -EINVAL);     /* not 2 MiB multiple */
	assert_int_equal(parse(&c, "guest-mem = 99999G\n", err), -EINVAL);  /* too big */
	assert_int_equal(parse(&c, "guest-mem = 99999999999999999999G\n", err), -EINVAL);
	assert_int_equal(parse(&c, "log = loud\n", err), -EINVAL);
	assert_int_equal(parse(&c, "guest =\n", err), -EINVAL);
	assert_int_equal(parse(&c, "guest-fail = a b\n", err), -EINVAL);
	assert_int_equal(parse(&c, "Key = x\n", err), -EINVAL);
}

static void test_long_line(void **state)
{
	struct keel_cfg c;
	char err[CFG_ERROR_MAX + 32];
	char text[400];

	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	assert_int_equal(parse(&c, text, err), -EINVAL);
	assert_non_null(strstr(err, "keel.cfg:1: line longer"));
	/* A failed parse leaves no half-applied value behind for the key. */
	assert_string_equal(c.guest, "builtin");
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_all_keys),
		cmocka_unit_test(test_errors_name_the_line),
		cmocka_unit_test(test_long_line),
	};

	return ktest_run_group("boot_cfg", tests, argc, argv);
}
