// SPDX-License-Identifier: MIT
/*
 * Linked only while the tree has no MMU sources (vmm/vmm.mk): keel.efi then
 * boots, reports that it cannot run guests, and stops cleanly.
 */
#include <keel/errno.h>
#include <keel/string.h>
#include "arch/x86/vendor.h"
#include "vmm/vm.h"

const struct vendor_ops *vendor_select(char *why, size_t len)
{
	snprintf(why, len, "this keel.efi was built without the MMU (mmu/ has no sources)");
	return NULL;
}

int vm_run_guest(const struct vendor_ops *ops, const struct vm_setup *s, struct vm_result *res)
{
	return -ENOSYS;
}
