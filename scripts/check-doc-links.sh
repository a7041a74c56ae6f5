#!/usr/bin/env bash
# Every relative link in the project's Markdown resolves: README.md,
# docs/**/*.md, labs/**/*.md, mmu/README.md and tests/**/README.md. A link
# [text](path) must name an existing file or directory (relative to the
# document); a link with #anchor must name a heading of the target (GitHub's
# slug: lower case, punctuation dropped, spaces to hyphens) or an
# <a id="anchor">. Links inside fenced code blocks and absolute URLs
# (http:, https:, mailto:) are not checked.
#
#   scripts/check-doc-links.sh            check the tree (TAP, a make test suite)
#   scripts/check-doc-links.sh FILE...    check just these files
#
# It first proves it can fail: a document with a planted dead link and one
# with a dead anchor, written to a temporary directory, must both be reported.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
source tests/boot/tap.sh

# links FILE: "LINE<TAB>TARGET" for each Markdown link outside code fences
# and inline code spans.
links() {
	awk '
	/^[ \t]*```/ { fence = !fence; next }
	fence { next }
	{
		line = $0
		gsub(/`[^`]*`/, "", line)            # inline code spans
		while (match(line, /\]\([^) \t]+\)/)) {
			t = substr(line, RSTART + 2, RLENGTH - 3)
			print NR "\t" t
			line = substr(line, RSTART + RLENGTH)
		}
	}' "$1"
}

# anchors FILE: every anchor the file defines, one per line.
anchors() {
	awk '
	/^[ \t]*```/ { fence = !fence; next }
	fence { next }
	/^#+[ \t]/ {
		h = $0
		sub(/^#+[ \t]+/, "", h)
		h = tolower(h)
		gsub(/[^a-z0-9 _-]/, "", h)
		gsub(/ /, "-", h)
		n = seen[h]++
		print (n ? h "-" n : h)
	}
	{
		line = $0
		while (match(line, /<a (id|name)="[^"]+"/)) {
			a = substr(line, RSTART, RLENGTH)
			sub(/^<a (id|name)="/, "", a); sub(/"$/, "", a)
			print a
			line = substr(line, RSTART + RLENGTH)
		}
	}' "$1"
}

# check_file FILE: print one line per broken link; status 1 if any.
check_file() {
	local f=$1 dir bad=0 lineno target path anchor dest
	dir=$(dirname "$f")
	while IFS=$'\t' read -r lineno target; do
		case $target in
		http:* | https:* | mailto:*) continue ;;
		esac
		path=${target%%#*}
		anchor=
		[[ $target == *#* ]] && anchor=${target#*#}
		if [[ -z $path ]]; then
			dest=$f
		else
			dest=$dir/$path
			[[ $path == /* ]] && dest=$path
		fi
		if [[ ! -e $dest ]]; then
			echo "$f:$lineno: $target: no such file"
			bad=1
			continue
		fi
		if [[ -n $anchor && -f $dest && $dest == *.md ]] &&
			! anchors "$dest" | grep -qxF -- "$anchor"; then
			echo "$f:$lineno: $target: no anchor #$anchor in $dest"
			bad=1
		fi
	done < <(links "$f")
	return $bad
}

# The checker must be able to fail.
self_test() {
	local tmp rc out
	tmp=$(mktemp -d) || return 1
	printf '# A\n\n[fine](b.md) [fine too](b.md#real-heading)\n[dead](missing.md)\n' >"$tmp/a.md"
	printf '# Real heading\n\n[dead anchor](a.md#nowhere)\n```\n[in a fence](ignored.md)\n```\n' >"$tmp/b.md"
	out=$(check_file "$tmp/a.md"; check_file "$tmp/b.md")
	rc=0
	grep -q 'a.md:4: missing.md: no such file' <<<"$out" || rc=1
	grep -q 'b.md:3: a.md#nowhere: no anchor' <<<"$out" || rc=1
	[[ $(wc -l <<<"$out") -eq 2 ]] || rc=1
	rm -rf "$tmp"
	return $rc
}

if (($#)); then
	files=("$@")
else
	mapfile -t files < <({ ls README.md mmu/README.md 2>/dev/null
		find docs labs tests -name '*.md' 2>/dev/null | while read -r f; do
			case $f in
			docs/* | labs/*) echo "$f" ;;
			tests/*/README.md | tests/README.md) echo "$f" ;;
			esac
		done; } | sort -u)
fi

if self_test; then
	tap ok "the checker reports a planted dead link and a dead anchor"
else
	tap fail "the checker reports a planted dead link and a dead anchor" \
		"self-test: a dead link or anchor in a scratch document went unreported"
fi
total=0
for f in "${files[@]}"; do
	n=$(links "$f" | grep -cvE $'\t(https?|mailto):')
	total=$((total + n))
	if out=$(check_file "$f"); then
		tap ok "$f: $n relative links resolve"
	else
		tap fail "$f: dead links"
		echo "$out" | sed 's/^/#   /'
	fi
done
echo "# $total relative links in ${#files[@]} documents"
tap_end
