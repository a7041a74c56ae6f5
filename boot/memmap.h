/* SPDX-License-Identifier: MIT */
/*
 * Reading the UEFI memory map: how far host memory goes (for the identity
 * map) and where the guest's memory should live.
 */
#pragma once

#include <keel/types.h>
#include "boot/efi_util.h"

/* One past the highest address of any descriptor. */
hpa_t memmap_top(const struct efi_memmap *m);

/*
 * Reserve 'size' bytes of guest backing, preferring a start aligned to
 * 1 GiB, then 2 MiB, then 4 KiB, so guest-physical 0 is congruent with the
 * backing modulo the largest possible page size and the MMU can map 2 MiB-
 * and 1 GiB-aligned guest regions with huge pages. On success *base is the
 * host address and *align the alignment reached.
 */
int memmap_reserve_guest(const struct efi_ctx *ctx, const struct efi_memmap *m, u64 size,
			 hpa_t *base, u64 *align);

/* Every descriptor, at log level debug. */
void memmap_log(const struct efi_memmap *m);
