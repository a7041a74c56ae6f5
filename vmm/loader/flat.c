// SPDX-License-Identifier: MIT
/*
 * The flat loader: Keel's own test-guest ABI (guest/abi.h,
 * docs/guest-abi.md). The image is copied to KEEL_GUEST_LOAD_GPA and
 * entered at its first byte in 64-bit mode, with Keel's identity map, the
 * RAM size in rdi, the guest-fail name in rsi and the map's end in rdx.
 */
#include <keel/errno.h>
#include <keel/string.h>
#include "guest/abi.h"
#include "vmm/loader/loader.h"

/* The guest-fail name for the guest, or 0 for none. */
static int put_fail_name(struct loader_ctx *ctx, u64 *gpa)
{
	size_t n = ctx->fail_test ? strlen(ctx->fail_test) : 0;

	*gpa = 0;
	if (!n)
		return 0;
	if (n >= KEEL_GUEST_STACK_TOP / 2 - KEEL_GUEST_INFO_GPA)
		return loader_fail(ctx, "guest-fail name too long");
	*gpa = KEEL_GUEST_INFO_GPA;
	return loader_put(ctx, KEEL_GUEST_INFO_GPA, ctx->fail_test, n + 1, "the guest-fail name");
}

int loader_flat(struct loader_ctx *ctx)
{
	u64 top = loader_map_top(ctx), fail, cr3;
	struct loader_entry *e = &ctx->entry;
	int r;

	if (ctx->cmdline && ctx->cmdline[0])
		return loader_fail(ctx, "cmdline = is not for a flat image");
	if (loader_low_ram_end(ctx) < 2 * KEEL_GUEST_LOAD_GPA ||
	    !loader_in_ram(ctx, KEEL_GUEST_LOAD_GPA, ctx->image_size))
		return loader_fail(ctx, "flat image of %zu bytes does not fit low guest RAM "
				   "from 0x%llx", ctx->image_size,
				   (unsigned long long)KEEL_GUEST_LOAD_GPA);
	r = loader_put(ctx, KEEL_GUEST_LOAD_GPA, ctx->image, ctx->image_size, "the image");
	if (!r)
		r = loader_identity_map(ctx, top, &cr3);
	if (!r)
		r = put_fail_name(ctx, &fail);
	if (r)
		return r;
	*e = (struct loader_entry){
		.mode = ENTRY_LONG64,
		.rip = KEEL_GUEST_LOAD_GPA,
		.rsp = KEEL_GUEST_STACK_TOP,
		.rdi = ctx->mem_size,
		.rsi = fail,
		.rdx = top,
		.cr3 = cr3,
	};
	return 0;
}
