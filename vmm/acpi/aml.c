// SPDX-License-Identifier: MIT
#include <keel/string.h>
#include "vmm/acpi/aml.h"

#define AML_ZERO_OP 0x00
#define AML_ONE_OP 0x01
#define AML_NAME_OP 0x08
#define AML_BYTE_PREFIX 0x0a
#define AML_WORD_PREFIX 0x0b
#define AML_DWORD_PREFIX 0x0c
#define AML_QWORD_PREFIX 0x0e
#define AML_PACKAGE_OP 0x12
#define AML_ROOT_CHAR '\\'

void aml_init(struct aml *a)
{
	a->len = 0;
	a->overflow = false;
}

void aml_bytes(struct aml *a, const void *p, size_t n)
{
	if (a->overflow || n > AML_MAX - a->len) {
		a->overflow = true;
		return;
	}
	memcpy(a->b + a->len, p, n);
	a->len += n;
}

static void aml_byte(struct aml *a, u8 v)
{
	aml_bytes(a, &v, 1);
}

void aml_append(struct aml *a, const struct aml *child)
{
	if (child->overflow)
		a->overflow = true;
	aml_bytes(a, child->b, child->len);
}

static void aml_le(struct aml *a, u8 prefix, u64 v, unsigned bytes)
{
	aml_byte(a, prefix);
	for (unsigned i = 0; i < bytes; i++)
		aml_byte(a, (u8)(v >> (8 * i)));
}

void aml_int(struct aml *a, u64 v)
{
	if (v == 0)
		aml_byte(a, AML_ZERO_OP);
	else if (v == 1)
		aml_byte(a, AML_ONE_OP);
	else if (v <= 0xff)
		aml_le(a, AML_BYTE_PREFIX, v, 1);
	else if (v <= 0xffff)
		aml_le(a, AML_WORD_PREFIX, v, 2);
	else if (v <= 0xffffffffu)
		aml_le(a, AML_DWORD_PREFIX, v, 4);
	else
		aml_le(a, AML_QWORD_PREFIX, v, 8);
}

/* A single name path ("\" prefix allowed, then one 4-character segment;
 * Keel's DSDT needs no multi-segment paths). */
void aml_namestring(struct aml *a, const char *name)
{
	if (*name == AML_ROOT_CHAR)
		aml_byte(a, (u8)*name++);
	if (strlen(name) != 4) {
		a->overflow = true; /* not a NameSeg: make the build fail */
		return;
	}
	aml_bytes(a, name, 4);
}

void aml_pkglength(struct aml *a, size_t n)
{
	/* 1 byte holds 0..63; 2..4 bytes hold 4 + 8 * (k - 1) bits. */
	if (n + 1 <= 0x3f) {
		aml_byte(a, (u8)(n + 1));
		return;
	}
	for (unsigned k = 2; k <= 4; k++) {
		size_t total = n + k;

		if (total < (1ull << (4 + 8 * (k - 1)))) {
			aml_byte(a, (u8)((k - 1) << 6 | (total & 0xf)));
			for (unsigned i = 1; i < k; i++)
				aml_byte(a, (u8)(total >> (4 + 8 * (i - 1))));
			return;
		}
	}
	a->overflow = true;
}

void aml_package(struct aml *a, unsigned count, const struct aml *elements)
{
	aml_byte(a, AML_PACKAGE_OP);
	aml_pkglength(a, 1 + elements->len);
	aml_byte(a, (u8)count);
	aml_append(a, elements);
}

void aml_name(struct aml *a, const char *name, const struct aml *object)
{
	aml_byte(a, AML_NAME_OP);
	aml_namestring(a, name);
	aml_append(a, object);
}
