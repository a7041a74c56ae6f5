# Keel: a minimal type-1 hypervisor with its own second-level MMU.
#
#   make            build keel.efi, the test guests and the hosted test programs
#   make run        install what is missing, build, boot the default guest in QEMU
#                   (SMP=N: N host CPUs; EMU=bochs: Bochs VMX)
#   make test       install what is missing, build, run every test; ends "N passed, N failed"
#   make test-tsan  hosted tests under ThreadSanitizer
#   make test-asan  hosted tests under AddressSanitizer + UBSan
#   make bench      hosted MMU benchmarks (prints a table), then the in-Keel
#                   fault rate with 1 and 2 vCPUs under QEMU (scripts/bench-smp.sh)
#   make soak SECONDS=600   long stress run
#   make mutants    plant each known bug (tests/mutants/) in a scratch copy; the
#                   fast suite must catch every one ("mutants: K of N caught")
#
# Each part of the tree adds its sources in its own fragment (*.mk); the rules
# that turn sources into keel.efi and into hosted programs live here, once.

BUILD     ?= build
CC        ?= gcc
NASM      ?= nasm
OBJCOPY   ?= objcopy
ACCEL     ?= auto
EMU       ?= qemu
CPU       ?=
SMP       ?= 1
SECONDS   ?= 600

.DEFAULT_GOAL := all
.SUFFIXES:
.DELETE_ON_ERROR:

WARN := -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wstrict-prototypes \
        -Wmissing-prototypes -Wpointer-arith -Wvla
COMMON_CFLAGS := -std=gnu11 -g $(WARN) -Iinclude -I.

# ---------------------------------------------------------------------------
# Freestanding build: keel.efi (GNU-EFI, x86-64, no SSE in the hypervisor).
EFI_LDS   := /usr/lib/elf_x86_64_efi.lds
EFI_CRT0  := /usr/lib/crt0-efi-x86_64.o
EFI_LIBS  := /usr/lib/libefi.a /usr/lib/libgnuefi.a
EFI_CFLAGS := $(COMMON_CFLAGS) -O2 -ffreestanding -fno-stack-protector -fpic -fshort-wchar \
        -mno-red-zone -maccumulate-outgoing-args -mgeneral-regs-only -fno-strict-aliasing \
        -I/usr/include/efi -I/usr/include/efi/x86_64 -DKEEL_FREESTANDING -DGNU_EFI_USE_MS_ABI
EFI_LDFLAGS := -nostdlib -znocombreloc -T $(EFI_LDS) -shared -Bsymbolic --no-undefined

KEEL_SRCS :=      # .c, .S and .asm files linked into keel.efi (fragments add)
KEEL_DEPS :=      # extra prerequisites of keel.efi objects (e.g. the embedded guest)

# ---------------------------------------------------------------------------
# Hosted builds of the portable code, in flavours:
#   plain (tests), tsan, asan (ASan+UBSan), rel (benchmarks, assertions off)
HOSTED_CFLAGS := $(COMMON_CFLAGS) -pthread -DKEEL_HOSTED
FLAVOUR_CFLAGS_plain := -O2
FLAVOUR_CFLAGS_tsan  := -O1 -fsanitize=thread
FLAVOUR_CFLAGS_asan  := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
                        -fno-sanitize-recover=all
FLAVOUR_CFLAGS_rel   := -O2 -DKEEL_NDEBUG
FLAVOURS := plain tsan asan rel

HOSTED_TESTS  :=  # programs run by make test (and test-tsan / test-asan)
BOOT_TESTS    :=  # scripts run by make test after the hosted tests
BENCH_PROGRAMS := # programs run by make bench (rel flavour)

# $(call hosted_program,NAME,SOURCES,LDLIBS) defines $(BUILD)/<flavour>/NAME.
define hosted_program_flavour
$(BUILD)/$(3)/$(1): $(patsubst %.c,$(BUILD)/$(3)/obj/%.o,$(2))
	@mkdir -p $$(@D)
	$$(CC) $$(HOSTED_CFLAGS) $$(FLAVOUR_CFLAGS_$(3)) -o $$@ $$^ $(4)
endef
hosted_program = $(foreach f,$(FLAVOURS),$(eval $(call hosted_program_flavour,$(1),$(2),$(f),$(3))))

# Every fragment in the tree, in a fixed (sorted) order: arch/ boot/ guest/ lib/
# mmu/ tests/ vmm/. A fragment may use MMU_SRCS and MMU_HOSTED_SRCS from mmu/*.mk only
# inside recipes or hosted_program calls made after mmu/ is read (tests/ is).
include $(sort $(wildcard arch/x86/*.mk boot/*.mk guest/*.mk lib/*.mk mmu/*.mk rt/*.mk tests/*.mk tests/*/*.mk vmm/*.mk vmm/*/*.mk))

define flavour_rules
$(BUILD)/$(1)/obj/%.o: %.c
	@mkdir -p $$(@D)
	$$(CC) $$(HOSTED_CFLAGS) $$(FLAVOUR_CFLAGS_$(1)) -MMD -MP -c $$< -o $$@
endef
$(foreach f,$(FLAVOURS),$(eval $(call flavour_rules,$(f))))

# keel.efi
KEEL_OBJS := $(patsubst %,$(BUILD)/efi/%.o,$(basename $(KEEL_SRCS)))
$(BUILD)/efi/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(EFI_CFLAGS) -MMD -MP -c $< -o $@
$(BUILD)/efi/%.o: %.S $(KEEL_DEPS)
	@mkdir -p $(@D)
	$(CC) $(EFI_CFLAGS) -MMD -MP -c $< -o $@
$(BUILD)/efi/%.o: %.asm $(KEEL_DEPS)
	@mkdir -p $(@D)
	$(NASM) -f elf64 -I$(BUILD)/ -o $@ $<
$(BUILD)/keel.so: $(KEEL_OBJS)
	ld $(EFI_LDFLAGS) $(EFI_CRT0) $^ -o $@ $(EFI_LIBS)
$(BUILD)/keel.efi: $(BUILD)/keel.so
	$(OBJCOPY) -j .text -j .sdata -j .data -j .dynamic -j .dynsym -j .rel \
	   -j .rela -j .rel.* -j .rela.* -j .reloc --target=efi-app-x86_64 $< $@

HOSTED_BINS := $(foreach t,$(HOSTED_TESTS),$(BUILD)/plain/$(t))
BENCH_BINS  := $(foreach t,$(BENCH_PROGRAMS),$(BUILD)/rel/$(t))

.PHONY: all keel hosted deps deps-run deps-test run test test-hosted test-boot test-tsan \
        test-asan bench soak mutants print-hosted-tests clean
all: keel hosted
keel: $(BUILD)/keel.efi
hosted: $(HOSTED_BINS) $(BENCH_BINS)

deps-run:
	@scripts/deps.sh run
deps-test:
	@scripts/deps.sh test

run: deps-run
	@$(MAKE) --no-print-directory keel
	@scripts/run.sh --emu=$(EMU) --accel=$(ACCEL) --cpu=$(CPU) --smp=$(SMP)

# make test: every suite, one tally. TEST_FLAVOURS may narrow it (e.g. plain).
TEST_FLAVOURS ?= plain asan tsan
test: deps-test
	@$(MAKE) --no-print-directory keel $(foreach f,$(TEST_FLAVOURS),$(foreach t,$(HOSTED_TESTS),$(BUILD)/$(f)/$(t)))
	@scripts/run-tests.sh --build=$(BUILD) --flavours="$(TEST_FLAVOURS)" \
	   --hosted="$(HOSTED_TESTS)" --boot="$(BOOT_TESTS)"

test-tsan test-asan: test-%: deps-test
	@$(MAKE) --no-print-directory $(foreach t,$(HOSTED_TESTS),$(BUILD)/$*/$(t))
	@scripts/run-tests.sh --build=$(BUILD) --flavours=$* --hosted="$(HOSTED_TESTS)" --boot=

bench: deps-test
	@$(MAKE) --no-print-directory $(BENCH_BINS) keel
	@for b in $(BENCH_BINS); do $$b || exit 1; done
	@scripts/bench-smp.sh

# Planted bugs: each applied to a scratch copy, the plain hosted suite run
# there (the copy reuses build/plain, so only the mutated file rebuilds).
mutants: deps-test
	@$(MAKE) --no-print-directory $(HOSTED_BINS) $(BUILD)/tsan/unit_race
	@scripts/mutants.sh

print-hosted-tests:
	@echo $(HOSTED_TESTS)

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
