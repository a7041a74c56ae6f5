// SPDX-License-Identifier: MIT
/*
 * The guest's files from the ESP, as keel.cfg names them: the image
 * ("builtin" = the embedded self-test guest), the Linux initrd and the
 * Multiboot modules, plus the command line and the loader choice. Read
 * before ExitBootServices; the buffers (EfiLoaderData) stay Keel's.
 */
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

static int read_esp_file(const struct efi_ctx *efi, const char *what, const char *path,
			 const void **data, size_t *size)
{
	void *buf;
	UINTN len;
	int r = efi_read_file(efi, path, &buf, &len);

	if (r) {
		log_error("keel: %s %s: %s\n", what, path,
			  r == -ENOENT ? "not found on the ESP" : "cannot be read");
		return r;
	}
	*data = buf;
	*size = len;
	log_info("keel: %s %s (%llu bytes)\n", what, path, (unsigned long long)len);
	return 0;
}

/* initrd =, module = and cmdline = from keel.cfg. */
static int load_extras(const struct efi_ctx *efi, const struct keel_cfg *cfg, struct vm_setup *s)
{
	enum loader_kind kind = cfg->loader != LOADER_AUTO ? cfg->loader
							   : loader_detect(s->image, s->image_size);
	int r = 0;

	/* Linux owns its console (an interactive shell wants every byte as
	 * sent), and its clean ACPI poweroff is its passing verdict: the test
	 * init powers off only when every check passed (docs/guest-abi.md). */
	s->console_raw = kind == LOADER_LINUX;
	s->pass_on_poweroff = kind == LOADER_LINUX;
	s->loader = cfg->loader;
	s->cmdline = cfg->cmdline;
	if (cfg->initrd[0])
		r = read_esp_file(efi, "initrd", cfg->initrd, &s->initrd.data, &s->initrd.size);
	s->initrd.string = "";
	for (unsigned i = 0; i < cfg->nr_modules && !r; i++) {
		struct loader_file *m = &s->modules[i];

		r = read_esp_file(efi, "module", cfg->modules[i].path, &m->data, &m->size);
		m->string = cfg->modules[i].string;
		s->nr_modules = i + 1;
	}
	return r;
}

int guest_image_load(const struct efi_ctx *efi, const struct keel_cfg *cfg, struct vm_setup *s)
{
	char label[VM_NAME_MAX + 16];
	int r;

	s->fail_test = cfg->guest_fail;
	if (!strcmp(cfg->guest, "builtin")) {
		s->name = "selftest";
		s->image = guest_selftest_start;
		s->image_size = (size_t)(guest_selftest_end - guest_selftest_start);
		log_info("keel: guest selftest (built in, %zu bytes)\n", s->image_size);
		return load_extras(efi, cfg, s);
	}
	name_from_path(cfg->guest, guest_name, sizeof(guest_name));
	snprintf(label, sizeof(label), "guest %s from", guest_name);
	r = read_esp_file(efi, label, cfg->guest, &s->image, &s->image_size);
	if (r)
		return r;
	s->name = guest_name;
	s->image_path = cfg->guest;
	log_info("keel: guest %s is a %s image\n", s->name,
		 loader_name(cfg->loader != LOADER_AUTO ? cfg->loader
							: loader_detect(s->image, s->image_size)));
	return load_extras(efi, cfg, s);
}
