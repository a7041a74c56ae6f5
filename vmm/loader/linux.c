// SPDX-License-Identifier: MIT
/*
 * Linux bzImage by the x86 boot protocol (Documentation/arch/x86/boot.rst),
 * 64-bit entry: the protected-mode kernel at its preferred address, a zero
 * page (struct boot_params) with the image's setup header, the e820 map,
 * the command line, the initrd and the ACPI RSDP; entry at the load address
 * + 0x200 in 64-bit mode with RSI = the zero page, an identity map of all
 * RAM, and a GDT with __BOOT_CS (0x10) and __BOOT_DS (0x18).
 *
 * Guest-physical layout below 1 MiB (the page tables come first,
 * pagetable.c): LINUX_GDT_GPA the GDT, LINUX_ZERO_PAGE_GPA the zero page,
 * LINUX_CMDLINE_GPA the command line, LINUX_STACK_TOP a stack the kernel
 * replaces before it uses one.
 */
#include <keel/errno.h>
#include <keel/string.h>
#include "guest/abi.h"
#include "vmm/dev/layout.h"
#include "vmm/loader/loader.h"

#define LINUX_GDT_GPA 0x7b000ull
#define LINUX_ZERO_PAGE_GPA 0x7c000ull
#define LINUX_CMDLINE_GPA 0x7d000ull
#define LINUX_CMDLINE_MAX 0x2000u
#define LINUX_STACK_TOP 0x9f000ull
#define U32_LIMIT 0xffffffffull

/* Setup header and boot_params offsets (boot.rst, zero-page.rst). */
#define BP_ACPI_RSDP 0x070
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define BP_E820_ENTRIES 0x1e8
#define BP_E820_TABLE 0x2d0
#define BP_E820_MAX 128
#define HDR_START 0x1f1
#define HDR_SETUP_SECTS 0x1f1
#define HDR_BOOT_FLAG 0x1fe
#define HDR_JUMP 0x200
#define HDR_MAGIC 0x202
#define HDR_VERSION 0x206
#define HDR_TYPE_OF_LOADER 0x210
#define HDR_LOADFLAGS 0x211
#define HDR_CODE32_START 0x214
#define HDR_RAMDISK_IMAGE 0x218
#define HDR_RAMDISK_SIZE 0x21c
#define HDR_CMD_LINE_PTR 0x228
#define HDR_INITRD_ADDR_MAX 0x22c
#define HDR_KERNEL_ALIGNMENT 0x230
#define HDR_RELOCATABLE 0x234
#define HDR_XLOADFLAGS 0x236
#define HDR_CMDLINE_SIZE 0x238
#define HDR_PREF_ADDRESS 0x258
#define HDR_INIT_SIZE 0x260

#define LOADED_HIGH BIT(0)
#define XLF_KERNEL_64 BIT(0)
#define LINUX_MIN_VERSION 0x020c /* 2.12: xloadflags, 64-bit entry described */
#define LINUX_ENTRY64_OFFSET 0x200
#define LOADER_TYPE_UNKNOWN 0xff

#define BOOT_CS 0x10
#define BOOT_DS 0x18

struct bzimage {
	const u8 *b;
	size_t size;
	u16 version;
	u64 kernel_off, kernel_size; /* the protected-mode part in the file */
	u64 load, init_size, align, pref;
	bool relocatable;
};

static u16 rd16(const u8 *p) { return (u16)(p[0] | p[1] << 8); }
static u32 rd32(const u8 *p) { return (u32)rd16(p) | (u32)rd16(p + 2) << 16; }
static u64 rd64(const u8 *p) { return (u64)rd32(p) | (u64)rd32(p + 4) << 32; }
static void wr16(u8 *p, u16 v) { p[0] = (u8)v; p[1] = (u8)(v >> 8); }
static void wr32(u8 *p, u32 v) { wr16(p, (u16)v); wr16(p + 2, (u16)(v >> 16)); }
static void wr64(u8 *p, u64 v) { wr32(p, (u32)v); wr32(p + 4, (u32)(v >> 32)); }

/* Read and check the setup header. */
static int parse(struct loader_ctx *ctx, struct bzimage *z)
{
	const u8 *b = ctx->image;
	unsigned sects;

	z->b = b;
	z->size = ctx->image_size;
	if (z->size < HDR_INIT_SIZE + 4 || rd32(b + HDR_MAGIC) != 0x53726448u)
		return loader_fail(ctx, "not a bzImage (no \"HdrS\" setup header)");
	z->version = rd16(b + HDR_VERSION);
	if (z->version < LINUX_MIN_VERSION)
		return loader_fail(ctx, "boot protocol %u.%02u is too old: Keel enters Linux in "
				   "64-bit mode, which needs 2.12 or later", z->version >> 8,
				   z->version & 0xff);
	if (rd16(b + HDR_BOOT_FLAG) != 0xaa55)
		return loader_fail(ctx, "bzImage boot_flag is not 0xAA55");
	if (!(b[HDR_LOADFLAGS] & LOADED_HIGH))
		return loader_fail(ctx, "zImage (not loaded high) is not supported");
	if (!(rd16(b + HDR_XLOADFLAGS) & XLF_KERNEL_64))
		return loader_fail(ctx, "this kernel has no 64-bit entry point (XLF_KERNEL_64)");
	if ((size_t)HDR_JUMP + 2 + b[HDR_JUMP + 1] > MIN((size_t)PAGE_SIZE, z->size))
		return loader_fail(ctx, "setup header longer than the zero page");
	sects = b[HDR_SETUP_SECTS] ? b[HDR_SETUP_SECTS] : 4;
	z->kernel_off = (u64)(sects + 1) * 512;
	if (z->kernel_off >= z->size)
		return loader_fail(ctx, "bzImage of %zu bytes ends inside its setup code", z->size);
	z->kernel_size = z->size - z->kernel_off;
	z->init_size = MAX((u64)rd32(b + HDR_INIT_SIZE), z->kernel_size);
	z->align = rd32(b + HDR_KERNEL_ALIGNMENT);
	z->relocatable = b[HDR_RELOCATABLE];
	z->pref = rd64(b + HDR_PREF_ADDRESS);
	if (z->relocatable && (z->align < PAGE_SIZE || (z->align & (z->align - 1))))
		return loader_fail(ctx, "kernel_alignment 0x%llx is not a power of two",
				   (unsigned long long)z->align);
	return 0;
}

/* The preferred address, or for a relocatable kernel the first aligned
 * address from 1 MiB where init_size bytes fit. */
static int place_kernel(struct loader_ctx *ctx, struct bzimage *z)
{
	if (loader_in_ram(ctx, z->pref, z->init_size) && z->pref >= PLAT_HIGH_MEM_BASE) {
		z->load = z->pref;
		return 0;
	}
	if (z->relocatable) {
		z->load = ALIGN_UP(PLAT_HIGH_MEM_BASE, z->align);
		if (loader_in_ram(ctx, z->load, z->init_size))
			return 0;
	}
	return loader_fail(ctx, "the kernel needs %llu MiB of RAM from 0x%llx; guest RAM is too "
			   "small", (unsigned long long)(z->init_size >> 20),
			   (unsigned long long)z->pref);
}

/* The initrd: at the top of low RAM below initrd_addr_max, page-aligned,
 * above the kernel's init_size. */
static int place_initrd(struct loader_ctx *ctx, const struct bzimage *z, u64 *addr)
{
	u64 top = MIN((u64)rd32(z->b + HDR_INITRD_ADDR_MAX) + 1, loader_low_ram_end(ctx));
	u64 size = ctx->initrd.size;

	*addr = 0;
	if (!size)
		return 0;
	if (size > U32_LIMIT || size > top)
		return loader_fail(ctx, "initrd of %zu bytes does not fit below 0x%llx",
				   ctx->initrd.size, (unsigned long long)top);
	*addr = ALIGN_DOWN(top - size, PAGE_SIZE);
	if (*addr < z->load + z->init_size)
		return loader_fail(ctx, "initrd of %llu MiB does not fit between the kernel's end "
				   "0x%llx and 0x%llx", (unsigned long long)(size >> 20),
				   (unsigned long long)(z->load + z->init_size),
				   (unsigned long long)top);
	return loader_put(ctx, *addr, ctx->initrd.data, size, "the initrd");
}

static bool has_word_prefix(const char *s, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = s; *p; p++)
		if ((p == s || p[-1] == ' ') && !strncmp(p, word, n))
			return true;
	return false;
}

/*
 * The command line from keel.cfg, plus tsc_early_khz=<the TSC rate Keel
 * measured> unless it names one: Linux calibrates the TSC against the PIT
 * or the PM timer with tight timing windows that trapped port reads miss,
 * and would then mark the TSC unstable and read the PM timer port for
 * every clock read (docs/platform.md, "Boot protocols").
 */
static int put_cmdline(struct loader_ctx *ctx, const struct bzimage *z)
{
	static char c[LINUX_CMDLINE_MAX];
	const char *user = ctx->cmdline ? ctx->cmdline : "";
	size_t max = MIN((size_t)rd32(z->b + HDR_CMDLINE_SIZE), (size_t)LINUX_CMDLINE_MAX - 1);
	int n;

	if (ctx->tsc_khz && !has_word_prefix(user, "tsc_early_khz="))
		n = snprintf(c, sizeof(c), "%s%stsc_early_khz=%llu", user, user[0] ? " " : "",
			     (unsigned long long)ctx->tsc_khz);
	else
		n = snprintf(c, sizeof(c), "%s", user);
	if (n < 0 || (size_t)n > max)
		return loader_fail(ctx, "cmdline of %d characters is longer than the kernel's "
				   "%zu", n, max);
	return loader_put(ctx, LINUX_CMDLINE_GPA, c, (size_t)n + 1, "the command line");
}

static void fill_e820(const struct loader_ctx *ctx, u8 *zp)
{
	struct e820_entry e[LOADER_E820_MAX];
	unsigned n = loader_e820(ctx, e, MIN(ARRAY_SIZE(e), (size_t)BP_E820_MAX));

	for (unsigned i = 0; i < n; i++) {
		u8 *p = zp + BP_E820_TABLE + i * 20;

		wr64(p, e[i].addr);
		wr64(p + 8, e[i].size);
		wr32(p + 16, e[i].type);
	}
	zp[BP_E820_ENTRIES] = (u8)n;
}

static int put_zero_page(struct loader_ctx *ctx, const struct bzimage *z, u64 initrd)
{
	static u8 zp[PAGE_SIZE];
	size_t hdr_end = HDR_JUMP + 2 + z->b[HDR_JUMP + 1];

	memset(zp, 0, sizeof(zp));
	memcpy(zp + HDR_START, z->b + HDR_START, hdr_end - HDR_START);
	zp[HDR_TYPE_OF_LOADER] = LOADER_TYPE_UNKNOWN;
	zp[HDR_LOADFLAGS] = LOADED_HIGH; /* no heap, not quiet, KEEP_SEGMENTS unused */
	wr32(zp + HDR_CODE32_START, (u32)z->load);
	wr32(zp + HDR_CMD_LINE_PTR, (u32)LINUX_CMDLINE_GPA);
	wr32(zp + BP_EXT_CMD_LINE_PTR, 0);
	wr32(zp + HDR_RAMDISK_IMAGE, (u32)initrd);
	wr32(zp + HDR_RAMDISK_SIZE, (u32)ctx->initrd.size);
	wr32(zp + BP_EXT_RAMDISK_IMAGE, (u32)(initrd >> 32));
	wr32(zp + BP_EXT_RAMDISK_SIZE, 0);
	wr64(zp + BP_ACPI_RSDP, ctx->rsdp_gpa);
	fill_e820(ctx, zp);
	return loader_put(ctx, LINUX_ZERO_PAGE_GPA, zp, sizeof(zp), "the zero page");
}

static int put_gdt(struct loader_ctx *ctx)
{
	static const u64 gdt[4] = {
		0, 0,
		[BOOT_CS / 8] = 0x00af9b000000ffffull, /* 64-bit code, DPL 0 */
		[BOOT_DS / 8] = 0x00cf93000000ffffull, /* flat data */
	};

	return loader_put(ctx, LINUX_GDT_GPA, gdt, sizeof(gdt), "the GDT");
}

int loader_linux(struct loader_ctx *ctx)
{
	struct bzimage z = { 0 };
	u64 initrd = 0, cr3 = 0;
	int r = parse(ctx, &z);

	if (!r)
		r = place_kernel(ctx, &z);
	if (!r)
		r = loader_put(ctx, z.load, z.b + z.kernel_off, z.kernel_size, "the kernel");
	if (!r)
		r = place_initrd(ctx, &z, &initrd);
	if (!r)
		r = put_cmdline(ctx, &z);
	if (!r)
		r = put_zero_page(ctx, &z, initrd);
	if (!r)
		r = put_gdt(ctx);
	if (!r)
		r = loader_identity_map(ctx, loader_map_top(ctx), &cr3);
	if (r)
		return r;
	ctx->entry = (struct loader_entry){
		.mode = ENTRY_LONG64,
		.rip = z.load + LINUX_ENTRY64_OFFSET,
		.rsp = LINUX_STACK_TOP,
		.rsi = LINUX_ZERO_PAGE_GPA,
		.cr3 = cr3,
		.gdt_base = LINUX_GDT_GPA,
		.gdt_limit = 4 * 8 - 1,
		.cs = BOOT_CS,
		.ds = BOOT_DS,
	};
	return 0;
}
