// SPDX-License-Identifier: MIT
/*
 * vsnprintf for keel.efi: the subset Keel's log uses. Conversions d i u x X
 * p s c %, flags '-' '0', a field width (also '*'), length modifiers hh h l ll
 * z. Output is always NUL-terminated when size > 0; the return value is the
 * length the full output would have had, as in C11.
 */
#include <keel/string.h>

struct out {
	char *buf;
	size_t size, len;
};

struct spec {
	bool left, zero;
	int width;
	int length; /* 0 int, 1 long, 2 long long / size_t */
};

static void out_char(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void out_pad(struct out *o, int n, char c)
{
	while (n-- > 0)
		out_char(o, c);
}

/* Emit 'digits' (already converted, most significant first) with sign and
 * padding applied as the spec says. */
static void out_field(struct out *o, const struct spec *sp, const char *sign,
		      const char *digits, int ndigits)
{
	int nsign = (int)strlen(sign);
	int pad = sp->width - nsign - ndigits;

	if (!sp->left && !sp->zero)
		out_pad(o, pad, ' ');
	while (*sign)
		out_char(o, *sign++);
	if (!sp->left && sp->zero)
		out_pad(o, pad, '0');
	for (int i = 0; i < ndigits; i++)
		out_char(o, digits[i]);
	if (sp->left)
		out_pad(o, pad, ' ');
}

static void out_number(struct out *o, const struct spec *sp, u64 v, unsigned base,
		       bool upper, const char *sign)
{
	const char *set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0;

	do {
		tmp[sizeof(tmp) - 1 - n++] = set[v % base];
		v /= base;
	} while (v);
	out_field(o, sp, sign, tmp + sizeof(tmp) - n, n);
}

static void out_string(struct out *o, const struct spec *sp, const char *s)
{
	struct spec plain = *sp;

	if (!s)
		s = "(null)";
	plain.zero = false;
	out_field(o, &plain, "", s, (int)strlen(s));
}

static const char *parse_spec(const char *f, struct spec *sp, va_list *ap)
{
	*sp = (struct spec){ 0 };
	for (;; f++) {
		if (*f == '-')
			sp->left = true;
		else if (*f == '0')
			sp->zero = true;
		else
			break;
	}
	if (*f == '*') {
		sp->width = va_arg(*ap, int);
		f++;
	}
	while (*f >= '0' && *f <= '9')
		sp->width = sp->width * 10 + (*f++ - '0');
	while (*f == 'h')
		f++; /* promoted to int anyway */
	if (*f == 'z') {
		sp->length = 2;
		f++;
	}
	while (*f == 'l') {
		sp->length++;
		f++;
	}
	return f;
}

static u64 arg_unsigned(const struct spec *sp, va_list *ap)
{
	if (sp->length >= 2)
		return va_arg(*ap, unsigned long long);
	if (sp->length == 1)
		return va_arg(*ap, unsigned long);
	return va_arg(*ap, unsigned int);
}

static s64 arg_signed(const struct spec *sp, va_list *ap)
{
	if (sp->length >= 2)
		return va_arg(*ap, long long);
	if (sp->length == 1)
		return va_arg(*ap, long);
	return va_arg(*ap, int);
}

static void out_conversion(struct out *o, char c, struct spec *sp, va_list *ap)
{
	char ch[2] = { 0 };
	s64 sv;

	switch (c) {
	case 'd':
	case 'i':
		sv = arg_signed(sp, ap);
		out_number(o, sp, sv < 0 ? -(u64)sv : (u64)sv, 10, false, sv < 0 ? "-" : "");
		break;
	case 'u':
		out_number(o, sp, arg_unsigned(sp, ap), 10, false, "");
		break;
	case 'x':
	case 'X':
		out_number(o, sp, arg_unsigned(sp, ap), 16, c == 'X', "");
		break;
	case 'p':
		out_number(o, sp, (u64)(uintptr_t)va_arg(*ap, void *), 16, false, "0x");
		break;
	case 's':
		out_string(o, sp, va_arg(*ap, const char *));
		break;
	case 'c':
		ch[0] = (char)va_arg(*ap, int);
		out_string(o, sp, ch);
		break;
	default: /* '%' and anything unknown are printed as they are */
		out_char(o, c);
		break;
	}
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };
	struct spec sp;
	va_list args;

	va_copy(args, ap);
	while (*fmt) {
		if (*fmt != '%') {
			out_char(&o, *fmt++);
			continue;
		}
		fmt = parse_spec(fmt + 1, &sp, &args);
		if (!*fmt)
			break;
		out_conversion(&o, *fmt++, &sp, &args);
	}
	va_end(args);
	if (size)
		buf[MIN(o.len, size - 1)] = '\0';
	return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
