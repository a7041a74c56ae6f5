#!/usr/bin/env bash
# Builds the Linux-KVM-as-L1 guest (tests/boot/qemu-kvm-l1.sh):
#
#   tests/boot/kvm-l1/image.sh [BUILD_DIR]
#
#   $BUILD/kvm-l1/vmlinuz     Debian's kernel, the package guest-images.sh uses
#                             (apt-get download, dpkg -x; never installed)
#   $BUILD/kvm-l1/initrd.gz   busybox-static, kvm.ko, kvm-amd.ko and their
#                             dependencies (irqbypass, ccp) from the same
#                             package, kvmtest (static), tests/boot/kvm-l1/init
#
# Exits 0 when both exist, 1 with a reason on stderr otherwise (the test then
# skips). KEEL_LINUX_DEB=/path/to.deb uses a local package.
set -euo pipefail

here=$(cd "$(dirname "$0")/../../.." && pwd)
build=${1:-${BUILD:-build}}
out=$build/kvm-l1
src=$here/tests/boot/kvm-l1
mkdir -p "$out"
say() { echo "kvm-l1 image: $*" >&2; }

if [ ! -s "$out/vmlinuz" ] || [ ! -s "$out/mod/kvm-amd.ko" ]; then
	deb=${KEEL_LINUX_DEB:-}
	if [ -z "$deb" ]; then
		pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
			sed -nE 's/^ *Depends: (linux-image-[0-9][^ ]*-amd64)$/\1/p' | head -n 1)
		[ -n "$pkg" ] || { say "apt-cache knows no linux-image-amd64"; exit 1; }
		rm -rf "$out/dl" && mkdir -p "$out/dl"
		(cd "$out/dl" && apt-get download -q "$pkg" >/dev/null 2>&1) ||
			{ say "apt-get download $pkg failed"; exit 1; }
		deb=$(ls "$out"/dl/*.deb | head -n 1)
	fi
	rm -rf "$out/pkg" "$out/mod" && mkdir -p "$out/mod"
	dpkg -x "$deb" "$out/pkg"
	mods=$(ls -d "$out"/pkg/lib/modules/* | head -n 1)
	for m in virt/lib/irqbypass drivers/crypto/ccp/ccp arch/x86/kvm/kvm arch/x86/kvm/kvm-amd; do
		f=$mods/kernel/$m.ko
		if [ -f "$f.xz" ]; then xz -dc "$f.xz" >"$out/mod/$(basename "$f")"
		elif [ -f "$f" ]; then cp "$f" "$out/mod/"
		else say "$deb has no $m.ko"; exit 1; fi
	done
	cp "$(ls "$out"/pkg/boot/vmlinuz-* | head -n 1)" "$out/vmlinuz"
	rm -rf "$out/dl" "$out/pkg"
fi

if [ ! -s "$out/initrd.gz" ] || [ "$src/init" -nt "$out/initrd.gz" ] ||
   [ "$src/kvmtest.c" -nt "$out/initrd.gz" ]; then
	busybox=$(dpkg -L busybox-static 2>/dev/null | grep -E '/busybox$' | head -n 1 || true)
	[ -n "$busybox" ] && [ -x "$busybox" ] || { say "busybox-static is not installed"; exit 1; }
	root=$out/initramfs
	rm -rf "$root" && mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,mod}
	cp "$busybox" "$root/bin/busybox"
	for applet in $("$busybox" --list); do
		[ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
	done
	cc -static -O2 -o "$root/bin/kvmtest" "$src/kvmtest.c" ||
		{ say "cannot build kvmtest statically (libc6-dev, linux-libc-dev)"; exit 1; }
	cp "$out"/mod/*.ko "$root/mod/"
	install -m 0755 "$src/init" "$root/init"
	(cd "$root" && find . -print0 | sort -z | cpio --null -o -H newc --quiet) |
		gzip -6n >"$out/initrd.gz.tmp"
	mv "$out/initrd.gz.tmp" "$out/initrd.gz"
	rm -rf "$root"
fi
