#!/usr/bin/env bash
# Shared helpers for the QEMU boot tests (sourced, not run): TAP output and
# one bounded boot through scripts/run-qemu.sh.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
BUILD=${BUILD:-build}
export BUILD
. tests/boot/tap.sh
logdir=$BUILD/test-logs/qemu
mkdir -p "$logdir"

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

