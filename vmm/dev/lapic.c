// SPDX-License-Identifier: MIT
/*
 * The local APIC (lapic.h). Both views share one register core addressed
 * by xAPIC offset; the x2APIC MSR 0x800 + n is offset n << 4, with the
 * x2APIC rules on top (#GP for reserved and write-only/read-only misuse,
 * reserved bits, ICR as one 64-bit MSR, SELF_IPI). Version 0x14 with six
 * LVT entries (no CMCI) and no directed EOI, so every EOI of a
 * level-triggered vector is broadcast to the I/O APIC.
 *
 * Locking (docs/platform.md, "Locking"): a->lock owns every field but env,
 * vcpu and the lock itself (set once by lapic_init). The public functions
 * take it; the static ones below assert it. Nothing outside this APIC is
 * called with it held except env->kick and the clock: an EOI broadcast and
 * an IPI to other APICs are recorded in a struct lapic_out and done after
 * the lock is released, so a->lock is always the innermost lock.
 */
#include <keel/errno.h>
#include <keel/string.h>
#include "vmm/dev/dev.h"
#include "vmm/dev/dev_lock.h"
#include "vmm/dev/lapic.h"
#include "vmm/dev/layout.h"

#define APIC_VERSION 0x14u
#define APIC_MAX_LVT (LVT_COUNT - 1)

#define REG_ID 0x20
#define REG_VER 0x30
#define REG_TPR 0x80
#define REG_APR 0x90
#define REG_PPR 0xa0
#define REG_EOI 0xb0
#define REG_RRD 0xc0
#define REG_LDR 0xd0
#define REG_DFR 0xe0
#define REG_SVR 0xf0
#define REG_ISR 0x100
#define REG_TMR 0x180
#define REG_IRR 0x200
#define REG_ESR 0x280
#define REG_ICR_LO 0x300
#define REG_ICR_HI 0x310
#define REG_LVT 0x320 /* 0x320 timer .. 0x370 error */
#define REG_TMICT 0x380
#define REG_TMCCT 0x390
#define REG_TDCR 0x3e0
#define REG_SELF_IPI 0x3f0

#define SVR_ENABLE BIT(8)
#define SVR_WRITABLE 0x3ffu /* vector, APIC enable, focus check disable */
#define ESR_SEND_ILLEGAL BIT(5)
#define ESR_RECV_ILLEGAL BIT(6)
#define TIMER_MODE(lvt) (((lvt) >> 17) & 3)
#define TIMER_ONESHOT 0
#define TIMER_PERIODIC 1
#define TIMER_DEADLINE 2
#define ICR_WRITABLE 0x000ccfffu /* vector, mode, dest mode, level, trigger, shorthand */

static const u32 lvt_writable[LVT_COUNT] = {
	[LVT_TIMER] = 0x700ffu,   /* vector, mask, mode (one-shot/periodic/deadline) */
	[LVT_THERMAL] = 0x107ffu, /* vector, delivery mode, mask */
	[LVT_PERF] = 0x107ffu,
	[LVT_LINT0] = 0x1a7ffu,   /* + polarity, trigger mode */
	[LVT_LINT1] = 0x1a7ffu,
	[LVT_ERROR] = 0x100ffu,   /* vector, mask */
};

/* What a register write asks of the rest of the platform, done once the
 * APIC's lock is released. */
struct lapic_out {
	int eoi_vector; /* a level-triggered vector's EOI for the I/O APIC, or -1 */
	bool send;      /* an IPI to other APICs */
	u64 icr;
};

#define LAPIC_OUT_NONE ((struct lapic_out){ .eoi_vector = -1 })

static u64 now(const struct lapic *a)
{
	return a->env->now_ns(a->env->ctx);
}

static bool x2apic(const struct lapic *a)
{
	return (a->apic_base & (APIC_BASE_EN | APIC_BASE_EXTD)) == (APIC_BASE_EN | APIC_BASE_EXTD);
}

static bool hw_enabled(const struct lapic *a) { return a->apic_base & APIC_BASE_EN; }
static bool sw_enabled(const struct lapic *a) { return hw_enabled(a) && (a->svr & SVR_ENABLE); }

static void lock(struct lapic *a) { dev_lock(&a->lock); }
static void unlock(struct lapic *a) { dev_unlock(&a->lock); }

bool lapic_x2apic_mode(struct lapic *a)
{
	bool r;

	lock(a);
	r = x2apic(a);
	unlock(a);
	return r;
}

bool lapic_hw_enabled(struct lapic *a)
{
	bool r;

	lock(a);
	r = hw_enabled(a);
	unlock(a);
	return r;
}

bool lapic_sw_enabled(struct lapic *a)
{
	bool r;

	lock(a);
	r = sw_enabled(a);
	unlock(a);
	return r;
}

/* ---- the 256-bit vector registers ---- */
static void vset(u32 *r, unsigned v) { r[v / 32] |= 1u << (v % 32); }
static void vclr(u32 *r, unsigned v) { r[v / 32] &= ~(1u << (v % 32)); }
static bool vtest(const u32 *r, unsigned v) { return r[v / 32] & (1u << (v % 32)); }

static int vhighest(const u32 *r)
{
	for (int i = 7; i >= 0; i--)
		if (r[i])
			return i * 32 + 31 - __builtin_clz(r[i]);
	return -1;
}

bool lapic_irr_test(struct lapic *a, u8 vector)
{
	bool r;

	lock(a);
	r = vtest(a->irr, vector);
	unlock(a);
	return r;
}

static u32 ppr(const struct lapic *a)
{
	int isrv = vhighest(a->isr);
	u32 isr_class = isrv < 0 ? 0 : (u32)isrv & 0xf0;

	return (a->tpr & 0xf0) >= isr_class ? a->tpr & 0xff : isr_class;
}

static u32 apr(const struct lapic *a)
{
	int irrv = vhighest(a->irr), isrv = vhighest(a->isr);
	u32 irr_c = irrv < 0 ? 0 : (u32)irrv & 0xf0, isr_c = isrv < 0 ? 0 : (u32)isrv & 0xf0;
	u32 tpr_c = a->tpr & 0xf0;

	if (tpr_c >= irr_c && tpr_c > isr_c)
		return a->tpr & 0xff;
	return MAX(tpr_c, MAX(irr_c, isr_c));
}

static void kick(struct lapic *a)
{
	if (a->env->kick)
		a->env->kick(a->env->ctx, a->vcpu);
}

/* ---- errors and acceptance ---- */
static void raise_error(struct lapic *a, u32 bits)
{
	u32 lvt = a->lvt[LVT_ERROR];

	DEV_ASSERT_HELD(&a->lock);
	a->esr_pending |= bits;
	if (!(lvt & LVT_MASKED) && (lvt & 0xff) >= 16) {
		vset(a->irr, lvt & 0xff);
		vclr(a->tmr, lvt & 0xff);
		kick(a);
	}
}

static void accept_irq(struct lapic *a, u8 vector, bool level)
{
	DEV_ASSERT_HELD(&a->lock);
	if (!sw_enabled(a)) {
		a->dropped++; /* disabled (globally or by SVR): fixed interrupts are not accepted */
		return;
	}
	if (vector < 16) {
		raise_error(a, ESR_RECV_ILLEGAL);
		return;
	}
	vset(a->irr, vector);
	if (level)
		vset(a->tmr, vector);
	else
		vclr(a->tmr, vector);
	kick(a);
}

static void accept_nmi(struct lapic *a)
{
	DEV_ASSERT_HELD(&a->lock);
	if (!hw_enabled(a))
		return;
	a->nmi_pending = true;
	kick(a);
}

void lapic_accept_irq(struct lapic *a, u8 vector, bool level)
{
	lock(a);
	accept_irq(a, vector, level);
	unlock(a);
}

void lapic_accept_nmi(struct lapic *a)
{
	lock(a);
	accept_nmi(a);
	unlock(a);
}

/* ---- reset and APIC_BASE ---- */
static void timer_stop(struct lapic *a)
{
	a->timer_running = false;
	a->timer_next_ns = PLAT_NO_EVENT;
	a->tsc_deadline = 0;
}

static void reset(struct lapic *a)
{
	DEV_ASSERT_HELD(&a->lock);
	a->id = a->vcpu;
	a->tpr = 0;
	a->svr = 0xff;
	a->ldr = 0;
	a->dfr = 0xffffffffu;
	a->esr = a->esr_pending = 0;
	a->icr_lo = a->icr_hi = 0;
	for (unsigned i = 0; i < LVT_COUNT; i++)
		a->lvt[i] = LVT_MASKED;
	a->tmict = a->tdcr = 0;
	memset(a->irr, 0, sizeof(a->irr));
	memset(a->isr, 0, sizeof(a->isr));
	memset(a->tmr, 0, sizeof(a->tmr));
	timer_stop(a);
	a->nmi_pending = a->init_pending = a->sipi_pending = false;
}

static u32 x2apic_ldr(u32 id)
{
	return ((id >> 4) << 16) | (1u << (id & 0xf));
}

void lapic_reset(struct lapic *a)
{
	lock(a);
	reset(a);
	unlock(a);
}

void lapic_init(struct lapic *a, const struct lapic_env *env, unsigned vcpu)
{
	memset(a, 0, sizeof(*a));
	dev_lock_init(&a->lock, "lapic->lock");
	a->env = env;
	a->vcpu = vcpu;
	a->apic_base = PLAT_LAPIC_BASE | APIC_BASE_EN | (vcpu == 0 ? APIC_BASE_BSP : 0);
	lock(a);
	reset(a);
	unlock(a);
}

/* INIT (level assert) from another APIC: the APIC goes back to its power-up
 * state (IA32_APIC_BASE and so the mode kept, as KVM's INIT), an earlier
 * SIPI is forgotten, and the vCPU is told (lapic_take_init). */
void lapic_accept_init(struct lapic *a)
{
	lock(a);
	if (hw_enabled(a)) {
		reset(a);
		if (x2apic(a))
			a->ldr = x2apic_ldr(a->id);
		a->init_pending = true;
		a->inits++;
		kick(a);
	}
	unlock(a);
}

/* SIPI: recorded for a vCPU waiting for one (the vCPU ignores it otherwise). */
void lapic_accept_sipi(struct lapic *a, u8 vector)
{
	lock(a);
	if (hw_enabled(a)) {
		a->sipi_pending = true;
		a->sipi_vector = vector;
		a->sipis++;
		kick(a);
	}
	unlock(a);
}

static int write_apic_base(struct lapic *a, u64 val)
{
	unsigned bits = a->env->phys_bits ? a->env->phys_bits : 36;
	u64 reserved = GENMASK(7, 0) | BIT(9) | (bits < 64 ? ~0ull << bits : 0);
	u64 old = a->apic_base, mode = val & (APIC_BASE_EN | APIC_BASE_EXTD);
	u64 old_mode = old & (APIC_BASE_EN | APIC_BASE_EXTD);

	if (val & reserved & ~APIC_BASE_BSP)
		return -EINVAL;
	if (mode == APIC_BASE_EXTD)
		return -EINVAL; /* x2APIC without the APIC enabled */
	if (mode == (APIC_BASE_EN | APIC_BASE_EXTD) && old_mode == 0)
		return -EINVAL; /* disabled -> x2APIC must pass through xAPIC */
	if (mode == APIC_BASE_EN && old_mode == (APIC_BASE_EN | APIC_BASE_EXTD))
		return -EINVAL; /* x2APIC -> xAPIC only through disabled */
	a->apic_base = (val & ~APIC_BASE_BSP) | (old & APIC_BASE_BSP);
	if ((old & APIC_BASE_EN) && !(val & APIC_BASE_EN))
		reset(a);
	if (mode != old_mode && mode == (APIC_BASE_EN | APIC_BASE_EXTD))
		a->ldr = x2apic_ldr(a->id); /* x2APIC: the logical ID is derived */
	return 0;
}

static bool match_dest(const struct lapic *a, u32 dest, bool logical)
{
	if (!hw_enabled(a))
		return false;
	if (x2apic(a)) {
		if (!logical)
			return dest == 0xffffffffu || dest == a->id;
		if ((dest >> 16) == 0xffff)
			return true;
		return (dest >> 16) == (a->ldr >> 16) && (dest & a->ldr & 0xffff);
	}
	dest &= 0xff;
	if (!logical)
		return dest == 0xff || dest == (a->id & 0xff);
	if (dest == 0xff)
		return true;
	if ((a->dfr >> 28) == 0xf) /* flat model */
		return dest & (a->ldr >> 24);
	/* cluster model: high nibble cluster, low nibble members */
	return (dest >> 4) == (a->ldr >> 28) && (dest & (a->ldr >> 24) & 0xf);
}

bool lapic_match_dest(struct lapic *a, u32 dest, bool logical)
{
	bool r;

	lock(a);
	r = match_dest(a, dest, logical);
	unlock(a);
	return r;
}

/* ---- timer ---- */
static u32 timer_divide(const struct lapic *a)
{
	return 1u << ((((a->tdcr & 3) | ((a->tdcr & 8) >> 1)) + 1) & 7);
}

static u64 timer_period_ns(const struct lapic *a)
{
	return muldiv64((u64)a->tmict * timer_divide(a), NS_PER_SEC, LAPIC_TIMER_HZ);
}

static void timer_start(struct lapic *a, u64 t)
{
	timer_stop(a);
	if (!a->tmict || TIMER_MODE(a->lvt[LVT_TIMER]) == TIMER_DEADLINE)
		return;
	a->timer_running = true;
	a->timer_start_ns = t;
	a->timer_next_ns = t + timer_period_ns(a);
}

static u32 timer_current(const struct lapic *a, u64 t)
{
	u64 ticks;

	if (!a->timer_running || TIMER_MODE(a->lvt[LVT_TIMER]) == TIMER_DEADLINE)
		return 0;
	ticks = muldiv64(t - a->timer_start_ns, LAPIC_TIMER_HZ, NS_PER_SEC) / timer_divide(a);
	if (TIMER_MODE(a->lvt[LVT_TIMER]) == TIMER_PERIODIC)
		return a->tmict - (u32)(ticks % a->tmict);
	return ticks >= a->tmict ? 0 : a->tmict - (u32)ticks;
}

static void timer_fire(struct lapic *a)
{
	u32 lvt = a->lvt[LVT_TIMER];

	a->timer_fired++;
	if (!(lvt & LVT_MASKED))
		accept_irq(a, (u8)lvt, false);
}

static void advance(struct lapic *a, u64 t)
{
	u64 period;

	DEV_ASSERT_HELD(&a->lock);
	if (a->timer_next_ns == PLAT_NO_EVENT || t < a->timer_next_ns)
		return;
	timer_fire(a);
	switch (TIMER_MODE(a->lvt[LVT_TIMER])) {
	case TIMER_PERIODIC:
		/* Missed periods coalesce into the one IRR bit. */
		period = timer_period_ns(a);
		if (!period)
			period = 1;
		a->timer_next_ns += ((t - a->timer_next_ns) / period + 1) * period;
		break;
	case TIMER_DEADLINE:
		a->tsc_deadline = 0;
		a->timer_next_ns = PLAT_NO_EVENT;
		break;
	default:
		a->timer_next_ns = PLAT_NO_EVENT; /* one-shot: TMCCT reads 0 now */
		break;
	}
}

void lapic_advance(struct lapic *a, u64 t)
{
	lock(a);
	advance(a, t);
	unlock(a);
}

u64 lapic_next_event_ns(struct lapic *a)
{
	u64 r;

	lock(a);
	r = a->timer_next_ns;
	unlock(a);
	return r;
}

static u64 guest_tsc(const struct lapic *a, u64 t)
{
	if (a->env->guest_tsc)
		return a->env->guest_tsc(a->env->ctx, a->vcpu);
	return muldiv64(t, a->env->tsc_hz, NS_PER_SEC);
}

static void write_deadline(struct lapic *a, u64 val)
{
	u64 t = now(a), tsc;

	if (TIMER_MODE(a->lvt[LVT_TIMER]) != TIMER_DEADLINE)
		return; /* ignored outside TSC-deadline mode */
	a->tsc_deadline = val;
	a->timer_next_ns = PLAT_NO_EVENT;
	if (!val)
		return; /* disarmed */
	tsc = guest_tsc(a, t);
	a->timer_next_ns = val <= tsc || !a->env->tsc_hz ?
		t : t + muldiv64_up(val - tsc, NS_PER_SEC, a->env->tsc_hz);
	advance(a, t);
}

/* ---- EOI, ICR ---- */
static void eoi(struct lapic *a, struct lapic_out *out)
{
	int v = vhighest(a->isr);

	if (v < 0)
		return;
	vclr(a->isr, (unsigned)v);
	if (vtest(a->tmr, (unsigned)v))
		out->eoi_vector = v; /* broadcast once the lock is released */
}

static void deliver_self(struct lapic *a, u32 lo)
{
	u8 vec = (u8)lo;

	switch (LVT_DELIVERY(lo)) {
	case 0: /* fixed */
	case 1: /* lowest priority: this APIC is the lowest */
		if (vec < 16) {
			raise_error(a, ESR_SEND_ILLEGAL);
			return;
		}
		accept_irq(a, vec, lo & BIT(15));
		break;
	case 4:
		accept_nmi(a);
		break;
	default:
		break; /* SMI, INIT, SIPI, ExtINT to self: not delivered */
	}
	a->ipis_self++;
}

static void send_icr(struct lapic *a, struct lapic_out *out)
{
	u32 lo = a->icr_lo, mode = LVT_DELIVERY(lo);
	u32 dest = x2apic(a) ? a->icr_hi : a->icr_hi >> 24;
	u32 bcast = x2apic(a) ? 0xffffffffu : 0xff;
	bool logical = lo & BIT(11), self = false, other = false;

	if (mode == 5 && !(lo & BIT(14)) && (lo & BIT(15)))
		return; /* INIT level de-assert: no effect on xAPICs */
	if (mode <= 1 && (u8)lo < 16) {
		raise_error(a, ESR_SEND_ILLEGAL); /* fixed / lowest priority below 16 */
		return;
	}
	switch ((lo >> 18) & 3) {
	case 0:
		self = match_dest(a, dest, logical);
		other = !self || dest == bcast || (logical && a->env->nr_vcpus > 1);
		if (self && mode == 1)
			other = false; /* lowest priority: one target, the sender will do */
		break;
	case 1: self = true; break;
	case 2: self = other = true; break;
	default: other = true; break;
	}
	if (self)
		deliver_self(a, lo);
	if (other) {
		a->ipis_other++;
		out->send = true; /* env->send_ipi once the lock is released */
		out->icr = ((u64)a->icr_hi << 32) | lo;
	}
}

/* ---- the register core ---- */
static int reg_read(struct lapic *a, u32 off, u32 *val)
{
	bool x2 = x2apic(a);

	if (off >= REG_ISR && off < REG_ISR + 0x80) { *val = a->isr[(off - REG_ISR) >> 4]; return 0; }
	if (off >= REG_TMR && off < REG_TMR + 0x80) { *val = a->tmr[(off - REG_TMR) >> 4]; return 0; }
	if (off >= REG_IRR && off < REG_IRR + 0x80) { *val = a->irr[(off - REG_IRR) >> 4]; return 0; }
	if (off >= REG_LVT && off < REG_LVT + 0x10 * LVT_COUNT) {
		*val = a->lvt[(off - REG_LVT) >> 4];
		return 0;
	}
	switch (off) {
	case REG_ID: *val = x2 ? a->id : a->id << 24; return 0;
	case REG_VER: *val = APIC_VERSION | ((u32)APIC_MAX_LVT << 16); return 0;
	case REG_TPR: *val = a->tpr; return 0;
	case REG_PPR: *val = ppr(a); return 0;
	case REG_LDR: *val = a->ldr; return 0;
	case REG_SVR: *val = a->svr; return 0;
	case REG_ESR: *val = a->esr; return 0;
	case REG_ICR_LO: *val = a->icr_lo; return 0;
	case REG_TMICT: *val = a->tmict; return 0;
	case REG_TMCCT: *val = timer_current(a, now(a)); return 0;
	case REG_TDCR: *val = a->tdcr; return 0;
	}
	if (x2)
		return -EINVAL; /* reserved or write-only in x2APIC mode */
	switch (off) {
	case REG_APR: *val = apr(a); return 0;
	case REG_DFR: *val = a->dfr; return 0;
	case REG_ICR_HI: *val = a->icr_hi; return 0;
	default: *val = 0; return 0; /* EOI, RRD, reserved: read as 0 */
	}
}

static void write_lvt(struct lapic *a, unsigned i, u32 val)
{
	u32 old = a->lvt[i];

	val &= lvt_writable[i];
	if (TIMER_MODE(val) == 3)
		val &= ~(3u << 17); /* reserved mode: one-shot */
	if (!sw_enabled(a))
		val |= LVT_MASKED; /* software-disabled: masks stay set */
	a->lvt[i] = val; /* delivery status and remote IRR read 0: delivery is instant */
	if (i == LVT_TIMER && TIMER_MODE(old) != TIMER_MODE(val))
		timer_stop(a); /* a mode change disarms the timer */
}

static void write_svr(struct lapic *a, u32 val)
{
	a->svr = val & SVR_WRITABLE;
	if (!(a->svr & SVR_ENABLE))
		for (unsigned i = 0; i < LVT_COUNT; i++)
			a->lvt[i] |= LVT_MASKED;
}

static void write_tdcr(struct lapic *a, u32 val)
{
	u64 t = now(a);
	u32 cur = timer_current(a, t);
	bool running = a->timer_running && a->timer_next_ns != PLAT_NO_EVENT;

	a->tdcr = val & 0xb;
	if (!running)
		return;
	/* Keep counting from the current count at the new rate. */
	a->timer_start_ns = t - muldiv64((u64)(a->tmict - cur) * timer_divide(a), NS_PER_SEC,
					 LAPIC_TIMER_HZ);
	a->timer_next_ns = t + muldiv64((u64)cur * timer_divide(a), NS_PER_SEC, LAPIC_TIMER_HZ);
}

static int reg_write(struct lapic *a, u32 off, u32 val, struct lapic_out *out)
{
	bool x2 = x2apic(a);

	if (off >= REG_LVT && off < REG_LVT + 0x10 * LVT_COUNT) {
		unsigned i = (off - REG_LVT) >> 4;

		if (x2 && (val & ~lvt_writable[i] & ~BIT(12)))
			return -EINVAL;
		write_lvt(a, i, val);
		return 0;
	}
	switch (off) {
	case REG_TPR:
		if (x2 && (val & ~0xffu))
			return -EINVAL;
		a->tpr = val & 0xff;
		return 0;
	case REG_EOI:
		if (x2 && val)
			return -EINVAL;
		eoi(a, out);
		return 0;
	case REG_SVR:
		if (x2 && (val & ~SVR_WRITABLE))
			return -EINVAL;
		write_svr(a, val);
		return 0;
	case REG_ESR:
		if (x2 && val)
			return -EINVAL;
		a->esr = a->esr_pending; /* write-before-read */
		a->esr_pending = 0;
		return 0;
	case REG_TMICT:
		if (TIMER_MODE(a->lvt[LVT_TIMER]) == TIMER_DEADLINE)
			return 0; /* ignored in TSC-deadline mode */
		a->tmict = val;
		timer_start(a, now(a));
		return 0;
	case REG_TDCR:
		if (x2 && (val & ~0xbu))
			return -EINVAL;
		write_tdcr(a, val);
		return 0;
	}
	if (x2) {
		if (off == REG_SELF_IPI) {
			if (val & ~0xffu)
				return -EINVAL;
			deliver_self(a, val & 0xff);
			return 0;
		}
		return -EINVAL; /* read-only or reserved (ICR: 64-bit MSR, below) */
	}
	switch (off) {
	case REG_LDR: a->ldr = val & 0xff000000u; break;
	case REG_DFR: a->dfr = val | 0x0fffffffu; break;
	case REG_ICR_HI: a->icr_hi = val & 0xff000000u; break;
	case REG_ICR_LO:
		a->icr_lo = val & ICR_WRITABLE;
		send_icr(a, out);
		break;
	default: break; /* ID, version, PPR, ISR/TMR/IRR, TMCCT, reserved: ignored */
	}
	return 0;
}

/* ---- MSR and MMIO views ---- */
static int rdmsr(struct lapic *a, u32 msr, u64 *val)
{
	u32 v;

	if (msr == MSR_APIC_BASE) {
		*val = a->apic_base;
		return 0;
	}
	if (msr == MSR_TSC_DEADLINE) {
		*val = TIMER_MODE(a->lvt[LVT_TIMER]) == TIMER_DEADLINE ? a->tsc_deadline : 0;
		return 0;
	}
	if (msr < MSR_X2APIC_FIRST || msr > MSR_X2APIC_LAST)
		return -ENOENT;
	if (!x2apic(a))
		goto gp;
	if (msr == MSR_X2APIC_FIRST + (REG_ICR_LO >> 4)) {
		*val = ((u64)a->icr_hi << 32) | a->icr_lo;
		return 0;
	}
	if (reg_read(a, (msr - MSR_X2APIC_FIRST) << 4, &v))
		goto gp;
	*val = v;
	return 0;
gp:
	a->msr_gp++;
	return -EINVAL;
}

static int wrmsr(struct lapic *a, u32 msr, u64 val, struct lapic_out *out)
{
	if (msr == MSR_APIC_BASE) {
		if (write_apic_base(a, val))
			goto gp;
		return 0;
	}
	if (msr == MSR_TSC_DEADLINE) {
		write_deadline(a, val);
		return 0;
	}
	if (msr < MSR_X2APIC_FIRST || msr > MSR_X2APIC_LAST)
		return -ENOENT;
	if (!x2apic(a))
		goto gp;
	if (msr == MSR_X2APIC_FIRST + (REG_ICR_LO >> 4)) {
		if ((u32)val & ~ICR_WRITABLE)
			goto gp;
		a->icr_lo = (u32)val;
		a->icr_hi = (u32)(val >> 32);
		send_icr(a, out);
		return 0;
	}
	if ((val >> 32) || reg_write(a, (msr - MSR_X2APIC_FIRST) << 4, (u32)val, out))
		goto gp;
	return 0;
gp:
	a->msr_gp++;
	return -EINVAL;
}

/* After the lock is released: the EOI broadcast and the IPI. */
static void finish(struct lapic *a, const struct lapic_out *out)
{
	if (out->eoi_vector >= 0 && a->env->eoi)
		a->env->eoi(a->env->ctx, (u8)out->eoi_vector);
	if (out->send && a->env->send_ipi)
		a->env->send_ipi(a->env->ctx, a->vcpu, out->icr);
}

int lapic_rdmsr(struct lapic *a, u32 msr, u64 *val)
{
	int r;

	lock(a);
	r = rdmsr(a, msr, val);
	unlock(a);
	return r;
}

int lapic_wrmsr(struct lapic *a, u32 msr, u64 val)
{
	struct lapic_out out = LAPIC_OUT_NONE;
	int r;

	lock(a);
	r = wrmsr(a, msr, val, &out);
	unlock(a);
	finish(a, &out);
	return r;
}

static bool mmio(struct lapic *a, u64 gpa, unsigned size, bool write, u64 *val,
		 struct lapic_out *out)
{
	u64 base = a->apic_base & ~(PAGE_SIZE - 1) & GENMASK(51, 0);
	u32 off, reg, v = 0;

	if (!hw_enabled(a) || x2apic(a) || gpa < base || gpa >= base + PAGE_SIZE)
		return false;
	a->mmio++;
	off = (u32)(gpa - base);
	reg = off & ~0xfu;
	if (write) {
		/* Registers take aligned 32-bit stores; anything else is dropped. */
		if ((off & 0xf) == 0 && size >= 4)
			reg_write(a, reg, (u32)*val, out);
		return true;
	}
	if ((off & 0xf) < 4)
		reg_read(a, reg, &v);
	v >>= (off & 3) * 8;
	*val = size >= 4 ? v : v & ((1u << (size * 8)) - 1);
	return true;
}

bool lapic_mmio(struct lapic *a, u64 gpa, unsigned size, bool write, u64 *val)
{
	struct lapic_out out = LAPIC_OUT_NONE;
	bool r;

	lock(a);
	r = mmio(a, gpa, size, write, val, &out);
	unlock(a);
	finish(a, &out);
	return r;
}

/* ---- the vCPU's side (platform.h) ---- */
int lapic_pending_vector(struct lapic *a)
{
	int v = -1;

	lock(a);
	if (hw_enabled(a)) {
		v = vhighest(a->irr);
		if (v >= 0 && ((u32)v & 0xf0) <= (ppr(a) & 0xf0))
			v = -1;
	}
	unlock(a);
	return v;
}

void lapic_accept_vector(struct lapic *a, int vec)
{
	if (vec < 0 || vec > 255)
		return;
	lock(a);
	vclr(a->irr, (unsigned)vec);
	vset(a->isr, (unsigned)vec);
	unlock(a);
}

static bool take(struct lapic *a, bool *flag)
{
	bool n;

	lock(a);
	n = *flag;
	*flag = false;
	unlock(a);
	return n;
}

bool lapic_take_nmi(struct lapic *a)
{
	return take(a, &a->nmi_pending);
}

bool lapic_take_init(struct lapic *a)
{
	return take(a, &a->init_pending);
}

bool lapic_take_start(struct lapic *a, u8 *vec)
{
	bool n;

	lock(a);
	a->init_pending = false; /* any SIPI pending now came after the last INIT */
	n = a->sipi_pending;
	a->sipi_pending = false;
	if (n)
		*vec = a->sipi_vector;
	unlock(a);
	return n;
}

void lapic_set_cr8(struct lapic *a, u64 cr8)
{
	lock(a);
	a->tpr = (u32)(cr8 & 0xf) << 4;
	unlock(a);
}

u64 lapic_get_cr8(struct lapic *a)
{
	u64 r;

	lock(a);
	r = a->tpr >> 4;
	unlock(a);
	return r;
}

void lapic_get_counters(struct lapic *a, struct lapic_counters *c)
{
	lock(a);
	*c = (struct lapic_counters){ .ipis_self = a->ipis_self, .ipis_other = a->ipis_other,
				      .mmio = a->mmio, .inits = a->inits, .sipis = a->sipis };
	unlock(a);
}
