// SPDX-License-Identifier: MIT
/*
 * Run-time vendor choice: the first backend whose detect() claims the CPU
 * decides, and its check() must then pass. A CPU no backend claims, or one
 * whose backend lacks a capability, gets a one-line reason. Adding a
 * backend is one line in vendor_table[].
 */
#include <keel/string.h>
#include "arch/x86/cpu.h"
#include "arch/x86/vendor.h"

static const struct vendor_ops *const vendor_table[] = { &svm_ops, &vmx_ops };

const struct vendor_ops *vendor_select(char *why, size_t len)
{
	char vendor[13];

	for (size_t i = 0; i < ARRAY_SIZE(vendor_table); i++) {
		const struct vendor_ops *ops = vendor_table[i];

		if (!ops->detect())
			continue;
		return ops->check(why, len) ? NULL : ops;
	}
	cpu_vendor_string(vendor);
	snprintf(why, len, "no backend for CPU vendor \"%s\" (Keel supports AMD SVM and Intel VMX)",
		 vendor);
	return NULL;
}
