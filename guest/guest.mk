# guest/: the self-test guest, a flat 64-bit binary embedded in keel.efi
# (boot/guest_blob.asm). It reuses lib/ for string and printf.
GUEST_SRCS := guest/entry.asm guest/main.c guest/lib.c guest/traps.c guest/tests.c guest/smp.c \
	lib/string.c lib/printf.c
GUEST_CFLAGS := $(COMMON_CFLAGS) -O2 -ffreestanding -fno-pic -fno-pie -fno-stack-protector \
	-mno-red-zone -mgeneral-regs-only -mcmodel=small -fno-asynchronous-unwind-tables \
	-DKEEL_FREESTANDING
GUEST_OBJS := $(patsubst %,$(BUILD)/guest/obj/%.o,$(basename $(GUEST_SRCS)))

$(BUILD)/guest/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(GUEST_CFLAGS) -MMD -MP -c $< -o $@
$(BUILD)/guest/obj/%.o: %.asm
	@mkdir -p $(@D)
	$(NASM) -f elf64 -o $@ $<
$(BUILD)/guest/selftest.elf: $(GUEST_OBJS) guest/guest.ld
	ld -nostdlib -static -no-pie --no-warn-rwx-segments -T guest/guest.ld -o $@ $(GUEST_OBJS)
$(BUILD)/guest/selftest.bin: $(BUILD)/guest/selftest.elf
	$(OBJCOPY) -O binary $< $@

KEEL_DEPS += $(BUILD)/guest/selftest.bin
