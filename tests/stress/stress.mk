# Hosted MMU stress harness (tests/stress/), and `make soak SECONDS=600`.
#
# make test runs stress_mmu in the plain, asan and tsan flavours (a few
# seconds each); make soak runs it for SECONDS seconds in SOAK_FLAVOUR.

STRESS_SRCS := $(sort $(wildcard tests/stress/*.c))
SOAK_FLAVOUR ?= plain

HOSTED_TESTS += stress_mmu
$(call hosted_program,stress_mmu,$(STRESS_SRCS) $(MMU_HOSTED_SRCS),)

soak: deps-test
	@$(MAKE) --no-print-directory $(BUILD)/$(SOAK_FLAVOUR)/stress_mmu
	$(BUILD)/$(SOAK_FLAVOUR)/stress_mmu --seconds=$(SECONDS) $(SOAK_ARGS)
