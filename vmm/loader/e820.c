// SPDX-License-Identifier: MIT
/*
 * The guest's memory map, the one source for the Linux zero page's e820
 * table and the Multiboot memory map: every RAM range, with the EBDA and
 * the BIOS area (VGA hole, ACPI tables, BIOS ROM) taken out of low RAM
 * (vmm/dev/layout.h). Keel's RAM memslot backs [0, 1 MiB) completely; the
 * guest is told that only [0, PLAT_LOW_RAM_END) of it is free RAM.
 */
#include "vmm/dev/layout.h"
#include "vmm/loader/loader.h"

static unsigned add(struct e820_entry *out, unsigned n, unsigned max, u64 addr, u64 end,
		    u32 type)
{
	if (end <= addr || n == max)
		return n;
	out[n] = (struct e820_entry){ addr, end - addr, type };
	return n + 1;
}

unsigned loader_e820(const struct loader_ctx *ctx, struct e820_entry *out, unsigned max)
{
	unsigned n = 0;
	bool bios_done = false;

	for (unsigned i = 0; i < ctx->nr_ram; i++) {
		u64 base = ctx->ram[i].base, end = base + ctx->ram[i].size;

		if (base < PLAT_LOW_RAM_END)
			n = add(out, n, max, base, MIN(end, PLAT_LOW_RAM_END), E820_RAM);
		if (!bios_done && end > PLAT_LOW_RAM_END) {
			n = add(out, n, max, PLAT_EBDA_BASE, PLAT_BIOS_AREA_BASE, E820_RESERVED);
			n = add(out, n, max, PLAT_ACPI_BASE, PLAT_HIGH_MEM_BASE, E820_RESERVED);
			bios_done = true;
		}
		n = add(out, n, max, MAX(base, PLAT_HIGH_MEM_BASE), end, E820_RAM);
	}
	return n;
}
