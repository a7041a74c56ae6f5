#!/usr/bin/env bash
# Boot test: the VMX failure path under Bochs (cpu model tigerlake). A guest
# that triple-faults must be stopped with a VMCS dump while Keel survives to
# print its summary, exactly as on SVM (tests/boot/qemu-faults.sh). One
# short boot (64 MiB of guest memory: the guest crashes before its RAM tests).
#
#   tests/boot/bochs-vmx-faults.sh [--efi=build/keel.efi] [--out=build/bochs-vmx-faults]
set -uo pipefail
cd "$(dirname "$0")/../.."

efi=build/keel.efi out=build/bochs-vmx-faults
for a in "$@"; do
	case $a in
	--efi=*) efi=${a#*=} ;;
	--out=*) out=${a#*=} ;;
	*) echo "bochs-vmx-faults: unknown argument $a" >&2; exit 2 ;;
	esac
done

. tests/boot/tap.sh
log_has() { grep -aqE "$1" "$out/serial.log" 2>/dev/null; }

mkdir -p "$out"
printf 'guest-mem = 64M\nguest-fail = crash\n' >"$out/keel.cfg"
start=$(date +%s)
scripts/run-bochs.sh --cpu=intel --efi="$efi" --cfg="$out/keel.cfg" --memory=1024 \
	--out="$out" --timeout=600 --quiet >"$out/run.log" 2>&1
status=$?
wall=$(($(date +%s) - start))
sed 's/^/# /' "$out/run.log"

check "bochs-vmx-faults: crashing guest gives status 1 (VM stopped), not a panic or timeout" \
	test "$status" -eq 1
check "bochs-vmx-faults: the triple fault is reported as a VM stop" \
	log_has '^keel: vm selftest stopped: guest triple fault \(shutdown\)'
check "bochs-vmx-faults: the VMCS is dumped with the exit named" \
	log_has '^vmx: vcpu 0 VMCS dump: last exit 2 \(triple fault\)'
check "bochs-vmx-faults: the dump shows guest state" log_has '^vmx: +guest RIP +0x[0-9a-f]+'
check "bochs-vmx-faults: Keel survives and prints the summary" \
	log_has '^keel: done guest=selftest result=fail exits=[0-9]+ npf=[0-9]+'
echo "# bochs-vmx-faults: ${wall}s wall; logs in $out/"
tap_end
