/* SPDX-License-Identifier: MIT */
/*
 * keel.cfg: optional, at the root of the ESP. One "key = value" a line;
 * '#' starts a comment; blank lines are ignored. Keys:
 *   guest      = builtin | <path on the ESP, e.g. \keel\myguest.bin>
 *   guest-mem  = <size>[K|M|G]     (default 2112M: 2 GiB + 64 MiB)
 *   log        = error | info | debug
 *   cpus       = <N>   (vCPUs the VM may run, one per host CPU; default:
 *                       every started CPU)
 *   guest-fail = none | <self-test name> | crash | spin | debug-exit
 *                (make that self-test fail; "crash": the guest triple-faults;
 *                "spin": it spins with interrupts off, never exiting;
 *                "debug-exit": it writes 42 to the debug-exit port 0xf4)
 *   debug-panic = no | yes   (raise #UD right after ExitBootServices, to
 *                             see and test the panic report)
 *   debug-kick = no | yes    (with several CPUs: CPU 1 keeps sending kick
 *                             IPIs to the CPU running the guest, to test
 *                             that a kick forces a VM exit and is acknowledged)
 *   debug-dead-cpu = <N>    (the N-th CPU the firmware reports, N >= 1, is
 *                             never sent its start-up IPIs: a CPU that does
 *                             not start, to test that it is reported and
 *                             left out)
 *   debug-no-enable-cpu = <N>  (the N-th CPU starts but reports its SVM/VMX
 *                             enable as failed: it must be left out too)
 *   loader     = auto | flat | linux | multiboot   (default auto: from the
 *                image's format, vmm/loader/loader.h)
 *   initrd     = <path on the ESP>   (Linux: the initial ramdisk)
 *   cmdline    = <text to the end of the line>   (Linux or Multiboot)
 *   module     = <path on the ESP> [args...]   (Multiboot; repeatable, in
 *                order; the module's string is the whole value)
 *   timeout    = <seconds>   (stop the VM after that long; 0 = never, default)
 * Any other line is an error reported with its line number; Keel then stops
 * without starting a guest. Portable C: no UEFI types here.
 */
#pragma once

#include <keel/types.h>
#include "rt/log.h"
#include "vmm/loader/loader.h"

#define CFG_PATH_MAX 128
#define CFG_NAME_MAX 32
#define CFG_ERROR_MAX 200
#define CFG_CPUS_MAX 8
#define CFG_CMDLINE_MAX 240
#define CFG_MODULES_MAX LOADER_MAX_MODULES
#define CFG_TIMEOUT_MAX 86400u

#define CFG_GUEST_MEM_DEFAULT (2 * SZ_1G + 64 * (1ull << 20))
#define CFG_GUEST_MEM_MIN (4 * SZ_2M)
#define CFG_GUEST_MEM_MAX (32 * SZ_1G) /* one memslot per GiB at worst */

struct keel_cfg {
	char guest[CFG_PATH_MAX];      /* "builtin" or an ESP path */
	u64 guest_mem;                 /* bytes, multiple of 2 MiB */
	enum log_level log_level;
	char guest_fail[CFG_NAME_MAX]; /* "" = none */
	bool debug_panic;
	bool debug_kick;
	unsigned cpus;                 /* 0: every started CPU */
	unsigned debug_dead_cpu;       /* 0: none; else firmware CPU index */
	unsigned debug_no_enable_cpu;  /* 0: none; else firmware CPU index */
	enum loader_kind loader;       /* LOADER_AUTO unless loader = ... */
	char initrd[CFG_PATH_MAX];     /* "" = none */
	char cmdline[CFG_CMDLINE_MAX]; /* "" = none */
	struct cfg_module {
		char path[CFG_PATH_MAX];       /* first word of the value */
		char string[CFG_CMDLINE_MAX];  /* the whole value */
	} modules[CFG_MODULES_MAX];
	unsigned nr_modules;
	u64 timeout_s;                 /* 0 = none */
};

void cfg_defaults(struct keel_cfg *cfg);
/* Parse 'len' bytes of text. 0, or -EINVAL with "keel.cfg:<line>: <why>"
 * in err[]. */
int cfg_parse(struct keel_cfg *cfg, const char *text, size_t len, char *err, size_t errlen);
