/* SPDX-License-Identifier: MIT */
/*
 * The virtual platform of one VM (docs/platform.md, "Devices"): the 8259
 * pair + ELCR, the I/O APIC, one local APIC per vCPU, the PIT 8254 and port
 * 0x61, the CMOS RTC, the 16550A UART on COM1, the ACPI PM timer / PM1a
 * event and control blocks / reset register, fw_cfg, the debug-exit port,
 * the PCI configuration ports (an empty bus), the POST port and counted open
 * bus for every other port. Addresses, ports and IRQs: vmm/dev/layout.h.
 *
 * Portable C: time, console output, stops and vCPU kicks go through the
 * callbacks of struct plat_config, so every device is tested hosted.
 *
 * Concurrency: every function here may be called from any CPU at any time
 * (docs/platform.md, "Locking"): plat->lock owns the shared devices (8259,
 * I/O APIC, PIT, RTC, UART, PM, PCI, counters), each LAPIC's own lock its
 * state; the order is plat->lock, then one LAPIC lock. Only plat_fw_cfg's
 * device is filled without a lock, by the loader, before any vCPU runs.
 * Callbacks of struct plat_config may run with those locks held: they must
 * not call back into the platform (kick_vcpu, console_write, request_stop
 * only wake a CPU, print, or record).
 */
#pragma once

#include <keel/types.h>

struct plat;    /* one per VM */
struct lapic;   /* one per vCPU */
struct fw_cfg;  /* the VM's fw_cfg device (vmm/dev/fw_cfg.h adds keys) */

enum plat_stop {
	PLAT_STOP_DEBUG_EXIT, /* OUT to port 0xf4: code = the value written */
	PLAT_STOP_POWEROFF,   /* ACPI S5 (PM1a_CNT SLP_EN with SLP_TYP S5), code 0 */
	PLAT_STOP_RESET,      /* 0xcf9 <- 0x06/0x0e, or 0x64 <- 0xfe, code = value */
};

/*
 * How COM1's transmitted bytes reach console_write:
 *  LINES: Keel's self-test guest. Bytes are collected into lines, each line
 *         written once as "guest: <line>\n"; CR dropped, non-printable bytes
 *         become '.', so the guest cannot drive Keel's terminal.
 *  RAW:   real operating systems (Linux, Multiboot kernels). Every byte is
 *         written as it is, so an interactive shell works.
 * The loader chooses: the flat self-test image runs with LINES, every other
 * guest with RAW (plat_config.console_mode).
 */
enum plat_console_mode {
	PLAT_CONSOLE_LINES,
	PLAT_CONSOLE_RAW,
};

struct plat_config {
	unsigned nr_vcpus;            /* 1 .. PLAT_MAX_VCPUS; LAPIC IDs 0 .. nr_vcpus-1 */
	u64 tsc_hz;                   /* guest TSC rate: TSC-deadline timer, CPUID */
	u64 ram_below_4g;             /* bytes of RAM below 4 GiB (CMOS size bytes) */
	u64 ram_above_4g;             /* bytes of RAM from 4 GiB on */
	unsigned phys_bits;           /* guest MAXPHYADDR (APIC_BASE reserved bits); 0 = 36 */
	u64 rtc_unix_time;            /* wall clock at plat_create, seconds since 1970 (UTC) */
	enum plat_console_mode console_mode;

	/* Monotonic guest time in ns (required). Every device timer runs on it. */
	u64 (*now_ns)(void *ctx);
	/* The vCPU's guest TSC now (host TSC + offset); NULL: derived from
	 * now_ns and tsc_hz. Used by IA32_TSC_DEADLINE. */
	u64 (*guest_tsc)(void *ctx, unsigned vcpu);
	/* COM1 output (see enum plat_console_mode); NULL drops it. */
	void (*console_write)(void *ctx, const char *s, size_t n);
	/* The guest asked to end the VM (debug exit, poweroff, reset). */
	void (*request_stop)(void *ctx, enum plat_stop why, u32 code);
	/* An interrupt (or NMI/INIT/SIPI) became pending for this vCPU: wake it
	 * from HLT or make it take an exit. NULL: nothing to do (one vCPU that
	 * polls after each exit). */
	void (*kick_vcpu)(void *ctx, unsigned vcpu);
	/* Told of every ICR write whose destination is not only the sender,
	 * after the platform delivered it to the other vCPUs' LAPICs (counted
	 * in plat_counters.ipis_other). NULL: nothing to tell. */
	void (*send_ipi)(void *ctx, unsigned from_vcpu, u64 icr);
	void *ctx;
};

/* NULL when cfg is invalid (no now_ns, nr_vcpus out of range) or out of memory. */
struct plat *plat_create(const struct plat_config *cfg);
void plat_destroy(struct plat *p);
struct lapic *plat_lapic(struct plat *p, unsigned vcpu);
unsigned plat_nr_vcpus(const struct plat *p);
/* Loaders add keys and files before the first entry (vmm/dev/fw_cfg.h). */
struct fw_cfg *plat_fw_cfg(struct plat *p);

/* Port I/O (size 1, 2 or 4): always handled, by a device or as counted open
 * bus (reads all ones, writes dropped). For IN, *val receives the value
 * (the low 'size' bytes meaningful, the rest zero); for OUT, *val is read. */
void plat_pio(struct plat *p, unsigned vcpu, u16 port, unsigned size, bool in, u32 *val);
/* MMIO (size 1, 2, 4 or 8): true if a device claimed gpa (that vCPU's LAPIC
 * page while it is enabled in xAPIC mode, the IOAPIC page); false: not a
 * device, the caller treats it as open bus / RAM. */
bool plat_mmio(struct plat *p, unsigned vcpu, gpa_t gpa, unsigned size, bool write, u64 *val);
/* MSRs the platform owns: IA32_APIC_BASE (0x1b), IA32_TSC_DEADLINE (0x6e0),
 * the x2APIC range 0x800-0x8ff. 0 handled; -ENOENT not a platform MSR;
 * -EINVAL: the caller injects #GP(0). */
int plat_rdmsr(struct plat *p, unsigned vcpu, u32 msr, u64 *val);
int plat_wrmsr(struct plat *p, unsigned vcpu, u32 msr, u64 val);

/* ---- interrupts as the vCPU's event logic sees them ----
 * Order of checks before an entry: NMI (lapic_take_nmi), then ExtINT
 * (plat_extint_pending/plat_extint_accept: the 8259 through LINT0 in
 * virtual-wire mode, not subject to the PPR), then lapic_pending_vector. */
/* Highest IRR vector whose priority class is above the PPR, or -1. */
int lapic_pending_vector(struct lapic *a);
/* The vector was injected: IRR -> ISR (and the PPR follows). */
void lapic_accept_vector(struct lapic *a, int vec);
/* An NMI is pending (LINT1 NMI, ICR NMI to self): true once, clears it. */
bool lapic_take_nmi(struct lapic *a);
/* INIT / SIPI received from another vCPU (true once; the LAPIC was reset at
 * the INIT). A SIPI matters only to a vCPU waiting for one. */
bool lapic_take_init(struct lapic *a);
/* A vCPU waiting for a SIPI: INIT and SIPI taken together (an INIT clears
 * an earlier SIPI, so a SIPI seen here follows every pending INIT). */
bool lapic_take_start(struct lapic *a, u8 *vec);
/* CR8 <-> TPR[7:4] (64-bit guests' MOV CR8). */
void lapic_set_cr8(struct lapic *a, u64 cr8);
u64 lapic_get_cr8(struct lapic *a);
/* The LAPIC is in x2APIC mode (APIC_BASE bits 11 and 10). */
bool lapic_x2apic_mode(struct lapic *a);

/* The 8259's INTR reaches this vCPU's LINT0 (unmasked, delivery mode
 * ExtINT; vCPU 0 only) or, with the LAPIC globally disabled, its INTR pin
 * directly (through-local-APIC-off = 8259 wired to the CPU). */
bool plat_extint_pending(struct plat *p, unsigned vcpu);
/* INTA cycle: the 8259 gives the vector (IRR -> ISR unless auto-EOI);
 * a spurious IRQ 7/15 vector when the request went away; -1 when no
 * ExtINT is pending. */
int plat_extint_accept(struct plat *p, unsigned vcpu);

/* ---- time ---- */
/* Run every device timer up to now_ns (raise the IRQs that fell due). Call
 * before checking for pending interrupts, after each exit. */
void plat_advance(struct plat *p);
/* When the next device timer fires (absolute, in now_ns time); U64_MAX: none.
 * An HLTed vCPU sleeps until then, or until plat_serial_input. */
u64 plat_next_event_ns(struct plat *p);
/* The same split by vCPU, for SMP: vCPU n advances (and sleeps until) its
 * own LAPIC's timer; vCPU 0 also the shared devices (PIT, RTC, PM). */
void plat_advance_vcpu(struct plat *p, unsigned vcpu);
u64 plat_next_event_vcpu_ns(struct plat *p, unsigned vcpu);
#define PLAT_NO_EVENT (~0ull)

/* Host serial RX -> COM1's receive FIFO (raises IRQ 4 if enabled). False
 * when the FIFO is full (the byte is dropped and counted as an overrun). */
bool plat_serial_input(struct plat *p, u8 byte);
/* True when COM1 can take a byte now (plat_serial_input would not overrun). */
bool plat_serial_room(struct plat *p);

/* ---- counters, for the summary line ---- */
#define PLAT_TOP_PORTS 8
struct plat_port_count {
	u16 port;
	u64 count;
};
struct plat_counters {
	u64 pio, mmio;                      /* every access handled */
	u64 open_bus_reads, open_bus_writes; /* ports no device claims */
	/* The most-used open-bus ports (count 0 = unused slot), largest first.
	 * Approximate once more than PLAT_OPEN_BUS_TRACK ports are seen. */
	struct plat_port_count top_ports[PLAT_TOP_PORTS];
	u64 pci_config;                     /* 0xcf8-0xcff accesses */
	u64 ipis_self, ipis_other;          /* ICR writes to the sender only / to others */
	u64 inits, sipis;                   /* INIT / SIPI messages accepted by LAPICs */
	u64 irqs[16];                       /* ISA IRQ assertions (edge or level rising) */
	u64 serial_tx, serial_rx, serial_overruns;
	u64 msr_gp;                         /* MSR accesses answered with #GP (plat_note_msr_gp) */
	u32 msr_gp_last;                    /* the last such MSR */
};
void plat_get_counters(struct plat *p, struct plat_counters *out);
/* One line for the run's report, e.g. "open_bus=67 (0x64:20 0x2f8:8) pci=4
 * msr_gp=2 (last 0xc0011234) irqs=0:812,4:35 ipis_other=0 serial=tx:9120,rx:3";
 * truncated to len. Returns the length written. */
size_t plat_format_counters(const struct plat_counters *c, char *buf, size_t len);
/* vmm/msr.c reports every MSR access it answers with #GP, so the summary
 * has one count (platform MSRs count themselves). */
void plat_note_msr_gp(struct plat *p, u32 msr);
