#!/usr/bin/env bash
# QEMU boot tests of guest memory layouts: a small guest (and the debug log
# level), and guest RAM spread over fragmented host memory, which needs two
# memslots and still gets only huge NPT pages. Two boots, each bounded.
. "$(dirname "$0")/qemu-lib.sh"

[ -f "$BUILD/keel.efi" ] || { echo "not ok 1 - $BUILD/keel.efi missing (make keel)"; exit 1; }

# 1. A small guest with debug logging: guest-mem is honoured, the test that
# needs a 1 GiB boundary is skipped (not failed), the run still passes.
cfg=$logdir/small.cfg
printf 'guest-mem = 64M\nlog = debug\n' >"$cfg"
boot small --cfg="$cfg"
check "64 MiB guest passes" test "$boot_status" -eq 0
check "guest memory size from keel.cfg" log_has "^guest: selftest: 64 MiB of RAM"
check "ram-1g skipped for want of a 1 GiB boundary" log_has "^guest: SKIP ram-1g: "
passes=$(grep -cE '^guest: PASS ' "$boot_log")
check "summary counts the $passes tests that ran (ram-1g skipped)" \
	log_has "^keel: done guest=selftest result=pass .* tests=$passes failures=0 "
check "log = debug lists the memory map" log_has "^keel: memmap [0-9a-f]{16}-[0-9a-f]{16} free$"
check "unclaimed ports are counted, the busiest named (0x524, the port test's)" \
	log_has "^keel: platform: open_bus=[1-9][0-9]* \(.*0x524:"

# 2. Fragmented host memory (QEMU with 3 GiB: 2 GiB low, 1 GiB above 4 GiB):
# the guest's RAM needs two memslots, one of them only 2 MiB-aligned, and
# the MMU still maps everything with 1 GiB and 2 MiB pages, never 4 KiB.
boot fragmented --memory=3G
check "fragmented host memory: guest passes" test "$boot_status" -eq 0
check "guest RAM split over two memslots" \
	test "$(grep -c '^keel: guest RAM gpa ' "$boot_log")" -eq 2
check "the second slot is 2M-aligned" log_has "^keel: guest RAM gpa 0x40000000-.*\(2M-aligned\)$"
check "no 4 KiB NPT mappings needed" \
	log_has "^keel: mmu .* maps=4k:0,2m:[1-9][0-9]*,1g:[1-9][0-9]*$"

tap_end
