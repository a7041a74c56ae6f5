// SPDX-License-Identifier: MIT
/*
 * The CMOS RTC (rtc.h). The clock runs on the platform's now_ns from the
 * wall-clock time given at creation; a guest write to a time register moves
 * it (an offset in whole seconds). Flags: PF at each periodic boundary
 * (rate from register A), UF at each second, AF when the alarm (with the
 * 0xc0-0xff "don't care" values) matches at a second boundary; IRQF and
 * IRQ 8 when the matching enable bit in register B is set. Register C's
 * read returns and clears them. Boundaries passed while nothing was enabled
 * are turned into flags when the guest reads C (alarm: only the current
 * second is checked).
 */
#include <keel/string.h>
#include "vmm/dev/layout.h"
#include "vmm/dev/platform.h"
#include "vmm/dev/rtc.h"

#define REG_SEC 0x00
#define REG_SEC_ALARM 0x01
#define REG_MIN 0x02
#define REG_MIN_ALARM 0x03
#define REG_HOUR 0x04
#define REG_HOUR_ALARM 0x05
#define REG_WDAY 0x06
#define REG_MDAY 0x07
#define REG_MONTH 0x08
#define REG_YEAR 0x09
#define REG_A 0x0a
#define REG_B 0x0b
#define REG_C 0x0c
#define REG_D 0x0d
#define REG_CENTURY 0x32

#define A_UIP 0x80
#define B_SET 0x80
#define B_PIE 0x40
#define B_AIE 0x20
#define B_UIE 0x10
#define B_DM 0x04     /* binary */
#define B_24H 0x02
#define C_IRQF 0x80
#define C_PF 0x40
#define C_AF 0x20
#define C_UF 0x10
#define UIP_NS 244000 /* UIP is set this long before each update */

/* ---- calendar ---- */
s64 rtc_days_from_civil(s64 y, unsigned m, unsigned d)
{
	s64 era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void rtc_civil_from_days(s64 z, s64 *y, unsigned *m, unsigned *d)
{
	s64 era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

struct rtc_tm {
	s64 year;
	unsigned mon, mday, wday, hour, min, sec;
};

static u64 elapsed_ns(const struct rtc *rtc, u64 now)
{
	return now > rtc->base_ns ? now - rtc->base_ns : 0;
}

static s64 now_secs(const struct rtc *rtc, u64 now)
{
	return (s64)rtc->base_unix + rtc->offset_s + (s64)(elapsed_ns(rtc, now) / NS_PER_SEC);
}

static void to_tm(s64 t, struct rtc_tm *tm)
{
	s64 days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
	s64 rem = t - days * 86400;

	rtc_civil_from_days(days, &tm->year, &tm->mon, &tm->mday);
	tm->wday = (unsigned)(((days % 7) + 11) % 7) + 1; /* 1970-01-01 was a Thursday; 1 = Sunday */
	tm->hour = (unsigned)(rem / 3600);
	tm->min = (unsigned)(rem / 60 % 60);
	tm->sec = (unsigned)(rem % 60);
}

static s64 from_tm(const struct rtc_tm *tm)
{
	return rtc_days_from_civil(tm->year, tm->mon, tm->mday) * 86400 + tm->hour * 3600 +
	       tm->min * 60 + tm->sec;
}

/* ---- register encoding (register B's DM and 24/12 bits) ---- */
static u8 enc(const struct rtc *rtc, unsigned v)
{
	return (rtc->cmos[REG_B] & B_DM) ? (u8)v : (u8)(((v / 10) << 4) | (v % 10));
}

static unsigned dec(const struct rtc *rtc, u8 v)
{
	return (rtc->cmos[REG_B] & B_DM) ? v : (unsigned)((v >> 4) * 10 + (v & 0xf));
}

static u8 enc_hour(const struct rtc *rtc, unsigned h)
{
	unsigned h12;

	if (rtc->cmos[REG_B] & B_24H)
		return enc(rtc, h);
	h12 = h % 12 ? h % 12 : 12;
	return (u8)(enc(rtc, h12) | (h >= 12 ? 0x80 : 0));
}

static unsigned dec_hour(const struct rtc *rtc, u8 v)
{
	if (rtc->cmos[REG_B] & B_24H)
		return dec(rtc, v);
	return dec(rtc, v & 0x7f) % 12 + ((v & 0x80) ? 12 : 0);
}

/* ---- flags and interrupts ---- */
static u64 period_ns(const struct rtc *rtc)
{
	unsigned rate = rtc->cmos[REG_A] & 0xf;

	if (!rate || ((rtc->cmos[REG_A] >> 4) & 7) != 2)
		return 0; /* no periodic interrupt, or the divider is stopped */
	if (rate < 3)
		rate += 7;
	return muldiv64(1ull << (rate - 1), NS_PER_SEC, 32768);
}

static bool alarm_matches(const struct rtc *rtc, u64 now)
{
	struct rtc_tm tm;
	u8 s = rtc->cmos[REG_SEC_ALARM], m = rtc->cmos[REG_MIN_ALARM], h = rtc->cmos[REG_HOUR_ALARM];

	to_tm(now_secs(rtc, now), &tm);
	return (s >= 0xc0 || dec(rtc, s) == tm.sec) && (m >= 0xc0 || dec(rtc, m) == tm.min) &&
	       (h >= 0xc0 || dec_hour(rtc, h) == tm.hour);
}

static void update_irq(struct rtc *rtc)
{
	u8 b = rtc->cmos[REG_B], c = rtc->cmos[REG_C] & (C_PF | C_AF | C_UF);
	bool level = (c & C_PF && b & B_PIE) || (c & C_AF && b & B_AIE) || (c & C_UF && b & B_UIE);

	rtc->cmos[REG_C] = (u8)(c | (level ? C_IRQF : 0));
	if (level && !rtc->irq_level)
		rtc->irqs++;
	if (level != rtc->irq_level)
		dev_irq_set(&rtc->irq, level);
	rtc->irq_level = level;
}

/* Turn the boundaries passed up to 'now' into flags. */
static void update_flags(struct rtc *rtc, u64 now)
{
	u64 e = elapsed_ns(rtc, now), sec = e / NS_PER_SEC, per = period_ns(rtc);

	if (sec != rtc->last_sec && !(rtc->cmos[REG_B] & B_SET)) {
		rtc->cmos[REG_C] |= C_UF;
		if (alarm_matches(rtc, now))
			rtc->cmos[REG_C] |= C_AF;
	}
	rtc->last_sec = sec;
	if (per) {
		if (e / per != rtc->last_period)
			rtc->cmos[REG_C] |= C_PF;
		rtc->last_period = e / per;
	}
	update_irq(rtc);
}

static void schedule(struct rtc *rtc)
{
	u8 b = rtc->cmos[REG_B];
	u64 per = period_ns(rtc), next = PLAT_NO_EVENT;

	if ((b & B_PIE) && per)
		next = rtc->base_ns + (rtc->last_period + 1) * per;
	if ((b & (B_UIE | B_AIE)) && !(b & B_SET))
		next = MIN(next, rtc->base_ns + (rtc->last_sec + 1) * NS_PER_SEC);
	rtc->next_ns = next;
}

void rtc_advance(struct rtc *rtc, u64 now)
{
	if (rtc->next_ns == PLAT_NO_EVENT || now < rtc->next_ns)
		return;
	update_flags(rtc, now);
	schedule(rtc);
}

u64 rtc_next_event_ns(const struct rtc *rtc)
{
	return rtc->next_ns;
}

/* ---- CMOS memory sizes ---- */
static void put16(u8 *p, u64 v)
{
	v = MIN(v, 0xffffull);
	p[0] = (u8)v;
	p[1] = (u8)(v >> 8);
}

static void init_memory(struct rtc *rtc, const struct rtc_config *cfg)
{
	u64 below = cfg->ram_below_4g, ext_kb = 0, above16_64k = 0;

	put16(&rtc->cmos[0x15], 640);                     /* base memory, KiB */
	if (below > PLAT_HIGH_MEM_BASE)
		ext_kb = (below - PLAT_HIGH_MEM_BASE) >> 10;
	put16(&rtc->cmos[0x17], ext_kb);                  /* extended memory, KiB (capped) */
	put16(&rtc->cmos[0x30], ext_kb);
	if (below > (16ull << 20))
		above16_64k = (below - (16ull << 20)) >> 16;
	put16(&rtc->cmos[0x34], above16_64k);             /* above 16 MiB, 64 KiB units */
	rtc->cmos[0x5b] = (u8)(cfg->ram_above_4g >> 16);  /* above 4 GiB, 64 KiB units */
	rtc->cmos[0x5c] = (u8)(cfg->ram_above_4g >> 24);
	rtc->cmos[0x5d] = (u8)(cfg->ram_above_4g >> 32);
	rtc->cmos[0x5f] = (u8)(cfg->nr_vcpus ? cfg->nr_vcpus - 1 : 0); /* as QEMU */
}

void rtc_init(struct rtc *rtc, const struct rtc_config *cfg, const struct dev_irq *irq, u64 now)
{
	memset(rtc, 0, sizeof(*rtc));
	rtc->irq = *irq;
	rtc->base_unix = cfg->unix_time;
	rtc->base_ns = now;
	rtc->next_ns = PLAT_NO_EVENT;
	rtc->cmos[REG_A] = 0x26; /* 32.768 kHz divider, 1024 Hz rate */
	rtc->cmos[REG_B] = B_24H;
	rtc->cmos[REG_D] = 0x80; /* valid RAM and time */
	init_memory(rtc, cfg);
}

/* ---- registers ---- */
static u8 time_read(struct rtc *rtc, u8 idx, u64 now)
{
	struct rtc_tm tm;

	to_tm(now_secs(rtc, now), &tm);
	switch (idx) {
	case REG_SEC: return enc(rtc, tm.sec);
	case REG_MIN: return enc(rtc, tm.min);
	case REG_HOUR: return enc_hour(rtc, tm.hour);
	case REG_WDAY: return enc(rtc, tm.wday);
	case REG_MDAY: return enc(rtc, tm.mday);
	case REG_MONTH: return enc(rtc, tm.mon);
	case REG_YEAR: return enc(rtc, (unsigned)(tm.year % 100));
	default: return enc(rtc, (unsigned)(tm.year / 100)); /* century */
	}
}

static void time_write(struct rtc *rtc, u8 idx, u8 val, u64 now)
{
	struct rtc_tm tm;
	s64 cur = now_secs(rtc, now);
	unsigned v = idx == REG_HOUR ? dec_hour(rtc, val) : dec(rtc, val);

	to_tm(cur, &tm);
	switch (idx) {
	case REG_SEC: tm.sec = v % 60; break;
	case REG_MIN: tm.min = v % 60; break;
	case REG_HOUR: tm.hour = v % 24; break;
	case REG_WDAY: return; /* derived from the date */
	case REG_MDAY: tm.mday = v ? MIN(v, 31) : 1; break;
	case REG_MONTH: tm.mon = v >= 1 && v <= 12 ? v : 1; break;
	case REG_YEAR: tm.year = tm.year / 100 * 100 + v % 100; break;
	default: tm.year = (s64)v * 100 + tm.year % 100; break;
	}
	rtc->offset_s += from_tm(&tm) - cur;
}

static bool is_time_reg(u8 idx)
{
	return idx == REG_SEC || idx == REG_MIN || idx == REG_HOUR || (idx >= REG_WDAY && idx <= REG_YEAR) ||
	       idx == REG_CENTURY;
}

static u8 data_read(struct rtc *rtc, u64 now)
{
	u8 idx = rtc->index, v;

	if (is_time_reg(idx))
		return time_read(rtc, idx, now);
	if (idx == REG_A) {
		bool uip = !(rtc->cmos[REG_B] & B_SET) && ((rtc->cmos[REG_A] >> 4) & 7) == 2 &&
			   elapsed_ns(rtc, now) % NS_PER_SEC >= NS_PER_SEC - UIP_NS;

		return (u8)((rtc->cmos[REG_A] & 0x7f) | (uip ? A_UIP : 0));
	}
	if (idx == REG_C) {
		update_flags(rtc, now);
		v = rtc->cmos[REG_C];
		rtc->cmos[REG_C] = 0;
		update_irq(rtc);
		schedule(rtc);
		return v;
	}
	return rtc->cmos[idx];
}

static void data_write(struct rtc *rtc, u8 val, u64 now)
{
	u8 idx = rtc->index;

	if (is_time_reg(idx)) {
		time_write(rtc, idx, val, now);
		return;
	}
	switch (idx) {
	case REG_A:
		update_flags(rtc, now);
		rtc->cmos[REG_A] = val & 0x7f;
		if (period_ns(rtc))
			rtc->last_period = elapsed_ns(rtc, now) / period_ns(rtc);
		break;
	case REG_B:
		update_flags(rtc, now);
		if (val & B_SET)
			val &= (u8)~B_UIE; /* SET clears UIE */
		rtc->cmos[REG_B] = val;
		update_irq(rtc);
		break;
	case REG_C:
	case REG_D:
		return; /* read-only */
	default:
		rtc->cmos[idx] = val;
		return;
	}
	schedule(rtc);
}

u8 rtc_read(struct rtc *rtc, u16 port, u64 now)
{
	if (port == PLAT_PORT_RTC + 1)
		return data_read(rtc, now);
	return 0xff; /* the index port is write-only */
}

void rtc_write(struct rtc *rtc, u16 port, u8 val, u64 now)
{
	if (port == PLAT_PORT_RTC) {
		rtc->index = val & 0x7f;
		rtc->nmi_masked = val & 0x80;
	} else {
		data_write(rtc, val, now);
	}
}
