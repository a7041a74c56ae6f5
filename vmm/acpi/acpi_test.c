// SPDX-License-Identifier: MIT
/*
 * Hosted tests of Keel's ACPI tables: every table found from the RSDP the
 * way an OS walks them (RSDP -> XSDT/RSDT -> FADT -> DSDT/FACS, MADT), with
 * checksums, lengths and contents checked; the DSDT's AML parsed back; and,
 * when iasl (acpica-tools) is installed, the tables disassembled by it
 * without errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <keel/errno.h>
#include "vmm/dev/layout.h"
#include "vmm/acpi/aml.h"
#include "vmm/acpi/tables.h"

static u8 area[PLAT_ACPI_SIZE];

static void *at(u64 gpa)
{
	assert_true(gpa >= PLAT_ACPI_BASE && gpa < PLAT_ACPI_BASE + PLAT_ACPI_SIZE);
	return area + (gpa - PLAT_ACPI_BASE);
}

static const struct acpi_header *table(u64 gpa, const char *sig)
{
	const struct acpi_header *h = at(gpa);

	assert_memory_equal(h->signature, sig, 4);
	assert_true(h->length >= sizeof(*h) && gpa + h->length <= PLAT_ACPI_BASE + PLAT_ACPI_SIZE);
	assert_int_equal(acpi_checksum(h, h->length), 0);
	assert_memory_equal(h->oem_id, "KEEL  ", 6);
	return h;
}

static long build(unsigned cpus)
{
	struct acpi_config c = { .nr_vcpus = cpus };

	memset(area, 0xa5, sizeof(area));
	return acpi_build(&c, area, sizeof(area), PLAT_ACPI_BASE);
}

/* The XSDT entry with this signature. */
static u64 find(const char *sig)
{
	const struct acpi_rsdp *r = at(PLAT_ACPI_BASE);
	const struct acpi_header *x = table(r->xsdt, "XSDT");
	unsigned n = (x->length - sizeof(*x)) / 8;

	for (unsigned i = 0; i < n; i++) {
		u64 e;

		memcpy(&e, (const u8 *)x + sizeof(*x) + 8 * i, 8);
		if (!memcmp(((const struct acpi_header *)at(e))->signature, sig, 4))
			return e;
	}
	fail_msg("no %s in the XSDT", sig);
	return 0;
}

static void test_rsdp(void **state)
{
	const struct acpi_rsdp *r = at(PLAT_ACPI_BASE);
	const struct acpi_header *rsdt;

	assert_true(build(1) > 0);
	assert_memory_equal(r->signature, "RSD PTR ", 8);
	assert_int_equal(acpi_checksum(r, 20), 0);
	assert_int_equal(acpi_checksum(r, 36), 0);
	assert_int_equal(r->revision, 2);
	assert_int_equal(r->length, 36);
	assert_int_equal(PLAT_ACPI_BASE % 16, 0); /* the legacy scan's step */
	rsdt = table(r->rsdt, "RSDT");
	assert_int_equal(rsdt->length, sizeof(*rsdt) + 2 * 4);
	find("FACP");
	find("APIC");
}

static void test_fadt(void **state)
{
	const struct acpi_fadt *f;
	const struct acpi_facs *facs;

	assert_true(build(1) > 0);
	f = (const struct acpi_fadt *)table(find("FACP"), "FACP");
	assert_int_equal(f->h.length, 276);
	assert_int_equal(f->h.revision, 6);
	assert_int_equal(f->sci_int, PLAT_IRQ_SCI);
	assert_int_equal(f->smi_cmd, 0);
	assert_int_equal(f->pm1a_evt_blk, PLAT_PORT_PM1A_EVT);
	assert_int_equal(f->pm1a_cnt_blk, PLAT_PORT_PM1A_CNT);
	assert_int_equal(f->pm_tmr_blk, PLAT_PORT_PM_TMR);
	assert_int_equal(f->pm1_evt_len, 4);
	assert_int_equal(f->pm1_cnt_len, 2);
	assert_int_equal(f->pm_tmr_len, 4);
	assert_true(f->flags & BIT(10));                 /* RESET_REG_SUP */
	assert_false(f->flags & BIT(20));                /* not HW_REDUCED */
	assert_int_equal(f->reset_reg.space, 1);
	assert_int_equal(f->reset_reg.address, PLAT_PORT_RESET);
	assert_int_equal(f->reset_value, PLAT_RESET_VALUE);
	assert_int_equal(f->dsdt, f->x_dsdt);
	table(f->dsdt, "DSDT");
	facs = at(f->firmware_ctrl);
	assert_memory_equal(facs->signature, "FACS", 4);
	assert_int_equal(facs->length, 64);
	assert_int_equal(f->firmware_ctrl % 64, 0);
	assert_int_equal(offsetof(struct acpi_fadt, reset_reg), 116);
	assert_int_equal(offsetof(struct acpi_fadt, x_dsdt), 140);
	assert_int_equal(offsetof(struct acpi_fadt, sleep_control_reg), 244);
}

static void test_madt(void **state)
{
	const struct acpi_madt *m;
	const u8 *p, *end;
	unsigned lapics = 0, ioapics = 0, isos = 0, nmis = 0;

	assert_true(build(3) > 0);
	m = (const struct acpi_madt *)table(find("APIC"), "APIC");
	assert_int_equal(m->lapic_address, PLAT_LAPIC_BASE);
	assert_int_equal(m->flags & 1, 1);
	p = (const u8 *)(m + 1);
	end = (const u8 *)m + m->h.length;
	while (p < end) {
		assert_true(p[1] >= 2 && p + p[1] <= end);
		switch (p[0]) {
		case MADT_LAPIC: {
			const struct madt_lapic *l = (const void *)p;

			assert_int_equal(l->apic_id, lapics);
			assert_int_equal(l->flags, 1);
			lapics++;
			break;
		}
		case MADT_IOAPIC: {
			const struct madt_ioapic *io = (const void *)p;

			assert_int_equal(io->address, PLAT_IOAPIC_BASE);
			assert_int_equal(io->gsi_base, 0);
			ioapics++;
			break;
		}
		case MADT_ISO: {
			const struct madt_iso *iso = (const void *)p;

			if (iso->source == PLAT_IRQ_PIT)
				assert_int_equal(iso->gsi, PLAT_GSI_PIT);
			else
				assert_true(iso->source == PLAT_IRQ_SCI && iso->gsi == PLAT_IRQ_SCI &&
					    iso->flags == 0xd);
			isos++;
			break;
		}
		case MADT_LAPIC_NMI:
			assert_int_equal(((const struct madt_lapic_nmi *)p)->lint, 1);
			nmis++;
			break;
		default:
			fail_msg("unexpected MADT entry type %u", p[0]);
		}
		p += p[1];
	}
	assert_true(p == end);
	assert_int_equal(lapics, 3);
	assert_int_equal(ioapics, 1);
	assert_int_equal(isos, 2);
	assert_int_equal(nmis, 1);
}

/* Parse the DSDT's AML back: Name(\_S5_, Package(4){5, 0, 0, 0}). */
static void test_dsdt_aml(void **state)
{
	const struct acpi_fadt *f;
	const struct acpi_header *d;
	const u8 *a;
	static const u8 want[] = { 0x08, '\\', '_', 'S', '5', '_', 0x12, 0x07, 0x04,
				   0x0a, PLAT_SLP_TYP_S5, 0x00, 0x00, 0x00 };

	assert_true(build(1) > 0);
	f = (const struct acpi_fadt *)table(find("FACP"), "FACP");
	d = table(f->dsdt, "DSDT");
	a = (const u8 *)(d + 1);
	assert_int_equal(d->length - sizeof(*d), sizeof(want));
	assert_memory_equal(a, want, sizeof(want));
}

static void test_aml_encoder(void **state)
{
	struct aml a;

	aml_init(&a);
	aml_int(&a, 0x1234);
	aml_int(&a, 0x12345678);
	aml_int(&a, 0x123456789ull);
	assert_int_equal(a.len, 3 + 5 + 9);
	assert_int_equal(a.b[0], 0x0b);
	assert_int_equal(a.b[3], 0x0c);
	assert_int_equal(a.b[8], 0x0e);
	/* PkgLength: 1 byte up to 62 body bytes, then 2 bytes. */
	aml_init(&a);
	aml_pkglength(&a, 62);
	assert_int_equal(a.len, 1);
	assert_int_equal(a.b[0], 63);
	aml_init(&a);
	aml_pkglength(&a, 63);
	assert_int_equal(a.len, 2);
	assert_int_equal(a.b[0], 0x40 | ((63 + 2) & 0xf));
	assert_int_equal(a.b[1], (63 + 2) >> 4);
	aml_init(&a);
	aml_namestring(&a, "\\TOOLONG");
	assert_true(a.overflow);
}

static void test_too_small(void **state)
{
	struct acpi_config c = { .nr_vcpus = 1 };

	assert_int_equal(acpi_build(&c, area, 200, PLAT_ACPI_BASE), -E2BIG);
	c.nr_vcpus = PLAT_MAX_VCPUS + 1;
	assert_int_equal(acpi_build(&c, area, sizeof(area), PLAT_ACPI_BASE), -E2BIG);
	c.nr_vcpus = 0;
	assert_int_equal(acpi_build(&c, area, sizeof(area), PLAT_ACPI_BASE), -E2BIG);
}

/* iasl's disassembler on every table, when acpica-tools is installed. */
static void test_iasl(void **state)
{
	static const char *const sigs[] = { "FACP", "APIC", "DSDT" };
	char dir[] = "/tmp/keel-acpi-XXXXXX", cmd[512];

	if (system("command -v iasl >/dev/null 2>&1")) {
		skip();
		return;
	}
	assert_true(build(2) > 0);
	assert_non_null(mkdtemp(dir));
	for (unsigned i = 0; i < 3; i++) {
		const struct acpi_fadt *f = (const void *)table(find("FACP"), "FACP");
		u64 gpa = i == 2 ? f->dsdt : find(sigs[i]);
		const struct acpi_header *h = at(gpa);
		char path[128];
		FILE *fp;

		snprintf(path, sizeof(path), "%s/%s.dat", dir, sigs[i]);
		fp = fopen(path, "wb");
		assert_non_null(fp);
		assert_int_equal(fwrite(h, 1, h->length, fp), h->length);
		fclose(fp);
		snprintf(cmd, sizeof(cmd), "cd %s && iasl -d %s.dat >%s.log 2>&1 && "
			 "! grep -qiE 'error|invalid|warning' %s.dsl", dir, sigs[i], sigs[i], sigs[i]);
		if (system(cmd))
			fail_msg("iasl rejects or warns about %s (see %s)", sigs[i], dir);
	}
	if (!strcmp(sigs[2], "DSDT")) {
		snprintf(cmd, sizeof(cmd), "grep -q '_S5' %s/DSDT.dsl && rm -rf %s", dir, dir);
		assert_int_equal(system(cmd), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rsdp),
		cmocka_unit_test(test_fadt),
		cmocka_unit_test(test_madt),
		cmocka_unit_test(test_dsdt_aml),
		cmocka_unit_test(test_aml_encoder),
		cmocka_unit_test(test_too_small),
		cmocka_unit_test(test_iasl),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
