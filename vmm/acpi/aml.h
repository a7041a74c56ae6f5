/* SPDX-License-Identifier: MIT */
/*
 * A tiny AML encoder (ACPI 6.x, chapter 20) for the DSDT: integers, names,
 * packages, Name(). Each object is built into a struct aml and appended to
 * its parent, so package lengths are exact. Overflow is sticky.
 */
#pragma once

#include <keel/types.h>

#define AML_MAX 512

struct aml {
	u8 b[AML_MAX];
	size_t len;
	bool overflow;
};

void aml_init(struct aml *a);
void aml_bytes(struct aml *a, const void *p, size_t n);
void aml_append(struct aml *a, const struct aml *child);
/* Integer constant: ZeroOp, OneOp, or Byte/Word/DWord/QWordPrefix. */
void aml_int(struct aml *a, u64 v);
/* NameString: "\\_S5_" or "_S5_" style, segments of 4 characters. */
void aml_namestring(struct aml *a, const char *name);
/* PackageOp PkgLength NumElements elements. */
void aml_package(struct aml *a, unsigned count, const struct aml *elements);
/* NameOp NameString object. */
void aml_name(struct aml *a, const char *name, const struct aml *object);
/* PkgLength for a body of n bytes (the encoding counts itself). */
void aml_pkglength(struct aml *a, size_t n);
