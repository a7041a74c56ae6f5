# QEMU boot tests (AMD SVM under TCG). Each script boots keel.efi a bounded
# number of times and prints TAP lines. qemu-linux.sh needs the Linux guest
# images (make guest-images, which make test builds first).
BOOT_TESTS += tests/boot/qemu-svm.sh tests/boot/qemu-memory.sh tests/boot/qemu-nosvm.sh \
	tests/boot/qemu-faults.sh tests/boot/qemu-smp.sh tests/boot/qemu-spin.sh tests/boot/qemu-multiboot.sh \
	tests/boot/qemu-linux.sh
BOOT_TESTS += tests/boot/qemu-nested.sh
