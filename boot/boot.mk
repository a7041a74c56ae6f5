# boot/: keel.efi's UEFI entry, memory reservation, keel.cfg, the pool and
# host services (include/keel/host.h), the embedded guest.
KEEL_SRCS += boot/main.c boot/efi_util.c boot/memmap.c boot/cfg.c boot/log.c boot/pool.c \
	boot/host.c boot/guest_image.c boot/summary.c boot/guest_blob.asm

# The keel.cfg parser and the pool are portable: tested hosted.
HOSTED_TESTS += boot_cfg_test boot_pool_test
$(call hosted_program,boot_cfg_test,boot/cfg.c boot/cfg_test.c,-lcmocka)
$(call hosted_program,boot_pool_test,boot/pool.c boot/pool_test.c,-lcmocka)
