#!/usr/bin/env bash
# TAP output for the boot-test scripts (sourced, not run). The plan line
# comes last (tap_end), which TAP allows.

tap_n=0 tap_failed=0

# tap ok|fail DESCRIPTION [DETAIL]: one TAP line; DETAIL follows a failure.
tap() {
	tap_n=$((tap_n + 1))
	if [ "$1" = ok ]; then
		echo "ok $tap_n - $2"
	else
		echo "not ok $tap_n - $2"
		[ -n "${3:-}" ] && echo "# $3"
		tap_failed=$((tap_failed + 1))
	fi
}

# check DESCRIPTION COMMAND...: one TAP line from a command's status.
check() {
	local d=$1
	shift
	if "$@"; then tap ok "$d"; else tap fail "$d"; fi
}

# tap_end: the plan line; the status says whether everything passed.
tap_end() {
	echo "1..$tap_n"
	((tap_failed == 0))
}
