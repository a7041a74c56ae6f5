# Linux with KVM as L1 on Keel's nested SVM (docs/nested-svm.md): one boot.
BOOT_TESTS += tests/boot/qemu-kvm-l1.sh
