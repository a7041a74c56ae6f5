/* SPDX-License-Identifier: MIT */
/* Self-tests proving each of the harness's checkers can fail. */
#pragma once

#include "stress_run.h"

bool stress_selftest_model(const struct stress_config *cfg);
bool stress_selftest_dirty(const struct stress_config *cfg);
bool stress_selftest_unmapped(const struct stress_config *cfg);
bool stress_selftest_flush(const struct stress_config *cfg);
bool stress_selftest_broken_run(const char *mode);
