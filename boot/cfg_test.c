// SPDX-License-Identifier: MIT
/* Hosted tests of the keel.cfg parser (boot/cfg.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "tests/unit/ktest.h"
#include <stdio.h>
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
	assert_int_equal(c.cpus, 0); /* default: every started CPU */
	assert_int_equal(parse(&c, "cpus = 2\ndebug-kick = yes\n", err), 0);
	assert_int_equal(c.cpus, 2);
	assert_true(c.debug_kick);
	assert_int_equal(parse(&c, "cpus = 0\n", err), -EINVAL);
	assert_int_equal(parse(&c, "cpus = 9\n", err), -EINVAL);
	assert_int_equal(parse(&c, "cpus = two\n", err), -EINVAL);
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

static void test_loader_keys(void **state)
{
	struct keel_cfg c;
	char err[CFG_ERROR_MAX + 32];
	const char *text = "loader = multiboot\ninitrd = \\linux\\initrd.gz\n"
			   "cmdline = console=ttyS0 quiet keel.test=1  # comment\n"
			   "module = \\mb\\mod0 m0 arg=1\nmodule=\\mb\\mod1\n";

	assert_int_equal(parse(&c, "", err), 0);
	assert_int_equal(c.loader, LOADER_AUTO);
	assert_int_equal(c.nr_modules, 0);
	assert_string_equal(c.initrd, "");
	assert_int_equal(parse(&c, text, err), 0);
	assert_int_equal(c.loader, LOADER_MULTIBOOT);
	assert_string_equal(c.initrd, "\\linux\\initrd.gz");
	assert_string_equal(c.cmdline, "console=ttyS0 quiet keel.test=1");
	assert_int_equal(c.nr_modules, 2);
	assert_string_equal(c.modules[0].path, "\\mb\\mod0");
	assert_string_equal(c.modules[0].string, "\\mb\\mod0 m0 arg=1");
	assert_string_equal(c.modules[1].path, "\\mb\\mod1");
	assert_string_equal(c.modules[1].string, "\\mb\\mod1");
	assert_int_equal(parse(&c, "loader = flat\nloader = linux\n", err), 0);
	assert_int_equal(c.loader, LOADER_LINUX);
	assert_int_equal(parse(&c, "loader = elf\n", err), -EINVAL);
	assert_non_null(strstr(err, "keel.cfg:1: loader"));
	assert_int_equal(parse(&c, "module =\n", err), -EINVAL);
	assert_int_equal(parse(&c, "cmdline =\n", err), -EINVAL);
}

static void test_too_many_modules(void **state)
{
	struct keel_cfg c;
	char err[CFG_ERROR_MAX + 32], text[64 * (CFG_MODULES_MAX + 1)];
	size_t n = 0;

	for (unsigned i = 0; i <= CFG_MODULES_MAX; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "module = m%u\n", i);
	assert_int_equal(parse(&c, text, err), -EINVAL);
	assert_non_null(strstr(err, "more than"));
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
		cmocka_unit_test(test_loader_keys),
		cmocka_unit_test(test_too_many_modules),
	};

	return ktest_run_group("boot_cfg", tests, argc, argv);
}
