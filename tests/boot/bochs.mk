# Boot tests under Bochs, Intel VMX + EPT (cpu model tigerlake), run by
# scripts/run-bochs.sh: one boot running the whole test-guest suite, one
# short boot checking that a crashing guest is stopped while Keel survives,
# one short boot with 2 CPUs (bochs-vmx-smp.sh), and the Multiboot test
# kernel (32-bit paging-off entry). The Linux guest under Bochs is too slow
# for make test: make test-bochs-linux.
BOOT_TESTS += tests/boot/bochs-vmx.sh tests/boot/bochs-vmx-faults.sh tests/boot/bochs-vmx-smp.sh \
	tests/boot/bochs-multiboot.sh
