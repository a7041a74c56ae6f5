// SPDX-License-Identifier: MIT
/*
 * The virtual platform (platform.h): creates the devices, routes ISA
 * interrupt lines to the 8259 pair and the I/O APIC (ISA IRQ 0 is GSI 2,
 * every other ISA IRQ n is GSI n, as Keel's MADT says), routes I/O APIC
 * messages to the local APICs, and dispatches port I/O, MMIO and MSRs.
 * Ports no device claims are open bus: reads give all ones, writes are
 * dropped, and both are counted (per port, for the summary's top list).
 * IPIs from one LAPIC go to the others through ipi.c.
 *
 * Locking (docs/platform.md, "Locking"): p->lock owns every shared device
 * and the counters; each LAPIC has its own lock (lapic.c), taken after
 * p->lock when both are needed, never two LAPIC locks at once. The public
 * functions take what they need; the static ones assert it.
 */
#include <keel/errno.h>
#include <keel/host.h>
#include <keel/string.h>
#include <stdarg.h>
#include "vmm/dev/acpi_pm.h"
#include "vmm/dev/dev_lock.h"
#include "vmm/dev/fw_cfg.h"
#include "vmm/dev/ioapic.h"
#include "vmm/dev/lapic.h"
#include "vmm/dev/layout.h"
#include "vmm/dev/pci.h"
#include "vmm/dev/pic.h"
#include "vmm/dev/pit.h"
#include "vmm/dev/platform.h"
#include "vmm/dev/rtc.h"
#include "vmm/dev/uart.h"

#define PLAT_OPEN_BUS_TRACK 32
#define PORT_KBD_STATUS 0x64
#define KBD_CMD_RESET 0xfe

struct plat {
	/* Set by plat_create, then read-only. */
	struct plat_config cfg;
	struct lapic_env lenv;
	/* Each with its own lock (lapic.h). */
	struct lapic lapic[PLAT_MAX_VCPUS];
	/* Everything below: owned by lock (fw_cfg: filled before the first
	 * entry, read-only afterwards, read under lock). */
	struct dev_lock lock;
	struct pic_pair pic;
	struct ioapic ioapic;
	struct pit pit;
	struct rtc rtc;
	struct uart uart;
	struct acpi_pm pm;
	struct fw_cfg fw_cfg;
	struct pci pci;
	struct plat_counters cnt;
	struct plat_port_count open_bus[PLAT_OPEN_BUS_TRACK];
};

static u64 now(const struct plat *p)
{
	return p->cfg.now_ns(p->cfg.ctx);
}

static void kick(struct plat *p, unsigned vcpu)
{
	if (p->cfg.kick_vcpu)
		p->cfg.kick_vcpu(p->cfg.ctx, vcpu);
}

/* ---- interrupt routing ---- */
static bool extint_pending(struct plat *p, unsigned vcpu);

/* A device's line changed: the devices run with p->lock held. */
static void isa_irq(void *ctx, unsigned irq, bool level)
{
	struct plat *p = ctx;
	bool was;

	DEV_ASSERT_HELD(&p->lock);
	was = pic_intr(&p->pic);
	if (level && irq < ARRAY_SIZE(p->cnt.irqs))
		p->cnt.irqs[irq]++;
	pic_set_irq(&p->pic, irq, level);
	ioapic_set_irq(&p->ioapic, irq == PLAT_IRQ_PIT ? PLAT_GSI_PIT : irq, level);
	if (!was && pic_intr(&p->pic) && extint_pending(p, 0))
		kick(p, 0);
}

/* An I/O APIC message (p->lock held: the I/O APIC is a shared device). */
static void ioapic_deliver(void *ctx, const struct ioapic_msg *m)
{
	struct plat *p = ctx;

	DEV_ASSERT_HELD(&p->lock);
	for (unsigned i = 0; i < p->cfg.nr_vcpus; i++) {
		struct lapic *a = &p->lapic[i];

		if (!lapic_match_dest(a, m->dest, m->logical))
			continue;
		switch (m->delivery) {
		case 0:
			lapic_accept_irq(a, m->vector, m->level);
			break;
		case 1: /* lowest priority: the first match */
			lapic_accept_irq(a, m->vector, m->level);
			return;
		case 4:
			lapic_accept_nmi(a);
			break;
		default:
			break; /* SMI, INIT, ExtINT through the I/O APIC: not modelled */
		}
	}
}

/* A LAPIC's EOI of a level vector (no LAPIC lock held: lapic.c). */
static void lenv_eoi(void *ctx, u8 vector)
{
	struct plat *p = ctx;

	dev_lock(&p->lock);
	ioapic_eoi(&p->ioapic, vector);
	dev_unlock(&p->lock);
}

static void lenv_send_ipi(void *ctx, unsigned from, u64 icr)
{
	struct plat *p = ctx;

	lapic_route_ipi(p->lapic, p->cfg.nr_vcpus, from, icr);
	if (p->cfg.send_ipi)
		p->cfg.send_ipi(p->cfg.ctx, from, icr);
}

static void lenv_kick(void *ctx, unsigned vcpu)
{
	kick(ctx, vcpu);
}

static u64 lenv_now(void *ctx)
{
	return now(ctx);
}

static u64 lenv_guest_tsc(void *ctx, unsigned vcpu)
{
	struct plat *p = ctx;

	return p->cfg.guest_tsc(p->cfg.ctx, vcpu);
}

static void request_stop(void *ctx, enum plat_stop why, u32 code)
{
	struct plat *p = ctx;

	if (p->cfg.request_stop)
		p->cfg.request_stop(p->cfg.ctx, why, code);
}

/* ---- life cycle ---- */
struct plat *plat_create(const struct plat_config *cfg)
{
	struct plat *p;
	struct dev_irq irq;
	u64 t;

	if (!cfg->now_ns || !cfg->nr_vcpus || cfg->nr_vcpus > PLAT_MAX_VCPUS)
		return NULL;
	p = host_alloc(sizeof(*p));
	if (!p)
		return NULL;
	memset(p, 0, sizeof(*p));
	p->cfg = *cfg;
	dev_lock_init(&p->lock, "plat->lock");
	t = now(p);
	p->lenv = (struct lapic_env){
		.now_ns = lenv_now,
		.guest_tsc = cfg->guest_tsc ? lenv_guest_tsc : NULL,
		.eoi = lenv_eoi,
		.send_ipi = lenv_send_ipi,
		.kick = lenv_kick,
		.ctx = p,
		.tsc_hz = cfg->tsc_hz,
		.nr_vcpus = cfg->nr_vcpus,
		.phys_bits = cfg->phys_bits,
	};
	for (unsigned i = 0; i < cfg->nr_vcpus; i++)
		lapic_init(&p->lapic[i], &p->lenv, i);
	dev_lock(&p->lock); /* the devices' init raises no line, but asserts hold */
	pic_init(&p->pic);
	ioapic_init(&p->ioapic, ioapic_deliver, p);
	irq = (struct dev_irq){ .set = isa_irq, .ctx = p, .line = PLAT_IRQ_PIT };
	pit_init(&p->pit, &irq);
	irq.line = PLAT_IRQ_RTC;
	rtc_init(&p->rtc,
		 &(struct rtc_config){ .unix_time = cfg->rtc_unix_time, .ram_below_4g = cfg->ram_below_4g,
				       .ram_above_4g = cfg->ram_above_4g, .nr_vcpus = cfg->nr_vcpus },
		 &irq, t);
	irq.line = PLAT_IRQ_COM1;
	uart_init(&p->uart, cfg->console_mode, cfg->console_write, cfg->ctx, &irq);
	acpi_pm_init(&p->pm, request_stop, p, t);
	fw_cfg_init(&p->fw_cfg);
	pci_init(&p->pci);
	dev_unlock(&p->lock);
	return p;
}

void plat_destroy(struct plat *p)
{
	if (!p)
		return;
	if (p->uart.line_len)
		uart_flush(&p->uart);
	fw_cfg_destroy(&p->fw_cfg);
	host_free(p);
}

struct lapic *plat_lapic(struct plat *p, unsigned vcpu)
{
	return vcpu < p->cfg.nr_vcpus ? &p->lapic[vcpu] : NULL;
}

unsigned plat_nr_vcpus(const struct plat *p)
{
	return p->cfg.nr_vcpus;
}

struct fw_cfg *plat_fw_cfg(struct plat *p)
{
	return &p->fw_cfg;
}

/* ---- open bus ---- */
static void count_open_bus(struct plat *p, u16 port, bool in)
{
	struct plat_port_count *slot = NULL;

	DEV_ASSERT_HELD(&p->lock);
	if (in)
		p->cnt.open_bus_reads++;
	else
		p->cnt.open_bus_writes++;
	for (unsigned i = 0; i < PLAT_OPEN_BUS_TRACK; i++) {
		struct plat_port_count *c = &p->open_bus[i];

		if (c->count && c->port == port) {
			c->count++;
			return;
		}
		if (!c->count && !slot)
			slot = c;
	}
	if (slot)
		*slot = (struct plat_port_count){ .port = port, .count = 1 };
	/* else: the table is full; the port counts in the totals only */
}

/* ---- port I/O ---- */
static u32 size_mask(unsigned size)
{
	return size >= 4 ? 0xffffffffu : (1u << (size * 8)) - 1;
}

/* Byte-wide devices: a wider access is consecutive byte accesses. */
static bool byte_port_read(struct plat *p, u16 port, u8 *out, u64 t)
{
	DEV_ASSERT_HELD(&p->lock);
	if ((port >= PLAT_PORT_PIC_MASTER && port <= PLAT_PORT_PIC_MASTER + 1) ||
	    (port >= PLAT_PORT_PIC_SLAVE && port <= PLAT_PORT_PIC_SLAVE + 1) ||
	    port == PLAT_PORT_ELCR || port == PLAT_PORT_ELCR + 1)
		*out = pic_read(&p->pic, port);
	else if ((port >= PLAT_PORT_PIT && port <= PLAT_PORT_PIT + 3) || port == PLAT_PORT_SYS_CTRL_B)
		*out = pit_read(&p->pit, port, t);
	else if (port == PLAT_PORT_RTC || port == PLAT_PORT_RTC + 1)
		*out = rtc_read(&p->rtc, port, t);
	else if (port >= PLAT_PORT_COM1 && port < PLAT_PORT_COM1 + 8)
		*out = uart_read(&p->uart, port - PLAT_PORT_COM1);
	else if (port == PLAT_PORT_POST)
		*out = 0xff;
	else
		return false;
	return true;
}

static bool byte_port_write(struct plat *p, u16 port, u8 v, u64 t)
{
	DEV_ASSERT_HELD(&p->lock);
	if ((port >= PLAT_PORT_PIC_MASTER && port <= PLAT_PORT_PIC_MASTER + 1) ||
	    (port >= PLAT_PORT_PIC_SLAVE && port <= PLAT_PORT_PIC_SLAVE + 1) ||
	    port == PLAT_PORT_ELCR || port == PLAT_PORT_ELCR + 1) {
		bool was = pic_intr(&p->pic);

		pic_write(&p->pic, port, v);
		if (!was && pic_intr(&p->pic) && extint_pending(p, 0))
			kick(p, 0); /* unmasking a pending line */
	} else if ((port >= PLAT_PORT_PIT && port <= PLAT_PORT_PIT + 3) ||
		   port == PLAT_PORT_SYS_CTRL_B) {
		pit_write(&p->pit, port, v, t);
	} else if (port == PLAT_PORT_RTC || port == PLAT_PORT_RTC + 1) {
		rtc_write(&p->rtc, port, v, t);
	} else if (port >= PLAT_PORT_COM1 && port < PLAT_PORT_COM1 + 8) {
		uart_write(&p->uart, port - PLAT_PORT_COM1, v);
	} else if (port == PLAT_PORT_POST) {
		/* POST codes: dropped */
	} else if (port == PORT_KBD_STATUS && v == KBD_CMD_RESET) {
		request_stop(p, PLAT_STOP_RESET, v); /* 8042 pulse reset line */
	} else {
		return false;
	}
	return true;
}

static bool word_port(struct plat *p, u16 port, unsigned size, bool in, u32 *val, u64 t)
{
	DEV_ASSERT_HELD(&p->lock);
	if (port == PLAT_PORT_FW_CFG || port == PLAT_PORT_FW_CFG + 1) {
		if (in)
			*val = fw_cfg_read(&p->fw_cfg, port, size);
		else
			fw_cfg_write(&p->fw_cfg, port, size, *val);
		return true;
	}
	if (acpi_pm_claims(port, size)) {
		if (in)
			*val = acpi_pm_read(&p->pm, port, size, t);
		else
			acpi_pm_write(&p->pm, port, size, *val, t);
		return true;
	}
	if (pci_claims(port)) {
		p->cnt.pci_config++;
		if (in)
			*val = pci_read(&p->pci, port, size);
		else
			pci_write(&p->pci, port, size, *val);
		return true;
	}
	if (port == PLAT_PORT_DEBUG_EXIT && !in) {
		request_stop(p, PLAT_STOP_DEBUG_EXIT, *val & size_mask(size));
		return true;
	}
	return false;
}

static void pio(struct plat *p, u16 port, unsigned size, bool in, u32 *val, u64 t)
{
	u32 mask = size_mask(size), v = 0;
	bool claimed = true;

	p->cnt.pio++;
	if (word_port(p, port, size, in, val, t)) {
		if (in)
			*val &= mask;
		return;
	}
	for (unsigned i = 0; i < size && claimed; i++) {
		u8 b = 0xff;

		if (in) {
			claimed = byte_port_read(p, (u16)(port + i), &b, t);
			v |= (u32)b << (8 * i);
		} else {
			claimed = byte_port_write(p, (u16)(port + i), (u8)(*val >> (8 * i)), t);
		}
	}
	if (claimed) {
		if (in)
			*val = v & mask;
		return;
	}
	count_open_bus(p, port, in);
	if (in)
		*val = mask;
}

void plat_pio(struct plat *p, unsigned vcpu, u16 port, unsigned size, bool in, u32 *val)
{
	u64 t = now(p);

	(void)vcpu;
	dev_lock(&p->lock);
	pio(p, port, size, in, val, t);
	dev_unlock(&p->lock);
}

/* ---- MMIO ---- */
bool plat_mmio(struct plat *p, unsigned vcpu, gpa_t gpa, unsigned size, bool write, u64 *val)
{
	struct lapic *a = plat_lapic(p, vcpu);

	if (a && lapic_mmio(a, gpa.v, size, write, val))
		return true; /* counted by the LAPIC */
	if (gpa.v >= PLAT_IOAPIC_BASE && gpa.v < PLAT_IOAPIC_BASE + PLAT_IOAPIC_SIZE) {
		u64 off = gpa.v - PLAT_IOAPIC_BASE;

		dev_lock(&p->lock);
		p->cnt.mmio++;
		if (write) {
			if (size >= 4 && !(off & 3))
				ioapic_write(&p->ioapic, off, (u32)*val);
		} else {
			u32 v = ioapic_read(&p->ioapic, off & ~3ull) >> ((off & 3) * 8);

			*val = size >= 4 ? v : v & size_mask(size);
		}
		dev_unlock(&p->lock);
		return true;
	}
	return false;
}

/* ---- MSRs ---- */
int plat_rdmsr(struct plat *p, unsigned vcpu, u32 msr, u64 *val)
{
	struct lapic *a = plat_lapic(p, vcpu);
	int rc = a ? lapic_rdmsr(a, msr, val) : -ENOENT;

	if (rc == -EINVAL)
		plat_note_msr_gp(p, msr);
	return rc;
}

int plat_wrmsr(struct plat *p, unsigned vcpu, u32 msr, u64 val)
{
	struct lapic *a = plat_lapic(p, vcpu);
	int rc = a ? lapic_wrmsr(a, msr, val) : -ENOENT;

	if (rc == -EINVAL)
		plat_note_msr_gp(p, msr);
	return rc;
}

void plat_note_msr_gp(struct plat *p, u32 msr)
{
	dev_lock(&p->lock);
	p->cnt.msr_gp++;
	p->cnt.msr_gp_last = msr;
	dev_unlock(&p->lock);
}

/* ---- ExtINT (8259 through LINT0) ---- */
/* LINT0 as the 8259's INTR sees it: p->lock held, then vCPU 0's LAPIC lock. */
static bool extint_pending(struct plat *p, unsigned vcpu)
{
	struct lapic *a;
	bool r;

	DEV_ASSERT_HELD(&p->lock);
	if (vcpu != 0 || !pic_intr(&p->pic))
		return false;
	a = &p->lapic[0];
	dev_lock(&a->lock);
	if (!(a->apic_base & APIC_BASE_EN))
		r = true; /* APIC off: the 8259 drives the CPU's INTR pin */
	else
		r = !(a->lvt[LVT_LINT0] & LVT_MASKED) &&
		    LVT_DELIVERY(a->lvt[LVT_LINT0]) == LVT_DM_EXTINT;
	dev_unlock(&a->lock);
	return r;
}

bool plat_extint_pending(struct plat *p, unsigned vcpu)
{
	bool r;

	if (vcpu != 0)
		return false; /* the 8259 is wired to vCPU 0 only: no lock needed */
	dev_lock(&p->lock);
	r = extint_pending(p, vcpu);
	dev_unlock(&p->lock);
	return r;
}

int plat_extint_accept(struct plat *p, unsigned vcpu)
{
	int r = -1;

	if (vcpu != 0)
		return -1;
	dev_lock(&p->lock);
	if (extint_pending(p, vcpu))
		r = pic_ack(&p->pic);
	dev_unlock(&p->lock);
	return r;
}

/* ---- time ---- */
/* The guest took the last IRQ 0: it waits neither in the 8259 (an
 * unmasked IRR bit 0) nor in a local APIC (the IRR bit of GSI 2's vector). */
static bool pit_irq_taken(struct plat *p)
{
	const struct pic *m = &p->pic.pic[0];
	u64 r = p->ioapic.redir[PLAT_GSI_PIT];

	DEV_ASSERT_HELD(&p->lock);
	if ((m->irr & ~m->imr) & 1)
		return false;
	if (!(r & IOAPIC_REDIR_MASKED)) {
		for (unsigned i = 0; i < p->cfg.nr_vcpus; i++)
			if (lapic_irr_test(&p->lapic[i], (u8)r))
				return false;
	}
	return true;
}

/* The shared devices' timers (vCPU 0 drives them). */
static void advance_devices(struct plat *p)
{
	u64 t = now(p);

	dev_lock(&p->lock);
	pit_advance(&p->pit, t);
	if (p->pit.owed && pit_irq_taken(p))
		pit_reinject(&p->pit);
	rtc_advance(&p->rtc, t);
	dev_unlock(&p->lock);
}

static u64 devices_next_event_ns(struct plat *p)
{
	u64 next;

	dev_lock(&p->lock);
	next = MIN(pit_next_event_ns(&p->pit), rtc_next_event_ns(&p->rtc));
	if (p->pit.owed && pit_irq_taken(p))
		next = now(p); /* an owed tick goes in at the next plat_advance */
	dev_unlock(&p->lock);
	return next;
}

void plat_advance(struct plat *p)
{
	advance_devices(p);
	for (unsigned i = 0; i < p->cfg.nr_vcpus; i++)
		lapic_advance(&p->lapic[i], now(p));
}

u64 plat_next_event_ns(struct plat *p)
{
	u64 next = devices_next_event_ns(p);

	for (unsigned i = 0; i < p->cfg.nr_vcpus; i++)
		next = MIN(next, lapic_next_event_ns(&p->lapic[i]));
	return next;
}

void plat_advance_vcpu(struct plat *p, unsigned vcpu)
{
	if (vcpu == 0)
		advance_devices(p);
	if (vcpu < p->cfg.nr_vcpus)
		lapic_advance(&p->lapic[vcpu], now(p));
}

u64 plat_next_event_vcpu_ns(struct plat *p, unsigned vcpu)
{
	u64 next = vcpu == 0 ? devices_next_event_ns(p) : PLAT_NO_EVENT;

	if (vcpu < p->cfg.nr_vcpus)
		next = MIN(next, lapic_next_event_ns(&p->lapic[vcpu]));
	return next;
}

bool plat_serial_room(struct plat *p)
{
	bool r;

	dev_lock(&p->lock);
	r = uart_rx_room(&p->uart);
	dev_unlock(&p->lock);
	return r;
}

bool plat_serial_input(struct plat *p, u8 byte)
{
	bool r;

	dev_lock(&p->lock);
	r = uart_receive(&p->uart, byte);
	dev_unlock(&p->lock);
	return r;
}

/* ---- counters ---- */
void plat_get_counters(struct plat *p, struct plat_counters *out)
{
	dev_lock(&p->lock);
	*out = p->cnt;
	out->serial_tx = p->uart.tx;
	out->serial_rx = p->uart.rx_bytes;
	out->serial_overruns = p->uart.overruns;
	/* The top ports, largest first (selection from the tracked table). */
	memset(out->top_ports, 0, sizeof(out->top_ports));
	for (unsigned i = 0; i < PLAT_OPEN_BUS_TRACK; i++) {
		struct plat_port_count c = p->open_bus[i];

		for (unsigned j = 0; j < PLAT_TOP_PORTS && c.count; j++) {
			if (c.count > out->top_ports[j].count) {
				struct plat_port_count t = out->top_ports[j];

				out->top_ports[j] = c;
				c = t;
			}
		}
	}
	dev_unlock(&p->lock);
	for (unsigned i = 0; i < p->cfg.nr_vcpus; i++) {
		struct lapic_counters lc;

		lapic_get_counters(&p->lapic[i], &lc);
		out->ipis_self += lc.ipis_self;
		out->ipis_other += lc.ipis_other;
		out->mmio += lc.mmio;
		out->inits += lc.inits;
		out->sipis += lc.sipis;
	}
}

/* ---- the report line ---- */
struct fmt {
	char *buf;
	size_t len, pos;
};

__printf(2, 3) static void put(struct fmt *f, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (f->pos + 1 >= f->len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(f->buf + f->pos, f->len - f->pos, fmt, ap);
	va_end(ap);
	if (n > 0)
		f->pos = MIN(f->pos + (size_t)n, f->len - 1);
}

static unsigned long long ull(u64 v)
{
	return (unsigned long long)v;
}

size_t plat_format_counters(const struct plat_counters *c, char *buf, size_t len)
{
	struct fmt f = { .buf = buf, .len = len };
	const char *sep = " (";

	if (!len)
		return 0;
	buf[0] = '\0';
	put(&f, "open_bus=%llu", ull(c->open_bus_reads + c->open_bus_writes));
	for (unsigned i = 0; i < PLAT_TOP_PORTS && c->top_ports[i].count; i++, sep = " ")
		put(&f, "%s0x%x:%llu", sep, c->top_ports[i].port, ull(c->top_ports[i].count));
	if (c->top_ports[0].count)
		put(&f, ")");
	put(&f, " pci=%llu msr_gp=%llu", ull(c->pci_config), ull(c->msr_gp));
	if (c->msr_gp)
		put(&f, " (last 0x%x)", c->msr_gp_last);
	sep = " irqs=";
	for (unsigned i = 0; i < ARRAY_SIZE(c->irqs); i++) {
		if (!c->irqs[i])
			continue;
		put(&f, "%s%u:%llu", sep, i, ull(c->irqs[i]));
		sep = ",";
	}
	put(&f, " ipis_other=%llu", ull(c->ipis_other));
	if (c->sipis)
		put(&f, " init_sipi=%llu/%llu", ull(c->inits), ull(c->sipis));
	put(&f, " serial=tx:%llu,rx:%llu", ull(c->serial_tx), ull(c->serial_rx));
	if (c->serial_overruns)
		put(&f, ",overruns:%llu", ull(c->serial_overruns));
	return f.pos;
}
