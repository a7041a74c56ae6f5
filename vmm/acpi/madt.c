// SPDX-License-Identifier: MIT
/*
 * The MADT: one enabled local APIC per vCPU (ACPI processor UID = APIC ID
 * = vCPU number), the I/O APIC at PLAT_IOAPIC_BASE with GSI base 0, the
 * two interrupt source overrides of a PC (ISA IRQ 0 -> GSI 2, edge; the SCI
 * on IRQ 9, level, active high), and LINT1 as NMI on every processor.
 */
#include "vmm/dev/layout.h"
#include "vmm/acpi/tables.h"

#define MADT_REVISION 5
#define MADT_ALL_PROCESSORS 0xff
#define MADT_NMI_LINT 1

static void add(struct acpi_buf *b, const void *entry, size_t len)
{
	u64 gpa;
	u8 *p = acpi_alloc(b, len, 1, &gpa);

	if (p)
		for (size_t i = 0; i < len; i++)
			p[i] = ((const u8 *)entry)[i];
}

u64 acpi_build_madt(struct acpi_buf *b, const struct acpi_config *c)
{
	u64 gpa;
	struct acpi_madt *m = acpi_alloc(b, sizeof(*m), 8, &gpa);
	const struct madt_ioapic io = { MADT_IOAPIC, sizeof(io), PLAT_IOAPIC_ID, 0,
					(u32)PLAT_IOAPIC_BASE, 0 };
	const struct madt_iso pit = { MADT_ISO, sizeof(pit), 0, PLAT_IRQ_PIT, PLAT_GSI_PIT, 0 };
	const struct madt_iso sci = { MADT_ISO, sizeof(sci), 0, PLAT_IRQ_SCI, PLAT_IRQ_SCI,
				      MPS_POLARITY_HIGH | MPS_TRIGGER_LEVEL };
	const struct madt_lapic_nmi nmi = { MADT_LAPIC_NMI, sizeof(nmi), MADT_ALL_PROCESSORS, 0,
					    MADT_NMI_LINT };

	if (!m || c->nr_vcpus > PLAT_MAX_VCPUS)
		return 0;
	m->lapic_address = (u32)PLAT_LAPIC_BASE;
	m->flags = MADT_PCAT_COMPAT;
	for (unsigned i = 0; i < c->nr_vcpus; i++) {
		const struct madt_lapic l = { MADT_LAPIC, sizeof(l), (u8)i, (u8)i,
					      MADT_LAPIC_ENABLED };

		add(b, &l, sizeof(l));
	}
	add(b, &io, sizeof(io));
	add(b, &pit, sizeof(pit));
	add(b, &sci, sizeof(sci));
	add(b, &nmi, sizeof(nmi));
	if (b->overflow)
		return 0;
	acpi_header_init(&m->h, "APIC", (u32)(b->base + b->used - gpa), MADT_REVISION);
	acpi_header_seal(&m->h);
	return gpa;
}
