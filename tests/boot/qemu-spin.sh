#!/usr/bin/env bash
# Keel keeps the CPU: a guest that spins with interrupts off and never exits
# ("jmp $", keel.cfg guest-fail = spin) is preempted by Keel's timer and
# stopped by keel.cfg's timeout, with a report and the summary line, well
# before QEMU's own timeout would kill it. And a guest that ends through
# the debug-exit port (keel.cfg guest-fail = debug-exit: OUT 42 to 0xf4)
# makes the run end with the status QEMU's isa-debug-exit would give, 85.
. "$(dirname "$0")/qemu-lib.sh"

[ -f "$BUILD/keel.efi" ] || { echo "not ok 1 - $BUILD/keel.efi missing (make keel)"; exit 1; }

cfg=$logdir/spin.cfg
printf 'guest-mem = 64M\ntimeout = 5\n' >"$cfg"
GUEST_FAIL=spin KEEL_BOOT_TIMEOUT=150 boot spin --cfg="$cfg"
check "spinning guest: run-qemu exits 1 (VM stopped), not 4 (QEMU timeout)" \
	test "$boot_status" -eq 1
check "the guest really spun" log_has "^guest: selftest: spinning on purpose"
check "the timeout is reported" \
	log_has "^keel: vm selftest stopped: timeout after 5 s \(keel.cfg timeout\)"
check "Keel prints the summary" log_has "^keel: done guest=selftest result=fail exits=[0-9]+ "
exits=$(sed -nE 's/^keel: done .* exits=([0-9]+) .*/\1/p' "$boot_log" | tail -n 1)
check "the guest was preempted while it spun (exits=${exits:-none})" test "${exits:-0}" -gt 50

printf 'guest-mem = 64M\n' >"$cfg"
GUEST_FAIL=debug-exit KEEL_BOOT_TIMEOUT=150 boot debug-exit --cfg="$cfg"
check "debug exit 42: run-qemu exits (42 << 1) | 1 = 85" test "$boot_status" -eq 85
check "the summary carries exit_code=42" \
	log_has "^keel: done guest=selftest result=fail exit_code=42 exits=[0-9]+ "

tap_end
