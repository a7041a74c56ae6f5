#!/usr/bin/env bash
# make test suite: every lab's planted bug still applies to the code (its
# sed expressions all match), so no lab silently tests nothing after the MMU
# changed. Runs nothing; `make lab-N` runs a lab.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 2
source tests/boot/tap.sh

out=$(scripts/lab.sh --check 2>&1)
while read -r lab name _; do
	if grep -qE "^applied +$name( |$)" <<<"$out"; then
		tap ok "$lab: its bug ($name) applies to the code"
	else
		tap fail "$lab: its bug ($name) no longer applies" \
			"$(grep -E "$name" <<<"$out" | head -3 | paste -sd' ')"
	fi
done < <(scripts/lab.sh --list)
tap_end
