/* SPDX-License-Identifier: MIT */
/*
 * The UEFI boot services Keel uses before ExitBootServices, called directly
 * through the system table (no libefi helpers: libefi's init.o brings its
 * own memset/memcpy, which would clash with lib/string.c).
 */
#pragma once

/* GNU-EFI's headers have old-style declarations; they are not ours to fix. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <efi.h>
#pragma GCC diagnostic pop
#include <keel/types.h>

struct efi_ctx {
	EFI_HANDLE image;
	EFI_SYSTEM_TABLE *st;
	EFI_BOOT_SERVICES *bs;
};

/* Where the firmware loaded keel.efi (0 if it cannot say). */
u64 efi_image_base(const struct efi_ctx *ctx);

/* Read a whole file from the ESP keel.efi was loaded from. 'path' is ASCII
 * with '\' or '/' separators. On success *buf is pool memory holding *len
 * bytes. -ENOENT when the file does not exist, another negative error when
 * it cannot be read. */
int efi_read_file(const struct efi_ctx *ctx, const char *path, void **buf, UINTN *len);

/* The current memory map in pool memory (caller frees with FreePool). */
struct efi_memmap {
	EFI_MEMORY_DESCRIPTOR *desc;
	UINTN size, key, desc_size;
	UINT32 desc_version;
};
int efi_get_memmap(const struct efi_ctx *ctx, struct efi_memmap *map);

static inline EFI_MEMORY_DESCRIPTOR *efi_memmap_at(const struct efi_memmap *m, UINTN i)
{
	return (EFI_MEMORY_DESCRIPTOR *)((u8 *)m->desc + i * m->desc_size);
}

static inline UINTN efi_memmap_count(const struct efi_memmap *m)
{
	return m->size / m->desc_size;
}

/* Reserve npages at exactly 'addr' (or anywhere when addr is NULL) as
 * loader data, which stays Keel's after ExitBootServices. */
int efi_reserve_pages(const struct efi_ctx *ctx, u64 npages, u64 *addr, bool fixed);

/* ExitBootServices with the map-key-changed retry. Nothing may call boot
 * services afterwards. */
int efi_exit_boot_services(const struct efi_ctx *ctx);
