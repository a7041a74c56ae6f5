# guest/linux/: the Linux guest. Debian's kernel package (fetched with
# apt-get download, unpacked with dpkg -x into $(BUILD)/linux, never
# installed) and a busybox-static initramfs whose /init is guest/linux/init
# (scripts/guest-images.sh). make test and make run GUEST=linux build it.
.PHONY: guest-images
guest-images: deps-run
	@scripts/guest-images.sh $(BUILD)

test: guest-images
ifeq ($(GUEST),linux)
run: guest-images
endif

# make bench-boot: Linux booted directly by QEMU and under Keel, alternating.
.PHONY: bench-boot usb-image test-bochs-linux
bench-boot: guest-images
	@$(MAKE) --no-print-directory keel
	@scripts/bench-boot.sh

# make usb-image: $(BUILD)/usb.img, GPT + FAT ESP with keel.efi, keel.cfg and
# the Linux guest, for dd to a USB stick (docs/booting.md).
usb-image: guest-images deps-test
	@$(MAKE) --no-print-directory keel
	@scripts/usb-image.sh $(BUILD)/usb.img

# make test-bochs-linux: the Linux guest under Bochs VMX (slow: not in make test).
test-bochs-linux: guest-images deps-test
	@$(MAKE) --no-print-directory keel
	@tests/boot/bochs-linux.sh
