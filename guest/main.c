// SPDX-License-Identifier: MIT
/*
 * The self-test guest: runs every test in guest_tests[], reports each by
 * name on COM1 ("PASS name" / "FAIL name: why"), and ends with the DONE
 * hypercall carrying the failure count.
 */
#include <keel/string.h>
#include "guest/guest.h"

__noreturn void guest_main(u64 mem_size, u64 fail_gpa, u64 map_top);

/* guest-fail = crash: no verdict at all, a triple fault instead. An
 * exception with no usable IDT escalates to #DF and then to shutdown, the
 * way a broken guest kernel dies; Keel must stop the VM and carry on. */
static __noreturn void guest_crash(void)
{
	static const struct __packed { u16 limit; u64 base; } no_idt = { 0, 0 };

	guest_printf("selftest: crashing on purpose (triple fault)\n");
	asm volatile("lidt %0; ud2" : : "m"(no_idt));
	__builtin_unreachable();
}

void guest_main(u64 mem_size, u64 fail_gpa, u64 map_top)
{
	struct guest_info gi = {
		.mem_size = mem_size,
		.map_top = map_top,
		.fail_test = fail_gpa ? (const char *)(uintptr_t)fail_gpa : "",
	};
	u64 failures = 0, run = 0;

	guest_traps_init();
	guest_detect_vendor();
	if (!strcmp(gi.fail_test, "crash"))
		guest_crash();
	if (!strcmp(gi.fail_test, "debug-exit")) {
		/* guest-fail = debug-exit: end through the isa-debug-exit port. */
		guest_printf("selftest: writing 42 to the debug-exit port\n");
		guest_outl(0xf4, 42);
	}
	if (!strcmp(gi.fail_test, "spin")) {
		/* guest-fail = spin: no exit ever again, interrupts off. Only
		 * Keel's preemption and keel.cfg timeout can end the VM. */
		guest_printf("selftest: spinning on purpose (jmp $)\n");
		asm volatile("cli; 1: jmp 1b");
	}
	guest_printf("selftest: %llu MiB of RAM, %zu tests%s%s\n",
		     (unsigned long long)(mem_size >> 20), guest_test_count,
		     gi.fail_test[0] ? ", failing on purpose: " : "", gi.fail_test);
	guest_run_tests(guest_tests, guest_test_count, &gi, &(struct guest_run_opts){ 0 },
			&failures, &run);
	guest_printf("selftest: %llu of %llu failed\n", (unsigned long long)failures,
		     (unsigned long long)run);
	guest_done(failures, run);
}
