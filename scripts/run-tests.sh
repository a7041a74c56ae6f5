#!/usr/bin/env bash
# Runs every test program and boot test, counts TAP lines ("ok" / "not ok"),
# and ends with one line: "N passed, N failed". Exit status 0 only when
# nothing failed. A program that exits non-zero without reporting a failing
# case (a crash, a sanitizer report, a timeout) counts as one failure.
#
#   --build=DIR  --flavours="plain asan tsan"  --hosted="prog ..."  --boot="script ..."
set -uo pipefail

build=build flavours=plain hosted= boot=
for a in "$@"; do
	case $a in
	--build=*)    build=${a#*=} ;;
	--flavours=*) flavours=${a#*=} ;;
	--hosted=*)   hosted=${a#*=} ;;
	--boot=*)     boot=${a#*=} ;;
	*) echo "run-tests: unknown argument $a" >&2; exit 2 ;;
	esac
done

passed=0 failed=0
logdir=$build/test-logs
mkdir -p "$logdir"

# run NAME TIMEOUT CMD...: run one suite, print its TAP lines, tally.
run() {
	local name=$1 limit=$2; shift 2
	local log=$logdir/${name//\//_}.log
	echo "== $name"
	CMOCKA_MESSAGE_OUTPUT=TAP timeout --kill-after=10 "$limit" "$@" >"$log" 2>&1
	local rc=$?
	local ok bad
	ok=$(grep -cE '^ok ' "$log")
	# cmocka reports a skipped case as "not ok N # SKIP": a skip, not a failure.
	bad=$(grep -E '^not ok ' "$log" | grep -cvE '^not ok [0-9]* *# SKIP')
	grep -E '^(not )?ok |^# ' "$log" | sed 's/^/   /'
	if ((rc != 0 && bad == 0)); then
		bad=1
		echo "   not ok - $name exited with status $rc (log: $log)"
		tail -n 20 "$log" | sed 's/^/   | /'
	elif ((bad > 0)); then
		echo "   (log: $log)"
	fi
	passed=$((passed + ok))
	failed=$((failed + bad))
}

export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ${TSAN_OPTIONS:-}"
export ASAN_OPTIONS="detect_leaks=1 abort_on_error=0 ${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1 halt_on_error=1 ${UBSAN_OPTIONS:-}"

for f in $flavours; do
	for t in $hosted; do
		run "$f/$t" 900 "$build/$f/$t"
	done
done
for b in $boot; do
	run "boot/$(basename "$b")" 900 "$b"
done

echo
echo "$passed passed, $failed failed"
((failed == 0))
