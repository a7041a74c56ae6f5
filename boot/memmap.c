// SPDX-License-Identifier: MIT
#include <keel/errno.h>
#include "boot/log.h"
#include "boot/memmap.h"

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

int memmap_reserve_guest(const struct efi_ctx *ctx, const struct efi_memmap *m, u64 size,
			 hpa_t *base, u64 *align)
{
	static const u64 aligns[] = { SZ_1G, SZ_2M, SZ_4K };

	for (unsigned i = 0; i < ARRAY_SIZE(aligns); i++) {
		u64 start = find_aligned(m, size, aligns[i]);

		if (!start)
			continue;
		if (efi_reserve_pages(ctx, size / PAGE_SIZE, &start, true)) {
			log_debug("keel: guest memory at 0x%llx refused, trying less alignment\n",
				  (unsigned long long)start);
			continue;
		}
		*base = HPA(start);
		*align = aligns[i];
		return 0;
	}
	return -ENOMEM;
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
