#!/usr/bin/env bash
# QEMU CPUs Keel cannot use: it must say why and end QEMU cleanly through
# isa-debug-exit, not hang or reboot. QEMU's qemu64 model has SVM but no
# NPT; qemu64,-svm has neither.
. "$(dirname "$0")/qemu-lib.sh"

[ -f "$BUILD/keel.efi" ] || { echo "not ok 1 - $BUILD/keel.efi missing (make keel)"; exit 1; }

boot no-svm --accel=tcg --cpu=qemu64,-svm
check "no SVM: run-qemu exits 2 (Keel error), not a timeout" test "$boot_status" -eq 2
check "no SVM: clear capability message" \
	log_has "^keel: cannot run guests on this CPU: AMD SVM is not available .*\+svm"
check "no SVM: Keel stops before starting a guest" \
	log_has "^keel: stopped before starting a guest"

boot no-npt --accel=tcg --cpu=qemu64
check "SVM without NPT: run-qemu exits 2, not a timeout" test "$boot_status" -eq 2
check "SVM without NPT: clear capability message" \
	log_has "^keel: cannot run guests on this CPU: AMD SVM without nested paging .*\+npt"

tap_end
