#!/usr/bin/env bash
# QEMU boot tests on AMD SVM + NPT (TCG): the default guest passes, a guest
# made to fail makes the run fail, and a malformed keel.cfg is reported with
# its line number before any guest starts; a CPU without 1 GiB nested pages
# gets 2 MiB ones. Four boots, each bounded
# (guest memory layouts are in qemu-memory.sh).
. "$(dirname "$0")/qemu-lib.sh"

[ -f "$BUILD/keel.efi" ] || { echo "not ok 1 - $BUILD/keel.efi missing (make keel)"; exit 1; }

# 1. The default run.
boot default
summary=$(grep -E '^keel: done ' "$boot_log" | tail -n 1)
echo "# $summary"
check "default run exits 0" test "$boot_status" -eq 0
check "summary line says result=pass" \
	grep -qE '^keel: done guest=selftest result=pass ' <<<"$summary"
npf=$(sed -nE 's/.* npf=([0-9]+).*/\1/p' <<<"$summary")
check "nested page faults were taken (npf=${npf:-none})" test "${npf:-0}" -gt 0
for t in cpuid port hypercall msr int3 lapic-timer nmi single-step string-io ring3 ram ram-2m ram-1g open-bus ram-end; do
	check "self-test $t reported PASS" log_has "^guest: PASS $t\$"
done
check "open-bus reads and writes were logged" \
	log_has "open bus: 4-byte read of gpa 0x[0-9a-f]+ -> all ones"
check "guest RAM backing is congruent modulo 1 GiB (huge NPT pages possible)" \
	log_has "^keel: guest RAM gpa 0x0-0x83ffffff at host 0x[0-9a-f]+ \(1G-aligned\)$"
check "the MMU mapped guest RAM with 1 GiB and 2 MiB NPT pages" \
	log_has "^keel: mmu .* maps=4k:[0-9]+,2m:[1-9][0-9]*,1g:[1-9][0-9]*$"

# 2. A self-test failed on purpose: the run must fail. The same boot loads
# the guest from a file on the ESP named by keel.cfg instead of the
# embedded copy (with little RAM, to keep the boot short).
cfg=$logdir/esp-guest.cfg
printf 'guest = \\keel\\copy.bin\nguest-mem = 64M\n' >"$cfg"
GUEST_FAIL=cpuid boot guest-fail --cfg="$cfg" --esp-file="$BUILD/guest/selftest.bin:keel/copy.bin"
check "failing guest makes run-qemu exit 1" test "$boot_status" -eq 1
check "guest image loaded from the ESP path in keel.cfg" \
	log_has '^keel: guest copy from .keel.copy.bin \([0-9]+ bytes\)'
check "failing self-test is named" log_has "^guest: FAIL cpuid: .*failed on purpose"
check "the other self-tests still pass" log_has "^guest: PASS open-bus$"
check "summary line says result=fail failures=1" \
	log_has "^keel: done guest=copy result=fail .*failures=1 "

# 3. A CPU without 1 GiB second-level pages (CPUID 8000_0001h:EDX[Page1GB]
# clear): the same guest passes, mapped with 2 MiB pages only.
boot no-1g --cpu=qemu64,+svm,+npt
check "without Page1GB the guest still passes" test "$boot_status" -eq 0
check "without Page1GB no 1 GiB NPT page is used" \
	log_has "^keel: mmu .* maps=4k:[0-9]+,2m:[1-9][0-9]*,1g:0$"

# 4. A malformed keel.cfg line.
cfg=$logdir/bad.cfg
printf '# test config\nlog = info\nguest-mem 4G\n' >"$cfg"
boot bad-cfg --cfg="$cfg"
check "malformed keel.cfg makes run-qemu exit 2 (no hang)" test "$boot_status" -eq 2
check "error names keel.cfg line 3" log_has '^keel: keel.cfg:3: expected "key = value"'
check "Keel stops before starting a guest" log_has "^keel: stopped before starting a guest"
check "no guest ran" bash -c "! grep -q '^guest:' '$boot_log'"

tap_end
