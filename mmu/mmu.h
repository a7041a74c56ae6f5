/* SPDX-License-Identifier: MIT */
/*
 * Keel's TDP MMU: the public interface used by vmm/ (in keel.efi) and by the
 * hosted tests and benchmarks. Everything behind it is portable C that builds
 * twice: freestanding into keel.efi and hosted (pthreads) into tests/.
 *
 * One struct mmu exists per VM (one guest-physical address space). Each vCPU
 * owns a struct mmu_vcpu that holds its reference to the current root.
 *
 * Concurrency contract (docs/mmu-locking.md has the full lock table):
 *  - mmu_page_fault() and mmu_prefault() may run on any number of vCPUs at once.
 *  - slot changes, zaps, invalidation and dirty-log calls may run concurrently
 *    with faults from any thread; they serialise among themselves.
 *  - No call ever spins waiting for a condition that only a caller-held
 *    reference could clear (seed 004): a fault that meets a slot in flux
 *    returns MMU_FAULT_RETRY_SLOT and holds nothing when it returns.
 *
 * Ownership: the MMU object is owned by mmu/ (opaque here); mmu_create()
 * allocates it through the environment interface.
 */
#pragma once

#include <keel/types.h>

struct mmu;
struct mmu_vcpu;
struct spte_format;

/* SPTE formats (mmu/spte_npt.c, mmu/spte_ept.c). */
extern const struct spte_format spte_format_npt; /* AMD nested page tables */
extern const struct spte_format spte_format_ept; /* Intel EPT, 4-level */

/* Access bits of a fault, and permissions of a slot. */
#define MMU_ACC_READ  BIT(0)
#define MMU_ACC_WRITE BIT(1)
#define MMU_ACC_EXEC  BIT(2)

/* Memslot flags. */
#define MEMSLOT_READONLY  BIT(0) /* writes fault with MMU_FAULT_PERM */
#define MEMSLOT_DIRTY_LOG BIT(1) /* dirty logging on */

#define MMU_MAX_SLOTS 32

struct memslot_desc {
	u16 id;          /* caller-chosen, < MMU_MAX_SLOTS */
	gfn_t base_gfn;  /* first guest frame */
	u64 npages;      /* number of 4 KiB frames */
	hfn_t backing;   /* first host frame of contiguous backing memory */
	u32 flags;       /* MEMSLOT_* */
};

enum mmu_fault_result {
	MMU_FAULT_FIXED,      /* mapping installed, re-enter guest */
	MMU_FAULT_SPURIOUS,   /* mapping already present (another vCPU won) */
	MMU_FAULT_RETRY,      /* lost a race or root became obsolete: re-enter */
	MMU_FAULT_RETRY_SLOT, /* slot being changed: caller must leave the slot
	                         read side (return to its run loop) and retry */
	MMU_FAULT_NO_SLOT,    /* gpa is in no slot: caller emulates or stops VM */
	MMU_FAULT_PERM,       /* access not allowed by the slot (e.g. write to
	                         a read-only slot) */
	MMU_FAULT_NOMEM,      /* page-table allocation failed */
	MMU_FAULT_DEAD,       /* an internal invariant broke (MMU_BUG_ON): the
	                         MMU refuses all work; the caller stops the VM */
};

const char *mmu_fault_result_name(enum mmu_fault_result r);

/* Lifetime. */
struct mmu *mmu_create(const struct spte_format *fmt);
void mmu_destroy(struct mmu *mmu);
/* Largest leaf to use: 1 = 4 KiB, 2 = 2 MiB, 3 = 1 GiB (the default). For
 * CPUs without 1 GiB EPT pages. Zaps existing mappings. 0 or -EINVAL. */
int mmu_set_max_page_level(struct mmu *mmu, int level);

/* Memslots. Return 0 or a negative error (-EINVAL, -EEXIST, -ENOENT,
 * -ENOMEM, -EBUSY). All of them may run while vCPUs fault. */
int mmu_slot_add(struct mmu *mmu, const struct memslot_desc *d);
int mmu_slot_move(struct mmu *mmu, u16 id, gfn_t new_base);
int mmu_slot_delete(struct mmu *mmu, u16 id);
int mmu_slot_set_flags(struct mmu *mmu, u16 id, u32 flags);
/* Copy the slot's dirty bitmap (one bit a 4 KiB page, npages bits) into
 * 'bitmap' and clear it, write-protecting the pages again. */
int mmu_slot_get_dirty_log(struct mmu *mmu, u16 id, u64 *bitmap);

/* Range operations. */
void mmu_zap_gfn_range(struct mmu *mmu, gfn_t start, gfn_t end);
void mmu_invalidate_all_roots(struct mmu *mmu);

/* Per-vCPU state. */
struct mmu_vcpu *mmu_vcpu_create(struct mmu *mmu, unsigned vcpu_id);
void mmu_vcpu_destroy(struct mmu_vcpu *mv);
/* Before each guest entry: drop an obsolete root, take a valid one, and
 * return its physical address (nCR3 / EPTP base). *flush is set when the
 * guest TLB for this vCPU must be flushed before entry. 0, -ENOMEM, or -EIO
 * once the MMU is dead (MMU_FAULT_DEAD). */
int mmu_vcpu_load_root(struct mmu_vcpu *mv, hpa_t *root, bool *flush);
/*
 * vCPU modes and remote TLB flushes (docs/mmu-design.md, "TLB flush rules").
 * mmu_vcpu_load_root() is the guest entry: from its return until
 * mmu_vcpu_exit_guest() the vCPU is in guest mode and may use translations
 * its TLB cached. An MMU operation that removes or reduces a translation
 * returns only after every vCPU in guest mode has left it or flushed: it
 * calls the vCPU's kick (which must make it leave guest mode soon: an IPI in
 * keel.efi) and waits. A vCPU without a kick is taken to run on the caller's
 * own thread (one CPU) and is not waited for. MMU operations must not be
 * called by a vCPU between load_root and exit_guest.
 */
typedef void (*mmu_kick_fn)(void *arg);
void mmu_vcpu_set_kick(struct mmu_vcpu *mv, mmu_kick_fn kick, void *arg);
/* After the guest exits, before handling the exit. */
void mmu_vcpu_exit_guest(struct mmu_vcpu *mv);

struct mmu_flush_stats {
	u64 remote_flushes;     /* flushes that had to wait for a vCPU in the guest */
	u64 kicks;              /* kicks sent */
	u64 worst_wait_ns;      /* longest wait for kicked vCPUs */
	u64 total_wait_ns;      /* all the waits: / remote_flushes is the mean */
};
void mmu_get_flush_stats(struct mmu *mmu, struct mmu_flush_stats *out);

/* Handle a TDP fault at gpa with the access that faulted. */
enum mmu_fault_result mmu_page_fault(struct mmu_vcpu *mv, gpa_t gpa, u32 access);
/* Map [gpa, gpa+len) ahead of use. Returns 0, -EAGAIN when a slot in the
 * range is being changed (the caller may retry; nothing is held), -ENOENT
 * for a hole, -ENOMEM, -EIO for a dead MMU. Never loops waiting for a slot
 * writer. */
int mmu_prefault(struct mmu_vcpu *mv, gpa_t gpa, u64 len);
/* Eviction, after MMU_FAULT_NOMEM: zap every mapping of every valid root and
 * free the page tables past their grace period; the guest faults back in what
 * it uses. Takes the MMU lock exclusively, so call it holding nothing (the
 * fault path only reports NOMEM: it never evicts itself, see seed 001).
 * Tables still in their grace period are freed once every vCPU has re-entered
 * the guest, so a caller allows a few evict-and-retry rounds before giving up.
 * Returns the page-table pages freed by this call. */
u64 mmu_evict(struct mmu *mmu);

/* Translate for emulation: host frame backing gfn, or false. The answer
 * may be stale as soon as it returns (a slot may move): to touch the memory
 * use the host-access guard below. */
bool mmu_gfn_to_hfn(struct mmu *mmu, gfn_t gfn, hfn_t *out, u32 *slot_flags);

/*
 * Host access to guest memory (emulator, loaders), one guest page at a time
 * and under the rules a guest access obeys:
 *  - the slot read side is held from begin to end, so the slot, and the
 *    memory behind it, cannot be deleted or moved while the host uses the
 *    page (between the two: no blocking, no slot changes, no MMU calls that
 *    take the slot writers' lock);
 *  - a write is refused in a read-only slot (-EPERM);
 *  - a write marks the page dirty in a dirty-logged slot, at end(), after
 *    the data was written (as KVM's mark_page_dirty), so a harvest never
 *    clears the bit of a write still in progress.
 * begin returns 0 and sets a->hfn, or -EFAULT (no slot), -EAGAIN (the slot
 * is being changed: retry later, nothing is held), -EPERM, -EIO (MMU dead);
 * on error nothing is held and end() must not be called.
 */
struct memslot;
struct mmu_host_access {
	struct mmu *mmu;
	const struct memslot *slot;
	gfn_t gfn;
	hfn_t hfn;         /* out: the host frame backing gfn */
	u32 slot_flags;    /* out: MEMSLOT_* */
	bool write;
	int srcu_idx;
};
int mmu_host_access_begin(struct mmu *mmu, gfn_t gfn, bool write, struct mmu_host_access *a);
void mmu_host_access_end(struct mmu_host_access *a);

/* Statistics, all monotonic counters except the *_in_use gauges. */
struct mmu_stats {
	u64 faults_fixed;
	u64 faults_spurious;
	u64 retries_race;     /* cmpxchg lost / frozen entry */
	u64 retries_obsolete; /* root invalidated under the fault */
	u64 retries_slot;     /* slot in flux */
	u64 no_slot;
	u64 splits;           /* huge mappings split */
	u64 zaps;             /* leaf entries zapped */
	u64 tables_in_use;    /* page-table pages linked or awaiting free */
	u64 maps_4k, maps_2m, maps_1g; /* leaves present now */
	u64 root_invalidations;
	u64 tlb_flush_requests;
	u64 evictions;        /* mmu_evict() calls */
	u64 yields;           /* exclusive lock given up inside long walks */
};
void mmu_get_stats(struct mmu *mmu, struct mmu_stats *out);
