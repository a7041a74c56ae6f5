// SPDX-License-Identifier: MIT
/*
 * Keel's Multiboot test kernel (docs/guest-abi.md, "Multiboot test
 * kernel"): entered like any Multiboot v1 kernel, it checks what a
 * QEMU-targeted test kernel (kvm-unit-tests' x86 tests) relies on, prints
 * "mbtest: PASS <name>" / "mbtest: FAIL <name>: <why>" on COM1, and ends
 * through the exit port 0xf4 with 0 (all passed) or 1.
 *
 * Its command line says what to expect: "mem=<MiB> mods=<n> cpus=<n>".
 * Module i must hold "keel-module-<i>" and its string must end in " m<i>".
 * With cpus >= 2 it also starts CPU 1 as an OS does: INIT, then SIPI to a
 * real-mode trampoline below 1 MiB, and checks that the AP runs and reads
 * its own APIC ID (LAPIC ID register, CPUID leaf 1); then once more with
 * its own APIC in x2APIC mode (the ICR MSR): INIT resets the halted AP,
 * SIPI starts it again.
 */
#include <keel/types.h>
#include "vmm/dev/layout.h"
#include "vmm/loader/multiboot.h"

#define APIC_SVR 0xf0
#define APIC_EOI 0xb0
#define APIC_ID 0x20
#define APIC_LVT_TIMER 0x320
#define APIC_TIMER_INIT 0x380
#define APIC_TIMER_DIV 0x3e0
#define APIC_TIMER_PERIODIC BIT(17)
#define APIC_ICR_LO 0x300
#define APIC_ICR_HI 0x310
#define ICR_INIT_ASSERT 0x4500u /* INIT, level assert, physical, no shorthand */
#define ICR_STARTUP 0x4600u     /* SIPI: | vector */
#define AP_TRAMP_PAGE 0x8000u   /* free RAM below 1 MiB: SIPI vector 0x08 */
#define MSR_APIC_BASE 0x1bu
#define APIC_BASE_EXTD BIT(10)  /* x2APIC mode */
#define MSR_X2APIC_ICR 0x830u
#define PM_TIMER_PORT 0x608
#define PM_TIMER_HZ 3579545u
#define TIMER_VECTOR 64
#define TIMER_TICKS_WANTED 3
#define HLT_BOUND 100000

#define FW_CFG_SIGNATURE 0x00
#define FW_CFG_ID 0x01
#define FW_CFG_RAM_SIZE 0x03
#define FW_CFG_NB_CPUS 0x05

void mb_main(u32 magic, u32 info_addr);
void mb_interrupt(u32 vector);
void mb_exception(u32 code);
void mb_ap_main(void);
extern char mb_stub_64[], mb_stub_255[], mb_stub_exception[];
extern char mb_ap_tramp[], mb_ap_tramp_end[], mb_ap_gdt[], mb_ap_gdt_desc[];

static unsigned failures, tests;
static volatile unsigned timer_ticks;

/* ---- ports, console ---- */
static void outb(u16 port, u8 v) { asm volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static void outw(u16 port, u16 v) { asm volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static u8 inb(u16 port)
{
	u8 v;

	asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static void putc_com1(char c)
{
	for (unsigned i = 0; i < 100000 && !(inb(PLAT_PORT_COM1 + 5) & 0x20); i++)
		;
	outb(PLAT_PORT_COM1, (u8)c);
}

static void puts_(const char *s)
{
	while (*s)
		putc_com1(*s++);
}

static void putu(u32 v)
{
	char b[12];
	int n = 0;

	do {
		b[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		putc_com1(b[--n]);
}

static void putx(u32 v)
{
	puts_("0x");
	for (int i = 28; i >= 0; i -= 4)
		putc_com1("0123456789abcdef"[(v >> i) & 0xf]);
}

static void result(const char *name, const char *why, u32 a, u32 b)
{
	tests++;
	if (!why) {
		puts_("mbtest: PASS ");
		puts_(name);
		puts_("\n");
		return;
	}
	failures++;
	puts_("mbtest: FAIL ");
	puts_(name);
	puts_(": ");
	puts_(why);
	puts_(" (");
	putx(a);
	puts_(", ");
	putx(b);
	puts_(")\n");
}

static __noreturn void finish(void)
{
	puts_("mbtest: ");
	putu(failures);
	puts_(" of ");
	putu(tests);
	puts_(" failed\n");
	outb(PLAT_PORT_DEBUG_EXIT, failures ? 1 : 0);
	for (;;)
		asm volatile("cli; hlt");
}

/* ---- small string helpers ---- */
static bool starts(const char *s, const char *p)
{
	while (*p)
		if (*s++ != *p++)
			return false;
	return true;
}

static u32 slen(const char *s)
{
	u32 n = 0;

	while (s[n])
		n++;
	return n;
}

static bool ends(const char *s, const char *p)
{
	u32 a = slen(s), b = slen(p);

	return a >= b && starts(s + a - b, p);
}

/* The command line's first word (the image) contains 'name'. */
static bool first_word_has(const char *cmd, const char *name)
{
	for (const char *p = cmd; *p && *p != ' '; p++)
		if (starts(p, name))
			return true;
	return false;
}

/* "key=<decimal>" from the command line, or def. */
static u32 arg(const char *cmdline, const char *key, u32 def)
{
	u32 k = slen(key);

	for (const char *p = cmdline; *p; p++) {
		if ((p == cmdline || p[-1] == ' ') && starts(p, key) && p[k] == '=') {
			u32 v = 0;

			for (p += k + 1; *p >= '0' && *p <= '9'; p++)
				v = v * 10 + (u32)(*p - '0');
			return v;
		}
	}
	return def;
}

/* ---- the checks ---- */
static const char *check_info(u32 magic, const struct mb_info *mi, u32 mem_mib)
{
	const u32 want = MB_INFO_MEMORY | MB_INFO_CMDLINE | MB_INFO_MODS | MB_INFO_MMAP |
			 MB_INFO_LOADER_NAME;
	const char *cmd = (const char *)mi->cmdline;
	u64 ram = 0;

	if (magic != MB_BOOT_MAGIC)
		return "EAX is not 0x2BADB002";
	if ((mi->flags & want) != want)
		return "information flags missing";
	if (mi->mem_lower != 639)
		return "mem_lower is not 639 KiB";
	if (!first_word_has(cmd, "mbtest"))
		return "command line's first word is not the image name";
	if (!starts((const char *)mi->boot_loader_name, "Keel"))
		return "boot loader name is not Keel";
	for (u32 off = 0; off < mi->mmap_length;) {
		const struct mb_mmap_entry *e = (const void *)(mi->mmap_addr + off);

		if (e->type == 1)
			ram += e->len;
		off += e->size + 4;
	}
	/* All RAM minus the EBDA/BIOS area [0x9fc00, 1 MiB). */
	if (ram + 0x60400 != (u64)mem_mib << 20)
		return "memory map RAM does not add up to mem=";
	if (mem_mib <= 3072 && mi->mem_upper != (mem_mib - 1) * 1024)
		return "mem_upper does not match mem=";
	if ((u32)mi + sizeof(*mi) <= 0x100000 || (u32)mi < 0x400000)
		return "information block overlaps the BIOS area or lies below the kernel";
	return NULL;
}

static const char *check_modules(const struct mb_info *mi, u32 want)
{
	const struct mb_module *m = (const void *)mi->mods_addr;

	if (mi->mods_count != want)
		return "mods_count differs from mods=";
	for (u32 i = 0; i < want; i++) {
		char text[] = "keel-module-0", tail[] = " m0";

		text[12] = tail[2] = (char)('0' + i);
		if (m[i].mod_start & 0xfff)
			return "module not page-aligned";
		if (m[i].mod_end - m[i].mod_start < 13 || !starts((const char *)m[i].mod_start, text))
			return "module content is wrong";
		if (!ends((const char *)m[i].string, tail))
			return "module string is wrong";
	}
	return NULL;
}

static void fw_cfg_read(u16 key, void *buf, u32 n)
{
	outw(PLAT_PORT_FW_CFG, key);
	for (u32 i = 0; i < n; i++)
		((u8 *)buf)[i] = inb(PLAT_PORT_FW_CFG + 1);
}

static const char *check_fw_cfg(u32 mem_mib, u32 cpus)
{
	char sig[4];
	u16 ncpu = 0;
	u64 ram = 0;
	u32 id = 0;

	fw_cfg_read(FW_CFG_SIGNATURE, sig, 4);
	if (sig[0] != 'Q' || sig[1] != 'E' || sig[2] != 'M' || sig[3] != 'U')
		return "signature is not QEMU";
	fw_cfg_read(FW_CFG_ID, &id, 4);
	if (!(id & 1))
		return "ID lacks the traditional interface bit";
	fw_cfg_read(FW_CFG_NB_CPUS, &ncpu, 2);
	if (ncpu != cpus)
		return "CPU count differs from cpus=";
	fw_cfg_read(FW_CFG_RAM_SIZE, &ram, 8);
	if (ram != (u64)mem_mib << 20)
		return "RAM size differs from mem=";
	return NULL;
}

static u8 sum(const void *p, u32 n)
{
	u8 s = 0;

	for (u32 i = 0; i < n; i++)
		s = (u8)(s + ((const u8 *)p)[i]);
	return s;
}

/* The RSDP by the legacy scan, then the XSDT's MADT and FADT. */
static const char *check_acpi(u32 *lapics)
{
	const u8 *rsdp = NULL;
	const u32 *xsdt;
	bool madt = false, fadt = false;

	for (u32 a = 0xe0000; a < 0x100000 && !rsdp; a += 16)
		if (starts((const char *)a, "RSD PTR ") && !sum((const void *)a, 20))
			rsdp = (const u8 *)a;
	if (!rsdp)
		return "no RSDP in 0xe0000-0xfffff";
	if (rsdp[15] < 2 || sum(rsdp, 36))
		return "RSDP is not revision 2 with a valid extended checksum";
	xsdt = (const u32 *)*(const u32 *)(rsdp + 24);
	if (!starts((const char *)xsdt, "XSDT") || sum(xsdt, xsdt[1]))
		return "XSDT signature or checksum bad";
	for (u32 i = 0; i < (xsdt[1] - 36) / 8; i++) {
		const u8 *t = (const u8 *)*(const u32 *)((const u8 *)xsdt + 36 + 8 * i);
		u32 len = *(const u32 *)(t + 4);

		if (sum(t, len))
			return "a table's checksum is bad";
		if (starts((const char *)t, "FACP"))
			fadt = true;
		if (starts((const char *)t, "APIC")) {
			madt = true;
			for (u32 o = 44; o + 2 <= len && t[o + 1]; o += t[o + 1])
				if (t[o] == 0)
					(*lapics)++;
		}
	}
	return madt && fadt ? NULL : "MADT or FADT missing from the XSDT";
}

/* ---- the LAPIC timer ---- */
struct idt_gate {
	u16 off_lo, sel;
	u8 zero, type;
	u16 off_hi;
} __packed;

static struct idt_gate idt[256];
static u16 code_selector;

static void set_gate(unsigned vec, void *handler)
{
	u32 a = (u32)handler;

	idt[vec] = (struct idt_gate){ (u16)a, code_selector, 0, 0x8e, (u16)(a >> 16) };
}

static void idt_init(void)
{
	struct __packed { u16 limit; u32 base; } d = { sizeof(idt) - 1, (u32)idt };

	asm volatile("mov %%cs, %0" : "=r"(code_selector));
	for (unsigned v = 0; v < 32; v++)
		set_gate(v, mb_stub_exception);
	set_gate(TIMER_VECTOR, mb_stub_64);
	set_gate(255, mb_stub_255);
	asm volatile("lidt %0" : : "m"(d));
}

static volatile u32 *apic(u32 reg)
{
	return (volatile u32 *)(u32)(PLAT_LAPIC_BASE + reg);
}

void mb_interrupt(u32 vector)
{
	if (vector == TIMER_VECTOR)
		timer_ticks++;
	if (vector != 255)
		*apic(APIC_EOI) = 0;
}

void mb_exception(u32 code)
{
	result("exception", "unexpected CPU exception", code, 0);
	finish();
}

static const char *check_apic_timer(void)
{
	*apic(APIC_SVR) = 0x100 | 0xff; /* software enable, spurious vector 255 */
	*apic(APIC_TIMER_DIV) = 0xb;    /* divide by 1 */
	*apic(APIC_LVT_TIMER) = APIC_TIMER_PERIODIC | TIMER_VECTOR;
	*apic(APIC_TIMER_INIT) = 1000000;
	for (unsigned i = 0; i < HLT_BOUND && timer_ticks < TIMER_TICKS_WANTED; i++)
		asm volatile("sti; hlt; cli");
	*apic(APIC_LVT_TIMER) = BIT(16); /* masked */
	return timer_ticks >= TIMER_TICKS_WANTED ? NULL : "fewer than 3 timer interrupts";
}

/* ---- an AP started by INIT/SIPI ---- */
static volatile u32 ap_alive, ap_apic_id, ap_cpuid_id;

static u32 inl(u16 port)
{
	u32 v;

	asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* On the AP, in 32-bit protected mode (entry.S's trampoline). */
void mb_ap_main(void)
{
	u32 a = 1, b, c = 0, d;

	asm volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	ap_cpuid_id = b >> 24;
	ap_apic_id = *apic(APIC_ID) >> 24;
	__atomic_store_n(&ap_alive, 1, __ATOMIC_RELEASE);
}

/* Spin until the AP says it runs, at most 'ms' by the ACPI PM timer. */
static bool wait_ap(u32 ms)
{
	u32 t0 = inl(PM_TIMER_PORT), bound = PM_TIMER_HZ / 1000 * ms;

	while (!__atomic_load_n(&ap_alive, __ATOMIC_ACQUIRE))
		if (((inl(PM_TIMER_PORT) - t0) & 0xffffff) > bound)
			return false;
	return true;
}

static u64 rdmsr(u32 msr)
{
	u32 lo, hi;

	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((u64)hi << 32) | lo;
}

static void wrmsr(u32 msr, u64 v)
{
	asm volatile("wrmsr" : : "c"(msr), "a"((u32)v), "d"((u32)(v >> 32)));
}

/* INIT then SIPI to APIC ID 1: through the xAPIC page, or (x2) the x2APIC
 * ICR MSR, one 64-bit write each with the destination in bits 63:32. */
static void init_sipi(bool x2)
{
	__atomic_store_n(&ap_alive, 0, __ATOMIC_RELEASE);
	ap_apic_id = ap_cpuid_id = ~0u;
	if (x2) {
		wrmsr(MSR_X2APIC_ICR, (1ull << 32) | ICR_INIT_ASSERT);
		wrmsr(MSR_X2APIC_ICR, (1ull << 32) | ICR_STARTUP | (AP_TRAMP_PAGE >> 12));
		return;
	}
	*apic(APIC_ICR_HI) = 1u << 24; /* APIC ID 1 */
	*apic(APIC_ICR_LO) = ICR_INIT_ASSERT;
	*apic(APIC_ICR_HI) = 1u << 24;
	*apic(APIC_ICR_LO) = ICR_STARTUP | (AP_TRAMP_PAGE >> 12);
}

/* INIT/SIPI twice: first through the xAPIC page; then, with this CPU's
 * APIC switched to x2APIC mode, through the ICR MSR: the second INIT resets
 * the AP, which has halted with interrupts off after its first run, and
 * the SIPI starts it again. */
static const char *check_ap_start(void)
{
	u32 len = (u32)(mb_ap_tramp_end - mb_ap_tramp);
	u8 *dst = (u8 *)AP_TRAMP_PAGE;

	for (u32 i = 0; i < len; i++)
		dst[i] = (u8)mb_ap_tramp[i];
	*(u32 *)(dst + (mb_ap_gdt_desc - mb_ap_tramp) + 2) =
		AP_TRAMP_PAGE + (u32)(mb_ap_gdt - mb_ap_tramp);
	for (unsigned round = 0; round < 2; round++) {
		if (round == 1)
			wrmsr(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) | APIC_BASE_EXTD);
		init_sipi(round == 1);
		if (!wait_ap(2000))
			return round ? "the AP did not run again after a second INIT/SIPI"
				     : "the AP did not run within 2 s of INIT/SIPI";
		if (ap_apic_id != 1)
			return "the AP's LAPIC ID register is not 1";
		if (ap_cpuid_id != 1)
			return "the AP's CPUID leaf 1 APIC ID is not 1";
	}
	return NULL;
}

void mb_main(u32 magic, u32 info_addr)
{
	const struct mb_info *mi = (const void *)info_addr;
	const char *cmd = magic == MB_BOOT_MAGIC ? (const char *)mi->cmdline : "";
	u32 mem = arg(cmd, "mem", 0), mods = arg(cmd, "mods", 0), cpus = arg(cmd, "cpus", 1);
	u32 lapics = 0;
	const char *why;

	puts_("mbtest: Multiboot test kernel, command line \"");
	puts_(cmd);
	puts_("\"\n");
	idt_init();
	result("multiboot-info", check_info(magic, mi, mem), magic, mi->flags);
	if (magic != MB_BOOT_MAGIC)
		finish();
	result("modules", check_modules(mi, mods), mi->mods_count, mods);
	result("fw-cfg", check_fw_cfg(mem, cpus), mem, cpus);
	why = check_acpi(&lapics);
	if (!why && lapics != cpus)
		why = "MADT LAPIC count differs from cpus=";
	result("acpi", why, lapics, cpus);
	result("apic-timer", check_apic_timer(), timer_ticks, *apic(APIC_ID));
	if (cpus >= 2)
		result("ap-start", check_ap_start(), ap_alive, ap_apic_id);
	finish();
}
