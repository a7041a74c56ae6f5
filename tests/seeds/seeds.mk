# Regression tests for the seed bugs (tests/seeds/, docs/seeds.md).
SEEDS_SRCS := $(sort $(wildcard tests/seeds/*.c))
HOSTED_TESTS += seeds_mmu
$(call hosted_program,seeds_mmu,$(SEEDS_SRCS) $(MMU_HOSTED_SRCS),-lcmocka)
