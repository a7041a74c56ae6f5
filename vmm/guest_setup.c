// SPDX-License-Identifier: MIT
/*
 * The guest's initial state: the platform's firmware tables (ACPI at
 * PLAT_ACPI_BASE, the BIOS data area words an OS reads), then the image
 * through its loader (vmm/loader/), and the vCPU's entry registers from
 * the loader's description (vmm/vcpu_state.h). Guest memory is written
 * through the memslots only.
 */
#include <keel/errno.h>
#include <keel/host.h>
#include <keel/string.h>
#include "rt/timer.h"
#include "vmm/acpi/acpi.h"
#include "vmm/dev/fw_cfg.h"
#include "vmm/dev/layout.h"
#include "vmm/dev/platform.h"
#include "vmm/guest_setup.h"
#include "vmm/loader/loader.h"
#include "vmm/vcpu_state.h"
#include "vmm/vmm.h"

/* BIOS data area: the EBDA segment and the base memory size in KiB. */
#define BDA_EBDA_SEGMENT 0x40e
#define BDA_BASE_MEM_KIB 0x413

static int write_vm(void *mem, u64 gpa, const void *src, size_t len)
{
	return vmm_write_guest(mem, GPA(gpa), src, len);
}

/* The RAM ranges as the guest sees them: memslots merged where their
 * guest-physical ranges touch. */
static int collect_ram(struct loader_ctx *ctx, const struct vm_setup *s)
{
	ctx->nr_ram = 0;
	for (unsigned i = 0; i < s->nr_ram; i++) {
		struct mem_range *prev = ctx->nr_ram ? &ctx->ram[ctx->nr_ram - 1] : NULL;

		if (prev && prev->base + prev->size == s->ram[i].gpa.v) {
			prev->size += s->ram[i].size;
			continue;
		}
		if (ctx->nr_ram == ARRAY_SIZE(ctx->ram))
			return -E2BIG;
		ctx->ram[ctx->nr_ram++] = (struct mem_range){ s->ram[i].gpa.v, s->ram[i].size };
	}
	return 0;
}

static int put_firmware(struct vm *vm, struct loader_ctx *ctx, unsigned nr_vcpus)
{
	static u8 tables[PLAT_ACPI_SIZE];
	const struct acpi_config c = { .nr_vcpus = nr_vcpus };
	long n = acpi_build(&c, tables, sizeof(tables), PLAT_ACPI_BASE);
	const u16 bda[2] = { (u16)(PLAT_EBDA_BASE >> 4), (u16)(PLAT_LOW_RAM_END >> 10) };

	if (n < 0) {
		host_log("keel: vm %s: the ACPI tables do not fit their area\n", vm->name);
		return (int)n;
	}
	if (vmm_write_guest(vm, GPA(PLAT_ACPI_BASE), tables, (size_t)n) ||
	    vmm_write_guest(vm, GPA(BDA_EBDA_SEGMENT), &bda[0], 2) ||
	    vmm_write_guest(vm, GPA(BDA_BASE_MEM_KIB), &bda[1], 2)) {
		host_log("keel: vm %s: guest RAM below 1 MiB is not backed\n", vm->name);
		return -EFAULT;
	}
	ctx->rsdp_gpa = PLAT_ACPI_BASE;
	return 0;
}

/*
 * fw_cfg content, as QEMU gives it to the test kernels that read it: RAM
 * size, CPU count (booted and maximum), and the memory map as the file
 * "etc/e820" (20-byte entries: address, length, type).
 */
static int put_fw_cfg(struct vm *vm, const struct loader_ctx *ctx, unsigned nr_vcpus)
{
	struct fw_cfg *fc = vm->plat ? plat_fw_cfg(vm->plat) : NULL;
	struct e820_entry e[LOADER_E820_MAX];
	unsigned n = loader_e820(ctx, e, ARRAY_SIZE(e));
	int r;

	if (!fc)
		return 0;
	r = fw_cfg_add_u64(fc, FW_CFG_RAM_SIZE, ctx->mem_size);
	if (!r)
		r = fw_cfg_add_u16(fc, FW_CFG_NB_CPUS, (u16)nr_vcpus);
	if (!r)
		r = fw_cfg_add_u16(fc, FW_CFG_MAX_CPUS, (u16)nr_vcpus);
	if (!r)
		r = fw_cfg_add_file(fc, "etc/e820", e, (u32)(n * sizeof(e[0]))); /* its key */
	if (r < 0) {
		host_log("keel: vm %s: fw_cfg content refused (%d)\n", vm->name, r);
		return r;
	}
	return 0;
}

static void entry_regs(const struct loader_entry *e, struct vcpu_regs *regs)
{
	if (e->mode == ENTRY_PROT32) {
		vcpu_state_prot32(regs, VCPU_SEL_CODE64, VCPU_SEL_DATA);
	} else {
		vcpu_state_long64(regs, e->cs ? e->cs : VCPU_SEL_CODE64,
				  e->ds ? e->ds : VCPU_SEL_DATA);
		regs->cr3 = e->cr3;
	}
	if (e->gdt_base) {
		regs->gdtr.base = e->gdt_base;
		regs->gdtr.limit = e->gdt_limit;
	}
	regs->rip = e->rip;
	regs->rsp = e->rsp;
	regs->rax = e->rax;
	regs->rbx = e->rbx;
	regs->rsi = e->rsi;
	regs->rdi = e->rdi;
	regs->rdx = e->rdx;
}

static void fill_inputs(struct loader_ctx *ctx, struct vm *vm, const struct vm_setup *s)
{
	ctx->write = write_vm;
	ctx->mem = vm;
	ctx->mem_size = s->mem_size;
	ctx->name = s->image_path ? s->image_path : s->name;
	ctx->image = s->image;
	ctx->image_size = s->image_size;
	ctx->cmdline = s->cmdline ? s->cmdline : "";
	ctx->initrd = s->initrd;
	ctx->nr_modules = MIN(s->nr_modules, (unsigned)LOADER_MAX_MODULES);
	for (unsigned i = 0; i < ctx->nr_modules; i++)
		ctx->modules[i] = s->modules[i];
	ctx->fail_test = s->fail_test;
	ctx->tsc_khz = timer_tsc_hz() / 1000; /* the guest's TSC is the host's */
}

int guest_setup(struct vm *vm, const struct vm_setup *s, struct vcpu_regs *regs)
{
	static struct loader_ctx ctx;
	enum loader_kind kind;
	int r;

	memset(&ctx, 0, sizeof(ctx));
	fill_inputs(&ctx, vm, s);
	r = collect_ram(&ctx, s);
	/* The MADT and fw_cfg list every vCPU the platform has a LAPIC for. */
	if (!r)
		r = put_firmware(vm, &ctx, vm->plat ? plat_nr_vcpus(vm->plat) : 1);
	if (!r)
		r = put_fw_cfg(vm, &ctx, vm->plat ? plat_nr_vcpus(vm->plat) : 1);
	if (r)
		return r;
	kind = s->loader == LOADER_AUTO ? loader_detect(s->image, s->image_size) : s->loader;
	r = loader_load(&ctx, kind);
	if (r) {
		host_log("keel: guest %s: %s loader: %s\n", s->name, loader_name(kind), ctx.err);
		return r;
	}
	host_log("keel: guest %s loaded as %s, entry 0x%llx (%s)\n", s->name, loader_name(kind),
		 (unsigned long long)ctx.entry.rip,
		 ctx.entry.mode == ENTRY_PROT32 ? "32-bit, paging off" : "64-bit");
	entry_regs(&ctx.entry, regs);
	return 0;
}
