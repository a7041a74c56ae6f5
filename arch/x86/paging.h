/* SPDX-License-Identifier: MIT */
/*
 * Keel's host page tables: an identity map of every host-physical address
 * up to 'top' (at least 4 GiB, so the local APIC and other MMIO below 4 GiB
 * are covered), with 1 GiB pages where the CPU has them, else 2 MiB pages.
 * Caching comes from the firmware's MTRRs (MMIO ranges are UC there).
 * Page-table pages come from Keel's pool (host_alloc_pages).
 */
#pragma once

#include <keel/types.h>

/* Build the map, switch CR3 to it, and turn on EFER.NXE when the CPU has
 * NX (NPT entries may then use the NX bit). 0 or -ENOMEM. */
int paging_init(hpa_t top);
