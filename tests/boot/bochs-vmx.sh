#!/usr/bin/env bash
# Boot test: keel.efi under Bochs (cpu model tigerlake: Intel VMX with EPT,
# VPID, unrestricted guest) with OVMF, running the whole test-guest suite in
# one boot. Prints TAP lines; exits non-zero when any of them fails.
#
# Guest memory is 1088 MiB (a 1 GiB boundary inside RAM, so ram-1g still
# tests one) in a 2 GiB Bochs: Keel's default 2112 MiB needs more RAM than
# Bochs backs with host memory, and its paging makes the run several times
# slower without testing anything more.
#
#   tests/boot/bochs-vmx.sh [--efi=build/keel.efi] [--out=build/bochs-vmx]
set -uo pipefail
cd "$(dirname "$0")/../.."

efi=build/keel.efi out=build/bochs-vmx
for a in "$@"; do
	case $a in
	--efi=*) efi=${a#*=} ;;
	--out=*) out=${a#*=} ;;
	*) echo "bochs-vmx: unknown argument $a" >&2; exit 2 ;;
	esac
done

. tests/boot/tap.sh
mkdir -p "$out"
start=$(date +%s)
printf 'guest-mem = 1088M\n' >"$out/keel.cfg"
scripts/run-bochs.sh --cpu=intel --efi="$efi" --cfg="$out/keel.cfg" --memory=2048 --out="$out" \
	--timeout=600 --quiet >"$out/run.log" 2>&1
rc=$?
wall=$(($(date +%s) - start))
log=$out/serial.log
sed 's/^/# /' "$out/run.log"

has() { grep -aqE "$1" "$log" 2>/dev/null && echo ok || echo fail; }
tap "$(has '^keel: starting')" "bochs-vmx: keel.efi starts under OVMF in Bochs" "no 'keel: starting' in $log"
tap "$(has '^keel: vendor vmx with ept')" "bochs-vmx: the VMX backend is chosen from CPUID" \
	"$(grep -a 'keel: cannot run guests' "$log" 2>/dev/null | head -1)"
tap "$(has '^keel: done .*result=pass')" "bochs-vmx: the test-guest suite passes on VMX+EPT" \
	"$(grep -aE '^keel: done|^vmx: ' "$log" 2>/dev/null | head -5 | tr '\n' ' ')"
npf=$(grep -aoE '^keel: done .* npf=[0-9]+' "$log" 2>/dev/null | head -1 | sed 's/.*npf=//')
tap "$([ -n "$npf" ] && ((npf > 0)) && echo ok || echo fail)" \
	"bochs-vmx: EPT violations reach the TDP MMU (npf=${npf:-none})"
tap "$(has '^vmx: VMCS revision .*INVEPT single-context; VPID on')" \
	"bochs-vmx: VPID and single-context INVEPT are in use (the flush paths run)"
tap "$(grep -aqE '^vmx: .*(INVEPT|INVVPID|TLB flush).* failed' "$log" && echo fail || echo ok)" \
	"bochs-vmx: no INVEPT/INVVPID was refused" "$(grep -aE '^vmx: .* failed' "$log" | head -3)"
tap "$([ "$rc" = 0 ] && echo ok || echo fail)" "bochs-vmx: run ends by itself with a pass verdict (${wall}s wall)"
echo "# bochs-vmx: ${wall}s wall; logs in $out/"
tap_end
