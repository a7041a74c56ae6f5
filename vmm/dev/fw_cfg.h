/* SPDX-License-Identifier: MIT */
/*
 * fw_cfg at 0x510 (16-bit selector) / 0x511 (8-bit data), with QEMU's
 * semantics for the traditional (non-DMA) interface: key 0x0000 reads
 * "QEMU", key 0x0001 the ID (bit 0: traditional interface; no DMA), key
 * 0x0019 the file directory (big-endian count, then 64-byte entries: size,
 * select, reserved, name[56]). Reading past an item's end, or an unknown
 * key, gives 0; writes to the data port are ignored.
 *
 * The loaders add the content (CPU count, RAM size, files) before the
 * first entry: fw_cfg_add_bytes for a numbered key, fw_cfg_add_file for a
 * named file (keys from 0x0020 on, in the order added).
 */
#pragma once

#include <keel/types.h>

#define FW_CFG_SIGNATURE 0x0000
#define FW_CFG_ID 0x0001
#define FW_CFG_UUID 0x0002
#define FW_CFG_RAM_SIZE 0x0003
#define FW_CFG_NB_CPUS 0x0005
#define FW_CFG_MAX_CPUS 0x000f
#define FW_CFG_FILE_DIR 0x0019
#define FW_CFG_FILE_FIRST 0x0020
#define FW_CFG_FILE_NAME_MAX 56
#define FW_CFG_MAX_ITEMS 64

struct fw_cfg_item {
	u16 key;
	u32 size;
	u8 *data;              /* owned copy */
	char name[FW_CFG_FILE_NAME_MAX]; /* files only; "" for numbered keys */
};

struct fw_cfg {
	struct fw_cfg_item items[FW_CFG_MAX_ITEMS];
	unsigned nr_items, nr_files;
	u16 selector;
	u32 offset;
	const struct fw_cfg_item *cur;
	u8 *dir;               /* the file directory, rebuilt when a file is added */
	u32 dir_size;
};

void fw_cfg_init(struct fw_cfg *fc);
void fw_cfg_destroy(struct fw_cfg *fc);
/* Set (or replace) a numbered key with a copy of 'data'. 0, or -EINVAL
 * (key 0x0019 or a file key), -ENOSPC (too many items), -ENOMEM. */
int fw_cfg_add_bytes(struct fw_cfg *fc, u16 key, const void *data, u32 len);
/* Little-endian integers, as QEMU stores its numbered keys. */
int fw_cfg_add_u16(struct fw_cfg *fc, u16 key, u16 v);
int fw_cfg_add_u32(struct fw_cfg *fc, u16 key, u32 v);
int fw_cfg_add_u64(struct fw_cfg *fc, u16 key, u64 v);
/* Add a named file (e.g. "etc/e820"): its key (>= 0x0020), or -EEXIST,
 * -EINVAL (name empty or longer than 55), -ENOSPC, -ENOMEM. */
int fw_cfg_add_file(struct fw_cfg *fc, const char *name, const void *data, u32 len);

/* Ports: 0x510 selector (16-bit write; reads give the selector), 0x511
 * data (each byte of a wider read is the next data byte). */
u32 fw_cfg_read(struct fw_cfg *fc, u16 port, unsigned size);
void fw_cfg_write(struct fw_cfg *fc, u16 port, unsigned size, u32 val);
