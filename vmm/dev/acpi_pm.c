// SPDX-License-Identifier: MIT
/*
 * ACPI PM registers (acpi_pm.h). Accesses of any width are split into
 * bytes, so a guest may use the widths the FADT gives (16-bit PM1, 32-bit
 * timer) or narrower ones. PM1a_EVT status bits are write-1-to-clear.
 * PM1a_CNT with SLP_EN and SLP_TYP = PLAT_SLP_TYP_S5 powers off; other
 * sleep types are not offered (no \_S1-\_S4) and are ignored. The reset
 * register resets the VM when bit 2 (RST_CPU) is written as 1 (0x06, 0x0e,
 * or Linux's 0x02-then-0x06).
 */
#include "vmm/dev/acpi_pm.h"
#include "vmm/dev/dev.h"
#include "vmm/dev/layout.h"

#define STS_TMR BIT(0)
#define STS_WRITABLE (BIT(0) | BIT(4) | BIT(5) | BIT(8) | BIT(9) | BIT(10) | BIT(15))
#define EN_WRITABLE (BIT(0) | BIT(5) | BIT(8) | BIT(9) | BIT(10))
#define CNT_SCI_EN BIT(0)
#define CNT_SLP_EN BIT(13)
#define CNT_WRITABLE (BIT(1) | GENMASK(12, 10)) /* BM_RLD, SLP_TYP */
#define CNT_SLP_TYP(v) (((v) >> 10) & 7)
#define RESET_RST_CPU 0x04

void acpi_pm_init(struct acpi_pm *pm, void (*request_stop)(void *ctx, enum plat_stop, u32),
		  void *ctx, u64 now)
{
	*pm = (struct acpi_pm){ .base_ns = now, .request_stop = request_stop, .ctx = ctx };
}

u32 acpi_pm_timer(const struct acpi_pm *pm, u64 now)
{
	u64 e = now > pm->base_ns ? now - pm->base_ns : 0;

	return (u32)muldiv64(e, PLAT_PM_TMR_HZ, NS_PER_SEC) & 0xffffff;
}

bool acpi_pm_claims(u16 port, unsigned size)
{
	if (port == PLAT_PORT_RESET && size == 1)
		return true;
	return port >= PLAT_PORT_PM1A_EVT && port < PLAT_PORT_PM_TMR + 4;
}

static void stop(struct acpi_pm *pm, enum plat_stop why, u32 code)
{
	if (pm->request_stop)
		pm->request_stop(pm->ctx, why, code);
}

static void update_tmr_sts(struct acpi_pm *pm, u64 now)
{
	u32 t = acpi_pm_timer(pm, now);

	if ((t ^ pm->last_tmr) & BIT(23))
		pm->sts |= STS_TMR;
	pm->last_tmr = t;
}

static u8 read_byte(struct acpi_pm *pm, u16 port, u64 now)
{
	unsigned off = port - PLAT_PORT_PM1A_EVT;

	switch (off) {
	case 0: case 1:
		update_tmr_sts(pm, now);
		return (u8)(pm->sts >> (off * 8));
	case 2: case 3:
		return (u8)(pm->en >> ((off - 2) * 8));
	case 4: case 5:
		return (u8)((pm->cnt | CNT_SCI_EN) >> ((off - 4) * 8));
	case 8: case 9: case 10: case 11:
		return (u8)(acpi_pm_timer(pm, now) >> ((off - 8) * 8));
	default:
		return 0; /* PM1a_CNT+2..3: reserved */
	}
}

static void write_cnt(struct acpi_pm *pm, u16 val)
{
	pm->cnt = val & CNT_WRITABLE;
	if ((val & CNT_SLP_EN) && CNT_SLP_TYP(val) == PLAT_SLP_TYP_S5)
		stop(pm, PLAT_STOP_POWEROFF, 0);
}

u32 acpi_pm_read(struct acpi_pm *pm, u16 port, unsigned size, u64 now)
{
	u32 v = 0;

	if (port == PLAT_PORT_RESET)
		return pm->reset_reg;
	for (unsigned i = 0; i < size; i++)
		v |= (u32)read_byte(pm, (u16)(port + i), now) << (i * 8);
	return v;
}

void acpi_pm_write(struct acpi_pm *pm, u16 port, unsigned size, u32 val, u64 now)
{
	unsigned off = port - PLAT_PORT_PM1A_EVT;

	if (port == PLAT_PORT_RESET) {
		pm->reset_reg = (u8)val & 0x0e;
		if (val & RESET_RST_CPU)
			stop(pm, PLAT_STOP_RESET, val & 0xff);
		return;
	}
	for (unsigned i = 0; i < size; i++, off++) {
		u16 b = (u16)((val >> (i * 8)) & 0xff);

		switch (off) {
		case 0: case 1:
			update_tmr_sts(pm, now);
			pm->sts &= ~(u16)((b << ((off & 1) * 8)) & STS_WRITABLE);
			break;
		case 2: case 3:
			pm->en = (u16)((pm->en & ~(0xff << ((off & 1) * 8))) | (b << ((off & 1) * 8)));
			pm->en &= EN_WRITABLE;
			break;
		case 4:
			/* A 16-bit write lands here whole, so SLP_TYP and SLP_EN come together. */
			if (i + 1 < size) {
				write_cnt(pm, (u16)(b | (((val >> ((i + 1) * 8)) & 0xff) << 8)));
				i++, off++;
			} else {
				write_cnt(pm, (u16)((pm->cnt & 0xff00) | b));
			}
			break;
		case 5:
			write_cnt(pm, (u16)((pm->cnt & 0xff) | (b << 8)));
			break;
		default:
			break; /* the timer is read-only */
		}
	}
}
