/* SPDX-License-Identifier: MIT */
/* vmm/acpi/ internals: table layouts (ACPI 6.x) and the table builders. */
#pragma once

#include <keel/types.h>
#include "vmm/acpi/acpi.h"

#define ACPI_OEM_ID "KEEL  "
#define ACPI_OEM_TABLE_ID "KEELPLAT"
#define ACPI_CREATOR_ID "KEEL"

struct acpi_header {
	char signature[4];
	u32 length;
	u8 revision, checksum;
	char oem_id[6], oem_table_id[8];
	u32 oem_revision;
	char creator_id[4];
	u32 creator_revision;
} __packed;

struct acpi_rsdp {
	char signature[8]; /* "RSD PTR " */
	u8 checksum;       /* of the first 20 bytes */
	char oem_id[6];
	u8 revision;       /* 2: XSDT */
	u32 rsdt;
	u32 length;        /* 36 */
	u64 xsdt;
	u8 ext_checksum, reserved[3];
} __packed;

struct acpi_gas {
	u8 space, bit_width, bit_offset, access_size;
	u64 address;
} __packed;

#define ACPI_GAS_IO 1

struct acpi_fadt {
	struct acpi_header h;
	u32 firmware_ctrl, dsdt;
	u8 reserved0, preferred_pm_profile;
	u16 sci_int;
	u32 smi_cmd;
	u8 acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
	u32 pm1a_evt_blk, pm1b_evt_blk, pm1a_cnt_blk, pm1b_cnt_blk, pm2_cnt_blk, pm_tmr_blk;
	u32 gpe0_blk, gpe1_blk;
	u8 pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len, gpe0_blk_len, gpe1_blk_len;
	u8 gpe1_base, cst_cnt;
	u16 p_lvl2_lat, p_lvl3_lat, flush_size, flush_stride;
	u8 duty_offset, duty_width, day_alrm, mon_alrm, century;
	u16 iapc_boot_arch;
	u8 reserved1;
	u32 flags;
	struct acpi_gas reset_reg;
	u8 reset_value;
	u16 arm_boot_arch;
	u8 minor_version;
	u64 x_firmware_ctrl, x_dsdt;
	struct acpi_gas x_pm1a_evt_blk, x_pm1b_evt_blk, x_pm1a_cnt_blk, x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk, x_pm_tmr_blk, x_gpe0_blk, x_gpe1_blk;
	struct acpi_gas sleep_control_reg, sleep_status_reg;
	u64 hypervisor_vendor_id;
} __packed;

struct acpi_facs {
	char signature[4];
	u32 length;
	u32 hardware_signature, firmware_waking_vector, global_lock, flags;
	u64 x_firmware_waking_vector;
	u8 version, reserved0[3];
	u32 ospm_flags;
	u8 reserved1[24];
} __packed;

/* MADT (signature "APIC") and its entries. */
struct acpi_madt {
	struct acpi_header h;
	u32 lapic_address, flags;
} __packed;

struct madt_lapic {
	u8 type, length, processor_id, apic_id;
	u32 flags;
} __packed;

struct madt_ioapic {
	u8 type, length, id, reserved;
	u32 address, gsi_base;
} __packed;

struct madt_iso {
	u8 type, length, bus, source;
	u32 gsi;
	u16 flags;
} __packed;

struct madt_lapic_nmi {
	u8 type, length, processor_id;
	u16 flags;
	u8 lint;
} __packed;

#define MADT_PCAT_COMPAT 1
#define MADT_LAPIC 0
#define MADT_IOAPIC 1
#define MADT_ISO 2
#define MADT_LAPIC_NMI 4
#define MADT_LAPIC_ENABLED 1
/* MPS INTI flags: polarity bits 1:0, trigger mode bits 3:2. */
#define MPS_POLARITY_HIGH 1
#define MPS_TRIGGER_EDGE (1 << 2)
#define MPS_TRIGGER_LEVEL (3 << 2)

/* A table being built: bytes go to buf at 'used'; base is its gpa. */
struct acpi_buf {
	u8 *buf;
	size_t size, used;
	u64 base;
	bool overflow;
};

/* Reserve len bytes aligned to align; NULL (and overflow) if they do not
 * fit. *gpa gets the guest-physical address. */
void *acpi_alloc(struct acpi_buf *b, size_t len, size_t align, u64 *gpa);
void acpi_header_init(struct acpi_header *h, const char *sig, u32 len, u8 rev);
/* Set h->checksum so the table's bytes sum to 0. */
void acpi_header_seal(struct acpi_header *h);

u64 acpi_build_dsdt(struct acpi_buf *b);
u64 acpi_build_facs(struct acpi_buf *b);
u64 acpi_build_fadt(struct acpi_buf *b, u64 facs, u64 dsdt);
u64 acpi_build_madt(struct acpi_buf *b, const struct acpi_config *c);
