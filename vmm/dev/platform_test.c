// SPDX-License-Identifier: MIT
/* Hosted tests of the platform as a whole (platform.c with every device):
 * port dispatch, counted open bus, POST, debug exit, reset, ACPI PM timer
 * and poweroff, the empty PCI bus, fw_cfg, and the interrupt paths PIT ->
 * I/O APIC -> LAPIC, 8259 -> LINT0 (ExtINT), COM1 input -> IRQ 4. */
#include <errno.h>
#include "vmm/dev/dev_test.h"
#include "vmm/dev/dev.h"
#include "vmm/dev/fw_cfg.h"
#include "vmm/dev/layout.h"
#include "vmm/dev/platform.h"

static struct plat *p;
static enum plat_stop stop_why;
static u32 stop_code;
static unsigned stops, kicks;
static char out[256];
static size_t out_len;

static void on_stop(void *ctx, enum plat_stop why, u32 code)
{
	stop_why = why;
	stop_code = code;
	stops++;
}

static void on_kick(void *ctx, unsigned vcpu) { kicks++; }

static void console(void *ctx, const char *s, size_t n)
{
	memcpy(out + out_len, s, n);
	out_len += n;
	out[out_len] = '\0';
}

static int setup(void **state)
{
	struct plat_config cfg = {
		.nr_vcpus = 1, .tsc_hz = 2000000000ull, .ram_below_4g = 256ull << 20,
		.console_mode = PLAT_CONSOLE_RAW, .now_ns = fake_now_ns,
		.console_write = console, .request_stop = on_stop, .kick_vcpu = on_kick,
		.rtc_unix_time = 1796151151ull,
	};

	fake_now = 1000;
	stops = kicks = 0;
	out_len = 0;
	p = plat_create(&cfg);
	return p ? 0 : -1;
}

static int teardown(void **state)
{
	plat_destroy(p);
	return 0;
}

static u32 in(u16 port, unsigned size)
{
	u32 v = 0x12345678;

	plat_pio(p, 0, port, size, true, &v);
	return v;
}

static void outp(u16 port, unsigned size, u32 v)
{
	plat_pio(p, 0, port, size, false, &v);
}

static void mmio_w(u64 gpa, u32 v)
{
	u64 x = v;

	assert_true(plat_mmio(p, 0, GPA(gpa), 4, true, &x));
}

static void test_create_rejects(void **state)
{
	struct plat_config bad = { .nr_vcpus = 1 };

	SCENARIO("plat_create refuses a config without a clock or vCPUs");
	assert_null(plat_create(&bad));
	bad.now_ns = fake_now_ns;
	bad.nr_vcpus = PLAT_MAX_VCPUS + 1;
	assert_null(plat_create(&bad));
}

static void test_open_bus(void **state)
{
	struct plat_counters c;

	SCENARIO("unclaimed ports: all ones, writes dropped, counted per port; POST not counted");
	assert_int_equal(in(0x1234, 4), 0xffffffffu);
	assert_int_equal(in(0x1234, 1), 0xff);
	assert_int_equal(in(0x2f8, 2), 0xffff); /* COM2: not present */
	outp(0x1234, 1, 0);
	outp(0x80, 1, 0x42);
	for (int i = 0; i < 5; i++)
		(void)in(0x64, 1);
	plat_get_counters(p, &c);
	assert_int_equal(c.open_bus_reads, 8);
	assert_int_equal(c.open_bus_writes, 1);
	assert_int_equal(c.top_ports[0].port, 0x64);
	assert_int_equal(c.top_ports[0].count, 5);
	assert_int_equal(c.top_ports[1].port, 0x1234);
	assert_int_equal(c.top_ports[1].count, 3);
}

static void test_debug_exit_and_reset(void **state)
{
	SCENARIO("0xf4 ends the VM with the value; 0xcf9 and 0x64 reset");
	outp(PLAT_PORT_DEBUG_EXIT, 1, 0x21);
	assert_int_equal(stops, 1);
	assert_int_equal(stop_why, PLAT_STOP_DEBUG_EXIT);
	assert_int_equal(stop_code, 0x21);
	outp(PLAT_PORT_DEBUG_EXIT, 4, 0x12345678);
	assert_int_equal(stop_code, 0x12345678);
	outp(PLAT_PORT_RESET, 1, 0x02);
	assert_int_equal(stops, 2);
	outp(PLAT_PORT_RESET, 1, 0x06);
	assert_int_equal(stops, 3);
	assert_int_equal(stop_why, PLAT_STOP_RESET);
	outp(0x64, 1, 0xfe);
	assert_int_equal(stops, 4);
	assert_int_equal(stop_why, PLAT_STOP_RESET);
}

static void test_pci(void **state)
{
	SCENARIO("PCI mechanism #1 detected, every device absent");
	outp(0xcf8, 4, 0x80000000u);
	assert_int_equal(in(0xcf8, 4), 0x80000000u);
	assert_int_equal(in(0xcfc, 4), 0xffffffffu);
	assert_int_equal(in(0xcfe, 2), 0xffff);
	outp(0xcfb, 1, 0x01); /* type 2 probe: dropped */
	assert_int_equal(in(0xcf8, 4), 0x80000000u);
	outp(0xcf8, 4, 0x8000f803u);
	assert_int_equal(in(0xcf8, 4), 0x8000f800u);
}

static void test_acpi_pm(void **state)
{
	u32 t0;

	SCENARIO("PM timer at 3.579545 MHz, TMR_STS write-1-to-clear, S5 powers off");
	t0 = in(PLAT_PORT_PM_TMR, 4);
	fake_now += NS_PER_SEC;
	assert_int_equal((in(PLAT_PORT_PM_TMR, 4) - t0) & 0xffffff, PLAT_PM_TMR_HZ & 0xffffff);
	assert_int_equal(in(PLAT_PORT_PM_TMR, 4) >> 24, 0);
	assert_int_equal(in(PLAT_PORT_PM1A_CNT, 2) & 1, 1); /* SCI_EN */
	fake_now += 3 * NS_PER_SEC; /* bit 23 toggles every ~2.34 s */
	assert_true(in(PLAT_PORT_PM1A_EVT, 2) & 1);
	outp(PLAT_PORT_PM1A_EVT, 2, 1);
	assert_false(in(PLAT_PORT_PM1A_EVT, 2) & 1);
	outp(PLAT_PORT_PM1A_EVT + 2, 2, 0xffff);
	assert_int_equal(in(PLAT_PORT_PM1A_EVT + 2, 2), 0x0721);
	outp(PLAT_PORT_PM1A_CNT, 2, 1u << 10); /* SLP_TYP 1 without SLP_EN */
	assert_int_equal(stops, 0);
	outp(PLAT_PORT_PM1A_CNT, 2, (PLAT_SLP_TYP_S5 << 10) | (1u << 13));
	assert_int_equal(stops, 1);
	assert_int_equal(stop_why, PLAT_STOP_POWEROFF);
}

static void test_fw_cfg(void **state)
{
	struct fw_cfg *fc = plat_fw_cfg(p);
	u8 dir[4 + 64];
	char sig[5] = { 0 };

	SCENARIO("fw_cfg: signature, ID, numbered keys, file directory");
	outp(0x510, 2, FW_CFG_SIGNATURE);
	for (int i = 0; i < 4; i++)
		sig[i] = (char)in(0x511, 1);
	assert_string_equal(sig, "QEMU");
	assert_int_equal(in(0x511, 1), 0); /* past the end */
	outp(0x510, 2, FW_CFG_ID);
	assert_int_equal(in(0x511, 4), 1);
	assert_int_equal(fw_cfg_add_u16(fc, FW_CFG_NB_CPUS, 1), 0);
	assert_int_equal(fw_cfg_add_u64(fc, FW_CFG_RAM_SIZE, 256ull << 20), 0);
	assert_int_equal(fw_cfg_add_file(fc, "etc/keel-test", "abc", 3), FW_CFG_FILE_FIRST);
	assert_int_equal(fw_cfg_add_file(fc, "etc/keel-test", "x", 1), -EEXIST);
	assert_int_equal(fw_cfg_add_bytes(fc, FW_CFG_FILE_DIR, "x", 1), -EINVAL);
	outp(0x510, 2, FW_CFG_NB_CPUS);
	assert_int_equal(in(0x511, 1) | (in(0x511, 1) << 8), 1);
	outp(0x510, 2, FW_CFG_RAM_SIZE);
	assert_int_equal(in(0x511, 4), 256u << 20);
	outp(0x510, 2, FW_CFG_FILE_DIR);
	for (unsigned i = 0; i < sizeof(dir); i++)
		dir[i] = (u8)in(0x511, 1);
	assert_int_equal(dir[3], 1); /* big-endian count */
	assert_int_equal(dir[4 + 3], 3); /* big-endian size */
	assert_int_equal((dir[4 + 4] << 8) | dir[4 + 5], FW_CFG_FILE_FIRST);
	assert_string_equal((char *)&dir[4 + 8], "etc/keel-test");
	outp(0x510, 2, FW_CFG_FILE_FIRST);
	assert_int_equal(in(0x511, 1), 'a');
	outp(0x510, 2, 0x1234);
	assert_int_equal(in(0x511, 1), 0);
}

static void test_pit_to_lapic(void **state)
{
	struct lapic *a = plat_lapic(p, 0);
	struct plat_counters c;

	SCENARIO("PIT channel 0 -> GSI 2 -> I/O APIC -> LAPIC vector, owed ticks re-injected");
	outp(0x21, 1, 0xff); /* the 8259 masked, as Linux leaves it */
	mmio_w(PLAT_LAPIC_BASE + 0xf0, 0x1ff);
	mmio_w(PLAT_IOAPIC_BASE, 0x10 + 2 * PLAT_GSI_PIT);
	mmio_w(PLAT_IOAPIC_BASE + 0x10, 0x30);
	outp(0x43, 1, 0x34);
	outp(0x40, 1, 0xa9);
	outp(0x40, 1, 0x04);
	assert_int_equal(lapic_pending_vector(a), -1);
	fake_now = plat_next_event_ns(p);
	plat_advance(p);
	assert_int_equal(lapic_pending_vector(a), 0x30);
	assert_true(kicks >= 1);
	plat_get_counters(p, &c);
	assert_int_equal(c.irqs[0], 1);
	/* Three periods late: one now, the two owed ones only after the
	 * guest took the previous one. */
	lapic_accept_vector(a, 0x30);
	mmio_w(PLAT_LAPIC_BASE + 0xb0, 0);
	fake_now += 3 * 1000000;
	plat_advance(p);
	assert_int_equal(lapic_pending_vector(a), 0x30);
	plat_advance(p);
	plat_get_counters(p, &c);
	assert_int_equal(c.irqs[0], 2); /* still pending: nothing re-injected */
	assert_true(plat_next_event_ns(p) > fake_now);
	lapic_accept_vector(a, 0x30);
	mmio_w(PLAT_LAPIC_BASE + 0xb0, 0);
	assert_int_equal(plat_next_event_ns(p), fake_now);
	plat_advance(p);
	plat_get_counters(p, &c);
	assert_int_equal(c.irqs[0], 3);
	assert_int_equal(lapic_pending_vector(a), 0x30);
}

static void test_extint(void **state)
{
	SCENARIO("8259 output through LINT0 in ExtINT mode, and with the APIC off");
	mmio_w(PLAT_LAPIC_BASE + 0xf0, 0x1ff);
	outp(0x20, 1, 0x11);
	outp(0x21, 1, 0x30);
	outp(0x21, 1, 0x04);
	outp(0x21, 1, 0x01);
	outp(0x21, 1, 0xfe); /* IRQ 0 only */
	outp(0x43, 1, 0x34);
	outp(0x40, 1, 100);
	outp(0x40, 1, 0);
	fake_now = plat_next_event_ns(p);
	plat_advance(p);
	assert_false(plat_extint_pending(p, 0)); /* LINT0 masked */
	mmio_w(PLAT_LAPIC_BASE + 0x350, 0x700);
	assert_true(plat_extint_pending(p, 0));
	assert_int_equal(plat_extint_accept(p, 0), 0x30);
	assert_false(plat_extint_pending(p, 0));
	assert_int_equal(plat_extint_accept(p, 0), -1);
	outp(0x20, 1, 0x20);
	assert_int_equal(plat_wrmsr(p, 0, 0x1b, PLAT_LAPIC_BASE), 0); /* APIC off */
	fake_now = plat_next_event_ns(p);
	plat_advance(p);
	assert_true(plat_extint_pending(p, 0));
}

static void test_serial(void **state)
{
	struct lapic *a = plat_lapic(p, 0);

	SCENARIO("COM1 output to the console; input raises IRQ 4 through the I/O APIC");
	outp(0x3f8, 1, 'o');
	outp(0x3f8, 1, 'k');
	assert_string_equal(out, "ok");
	mmio_w(PLAT_LAPIC_BASE + 0xf0, 0x1ff);
	mmio_w(PLAT_IOAPIC_BASE, 0x10 + 2 * PLAT_IRQ_COM1);
	mmio_w(PLAT_IOAPIC_BASE + 0x10, 0x24);
	outp(0x3f9, 1, 0x01);
	outp(0x3fc, 1, 0x0b);
	assert_true(plat_serial_input(p, 'z'));
	assert_int_equal(lapic_pending_vector(a), 0x24);
	assert_int_equal(in(0x3f8, 1), 'z');
}

static void test_report_line(void **state)
{
	struct plat_counters c;
	char line[256], tiny[12];

	SCENARIO("the counters' report line, and its truncation");
	(void)in(0x64, 1);
	(void)in(0x64, 1);
	(void)in(0x2f8, 1);
	outp(0xcf8, 4, 0x80000000u);
	outp(0x3f8, 1, 'x');
	plat_note_msr_gp(p, 0xc0011234);
	plat_get_counters(p, &c);
	plat_format_counters(&c, line, sizeof(line));
	assert_string_equal(line, "open_bus=3 (0x64:2 0x2f8:1) pci=1 msr_gp=1 (last 0xc0011234) "
				  "ipis_other=0 serial=tx:1,rx:0");
	assert_int_equal(plat_format_counters(&c, tiny, sizeof(tiny)), sizeof(tiny) - 1);
	assert_string_equal(tiny, "open_bus=3 ");
}

static void test_msrs(void **state)
{
	struct plat_counters c;
	u64 v;

	SCENARIO("platform MSRs: APIC_BASE, x2APIC #GP in xAPIC mode, others not ours");
	assert_int_equal(plat_rdmsr(p, 0, 0x1b, &v), 0);
	assert_int_equal(v, 0xfee00900ull);
	assert_int_equal(plat_rdmsr(p, 0, 0x802, &v), -EINVAL);
	assert_int_equal(plat_rdmsr(p, 0, 0x10, &v), -ENOENT);
	assert_int_equal(plat_rdmsr(p, 1, 0x1b, &v), -ENOENT); /* no such vCPU */
	plat_get_counters(p, &c);
	assert_int_equal(c.msr_gp, 1);
	assert_int_equal(c.msr_gp_last, 0x802);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_rejects),
		cmocka_unit_test_setup_teardown(test_open_bus, setup, teardown),
		cmocka_unit_test_setup_teardown(test_debug_exit_and_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pci, setup, teardown),
		cmocka_unit_test_setup_teardown(test_acpi_pm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fw_cfg, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pit_to_lapic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_extint, setup, teardown),
		cmocka_unit_test_setup_teardown(test_serial, setup, teardown),
		cmocka_unit_test_setup_teardown(test_report_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_msrs, setup, teardown),
	};

	dev_test_watchdog(30);
	return cmocka_run_group_tests_name("vmm_dev_platform", tests, NULL, NULL);
}
