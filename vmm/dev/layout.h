/* SPDX-License-Identifier: MIT */
/*
 * The virtual platform's map: every guest-physical address, port and
 * interrupt line Keel's guests see. It is the same on QEMU, Bochs and
 * hardware, because every device here is emulated by Keel (docs/platform.md).
 * The device models (vmm/dev/), the loaders that describe the platform to a
 * guest (e820, Multiboot memory map, ACPI tables, fw_cfg) and the tests all
 * take their numbers from this file and from nowhere else.
 */
#pragma once

/* ---- guest-physical memory ---- */
#define PLAT_LOW_RAM_END      0x0009fc00ull /* conventional memory, 639 KiB */
#define PLAT_EBDA_BASE        0x0009fc00ull /* reserved to 0xa0000 */
#define PLAT_BIOS_AREA_BASE   0x000a0000ull /* VGA hole + BIOS area: reserved */
#define PLAT_ACPI_BASE        0x000e0000ull /* RSDP and every ACPI table Keel builds */
#define PLAT_ACPI_SIZE        0x00020000ull /* up to 1 MiB; reserved in the e820 map */
#define PLAT_HIGH_MEM_BASE    0x00100000ull /* RAM from 1 MiB on */
#define PLAT_PCI_HOLE_BASE    0xc0000000ull /* RAM below 4 GiB ends here at most */
#define PLAT_IOAPIC_BASE      0xfec00000ull
#define PLAT_IOAPIC_SIZE      0x1000ull
#define PLAT_LAPIC_BASE       0xfee00000ull /* default IA32_APIC_BASE */
#define PLAT_LAPIC_SIZE       0x1000ull
#define PLAT_HIGH_RAM_BASE    0x100000000ull /* RAM above the hole continues here */

/* ---- interrupt lines ---- */
#define PLAT_IOAPIC_PINS      24   /* GSI 0..23 */
#define PLAT_IOAPIC_ID        0    /* as QEMU; LAPIC IDs are the vCPU numbers */
#define PLAT_MAX_VCPUS        16
#define PLAT_IRQ_PIT          0    /* ISA IRQ 0 -> GSI 2 (MADT override, as on PCs) */
#define PLAT_GSI_PIT          2
#define PLAT_IRQ_COM1         4
#define PLAT_IRQ_RTC          8
#define PLAT_IRQ_SCI          9    /* ACPI SCI: level, active high (MADT override) */

/* ---- ports ---- */
#define PLAT_PORT_PIC_MASTER  0x20   /* 0x20-0x21 */
#define PLAT_PORT_PIC_SLAVE   0xa0   /* 0xa0-0xa1 */
#define PLAT_PORT_ELCR        0x4d0  /* 0x4d0-0x4d1 edge/level control */
#define PLAT_PORT_PIT         0x40   /* 0x40-0x43 */
#define PLAT_PORT_SYS_CTRL_B  0x61   /* PIT channel 2 gate and output, speaker */
#define PLAT_PORT_RTC         0x70   /* 0x70 index (bit 7 = NMI mask), 0x71 data */
#define PLAT_PORT_POST        0x80   /* POST code: dropped, not counted */
#define PLAT_PORT_DEBUG_EXIT  0xf4   /* isa-debug-exit: OUT v ends the VM, status (v << 1) | 1 */
#define PLAT_PORT_COM1        0x3f8  /* 0x3f8-0x3ff, 16550A */
#define PLAT_PORT_FW_CFG      0x510  /* 0x510 selector (16-bit), 0x511 data (8-bit) */
#define PLAT_PORT_KEEL_TEST   0x520  /* Keel's 32-bit test register (off 0x510) */
#define PLAT_PORT_PM1A_EVT    0x600  /* 4 bytes: status (0x600), enable (0x602) */
#define PLAT_PORT_PM1A_CNT    0x604  /* 2 bytes: SCI_EN, SLP_TYP, SLP_EN */
#define PLAT_PORT_PM_TMR      0x608  /* 4 bytes: 24-bit ACPI PM timer, 3.579545 MHz */
#define PLAT_PORT_PCI_ADDR    0xcf8  /* configuration mechanism #1: empty bus */
#define PLAT_PORT_PCI_DATA    0xcfc  /* 0xcfc-0xcff */
#define PLAT_PORT_RESET       0xcf9  /* FADT RESET_REG: write PLAT_RESET_VALUE */
#define PLAT_RESET_VALUE      0x06

/* ACPI sleep type Keel's DSDT gives \_S5 (PM1a_CNT.SLP_TYP): poweroff. */
#define PLAT_SLP_TYP_S5       5
#define PLAT_PM_TMR_HZ        3579545u
#define PLAT_PIT_HZ           1193182u
