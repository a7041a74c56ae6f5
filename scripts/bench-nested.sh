#!/usr/bin/env bash
# The nested exit-cost figure (make bench): boots the L1 test hypervisor
# (guest/nested/, docs/nested-guest.md) under Keel in QEMU once and prints
# its line
#   nested: l1_exit_cycles=<C1> l2_exit_cycles=<C2> ratio=<C2/C1> n=<N>
# C1: cycles of one CPUID exit of L1 that Keel handles; C2: cycles of one
# CPUID of L2 that L1 intercepts (L2 -> Keel -> L1 -> VMRUN -> Keel -> L2),
# both RDTSC averages over N in the same run. Exits 1 when there is no figure.
# One emulator run: wrap it in flock /tmp/keel-emu.lock on a shared machine.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
build=${BUILD:-build}
log=$build/bench-nested.log
cfg=$build/bench-nested.cfg
for f in "$build/keel.efi" "$build/guest/nested.bin"; do
	[ -f "$f" ] || { echo "bench-nested: $f missing (make all)" >&2; exit 1; }
done
printf '%s\n' 'guest = \keel\nested.bin' 'loader = flat' 'guest-mem = 2112M' 'timeout = 200' >"$cfg"
scripts/run-qemu.sh --quiet --timeout=280 --log="$log" --cfg="$cfg" \
	--esp-file="$build/guest/nested.bin:keel/nested.bin" 2>/dev/null
line=$(sed -nE 's/^guest: (nested: l1_exit_cycles=.*)$/\1/p' "$log" | tail -n 1)
if [ -z "$line" ]; then
	echo "bench-nested: no figure ($(grep -m1 -E '^guest: nested: no figure' "$log" || echo "see $log"))" >&2
	exit 1
fi
echo "$line"
