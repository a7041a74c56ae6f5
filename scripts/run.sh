#!/usr/bin/env bash
# Boot keel.efi in an emulator: the `make run` entry point.
#
#   scripts/run.sh [--emu=qemu|bochs] [--accel=auto|tcg|kvm] [--cpu=MODEL] [OPTIONS...]
#
# Dispatches to scripts/run-qemu.sh (AMD SVM under QEMU) or
# scripts/run-bochs.sh (Intel VMX under Bochs); every other option is passed
# on. Exits with the emulator script's status: 0 when the guest passed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
emu=qemu
args=()
for a in "$@"; do
	case $a in
	--emu=*) emu=${a#*=} ;;
	*) args+=("$a") ;;
	esac
done

case $emu in
qemu | "") exec "$here/run-qemu.sh" "${args[@]}" ;;
bochs)
	if [ ! -x "$here/run-bochs.sh" ]; then
		echo "run: scripts/run-bochs.sh is not in this tree" >&2
		exit 2
	fi
	exec "$here/run-bochs.sh" "${args[@]}"
	;;
*)
	echo "run: unknown emulator '$emu' (qemu or bochs)" >&2
	exit 2
	;;
esac
