#!/usr/bin/env bash
# The labs (labs/README.md): plant one lab's bug in a scratch copy of the tree
# and run the fast hosted suite (plain flavour) there.
#
#   scripts/lab.sh N            lab N: copy to build/labs/labN, plant, build, run
#   scripts/lab.sh N --answer   the same, with the reference test
#                               labs/answers/labN_test.c added to the copy
#   scripts/lab.sh --check      every lab's bug still applies to the code
#   scripts/lab.sh --list       the labs and their planted bugs
#
# The planting is scripts/mutants.sh --only NAME --keep DIR (tests/mutants/,
# each sed must match, else the lab reports NOT APPLIED). The real tree is never
# edited. Every hosted test runs under a watchdog, so a bug that livelocks or
# deadlocks makes a test fail, never the lab hang. Exit status: 0 when the
# suite ran (whatever it found), 2 when the lab could not be set up.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
declare -A mutant=(
	[1]=lab_resched_no_progress
	[2]=gain_after_cmpxchg
	[3]=zero_not_freeze
	[4]=zap_under_shared
	[5]=validity_outside_lock
	[6]=lab_replace_lost_freeze
	[7]=prefault_retry_in_read_side
)

die() { echo "lab: $*" >&2; exit 2; }

all_mutants() { for n in $(printf '%s\n' "${!mutant[@]}" | sort -n); do echo "${mutant[$n]}"; done; }

case ${1:-} in
--check)
	exec "$root/scripts/mutants.sh" --check --only "$(all_mutants | paste -sd,)" ;;
--list)
	for n in $(printf '%s\n' "${!mutant[@]}" | sort -n); do
		printf 'lab-%s  %-28s labs/lab%s.md\n' "$n" "${mutant[$n]}" "$n"
	done
	exit 0 ;;
''|-h|--help)
	sed -n '2,15p' "$0"; exit 0 ;;
esac

n=$1 answer=0
[[ ${2:-} == --answer ]] && answer=1
[[ -n ${mutant[$n]:-} ]] || die "no lab $n (scripts/lab.sh --list)"
name=${mutant[$n]}
dir=$root/build/labs/lab$n
rm -rf "${dir:?}"
mkdir -p "$(dirname "$dir")"

echo "lab $n: planting '$name' (tests/mutants/$name.mutant) in build/labs/lab$n"
if ((answer == 0)); then
	"$root/scripts/mutants.sh" --only "$name" --keep "$dir"
	rc=$?
	[[ -f $dir/mutant-run.log ]] || die "the suite did not run (status $rc)"
else
	ans=$root/labs/answers/lab${n}_test.c
	[[ -f $ans ]] || die "lab $n has no reference test ($ans)"
	"$root/scripts/mutants.sh" --only "$name" --keep "$dir" --no-run || die "could not plant $name"
	cp "$ans" "$dir/tests/labs/"
	tests=$(make -s -C "$dir" --no-print-directory print-hosted-tests) || die "cannot list tests"
	# shellcheck disable=SC2046
	nice -n 5 make -s -C "$dir" --no-print-directory -j"${MUTANT_JOBS:-2}" \
		$(for t in $tests; do echo "build/plain/$t"; done) >"$dir/mutant-build.log" 2>&1 ||
		die "the copy does not build (build/labs/lab$n/mutant-build.log)"
	(cd "$dir" && scripts/run-tests.sh --build=build --flavours=plain --hosted="$tests" --boot=) \
		>"$dir/mutant-run.log" 2>&1
	failed=$(awk '/^== /{suite=$2} /^ *not ok /{line=$0; sub(/^ *not ok [0-9]* *-? */, "", line);
		sub(/ *#.*/, "", line); print "   " suite ": " line}' "$dir/mutant-run.log" | sort -u)
	if [[ -n $failed ]]; then echo "caught by:"; echo "$failed"; else echo "MISSED: no test failed"; fi
fi
echo "lab $n: the suite's output is build/labs/lab$n/mutant-run.log; the question is in labs/lab$n.md"
exit 0
