// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: random NPT12 tables and random L2 accesses through the
 * nested MMU's whole fault path (NPT12 walk, composition, install).
 *
 * L1 memory is 4 MiB in slot 0 plus 1 MiB read-only in slot 1; the input
 * fills its first 64 KiB (where NPT12's tables may be) and names nCR3, the
 * ASID, L1's paging mode and up to 8 faulting L2 addresses with their access.
 * Properties, checked after every input (a failure traps, which libFuzzer
 * reports with the input): nothing crashes or hangs, every shadow leaf maps
 * host frames of L1's slots only and never more than the slot allows
 * (nmmu_verify), and a FIXED fault maps what it says.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include "mmu/nested_internal.h"
#include "mmu/env_hosted.h"

#define FZ_PAGES 1024
#define FZ_ROM 256
#define FZ_TABLES (64 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct mmu *mmu;
static struct nmmu *n;
static struct nmmu_vcpu *nv;
static u8 *mem;

static void fz_die(const char *what)
{
	fprintf(stderr, "fuzz_npt12: %s\n", what);
	__builtin_trap();
}

static void fz_init(void)
{
	void *map = mmap(NULL, (FZ_PAGES + FZ_ROM) * PAGE_SIZE + SZ_2M, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct memslot_desc d0 = { .id = 0, .base_gfn = GFN(0), .npages = FZ_PAGES };
	struct memslot_desc d1 = { .id = 1, .base_gfn = GFN(FZ_PAGES), .npages = FZ_ROM,
				   .flags = MEMSLOT_READONLY };

	if (map == MAP_FAILED)
		fz_die("mmap");
	mem = (u8 *)ALIGN_UP((uintptr_t)map, SZ_2M);
	d0.backing = HFN((uintptr_t)mem >> PAGE_SHIFT);
	d1.backing = HFN(d0.backing.v + FZ_PAGES);
	mmu = mmu_create(&spte_format_npt);
	if (!mmu || mmu_slot_add(mmu, &d0) || mmu_slot_add(mmu, &d1))
		fz_die("setup");
	n = nmmu_create(mmu, 4);
	nv = n ? nmmu_vcpu_create(n, 0) : NULL;
	if (!nv)
		fz_die("setup");
}

static u64 get64(const uint8_t *p)
{
	u64 v;

	memcpy(&v, p, 8);
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nmmu_npt_mode mode;
	struct nmmu_fault_out o;
	unsigned nfaults;
	char why[256];
	hpa_t root;
	bool flush;
	u32 asid;
	u64 ncr3;

	if (!mmu)
		fz_init();
	if (size < 8)
		return 0;
	ncr3 = (u64)(data[0] % 16) << PAGE_SHIFT;
	asid = 1 + data[1] % 3;
	mode = (struct nmmu_npt_mode){ .lma = true, .maxphyaddr = 32 + data[2] % 21, .nx = data[3] & 1,
				       .gbpages = data[3] & 2 };
	nfaults = MIN((size - 8) / 8, 8);
	memset(mem, 0, FZ_TABLES);
	memcpy(mem, data + 8, MIN(size - 8, FZ_TABLES));
	nmmu_flush_all(n);
	if (nmmu_root_get(nv, GPA(ncr3), asid, &mode, &root, &flush))
		fz_die("root_get");
	for (unsigned i = 0; i < nfaults; i++) {
		u64 x = get64(data + size - 8 * (i + 1));
		u64 l2 = (x >> 3) & (BIT(52) - 1) & PAGE_MASK;
		u32 acc = x & 7;
		enum nmmu_fault_result r = nmmu_page_fault(nv, NGPA(l2), acc, NPF_FINAL_GPA, &o);
		struct nmmu_lookup l;

		if (r == NMMU_FAULT_REFLECT &&
		    (o.exitinfo2 != l2 || !(o.exitinfo1 & NPF_FINAL_GPA) || !(o.exitinfo1 & NPF_U)))
			fz_die("bad EXITINFO");
		if (r != NMMU_FAULT_FIXED)
			continue;
		if (!nmmu_debug_lookup(nv, NGFN(l2 >> PAGE_SHIFT), &l))
			fz_die("FIXED but nothing mapped");
		if (l.hfn.v - ((uintptr_t)mem >> PAGE_SHIFT) >= FZ_PAGES + FZ_ROM)
			fz_die("a shadow leaf maps outside L1's memory");
		if ((acc & MMU_ACC_WRITE) && !(l.perms & MMU_ACC_WRITE))
			fz_die("FIXED write without write permission");
	}
	if (nmmu_verify(n, why, sizeof(why))) {
		fprintf(stderr, "%s\n", why);
		fz_die("nmmu_verify");
	}
	return 0;
}
