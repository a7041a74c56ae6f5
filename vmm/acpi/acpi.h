/* SPDX-License-Identifier: MIT */
/*
 * The ACPI tables Keel builds for its virtual platform (docs/platform.md):
 * RSDP (revision 2) at PLAT_ACPI_BASE, where the legacy scan of
 * 0xe0000-0xfffff finds it, then XSDT, RSDT, FADT, FACS, MADT and a DSDT
 * with \_S5, all inside [PLAT_ACPI_BASE, + PLAT_ACPI_SIZE), which the
 * memory map reserves. Portable: built into a buffer, tested hosted.
 */
#pragma once

#include <keel/types.h>

struct acpi_config {
	unsigned nr_vcpus; /* LAPIC IDs 0 .. nr_vcpus - 1 */
};

/* Build every table into buf (which the guest will see at guest-physical
 * 'base'; the RSDP comes first, at base). Returns the number of bytes
 * used, or -E2BIG when size is too small. */
long acpi_build(const struct acpi_config *c, u8 *buf, size_t size, u64 base);

/* The 8-bit checksum every table carries: the sum of its bytes is 0. */
u8 acpi_checksum(const void *p, size_t len);
