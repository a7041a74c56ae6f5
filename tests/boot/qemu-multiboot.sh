#!/usr/bin/env bash
# QEMU boot test (AMD SVM under TCG): Keel's Multiboot test kernel
# (guest/multiboot/, ELF32 at 4 MiB) booted by the Multiboot loader with two
# modules and a command line; it checks its information block, the modules,
# fw_cfg, the ACPI tables and LAPIC timer interrupts, starts its second CPU
# by INIT/SIPI into a real-mode trampoline (QEMU -smp 2, so 2 vCPUs) and
# sees it run with APIC ID 1, then again with INIT/SIPI through the x2APIC
# ICR MSR, and ends through the exit port. A kernel
# that hangs is stopped by keel.cfg timeout (Keel's summary), and the whole
# boot is bounded by run-qemu's timeout.
. "$(dirname "$0")/qemu-lib.sh"

elf=$BUILD/guest/mbtest.elf
[ -f "$BUILD/keel.efi" ] && [ -f "$elf" ] ||
	{ echo "not ok 1 - $BUILD/keel.efi or $elf missing (make all)"; exit 1; }

printf 'keel-module-0\n' >"$logdir/mod0"
printf 'keel-module-1 with more bytes\n' >"$logdir/mod1"
cfg=$logdir/multiboot.cfg
cat >"$cfg" <<CFG
guest = \\mb\\mbtest.elf
guest-mem = 64M
cmdline = mem=64 mods=2 cpus=2
module = \\mb\\mod0 m0
module = \\mb\\mod1 first=1 m1
timeout = 60
CFG
boot multiboot --smp=2 --cfg="$cfg" --esp-file="$elf:mb/mbtest.elf" \
	--esp-file="$logdir/mod0:mb/mod0" --esp-file="$logdir/mod1:mb/mod1"
echo "# $(grep -E '^keel: done ' "$boot_log" | tail -n 1)"
check "the image is detected as Multiboot" log_has '^keel: guest mbtest is a multiboot image'
check "it is entered in 32-bit mode with paging off" \
	log_has '^keel: guest mbtest loaded as multiboot, entry 0x[0-9a-f]+ \(32-bit, paging off\)'
for t in multiboot-info modules fw-cfg acpi apic-timer ap-start; do
	check "Multiboot kernel check $t passes" log_has "^guest: mbtest: PASS $t\$"
done
check "the kernel reports no failure" log_has '^guest: mbtest: 0 of 6 failed'
check "vCPU 1 was started by the kernel's SIPI (vector 0x08)" \
	log_has '^keel: vm mbtest: vcpu 1: SIPI vector 0x8: starting at 0800:0000'
check "a second INIT (x2APIC ICR) reset the running vCPU 1, which waited for the next SIPI" \
	log_has '^keel: vm mbtest: vcpu 1: INIT: waiting for a SIPI'
check "summary line says result=pass exit_code=0" \
	log_has '^keel: done guest=mbtest result=pass .*exit_code=0'
check "run-qemu exits 1, as QEMU's isa-debug-exit does for 0" test "$boot_status" -eq 1

# A hostile Multiboot image: a segment over the BIOS area is refused with a
# reason before the guest starts.
bad=$logdir/bad-mb.elf
cp "$elf" "$bad"
# p_paddr of the first program header (ELF32: e_phoff at 28, p_paddr at +12).
phoff=$(od -An -t u4 -j 28 -N 4 "$bad" | tr -d ' ')
printf '\x00\xf0\x09\x00' | dd of="$bad" bs=1 seek=$((phoff + 12)) conv=notrunc 2>/dev/null
sed -i 's|^timeout = .*|timeout = 20|' "$cfg"
boot multiboot-bad --cfg="$cfg" --esp-file="$bad:mb/mbtest.elf" \
	--esp-file="$logdir/mod0:mb/mod0" --esp-file="$logdir/mod1:mb/mod1"
check "a segment over the BIOS area is refused with a reason" \
	log_has 'multiboot loader: Multiboot: segment .* overlaps page 0 or the BIOS area'
check "no guest ran from the hostile image" bash -c "! grep -q '^guest: mbtest' '$boot_log'"
check "the hostile image makes the run fail (exit status $boot_status)" test "$boot_status" -ne 0

tap_end
