#!/usr/bin/env bash
# Boot keel.efi under QEMU + OVMF and exit with the guest's verdict.
#
#   scripts/run-qemu.sh [--accel=auto|tcg|kvm] [--cpu=MODEL] [--cfg=FILE]
#                       [--esp-file=LOCAL:ESP_PATH]... [--efi=FILE] [--log=FILE]
#                       [--timeout=SECONDS] [--memory=SIZE] [--smp=N] [--quiet] [--interactive]
#                       [--disk=IMAGE]
#
# --smp=N gives the machine N CPUs; under TCG with N > 1 they run in parallel
# (multi-threaded TCG). Default: SMP from the environment, else 1.
# Builds a FAT ESP image with keel.efi as \EFI\BOOT\BOOTX64.EFI (plus keel.cfg
# and any --esp-file), copies the OVMF variable store, runs QEMU under
# `timeout` with COM1 streamed to stdout and to the log, and maps Keel's
# isa-debug-exit status to its own exit code:
#   0 guest passed   1 guest failed or VM stopped   2 Keel error (config,
#   capability, setup)   3 Keel panic   4 no verdict (timeout, emulator error)
#   (v << 1) | 1 when the guest wrote v to the debug-exit port 0xf4
# --interactive passes this terminal's input to COM1 (make run GUEST=linux);
# --disk boots a prepared disk image (make usb-image) instead of building an ESP.
# Environment: BUILD (default build), KEEL_CFG (same as --cfg), GUEST_FAIL
# (a self-test name: adds "guest-fail = NAME" to keel.cfg), QEMU_EXTRA (more
# QEMU arguments for debugging, e.g. "-d int,cpu_reset -D qemu.log -no-reboot").
set -euo pipefail

build=${BUILD:-build}
accel=auto cpu= cfg=${KEEL_CFG:-} efi= log= limit=300 memory=5G quiet=0 smp=${SMP:-1} interactive=0 disk=
esp_files=()
for a in "$@"; do
	case $a in
	--accel=*)    accel=${a#*=} ;;
	--cpu=*)      cpu=${a#*=} ;;
	--cfg=*)      cfg=${a#*=} ;;
	--esp-file=*) esp_files+=("${a#*=}") ;;
	--efi=*)      efi=${a#*=} ;;
	--log=*)      log=${a#*=} ;;
	--timeout=*)  limit=${a#*=} ;;
	--memory=*)   memory=${a#*=} ;;
	--smp=*)      smp=${a#*=} ;;
	--quiet)      quiet=1 ;;
	--interactive) interactive=1 ;;
	--disk=*)     disk=${a#*=} ;;
	*) echo "run-qemu: unknown argument $a" >&2; exit 4 ;;
	esac
done
efi=${efi:-$build/keel.efi}
log=${log:-$build/keel-serial.log}

say() { echo "run-qemu: $*" >&2; }

[ -f "$efi" ] || { say "$efi not found (run make keel)"; exit 4; }
for tool in qemu-system-x86_64 mkfs.vfat mcopy mmd timeout; do
	command -v "$tool" >/dev/null || { say "$tool is missing (scripts/deps.sh run)"; exit 4; }
done

# KVM only where the host really nests SVM or VMX: /dev/kvm alone is not
# enough (a paravirtual /dev/kvm here cannot run OVMF).
kvm_nests() {
	[ -w /dev/kvm ] || return 1
	local f
	for f in /sys/module/kvm_amd/parameters/nested /sys/module/kvm_intel/parameters/nested; do
		[ -r "$f" ] && grep -qE '^(1|Y)$' "$f" &&
			grep -qwE 'svm|vmx' /proc/cpuinfo && return 0
	done
	return 1
}
case $accel in
auto | "") if kvm_nests; then accel=kvm; else accel=tcg; fi ;;
tcg | kvm) ;;
*) say "unknown accelerator '$accel' (auto, tcg or kvm)"; exit 4 ;;
esac
if [ -z "$cpu" ]; then
	if [ "$accel" = kvm ]; then cpu=host; else cpu=qemu64,+svm,+npt,+pdpe1gb; fi
fi

[[ $smp =~ ^[1-9][0-9]*$ ]] || { say "--smp=$smp: expected a CPU count"; exit 4; }
accel_opt=$accel
[ "$accel" = tcg ] && ((smp > 1)) && accel_opt=tcg,thread=multi

ovmf_code= ovmf_vars=
for pair in OVMF_CODE_4M.fd:OVMF_VARS_4M.fd OVMF_CODE.fd:OVMF_VARS.fd; do
	if [ -r "/usr/share/OVMF/${pair%%:*}" ] && [ -r "/usr/share/OVMF/${pair#*:}" ]; then
		ovmf_code=/usr/share/OVMF/${pair%%:*} ovmf_vars=/usr/share/OVMF/${pair#*:}
		break
	fi
done
[ -n "$ovmf_code" ] || { say "OVMF not found in /usr/share/OVMF (apt-get install ovmf)"; exit 4; }

mkdir -p "$build" "$(dirname "$log")"
work=$(mktemp -d "$build/qemu-run.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The ESP: 32 MiB FAT with the firmware's default boot path.
esp=$work/esp.img
mkfs.vfat -C -n KEEL "$esp" 32768 >/dev/null
mmd -i "$esp" ::/EFI ::/EFI/BOOT
mcopy -i "$esp" "$efi" ::/EFI/BOOT/BOOTX64.EFI
cfg_out=$work/keel.cfg
: >"$cfg_out"
if [ -n "$cfg" ]; then
	[ -f "$cfg" ] || { say "keel.cfg $cfg not found"; exit 4; }
	cat "$cfg" >"$cfg_out"
fi
if [ -n "${GUEST_FAIL:-}" ]; then
	printf '\nguest-fail = %s\n' "$GUEST_FAIL" >>"$cfg_out"
fi
[ -s "$cfg_out" ] && mcopy -i "$esp" "$cfg_out" ::/keel.cfg
for f in "${esp_files[@]}"; do
	local_path=${f%%:*} esp_path=${f#*:}
	esp_path=${esp_path#/}
	[ -f "$local_path" ] || { say "--esp-file: $local_path not found"; exit 4; }
	dir=
	IFS=/ read -ra parts <<<"$(dirname "$esp_path")"
	for p in "${parts[@]}"; do
		[ "$p" = . ] && continue
		dir=$dir/$p
		mmd -i "$esp" "::$dir" 2>/dev/null || true # exists already
	done
	mcopy -i "$esp" "$local_path" "::/$esp_path"
done
cp "$ovmf_vars" "$work/vars.fd"
if [ -n "$disk" ]; then
	[ -f "$disk" ] || { say "disk image $disk not found"; exit 4; }
	cp "$disk" "$work/disk.img" && esp=$work/disk.img
fi
stdin=/dev/null
((interactive)) && stdin=/dev/stdin

say "accel=$accel cpu=$cpu smp=$smp memory=$memory timeout=${limit}s log=$log"
set +e
timeout --kill-after=5 "$limit" qemu-system-x86_64 \
	-machine q35 -m "$memory" -smp "$smp" -accel "$accel_opt" -cpu "$cpu" \
	-drive if=pflash,format=raw,readonly=on,file="$ovmf_code" \
	-drive if=pflash,format=raw,file="$work/vars.fd" \
	-drive format=raw,file="$esp" \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
	-net none -display none -monitor none -serial stdio ${QEMU_EXTRA:-} <"$stdin" |
	stdbuf -o0 tr -d '\r' | if ((quiet)); then cat >"$log"; else tee "$log"; fi
status=${PIPESTATUS[0]}
set -e

# A guest that ended through Keel's debug-exit port (0xf4) with value v:
# Keel passed v on, QEMU exited (v << 1) | 1, and that is our status too,
# exactly as if the guest had run on QEMU's own isa-debug-exit.
code=$(sed -nE 's/^keel: done .* exit_code=([0-9]+) .*/\1/p' "$log" | tail -n 1)
if [ -n "$code" ] && [ "$status" -eq $(( ((code << 1) | 1) & 255 )) ]; then
	say "guest wrote $code to the debug-exit port: status $status"
	exit "$status"
fi

# isa-debug-exit: QEMU exits with (value << 1) | 1.
case $status in
1)
	if grep -q '^keel: done .*result=pass' "$log"; then
		say "guest passed"
		exit 0
	fi
	say "Keel signalled pass but printed no passing summary line"
	exit 4
	;;
3) say "guest failed (or its VM was stopped): see $log"; exit 1 ;;
5) say "Keel stopped with an error: see $log"; exit 2 ;;
7) say "Keel panicked: see $log"; exit 3 ;;
124 | 137) say "no verdict within ${limit}s (timeout): see $log"; exit 4 ;;
*) say "QEMU exited with status $status without a Keel verdict: see $log"; exit 4 ;;
esac
