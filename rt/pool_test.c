// SPDX-License-Identifier: MIT
/* Hosted tests of Keel's pool (rt/pool.c): page runs, object classes,
 * zeroing, exhaustion, and the panics on frees that corrupt it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "tests/unit/ktest.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <keel/host.h>
#include "rt/pool.h"

#define NPAGES 64

static u8 *base;
static u64 bitmap[NPAGES / 64];
static jmp_buf panic_jmp;
static char panic_msg[256];

/* pool.c's only outside call: turn a panic into a test outcome. */
void host_panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(panic_msg, sizeof(panic_msg), fmt, ap);
	va_end(ap);
	longjmp(panic_jmp, 1);
}

#define EXPECT_PANIC(stmt, text)                                              \
	do {                                                                  \
		panic_msg[0] = '\0';                                          \
		if (!setjmp(panic_jmp)) {                                     \
			stmt;                                                 \
			fail_msg("no panic from %s", #stmt);                  \
		}                                                             \
		assert_non_null(strstr(panic_msg, text));                     \
	} while (0)

static int setup(void **state)
{
	base = aligned_alloc(PAGE_SIZE, NPAGES * PAGE_SIZE);
	if (!base)
		return -1;
	memset(base, 0xaa, NPAGES * PAGE_SIZE); /* what the firmware left */
	pool_init(base, NPAGES, bitmap);
	return 0;
}

static int teardown(void **state)
{
	free(base);
	return 0;
}

static bool all_zero(const void *p, size_t n)
{
	const u8 *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

static void test_pages(void **state)
{
	struct pool_stats st;
	u8 *a = host_alloc_pages(3), *b = host_alloc_pages(NPAGES - 3);

	assert_non_null(a);
	assert_non_null(b);
	assert_true(((uintptr_t)a % PAGE_SIZE) == 0);
	assert_true(all_zero(a, 3 * PAGE_SIZE));
	assert_true(b >= a + 3 * PAGE_SIZE || b + (NPAGES - 3) * PAGE_SIZE <= a);
	assert_null(host_alloc_pages(1)); /* exhausted */
	pool_get_stats(&st);
	assert_int_equal(st.pages_used, NPAGES);
	host_free_pages(a + PAGE_SIZE, 1); /* a hole of one page */
	assert_null(host_alloc_pages(2));
	assert_ptr_equal(host_alloc_pages(1), a + PAGE_SIZE);
	host_free_pages(a, 3);
	host_free_pages(b, NPAGES - 3);
	pool_get_stats(&st);
	assert_int_equal(st.pages_used, 0);
	assert_int_equal(st.pages_peak, NPAGES);
	assert_null(host_alloc_pages(0));
}

static void test_objects(void **state)
{
	u8 *small[40];
	struct pool_stats st;
	u8 *big;

	for (int i = 0; i < 40; i++) {
		small[i] = host_alloc((size_t)(i * 37 + 1));
		assert_non_null(small[i]);
		assert_true(((uintptr_t)small[i] % 16) == 0);
		assert_true(all_zero(small[i], (size_t)(i * 37 + 1)));
		memset(small[i], 0x55, (size_t)(i * 37 + 1));
	}
	for (int i = 0; i < 40; i++)
		host_free(small[i]);
	/* A freed object comes back zeroed. */
	assert_true(all_zero(host_alloc(37 * 3 + 1), 37 * 3 + 1));
	big = host_alloc(3 * PAGE_SIZE);
	assert_non_null(big);
	assert_true(all_zero(big, 3 * PAGE_SIZE));
	pool_get_stats(&st);
	host_free(big);
	{
		struct pool_stats after;

		pool_get_stats(&after);
		assert_int_equal(after.pages_used, st.pages_used - 4); /* 3 pages + header */
	}
}

static void test_bad_frees_panic(void **state)
{
	u8 *p = host_alloc_pages(1);
	u64 outside[4];
	u8 *o = host_alloc(100);

	host_free_pages(p, 1);
	EXPECT_PANIC(host_free_pages(p, 1), "freed twice");
	EXPECT_PANIC(host_free_pages(outside, 1), "not pool memory");
	EXPECT_PANIC(host_free_pages(base + 10, 1), "not pool memory");
	host_free(o);
	EXPECT_PANIC(host_free(o), "not a live object");
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_objects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_frees_panic, setup, teardown),
	};

	return ktest_run_group("rt_pool", tests, argc, argv);
}
