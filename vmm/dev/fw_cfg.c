// SPDX-License-Identifier: MIT
/* fw_cfg (fw_cfg.h). */
#include <keel/errno.h>
#include <keel/host.h>
#include <keel/string.h>
#include "vmm/dev/fw_cfg.h"
#include "vmm/dev/layout.h"

#define FW_CFG_ID_TRADITIONAL 0x1u
#define DIR_ENTRY_SIZE 64
#define KEY_MASK 0xbfff /* bit 14 is the (unsupported) write flag */

static struct fw_cfg_item *find(struct fw_cfg *fc, u16 key)
{
	for (unsigned i = 0; i < fc->nr_items; i++)
		if (fc->items[i].key == key)
			return &fc->items[i];
	return NULL;
}

static int set_item(struct fw_cfg *fc, u16 key, const char *name, const void *data, u32 len)
{
	struct fw_cfg_item *it = find(fc, key);
	u8 *copy = NULL;

	if (!it && fc->nr_items == FW_CFG_MAX_ITEMS)
		return -ENOSPC;
	if (len) {
		copy = host_alloc(len);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, data, len);
	}
	if (!it) {
		it = &fc->items[fc->nr_items++];
	} else if (it->data) {
		host_free(it->data);
	}
	it->key = key;
	it->size = len;
	it->data = copy;
	memset(it->name, 0, sizeof(it->name));
	if (name)
		memcpy(it->name, name, strlen(name));
	fc->cur = NULL; /* items may have moved: reselect on the next read */
	return 0;
}

void fw_cfg_init(struct fw_cfg *fc)
{
	static const char sig[4] = { 'Q', 'E', 'M', 'U' };

	memset(fc, 0, sizeof(*fc));
	set_item(fc, FW_CFG_SIGNATURE, NULL, sig, sizeof(sig));
	fw_cfg_add_u32(fc, FW_CFG_ID, FW_CFG_ID_TRADITIONAL);
}

void fw_cfg_destroy(struct fw_cfg *fc)
{
	for (unsigned i = 0; i < fc->nr_items; i++)
		if (fc->items[i].data)
			host_free(fc->items[i].data);
	if (fc->dir)
		host_free(fc->dir);
	memset(fc, 0, sizeof(*fc));
}

int fw_cfg_add_bytes(struct fw_cfg *fc, u16 key, const void *data, u32 len)
{
	key &= KEY_MASK;
	if (key == FW_CFG_FILE_DIR || (key >= FW_CFG_FILE_FIRST && key < 0x8000))
		return -EINVAL;
	return set_item(fc, key, NULL, data, len);
}

int fw_cfg_add_u16(struct fw_cfg *fc, u16 key, u16 v)
{
	u8 b[2] = { (u8)v, (u8)(v >> 8) };

	return fw_cfg_add_bytes(fc, key, b, sizeof(b));
}

int fw_cfg_add_u32(struct fw_cfg *fc, u16 key, u32 v)
{
	u8 b[4];

	for (unsigned i = 0; i < 4; i++)
		b[i] = (u8)(v >> (8 * i));
	return fw_cfg_add_bytes(fc, key, b, sizeof(b));
}

int fw_cfg_add_u64(struct fw_cfg *fc, u16 key, u64 v)
{
	u8 b[8];

	for (unsigned i = 0; i < 8; i++)
		b[i] = (u8)(v >> (8 * i));
	return fw_cfg_add_bytes(fc, key, b, sizeof(b));
}

static void put_be32(u8 *p, u32 v)
{
	p[0] = (u8)(v >> 24);
	p[1] = (u8)(v >> 16);
	p[2] = (u8)(v >> 8);
	p[3] = (u8)v;
}

/* The directory: count, then one entry per file in key order. */
static int rebuild_dir(struct fw_cfg *fc)
{
	u32 size = 4 + fc->nr_files * DIR_ENTRY_SIZE, n = 0;
	u8 *dir = host_alloc(size);

	if (!dir)
		return -ENOMEM;
	put_be32(dir, fc->nr_files);
	for (u16 key = FW_CFG_FILE_FIRST; n < fc->nr_files; key++) {
		struct fw_cfg_item *it = find(fc, key);
		u8 *e = dir + 4 + n * DIR_ENTRY_SIZE;

		if (!it)
			continue;
		put_be32(e, it->size);
		e[4] = (u8)(key >> 8);
		e[5] = (u8)key;
		memcpy(e + 8, it->name, FW_CFG_FILE_NAME_MAX);
		n++;
	}
	if (fc->dir)
		host_free(fc->dir);
	fc->dir = dir;
	fc->dir_size = size;
	fc->cur = NULL;
	return 0;
}

int fw_cfg_add_file(struct fw_cfg *fc, const char *name, const void *data, u32 len)
{
	size_t n = strlen(name);
	u16 key;
	int rc;

	if (!n || n >= FW_CFG_FILE_NAME_MAX)
		return -EINVAL;
	for (unsigned i = 0; i < fc->nr_items; i++)
		if (fc->items[i].name[0] && !strcmp(fc->items[i].name, name))
			return -EEXIST;
	key = (u16)(FW_CFG_FILE_FIRST + fc->nr_files);
	rc = set_item(fc, key, name, data, len);
	if (rc)
		return rc;
	fc->nr_files++;
	rc = rebuild_dir(fc);
	if (rc)
		return rc;
	return key;
}

static u8 data_byte(struct fw_cfg *fc)
{
	const u8 *data;
	u32 size;

	if ((fc->selector & KEY_MASK) == FW_CFG_FILE_DIR) {
		data = fc->dir;
		size = fc->dir_size;
		if (!data) {
			static const u8 empty[4];

			data = empty;
			size = sizeof(empty);
		}
	} else {
		if (!fc->cur)
			fc->cur = find(fc, fc->selector & KEY_MASK);
		if (!fc->cur)
			return 0;
		data = fc->cur->data;
		size = fc->cur->size;
	}
	if (fc->offset >= size)
		return 0;
	return data[fc->offset++];
}

u32 fw_cfg_read(struct fw_cfg *fc, u16 port, unsigned size)
{
	u32 v = 0;

	if (port == PLAT_PORT_FW_CFG)
		return fc->selector;
	for (unsigned i = 0; i < size; i++)
		v |= (u32)data_byte(fc) << (8 * i);
	return v;
}

void fw_cfg_write(struct fw_cfg *fc, u16 port, unsigned size, u32 val)
{
	if (port != PLAT_PORT_FW_CFG)
		return; /* data writes: not supported (as QEMU since 2.4) */
	fc->selector = (u16)val;
	fc->offset = 0;
	fc->cur = NULL;
}
