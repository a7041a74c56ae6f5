// SPDX-License-Identifier: MIT
/*
 * Hosted tests of the loaders: format detection, the memory map, the flat
 * ABI, a synthetic bzImage through the boot protocol, Multiboot ELF32 and
 * ELF64 kernels with modules, and hostile images that must be refused with
 * a reason (never loaded out of bounds).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include <keel/errno.h>
#include "guest/abi.h"
#include "vmm/dev/layout.h"
#include "vmm/loader/loader.h"
#include "vmm/loader/multiboot.h"

#define MEM_SIZE (64ull << 20)

static u8 *guest; /* guest-physical [0, MEM_SIZE) */

static int write_mem(void *mem, u64 gpa, const void *src, size_t len)
{
	if (gpa + len > MEM_SIZE || gpa + len < gpa)
		return -EFAULT;
	memcpy((u8 *)mem + gpa, src, len);
	return 0;
}

static void ctx_setup(struct loader_ctx *c, const void *image, size_t size)
{
	memset(c, 0, sizeof(*c));
	c->write = write_mem;
	c->mem = guest;
	c->ram[0] = (struct mem_range){ 0, MEM_SIZE };
	c->nr_ram = 1;
	c->mem_size = MEM_SIZE;
	c->rsdp_gpa = PLAT_ACPI_BASE;
	c->name = "\\keel\\kernel.elf";
	c->image = image;
	c->image_size = size;
	c->cmdline = "";
	c->fail_test = "";
}

static void ctx_init(struct loader_ctx *c, const void *image, size_t size)
{
	memset(guest, 0, MEM_SIZE);
	ctx_setup(c, image, size);
}

static u32 rd32(u64 gpa)
{
	u32 v;

	memcpy(&v, guest + gpa, 4);
	return v;
}

static u64 rd64(u64 gpa)
{
	u64 v;

	memcpy(&v, guest + gpa, 8);
	return v;
}

static void test_e820(void **state)
{
	struct loader_ctx c;
	struct e820_entry e[LOADER_E820_MAX];
	unsigned n;

	ctx_init(&c, NULL, 0);
	n = loader_e820(&c, e, LOADER_E820_MAX);
	assert_int_equal(n, 4);
	assert_true(e[0].addr == 0 && e[0].size == PLAT_LOW_RAM_END && e[0].type == E820_RAM);
	assert_true(e[1].addr == PLAT_EBDA_BASE && e[1].type == E820_RESERVED);
	assert_true(e[2].addr == PLAT_ACPI_BASE && e[2].addr + e[2].size == PLAT_HIGH_MEM_BASE);
	assert_true(e[3].addr == PLAT_HIGH_MEM_BASE && e[3].addr + e[3].size == MEM_SIZE);
	/* 5 GiB: low RAM to the PCI hole, the rest from 4 GiB. */
	c.ram[0].size = PLAT_PCI_HOLE_BASE;
	c.ram[1] = (struct mem_range){ PLAT_HIGH_RAM_BASE, 5 * SZ_1G - PLAT_PCI_HOLE_BASE };
	c.nr_ram = 2;
	n = loader_e820(&c, e, LOADER_E820_MAX);
	assert_int_equal(n, 5);
	assert_true(e[3].addr + e[3].size == PLAT_PCI_HOLE_BASE);
	assert_true(e[4].addr == PLAT_HIGH_RAM_BASE && e[4].type == E820_RAM);
	assert_int_equal(loader_map_top(&c), PLAT_HIGH_RAM_BASE + 3 * SZ_1G);
	assert_int_equal(loader_low_ram_end(&c), PLAT_PCI_HOLE_BASE);
}

static void test_flat(void **state)
{
	static const u8 image[] = { 0xf4, 0xeb, 0xfe };
	struct loader_ctx c;

	ctx_init(&c, image, sizeof(image));
	c.fail_test = "ram";
	assert_int_equal(loader_detect(image, sizeof(image)), LOADER_FLAT);
	assert_int_equal(loader_load(&c, LOADER_AUTO), 0);
	assert_int_equal(c.entry.mode, ENTRY_LONG64);
	assert_int_equal(c.entry.rip, KEEL_GUEST_LOAD_GPA);
	assert_int_equal(c.entry.rdi, MEM_SIZE);
	assert_int_equal(c.entry.rdx, 4 * SZ_1G);
	assert_int_equal(c.entry.cr3, KEEL_GUEST_PML4_GPA);
	assert_memory_equal(guest + KEEL_GUEST_LOAD_GPA, image, sizeof(image));
	assert_string_equal((char *)guest + c.entry.rsi, "ram");
	/* PML4[0] -> PDPT, PDPT[3] -> fourth PD, which maps 3 GiB + 2 MiB at [1]. */
	assert_int_equal(rd64(KEEL_GUEST_PML4_GPA) & ~0xfffull, KEEL_GUEST_PDPT_GPA);
	assert_int_equal(rd64(KEEL_GUEST_PDPT_GPA + 3 * 8) & ~0xfffull, KEEL_GUEST_PD_GPA + 0x3000);
	assert_int_equal(rd64(KEEL_GUEST_PD_GPA + 0x3000 + 8), 3 * SZ_1G + SZ_2M + 0x83);
	/* Flat images take no initrd, modules or command line. */
	c.initrd.size = 1;
	assert_int_equal(loader_load(&c, LOADER_FLAT), -EINVAL);
	assert_non_null(strstr(c.err, "initrd"));
}

/* ---- a synthetic bzImage ---- */
static u8 bz[0x3000];

static void wr16(u8 *p, u16 v) { memcpy(p, &v, 2); }
static void wr32(u8 *p, u32 v) { memcpy(p, &v, 4); }
static void wr64(u8 *p, u64 v) { memcpy(p, &v, 8); }

static void make_bzimage(u16 version)
{
	memset(bz, 0, sizeof(bz));
	bz[0x1f1] = 1;                      /* setup_sects: kernel at 0x400 */
	wr16(bz + 0x1fe, 0xaa55);
	bz[0x200] = 0xeb;
	bz[0x201] = 0x6a;                   /* header ends at 0x26c */
	memcpy(bz + 0x202, "HdrS", 4);
	wr16(bz + 0x206, version);
	bz[0x211] = 1;                      /* LOADED_HIGH */
	wr32(bz + 0x22c, 0x37ffffff);       /* initrd_addr_max */
	wr32(bz + 0x230, 0x200000);         /* kernel_alignment */
	bz[0x234] = 1;                      /* relocatable */
	wr16(bz + 0x236, 0x3);              /* XLF_KERNEL_64 | CAN_BE_LOADED_ABOVE_4G */
	wr32(bz + 0x238, 2047);             /* cmdline_size */
	wr64(bz + 0x258, 0x1000000);        /* pref_address */
	wr32(bz + 0x260, 0x800000);         /* init_size */
	memset(bz + 0x400, 0xcc, sizeof(bz) - 0x400);
}

static void test_linux(void **state)
{
	static const u8 initrd[5000] = { 1, 2, 3 };
	struct loader_ctx c;
	u64 zp, rd;

	make_bzimage(0x020f);
	ctx_init(&c, bz, sizeof(bz));
	c.cmdline = "console=ttyS0 keel.test=1";
	c.initrd = (struct loader_file){ initrd, sizeof(initrd), "" };
	assert_int_equal(loader_detect(bz, sizeof(bz)), LOADER_LINUX);
	assert_int_equal(loader_load(&c, LOADER_AUTO), 0);
	assert_int_equal(c.entry.mode, ENTRY_LONG64);
	assert_int_equal(c.entry.rip, 0x1000200);
	assert_int_equal(c.entry.cs, 0x10);
	assert_int_equal(c.entry.ds, 0x18);
	assert_int_equal(rd64(c.entry.gdt_base + 0x10), 0x00af9b000000ffffull);
	zp = c.entry.rsi;
	assert_memory_equal(guest + 0x1000000, bz + 0x400, sizeof(bz) - 0x400);
	assert_memory_equal(guest + zp + 0x202, "HdrS", 4);
	assert_int_equal(guest[zp + 0x210], 0xff);           /* type_of_loader */
	assert_int_equal(rd64(zp + 0x70), PLAT_ACPI_BASE);    /* acpi_rsdp_addr */
	assert_string_equal((char *)guest + rd32(zp + 0x228), c.cmdline);
	/* With a known TSC rate, tsc_early_khz= is added unless given. */
	c.tsc_khz = 2345678;
	assert_int_equal(loader_load(&c, LOADER_LINUX), 0);
	assert_string_equal((char *)guest + rd32(c.entry.rsi + 0x228),
			    "console=ttyS0 keel.test=1 tsc_early_khz=2345678");
	c.cmdline = "tsc_early_khz=1000 quiet";
	assert_int_equal(loader_load(&c, LOADER_LINUX), 0);
	assert_string_equal((char *)guest + rd32(c.entry.rsi + 0x228), c.cmdline);
	c.cmdline = "console=ttyS0 keel.test=1";
	c.tsc_khz = 0;
	assert_int_equal(loader_load(&c, LOADER_LINUX), 0);
	rd = rd32(zp + 0x218);
	assert_int_equal(rd32(zp + 0x21c), sizeof(initrd));
	assert_true(rd % PAGE_SIZE == 0 && rd + sizeof(initrd) <= MEM_SIZE);
	assert_true(rd >= 0x1000000 + 0x800000);
	assert_memory_equal(guest + rd, initrd, sizeof(initrd));
	assert_int_equal(guest[zp + 0x1e8], 4);               /* e820 entries */
	assert_int_equal(rd64(zp + 0x2d0 + 3 * 20), PLAT_HIGH_MEM_BASE);
	assert_int_equal(rd32(zp + 0x2d0 + 1 * 20 + 16), E820_RESERVED);
	/* The identity map covers the kernel and the initrd. */
	assert_int_equal(rd64(KEEL_GUEST_PD_GPA + 8 * 8), 0x1000000 + 0x83);
}

static void test_linux_refusals(void **state)
{
	struct loader_ctx c;
	char longline[3000];

	make_bzimage(0x020b);
	ctx_init(&c, bz, sizeof(bz));
	assert_int_equal(loader_load(&c, LOADER_AUTO), -EINVAL);
	assert_non_null(strstr(c.err, "2.12"));
	make_bzimage(0x020f);
	wr16(bz + 0x236, 0);
	ctx_init(&c, bz, sizeof(bz));
	assert_int_equal(loader_load(&c, LOADER_LINUX), -EINVAL);
	assert_non_null(strstr(c.err, "64-bit"));
	make_bzimage(0x020f);
	memset(longline, 'x', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\0';
	ctx_init(&c, bz, sizeof(bz));
	c.cmdline = longline;
	assert_int_equal(loader_load(&c, LOADER_LINUX), -EINVAL);
	assert_non_null(strstr(c.err, "cmdline"));
	/* init_size larger than RAM. */
	make_bzimage(0x020f);
	wr32(bz + 0x260, 0x8000000);
	ctx_init(&c, bz, sizeof(bz));
	assert_int_equal(loader_load(&c, LOADER_LINUX), -EINVAL);
	/* Setup sectors beyond the file. */
	make_bzimage(0x020f);
	bz[0x1f1] = 200;
	ctx_init(&c, bz, sizeof(bz));
	assert_int_equal(loader_load(&c, LOADER_LINUX), -EINVAL);
	/* A flat image is not a bzImage. */
	ctx_init(&c, "abc", 3);
	assert_int_equal(loader_load(&c, LOADER_LINUX), -EINVAL);
}

/* ---- Multiboot ELF kernels ---- */
static u8 elf[0x3000];

/* A kernel with its header at 0x100 of a PT_LOAD segment at paddr 0x200000
 * (vaddr 0xc0200000 for ELF64, to test the entry translation). */
static size_t make_elf(bool is64, u64 paddr, u64 memsz)
{
	u32 flags = MB_HF_PAGE_ALIGN | MB_HF_MEMORY_INFO;
	size_t ph, phsz = is64 ? 56 : 32, ehsz = is64 ? 64 : 52;
	u64 vaddr = is64 ? paddr + 0xc0000000ull : paddr;

	memset(elf, 0, sizeof(elf));
	memcpy(elf, "\177ELF", 4);
	elf[4] = is64 ? 2 : 1;
	elf[5] = 1;
	elf[6] = 1;
	wr16(elf + 16, 2);
	wr16(elf + 18, is64 ? 62 : 3);
	ph = ehsz;
	if (is64) {
		wr64(elf + 24, vaddr + 0x200);
		wr64(elf + 32, ph);
		wr16(elf + 54, (u16)phsz);
		wr16(elf + 56, 1);
		wr32(elf + ph, 1);
		wr64(elf + ph + 8, 0x1000);
		wr64(elf + ph + 16, vaddr);
		wr64(elf + ph + 24, paddr);
		wr64(elf + ph + 32, 0x1000);
		wr64(elf + ph + 40, memsz);
	} else {
		wr32(elf + 24, (u32)vaddr + 0x200);
		wr32(elf + 28, (u32)ph);
		wr16(elf + 42, (u16)phsz);
		wr16(elf + 44, 1);
		wr32(elf + ph, 1);
		wr32(elf + ph + 4, 0x1000);
		wr32(elf + ph + 8, (u32)vaddr);
		wr32(elf + ph + 12, (u32)paddr);
		wr32(elf + ph + 16, 0x1000);
		wr32(elf + ph + 20, (u32)memsz);
	}
	wr32(elf + 0x1000 + 0x100, MB_HEADER_MAGIC);
	wr32(elf + 0x1000 + 0x104, flags);
	wr32(elf + 0x1000 + 0x108, -(MB_HEADER_MAGIC + flags));
	memset(elf + 0x1200, 0x90, 16);
	return sizeof(elf) - 0x1000;
}

static void check_multiboot(bool is64)
{
	static const char m0[] = "module zero", m1[] = "first module data";
	struct loader_ctx c;
	struct mb_info info;
	struct mb_module mods[2];
	u64 end = 0x200000 + 0x3000;

	make_elf(is64, 0x200000, 0x3000);
	ctx_init(&c, elf, 0x2000);
	c.cmdline = "x=1 y";
	c.modules[0] = (struct loader_file){ m0, sizeof(m0), "\\keel\\m0 arg" };
	c.modules[1] = (struct loader_file){ m1, sizeof(m1), "\\keel\\m1" };
	c.nr_modules = 2;
	assert_int_equal(loader_detect(elf, 0x2000), LOADER_MULTIBOOT);
	assert_int_equal(loader_load(&c, LOADER_AUTO), 0);
	assert_int_equal(c.entry.mode, ENTRY_PROT32);
	assert_int_equal(c.entry.rax, MB_BOOT_MAGIC);
	assert_int_equal(c.entry.rip, 0x200200);
	assert_int_equal(guest[0x200200], 0x90);
	assert_int_equal(guest[0x202000], 0);                  /* bss */
	assert_true(c.entry.rbx >= end && c.entry.rbx + sizeof(info) <= MEM_SIZE);
	memcpy(&info, guest + c.entry.rbx, sizeof(info));
	assert_int_equal(info.flags & (MB_INFO_MEMORY | MB_INFO_CMDLINE | MB_INFO_MODS |
				       MB_INFO_MMAP | MB_INFO_LOADER_NAME),
			 MB_INFO_MEMORY | MB_INFO_CMDLINE | MB_INFO_MODS | MB_INFO_MMAP |
				 MB_INFO_LOADER_NAME);
	assert_int_equal(info.mem_lower, 639);
	assert_int_equal(info.mem_upper, (MEM_SIZE >> 10) - 1024);
	assert_string_equal((char *)guest + info.cmdline, "\\keel\\kernel.elf x=1 y");
	assert_string_equal((char *)guest + info.boot_loader_name, "Keel");
	assert_int_equal(info.mods_count, 2);
	memcpy(mods, guest + info.mods_addr, sizeof(mods));
	assert_true(mods[0].mod_start % PAGE_SIZE == 0 && mods[0].mod_start >= end);
	assert_int_equal(mods[0].mod_end - mods[0].mod_start, sizeof(m0));
	assert_memory_equal(guest + mods[1].mod_start, m1, sizeof(m1));
	assert_string_equal((char *)guest + mods[0].string, "\\keel\\m0 arg");
	assert_int_equal(info.mmap_length, 4 * 24);
	assert_int_equal(rd32(info.mmap_addr), 20);
	assert_int_equal(rd64(info.mmap_addr + 3 * 24 + 4), PLAT_HIGH_MEM_BASE);
}

static void test_multiboot_elf32(void **state)
{
	check_multiboot(false);
}

static void test_multiboot_elf64(void **state)
{
	check_multiboot(true);
}

static int load_bad(u64 paddr, u64 memsz, const char *expect)
{
	struct loader_ctx c;
	int r;

	make_elf(false, paddr, memsz);
	ctx_init(&c, elf, 0x2000);
	r = loader_load(&c, LOADER_MULTIBOOT);
	if (expect && !strstr(c.err, expect))
		fail_msg("error \"%s\" lacks \"%s\"", c.err, expect);
	return r;
}

/* A kernel below the EBDA: its boot information still goes above 1 MiB. */
static void test_multiboot_low_kernel(void **state)
{
	struct loader_ctx c;

	make_elf(false, 0x10000, 0x3000);
	ctx_init(&c, elf, 0x2000);
	assert_int_equal(loader_load(&c, LOADER_MULTIBOOT), 0);
	assert_true(c.entry.rbx >= PLAT_HIGH_MEM_BASE);
	assert_int_equal(c.entry.rip, 0x10200);
}

static void test_multiboot_hostile(void **state)
{
	struct loader_ctx c;

	assert_int_equal(load_bad(0, 0x3000, "page 0"), -EINVAL);
	assert_int_equal(load_bad(0x9f000, 0x3000, "BIOS area"), -EINVAL);
	assert_int_equal(load_bad(0xfffff000, 0x3000, "4 GiB"), -EINVAL);
	assert_int_equal(load_bad(MEM_SIZE - 0x1000, 0x3000, "not in guest RAM"), -EINVAL);
	assert_int_equal(load_bad(0x200000, 0x800, "file size exceeds"), -EINVAL);
	/* Segment bytes beyond the file. */
	make_elf(false, 0x200000, 0x3000);
	wr32(elf + 52 + 4, 0x7fff0000);
	ctx_init(&c, elf, 0x2000);
	assert_int_equal(loader_load(&c, LOADER_MULTIBOOT), -EINVAL);
	assert_non_null(strstr(c.err, "outside the file"));
	/* Program headers beyond the file. */
	make_elf(false, 0x200000, 0x3000);
	wr16(elf + 44, 0xffff);
	ctx_init(&c, elf, 0x2000);
	assert_int_equal(loader_load(&c, LOADER_MULTIBOOT), -EINVAL);
	/* Entry point in no segment. */
	make_elf(false, 0x200000, 0x3000);
	wr32(elf + 24, 0x900000);
	ctx_init(&c, elf, 0x2000);
	assert_int_equal(loader_load(&c, LOADER_MULTIBOOT), -EINVAL);
	assert_non_null(strstr(c.err, "entry"));
	/* A required header feature Keel does not know. */
	make_elf(false, 0x200000, 0x3000);
	wr32(elf + 0x1104, 0x8);
	wr32(elf + 0x1108, -(MB_HEADER_MAGIC + 0x8));
	ctx_init(&c, elf, 0x2000);
	assert_int_equal(loader_load(&c, LOADER_MULTIBOOT), -EINVAL);
	/* Not ELF at all. */
	make_elf(false, 0x200000, 0x3000);
	elf[0] = 0;
	ctx_init(&c, elf, 0x2000);
	assert_int_equal(loader_load(&c, LOADER_MULTIBOOT), -EINVAL);
	/* Modules that do not fit RAM. */
	make_elf(false, 0x200000, 0x3000);
	ctx_init(&c, elf, 0x2000);
	c.modules[0] = (struct loader_file){ guest, MEM_SIZE, "big" };
	c.nr_modules = 1;
	assert_int_equal(loader_load(&c, LOADER_MULTIBOOT), -EINVAL);
	assert_non_null(strstr(c.err, "do not fit"));
}

/* Random corruptions of a valid kernel: refused or loaded, never a crash
 * (ASan checks the bounds). */
static void test_multiboot_fuzz(void **state)
{
	srand(7);
	for (int i = 0; i < 2000; i++) {
		struct loader_ctx c;
		size_t len = 0x2000;

		make_elf(i & 1, 0x200000, 0x3000);
		for (int k = 0; k < 4; k++)
			elf[rand() % 0x100] = (u8)rand();
		ctx_setup(&c, elf, len); /* guest memory is not cleared: not checked */
		(void)loader_load(&c, LOADER_MULTIBOOT);
	}
}

static int setup(void **state)
{
	guest = malloc(MEM_SIZE);
	return guest ? 0 : -1;
}

static int teardown(void **state)
{
	free(guest);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_e820),
		cmocka_unit_test(test_flat),
		cmocka_unit_test(test_linux),
		cmocka_unit_test(test_linux_refusals),
		cmocka_unit_test(test_multiboot_elf32),
		cmocka_unit_test(test_multiboot_elf64),
		cmocka_unit_test(test_multiboot_low_kernel),
		cmocka_unit_test(test_multiboot_hostile),
		cmocka_unit_test(test_multiboot_fuzz),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
