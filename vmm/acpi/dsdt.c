// SPDX-License-Identifier: MIT
/*
 * The DSDT, written in AML by aml.c: the one object an OS needs from
 * Keel's platform, \_S5 (soft off), whose SLP_TYP is what PM1a_CNT
 * understands as poweroff:
 *   DefinitionBlock ("", "DSDT", 2, "KEEL  ", "KEELPLAT", 1)
 *   { Name (\_S5, Package (4) { PLAT_SLP_TYP_S5, 0, 0, 0 }) }
 * Revision 2: integers are 64-bit.
 */
#include <keel/string.h>
#include "vmm/dev/layout.h"
#include "vmm/acpi/aml.h"
#include "vmm/acpi/tables.h"

#define DSDT_REVISION 2

static void dsdt_body(struct aml *body)
{
	struct aml elems, pkg;

	aml_init(&elems);
	aml_int(&elems, PLAT_SLP_TYP_S5); /* PM1a_CNT.SLP_TYP */
	aml_int(&elems, 0);               /* PM1b_CNT.SLP_TYP (no PM1b) */
	aml_int(&elems, 0);               /* reserved */
	aml_int(&elems, 0);
	aml_init(&pkg);
	aml_package(&pkg, 4, &elems);
	aml_init(body);
	aml_name(body, "\\_S5_", &pkg);
}

u64 acpi_build_dsdt(struct acpi_buf *b)
{
	static struct aml body;
	struct acpi_header *h;
	u64 gpa;

	dsdt_body(&body);
	if (body.overflow)
		return 0;
	h = acpi_alloc(b, sizeof(*h) + body.len, 8, &gpa);
	if (!h)
		return 0;
	acpi_header_init(h, "DSDT", (u32)(sizeof(*h) + body.len), DSDT_REVISION);
	memcpy(h + 1, body.b, body.len);
	acpi_header_seal(h);
	return gpa;
}
