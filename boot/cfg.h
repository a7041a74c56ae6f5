/* SPDX-License-Identifier: MIT */
/*
 * keel.cfg: optional, at the root of the ESP. One "key = value" a line;
 * '#' starts a comment; blank lines are ignored. Keys:
 *   guest      = builtin | <path on the ESP, e.g. \keel\myguest.bin>
 *   guest-mem  = <size>[K|M|G]     (default 2112M: 2 GiB + 64 MiB)
 *   log        = error | info | debug
 *   guest-fail = none | <self-test name> | crash | spin | debug-exit
 *                (make that self-test fail; "crash": the guest triple-faults;
 *                "spin": it spins with interrupts off, never exiting;
 *                "debug-exit": it writes 42 to the debug-exit port 0xf4)
 *   debug-panic = no | yes   (raise #UD right after ExitBootServices, to
 *                             see and test the panic report)
 *   timeout    = <seconds>   (stop the VM after that long; 0 = never, default)
 * Any other line is an error reported with its line number; Keel then stops
 * without starting a guest. Portable C: no UEFI types here.
 */
#pragma once

#include <keel/types.h>
#include "rt/log.h"

#define CFG_PATH_MAX 128
#define CFG_NAME_MAX 32
#define CFG_ERROR_MAX 160
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
	u64 timeout_s;                 /* 0 = none */
};

void cfg_defaults(struct keel_cfg *cfg);
/* Parse 'len' bytes of text. 0, or -EINVAL with "keel.cfg:<line>: <why>"
 * in err[]. */
int cfg_parse(struct keel_cfg *cfg, const char *text, size_t len, char *err, size_t errlen);
