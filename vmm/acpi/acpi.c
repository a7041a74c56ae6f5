// SPDX-License-Identifier: MIT
/*
 * Laying out Keel's ACPI tables: the RSDP first (at the area's base, so the
 * 16-byte-aligned legacy scan of 0xe0000-0xfffff finds it), then DSDT,
 * FACS (64-byte aligned), FADT, MADT, and the XSDT and RSDT that list FADT
 * and MADT. Every table is checksummed when it is complete.
 */
#include <keel/errno.h>
#include <keel/string.h>
#include "vmm/acpi/tables.h"

#define ACPI_RSDP_REVISION 2

u8 acpi_checksum(const void *p, size_t len)
{
	const u8 *b = p;
	u8 sum = 0;

	for (size_t i = 0; i < len; i++)
		sum = (u8)(sum + b[i]);
	return (u8)-sum;
}

void *acpi_alloc(struct acpi_buf *b, size_t len, size_t align, u64 *gpa)
{
	size_t at = (size_t)ALIGN_UP(b->used, align);

	*gpa = 0;
	if (b->overflow || at > b->size || len > b->size - at) {
		b->overflow = true;
		return NULL;
	}
	memset(b->buf + at, 0, len);
	b->used = at + len;
	*gpa = b->base + at;
	return b->buf + at;
}

void acpi_header_init(struct acpi_header *h, const char *sig, u32 len, u8 rev)
{
	memcpy(h->signature, sig, 4);
	h->length = len;
	h->revision = rev;
	memcpy(h->oem_id, ACPI_OEM_ID, 6);
	memcpy(h->oem_table_id, ACPI_OEM_TABLE_ID, 8);
	h->oem_revision = 1;
	memcpy(h->creator_id, ACPI_CREATOR_ID, 4);
	h->creator_revision = 1;
}

void acpi_header_seal(struct acpi_header *h)
{
	h->checksum = 0;
	h->checksum = acpi_checksum(h, h->length);
}

/* XSDT (64-bit entries) or RSDT (32-bit entries) listing 'n' tables. */
static u64 build_sdt(struct acpi_buf *b, bool wide, const u64 *tables, unsigned n)
{
	size_t esize = wide ? 8 : 4;
	u32 len = (u32)(sizeof(struct acpi_header) + n * esize);
	u64 gpa;
	u8 *t = acpi_alloc(b, len, 8, &gpa);

	if (!t)
		return 0;
	acpi_header_init((struct acpi_header *)t, wide ? "XSDT" : "RSDT", len, 1);
	for (unsigned i = 0; i < n; i++) {
		u8 *e = t + sizeof(struct acpi_header) + i * esize;

		for (size_t k = 0; k < esize; k++)
			e[k] = (u8)(tables[i] >> (8 * k));
	}
	acpi_header_seal((struct acpi_header *)t);
	return gpa;
}

long acpi_build(const struct acpi_config *c, u8 *buf, size_t size, u64 base)
{
	struct acpi_buf b = { buf, size, 0, base, false };
	u64 rsdp_gpa, dsdt, facs, list[2];
	struct acpi_rsdp *rsdp = acpi_alloc(&b, sizeof(*rsdp), 16, &rsdp_gpa);
	u64 xsdt, rsdt;

	if (!rsdp || !c->nr_vcpus)
		return -E2BIG;
	dsdt = acpi_build_dsdt(&b);
	facs = acpi_build_facs(&b);
	list[0] = acpi_build_fadt(&b, facs, dsdt);
	list[1] = acpi_build_madt(&b, c);
	xsdt = build_sdt(&b, true, list, 2);
	rsdt = build_sdt(&b, false, list, 2);
	if (b.overflow || !dsdt || !facs || !list[0] || !list[1] || !xsdt || !rsdt ||
	    rsdt >= (1ull << 32))
		return -E2BIG;
	memcpy(rsdp->signature, "RSD PTR ", 8);
	memcpy(rsdp->oem_id, ACPI_OEM_ID, 6);
	rsdp->revision = ACPI_RSDP_REVISION;
	rsdp->rsdt = (u32)rsdt;
	rsdp->length = sizeof(*rsdp);
	rsdp->xsdt = xsdt;
	rsdp->checksum = acpi_checksum(rsdp, 20);
	rsdp->ext_checksum = acpi_checksum(rsdp, sizeof(*rsdp));
	return (long)b.used;
}
