#!/usr/bin/env bash
# Boot test: host CPUs under Bochs VMX (cpu model tigerlake, cpu: count=2).
# Both CPUs are started and enter VMX operation, the self-test passes with 2
# vCPUs (its SMP part: concurrent faults, dirty logging and harvests while
# the other vCPU writes, zaps while it reads, remote flushes kicking it out
# of guest mode). One short boot (64 MiB of guest memory).
#
#   tests/boot/bochs-vmx-smp.sh [--efi=build/keel.efi] [--out=build/bochs-vmx-smp]
set -uo pipefail
cd "$(dirname "$0")/../.."

efi=build/keel.efi out=build/bochs-vmx-smp
for a in "$@"; do
	case $a in
	--efi=*) efi=${a#*=} ;;
	--out=*) out=${a#*=} ;;
	*) echo "bochs-vmx-smp: unknown argument $a" >&2; exit 2 ;;
	esac
done

. tests/boot/tap.sh
log_has() { grep -aqE "$1" "$out/serial.log" 2>/dev/null; }

mkdir -p "$out"
printf 'guest-mem = 64M\n' >"$out/keel.cfg"
scripts/run-bochs.sh --cpu=intel --smp=2 --efi="$efi" --cfg="$out/keel.cfg" --memory=1024 \
	--out="$out" --timeout=900 --quiet >"$out/run.log" 2>&1
status=$?
sed 's/^/# /' "$out/run.log"
# A run without a verdict (run-bochs's timeout): say where it stopped.
((status == 0)) || echo "# bochs-vmx-smp: status $status; last line of the serial log:" \
	"$(tail -n 1 "$out/serial.log" 2>/dev/null | cut -c1-200)"

check "bochs-vmx-smp: the guest passes with 2 CPUs" test "$status" -eq 0
check "bochs-vmx-smp: both CPUs started" log_has '^keel: cpus started=2'
check "bochs-vmx-smp: cpu 1 entered VMX operation" log_has '^vmx: cpu 1 in VMX operation'
check "bochs-vmx-smp: the SMP self-test passed" log_has '^guest: PASS smp$'
check "bochs-vmx-smp: remote flushes kicked the other vCPU" \
	log_has '^keel: smp vcpus=2 remote_flushes=[1-9][0-9]* kicks=[1-9][0-9]* '
check "bochs-vmx-smp: the summary says cpus=2 vcpus=2" \
	log_has '^keel: done guest=selftest result=pass .* cpus=2 vcpus=2'


tap_end
