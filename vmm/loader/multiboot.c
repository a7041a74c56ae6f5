// SPDX-License-Identifier: MIT
/*
 * Multiboot v1 kernels: an ELF32 or ELF64 file loaded by its program
 * headers at their physical addresses (or, with header flag 16, by the
 * header's a.out-kludge addresses), entered in 32-bit protected mode with
 * paging off, EAX = 0x2BADB002 and EBX = the information block.
 *
 * Everything Keel hands over lies in one area right above the kernel's
 * highest loaded byte: the modules (page-aligned, in keel.cfg order), then
 * the information block, the module list, the memory map (the e820 map of
 * e820.c) and the strings (the command line, whose first word is the image
 * name, the module strings, the boot loader name). The kernel's segments
 * may not touch page 0, the EBDA and BIOS area or anything above 4 GiB, so
 * neither can that area. Every size and address in a hostile image is
 * checked before use.
 */
#include <keel/errno.h>
#include <keel/string.h>
#include "vmm/dev/layout.h"
#include "vmm/loader/elf.h"
#include "vmm/loader/loader.h"
#include "vmm/loader/multiboot.h"

#define MB_LOADER_NAME "Keel"
#define MB_LIMIT_4G (4 * SZ_1G)
#define MB_STRINGS_MAX 4096

static u32 rd32(const u8 *p)
{
	return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

bool multiboot_find_header(const void *image, size_t size, size_t *off)
{
	const u8 *b = image;
	size_t end = MIN(size, (size_t)MB_SEARCH_BYTES);

	for (size_t o = 0; o + 12 <= end; o += 4) {
		u32 magic = rd32(b + o), flags = rd32(b + o + 4), sum = rd32(b + o + 8);

		if (magic == MB_HEADER_MAGIC && (u32)(magic + flags + sum) == 0) {
			if (off)
				*off = o;
			return true;
		}
	}
	return false;
}

/* A kernel segment must be RAM, below 4 GiB, clear of page 0 and of the
 * EBDA/BIOS area. */
static int check_range(struct loader_ctx *ctx, u64 addr, u64 size)
{
	if (addr + size < addr || addr + size > MB_LIMIT_4G)
		return loader_fail(ctx, "Multiboot: segment [0x%llx, +0x%llx) is not below 4 GiB",
				   (unsigned long long)addr, (unsigned long long)size);
	if (addr < PAGE_SIZE || (addr < PLAT_HIGH_MEM_BASE && addr + size > PLAT_EBDA_BASE))
		return loader_fail(ctx, "Multiboot: segment [0x%llx, +0x%llx) overlaps page 0 or "
				   "the BIOS area [0x%llx, 0x%llx)", (unsigned long long)addr,
				   (unsigned long long)size, (unsigned long long)PLAT_EBDA_BASE,
				   (unsigned long long)PLAT_HIGH_MEM_BASE);
	if (!loader_in_ram(ctx, addr, size))
		return loader_fail(ctx, "Multiboot: segment [0x%llx, +0x%llx) is not in guest RAM",
				   (unsigned long long)addr, (unsigned long long)size);
	return 0;
}

static int put_zeros(struct loader_ctx *ctx, u64 gpa, u64 len)
{
	static const u8 zero[PAGE_SIZE];

	while (len) {
		u64 n = MIN(len, (u64)PAGE_SIZE);
		int r = loader_put(ctx, gpa, zero, n, "a kernel segment's zero fill");

		if (r)
			return r;
		gpa += n;
		len -= n;
	}
	return 0;
}

static int load_segment(struct loader_ctx *ctx, const u8 *src, u64 paddr, u64 file_size,
			u64 mem_size)
{
	int r = check_range(ctx, paddr, mem_size);

	if (!r)
		r = loader_put(ctx, paddr, src, file_size, "a kernel segment");
	if (!r)
		r = put_zeros(ctx, paddr + file_size, mem_size - file_size);
	return r;
}

/* ELF: every PT_LOAD at its physical address; the entry point translated
 * from virtual to physical through the segment that holds it. */
static int load_elf(struct loader_ctx *ctx, u64 *entry, u64 *end)
{
	static struct elf_image elf;
	char why[96];
	int r = elf_parse(ctx->image, ctx->image_size, &elf, why, sizeof(why));

	if (r)
		return loader_fail(ctx, "Multiboot: %s", why);
	if (elf.machine != ELF_EM_386 && elf.machine != ELF_EM_X86_64)
		return loader_fail(ctx, "Multiboot: ELF machine %u is not x86", elf.machine);
	*entry = ~0ull;
	*end = 0;
	for (unsigned i = 0; i < elf.nr_segments; i++) {
		const struct elf_segment *s = &elf.seg[i];

		r = load_segment(ctx, (const u8 *)ctx->image + s->file_off, s->paddr, s->file_size,
				 s->mem_size);
		if (r)
			return r;
		if (elf.entry >= s->vaddr && elf.entry - s->vaddr < s->mem_size)
			*entry = s->paddr + (elf.entry - s->vaddr);
		*end = MAX(*end, s->paddr + s->mem_size);
	}
	if (*entry == ~0ull)
		return loader_fail(ctx, "Multiboot: ELF entry 0x%llx is in no loadable segment",
				   (unsigned long long)elf.entry);
	return 0;
}

/* Header flag 16: the file from header_addr - (header_addr - load_addr)
 * on is loaded at load_addr, up to load_end_addr, zeros to bss_end_addr. */
static int load_aout(struct loader_ctx *ctx, const struct mb_header *h, size_t off, u64 *entry,
		     u64 *end)
{
	u64 start, file_end, mem_end;

	if (off + sizeof(*h) > ctx->image_size || h->header_addr < h->load_addr ||
	    h->header_addr - h->load_addr > off)
		return loader_fail(ctx, "Multiboot: a.out-kludge header addresses are inconsistent");
	start = off - (h->header_addr - h->load_addr);
	file_end = h->load_end_addr ? h->load_end_addr : h->load_addr + (ctx->image_size - start);
	mem_end = h->bss_end_addr ? h->bss_end_addr : file_end;
	if (file_end < h->load_addr || mem_end < file_end ||
	    file_end - h->load_addr > ctx->image_size - start)
		return loader_fail(ctx, "Multiboot: a.out-kludge load range is inconsistent");
	if (h->entry_addr < h->load_addr || h->entry_addr >= mem_end)
		return loader_fail(ctx, "Multiboot: entry 0x%x is outside the loaded image",
				   h->entry_addr);
	*entry = h->entry_addr;
	*end = mem_end;
	return load_segment(ctx, (const u8 *)ctx->image + start, h->load_addr,
			    file_end - h->load_addr, mem_end - h->load_addr);
}

/* The area after the kernel, filled front to back. */
struct mb_area {
	u64 next, limit;
};

static int area_take(struct loader_ctx *ctx, struct mb_area *a, u64 size, u64 align, u64 *gpa)
{
	u64 at = ALIGN_UP(a->next, align);

	if (at + size < at || at + size > a->limit)
		return loader_fail(ctx, "Multiboot: modules and boot information (%llu KiB more) "
				   "do not fit low guest RAM below 0x%llx",
				   (unsigned long long)(size >> 10), (unsigned long long)a->limit);
	*gpa = at;
	a->next = at + size;
	return 0;
}

/* A string in the area; its gpa is returned in *gpa (0 on failure). */
static int put_string(struct loader_ctx *ctx, struct mb_area *a, const char *first,
		      const char *rest, u64 *gpa)
{
	char buf[MB_STRINGS_MAX];
	u64 at = 0;
	int n = snprintf(buf, sizeof(buf), "%s%s%s", first, rest[0] ? " " : "", rest);
	int r;

	if (n < 0 || (size_t)n >= sizeof(buf))
		return loader_fail(ctx, "Multiboot: a command line is too long");
	r = area_take(ctx, a, (u64)n + 1, 1, &at);
	if (!r)
		r = loader_put(ctx, at, buf, (size_t)n + 1, "a Multiboot string");
	*gpa = at;
	return r;
}

static int put_modules(struct loader_ctx *ctx, struct mb_area *a, struct mb_module *mods)
{
	for (unsigned i = 0; i < ctx->nr_modules; i++) {
		const struct loader_file *f = &ctx->modules[i];
		u64 at = 0;
		int r = area_take(ctx, a, f->size, PAGE_SIZE, &at);

		if (!r)
			r = loader_put(ctx, at, f->data, f->size, "a module");
		if (r)
			return r;
		mods[i].mod_start = (u32)at;
		mods[i].mod_end = (u32)(at + f->size);
	}
	return 0;
}

static int put_mmap(struct loader_ctx *ctx, struct mb_area *a, struct mb_info *info)
{
	struct e820_entry e[LOADER_E820_MAX];
	struct mb_mmap_entry m[LOADER_E820_MAX];
	unsigned n = loader_e820(ctx, e, ARRAY_SIZE(e));
	u64 at = 0;
	int r;

	for (unsigned i = 0; i < n; i++)
		m[i] = (struct mb_mmap_entry){ 20, e[i].addr, e[i].size, e[i].type };
	r = area_take(ctx, a, n * sizeof(m[0]), 8, &at);
	if (!r)
		r = loader_put(ctx, at, m, n * sizeof(m[0]), "the Multiboot memory map");
	info->mmap_addr = (u32)at;
	info->mmap_length = (u32)(n * sizeof(m[0]));
	return r;
}

static int put_info(struct loader_ctx *ctx, u64 kernel_end, u64 *info_gpa)
{
	/* From 1 MiB at the lowest: a kernel loaded below the EBDA must not
	 * push its boot information into the BIOS area. */
	struct mb_area a = { ALIGN_UP(MAX(kernel_end, PLAT_HIGH_MEM_BASE), PAGE_SIZE),
			     MIN(loader_low_ram_end(ctx), (u64)MB_LIMIT_4G) };
	struct mb_module mods[LOADER_MAX_MODULES] = { 0 };
	struct mb_info info = { 0 };
	u64 low = loader_low_ram_end(ctx), mods_gpa = 0;
	u64 cmdline = 0, name = 0, str;
	int r = put_modules(ctx, &a, mods);

	for (unsigned i = 0; i < ctx->nr_modules && !r; i++) {
		r = put_string(ctx, &a, ctx->modules[i].string, "", &str);
		mods[i].string = (u32)str;
	}
	if (!r)
		r = area_take(ctx, &a, sizeof(mods[0]) * MAX(ctx->nr_modules, 1u), 16, &mods_gpa);
	if (!r)
		r = loader_put(ctx, mods_gpa, mods, sizeof(mods[0]) * ctx->nr_modules, "mods");
	if (!r)
		r = put_mmap(ctx, &a, &info);
	if (!r)
		r = put_string(ctx, &a, ctx->name, ctx->cmdline ? ctx->cmdline : "", &cmdline);
	if (!r)
		r = put_string(ctx, &a, MB_LOADER_NAME, "", &name);
	if (!r)
		r = area_take(ctx, &a, sizeof(info), 16, info_gpa);
	if (r)
		return r;
	info.cmdline = (u32)cmdline;
	info.boot_loader_name = (u32)name;
	info.flags = MB_INFO_MEMORY | MB_INFO_CMDLINE | MB_INFO_MODS | MB_INFO_MMAP |
		     MB_INFO_LOADER_NAME;
	info.mem_lower = (u32)(PLAT_LOW_RAM_END >> 10);
	info.mem_upper = (u32)((MIN(low, (u64)MB_LIMIT_4G) - PLAT_HIGH_MEM_BASE) >> 10);
	info.mods_count = ctx->nr_modules;
	info.mods_addr = (u32)mods_gpa;
	return loader_put(ctx, *info_gpa, &info, sizeof(info), "the Multiboot information");
}

int loader_multiboot(struct loader_ctx *ctx)
{
	struct mb_header h = { 0 };
	size_t off;
	u64 entry = 0, end = 0, info = 0;
	int r;

	if (!multiboot_find_header(ctx->image, ctx->image_size, &off))
		return loader_fail(ctx, "no Multiboot header in the first 8 KiB");
	memcpy(&h, (const u8 *)ctx->image + off, MIN(sizeof(h), ctx->image_size - off));
	if ((h.flags & 0xffff) & ~MB_HF_KNOWN)
		return loader_fail(ctx, "Multiboot header requires features Keel does not know "
				   "(flags 0x%x)", h.flags);
	if (loader_low_ram_end(ctx) <= PLAT_HIGH_MEM_BASE)
		return loader_fail(ctx, "Multiboot: no guest RAM above 1 MiB");
	r = (h.flags & MB_HF_AOUT_KLUDGE) ? load_aout(ctx, &h, off, &entry, &end)
					  : load_elf(ctx, &entry, &end);
	if (!r)
		r = put_info(ctx, end, &info);
	if (r)
		return r;
	if (entry >= MB_LIMIT_4G)
		return loader_fail(ctx, "Multiboot: entry 0x%llx is above 4 GiB",
				   (unsigned long long)entry);
	ctx->entry = (struct loader_entry){
		.mode = ENTRY_PROT32,
		.rip = entry,
		.rax = MB_BOOT_MAGIC,
		.rbx = info,
	};
	return 0;
}
