# Regression tests for the seed bugs (tests/seeds/, docs/seeds.md).
ifneq ($(strip $(MMU_HOSTED_SRCS)),)
SEEDS_SRCS := $(sort $(wildcard tests/seeds/*.c))
HOSTED_TESTS += seeds_mmu
$(call hosted_program,seeds_mmu,$(SEEDS_SRCS) $(MMU_HOSTED_SRCS),-lcmocka)
endif
