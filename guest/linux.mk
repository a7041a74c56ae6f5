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
