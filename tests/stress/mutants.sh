#!/usr/bin/env bash
# Mutation check for the stress harness: plant one known bug at a time in a
# *copy* of mmu/, build stress_mmu against it, and expect the run to fail.
# Proves the harness catches real MMU bugs, not only its own self-tests.
#
#   tests/stress/mutants.sh [WORKDIR]     (default: a fresh mktemp -d)
#
# Each mutant is a sed expression on one line of mmu/. When mmu/ changes so
# that a pattern no longer matches, that mutant is reported as "skipped" (the
# script never edits the real tree). Prints TAP; exit 1 if a mutant survived.
set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
work=${1:-$(mktemp -d)}
n=0 survived=0

# name ~ file ~ sed expression (applied to the copy) ~ what the bug is
mutants=(
	"no_dirty_mark~mmu/fault.c~s@^\(\t*\)slot_dirty_mark(f->slot, f->gfn);@\1;@~write fault makes the entry writable without marking the page dirty"
	"harvest_no_wrprot~mmu/dirty.c~s@wrprot_valid_roots(x, base + w \* 64, MIN(base + w \* 64 + 64, end));@;@~harvest clears bits but leaves entries writable"
	"delete_no_zap~mmu/memslot.c~s@^\(\t*\)mmu_zap_all_fast(&x);@\1;@~slot delete/move leaves the old mappings"
	"no_flush_gen~mmu/tdp_mmu.c~s@atomic_add(&mmu->flush_gen, 1);@;@~removing a translation does not request TLB flushes"
	"huge_while_logging~mmu/memslot.c~/MEMSLOT_DIRTY_LOG)\$/{n;s@return 1;@;@}~faults map huge pages in a dirty-logged slot"
	"entry_no_flush~mmu/root.c~s@if (gen != atomic_read(&mv->flush_seen) || !atomic_read(&mv->loaded))@if (!atomic_read(\&mv->loaded))@~load_root ignores the flush generation"
)

mmu_srcs() {
	grep -o 'mmu/[a-z_]*\.c' "$1/mmu/mmu.mk" | sort -u
}

run_mutant() {
	local name=$1 file=$2 expr=$3 what=$4 dir=$work/$1
	rm -rf "$dir" && mkdir -p "$dir"
	cp -r "$root/mmu" "$root/include" "$root/tests" "$dir/"
	sed -i "$expr" "$dir/$file"
	n=$((n + 1))
	if cmp -s "$root/$file" "$dir/$file"; then
		echo "ok $n - $name # SKIP pattern no longer matches $file"
		return
	fi
	(cd "$dir" && gcc -std=gnu11 -O2 -g -w -Iinclude -I. -pthread -DKEEL_HOSTED \
		-o stress tests/stress/*.c $(mmu_srcs "$dir")) >"$dir/build.log" 2>&1 || {
		echo "ok $n - $name # SKIP mutant does not build (see $dir/build.log)"
		return
	}
	# --no-mmu-verify: the harness's own checks must catch it, not the
	# MMU's self-check.
	(cd "$dir" && timeout 600 ./stress --format=npt --ops=100000 --min-churn=100 \
		--min-sessions=5 --no-mmu-verify) >"$dir/out.txt" 2>&1
	if grep -q '^not ok' "$dir/out.txt"; then
		echo "ok $n - $name caught ($what)"
		# the first violation the run listed (the line after "N violation(s)")
		grep -v '#   |' "$dir/out.txt" | awk '/^# [0-9]+ violation\(s\)/ { getline; print; exit }' |
			sed 's/^#   /#     first report: /'
	else
		echo "not ok $n - $name survived ($what); log: $dir/out.txt"
		survived=$((survived + 1))
	fi
}

for m in "${mutants[@]}"; do
	IFS='~' read -r name file expr what <<<"$m"
	run_mutant "$name" "$file" "$expr" "$what"
done
echo "1..$n"
((survived == 0))
