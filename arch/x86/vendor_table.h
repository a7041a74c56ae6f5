/* SPDX-License-Identifier: MIT */
/* The backends vendor_select() tries, in order (arch/x86/vendor_table.c). */
#pragma once

#include "arch/x86/vendor.h"

extern const struct vendor_ops *const vendor_table[];
extern const size_t vendor_table_size;
