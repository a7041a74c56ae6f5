/* SPDX-License-Identifier: MIT */
/*
 * Guest loaders: put a guest image into guest RAM the way its format asks
 * and describe the vCPU state it starts in (docs/platform.md, "Boot
 * protocols"). One file per format:
 *   flat.c       Keel's self-test ABI (guest/abi.h): 64-bit, at 1 MiB
 *   linux.c      Linux bzImage, x86 boot protocol >= 2.12, 64-bit entry
 *   multiboot.c  Multiboot v1 ELF32/ELF64 kernels (elf.c), 32-bit entry
 * The format is detected from the image (loader_detect) unless keel.cfg
 * names one. Loaders are portable C: they reach guest memory only through
 * struct loader_ctx, so they are tested hosted against a plain buffer.
 */
#pragma once

#include <keel/types.h>

#define LOADER_MAX_MODULES 8
#define LOADER_MAX_RAM 8        /* guest RAM ranges (contiguous in gpa) */
#define LOADER_E820_MAX 16
#define LOADER_ERR_MAX 160

enum loader_kind {
	LOADER_AUTO,
	LOADER_FLAT,
	LOADER_LINUX,
	LOADER_MULTIBOOT,
};

/* A file handed to the guest (initrd, Multiboot module). */
struct loader_file {
	const void *data;
	size_t size;
	const char *string; /* Multiboot module string ("" for none) */
};

/* Guest RAM, guest-physical [base, base + size). */
struct mem_range {
	u64 base, size;
};

/* e820 / Multiboot memory map entry types. */
#define E820_RAM 1
#define E820_RESERVED 2
#define E820_ACPI 3

struct e820_entry {
	u64 addr, size;
	u32 type;
} __packed;

/* How the vCPU starts. */
enum entry_mode {
	ENTRY_LONG64,   /* 64-bit, paging on with Keel's identity map (cr3) */
	ENTRY_PROT32,   /* 32-bit protected mode, flat segments, paging off */
};

struct loader_entry {
	enum entry_mode mode;
	u64 rip, rsp, rax, rbx, rsi, rdi, rdx, cr3;
	/* GDT the guest's selectors come from (0 = the backend's own flat
	 * model): Linux's __BOOT_CS / __BOOT_DS. */
	u64 gdt_base;
	u16 gdt_limit, cs, ds;
};

struct loader_ctx {
	/* Guest memory: copy into RAM; -EFAULT if any byte is not RAM. */
	int (*write)(void *mem, u64 gpa, const void *src, size_t len);
	void *mem;
	struct mem_range ram[LOADER_MAX_RAM]; /* sorted, not overlapping */
	unsigned nr_ram;
	u64 mem_size;          /* total RAM in bytes */
	u64 rsdp_gpa;          /* ACPI RSDP Keel built (0 = none) */
	u64 tsc_khz;           /* the guest's TSC rate (0 = unknown): Linux gets tsc_early_khz= */
	/* The image and what keel.cfg gives it. */
	const char *name;      /* image path or name (Multiboot cmdline's first word) */
	const void *image;
	size_t image_size;
	const char *cmdline;   /* "" = none */
	struct loader_file initrd; /* size 0 = none */
	struct loader_file modules[LOADER_MAX_MODULES];
	unsigned nr_modules;
	const char *fail_test; /* flat self-test guest: guest-fail name or "" */
	/* Out. */
	struct loader_entry entry;
	char err[LOADER_ERR_MAX]; /* why loading failed */
};

/* The format of an image: LOADER_LINUX ("HdrS" at 0x202), LOADER_MULTIBOOT
 * (a Multiboot v1 header in the first 8 KiB), else LOADER_FLAT. */
enum loader_kind loader_detect(const void *image, size_t size);
const char *loader_name(enum loader_kind k);

/* Load with 'kind' (LOADER_AUTO: detect). 0, or a negative errno with
 * ctx->err saying why. */
int loader_load(struct loader_ctx *ctx, enum loader_kind kind);

int loader_flat(struct loader_ctx *ctx);
int loader_linux(struct loader_ctx *ctx);
int loader_multiboot(struct loader_ctx *ctx);

/* e820.c: the memory map every loader describes (zero page, Multiboot
 * mmap), from the RAM ranges and vmm/dev/layout.h: RAM, the EBDA and BIOS
 * area reserved, the ACPI area reserved. Returns the number of entries. */
unsigned loader_e820(const struct loader_ctx *ctx, struct e820_entry *out, unsigned max);
/* True when [gpa, gpa + len) lies inside one RAM range. */
bool loader_in_ram(const struct loader_ctx *ctx, u64 gpa, u64 len);
/* End of the RAM range that starts at 0 (low RAM, below the PCI hole). */
u64 loader_low_ram_end(const struct loader_ctx *ctx);

/* pagetable.c: identity map of [0, top) with 2 MiB pages at guest/abi.h's
 * page-table addresses; top a multiple of 1 GiB. Returns the CR3 value. */
int loader_identity_map(struct loader_ctx *ctx, u64 top, u64 *cr3);
/* The identity map's end for this RAM: >= 4 GiB and 1 GiB above RAM. */
u64 loader_map_top(const struct loader_ctx *ctx);

/* Write helper that fills ctx->err on failure. */
int loader_put(struct loader_ctx *ctx, u64 gpa, const void *src, size_t len, const char *what);
__printf(2, 3) int loader_fail(struct loader_ctx *ctx, const char *fmt, ...);
