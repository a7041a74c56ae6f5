// SPDX-License-Identifier: MIT
/*
 * FADT (revision 6) and FACS. Keel's platform is a PC without SMM: no
 * SMI_CMD (always in ACPI mode), PM1a event/control and the PM timer at the
 * ports of vmm/dev/layout.h, SCI on IRQ 9, the reset register at 0xcf9
 * (value 6), no 8042, no VGA, no MSI, no C2/C3, power and sleep buttons as
 * (absent) control-method devices. Not hardware-reduced.
 */
#include <keel/string.h>
#include "vmm/dev/layout.h"
#include "vmm/acpi/tables.h"

#define FADT_REVISION 6
#define FADT_MINOR 0
#define FACS_VERSION 2

/* IAPC_BOOT_ARCH */
#define BOOT_LEGACY_DEVICES BIT(0)
#define BOOT_NO_VGA BIT(2)
#define BOOT_NO_MSI BIT(3)
/* Flags */
#define FADT_WBINVD BIT(0)
#define FADT_PROC_C1 BIT(2)
#define FADT_PWR_BUTTON BIT(4)
#define FADT_SLP_BUTTON BIT(5)
#define FADT_FIX_RTC BIT(6)
#define FADT_RESET_REG_SUP BIT(10)

#define PM_PROFILE_UNSPECIFIED 0
#define P_LVL2_NONE 101
#define P_LVL3_NONE 1001

u64 acpi_build_facs(struct acpi_buf *b)
{
	u64 gpa;
	struct acpi_facs *f = acpi_alloc(b, sizeof(*f), 64, &gpa);

	if (!f)
		return 0;
	memcpy(f->signature, "FACS", 4);
	f->length = sizeof(*f);
	f->version = FACS_VERSION;
	return gpa;
}

u64 acpi_build_fadt(struct acpi_buf *b, u64 facs, u64 dsdt)
{
	u64 gpa;
	struct acpi_fadt *f = acpi_alloc(b, sizeof(*f), 8, &gpa);

	if (!f)
		return 0;
	acpi_header_init(&f->h, "FACP", sizeof(*f), FADT_REVISION);
	f->firmware_ctrl = (u32)facs;
	f->dsdt = (u32)dsdt;
	f->x_firmware_ctrl = 0; /* FIRMWARE_CTRL is set: the spec wants one of the two */
	f->x_dsdt = dsdt;
	f->preferred_pm_profile = PM_PROFILE_UNSPECIFIED;
	f->sci_int = PLAT_IRQ_SCI;
	f->pm1a_evt_blk = PLAT_PORT_PM1A_EVT;
	f->pm1a_cnt_blk = PLAT_PORT_PM1A_CNT;
	f->pm_tmr_blk = PLAT_PORT_PM_TMR;
	f->pm1_evt_len = 4;
	f->pm1_cnt_len = 2;
	f->pm_tmr_len = 4;
	f->p_lvl2_lat = P_LVL2_NONE;
	f->p_lvl3_lat = P_LVL3_NONE;
	f->iapc_boot_arch = BOOT_LEGACY_DEVICES | BOOT_NO_VGA | BOOT_NO_MSI;
	f->flags = FADT_WBINVD | FADT_PROC_C1 | FADT_PWR_BUTTON | FADT_SLP_BUTTON |
		   FADT_FIX_RTC | FADT_RESET_REG_SUP;
	f->reset_reg = (struct acpi_gas){ ACPI_GAS_IO, 8, 0, 1, PLAT_PORT_RESET };
	f->reset_value = PLAT_RESET_VALUE;
	f->minor_version = FADT_MINOR;
	acpi_header_seal(&f->h);
	return gpa;
}
