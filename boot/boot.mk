# boot/: keel.efi's UEFI entry, memory reservation, keel.cfg, guest image
# loading, the hand-off, the embedded guest. Host services are in rt/.
KEEL_SRCS += boot/main.c boot/efi_util.c boot/memmap.c boot/cfg.c \
	boot/guest_image.c boot/summary.c boot/guest_blob.asm

# The keel.cfg parser is portable: tested hosted.
HOSTED_TESTS += boot_cfg_test
$(call hosted_program,boot_cfg_test,boot/cfg.c boot/cfg_test.c tests/unit/ktest.c,-lcmocka)
