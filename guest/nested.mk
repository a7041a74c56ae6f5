# guest/nested/: the L1 test hypervisor (docs/nested-guest.md), a flat
# 64-bit image like the self-test guest (same entry, traps, console and
# ABI), loaded from the ESP by keel.cfg (guest = \keel\nested.bin). Built
# by make, make test and make run GUEST=nested; tests/boot/qemu-nested.sh
# boots it; scripts/bench-nested.sh prints its exit-cost figure.
NESTED_SRCS := guest/entry.asm guest/lib.c guest/traps.c lib/string.c lib/printf.c \
	guest/nested/main.c guest/nested/l1.c guest/nested/npt.c guest/nested/l2.c \
	guest/nested/vmrun.asm guest/nested/bare_trap.asm guest/nested/checks_svm.c guest/nested/checks_mem.c \
	guest/nested/checks_dirty.c guest/nested/checks_exit.c guest/nested/checks_vmcb.c guest/nested/checks_event.c \
	guest/nested/checks_tlb.c guest/nested/checks_mmio.c guest/nested/checks_smp.c \
	guest/nested/bench.c
NESTED_OBJS := $(patsubst %,$(BUILD)/guest/obj/%.o,$(basename $(NESTED_SRCS)))

$(BUILD)/guest/nested.elf: $(NESTED_OBJS) guest/guest.ld
	ld -nostdlib -static -no-pie --no-warn-rwx-segments -T guest/guest.ld -o $@ $(NESTED_OBJS)
$(BUILD)/guest/nested.bin: $(BUILD)/guest/nested.elf
	$(OBJCOPY) -O binary $< $@

all: $(BUILD)/guest/nested.bin

.PHONY: nested-guest bench-nested
nested-guest: deps-test
	@$(MAKE) --no-print-directory $(BUILD)/guest/nested.bin $(BUILD)/guest/nested-bare.bin
test: nested-guest
ifeq ($(GUEST),nested)
run: nested-guest
endif

# make bench runs it after the hosted benchmarks (one QEMU boot).
bench-nested: nested-guest
	@$(MAKE) --no-print-directory keel
	@scripts/bench-nested.sh

# The reference image: the same L1 behind a Multiboot shim, for QEMU's own
# SVM without Keel (tests/boot/qemu-nested.sh runs it first).
$(BUILD)/guest/nested-bare.bin: guest/nested/bare.asm $(BUILD)/guest/nested.bin
	$(NASM) -f bin -I$(BUILD)/ -o $@ $<
all: $(BUILD)/guest/nested-bare.bin
