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

# The QEMU monitor of the running boot, on a socket: what every CPU is doing
# when a boot hangs (python3, when there is one).
monitor_dump() {
	local sock=$1
	command -v python3 >/dev/null || { echo "(no python3: no CPU state)"; return; }
	python3 - "$sock" <<'PY' 2>&1 | tr -d '\r' | grep -aE 'CPU|RIP=' | head -n 40
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
for cmd in (b"info cpus\n", b"info registers -a\n"):
    s.sendall(cmd)
    time.sleep(1)
out = b""
try:
    while True:
        d = s.recv(65536)
        if not d:
            break
        out += d
except Exception:
    pass
sys.stdout.write(out.decode("latin-1"))
PY
}

# kill_tree PID: PID and every process below it (timeout(1) puts QEMU in
# its own process group, so a group kill would miss it).
kill_tree() {
	local c
	for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		kill_tree "$c"
	done
	kill -TERM "$1" 2>/dev/null
}

# boot NAME [run-qemu options...]: boot once; sets boot_status and boot_log.
# Bounded twice: run-qemu's timeout (KEEL_BOOT_TIMEOUT), and a watchdog that
# ends a run that printed Keel's final line ("keel: done" or "keel: stopped")
# but is still running KEEL_EXIT_GRACE seconds later (Keel writes the exit
# port right after that line). Either way it says what hung (the last line
# of the log; the CPUs' state from QEMU's monitor) and boot_status is 4.
boot() {
	local name=$1 pid sock t=0 seen=-1 grace=${KEEL_EXIT_GRACE:-30}
	shift
	boot_log=$logdir/$name.log
	sock=$(mktemp -u "/tmp/keel-mon.XXXXXX")
	: >"$boot_log"
	QEMU_EXTRA="${QEMU_EXTRA:-} -chardev socket,id=kmon,path=$sock,server=on,wait=off -mon chardev=kmon,mode=readline" \
		scripts/run-qemu.sh --quiet --timeout="${KEEL_BOOT_TIMEOUT:-280}" \
		--log="$boot_log" "$@" 2>"$logdir/$name.stderr" &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		if ((seen < 0)) && grep -qaE '^keel: (done|stopped)' "$boot_log"; then
			seen=$t
		elif ((seen >= 0 && t - seen >= grace)); then
			echo "# $name: HUNG: Keel printed its final line but QEMU was still running" \
				"${grace} s later; the CPUs:"
			monitor_dump "$sock" | sed 's/^/#   /'
			kill_tree "$pid"
			break
		fi
		sleep 1
		t=$((t + 1))
	done
	wait "$pid"
	boot_status=$?
	((seen >= 0 && t - seen >= grace)) && boot_status=4
	rm -f "$sock"
	echo "# $name: run-qemu exit status $boot_status, log $boot_log"
	if ((boot_status == 4)); then
		echo "# $name: no verdict; last line of the log: $(tail -n 1 "$boot_log" | cut -c1-200)"
		sed 's/^/# /' "$logdir/$name.stderr" | tail -n 3
	fi
}

log_has() {
	grep -qE "$1" "$boot_log"
}

