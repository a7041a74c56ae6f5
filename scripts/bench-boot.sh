#!/usr/bin/env bash
# make bench-boot: the same Linux kernel, initramfs, command line and guest
# memory booted to the init's first line ("keel-linux: init started")
# directly under QEMU (-kernel) and under Keel (OVMF, keel.efi, the bzImage
# loader), alternating, ROUNDS times each (default 2). Both are timed from
# QEMU's start, so Keel's time includes the firmware and Keel's own start-up.
# Prints each time, the means, "boot ratio keel/direct: <R>x", and Keel's
# exits by reason (the init powers off right after its first line, so Keel
# ends with its summary). Under TCG both run emulated; compare side by side.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build}
rounds=${ROUNDS:-2}
mem=${GUEST_MEM:-512}
cpu=${CPU:-qemu64,+svm,+npt,+pdpe1gb}
linux=$build/linux
out=$build/bench-boot
mkdir -p "$out"
for f in "$build/keel.efi" "$linux/vmlinuz" "$linux/initrd.gz"; do
	[ -f "$f" ] || { echo "bench-boot: $f missing (make keel guest-images)" >&2; exit 1; }
done
cmdline="console=ttyS0 quiet pci=noearly keel.bench=1 keel.mem=$mem"
marker='keel-linux: init started'

now() { date +%s.%N; }

# Reads a run's output; prints the seconds from "start" (the moment the
# emulator is launched) to the marker line, or "none".
stamp() {
	local t0=$1 line got=none
	while IFS= read -r line; do
		line=${line%$'\r'}
		printf '%s\n' "$line" >>"$2"
		case $line in
		"run-qemu: accel="*) t0=$(now) ;;
		*"$marker"*) [ "$got" = none ] && got=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }') ;;
		esac
	done
	echo "$got"
}

direct() {
	local log=$out/direct-$1.log t
	: >"$log"
	t=$( { timeout --kill-after=5 300 qemu-system-x86_64 -machine q35 -m "${mem}M" -smp 1 \
		-accel tcg -cpu "$cpu" -kernel "$linux/vmlinuz" -initrd "$linux/initrd.gz" \
		-append "$cmdline" -net none -display none -monitor none -serial stdio \
		-no-reboot </dev/null 2>&1 || true; } | stamp "$(now)" "$log")
	echo "$t"
}

keel() {
	local log=$out/keel-$1.log cfg=$out/keel.cfg t
	printf '%s\n' 'guest = \linux\vmlinuz' 'initrd = \linux\initrd.gz' \
		"cmdline = $cmdline" "guest-mem = ${mem}M" 'timeout = 300' >"$cfg"
	: >"$log"
	t=$( { scripts/run-qemu.sh --cfg="$cfg" --cpu="$cpu" --memory=2G --timeout=320 \
		--log="$out/keel-$1.serial" --esp-file="$linux/vmlinuz:linux/vmlinuz" \
		--esp-file="$linux/initrd.gz:linux/initrd.gz" 2>&1 || true; } | stamp "$(now)" "$log")
	echo "$t"
}

d_all=() k_all=()
for ((i = 1; i <= rounds; i++)); do
	d=$(direct "$i"); echo "bench-boot: round $i direct: ${d} s"
	k=$(keel "$i"); echo "bench-boot: round $i keel:   ${k} s"
	d_all+=("$d") k_all+=("$k")
done
mean() { printf '%s\n' "$@" | awk '$1 != "none" { s += $1; n++ } END { if (n) printf "%.2f", s / n; else print "none" }'; }
dm=$(mean "${d_all[@]}") km=$(mean "${k_all[@]}")
echo "bench-boot: direct QEMU -kernel, to the init's first line: ${dm} s (mean of $rounds)"
echo "bench-boot: Keel (OVMF + keel.efi + loader), to the same line: ${km} s (mean of $rounds)"
if [ "$dm" = none ] || [ "$km" = none ]; then
	echo "boot ratio keel/direct: none (a run did not reach the init; see $out)"
	exit 1
fi
echo "boot ratio keel/direct: $(awk -v k="$km" -v d="$dm" 'BEGIN { printf "%.2f", k / d }')x"
last=$out/keel-$rounds.log
grep -E '^keel: done ' "$last" | sed -E 's/.* (exits=[0-9]+).*/bench-boot: keel exits total: \1/' || true
grep -E '^keel: exits by reason' "$last" | sed 's/^keel: /bench-boot: keel /' || true
grep -E '^keel: (guest RAM cleared|vm .* ran)' "$last" | sed 's/^keel: /bench-boot: keel /' || true
