# guest/multiboot/: Keel's Multiboot v1 test kernel, an ELF32 executable
# (32-bit entry, paging off) that the Multiboot loader boots in the boot
# tests (tests/boot/qemu-multiboot.sh).
MB_SRCS := guest/multiboot/entry.S guest/multiboot/main.c
MB_CFLAGS := $(COMMON_CFLAGS) -m32 -O2 -ffreestanding -fno-pic -fno-pie -fno-stack-protector \
	-mno-red-zone -mgeneral-regs-only -fno-asynchronous-unwind-tables -DKEEL_FREESTANDING
MB_OBJS := $(patsubst %,$(BUILD)/guest/multiboot/%.o,$(notdir $(basename $(MB_SRCS))))

$(BUILD)/guest/multiboot/%.o: guest/multiboot/%.c
	@mkdir -p $(@D)
	$(CC) $(MB_CFLAGS) -MMD -MP -c $< -o $@
$(BUILD)/guest/multiboot/%.o: guest/multiboot/%.S
	@mkdir -p $(@D)
	$(CC) $(MB_CFLAGS) -c $< -o $@
$(BUILD)/guest/mbtest.elf: $(MB_OBJS) guest/multiboot/mb.ld
	ld -m elf_i386 -nostdlib -static --no-warn-rwx-segments -T guest/multiboot/mb.ld -o $@ $(MB_OBJS)

all: $(BUILD)/guest/mbtest.elf

# make test boots it (tests/boot/*multiboot.sh): build it after deps-test has
# installed the toolchain.
.PHONY: mbtest
mbtest: deps-test
	@$(MAKE) --no-print-directory $(BUILD)/guest/mbtest.elf
test: mbtest
