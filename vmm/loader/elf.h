/* SPDX-License-Identifier: MIT */
/*
 * ELF executables as loaders read them: the ELF32 or ELF64 header and its
 * PT_LOAD program headers, every offset and size checked against the file
 * before it is used (elf.c). Only what a boot loader needs.
 */
#pragma once

#include <keel/types.h>

#define ELF_MAX_SEGMENTS 16

struct elf_segment {
	u64 file_off, file_size; /* bytes taken from the file */
	u64 paddr, vaddr, mem_size; /* the rest up to mem_size is zero */
};

struct elf_image {
	bool is64;
	u16 machine;
	u64 entry;
	unsigned nr_segments;
	struct elf_segment seg[ELF_MAX_SEGMENTS];
};

#define ELF_EM_386 3
#define ELF_EM_X86_64 62

/* Parse an executable (ET_EXEC) of either class. 0, or -EINVAL with why[]
 * filled (a hostile file gets an error, never an out-of-bounds read). */
int elf_parse(const void *file, size_t size, struct elf_image *out, char *why, size_t len);
