#!/usr/bin/env bash
# Bochs VMX (tigerlake, EPT, unrestricted guest): the Linux guest with its
# checks, as tests/boot/qemu-linux.sh boots it under SVM. Too slow for make
# test (Bochs emulates every instruction of OVMF, Keel and Linux): run by
# `make test-bochs-linux`. Bounded by keel.cfg timeout and run-bochs's limit.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
. tests/boot/tap.sh
logdir=$BUILD/test-logs/bochs-linux
mkdir -p "$logdir"
linux=$BUILD/linux
[ -f "$linux/vmlinuz" ] && [ -f "$linux/initrd.gz" ] && [ -f "$BUILD/keel.efi" ] ||
	{ echo "not ok 1 - keel.efi or the Linux guest missing (make keel guest-images)"; exit 1; }
limit=${KEEL_BOCHS_LINUX_LIMIT:-3600}
cfg=$logdir/linux.cfg
printf '%s\n' 'guest = \linux\vmlinuz' 'initrd = \linux\initrd.gz' \
	'cmdline = console=ttyS0 quiet pci=noearly panic=-1 keel.test=1 keel.mem=512' 'guest-mem = 512M' \
	"timeout = $((limit - 300))" >"$cfg"
start=$(date +%s)
scripts/run-bochs.sh --quiet --cfg="$cfg" --memory=1024 --timeout="$limit" --out="$logdir" \
	--esp-file="$linux/vmlinuz:linux/vmlinuz" --esp-file="$linux/initrd.gz:linux/initrd.gz" \
	>"$logdir/run.out" 2>&1
status=$?
log=$logdir/serial.log
echo "# bochs linux: run-bochs status $status after $(($(date +%s) - start)) s, log $log"
has() { grep -aqE "$1" "$log"; }
check "vendor is VMX" has '^keel: vendor vmx'
check "the kernel is entered in 64-bit mode" has '^keel: guest vmlinuz loaded as linux'
check "the init ran" has '^keel-linux: init started'
for t in ram-size ram-rw timer irq-timer irq-serial acpi dmesg; do
	check "Linux guest check $t passes" has "^keel-linux: PASS $t\$"
done
check "summary line says result=pass" has '^keel: done guest=vmlinuz result=pass '
tap_end
