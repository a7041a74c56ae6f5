// SPDX-License-Identifier: MIT
#include <keel/errno.h>
#include <keel/string.h>
#include "boot/efi_util.h"
#include "rt/log.h"

#define EFI_PATH_MAX 128
/* The map grows between GetMemoryMap and AllocatePool (the pool allocation
 * itself adds descriptors), so ask for some slack. */
#define MEMMAP_SLACK_DESCS 8
#define EXIT_BS_TRIES 8

static EFI_GUID loaded_image_guid = EFI_LOADED_IMAGE_PROTOCOL_GUID;
static EFI_GUID simple_fs_guid = EFI_SIMPLE_FILE_SYSTEM_PROTOCOL_GUID;
static EFI_GUID file_info_guid = EFI_FILE_INFO_ID;

static int path_to_ucs2(const char *path, CHAR16 *out, size_t max)
{
	size_t n = strlen(path);

	if (n + 1 > max)
		return -E2BIG;
	for (size_t i = 0; i <= n; i++)
		out[i] = path[i] == '/' ? L'\\' : (CHAR16)(u8)path[i];
	return 0;
}

static int open_root(const struct efi_ctx *ctx, EFI_FILE_HANDLE *root)
{
	EFI_LOADED_IMAGE *li;
	EFI_FILE_IO_INTERFACE *fs;

	if (ctx->bs->HandleProtocol(ctx->image, &loaded_image_guid, (void **)&li) != EFI_SUCCESS)
		return -ENODEV;
	if (ctx->bs->HandleProtocol(li->DeviceHandle, &simple_fs_guid, (void **)&fs) != EFI_SUCCESS)
		return -ENODEV;
	if (fs->OpenVolume(fs, root) != EFI_SUCCESS)
		return -EIO;
	return 0;
}

u64 efi_image_base(const struct efi_ctx *ctx)
{
	EFI_LOADED_IMAGE *li;

	if (ctx->bs->HandleProtocol(ctx->image, &loaded_image_guid, (void **)&li) != EFI_SUCCESS)
		return 0;
	return (u64)(uintptr_t)li->ImageBase;
}

static int file_size(const struct efi_ctx *ctx, EFI_FILE_HANDLE f, UINTN *size)
{
	UINTN len = 0;
	EFI_FILE_INFO *info;
	EFI_STATUS s = f->GetInfo(f, &file_info_guid, &len, NULL);

	if (s != EFI_BUFFER_TOO_SMALL)
		return -EIO;
	if (ctx->bs->AllocatePool(EfiLoaderData, len, (void **)&info) != EFI_SUCCESS)
		return -ENOMEM;
	s = f->GetInfo(f, &file_info_guid, &len, info);
	*size = info->FileSize;
	ctx->bs->FreePool(info);
	return s == EFI_SUCCESS ? 0 : -EIO;
}

static int read_all(const struct efi_ctx *ctx, EFI_FILE_HANDLE f, void **buf, UINTN *len)
{
	UINTN size, got;
	int err = file_size(ctx, f, &size);

	if (err)
		return err;
	if (ctx->bs->AllocatePool(EfiLoaderData, size + 1, buf) != EFI_SUCCESS)
		return -ENOMEM;
	got = size;
	if (f->Read(f, &got, *buf) != EFI_SUCCESS || got != size) {
		ctx->bs->FreePool(*buf);
		return -EIO;
	}
	((char *)*buf)[size] = '\0';
	*len = size;
	return 0;
}

int efi_read_file(const struct efi_ctx *ctx, const char *path, void **buf, UINTN *len)
{
	CHAR16 wpath[EFI_PATH_MAX];
	EFI_FILE_HANDLE root, f;
	EFI_STATUS s;
	int err = path_to_ucs2(path, wpath, ARRAY_SIZE(wpath));

	if (err)
		return err;
	err = open_root(ctx, &root);
	if (err)
		return err;
	s = root->Open(root, &f, wpath, EFI_FILE_MODE_READ, 0);
	root->Close(root);
	if (s == EFI_NOT_FOUND)
		return -ENOENT;
	if (s != EFI_SUCCESS)
		return -EIO;
	err = read_all(ctx, f, buf, len);
	f->Close(f);
	return err;
}

int efi_get_memmap(const struct efi_ctx *ctx, struct efi_memmap *m)
{
	EFI_STATUS s;

	*m = (struct efi_memmap){ 0 };
	s = ctx->bs->GetMemoryMap(&m->size, NULL, &m->key, &m->desc_size, &m->desc_version);
	if (s != EFI_BUFFER_TOO_SMALL)
		return -EIO;
	m->size += MEMMAP_SLACK_DESCS * m->desc_size;
	if (ctx->bs->AllocatePool(EfiLoaderData, m->size, (void **)&m->desc) != EFI_SUCCESS)
		return -ENOMEM;
	s = ctx->bs->GetMemoryMap(&m->size, m->desc, &m->key, &m->desc_size, &m->desc_version);
	if (s != EFI_SUCCESS) {
		ctx->bs->FreePool(m->desc);
		return -EIO;
	}
	return 0;
}

int efi_reserve_pages(const struct efi_ctx *ctx, u64 npages, u64 *addr, bool fixed)
{
	EFI_PHYSICAL_ADDRESS a = fixed ? *addr : 0;
	EFI_STATUS s = ctx->bs->AllocatePages(fixed ? AllocateAddress : AllocateAnyPages,
					      EfiLoaderData, npages, &a);

	if (s != EFI_SUCCESS)
		return -ENOMEM;
	*addr = a;
	return 0;
}

/*
 * ExitBootServices fails with EFI_INVALID_PARAMETER when the map changed
 * since the key was read (an event or timer may allocate memory at any
 * time), so read the map again and retry. Only GetMemoryMap and
 * ExitBootServices may be called after a first failed attempt. The buffer
 * is allocated once, with slack, before the loop.
 */
int efi_exit_boot_services(const struct efi_ctx *ctx)
{
	struct efi_memmap m;
	UINTN cap;
	int err = efi_get_memmap(ctx, &m);

	if (err)
		return err;
	cap = m.size + MEMMAP_SLACK_DESCS * m.desc_size;
	ctx->bs->FreePool(m.desc);
	if (ctx->bs->AllocatePool(EfiLoaderData, cap, (void **)&m.desc) != EFI_SUCCESS)
		return -ENOMEM;
	for (int i = 0; i < EXIT_BS_TRIES; i++) {
		m.size = cap;
		if (ctx->bs->GetMemoryMap(&m.size, m.desc, &m.key, &m.desc_size,
					  &m.desc_version) != EFI_SUCCESS)
			return -EIO;
		if (ctx->bs->ExitBootServices(ctx->image, m.key) == EFI_SUCCESS) {
			if (i)
				log_info("keel: ExitBootServices succeeded on try %d\n", i + 1);
			return 0;
		}
	}
	return -EAGAIN;
}
