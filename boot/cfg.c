// SPDX-License-Identifier: MIT
#include <keel/errno.h>
#include <keel/string.h>
#include "boot/cfg.h"

#define CFG_LINE_MAX 256

struct cfg_line {
	unsigned number;
	char key[CFG_LINE_MAX];
	char value[CFG_LINE_MAX];
};

void cfg_defaults(struct keel_cfg *cfg)
{
	*cfg = (struct keel_cfg){ .guest = "builtin", .guest_mem = CFG_GUEST_MEM_DEFAULT,
				  .log_level = LOG_INFO };
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Copy [s, e) without surrounding blanks into out (CFG_LINE_MAX). */
static void copy_trimmed(char *out, const char *s, const char *e)
{
	while (s < e && is_space(*s))
		s++;
	while (e > s && is_space(e[-1]))
		e--;
	memcpy(out, s, (size_t)(e - s));
	out[e - s] = '\0';
}

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

static int parse_size(const char *s, u64 *out)
{
	u64 v = 0, unit = 1;

	if (!*s)
		return -EINVAL;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (CFG_GUEST_MEM_MAX >> 10))
			return -ERANGE;
		v = v * 10 + (u64)(*s - '0');
	}
	switch (*s) {
	case 'K': case 'k': unit = 1ull << 10; s++; break;
	case 'M': case 'm': unit = 1ull << 20; s++; break;
	case 'G': case 'g': unit = 1ull << 30; s++; break;
	}
	if (*s)
		return -EINVAL;
	*out = v * unit;
	return 0;
}

static int set_guest_mem(struct keel_cfg *cfg, const char *v, char *why, size_t len)
{
	u64 bytes;

	if (parse_size(v, &bytes)) {
		snprintf(why, len, "guest-mem: \"%.40s\" is not a size (e.g. 2112M, 4G)", v);
		return -EINVAL;
	}
	if (bytes < CFG_GUEST_MEM_MIN || bytes > CFG_GUEST_MEM_MAX || !IS_ALIGNED(bytes, SZ_2M)) {
		snprintf(why, len, "guest-mem: %.40s must be a multiple of 2M from 8M to 32G", v);
		return -EINVAL;
	}
	cfg->guest_mem = bytes;
	return 0;
}

/* cpus = N: vCPUs the VM may run (at most one per started host CPU). */
static int set_cpus(struct keel_cfg *cfg, const char *v, char *why, size_t len)
{
	u64 n;

	if (parse_size(v, &n) || n < 1 || n > CFG_CPUS_MAX) {
		snprintf(why, len, "cpus: \"%.40s\" is not a count from 1 to %u", v, CFG_CPUS_MAX);
		return -EINVAL;
	}
	cfg->cpus = (unsigned)n;
	return 0;
}

/* debug-dead-cpu, debug-no-enable-cpu = N: firmware CPU index 1 .. 63 (0 is
 * the boot CPU). */
static int set_cpu_index(unsigned *out, const char *key, const char *v, char *why, size_t len)
{
	u64 n;

	if (parse_size(v, &n) || n < 1 || n > 63) {
		snprintf(why, len, "%s: \"%.40s\" is not a CPU index from 1 to 63", key, v);
		return -EINVAL;
	}
	*out = (unsigned)n;
	return 0;
}

static int set_log(struct keel_cfg *cfg, const char *v, char *why, size_t len)
{
	static const char *const names[] = { "error", "info", "debug" };

	for (unsigned i = 0; i < ARRAY_SIZE(names); i++) {
		if (!strcmp(v, names[i])) {
			cfg->log_level = (enum log_level)i;
			return 0;
		}
	}
	snprintf(why, len, "log: \"%.40s\" is not one of error, info, debug", v);
	return -EINVAL;
}

static int set_string(char *dst, size_t max, const char *key, const char *v, char *why,
		      size_t len)
{
	if (!*v || strlen(v) >= max) {
		snprintf(why, len, "%s: value missing or longer than %zu characters", key, max - 1);
		return -EINVAL;
	}
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

static int set_guest_fail(struct keel_cfg *cfg, const char *v, char *why, size_t len)
{
	for (const char *p = v; *p; p++) {
		if (!is_name_char(*p)) {
			snprintf(why, len, "guest-fail: \"%.40s\" is not a self-test name", v);
			return -EINVAL;
		}
	}
	if (!strcmp(v, "none")) {
		cfg->guest_fail[0] = '\0';
		return 0;
	}
	return set_string(cfg->guest_fail, sizeof(cfg->guest_fail), "guest-fail", v, why, len);
}

static int set_bool(bool *dst, const char *key, const char *v, char *why, size_t len)
{
	if (!strcmp(v, "yes") || !strcmp(v, "no")) {
		*dst = !strcmp(v, "yes");
		return 0;
	}
	snprintf(why, len, "%s: \"%.40s\" is not yes or no", key, v);
	return -EINVAL;
}

static int set_loader(struct keel_cfg *cfg, const char *v, char *why, size_t len)
{
	static const char *const names[] = {
		[LOADER_AUTO] = "auto", [LOADER_FLAT] = "flat", [LOADER_LINUX] = "linux",
		[LOADER_MULTIBOOT] = "multiboot",
	};

	for (unsigned i = 0; i < ARRAY_SIZE(names); i++) {
		if (!strcmp(v, names[i])) {
			cfg->loader = (enum loader_kind)i;
			return 0;
		}
	}
	snprintf(why, len, "loader: \"%.40s\" is not one of auto, flat, linux, multiboot", v);
	return -EINVAL;
}

/* module = PATH [ARGS...]: the path is the first word, the string all of it. */
static int add_module(struct keel_cfg *cfg, const char *v, char *why, size_t len)
{
	struct cfg_module *m;
	size_t n = 0;

	if (cfg->nr_modules == CFG_MODULES_MAX) {
		snprintf(why, len, "module: more than %d modules", CFG_MODULES_MAX);
		return -EINVAL;
	}
	m = &cfg->modules[cfg->nr_modules];
	while (v[n] && !is_space(v[n]))
		n++;
	if (!n || n >= sizeof(m->path)) {
		snprintf(why, len, "module: path missing or longer than %zu characters",
			 sizeof(m->path) - 1);
		return -EINVAL;
	}
	if (set_string(m->string, sizeof(m->string), "module", v, why, len))
		return -EINVAL;
	memcpy(m->path, v, n);
	m->path[n] = '\0';
	cfg->nr_modules++;
	return 0;
}

/* timeout = SECONDS: 0 (the default) runs the guest for as long as it likes. */
static int set_timeout(struct keel_cfg *cfg, const char *v, char *why, size_t len)
{
	u64 n = 0;
	const char *p = v;

	for (; *p >= '0' && *p <= '9' && n < CFG_TIMEOUT_MAX; p++)
		n = n * 10 + (u64)(*p - '0');
	if (p == v || *p || n > CFG_TIMEOUT_MAX) {
		snprintf(why, len, "timeout: \"%.40s\" is not a number of seconds (0-%u)", v,
			 CFG_TIMEOUT_MAX);
		return -EINVAL;
	}
	cfg->timeout_s = n;
	return 0;
}

static int apply(struct keel_cfg *cfg, const struct cfg_line *l, char *why, size_t len)
{
	if (!strcmp(l->key, "timeout"))
		return set_timeout(cfg, l->value, why, len);
	if (!strcmp(l->key, "guest"))
		return set_string(cfg->guest, sizeof(cfg->guest), "guest", l->value, why, len);
	if (!strcmp(l->key, "guest-mem"))
		return set_guest_mem(cfg, l->value, why, len);
	if (!strcmp(l->key, "log"))
		return set_log(cfg, l->value, why, len);
	if (!strcmp(l->key, "guest-fail"))
		return set_guest_fail(cfg, l->value, why, len);
	if (!strcmp(l->key, "debug-panic"))
		return set_bool(&cfg->debug_panic, "debug-panic", l->value, why, len);
	if (!strcmp(l->key, "cpus"))
		return set_cpus(cfg, l->value, why, len);
	if (!strcmp(l->key, "debug-kick"))
		return set_bool(&cfg->debug_kick, "debug-kick", l->value, why, len);
	if (!strcmp(l->key, "debug-dead-cpu"))
		return set_cpu_index(&cfg->debug_dead_cpu, "debug-dead-cpu", l->value, why, len);
	if (!strcmp(l->key, "debug-no-enable-cpu"))
		return set_cpu_index(&cfg->debug_no_enable_cpu, "debug-no-enable-cpu", l->value, why,
				     len);
	if (!strcmp(l->key, "loader"))
		return set_loader(cfg, l->value, why, len);
	if (!strcmp(l->key, "initrd"))
		return set_string(cfg->initrd, sizeof(cfg->initrd), "initrd", l->value, why, len);
	if (!strcmp(l->key, "cmdline"))
		return set_string(cfg->cmdline, sizeof(cfg->cmdline), "cmdline", l->value, why,
				  len);
	if (!strcmp(l->key, "module"))
		return add_module(cfg, l->value, why, len);
	snprintf(why, len, "unknown key \"%.40s\" (known: guest, guest-mem, log, guest-fail, "
		 "cpus, debug-*, timeout, loader, initrd, cmdline, module)", l->key);
	return -EINVAL;
}

/* Split one line (without its '\n') into key and value. 1 = blank or
 * comment, 0 = key/value, <0 = malformed. */
static int split_line(const char *s, const char *e, struct cfg_line *l, char *why, size_t len)
{
	const char *hash, *eq;

	for (hash = s; hash < e && *hash != '#'; hash++)
		;
	copy_trimmed(l->key, s, hash);
	if (!l->key[0])
		return 1;
	for (eq = s; eq < hash && *eq != '='; eq++)
		;
	if (eq == hash) {
		snprintf(why, len, "expected \"key = value\", got \"%.40s\"", l->key);
		return -EINVAL;
	}
	copy_trimmed(l->key, s, eq);
	copy_trimmed(l->value, eq + 1, hash);
	for (const char *k = l->key; *k; k++) {
		if (!is_name_char(*k)) {
			snprintf(why, len, "bad key \"%.40s\"", l->key);
			return -EINVAL;
		}
	}
	return 0;
}

int cfg_parse(struct keel_cfg *cfg, const char *text, size_t len, char *err, size_t errlen)
{
	const char *end = text + len;
	struct cfg_line l = { 0 };
	char why[CFG_ERROR_MAX];

	for (const char *s = text; s < end;) {
		const char *e = s;
		int r;

		while (e < end && *e != '\n')
			e++;
		l.number++;
		if (e - s >= CFG_LINE_MAX) {
			snprintf(err, errlen, "keel.cfg:%u: line longer than %d characters",
				 l.number, CFG_LINE_MAX - 1);
			return -EINVAL;
		}
		r = split_line(s, e, &l, why, sizeof(why));
		if (r == 0)
			r = apply(cfg, &l, why, sizeof(why));
		if (r < 0) {
			snprintf(err, errlen, "keel.cfg:%u: %s", l.number, why);
			return -EINVAL;
		}
		s = e + 1;
	}
	return 0;
}
