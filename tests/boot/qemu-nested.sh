#!/usr/bin/env bash
# QEMU boot test (AMD SVM under TCG): the L1 test hypervisor (guest/nested/,
# docs/nested-guest.md) under Keel. It enables SVM, runs its own L2 guest
# on its own nested page table and reports each check as PASS/FAIL/SKIP;
# every check in guest/nested/main.c becomes one TAP line here. A check that
# never reports is named with the step the guest was in ("nested: check
# NAME" precedes each). A hang is ended by keel.cfg timeout (Keel's summary
# line) and the whole boot by run-qemu's timeout.
#
# First, the reference run: the same image behind a Multiboot shim
# (guest/nested/bare.asm) on QEMU's own SVM with no Keel, which proves the
# checks themselves right; a check that passes there and fails under Keel
# is Keel's bug. (QEMU has no NRIP save and writes a 32-bit
# VMEXIT_INVALID; the guest allows for both only when not under Keel.)
. "$(dirname "$0")/qemu-lib.sh"

bin=$BUILD/guest/nested.bin bare=$BUILD/guest/nested-bare.bin
[ -f "$BUILD/keel.efi" ] && [ -f "$bin" ] && [ -f "$bare" ] ||
	{ echo "not ok 1 - $BUILD/keel.efi, $bin or $bare missing (make all)"; exit 1; }

ref_log=$logdir/nested-reference.log
timeout --kill-after=5 "${KEEL_NESTED_REF_TIMEOUT:-120}" qemu-system-x86_64 -M pc -m 2200M \
	-accel tcg -cpu qemu64,+svm,+npt,+pdpe1gb,+nx -kernel "$bare" -serial stdio \
	-display none -monitor none -net none -no-reboot \
	-device isa-debug-exit,iobase=0xf4,iosize=4 </dev/null 2>&1 | tr -d '\r' >"$ref_log"
ref_status=${PIPESTATUS[0]}
echo "# reference run: QEMU exit status $ref_status, log $ref_log"
ref_failed=$(sed -nE 's/^FAIL ([a-z0-9-]+):.*/\1/p' "$ref_log" | tr '\n' ' ')
check "reference run without Keel (QEMU's own SVM): no check fails${ref_failed:+ (failed: $ref_failed)}" \
	test -z "$ref_failed"
if grep -qE '^nested: 0 of [0-9]+ failed' "$ref_log"; then
	tap ok "reference run ends with a passing verdict"
else
	tap fail "reference run ends with a passing verdict" \
		"last step: '$(sed -nE 's/^nested: check (.*)$/\1/p' "$ref_log" | tail -n 1)' (QEMU status $ref_status)"
fi

cfg=$logdir/nested.cfg
cat >"$cfg" <<CFG
guest = \\keel\\nested.bin
loader = flat
guest-mem = 2112M
timeout = ${KEEL_NESTED_TIMEOUT:-200}
CFG
# Two CPUs: smp-two-l2 runs an L2 on each vCPU at once.
boot nested --smp=2 --cfg="$cfg" --esp-file="$bin:keel/nested.bin"
echo "# $(grep -E '^keel: done ' "$boot_log" | tail -n 1)"
last_step=$(sed -nE 's/^guest: nested: check (.*)$/\1/p' "$boot_log" | tail -n 1)

checks=$(sed -nE 's/^[[:space:]]*\{ "([a-z0-9-]+)", check_[a-z0-9_]+ \},$/\1/p' guest/nested/main.c)
[ -n "$checks" ] || tap fail "the check list of guest/nested/main.c was found"
for c in $checks; do
	if log_has "^guest: PASS $c\$"; then
		tap ok "nested check $c"
	elif line=$(grep -m1 -E "^guest: SKIP $c: " "$boot_log"); then
		tap ok "nested check $c # SKIP ${line#guest: SKIP $c: }"
	elif line=$(grep -m1 -E "^guest: FAIL $c: " "$boot_log"); then
		tap fail "nested check $c" "${line#guest: }"
	else
		tap fail "nested check $c" "no result: the guest stopped or hung in step '${last_step:-none}'"
	fi
done
figure=$(grep -m1 -E '^guest: nested: l1_exit_cycles=' "$boot_log" || true)
[ -n "$figure" ] && echo "# ${figure#guest: }"
check "the L2/L1 exit-cost figure is printed" test -n "$figure"
check "summary line says guest=nested result=pass" log_has '^keel: done guest=nested result=pass '
check "run-qemu exits 0 (status $boot_status)" test "$boot_status" -eq 0

tap_end
