/* SPDX-License-Identifier: MIT */
/*
 * The MC146818-style CMOS RTC at 0x70/0x71 (index port bit 7 = NMI mask):
 * time and date (BCD or binary, 12/24 h per register B), alarm, status
 * registers A-D with update-in-progress, periodic / alarm / update-ended
 * interrupts on ISA IRQ 8, and 128 bytes of CMOS memory holding the
 * memory-size bytes BIOS-style probes read.
 */
#pragma once

#include <keel/types.h>
#include "vmm/dev/dev.h"
#include "vmm/dev/platform.h"

struct rtc {
	u8 index;
	bool nmi_masked;       /* stored; Keel has no NMI source it gates */
	u8 cmos[128];          /* A-D, alarms and memory; time is computed */
	s64 offset_s;          /* guest-set time minus the host's */
	u64 base_unix;         /* wall clock at base_ns */
	u64 base_ns;
	u64 last_sec, last_period; /* boundaries already turned into flags */
	u64 next_ns;           /* next interrupt, PLAT_NO_EVENT when none */
	bool irq_level;
	u64 irqs;
	struct dev_irq irq;
};

struct rtc_config {
	u64 unix_time;         /* wall clock at 'now' */
	u64 ram_below_4g, ram_above_4g;
	unsigned nr_vcpus;
};

void rtc_init(struct rtc *rtc, const struct rtc_config *cfg, const struct dev_irq *irq, u64 now);
u8 rtc_read(struct rtc *rtc, u16 port, u64 now);
void rtc_write(struct rtc *rtc, u16 port, u8 val, u64 now);
void rtc_advance(struct rtc *rtc, u64 now);
u64 rtc_next_event_ns(const struct rtc *rtc);

/* Calendar helpers (exported for tests): days since 1970-01-01 <-> date. */
s64 rtc_days_from_civil(s64 y, unsigned m, unsigned d);
void rtc_civil_from_days(s64 days, s64 *y, unsigned *m, unsigned *d);
