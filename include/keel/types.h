/* SPDX-License-Identifier: MIT */
/*
 * Basic types shared by every part of Keel (hypervisor, MMU, hosted tests).
 *
 * Addresses are typed: a guest-physical address (gpa_t) can not be passed where a
 * host-physical one (hpa_t) is expected, and frame numbers (gfn_t, hfn_t) are
 * distinct from byte addresses. Each is a one-member struct, so the compiler
 * rejects mixing them and the generated code is the same as for a plain u64.
 * Nested paging adds a third space: the guest-physical addresses of a nested
 * (L2) guest, ngpa_t / ngfn_t, translated by L1's nested page table into gpa_t.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef int64_t s64;

#define PAGE_SHIFT 12
#define PAGE_SIZE (1ull << PAGE_SHIFT)
#define PAGE_MASK (~(PAGE_SIZE - 1))
#define SZ_4K (1ull << 12)
#define SZ_2M (1ull << 21)
#define SZ_1G (1ull << 30)

#define BIT(n) (1ull << (n))
#define GENMASK(hi, lo) ((~0ull >> (63 - (hi))) & (~0ull << (lo)))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a) (((x) + (a) - 1) & ~((u64)(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((u64)(a) - 1))
#define IS_ALIGNED(x, a) (((x) & ((u64)(a) - 1)) == 0)
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define __packed __attribute__((packed))
#define __aligned(n) __attribute__((aligned(n)))
#define __unused __attribute__((unused))
#define __noreturn __attribute__((noreturn))
#define __printf(a, b) __attribute__((format(printf, a, b)))
#define __must_check __attribute__((warn_unused_result))

/* Typed addresses. */
typedef struct { u64 v; } gpa_t; /* guest-physical byte address */
typedef struct { u64 v; } gfn_t; /* guest frame number (gpa >> 12) */
typedef struct { u64 v; } hpa_t; /* host-physical byte address */
typedef struct { u64 v; } hfn_t; /* host frame number (hpa >> 12) */
typedef struct { u64 v; } gva_t; /* guest-virtual address */
typedef struct { u64 v; } ngpa_t; /* nested (L2) guest-physical byte address */
typedef struct { u64 v; } ngfn_t; /* nested (L2) guest frame number */

#define GPA(x) ((gpa_t){ (x) })
#define GFN(x) ((gfn_t){ (x) })
#define HPA(x) ((hpa_t){ (x) })
#define HFN(x) ((hfn_t){ (x) })
#define GVA(x) ((gva_t){ (x) })
#define NGPA(x) ((ngpa_t){ (x) })
#define NGFN(x) ((ngfn_t){ (x) })

static inline gfn_t gpa_to_gfn(gpa_t a) { return GFN(a.v >> PAGE_SHIFT); }
static inline gpa_t gfn_to_gpa(gfn_t f) { return GPA(f.v << PAGE_SHIFT); }
static inline hfn_t hpa_to_hfn(hpa_t a) { return HFN(a.v >> PAGE_SHIFT); }
static inline hpa_t hfn_to_hpa(hfn_t f) { return HPA(f.v << PAGE_SHIFT); }
static inline ngfn_t ngpa_to_ngfn(ngpa_t a) { return NGFN(a.v >> PAGE_SHIFT); }
