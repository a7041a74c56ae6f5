// SPDX-License-Identifier: MIT
/* Choosing a loader from the image's format, and the helpers they share. */
#include <stdarg.h>
#include <keel/errno.h>
#include <keel/string.h>
#include "vmm/loader/loader.h"
#include "vmm/loader/multiboot.h"

#define BZ_MAGIC_OFF 0x202
#define BZ_MAGIC 0x53726448u /* "HdrS" */

static u32 get32(const u8 *p)
{
	return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

enum loader_kind loader_detect(const void *image, size_t size)
{
	const u8 *b = image;

	if (size >= BZ_MAGIC_OFF + 4 && get32(b + BZ_MAGIC_OFF) == BZ_MAGIC)
		return LOADER_LINUX;
	if (multiboot_find_header(image, size, NULL))
		return LOADER_MULTIBOOT;
	return LOADER_FLAT;
}

const char *loader_name(enum loader_kind k)
{
	static const char *const names[] = {
		[LOADER_AUTO] = "auto", [LOADER_FLAT] = "flat", [LOADER_LINUX] = "linux",
		[LOADER_MULTIBOOT] = "multiboot",
	};

	return (unsigned)k < ARRAY_SIZE(names) ? names[k] : "?";
}

int loader_load(struct loader_ctx *ctx, enum loader_kind kind)
{
	ctx->err[0] = '\0';
	memset(&ctx->entry, 0, sizeof(ctx->entry));
	if (kind == LOADER_AUTO)
		kind = loader_detect(ctx->image, ctx->image_size);
	if (kind != LOADER_LINUX && ctx->initrd.size)
		return loader_fail(ctx, "initrd = is for Linux; this is a %s image", loader_name(kind));
	if (kind != LOADER_MULTIBOOT && ctx->nr_modules)
		return loader_fail(ctx, "module = is for Multiboot; this is a %s image",
				   loader_name(kind));
	switch (kind) {
	case LOADER_LINUX:
		return loader_linux(ctx);
	case LOADER_MULTIBOOT:
		return loader_multiboot(ctx);
	default:
		return loader_flat(ctx);
	}
}

int loader_fail(struct loader_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx->err, sizeof(ctx->err), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int loader_put(struct loader_ctx *ctx, u64 gpa, const void *src, size_t len, const char *what)
{
	if (!len)
		return 0;
	if (!loader_in_ram(ctx, gpa, len) || ctx->write(ctx->mem, gpa, src, len)) {
		loader_fail(ctx, "%s [0x%llx, 0x%llx) is not in guest RAM", what,
			    (unsigned long long)gpa, (unsigned long long)(gpa + len));
		return -EFAULT;
	}
	return 0;
}

bool loader_in_ram(const struct loader_ctx *ctx, u64 gpa, u64 len)
{
	if (gpa + len < gpa)
		return false;
	for (unsigned i = 0; i < ctx->nr_ram; i++) {
		const struct mem_range *r = &ctx->ram[i];

		if (gpa >= r->base && gpa + len <= r->base + r->size)
			return true;
	}
	return false;
}

u64 loader_low_ram_end(const struct loader_ctx *ctx)
{
	return ctx->nr_ram && ctx->ram[0].base == 0 ? ctx->ram[0].size : 0;
}
