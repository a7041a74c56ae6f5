#!/usr/bin/env bash
# QEMU boot test (AMD SVM under TCG): Debian's Linux kernel with the
# project's busybox initramfs (scripts/guest-images.sh) booted by Keel's
# bzImage loader, ACPI on, from the USB disk image make usb-image writes. The init (guest/linux/init) checks RAM size, a
# 256 MiB write/read pass, timers against the RTC, timer and serial
# interrupts, the ACPI tables and a clean dmesg, reports, and powers off
# through ACPI. Bounded by keel.cfg timeout and run-qemu's timeout.
# With KEEL_LINUX_SMP=1 (a known issue below keeps it out of make test), a
# second boot runs the same guest with 2 vCPUs (QEMU -smp 2 with
# multi-threaded TCG, keel.cfg cpus = 2, the ESP built by run-qemu): Linux
# starts its AP with INIT/SIPI/SIPI through Keel's virtual LAPIC, and the
# init checks nproc = 2, a memory load on both CPUs at once, and IPIs.
. "$(dirname "$0")/qemu-lib.sh"

linux=$BUILD/linux
[ -f "$BUILD/keel.efi" ] || { echo "not ok 1 - $BUILD/keel.efi missing (make keel)"; exit 1; }
[ -f "$linux/vmlinuz" ] && [ -f "$linux/initrd.gz" ] ||
	{ echo "not ok 1 - $linux/vmlinuz or initrd.gz missing (make guest-images)"; exit 1; }

# The lab image itself (make usb-image's script), booted as a disk: GPT,
# FAT ESP, keel.efi as the default boot path, keel.cfg, the Linux guest.
img=$logdir/usb.img
GUEST_MEM=512 USB_TIMEOUT=${KEEL_LINUX_TIMEOUT:-400} scripts/usb-image.sh "$img" 2>"$logdir/usb.stderr" ||
	{ echo "not ok 1 - usb-image.sh failed: $(cat "$logdir/usb.stderr")"; exit 1; }
KEEL_BOOT_TIMEOUT=${KEEL_BOOT_TIMEOUT:-480} boot linux --disk="$img"
echo "# $(grep -E '^keel: done ' "$boot_log" | tail -n 1)"
check "the image is detected as a bzImage" log_has '^keel: guest vmlinuz is a linux image'
check "the kernel is entered in 64-bit mode" \
	log_has '^keel: guest vmlinuz loaded as linux, entry 0x[0-9a-f]+ \(64-bit\)'
check "the init ran" log_has '^keel-linux: init started'
for t in ram-size ram-rw timer irq-timer irq-serial acpi dmesg; do
	check "Linux guest check $t passes" log_has "^keel-linux: PASS $t\$"
done
check "the init reports result=pass" log_has '^keel-linux: result=pass'
check "summary line says result=pass" log_has '^keel: done guest=vmlinuz result=pass '
check "run-qemu exits 0" test "$boot_status" -eq 0

# ---- 2 vCPUs ----
# KNOWN ISSUE: the 2-vCPU boot has been seen to fail in about 1 run in 3
# during the per-CPU memory load (a guest triple fault with its IDT unmapped
# in the CR3 it runs on, or the guest's own page walk at gpa 0x77b71000,
# which is Keel's host PML4 (the pool's page after the 4 IST pages): a vCPU
# ran with the host's CR3 as its guest CR3, as if host state had been
# written over a VMCB's save area), with and without the nested-SVM merge,
# not yet understood: it runs only when asked (KEEL_LINUX_SMP=1).
if [ "${KEEL_LINUX_SMP:-0}" = 1 ]; then
	cfg=$logdir/linux-smp2.cfg
	printf '%s\n' 'guest = \linux\vmlinuz' 'initrd = \linux\initrd.gz' \
		'cmdline = console=ttyS0 quiet pci=noearly panic=-1 keel.test=1 keel.mem=512 keel.smp=2' \
		'guest-mem = 512M' 'cpus = 2' "timeout = ${KEEL_LINUX_TIMEOUT:-400}" >"$cfg"
	KEEL_BOOT_TIMEOUT=${KEEL_BOOT_TIMEOUT:-480} boot linux-smp2 --smp=2 --cfg="$cfg" \
		--esp-file="$linux/vmlinuz:linux/vmlinuz" --esp-file="$linux/initrd.gz:linux/initrd.gz"
	echo "# $(grep -E '^keel: done ' "$boot_log" | tail -n 1)"
	echo "# $(grep -aE '^keel-linux: ipis' "$boot_log" | tail -n 1)"
	check "smp2: vCPU 1 is started by a SIPI from the guest" \
		log_has '^keel: vm vmlinuz: vcpu 1: SIPI vector 0x[0-9a-f]+: starting at '
	for t in smp-cpus smp-load smp-ipi ram-rw timer dmesg; do
		check "smp2: Linux guest check $t passes" log_has "^keel-linux: PASS $t\$"
	done
	check "smp2: the init reports result=pass" log_has '^keel-linux: result=pass'
	check "smp2: the summary says vcpus=2 and result=pass" \
		log_has '^keel: done guest=vmlinuz result=pass .* vcpus=2$'
	check "smp2: run-qemu exits 0" test "$boot_status" -eq 0
else
	echo "# 2-vCPU Linux boot skipped (KEEL_LINUX_SMP=1 runs it: known issue above)"
fi

tap_end
