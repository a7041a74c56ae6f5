#!/usr/bin/env bash
# Keel's own failure paths under QEMU: a guest that dies (triple fault) is
# stopped with a report while Keel survives to print its summary; and Keel's
# panic path prints vector, error code, CR2, registers and a stack dump and
# ends QEMU with the panic status instead of hanging or rebooting.
. "$(dirname "$0")/qemu-lib.sh"

[ -f "$BUILD/keel.efi" ] || { echo "not ok 1 - $BUILD/keel.efi missing (make keel)"; exit 1; }

GUEST_FAIL=crash boot guest-crash
check "crashing guest: run-qemu exits 1 (VM stopped), not a panic or timeout" \
	test "$boot_status" -eq 1
check "triple fault is reported as a VM stop" \
	log_has "^keel: vm selftest stopped: guest triple fault \(shutdown\)"
check "the VMCB state is dumped" log_has "^svm: vmcb exit_code=0x7f "
check "Keel survives and prints the summary" \
	log_has "^keel: done guest=selftest result=fail exits=[0-9]+ npf=[0-9]+ "

cfg=$logdir/panic.cfg
printf 'debug-panic = yes\n' >"$cfg"
boot panic --cfg="$cfg"
check "panic: run-qemu exits 3 (panic status), not a timeout" test "$boot_status" -eq 3
check "panic report names the vector and error code" \
	log_has "^keel: PANIC: exception #UD \(vector 6\) error=0x0 cr2="
check "panic report shows registers" log_has "^  rip=[0-9a-f]{16} cs=0008 "
check "panic report dumps the stack" log_has "^  \[rsp\+00\] [0-9a-f]{16} [0-9a-f]{16}"
check "panic ends with a stop line" log_has "^keel: stopped \(panic\)"

tap_end
