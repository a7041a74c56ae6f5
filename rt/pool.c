// SPDX-License-Identifier: MIT
/*
 * Page allocation: a bitmap over the pool, first fit from a rotating hint.
 * Object allocation: power-of-two size classes (16 B - 2 KiB) carved from
 * whole pages, each object preceded by a 16-byte header naming its class, so
 * host_free() needs no size; larger objects take whole pages. One spinlock
 * covers both, taken with interrupts already off (Keel never enables them).
 */
#include <keel/host.h>
#include <keel/string.h>
#include "rt/pool.h"

#define OBJ_HEADER 16
#define OBJ_MIN_SHIFT 4
#define OBJ_MAX_SHIFT 11
#define OBJ_CLASSES (OBJ_MAX_SHIFT - OBJ_MIN_SHIFT + 1)
#define OBJ_MAGIC 0x6b65656c6f626aull /* "keelobj" */
#define OBJ_LARGE 0xff

struct obj_header {
	u64 magic_class; /* OBJ_MAGIC << 8 | class (or OBJ_LARGE) */
	u64 npages;      /* large objects only */
};
_Static_assert(sizeof(struct obj_header) == OBJ_HEADER, "header keeps 16-byte alignment");

struct free_obj {
	struct free_obj *next;
};

static struct {
	u8 *base;
	u64 npages, used, peak, hint;
	u64 *bitmap;
	struct free_obj *free[OBJ_CLASSES];
	int lock;
} pool;

static void pool_lock(void)
{
	while (__atomic_exchange_n(&pool.lock, 1, __ATOMIC_ACQUIRE))
		__builtin_ia32_pause();
}

static void pool_unlock(void)
{
	__atomic_store_n(&pool.lock, 0, __ATOMIC_RELEASE);
}

void pool_init(void *base, u64 npages, u64 *bitmap)
{
	memset(&pool, 0, sizeof(pool));
	pool.base = base;
	pool.npages = npages;
	pool.bitmap = bitmap;
	memset(bitmap, 0, ALIGN_UP(npages, 64) / 8);
}

void pool_get_stats(struct pool_stats *out)
{
	*out = (struct pool_stats){ pool.npages, pool.used, pool.peak };
}

static bool page_used(u64 i)
{
	return pool.bitmap[i / 64] & BIT(i % 64);
}

static void pages_mark(u64 first, u64 n, bool used)
{
	for (u64 i = first; i < first + n; i++) {
		if (used)
			pool.bitmap[i / 64] |= BIT(i % 64);
		else
			pool.bitmap[i / 64] &= ~BIT(i % 64);
	}
}

/* First run of n free pages at or after 'from', or npages. */
static u64 pages_find(u64 from, u64 n)
{
	u64 run = 0;

	for (u64 i = from; i < pool.npages; i++) {
		run = page_used(i) ? 0 : run + 1;
		if (run == n)
			return i + 1 - n;
	}
	return pool.npages;
}

static void *pages_take(u64 n)
{
	u64 first = pages_find(pool.hint, n);

	if (first == pool.npages)
		first = pages_find(0, n);
	if (first == pool.npages)
		return NULL;
	pages_mark(first, n, true);
	pool.hint = first + n;
	pool.used += n;
	pool.peak = MAX(pool.peak, pool.used);
	return pool.base + first * PAGE_SIZE;
}

void *host_alloc_pages(size_t n)
{
	void *p;

	if (!n)
		return NULL;
	pool_lock();
	p = pages_take(n);
	pool_unlock();
	if (p)
		memset(p, 0, n * PAGE_SIZE);
	return p;
}

void host_free_pages(void *p, size_t n)
{
	u64 first;

	if (!p)
		return;
	first = (u64)((u8 *)p - pool.base) / PAGE_SIZE;
	if ((u8 *)p < pool.base || first + n > pool.npages || !IS_ALIGNED((uintptr_t)p, PAGE_SIZE))
		host_panic("host_free_pages: %p (%zu pages) is not pool memory", p, n);
	pool_lock();
	for (u64 i = first; i < first + n; i++) {
		if (!page_used(i)) {
			pool_unlock(); /* the panic report must not wait for the pool */
			host_panic("host_free_pages: page %p freed twice",
				   pool.base + i * PAGE_SIZE);
		}
	}
	pages_mark(first, n, false);
	pool.used -= n;
	pool_unlock();
}

static unsigned obj_class(size_t total)
{
	unsigned c = 0;

	while ((1ull << (c + OBJ_MIN_SHIFT)) < total)
		c++;
	return c;
}

/* Refill a class from one fresh page; called with the lock held. */
static bool class_refill(unsigned c)
{
	u64 size = 1ull << (c + OBJ_MIN_SHIFT);
	u8 *page = pages_take(1);

	if (!page)
		return false;
	for (u64 off = 0; off + size <= PAGE_SIZE; off += size) {
		struct free_obj *o = (struct free_obj *)(page + off);

		o->next = pool.free[c];
		pool.free[c] = o;
	}
	return true;
}

static struct obj_header *obj_alloc_small(unsigned c)
{
	struct free_obj *o;

	pool_lock();
	if (!pool.free[c] && !class_refill(c)) {
		pool_unlock();
		return NULL;
	}
	o = pool.free[c];
	pool.free[c] = o->next;
	pool_unlock();
	memset(o, 0, 1ull << (c + OBJ_MIN_SHIFT));
	((struct obj_header *)o)->magic_class = OBJ_MAGIC << 8 | c;
	return (struct obj_header *)o;
}

void *host_alloc(size_t bytes)
{
	size_t total = bytes + OBJ_HEADER;
	struct obj_header *h;
	u64 n;

	if (total <= (1ull << OBJ_MAX_SHIFT)) {
		h = obj_alloc_small(obj_class(total));
		return h ? h + 1 : NULL;
	}
	n = ALIGN_UP(total, PAGE_SIZE) / PAGE_SIZE;
	h = host_alloc_pages(n);
	if (!h)
		return NULL;
	*h = (struct obj_header){ OBJ_MAGIC << 8 | OBJ_LARGE, n };
	return h + 1;
}

void host_free(void *p)
{
	struct obj_header *h = (struct obj_header *)p - 1;
	unsigned c;

	if (!p)
		return;
	if (h->magic_class >> 8 != OBJ_MAGIC)
		host_panic("host_free: %p is not a live object", p);
	c = h->magic_class & 0xff;
	if (c == OBJ_LARGE) {
		h->magic_class = 0;
		host_free_pages(h, h->npages);
		return;
	}
	h->magic_class = 0;
	pool_lock();
	((struct free_obj *)h)->next = pool.free[c];
	pool.free[c] = (struct free_obj *)h;
	pool_unlock();
}
