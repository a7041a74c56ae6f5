/* SPDX-License-Identifier: MIT */
/* Pieces of the boot path shared between the files of boot/. */
#pragma once

#include "arch/x86/smp.h"
#include "arch/x86/vendor.h"
#include "boot/cfg.h"
#include "boot/efi_util.h"
#include "vmm/vm.h"

/* The embedded self-test guest (boot/guest_blob.asm). */
extern const u8 guest_selftest_start[], guest_selftest_end[];

/* Fill s from keel.cfg: name, image (the embedded guest for "builtin",
 * else the named file from the ESP), loader, cmdline, initrd and modules
 * (read from the ESP), fail_test, and the console and poweroff verdict a
 * Linux guest gets. */
int guest_image_load(const struct efi_ctx *efi, const struct keel_cfg *cfg, struct vm_setup *s);

/* The CPUs the firmware reports and a start-up page below 1 MiB (mp.c),
 * before ExitBootServices. */
int mp_enumerate(const struct efi_ctx *efi, struct smp_boot *out);

/* keel.cfg debug-kick (kick_test.c). */
void kick_test_start(void);
void kick_test_stop(void);

/* The final "keel: done guest=... result=..." line. */
void boot_print_summary(const struct vendor_ops *ops, const struct vm_setup *s,
			const struct vm_result *res);
