// SPDX-License-Identifier: MIT
/*
 * The string functions of include/keel/string.h for keel.efi. Byte loops:
 * Keel copies little (VMCBs, config lines), and gcc may turn a struct copy
 * into a call to memcpy, so these must not call themselves through the
 * optimiser: gcc's loop-distribution pass would turn the loops below back
 * into calls to memset/memcpy (infinite recursion), hence NO_LIBCALL.
 */
#include <keel/string.h>

#define NO_LIBCALL __attribute__((optimize("no-tree-loop-distribute-patterns")))

/*
 * Large aligned fills (page tables, guest RAM) store 64 bytes an iteration.
 * Not REP STOSQ: QEMU's TCG emulates that one iteration at a time, ~10x
 * slower than this loop, and on hardware both run at memory bandwidth.
 */
NO_LIBCALL static void memset_blocks(u64 *q, u64 pattern, size_t nblocks)
{
	for (; nblocks; nblocks--, q += 8) {
		q[0] = pattern;
		q[1] = pattern;
		q[2] = pattern;
		q[3] = pattern;
		q[4] = pattern;
		q[5] = pattern;
		q[6] = pattern;
		q[7] = pattern;
	}
}

NO_LIBCALL void *memset(void *s, int c, size_t n)
{
	u8 *p = s;

	if (IS_ALIGNED((uintptr_t)s, 8) && n >= 64) {
		size_t bulk = ALIGN_DOWN(n, 64);

		memset_blocks(s, (u8)c * 0x0101010101010101ull, bulk / 64);
		p += bulk;
		n -= bulk;
	}
	while (n--)
		*p++ = (u8)c;
	return s;
}

NO_LIBCALL void *memcpy(void *restrict d, const void *restrict s, size_t n)
{
	u8 *dp = d;
	const u8 *sp = s;

	while (n--)
		*dp++ = *sp++;
	return d;
}

NO_LIBCALL void *memmove(void *d, const void *s, size_t n)
{
	u8 *dp = d;
	const u8 *sp = s;

	if (dp <= sp || dp >= sp + n)
		return memcpy(d, s, n);
	while (n--)
		dp[n] = sp[n];
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const u8 *pa = a, *pb = b;

	for (; n; n--, pa++, pb++)
		if (*pa != *pb)
			return *pa < *pb ? -1 : 1;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (u8)*a < (u8)*b ? -1 : 1;
		if (!*a)
			return 0;
	}
	return 0;
}

int strcmp(const char *a, const char *b)
{
	return strncmp(a, b, (size_t)-1);
}
