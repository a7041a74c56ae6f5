#!/usr/bin/env bash
# Builds the Linux guest Keel boots in its tests and in `make run GUEST=linux`:
#
#   scripts/guest-images.sh [BUILD_DIR]
#
#   $BUILD/linux/vmlinuz       Debian's kernel (bzImage), from the package
#                              linux-image-<version>-amd64 fetched with
#                              `apt-get download` and unpacked with `dpkg -x`
#                              into $BUILD/linux/pkg: never installed
#   $BUILD/linux/initrd.gz     a busybox-static initramfs (cpio -H newc, gzip)
#                              whose /init is guest/linux/init
#   $BUILD/linux/version       the package that was used
#
# The kernel package is fetched once and kept; the initramfs is rebuilt when
# guest/linux/init is newer. KEEL_LINUX_DEB=/path/to.deb uses a local package.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${BUILD:-build}}
out=$build/linux
mkdir -p "$out"
say() { echo "guest-images: $*" >&2; }

for tool in dpkg apt-get apt-cache cpio gzip; do
	command -v "$tool" >/dev/null || { say "$tool is missing (scripts/deps.sh test)"; exit 1; }
done
# busybox-static's binary (the busybox package's one is dynamically linked).
busybox=$(dpkg -L busybox-static 2>/dev/null | grep -E '/busybox$' | head -n 1 || true)
[ -n "$busybox" ] && [ -x "$busybox" ] || { say "busybox-static is not installed"; exit 1; }

# ---- the kernel ----
if [ ! -s "$out/vmlinuz" ]; then
	deb=${KEEL_LINUX_DEB:-}
	if [ -z "$deb" ]; then
		# The version the linux-image-amd64 metapackage points at today.
		pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
			sed -nE 's/^ *Depends: (linux-image-[0-9][^ ]*-amd64)$/\1/p' | head -n 1)
		[ -n "$pkg" ] || { say "apt-cache knows no linux-image-amd64 (apt-get update?)"; exit 1; }
		say "downloading $pkg (not installing it)"
		rm -rf "$out/dl" && mkdir -p "$out/dl"
		(cd "$out/dl" && apt-get download -q "$pkg" >/dev/null) ||
			{ say "apt-get download $pkg failed"; exit 1; }
		deb=$(ls "$out"/dl/*.deb | head -n 1)
	fi
	rm -rf "$out/pkg"
	dpkg -x "$deb" "$out/pkg"
	vmlinuz=$(ls "$out"/pkg/boot/vmlinuz-* | head -n 1)
	[ -n "$vmlinuz" ] || { say "$deb holds no /boot/vmlinuz-*"; exit 1; }
	cp "$vmlinuz" "$out/vmlinuz.tmp" && mv "$out/vmlinuz.tmp" "$out/vmlinuz"
	basename "$vmlinuz" >"$out/version"
	rm -rf "$out/dl" "$out/pkg/lib" "$out/pkg/usr"
	say "kernel $(cat "$out/version")"
fi

# ---- the initramfs ----
init=$here/guest/linux/init
if [ ! -s "$out/initrd.gz" ] || [ "$init" -nt "$out/initrd.gz" ] || [ "$0" -nt "$out/initrd.gz" ]; then
	root=$out/initramfs
	rm -rf "$root"
	mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,etc,root}
	cp "$busybox" "$root/bin/busybox"
	for applet in $("$busybox" --list); do
		[ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
	done
	install -m 0755 "$init" "$root/init"
	(cd "$root" && find . -print0 | sort -z | cpio --null -o -H newc --quiet) |
		gzip -9n >"$out/initrd.gz.tmp"
	mv "$out/initrd.gz.tmp" "$out/initrd.gz"
	say "initramfs $(stat -c %s "$out/initrd.gz") bytes"
fi
