#!/usr/bin/env bash
# QEMU boot test (AMD SVM under TCG): Linux with KVM as L1. Debian's kernel
# boots under Keel (which offers SVM, docs/nested-svm.md), loads kvm_amd and
# runs tests/boot/kvm-l1/kvmtest.c: a real-mode L2 that does OUT and HLT,
# run by KVM with VMRUN on Keel's emulation and a shadow NPT. The image is
# built by tests/boot/kvm-l1/image.sh (skipped when that cannot fetch the
# kernel package or build kvmtest). Bounded by keel.cfg and run-qemu timeouts.
. "$(dirname "$0")/qemu-lib.sh"

[ -f "$BUILD/keel.efi" ] || { echo "not ok 1 - $BUILD/keel.efi missing (make keel)"; exit 1; }
img=$BUILD/kvm-l1
if ! tests/boot/kvm-l1/image.sh "$BUILD" 2>"$logdir/kvm-l1-image.stderr"; then
	tap ok "Linux KVM as L1 # SKIP $(tail -n 1 "$logdir/kvm-l1-image.stderr")"
	tap_end
	exit
fi
cfg=$logdir/kvm-l1.cfg
printf '%s\n' 'guest = \linux\vmlinuz' 'initrd = \linux\initrd.gz' \
	'cmdline = console=ttyS0 quiet pci=noearly panic=-1' 'guest-mem = 512M' \
	"timeout = ${KEEL_KVM_L1_TIMEOUT:-300}" >"$cfg"
KEEL_BOOT_TIMEOUT=${KEEL_BOOT_TIMEOUT:-400} boot kvm-l1 --cfg="$cfg" \
	--esp-file="$img/vmlinuz:linux/vmlinuz" --esp-file="$img/initrd.gz:linux/initrd.gz"
echo "# $(grep -aE '^keel: done ' "$boot_log" | tail -n 1)"
echo "# $(grep -aE '^keel: nested ' "$boot_log" | tail -n 1)"
check "Linux sees SVM in /proc/cpuinfo" log_has '^kvm-l1: init started; svm in cpuinfo: [1-9]'
check "kvm_amd loads" log_has '^kvm-l1: insmod kvm-amd ok'
check "kvm_amd finds nested paging" log_has 'kvm-l1: dmesg: .*Nested Paging enabled'
check "KVM's L2 did its OUT (reflected IOIO exit)" \
	log_has '^kvmtest: L2 did OUT port 0x10 value 0x42'
check "KVM's L2 halted (reflected HLT exit)" log_has '^kvmtest: L2 halted: PASS'
check "no KVM error in dmesg" bash -c "! grep -aqE '^kvm-l1: dmesg: .*(error|fail|bug|warn|Call Trace)' '$boot_log'"
check "L2 exits went through Keel's nested SVM" log_has '^keel: nested nested_exits=[1-9]'
check "the guest powered off (ACPI S5)" log_has 'guest powered off'
tap_end
