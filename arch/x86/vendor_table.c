// SPDX-License-Identifier: MIT
/* Both backends (used when arch/x86/vmx.c is part of the build). */
#include "arch/x86/vendor_table.h"

const struct vendor_ops *const vendor_table[] = { &svm_ops, &vmx_ops };
const size_t vendor_table_size = ARRAY_SIZE(vendor_table);
