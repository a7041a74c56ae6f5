// SPDX-License-Identifier: MIT
#include <keel/errno.h>
#include "rt/log.h"
#include "boot/memmap.h"
#include "vmm/dev/layout.h"

_Static_assert(PLAT_PCI_HOLE_BASE % SZ_1G == 0, "guest RAM is reserved in GiB pieces");

hpa_t memmap_top(const struct efi_memmap *m)
{
	u64 top = 0;

	for (UINTN i = 0; i < efi_memmap_count(m); i++) {
		const EFI_MEMORY_DESCRIPTOR *d = efi_memmap_at(m, i);

		top = MAX(top, d->PhysicalStart + d->NumberOfPages * PAGE_SIZE);
	}
	return HPA(top);
}

static bool is_free(const EFI_MEMORY_DESCRIPTOR *d)
{
	return d->Type == EfiConventionalMemory;
}

/* The end of the run of free descriptors that starts at index i (the map is
 * sorted by address; adjacent free ranges are one range to us). */
static u64 free_run_end(const struct efi_memmap *m, UINTN i, UINTN *last)
{
	const EFI_MEMORY_DESCRIPTOR *d = efi_memmap_at(m, i);
	u64 end = d->PhysicalStart + d->NumberOfPages * PAGE_SIZE;

	for (i++; i < efi_memmap_count(m); i++) {
		d = efi_memmap_at(m, i);
		if (!is_free(d) || d->PhysicalStart != end)
			break;
		end += d->NumberOfPages * PAGE_SIZE;
	}
	*last = i - 1;
	return end;
}

/* Best aligned candidate start in the map for 'size' bytes at 'align', or 0. */
static u64 find_aligned(const struct efi_memmap *m, u64 size, u64 align)
{
	for (UINTN i = 0, last; i < efi_memmap_count(m); i = last + 1) {
		const EFI_MEMORY_DESCRIPTOR *d = efi_memmap_at(m, i);
		u64 start, end;

		last = i;
		if (!is_free(d))
			continue;
		end = free_run_end(m, i, &last);
		/* Never page 0: a null host pointer is no guest memory. */
		start = ALIGN_UP(MAX(d->PhysicalStart, PAGE_SIZE), align);
		if (start + size <= end && start + size > start)
			return start;
	}
	return 0;
}

/* One host range of 'size' bytes: right after the previous one when that
 * is free (same congruence, one memslot fewer), else best alignment first.
 * The map is read afresh for each range, since each reservation changes it. */
static int reserve_range(const struct efi_ctx *ctx, u64 size, u64 after, hpa_t *out)
{
	static const u64 aligns[] = { SZ_1G, SZ_2M, SZ_4K };
	struct efi_memmap m;
	int r;

	if (after && !efi_reserve_pages(ctx, size / PAGE_SIZE, &after, true)) {
		*out = HPA(after);
		return 0;
	}
	r = efi_get_memmap(ctx, &m);
	if (r)
		return r;
	r = -ENOMEM;
	for (unsigned i = 0; i < ARRAY_SIZE(aligns) && r; i++) {
		u64 start = find_aligned(&m, size, aligns[i]);

		if (!start)
			continue;
		if (efi_reserve_pages(ctx, size / PAGE_SIZE, &start, true)) {
			log_debug("keel: host range at 0x%llx refused, trying less alignment\n",
				  (unsigned long long)start);
			continue;
		}
		*out = HPA(start);
		r = 0;
	}
	ctx->bs->FreePool(m.desc);
	return r;
}

/* Append [gpa, gpa+size) -> hpa, merging with the previous region when
 * both sides are contiguous. */
static int ram_append(struct vm_setup *s, gpa_t gpa, hpa_t hpa, u64 size)
{
	struct vm_ram_region *prev = s->nr_ram ? &s->ram[s->nr_ram - 1] : NULL;

	if (prev && prev->gpa.v + prev->size == gpa.v && prev->hpa.v + prev->size == hpa.v) {
		prev->size += size;
		return 0;
	}
	if (s->nr_ram == ARRAY_SIZE(s->ram))
		return -E2BIG;
	s->ram[s->nr_ram++] = (struct vm_ram_region){ gpa, hpa, size };
	return 0;
}

static const char *align_name(u64 a)
{
	return IS_ALIGNED(a, SZ_1G) ? "1G" : IS_ALIGNED(a, SZ_2M) ? "2M" : "4K";
}

/* The guest-physical address of byte 'off' of guest RAM: low RAM up to
 * the PCI hole, the rest from PLAT_HIGH_RAM_BASE (vmm/dev/layout.h). */
static u64 ram_gpa(u64 off)
{
	return off < PLAT_PCI_HOLE_BASE ? off : PLAT_HIGH_RAM_BASE + (off - PLAT_PCI_HOLE_BASE);
}

int memmap_reserve_guest(const struct efi_ctx *ctx, struct vm_setup *s)
{
	s->nr_ram = 0;
	for (u64 off = 0; off < s->mem_size; off += SZ_1G) {
		const struct vm_ram_region *prev = s->nr_ram ? &s->ram[s->nr_ram - 1] : NULL;
		u64 size = MIN(SZ_1G, s->mem_size - off), gpa = ram_gpa(off);
		hpa_t hpa;
		int r = reserve_range(ctx, size, prev ? prev->hpa.v + prev->size : 0, &hpa);

		if (!r)
			r = ram_append(s, GPA(gpa), hpa, size);
		if (r)
			return r;
	}
	for (unsigned i = 0; i < s->nr_ram; i++) {
		const struct vm_ram_region *g = &s->ram[i];

		log_info("keel: guest RAM gpa 0x%llx-0x%llx at host 0x%llx (%s-aligned)\n",
			 (unsigned long long)g->gpa.v, (unsigned long long)(g->gpa.v + g->size - 1),
			 (unsigned long long)g->hpa.v, align_name(g->hpa.v - g->gpa.v));
	}
	return 0;
}

static const char *type_name(UINT32 t)
{
	static const char *const names[] = {
		"reserved", "loader-code", "loader-data", "bs-code", "bs-data", "rt-code",
		"rt-data", "free", "unusable", "acpi-reclaim", "acpi-nvs", "mmio", "mmio-port",
		"pal-code", "persistent",
	};

	return t < ARRAY_SIZE(names) ? names[t] : "other";
}

void memmap_log(const struct efi_memmap *m)
{
	for (UINTN i = 0; i < efi_memmap_count(m); i++) {
		const EFI_MEMORY_DESCRIPTOR *d = efi_memmap_at(m, i);

		log_debug("keel: memmap %016llx-%016llx %s\n", (unsigned long long)d->PhysicalStart,
			  (unsigned long long)(d->PhysicalStart + d->NumberOfPages * PAGE_SIZE - 1),
			  type_name(d->Type));
	}
}
