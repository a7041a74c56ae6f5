#!/usr/bin/env bash
# A short, fixed-length libFuzzer run of the nested MMU's NPT12 target (for
# make test; make fuzz SECONDS=N runs longer). Prints TAP.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/boot/tap.sh
build=${BUILD:-build}
runs=${FUZZ_RUNS:-5000}
log=$build/test-logs/fuzz_npt12.log
mkdir -p "$build/test-logs"
if ! make --no-print-directory -s "$build/fuzz/fuzz_npt12" >"$log" 2>&1; then
	tap fail "fuzz_npt12 builds (clang, libFuzzer)" "see $log"
	tap_end
	exit
fi
tap ok "fuzz_npt12 builds"
if timeout --kill-after=10 600 "$build/fuzz/fuzz_npt12" -runs="$runs" -seed=1 -timeout=10 -max_len=1024 \
	>>"$log" 2>&1; then
	tap ok "fuzz_npt12: $runs random NPT12 tables and accesses, no crash, no mapping outside L1"
else
	tap fail "fuzz_npt12: $runs runs" "$(grep -m3 -E 'fuzz_npt12:|ERROR|SUMMARY' "$log")"
fi
tap_end
