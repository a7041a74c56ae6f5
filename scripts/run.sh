#!/usr/bin/env bash
# Boot keel.efi in an emulator: the `make run` entry point.
#
#   scripts/run.sh [--emu=qemu|bochs] [--accel=auto|tcg|kvm] [--cpu=MODEL] [OPTIONS...]
#
# GUEST=linux (environment, as `make run GUEST=linux` sets it) boots the
# Linux guest (scripts/guest-images.sh) to an interactive busybox shell on
# the serial console: this terminal's input goes to the guest's COM1, and
# `poweroff` in the shell ends the run. GUEST_MEM (MiB, default 512) sizes it.
# GUEST=nested boots the L1 test hypervisor (guest/nested/, docs/nested-guest.md).
# With --smp=N (make run SMP=N) the guest gets N vCPUs: keel.cfg has no
# `cpus =`, so there is one per started CPU, and Linux starts its APs itself.
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

build=${BUILD:-build}
case ${GUEST:-} in
"" | selftest) ;;
linux)
	[ "$emu" = qemu ] || { echo "run: GUEST=linux is interactive under QEMU only" >&2; exit 2; }
	for f in vmlinuz initrd.gz; do
		[ -f "$build/linux/$f" ] || { echo "run: $build/linux/$f missing (make guest-images)" >&2; exit 2; }
	done
	mem=${GUEST_MEM:-512}
	cfg=$build/linux/run.cfg
	printf '%s\n' 'guest = \linux\vmlinuz' 'initrd = \linux\initrd.gz' \
		"cmdline = console=ttyS0 quiet pci=noearly keel.mem=$mem" "guest-mem = ${mem}M" >"$cfg"
	args+=("--cfg=$cfg" "--esp-file=$build/linux/vmlinuz:linux/vmlinuz"
		"--esp-file=$build/linux/initrd.gz:linux/initrd.gz" --interactive --timeout=86400)
	;;
nested)
	# The L1 test hypervisor (guest/nested/, docs/nested-guest.md).
	[ -f "$build/guest/nested.bin" ] || { echo "run: $build/guest/nested.bin missing (make nested-guest)" >&2; exit 2; }
	cfg=$build/guest/nested-run.cfg
	printf '%s\n' 'guest = \keel\nested.bin' 'loader = flat' 'guest-mem = 2112M' 'timeout = 240' >"$cfg"
	args+=("--cfg=$cfg" "--esp-file=$build/guest/nested.bin:keel/nested.bin")
	;;
*)
	echo "run: unknown GUEST '$GUEST' (selftest, linux or nested)" >&2
	exit 2
	;;
esac

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
