#!/usr/bin/env bash
# make usb-image: a disk image for a USB stick (dd it to the whole device):
# GPT with one EFI System Partition (FAT) holding
#   \EFI\BOOT\BOOTX64.EFI   keel.efi (the firmware's default boot path)
#   \keel.cfg               boots the Linux guest with its checks
#   \linux\vmlinuz, \linux\initrd.gz   the Linux guest (scripts/guest-images.sh)
#
#   scripts/usb-image.sh [OUTPUT]      (default $BUILD/usb.img)
# Environment: GUEST_MEM (MiB, default 512), USB_CMDLINE (the kernel command
# line; default: the checking init, "keel.test=1"), USB_TIMEOUT (seconds:
# adds keel.cfg timeout =, which the boot test uses; default none).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build}
img=${1:-$build/usb.img}
mem=${GUEST_MEM:-512}
cmdline=${USB_CMDLINE:-console=ttyS0 quiet pci=noearly panic=-1 keel.test=1 keel.mem=$mem}
say() { echo "usb-image: $*" >&2; }

for f in "$build/keel.efi" "$build/linux/vmlinuz" "$build/linux/initrd.gz"; do
	[ -f "$f" ] || { say "$f missing (make keel guest-images)"; exit 1; }
done
for tool in sgdisk mkfs.vfat mcopy mmd; do
	command -v "$tool" >/dev/null || { say "$tool is missing (scripts/deps.sh test)"; exit 1; }
done

# 64 MiB disk, the ESP from 1 MiB to 33 KiB before the end (backup GPT).
disk_mib=64 start=2048
tmp=$(mktemp -d "$build/usb.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
truncate -s "${disk_mib}M" "$tmp/disk.img"
sgdisk --clear --new=1:$start:0 --typecode=1:ef00 --change-name=1:"Keel ESP" \
	"$tmp/disk.img" >/dev/null
end=$(sgdisk --info=1 "$tmp/disk.img" | sed -nE 's/^Last sector: ([0-9]+).*/\1/p')
sectors=$((end - start + 1))
mkfs.vfat -C -F 32 -n KEEL "$tmp/esp.img" $((sectors / 2)) >/dev/null
mmd -i "$tmp/esp.img" ::/EFI ::/EFI/BOOT ::/linux
mcopy -i "$tmp/esp.img" "$build/keel.efi" ::/EFI/BOOT/BOOTX64.EFI
printf '%s\n' '# Keel on a USB stick: the Linux guest (docs/booting.md)' \
	'guest = \linux\vmlinuz' 'initrd = \linux\initrd.gz' "cmdline = $cmdline" \
	"guest-mem = ${mem}M" >"$tmp/keel.cfg"
[ -n "${USB_TIMEOUT:-}" ] && echo "timeout = $USB_TIMEOUT" >>"$tmp/keel.cfg"
mcopy -i "$tmp/esp.img" "$tmp/keel.cfg" ::/keel.cfg
mcopy -i "$tmp/esp.img" "$build/linux/vmlinuz" ::/linux/vmlinuz
mcopy -i "$tmp/esp.img" "$build/linux/initrd.gz" ::/linux/initrd.gz
dd if="$tmp/esp.img" of="$tmp/disk.img" bs=512 seek=$start conv=notrunc status=none
mv "$tmp/disk.img" "$img"
say "$img: GPT, ESP ${sectors} sectors from sector $start (keel.efi, keel.cfg, Linux guest)"
