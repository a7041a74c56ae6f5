// SPDX-License-Identifier: MIT
#include <keel/errno.h>
#include <keel/string.h>
#include "boot/boot.h"
#include "rt/log.h"

static char guest_name[VM_NAME_MAX];

/* "\keel\myguest.bin" -> "myguest": the name the summary line shows. */
static void name_from_path(const char *path, char *out, size_t max)
{
	const char *base = path;
	size_t n = 0;

	for (const char *p = path; *p; p++)
		if (*p == '\\' || *p == '/')
			base = p + 1;
	while (base[n] && base[n] != '.' && n + 1 < max) {
		out[n] = base[n];
		n++;
	}
	out[n] = '\0';
	if (!n)
		snprintf(out, max, "guest");
}

int guest_image_load(const struct efi_ctx *efi, const struct keel_cfg *cfg, struct vm_setup *s)
{
	void *buf;
	UINTN len;
	int r;

	s->fail_test = cfg->guest_fail;
	if (!strcmp(cfg->guest, "builtin")) {
		s->name = "selftest";
		s->image = guest_selftest_start;
		s->image_size = (size_t)(guest_selftest_end - guest_selftest_start);
		log_info("keel: guest selftest (built in, %zu bytes)\n", s->image_size);
		return 0;
	}
	r = efi_read_file(efi, cfg->guest, &buf, &len);
	if (r) {
		log_error("keel: guest image %s: %s\n", cfg->guest,
			  r == -ENOENT ? "not found on the ESP" : "cannot be read");
		return r;
	}
	name_from_path(cfg->guest, guest_name, sizeof(guest_name));
	s->name = guest_name;
	s->image = buf;
	s->image_size = len;
	log_info("keel: guest %s from %s (%llu bytes)\n", s->name, cfg->guest,
		 (unsigned long long)len);
	return 0;
}
