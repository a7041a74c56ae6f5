/* SPDX-License-Identifier: MIT */
/*
 * Reading the UEFI memory map: how far host memory goes (for the identity
 * map) and where the guest's memory should live.
 */
#pragma once

#include <keel/types.h>
#include "boot/efi_util.h"
#include "vmm/vm.h"

/* One past the highest address of any descriptor. */
hpa_t memmap_top(const struct efi_memmap *m);

/*
 * Reserve host memory for s->mem_size bytes of guest RAM and describe it in
 * s->ram[]: guest-physical [0, PLAT_PCI_HOLE_BASE) and the rest from
 * PLAT_HIGH_RAM_BASE (vmm/dev/layout.h). Each GiB of guest RAM gets its own host range, preferring a
 * start aligned to 1 GiB, then 2 MiB, then 4 KiB, so the backing is
 * congruent with the guest address modulo the largest page size possible
 * and the MMU can map 2 MiB- and 1 GiB-aligned guest regions with huge
 * pages; ranges that end up adjacent on both sides are merged. 0, -ENOMEM,
 * or -E2BIG when more regions than memslots would be needed.
 */
int memmap_reserve_guest(const struct efi_ctx *ctx, struct vm_setup *s);

/* Every descriptor, at log level debug. */
void memmap_log(const struct efi_memmap *m);
