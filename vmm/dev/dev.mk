# vmm/dev/: the virtual platform's device models (docs/platform.md,
# "Devices"). Portable C: built into keel.efi and tested hosted.
DEV_SRCS := vmm/dev/platform.c vmm/dev/pic.c vmm/dev/ioapic.c vmm/dev/lapic.c \
	vmm/dev/pit.c vmm/dev/rtc.c vmm/dev/uart.c vmm/dev/acpi_pm.c vmm/dev/fw_cfg.c \
	vmm/dev/pci.c

KEEL_SRCS += $(DEV_SRCS)
