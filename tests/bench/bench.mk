# Hosted MMU benchmarks (tests/bench/): `make bench` builds bench_mmu in the
# rel flavour and prints one table; docs/performance.md explains it.
# Registered only once mmu/ provides its hosted sources, so the tree keeps
# building while the MMU is being written.

BENCH_SRCS := $(sort $(wildcard tests/bench/*.c))

ifneq ($(strip $(MMU_HOSTED_SRCS)),)
BENCH_PROGRAMS += bench_mmu
$(call hosted_program,bench_mmu,$(BENCH_SRCS) $(MMU_HOSTED_SRCS),)
endif
