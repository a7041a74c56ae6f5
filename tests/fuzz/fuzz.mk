# libFuzzer targets (clang from Debian: scripts/deps.sh): the nested MMU's
# NPT12 walk and fault path (fuzz_npt12), and nested SVM's VMCB12 checks,
# intercept merge and exit routing (fuzz_vmcb). make test runs each briefly
# (a fixed number of runs, tests/fuzz/fuzz-brief.sh); make fuzz SECONDS=N
# runs each for N seconds.
FUZZ_CC ?= clang
FUZZ_CFLAGS := $(filter-out -Werror,$(HOSTED_CFLAGS)) -O1 -fsanitize=fuzzer,address,undefined \
               -fno-sanitize-recover=all
FUZZ_SRCS := tests/fuzz/fuzz_npt12.c $(MMU_HOSTED_SRCS)

$(BUILD)/fuzz/fuzz_npt12: $(FUZZ_SRCS) $(wildcard mmu/*.h include/keel/*.h)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $(FUZZ_SRCS)

# vmm/nested/ is read after tests/: its source list is spelled out here.
FUZZ_VMCB_SRCS := tests/fuzz/fuzz_vmcb.c vmm/nested/nsvm_check.c vmm/nested/nsvm_route.c \
	vmm/insn_decode.c

$(BUILD)/fuzz/fuzz_vmcb: $(FUZZ_VMCB_SRCS) $(wildcard vmm/nested/*.h arch/x86/svm.h include/keel/*.h)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $(FUZZ_VMCB_SRCS)

BOOT_TESTS += tests/fuzz/fuzz-brief.sh

.PHONY: fuzz
fuzz: deps-test $(BUILD)/fuzz/fuzz_npt12 $(BUILD)/fuzz/fuzz_vmcb
	@mkdir -p $(BUILD)/fuzz/corpus $(BUILD)/fuzz/corpus-vmcb
	$(BUILD)/fuzz/fuzz_npt12 -max_total_time=$(SECONDS) -timeout=10 -max_len=1024 $(BUILD)/fuzz/corpus
	$(BUILD)/fuzz/fuzz_vmcb -max_total_time=$(SECONDS) -timeout=10 -max_len=1024 $(BUILD)/fuzz/corpus-vmcb
