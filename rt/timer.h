/* SPDX-License-Identifier: MIT */
/* TSC rate, measured once against UEFI's Stall() before ExitBootServices. */
#pragma once

#include <keel/types.h>

void timer_set_tsc_hz(u64 hz);
u64 timer_tsc_hz(void);
