#!/usr/bin/env bash
# make bench (its in-Keel part): the self-test guest's fault rate with 1 and
# with 2 vCPUs, keel.efi booted under QEMU (multi-threaded TCG for -smp 2),
# alternating -smp 1 and -smp 2, ROUNDS times each (default 3). In each boot
# every vCPU writes 2048 fresh 4 KiB pages at once (guest/smp.c's
# fault-rate: one TDP fault per page), timed with the TSC; this script turns
# the guest's cycles into pages/s with the TSC rate Keel measured at boot.
# Prints each run, the medians, "fault-rate ratio 2/1 vcpus: <R>x", and the
# remote-flush figures of the 2-vCPU runs (count, worst and mean wait, from
# the summary's smp line). Under TCG these are emulator figures: a VM exit
# is emulated, and 2 vCPU threads share the host with everything else.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build}
rounds=${ROUNDS:-3}
out=$build/bench-smp
mkdir -p "$out"
[ -f "$build/keel.efi" ] || { echo "bench-smp: $build/keel.efi missing (make keel)" >&2; exit 1; }
printf 'guest-mem = 64M\n' >"$out/keel.cfg"

# run SMP ROUND: one boot; prints "pages/s worst_us mean_us flushes" or "none".
run() {
	local log=$out/smp$1-$2.log
	scripts/run-qemu.sh --quiet --smp="$1" --cfg="$out/keel.cfg" --timeout=240 \
		--log="$log" 2>"$out/smp$1-$2.stderr" || true
	awk '
	/^keel: TSC at [0-9]+ kHz/ { khz = $4 }
	/^guest: fault-rate: / {
		for (i = 3; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
	}
	/^keel: smp vcpus=/ {
		for (i = 2; i <= NF; i++) { split($i, kv, "="); s[kv[1]] = kv[2] }
	}
	END {
		if (!khz || !f["tsc_cycles"]) { print "none"; exit }
		printf "%.0f %s %s %s\n", f["pages"] * khz * 1000 / f["tsc_cycles"],
			s["worst_wait_us"], s["mean_wait_us"], s["remote_flushes"]
	}' "$log"
}

r1=() r2=() worst=() mean_w=() flushes=()
for ((i = 1; i <= rounds; i++)); do
	a=$(run 1 "$i")
	echo "bench-smp: round $i, 1 vcpu:  ${a%% *} pages/s"
	b=$(run 2 "$i")
	echo "bench-smp: round $i, 2 vcpus: ${b%% *} pages/s (remote flushes: $(echo "$b" |
		awk '{ printf "%s, worst %s us, mean %s us", $4, $2, $3 }'))"
	r1+=("${a%% *}")
	r2+=("${b%% *}")
	read -r _ w m f <<<"$b"
	worst+=("${w:-none}") mean_w+=("${m:-none}") flushes+=("${f:-none}")
done
avg() { printf '%s\n' "$@" | awk '$1 != "none" && $1 != "" { s += $1; n++ } END { if (n) printf "%.0f", s / n; else print "none" }'; }
median() { printf '%s\n' "$@" | awk '$1 != "none" && $1 != ""' | sort -n |
	awk '{ v[NR] = $1 } END { if (!NR) print "none"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.0f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
m1=$(median "${r1[@]}") m2=$(median "${r2[@]}")
echo "bench-smp: in-Keel fault rate (QEMU TCG, emulated): 1 vcpu ${m1} pages/s, 2 vcpus ${m2} pages/s (median of $rounds)"
if [ "$m1" = none ] || [ "$m2" = none ]; then
	echo "fault-rate ratio 2/1 vcpus: none (a run gave no fault-rate line; see $out)"
	exit 1
fi
echo "fault-rate ratio 2/1 vcpus: $(awk -v a="$m2" -v b="$m1" 'BEGIN { printf "%.2f", a / b }')x"
echo "bench-smp: remote flushes per 2-vcpu boot: $(avg "${flushes[@]}"), worst wait" \
	"$(printf '%s\n' "${worst[@]}" | sort -n | tail -n 1) us, mean wait $(avg "${mean_w[@]}") us"
