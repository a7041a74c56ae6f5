// SPDX-License-Identifier: MIT
/* Console, port I/O and hypercalls for the self-test guest. */
#include <stdarg.h>
#include <keel/string.h>
#include "guest/guest.h"

#define COM1_LSR (KEEL_COM1_PORT + 5)
#define LSR_THRE 0x20

bool guest_use_vmcall; /* Intel: VMCALL; AMD: VMMCALL */

static void outb(u16 port, u8 v)
{
	asm volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static u8 inb(u16 port)
{
	u8 v;

	asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

u32 guest_inl(u16 port)
{
	u32 v;

	asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

void guest_outl(u16 port, u32 v)
{
	asm volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

void guest_cpuid(u32 leaf, u32 r[4])
{
	asm volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(0));
}

static void putc_com1(char c)
{
	while (!(inb(COM1_LSR) & LSR_THRE))
		;
	outb(KEEL_COM1_PORT, (u8)c);
}

void guest_printf(const char *fmt, ...)
{
	char buf[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	for (const char *s = buf; *s; s++)
		putc_com1(*s);
}

void guest_detect_vendor(void)
{
	u32 r[4];

	guest_cpuid(0, r);
	/* "GenuineIntel": ebx "Genu"; AMD and Hygon use VMMCALL. */
	guest_use_vmcall = r[1] == 0x756e6547u;
}

u64 guest_hypercall(u64 nr, u64 *rbx, u64 *rcx)
{
	u64 a = nr, b = *rbx, c = *rcx;

	if (guest_use_vmcall)
		asm volatile("vmcall" : "+a"(a), "+b"(b), "+c"(c) : : "memory");
	else
		asm volatile("vmmcall" : "+a"(a), "+b"(b), "+c"(c) : : "memory");
	*rbx = b;
	*rcx = c;
	return a;
}

u64 guest_hypercall3(u64 nr, u64 rbx, u64 rcx, u64 rdx)
{
	u64 a = nr;

	if (guest_use_vmcall)
		asm volatile("vmcall" : "+a"(a), "+b"(rbx), "+c"(rcx), "+d"(rdx) : : "memory");
	else
		asm volatile("vmmcall" : "+a"(a), "+b"(rbx), "+c"(rcx), "+d"(rdx) : : "memory");
	return a;
}

void guest_done(u64 failures, u64 tests)
{
	for (;;) {
		u64 b = failures, c = tests;

		guest_hypercall(KEEL_HC_DONE, &b, &c);
		asm volatile("cli; hlt"); /* not reached under Keel */
	}
}

void guest_run_tests(const struct guest_test *tests, size_t n, const struct guest_info *gi,
		     const struct guest_run_opts *o, u64 *failures, u64 *run)
{
	char why[160];

	for (size_t i = 0; i < n; i++) {
		const struct guest_test *t = &tests[i];
		bool flip = !strcmp(gi->fail_test, t->name);
		int r;

		if (o->prefix)
			guest_printf("%s: check %s\n", o->prefix, t->name);
		why[0] = '\0';
		r = t->run(gi, flip, why, sizeof(why));
		if (r == GUEST_TEST_SKIP) {
			guest_printf("SKIP %s: %s\n", t->name, why);
			continue;
		}
		(*run)++;
		if (!r && flip && o->flip_must_fail) {
			snprintf(why, sizeof(why), "passed");
			r = -1;
		}
		if (r) {
			(*failures)++;
			guest_printf("FAIL %s: %s%s\n", t->name, why,
				     flip ? " (failed on purpose)" : "");
		} else {
			guest_printf("PASS %s\n", t->name);
		}
	}
}
