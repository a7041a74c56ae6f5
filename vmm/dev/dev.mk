# vmm/dev/: the virtual platform's device models (docs/platform.md,
# "Devices"). Portable C: built into keel.efi and tested hosted.
DEV_SRCS := vmm/dev/platform.c vmm/dev/pic.c vmm/dev/ioapic.c vmm/dev/lapic.c vmm/dev/ipi.c \
	vmm/dev/pit.c vmm/dev/rtc.c vmm/dev/uart.c vmm/dev/acpi_pm.c vmm/dev/fw_cfg.c \
	vmm/dev/pci.c

KEEL_SRCS += $(DEV_SRCS)

# Hosted tests, one program per device (vmm/dev/dev_test.h has the watchdog).
DEV_TEST_HOST := vmm/dev/dev_test_host.c
HOSTED_TESTS += vmm_dev_pic_test
$(call hosted_program,vmm_dev_pic_test,vmm/dev/pic.c vmm/dev/pic_test.c,-lcmocka)
HOSTED_TESTS += vmm_dev_lapic_test
$(call hosted_program,vmm_dev_lapic_test,vmm/dev/lapic.c vmm/dev/lapic_test.c $(DEV_TEST_HOST),-lcmocka)
HOSTED_TESTS += vmm_dev_ioapic_test vmm_dev_pit_test
$(call hosted_program,vmm_dev_ioapic_test,vmm/dev/ioapic.c vmm/dev/ioapic_test.c,-lcmocka)
$(call hosted_program,vmm_dev_pit_test,vmm/dev/pit.c vmm/dev/pit_test.c,-lcmocka)
HOSTED_TESTS += vmm_dev_rtc_test vmm_dev_uart_test
$(call hosted_program,vmm_dev_rtc_test,vmm/dev/rtc.c vmm/dev/rtc_test.c,-lcmocka)
$(call hosted_program,vmm_dev_uart_test,vmm/dev/uart.c vmm/dev/uart_test.c,-lcmocka)
HOSTED_TESTS += vmm_dev_platform_test
$(call hosted_program,vmm_dev_platform_test,$(DEV_SRCS) $(DEV_TEST_HOST) vmm/dev/platform_test.c,-lcmocka)
# vCPU threads on one platform (IPIs, INIT/SIPI, devices at once); in the
# tsan flavour too, like every hosted test.
HOSTED_TESTS += vmm_dev_platform_smp_test
$(call hosted_program,vmm_dev_platform_smp_test,$(DEV_SRCS) $(DEV_TEST_HOST) vmm/dev/platform_smp_test.c,-lcmocka)
