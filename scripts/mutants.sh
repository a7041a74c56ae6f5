#!/usr/bin/env bash
# Planted-bug (mutation) check: apply one known bug at a time to a scratch
# copy of the tree, run the fast hosted suite there, and expect it to fail.
# The mutants are tests/mutants/*.mutant (format: tests/mutants/README.md).
#
#   scripts/mutants.sh                      every counted mutant; ends with
#                                           "mutants: K of N caught"
#   scripts/mutants.sh --only NAME[,NAME]   just these (lab-only ones too)
#   scripts/mutants.sh --only NAME --keep DIR [--no-run]
#                                           apply NAME in DIR and keep DIR
#                                           (--no-run: apply only, for labs)
#   scripts/mutants.sh --check              apply every mutant, run nothing
#   scripts/mutants.sh --list               name, lab flag and description
#
# Exit status: 0 only when every selected mutant applied, built and was
# caught (with --no-run/--check: when every one applied).
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
mdir=$root/tests/mutants
only= keep= norun=0 check=0 list=0 jobs=${MUTANT_JOBS:-2}
for a in "$@"; do
	case $a in
	--only=*) only=${a#*=} ;;
	--keep=*) keep=${a#*=} ;;
	--no-run) norun=1 ;;
	--check)  check=1 ;;
	--list)   list=1 ;;
	--only|--keep) pending=$a ;;
	-h|--help) sed -n '2,17p' "$0"; exit 0 ;;
	*)
		if [[ ${pending:-} == --only ]]; then only=$a
		elif [[ ${pending:-} == --keep ]]; then keep=$a
		else echo "mutants: unknown argument $a" >&2; exit 2; fi
		pending= ;;
	esac
	[[ $a == --only || $a == --keep ]] || pending=
done

# field FILE KEY: the values of 'KEY: value' lines, one per line.
field() { sed -n "s/^$2: *//p" "$1"; }

die() { echo "mutants: $*" >&2; exit 2; }

# The mutants to run, by name.
select_mutants() {
	local f name
	if [[ -n $only ]]; then
		tr ',' '\n' <<<"$only" | while read -r name; do
			[[ -f $mdir/$name.mutant ]] || die "no mutant '$name' (tests/mutants/$name.mutant)"
			echo "$name"
		done
		return
	fi
	for f in "$mdir"/*.mutant; do
		name=$(basename "$f" .mutant)
		[[ $(field "$f" lab) == yes ]] && continue
		echo "$name"
	done
}

if ((list)); then
	for f in "$mdir"/*.mutant; do
		printf '%-28s %-4s %s\n' "$(basename "$f" .mutant)" \
			"$([[ $(field "$f" lab) == yes ]] && echo lab)" "$(field "$f" what)"
	done
	exit 0
fi
[[ -n $keep && -z $only ]] && die "--keep needs --only NAME"
[[ -n $keep && $only == *,* ]] && die "--keep takes one mutant"

# Validate every definition first: a broken file is an error, never a skip.
for f in "$mdir"/*.mutant; do
	[[ -n $(field "$f" what) ]] || die "$(basename "$f"): no 'what:' line"
	[[ -n $(field "$f" file) ]] || die "$(basename "$f"): no 'file:' line"
	[[ -n $(field "$f" sed) ]] || die "$(basename "$f"): no 'sed:' line"
done

# copy_tree DIR: the working tree (tracked and untracked, not ignored files)
# plus the plain (and tsan) build, timestamps kept, so only what the mutant
# touches is rebuilt.
copy_tree() {
	local dir=$1
	mkdir -p "$dir"
	if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		(cd "$root" && git ls-files -co --exclude-standard -z | xargs -0 tar cf -) |
			(cd "$dir" && tar xf -) || die "copying the tree to $dir failed"
	else # an exported tree (git archive): everything but build output
		(cd "$root" && tar cf - --exclude=./build --exclude=.git .) |
			(cd "$dir" && tar xf -) || die "copying the tree to $dir failed"
	fi
	mkdir -p "$dir/build"
	for fl in plain tsan; do
		[[ -d $root/build/$fl ]] && cp -a "$root/build/$fl" "$dir/build/"
	done
	return 0
}

# apply NAME DIR: run each 'sed:' line on the current 'file:'; each must
# change the file (else the mutant no longer applies: loud error).
apply() {
	local name=$1 dir=$2 def=$mdir/$1.mutant file= key val n=0
	while IFS= read -r line; do
		key=${line%%:*} val=${line#*: }
		case $key in
		file) file=$val
			[[ -f $dir/$file ]] || { echo "mutants: $name: $file does not exist" >&2; return 1; } ;;
		sed)
			n=$((n + 1))
			cp "$dir/$file" "$dir/.mutant.orig"
			sed -i "$val" "$dir/$file" || { echo "mutants: $name: sed #$n failed" >&2; return 1; }
			if cmp -s "$dir/$file" "$dir/.mutant.orig"; then
				echo "mutants: $name DOES NOT APPLY: sed #$n matched nothing in $file:" >&2
				echo "mutants:   $val" >&2
				echo "mutants: update tests/mutants/$name.mutant to the code as it is now" >&2
				rm -f "$dir/.mutant.orig"
				return 1
			fi
			rm -f "$dir/.mutant.orig" ;;
		esac
	done <"$def"
	return 0
}

hosted_tests() { make -s -C "$1" --no-print-directory print-hosted-tests; }

# run_suite NAME DIR: build the plain hosted tests (plus 'also:' programs)
# and run them; sets $caught_by to the failing tests.
run_suite() {
	local name=$1 dir=$2 tests bins also log=$2/mutant-run.log
	tests=$(hosted_tests "$dir") || { echo "mutants: $name: cannot list tests" >&2; return 2; }
	also=$(field "$mdir/$name.mutant" also | tr '\n' ' ')
	bins=$(for t in $tests; do echo "build/plain/$t"; done; for a in $also; do echo "build/$a"; done)
	# shellcheck disable=SC2086
	if ! nice -n 5 make -s -C "$dir" --no-print-directory -j"$jobs" $bins >"$dir/mutant-build.log" 2>&1; then
		echo "mutants: $name DOES NOT BUILD (see $dir/mutant-build.log)" >&2
		return 2
	fi
	(cd "$dir" && scripts/run-tests.sh --build=build --flavours=plain --hosted="$tests" --boot=
	 for a in $also; do
		scripts/run-tests.sh --build=build --flavours="${a%%/*}" --hosted="${a#*/}" --boot=
	 done) >"$log" 2>&1
	# "== plain/unit_mmu" then "   not ok 3 - name ..." lines
	caught_by=$(awk '/^== /{suite=$2} /^ *not ok /{
		line=$0; sub(/^ *not ok [0-9]* *-? */, "", line); sub(/ *#.*/, "", line);
		sub(/ exited with status/, ": exited with status", line); sub(/ \(log: .*/, "", line);
		if (line ~ "^" suite ": ") sub("^" suite ": ", "", line);
		n[suite ": " line]=1 } END { for (k in n) print k }' "$log" | sort | paste -sd';' | sed 's/;/; /g')
	return 0
}

names=$(select_mutants) || exit 2
[[ -n $names ]] || die "no mutants selected"
total=0 caught=0 bad=0
work=${keep:-$(mktemp -d "${TMPDIR:-/tmp}/keel-mutants.XXXXXX")}
[[ -n $keep && -e $keep && -n $(ls -A "$keep" 2>/dev/null) ]] && die "--keep $keep exists and is not empty"

for name in $names; do
	dir=$work/$name
	[[ -n $keep ]] && dir=$keep
	rm -rf "${dir:?}"
	copy_tree "$dir"
	total=$((total + 1))
	if ! apply "$name" "$dir"; then
		printf 'NOT APPLIED  %-28s %s\n' "$name" "$(field "$mdir/$name.mutant" what)"
		bad=$((bad + 1))
		continue
	fi
	if ((check || norun)); then
		printf 'applied      %-28s %s\n' "$name" "${keep:+in $keep}"
		((check)) && rm -rf "${dir:?}"
		continue
	fi
	caught_by=
	run_suite "$name" "$dir"
	rc=$?
	if ((rc == 2)); then
		printf 'ERROR        %-28s does not build or list tests (%s)\n' "$name" "$dir"
		bad=$((bad + 1))
	elif [[ -n $caught_by ]]; then
		printf 'caught       %-28s by %s\n' "$name" "$caught_by"
		caught=$((caught + 1))
		[[ -z $keep ]] && rm -rf "${dir:?}"
	else
		printf 'MISSED       %-28s %s (log: %s/mutant-run.log)\n' "$name" \
			"$(field "$mdir/$name.mutant" what)" "$dir"
	fi
done
[[ -z $keep ]] && rmdir "$work" 2>/dev/null
if ((check || norun)); then
	echo "mutants: $((total - bad)) of $total apply"
	((bad == 0))
	exit
fi
echo "mutants: $caught of $total caught"
((caught == total && bad == 0))
