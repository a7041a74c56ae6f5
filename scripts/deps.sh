#!/usr/bin/env bash
# Installs the Debian packages Keel needs, or, when not root, says exactly
# what to install. Usage: scripts/deps.sh run|test
set -euo pipefail

build=(make gcc binutils gnu-efi nasm mtools dosfstools)
# busybox-static and cpio build the Linux guest's initramfs (guest-images.sh);
# gdisk (sgdisk) partitions make usb-image's disk.
run=(qemu-system-x86 ovmf busybox-static cpio)
# acpica-tools (iasl) disassembles the ACPI tables Keel builds (vmm_acpi_test).
test=(libcmocka-dev bochs bochsbios vgabios clang libclang-rt-dev gdisk acpica-tools)

case "${1:-test}" in
run)  want=("${build[@]}" "${run[@]}") ;;
test) want=("${build[@]}" "${run[@]}" "${test[@]}") ;;
*)    echo "usage: $0 run|test" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
((${#missing[@]} == 0)) && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "keel: missing Debian packages. Install them with:" >&2
	echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
	exit 1
fi
echo "keel: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
