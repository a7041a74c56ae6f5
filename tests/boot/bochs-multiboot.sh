#!/usr/bin/env bash
# Boot test under Bochs (tigerlake: Intel VMX + EPT, unrestricted guest):
# the Multiboot test kernel with two modules, entered in 32-bit protected
# mode with paging off, as tests/boot/qemu-multiboot.sh boots it under SVM,
# with 2 CPUs: it starts vCPU 1 by INIT/SIPI in real mode (VMX unrestricted
# guest).
# Bounded by keel.cfg timeout and run-bochs's time limit.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
. tests/boot/tap.sh
out=$BUILD/bochs-multiboot
mkdir -p "$out"
elf=$BUILD/guest/mbtest.elf
[ -f "$BUILD/keel.efi" ] && [ -f "$elf" ] ||
	{ echo "not ok 1 - $BUILD/keel.efi or $elf missing (make all)"; exit 1; }
printf 'keel-module-0\n' >"$out/mod0"
printf 'keel-module-1 with more bytes\n' >"$out/mod1"
printf '%s\n' 'guest = \mb\mbtest.elf' 'guest-mem = 64M' 'cmdline = mem=64 mods=2 cpus=2' \
	'module = \mb\mod0 m0' 'module = \mb\mod1 first=1 m1' 'timeout = 120' >"$out/keel.cfg"
scripts/run-bochs.sh --cpu=intel --smp=2 --quiet --cfg="$out/keel.cfg" --memory=1024 --timeout=600 \
	--out="$out" --esp-file="$elf:mb/mbtest.elf" --esp-file="$out/mod0:mb/mod0" \
	--esp-file="$out/mod1:mb/mod1" >"$out/run.log" 2>&1
echo "# bochs multiboot: run-bochs status $?, log $out/serial.log"
has() { grep -aqE "$1" "$out/serial.log"; }
check "vendor is VMX" has '^keel: vendor vmx'
check "entered in 32-bit mode with paging off" \
	has '^keel: guest mbtest loaded as multiboot, entry 0x[0-9a-f]+ \(32-bit, paging off\)'
for t in multiboot-info modules fw-cfg acpi apic-timer ap-start; do
	check "Multiboot kernel check $t passes" has "^guest: mbtest: PASS $t\$"
done
check "summary line says result=pass exit_code=0" \
	has '^keel: done guest=mbtest result=pass .*exit_code=0'
tap_end
