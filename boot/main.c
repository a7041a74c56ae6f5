// SPDX-License-Identifier: MIT
/*
 * keel.efi entry: from UEFI to the first VMRUN (docs/architecture.md walks
 * through it). Everything that can fail is checked before ExitBootServices,
 * so on hardware an error returns to the firmware; in QEMU every error ends
 * the emulator through isa-debug-exit with a status run-qemu.sh understands.
 */
#include <keel/errno.h>
#include <keel/host.h>
#include <keel/string.h>
#include "arch/x86/cpu.h"
#include "arch/x86/desc.h"
#include "arch/x86/paging.h"
#include "rt/platform.h"
#include "rt/serial.h"
#include "arch/x86/trap.h"
#include "arch/x86/vendor.h"
#include "boot/boot.h"
#include "boot/cfg.h"
#include "boot/efi_util.h"
#include "rt/log.h"
#include "boot/memmap.h"
#include "rt/pool.h"
#include "rt/timer.h"
#include "vmm/vm.h"

#define KEEL_CFG_PATH "\\keel.cfg"
#define POOL_BYTES (64ull << 20)
#define IST_STACK_PAGES 4
#define TSC_CALIBRATE_US 10000

/* Everything the boot path collects before ExitBootServices. */
struct boot_state {
	struct efi_ctx efi;
	struct keel_cfg cfg;
	const struct vendor_ops *ops;
	struct vm_setup setup;
	struct smp_boot smp;
	hpa_t mem_top;
};

/* Stop before ExitBootServices: in QEMU, end the emulator; on hardware,
 * return to the firmware (the boot manager tries the next entry). */
static EFI_STATUS boot_fail(enum keel_status status)
{
	log_error("keel: stopped before starting a guest\n");
	platform_signal_exit(status);
	return EFI_ABORTED;
}

static void calibrate_tsc(const struct efi_ctx *efi)
{
	u64 t0 = rdtsc();

	efi->bs->Stall(TSC_CALIBRATE_US);
	timer_set_tsc_hz((rdtsc() - t0) * (1000000 / TSC_CALIBRATE_US));
	log_info("keel: TSC at %llu kHz\n", (unsigned long long)(timer_tsc_hz() / 1000));
}

static int load_cfg(struct boot_state *b)
{
	char err[CFG_ERROR_MAX + 32];
	void *text;
	UINTN len;
	int r;

	cfg_defaults(&b->cfg);
	r = efi_read_file(&b->efi, KEEL_CFG_PATH, &text, &len);
	if (r == -ENOENT) {
		log_info("keel: no keel.cfg, using defaults\n");
		return 0;
	}
	if (r) {
		log_error("keel: keel.cfg: cannot read it (error %d)\n", r);
		return r;
	}
	r = cfg_parse(&b->cfg, text, len, err, sizeof(err));
	b->efi.bs->FreePool(text);
	if (r) {
		log_error("keel: %s\n", err);
		return r;
	}
	log_set_level(b->cfg.log_level);
	log_info("keel: keel.cfg read (%llu bytes)\n", (unsigned long long)len);
	return 0;
}

static int select_vendor(struct boot_state *b)
{
	char why[160];

	b->ops = vendor_select(why, sizeof(why));
	if (!b->ops) {
		log_error("keel: cannot run guests on this CPU: %s\n", why);
		return -ENODEV;
	}
	log_info("keel: vendor %s with %s\n", b->ops->name, b->ops->tdp_name);
	return 0;
}

static int reserve_pool(struct boot_state *b)
{
	u64 npages = POOL_BYTES / PAGE_SIZE;
	u64 bitmap_pages = ALIGN_UP(npages / 8, PAGE_SIZE) / PAGE_SIZE;
	u64 base = 0, bitmap = 0;

	if (efi_reserve_pages(&b->efi, npages, &base, false) ||
	    efi_reserve_pages(&b->efi, bitmap_pages, &bitmap, false)) {
		log_error("keel: cannot reserve the %llu MiB pool\n",
			  (unsigned long long)(POOL_BYTES >> 20));
		return -ENOMEM;
	}
	pool_init((void *)(uintptr_t)base, npages, (u64 *)(uintptr_t)bitmap);
	log_info("keel: pool %llu MiB at 0x%llx\n", (unsigned long long)(POOL_BYTES >> 20),
		 (unsigned long long)base);
	return 0;
}

static int reserve_guest_memory(struct boot_state *b)
{
	struct efi_memmap m;
	int r = efi_get_memmap(&b->efi, &m);

	if (r)
		return r;
	b->mem_top = memmap_top(&m);
	memmap_log(&m);
	b->efi.bs->FreePool(m.desc);
	log_info("keel: guest memory %llu MiB, host memory top 0x%llx\n",
		 (unsigned long long)(b->cfg.guest_mem >> 20), (unsigned long long)b->mem_top.v);
	b->setup.mem_size = b->cfg.guest_mem;
	b->setup.max_vcpus = b->cfg.cpus;
	if (b->cfg.debug_kick) /* CPU 1 sends the kicks: it cannot run a vCPU */
		b->setup.max_vcpus = 1;
	b->setup.timeout_s = b->cfg.timeout_s;
	r = memmap_reserve_guest(&b->efi, &b->setup);
	if (r)
		log_error("keel: no room for %llu MiB of guest memory (%s); lower guest-mem in "
			  "keel.cfg or give the machine more memory\n",
			  (unsigned long long)(b->cfg.guest_mem >> 20),
			  r == -E2BIG ? "too fragmented" : "not enough free memory");
	return r;
}

static int boot_prepare(struct boot_state *b)
{
	int r;

	calibrate_tsc(&b->efi);
	r = load_cfg(b);
	if (!r)
		r = select_vendor(b);
	if (!r)
		r = mp_enumerate(&b->efi, &b->smp);
	if (!r)
		r = reserve_pool(b);
	if (!r)
		r = guest_image_load(&b->efi, &b->cfg, &b->setup);
	if (!r)
		r = reserve_guest_memory(b);
	return r;
}

/* After ExitBootServices: Keel's own tables, then the guest. */
static __noreturn void keel_run(struct boot_state *b)
{
	void *ist = host_alloc_pages(IST_STACK_PAGES);
	struct vm_result res;
	int r;

	if (!ist)
		host_panic("no memory for the IST stack");
	desc_init((u8 *)ist + IST_STACK_PAGES * PAGE_SIZE);
	if (paging_init(b->mem_top))
		host_panic("no memory for the host page tables");
	smp_init_boot_cpu();
	b->smp.dead = b->cfg.debug_dead_cpu;
	b->smp.no_enable = b->cfg.debug_no_enable_cpu;
	log_info("keel: cpus started=%u\n", smp_start_cpus(b->ops, &b->smp));
	if (b->cfg.debug_panic) {
		log_info("keel: debug-panic = yes: raising #UD on purpose\n");
		asm volatile("ud2");
	}
	if (b->cfg.debug_kick)
		kick_test_start();
	r = vm_run_guest(b->ops, &b->setup, &res);
	if (b->cfg.debug_kick)
		kick_test_stop();
	if (r) {
		log_error("keel: could not start guest %s (error %d)\n", b->setup.name, r);
		platform_stop(KEEL_STATUS_ERROR);
	}
	boot_print_summary(b->ops, &b->setup, &res);
	/* A guest that ended through the debug-exit port gets its own value as
	 * the status: QEMU then exits (v << 1) | 1, as isa-debug-exit would
	 * have made it exit with the guest running on QEMU directly. */
	platform_stop(res.has_exit_code ? (enum keel_status)res.exit_code
		      : res.pass ? KEEL_STATUS_PASS : KEEL_STATUS_GUEST_FAIL);
}

/* Called by GNU-EFI's crt0 (its _start relocates the image first). */
EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st);

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st)
{
	static struct boot_state b;

	b.efi = (struct efi_ctx){ image, st, st->BootServices };
	serial_init();
	trap_set_image_base(efi_image_base(&b.efi));
	log_info("\nkeel: starting (keel.efi at 0x%llx, UEFI firmware rev 0x%x)\n",
		 (unsigned long long)efi_image_base(&b.efi), (unsigned)st->FirmwareRevision);
	if (boot_prepare(&b))
		return boot_fail(KEEL_STATUS_ERROR);
	if (efi_exit_boot_services(&b.efi)) {
		log_error("keel: ExitBootServices failed\n");
		return boot_fail(KEEL_STATUS_ERROR);
	}
	cli();
	log_info("keel: boot services exited; Keel owns the machine\n");
	keel_run(&b);
}
