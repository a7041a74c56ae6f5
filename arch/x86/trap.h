/* SPDX-License-Identifier: MIT */
/* The frame entry.asm builds for an exception, lowest address first. */
#pragma once

#include <keel/types.h>

struct trap_frame {
	u64 r15, r14, r13, r12, r11, r10, r9, r8;
	u64 rbp, rdi, rsi, rdx, rcx, rbx, rax;
	u64 vector, error;
	u64 rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

__noreturn void trap_entry(struct trap_frame *f);

/* Where keel.efi was loaded, so the panic report can give RIP as an offset
 * into build/keel.so (addr2line -e build/keel.so OFFSET). */
void trap_set_image_base(u64 base);
