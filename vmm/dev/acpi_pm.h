/* SPDX-License-Identifier: MIT */
/*
 * The ACPI fixed hardware Keel's FADT describes: PM1a_EVT (status at
 * 0x600, enable at 0x602), PM1a_CNT (0x604), the 24-bit PM timer (0x608,
 * PLAT_PM_TMR_HZ) and the reset register (0xcf9). SCI_EN reads 1 (the
 * FADT has no SMI command port: ACPI mode is always on). No event raises
 * the SCI (IRQ 9): the timer's overflow sets TMR_STS only.
 */
#pragma once

#include <keel/types.h>
#include "vmm/dev/platform.h"

struct acpi_pm {
	u16 sts, en, cnt;
	u64 base_ns;
	u32 last_tmr;     /* for TMR_STS: bit 23 changes */
	u8 reset_reg;
	void (*request_stop)(void *ctx, enum plat_stop why, u32 code);
	void *ctx;
};

void acpi_pm_init(struct acpi_pm *pm, void (*request_stop)(void *ctx, enum plat_stop, u32),
		  void *ctx, u64 now);
u32 acpi_pm_timer(const struct acpi_pm *pm, u64 now);
/* Ports PLAT_PORT_PM1A_EVT .. PM_TMR+3 and PLAT_PORT_RESET, any size. */
bool acpi_pm_claims(u16 port, unsigned size);
u32 acpi_pm_read(struct acpi_pm *pm, u16 port, unsigned size, u64 now);
void acpi_pm_write(struct acpi_pm *pm, u16 port, unsigned size, u32 val, u64 now);
