# libFuzzer target for the nested MMU's NPT12 walk and fault path (clang from
# Debian: scripts/deps.sh). make test runs it briefly (a fixed number of runs,
# tests/fuzz/fuzz-brief.sh); make fuzz SECONDS=N runs it for N seconds.
FUZZ_CC ?= clang
FUZZ_CFLAGS := $(filter-out -Werror,$(HOSTED_CFLAGS)) -O1 -fsanitize=fuzzer,address,undefined \
               -fno-sanitize-recover=all
FUZZ_SRCS := tests/fuzz/fuzz_npt12.c $(MMU_HOSTED_SRCS)

$(BUILD)/fuzz/fuzz_npt12: $(FUZZ_SRCS) $(wildcard mmu/*.h include/keel/*.h)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $(FUZZ_SRCS)

BOOT_TESTS += tests/fuzz/fuzz-brief.sh

.PHONY: fuzz
fuzz: deps-test $(BUILD)/fuzz/fuzz_npt12
	@mkdir -p $(BUILD)/fuzz/corpus
	$(BUILD)/fuzz/fuzz_npt12 -max_total_time=$(SECONDS) -timeout=10 -max_len=1024 $(BUILD)/fuzz/corpus
