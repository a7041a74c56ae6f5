# Regression tests for the seed bugs (tests/seeds/, docs/seeds.md).
SEEDS_SRCS := $(sort $(wildcard tests/seeds/*.c))
HOSTED_TESTS += seeds_mmu
$(call hosted_program,seeds_mmu,$(SEEDS_SRCS) tests/unit/ktest.c $(MMU_HOSTED_SRCS),-lcmocka)
