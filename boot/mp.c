// SPDX-License-Identifier: MIT
/*
 * Which CPUs the firmware reports (EFI MP Services, UEFI PI spec vol. 2,
 * 13.4), read before ExitBootServices, plus a page below 1 MiB for the
 * other CPUs' start-up code (arch/x86/smp.c starts them afterwards with
 * INIT-SIPI-SIPI: the firmware parks its APs in its own loop at
 * ExitBootServices, so a procedure started through StartupThisAP would not
 * survive it). gnu-efi has no MP Services definitions: they are here.
 */
#include <keel/host.h>
#include "boot/boot.h"
#include "boot/efi_util.h"
#include "rt/log.h"

#define PROCESSOR_AS_BSP_BIT 0x1
#define PROCESSOR_ENABLED_BIT 0x2
#define PROCESSOR_HEALTH_STATUS_BIT 0x4
#define TRAMPOLINE_MAX_ADDR 0x9ffffull /* below the EBDA, inside conventional memory */

static EFI_GUID mp_services_guid = { 0x3fdda605, 0xa76e, 0x4f46,
				     { 0xad, 0x29, 0x12, 0xf4, 0x53, 0x1b, 0x3d, 0x08 } };

struct efi_processor_info {
	UINT64 processor_id; /* the APIC ID */
	UINT32 status_flag;
	UINT32 package, core, thread;
	UINT8 extended[64]; /* room for the PI 1.7 extended topology, unused */
};

struct efi_mp_services;
typedef EFI_STATUS(EFIAPI *mp_get_number_fn)(struct efi_mp_services *self, UINTN *n,
					      UINTN *enabled);
typedef EFI_STATUS(EFIAPI *mp_get_info_fn)(struct efi_mp_services *self, UINTN cpu,
					    struct efi_processor_info *info);

struct efi_mp_services {
	mp_get_number_fn get_number_of_processors;
	mp_get_info_fn get_processor_info;
	void *startup_all_aps, *startup_this_ap, *switch_bsp, *enable_disable_ap, *who_am_i;
};

static void reserve_trampoline(const struct efi_ctx *efi, struct smp_boot *out)
{
	EFI_PHYSICAL_ADDRESS a = TRAMPOLINE_MAX_ADDR;

	if (efi->bs->AllocatePages(AllocateMaxAddress, EfiLoaderData, 1, &a) != EFI_SUCCESS ||
	    a < PAGE_SIZE) {
		log_error("keel: cpus: no free page below 1 MiB: only the boot CPU will run\n");
		return;
	}
	out->tramp_page = a;
}

int mp_enumerate(const struct efi_ctx *efi, struct smp_boot *out)
{
	struct efi_mp_services *mp = NULL;
	UINTN n = 0, enabled = 0;

	out->ncpus = 0;
	out->tramp_page = 0;
	if (efi->bs->LocateProtocol(&mp_services_guid, NULL, (void **)&mp) != EFI_SUCCESS ||
	    !mp || mp->get_number_of_processors(mp, &n, &enabled) != EFI_SUCCESS) {
		log_info("keel: cpus: firmware has no MP services: only the boot CPU\n");
		return 0;
	}
	for (UINTN i = 0; i < n && out->ncpus < KEEL_MAX_CPUS; i++) {
		struct efi_processor_info info = { 0 };

		if (mp->get_processor_info(mp, i, &info) != EFI_SUCCESS)
			continue;
		if (!(info.status_flag & PROCESSOR_ENABLED_BIT) ||
		    !(info.status_flag & PROCESSOR_HEALTH_STATUS_BIT)) {
			log_info("keel: cpus: apic %llu reported %s, left out\n",
				 (unsigned long long)info.processor_id,
				 info.status_flag & PROCESSOR_ENABLED_BIT ? "unhealthy" : "disabled");
			continue;
		}
		out->apic_ids[out->ncpus++] = (u32)info.processor_id;
	}
	log_info("keel: cpus: firmware reports %llu (%llu enabled)\n", (unsigned long long)n,
		 (unsigned long long)enabled);
	if (out->ncpus > 1)
		reserve_trampoline(efi, out);
	return 0;
}
