// SPDX-License-Identifier: MIT
/* ELF32/ELF64 executable headers and PT_LOAD segments, bounds-checked. */
#include <keel/errno.h>
#include <keel/string.h>
#include "vmm/loader/elf.h"

#define EI_CLASS 4
#define EI_DATA 5
#define EI_VERSION 6
#define ELFCLASS32 1
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define ET_EXEC 2
#define PT_LOAD 1

static u16 rd16(const u8 *p) { return (u16)(p[0] | p[1] << 8); }
static u32 rd32(const u8 *p) { return (u32)rd16(p) | (u32)rd16(p + 2) << 16; }
static u64 rd64(const u8 *p) { return (u64)rd32(p) | (u64)rd32(p + 4) << 32; }

/* Field layout of the two classes. */
struct elf_layout {
	unsigned ehsize, phentsize;
	unsigned e_entry, e_phoff, e_phentsize, e_phnum;
	unsigned p_type, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz;
	bool wide;
};

static const struct elf_layout elf32 = {
	52, 32, 24, 28, 42, 44, 0, 4, 8, 12, 16, 20, false,
};
static const struct elf_layout elf64 = {
	64, 56, 24, 32, 54, 56, 0, 8, 16, 24, 32, 40, true,
};

static u64 word(const struct elf_layout *l, const u8 *p)
{
	return l->wide ? rd64(p) : rd32(p);
}

static int fail(char *why, size_t len, const char *msg)
{
	snprintf(why, len, "ELF: %s", msg);
	return -EINVAL;
}

static int parse_segment(const struct elf_layout *l, const u8 *ph, size_t size,
			 struct elf_image *out, char *why, size_t len)
{
	struct elf_segment s = {
		.file_off = word(l, ph + l->p_offset),
		.file_size = word(l, ph + l->p_filesz),
		.vaddr = word(l, ph + l->p_vaddr),
		.paddr = word(l, ph + l->p_paddr),
		.mem_size = word(l, ph + l->p_memsz),
	};

	if (rd32(ph + l->p_type) != PT_LOAD || !s.mem_size)
		return 0;
	if (s.file_size > s.mem_size)
		return fail(why, len, "a segment's file size exceeds its memory size");
	if (s.file_off > size || s.file_size > size - s.file_off)
		return fail(why, len, "a segment's bytes lie outside the file");
	if (s.paddr + s.mem_size < s.paddr || s.vaddr + s.mem_size < s.vaddr)
		return fail(why, len, "a segment wraps around the address space");
	if (out->nr_segments == ELF_MAX_SEGMENTS)
		return fail(why, len, "more than 16 loadable segments");
	out->seg[out->nr_segments++] = s;
	return 0;
}

int elf_parse(const void *file, size_t size, struct elf_image *out, char *why, size_t len)
{
	const u8 *b = file;
	const struct elf_layout *l;
	u64 phoff;
	unsigned phnum, phent;

	memset(out, 0, sizeof(*out));
	if (size < 16 || memcmp(b, "\177ELF", 4))
		return fail(why, len, "no ELF magic");
	if (b[EI_CLASS] != ELFCLASS32 && b[EI_CLASS] != ELFCLASS64)
		return fail(why, len, "neither ELF32 nor ELF64");
	l = b[EI_CLASS] == ELFCLASS64 ? &elf64 : &elf32;
	if (b[EI_DATA] != ELFDATA2LSB || b[EI_VERSION] != 1)
		return fail(why, len, "not a little-endian version-1 file");
	if (size < l->ehsize)
		return fail(why, len, "file shorter than its header");
	if (rd16(b + 16) != ET_EXEC)
		return fail(why, len, "not an executable (ET_EXEC)");
	out->is64 = l->wide;
	out->machine = rd16(b + 18);
	out->entry = word(l, b + l->e_entry);
	phoff = word(l, b + l->e_phoff);
	phent = rd16(b + l->e_phentsize);
	phnum = rd16(b + l->e_phnum);
	if (!phnum)
		return fail(why, len, "no program headers");
	if (phent < l->phentsize)
		return fail(why, len, "program header entries too small");
	if (phoff > size || (u64)phnum * phent > size - phoff)
		return fail(why, len, "program headers lie outside the file");
	for (unsigned i = 0; i < phnum; i++) {
		int r = parse_segment(l, b + phoff + (u64)i * phent, size, out, why, len);

		if (r)
			return r;
	}
	if (!out->nr_segments)
		return fail(why, len, "no loadable segment");
	for (unsigned i = 0; i < out->nr_segments; i++) {
		for (unsigned j = i + 1; j < out->nr_segments; j++) {
			const struct elf_segment *x = &out->seg[i], *y = &out->seg[j];

			if (x->paddr < y->paddr + y->mem_size && y->paddr < x->paddr + x->mem_size)
				return fail(why, len, "loadable segments overlap");
		}
	}
	return 0;
}
