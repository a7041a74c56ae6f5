# Boot test under Bochs: Intel VMX + EPT (cpu model tigerlake), one boot
# running the whole test-guest suite (scripts/run-bochs.sh does the run).
BOOT_TESTS += tests/boot/bochs-vmx.sh
