#!/usr/bin/env bash
# A short, fixed-length libFuzzer run of the nested MMU's NPT12 target and of
# nested SVM's VMCB target (for make test; make fuzz SECONDS=N runs longer).
# Prints TAP.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/boot/tap.sh
build=${BUILD:-build}
mkdir -p "$build/test-logs"

# fuzz_one NAME RUNS MAX_LEN WHAT: build the target, run it RUNS times.
fuzz_one() {
	local name=$1 runs=$2 max_len=$3 what=$4 log=$build/test-logs/$1.log

	if ! make --no-print-directory -s "$build/fuzz/$name" >"$log" 2>&1; then
		tap fail "$name builds (clang, libFuzzer)" "see $log"
		return
	fi
	tap ok "$name builds"
	if timeout --kill-after=10 600 "$build/fuzz/$name" -runs="$runs" -seed=1 -timeout=10 \
		-max_len="$max_len" >>"$log" 2>&1; then
		tap ok "$name: $runs $what"
	else
		tap fail "$name: $runs runs" "$(grep -m3 -E "$name:|ERROR|SUMMARY" "$log")"
	fi
}

fuzz_one fuzz_npt12 "${FUZZ_RUNS:-5000}" 1024 \
	"random NPT12 tables and accesses, no crash, no mapping outside L1"
fuzz_one fuzz_vmcb "${FUZZ_VMCB_RUNS:-500000}" 1024 \
	"random VMCB12s: no crash, no VMCB the APM refuses accepted, Keel's intercepts kept"
tap_end
