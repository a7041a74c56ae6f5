# Hosted MMU benchmarks (tests/bench/): `make bench` builds bench_mmu in the
# rel flavour and prints one table; docs/performance.md explains it.

BENCH_SRCS := $(sort $(wildcard tests/bench/*.c))

BENCH_PROGRAMS += bench_mmu
$(call hosted_program,bench_mmu,$(BENCH_SRCS) $(MMU_HOSTED_SRCS),)
