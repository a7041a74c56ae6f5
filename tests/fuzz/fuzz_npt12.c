// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: random NPT12 tables and random L2 accesses through the
 * nested MMU's whole fault path (NPT12 walk, composition, install).
 *
 * L1 memory is 4 MiB in slot 0 plus 1 MiB read-only in slot 1; NPT12's
 * tables may be anywhere, the first 64 KiB are cleared per input. The input
 * names nCR3, the ASID and L1's paging mode, then either (structured) writes
 * NPT12 entries and faults at L2 addresses built from table indices, or
 * (raw) is the first 64 KiB itself with the accesses in its last words.
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

/* One L2 access through the whole fault path, and what must hold after it. */
static void fz_fault(u64 l2, u32 acc)
{
	struct nmmu_fault_out o;
	struct nmmu_lookup l;
	enum nmmu_fault_result r = nmmu_page_fault(nv, NGPA(l2), acc, NPF_FINAL_GPA, &o);

	if (r == NMMU_FAULT_REFLECT &&
	    (o.exitinfo2 != l2 || !(o.exitinfo1 & NPF_FINAL_GPA) || !(o.exitinfo1 & NPF_U)))
		fz_die("bad EXITINFO");
	if (r != NMMU_FAULT_FIXED)
		return;
	if (!nmmu_debug_lookup(nv, NGFN(l2 >> PAGE_SHIFT), &l))
		fz_die("FIXED but nothing mapped");
	if (l.hfn.v - ((uintptr_t)mem >> PAGE_SHIFT) >= FZ_PAGES + FZ_ROM)
		fz_die("a shadow leaf maps outside L1's memory");
	if ((acc & MMU_ACC_WRITE) && !(l.perms & MMU_ACC_WRITE))
		fz_die("FIXED write without write permission");
}

/* Structured input: operations that write NPT12 entries (a target page and
 * flag bits, sometimes a reserved bit) and that fault at L2 addresses built
 * from four table indices, so short inputs already make walkable tables. */
static void fz_structured(const uint8_t *p, size_t n)
{
	while (n >= 7) {
		if (p[0] & 1) {
			u64 l2 = (u64)p[1] << 39 | (u64)p[2] << 30 | (u64)p[3] << 21 |
				 (u64)p[4] << 12;

			fz_fault(l2, p[5] & 7);
		} else {
			unsigned table = p[1] % 16, idx = p[2] | (p[3] & 1) << 8;
			u64 target = p[4] | (u64)p[5] << 8;
			u64 v = target << PAGE_SHIFT | (p[3] >> 1 & 0x7f);  /* P RW US - - A D */

			v |= (p[6] & 1 ? BIT(7) : 0) | (p[6] & 2 ? BIT(63) : 0);  /* PS, NX */
			if (p[6] & 0x80)
				v |= BIT(8 + (p[6] >> 2 & 31) * 43 % 56);         /* some other bit */
			memcpy(mem + table * PAGE_SIZE + idx * 8, &v, 8);
		}
		p += 7;
		n -= 7;
	}
}

/* Raw input: the bytes are the tables; the last words are the accesses. */
static void fz_raw(const uint8_t *p, size_t n)
{
	unsigned nfaults = MIN(n / 8, 8);

	memcpy(mem, p, MIN(n, FZ_TABLES));
	for (unsigned i = 0; i < nfaults; i++) {
		u64 x = get64(p + n - 8 * (i + 1));

		fz_fault((x >> 3) & (BIT(52) - 1) & PAGE_MASK, x & 7);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nmmu_npt_mode mode;
	char why[256];
	hpa_t root;
	bool flush;

	if (!mmu)
		fz_init();
	if (size < 4)
		return 0;
	mode = (struct nmmu_npt_mode){ .lma = true, .maxphyaddr = 32 + data[2] % 21,
				       .nx = data[3] & 1, .gbpages = data[3] & 2 };
	memset(mem, 0, FZ_TABLES);
	nmmu_flush_all(n);
	if (nmmu_root_get(nv, GPA((u64)(data[0] % 16) << PAGE_SHIFT), 1 + data[1] % 3, &mode,
			  &root, &flush))
		fz_die("root_get");
	if (data[3] & 4)
		fz_raw(data + 4, size - 4);
	else
		fz_structured(data + 4, size - 4);
	if (nmmu_verify(n, why, sizeof(why))) {
		fprintf(stderr, "%s\n", why);
		fz_die("nmmu_verify");
	}
	return 0;
}
