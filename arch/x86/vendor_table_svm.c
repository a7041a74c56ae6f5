// SPDX-License-Identifier: MIT
/* SVM only: the table while the VMX backend is not part of the build. */
#include "arch/x86/vendor_table.h"

const struct vendor_ops *const vendor_table[] = { &svm_ops };
const size_t vendor_table_size = ARRAY_SIZE(vendor_table);
