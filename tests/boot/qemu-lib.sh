#!/usr/bin/env bash
# Shared helpers for the QEMU boot tests (sourced, not run): TAP output and
# one bounded boot through scripts/run-qemu.sh.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
BUILD=${BUILD:-build}
export BUILD
tap_n=0 tap_failed=0
logdir=$BUILD/test-logs/qemu
mkdir -p "$logdir"

# tap OK|FAIL DESCRIPTION
tap() {
	tap_n=$((tap_n + 1))
	if [ "$1" = ok ]; then
		echo "ok $tap_n - $2"
	else
		echo "not ok $tap_n - $2"
		tap_failed=$((tap_failed + 1))
	fi
}

# check DESCRIPTION COMMAND...: one TAP line from a command's status.
check() {
	local d=$1
	shift
	if "$@"; then tap ok "$d"; else tap fail "$d"; fi
}

# boot NAME [run-qemu options...]: boot once; sets boot_status and boot_log.
boot() {
	local name=$1
	shift
	boot_log=$logdir/$name.log
	scripts/run-qemu.sh --quiet --timeout="${KEEL_BOOT_TIMEOUT:-280}" --log="$boot_log" "$@" \
		2>"$logdir/$name.stderr"
	boot_status=$?
	echo "# $name: run-qemu exit status $boot_status, log $boot_log"
}

log_has() {
	grep -qE "$1" "$boot_log"
}

tap_end() {
	echo "1..$tap_n"
	((tap_failed == 0))
}
