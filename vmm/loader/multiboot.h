/* SPDX-License-Identifier: MIT */
/* Multiboot v1 (the GNU Multiboot Specification 0.6.96): header and
 * information block as Keel's loader and test kernel use them. */
#pragma once

#include <keel/types.h>

#define MB_HEADER_MAGIC 0x1badb002u
#define MB_BOOT_MAGIC 0x2badb002u    /* EAX at entry */
#define MB_SEARCH_BYTES 8192

/* Header flags: 0-15 are requirements. */
#define MB_HF_PAGE_ALIGN BIT(0)      /* modules page-aligned (Keel always does) */
#define MB_HF_MEMORY_INFO BIT(1)     /* mem_* and mmap_* (Keel always gives them) */
#define MB_HF_VIDEO_MODE BIT(2)      /* video mode: Keel has no display, gives none */
#define MB_HF_AOUT_KLUDGE BIT(16)    /* load by the header's addresses, not ELF */
#define MB_HF_KNOWN (MB_HF_PAGE_ALIGN | MB_HF_MEMORY_INFO | MB_HF_VIDEO_MODE)

/* Information block flags. */
#define MB_INFO_MEMORY BIT(0)
#define MB_INFO_CMDLINE BIT(2)
#define MB_INFO_MODS BIT(3)
#define MB_INFO_MMAP BIT(6)
#define MB_INFO_LOADER_NAME BIT(9)

struct mb_header {
	u32 magic, flags, checksum;
	u32 header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
} __packed;

struct mb_info {
	u32 flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
	u32 syms[4];
	u32 mmap_length, mmap_addr, drives_length, drives_addr, config_table;
	u32 boot_loader_name, apm_table;
	u32 vbe[4];
	u8 framebuffer[28];
} __packed;

struct mb_module {
	u32 mod_start, mod_end, string, reserved;
} __packed;

struct mb_mmap_entry {
	u32 size; /* of the rest: 20 */
	u64 addr, len;
	u32 type;
} __packed;

/* Find the header (4-byte aligned, in the first 8 KiB, checksum right);
 * *off gets its offset when off is not NULL. */
bool multiboot_find_header(const void *image, size_t size, size_t *off);
