#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# pagemap-scan-test.sh: TAP test of the pagemap-scan CLI (busybox sh, root).
#
#   pagemap-scan-test.sh      (pagemap-scan and scan-target are taken from the
#                              script's directory, else $PATH; BIN=DIR overrides)
#
# scan-target maps 600 pages, makes them present, clears soft-dirty with
# clear_refs and writes the pages of $PATTERN (260 regions: more than the
# CLI's 128-entry buffer, so it must resume at walk_end).  Checked, against
# the page indices expected from $PATTERN: text, TSV and the default
# every-VMA scan report exactly the written pages; an unmasked scan reports
# every page with its categories; --exclude, --anyof and --return none;
# --max-pages stops at the right page, says where, and resuming there gives
# the rest; JSON is well formed and TSV has 8 fields per line; --clear reports
# the pattern and a second scan finds nothing dirty, rewritten pages are found
# again, and --clear --max-pages clears only the pages it reports; bad options,
# numbers, categories, ranges, formats and an unknown pid exit 2 with a
# message on stderr.  Tests run in this order (the --clear ones change the
# target's state).  Without PAGEMAP_SCAN every test is a SKIP, without
# soft-dirty the soft-dirty ones are.
# Exit: 0 all passed or skipped, 1 a test failed, 2 setup error.

# shellcheck disable=SC2317 # the t_* functions are called through $fn
PATTERN=0-2,5,10-13,40,64-575/2
PAGES=600
TAB=$(printf '\t')
BIN=${BIN:-$(dirname "$0")}

find_bin() {
	if [ -x "$BIN/$1" ]; then echo "$BIN/$1"; else command -v "$1"; fi
}
SCAN=$(find_bin pagemap-scan)
TARGET=$(find_bin scan-target)
if [ -z "$SCAN" ] || [ -z "$TARGET" ]; then
	echo "error: pagemap-scan or scan-target not found in $BIN or \$PATH" >&2
	exit 2
fi
TMP=$(mktemp -d /tmp/pagemap-scan-test.XXXXXX) || exit 2
TPID=
cleanup() {
	[ -n "$TPID" ] && kill "$TPID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

# Wait (up to 10 s) until file $1 has a line matching $2.
wait_for() {
	i=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		[ $i -ge 100 ] && return 1
		sleep 0.1 2>/dev/null || sleep 1
		i=$((i + 1))
	done
}

# The page indices of a scan-target LIST ("A", "A-B", "A-B/S"), one a line.
expand() {
	echo "$1" | tr ',' '\n' | while IFS= read -r item; do
		step=1
		case $item in */*) step=${item#*/}; item=${item%/*} ;; esac
		i=${item%-*}
		while [ "$i" -le "${item#*-}" ]; do echo "$i"; i=$((i + step)); done
	done
}

# "INDEX CATEGORIES" lines in page order -> runs "FIRST-LAST CATEGORIES".
rle() {
	awk '{ if (n && $1 == e + 1 && $2 == c) { e = $1; next }
	       if (n) print s "-" e, c; s = $1; e = $1; c = $2; n = 1 }
	     END { if (n) print s "-" e, c }'
}

# Every page of the target with its expected categories (all are present).
all_pages() {
	expand "$PATTERN" | awk -v n="$PAGES" '{ d[$1] = 1 } END {
		for (i = 0; i < n; i++) print i, (i in d) ? "softdirty|present" : "present" }'
}

# The written pages from the Nth on (N from 1), as expected regions.
dirty_from() {
	expand "$PATTERN" | tail -n +"$1" | sed 's/$/ softdirty|present/' | rle
}

# TSV of pagemap-scan on stdin -> "FIRST-LAST CATEGORIES" page indices of the
# records in the target's VMA (a wrong page count shows as a bad line).
to_pages() {
	tail -n +2 | while IFS="$TAB" read -r s e n c vs _; do
		[ $((vs)) -eq $((ADDR)) ] || continue
		[ $((e - s)) -eq $((n * PSZ)) ] || echo "bad page count $n for $s-$e"
		echo "$(((s - ADDR) / PSZ))-$(((e - ADDR) / PSZ - 1)) $c"
	done
}

# Compare file $1 (expected) with file $2 (actual), showing the difference.
same() {
	cmp -s "$1" "$2" && return 0
	echo "expected vs actual:"
	diff "$1" "$2" | head -20
	return 1
}

# pagemap-scan on the target's range in TSV with more options; fails on an error.
scan_tsv() {
	"$SCAN" --pid "$TPID" --range "$ADDR-$END" --format tsv "$@" >"$TMP/out" 2>"$TMP/err" ||
		{ echo "pagemap-scan $* failed:"; cat "$TMP/err"; return 1; }
	to_pages <"$TMP/out" >"$TMP/act"
}

# Expected regions in $TMP/exp, actual from scan_tsv with options "$@".
expect_scan() {
	scan_tsv "$@" && same "$TMP/exp" "$TMP/act"
}

t_text() {
	"$SCAN" --pid "$TPID" --range "$ADDR-$END" --require softdirty >"$TMP/out" 2>&1 ||
		{ cat "$TMP/out"; return 1; }
	head=$(printf '%012x-%012x rw-p [anon]' $((ADDR)) $((END)))
	total="total: $(expand "$PATTERN" | wc -l) pages in $(dirty_from 1 | wc -l) regions"
	grep -qxF "$head" "$TMP/out" || { echo "no VMA line '$head'"; return 1; }
	grep -qxF "$total" "$TMP/out" || { echo "no '$total'"; tail -3 "$TMP/out"; return 1; }
	[ "$(grep -c '^  ' "$TMP/out")" -eq "$(dirty_from 1 | wc -l)" ] ||
		{ echo "wrong number of region lines"; return 1; }
}

t_tsv_dirty() {
	dirty_from 1 >"$TMP/exp"
	expect_scan --require softdirty
}

t_tsv_all() {
	all_pages | rle >"$TMP/exp"
	expect_scan || return 1
	awk -F"$TAB" 'NF != 8 { print "line " NR " has " NF " fields: " $0; bad = 1 }
		      END { exit bad }' "$TMP/out"
}

t_every_vma() {
	dirty_from 1 >"$TMP/exp"
	"$SCAN" --pid "$TPID" --require softdirty --format tsv >"$TMP/out" 2>"$TMP/err" ||
		{ cat "$TMP/err"; return 1; }
	to_pages <"$TMP/out" >"$TMP/act"
	same "$TMP/exp" "$TMP/act"
}

t_masks() {
	all_pages | grep -v softdirty | rle >"$TMP/exp"
	expect_scan --exclude softdirty || return 1
	: >"$TMP/exp"
	expect_scan --anyof file,swapped || return 1
	echo "0-$((PAGES - 1)) -" >"$TMP/exp"
	expect_scan --require present --return none || return 1
	dirty_from 1 | sed 's/ .*/ softdirty/' >"$TMP/exp"
	expect_scan --anyof softdirty --return 'softdirty|file'
}

t_max_pages() {
	expand "$PATTERN" | head -5 | sed 's/$/ softdirty|present/' | rle >"$TMP/exp"
	expect_scan --require softdirty --max-pages 5 || return 1
	at=$(printf '0x%x' $((ADDR + $(expand "$PATTERN" | sed -n 6p) * PSZ)))
	grep -q "stopped at $at " "$TMP/err" || { echo "no 'stopped at $at':"; cat "$TMP/err"; return 1; }
	dirty_from 6 >"$TMP/exp"
	"$SCAN" --pid "$TPID" --range "$at-$END" --format tsv --require softdirty \
		--max-pages 100000 >"$TMP/out" 2>"$TMP/err" || { cat "$TMP/err"; return 1; }
	to_pages <"$TMP/out" >"$TMP/act"
	same "$TMP/exp" "$TMP/act" || return 1
	[ ! -s "$TMP/err" ] || { echo "complete scan says:"; cat "$TMP/err"; return 1; }
}

# File $1 is one JSON object: brackets balance outside strings, no trailing comma.
json_ok() {
	sed 's/"[^"]*"/""/g' "$1" | tr -d ' \n\t' >"$TMP/j"
	awk '{ for (i = 1; i <= length($0); i++) {
		c = substr($0, i, 1)
		if (c == "{" || c == "[") st = st c
		else if (c == "}" || c == "]") {
			o = substr(st, length(st), 1)
			if ((c == "}") != (o == "{")) bad = 1
			st = substr(st, 1, length(st) - 1)
		}
		if (st == "" && i < length($0)) bad = 1
	     } }
	     END { if (bad || st != "" || NR != 1 || substr($0, 1, 1) != "{") {
			print "unbalanced"; exit 1 } }' "$TMP/j" ||
		return 1
	! grep -q ',[]}]' "$TMP/j" || { echo "trailing comma"; return 1; }
}

t_json() {
	"$SCAN" --pid "$TPID" --range "$ADDR-$END" --require softdirty --format json >"$TMP/out" ||
		return 1
	json_ok "$TMP/out" || return 1
	cats='"categories": \["softdirty","present"\]'
	[ "$(grep -c "$cats" "$TMP/out")" -eq "$(dirty_from 1 | wc -l)" ] ||
		{ echo "wrong number of regions"; return 1; }
	if ! grep -q "\"pages\": $(expand "$PATTERN" | wc -l),\$" "$TMP/out" ||
	   ! grep -q '"complete": true$' "$TMP/out"; then
		echo "bad totals"; tail -4 "$TMP/out"; return 1
	fi
	"$SCAN" --pid "$TPID" --max-pages 3 --format json >"$TMP/out" || return 1
	if ! json_ok "$TMP/out" || ! grep -q '"complete": false,$' "$TMP/out" ||
	   ! grep -q '"stopped_at": "0x[0-9a-f]*"$' "$TMP/out"; then
		echo "bad --max-pages JSON"; return 1
	fi
	"$SCAN" --pid "$TPID" --format json >"$TMP/out" && json_ok "$TMP/out"
}

t_clear() {
	dirty_from 1 >"$TMP/exp"
	expect_scan --require softdirty --clear || return 1
	: >"$TMP/exp"
	expect_scan --require softdirty
}

t_rewrite() {
	if ! kill -USR1 "$TPID" || ! wait_for "$TMP/target.out" '^rewritten'; then
		echo "scan-target did not rewrite"; return 1
	fi
	dirty_from 1 >"$TMP/exp"
	expect_scan --require softdirty
}

t_clear_max() {
	expand "$PATTERN" | head -5 | sed 's/$/ softdirty|present/' | rle >"$TMP/exp"
	expect_scan --require softdirty --clear --max-pages 5 || return 1
	dirty_from 6 >"$TMP/exp"
	expect_scan --require softdirty
}

# pagemap-scan with options "$@" must exit 2, print nothing on stdout and a
# message naming $WANT on stderr.
usage_error() {
	"$SCAN" "$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	[ "$rc" -eq 2 ] || { echo "exit $rc, not 2"; return 1; }
	[ ! -s "$TMP/out" ] || { echo "output on stdout"; return 1; }
	grep -qF -- "$WANT" "$TMP/err" ||
		{ echo "stderr does not name '$WANT':"; cat "$TMP/err"; return 1; }
}

t_bad_option() { WANT=--bogus; usage_error --bogus; }
t_bad_number() { WANT=--max-pages; usage_error --max-pages 12x; }
t_bad_category() { WANT=dirty; usage_error --require present,dirty; }
t_bad_range() { WANT=--range; usage_error --range 2000-1000 && usage_error --range 0x1g000-0x2000; }
t_bad_format() { WANT=xml; usage_error --format xml; }
t_bad_clear() { WANT=--exclude; usage_error --clear --exclude file; }
t_unknown_pid() {
	true &
	gone=$!
	wait "$gone"
	WANT="pid $gone"
	usage_error --pid "$gone"
}

# function|needs|description (needs: sd = soft-dirty, scan = PAGEMAP_SCAN)
TESTS="t_text|sd|text: the target's VMA line, its written-page regions and the total
t_tsv_dirty|sd|tsv --require softdirty: exactly the written pages (resuming at walk_end)
t_tsv_all|sd|tsv, no masks: every page with its categories, 8 fields per line
t_every_vma|sd|default range (every VMA): the target's VMA has exactly the written pages
t_masks|sd|--exclude, --anyof and --return (none, a subset) give exactly the expected regions
t_max_pages|sd|--max-pages 5: the first 5 written pages, stops at the 6th, resuming gives the rest
t_json|sd|json: well formed, one record per region, totals, --max-pages says where it stopped
t_clear|sd|--clear reports the written pages, a second scan finds none dirty
t_rewrite|sd|pages written again after --clear are reported again
t_clear_max|sd|--clear --max-pages 5 clears only the 5 pages it reports
t_bad_option|-|unknown option: exit 2 naming it
t_bad_number|-|bad --max-pages number: exit 2 naming it
t_bad_category|-|unknown category: exit 2 naming it
t_bad_range|-|bad --range (START >= END, not hex): exit 2 naming it
t_bad_format|-|unknown --format: exit 2 naming it
t_bad_clear|-|--clear with --exclude: exit 2 naming it
t_unknown_pid|-|unknown pid: exit 2 naming it"

# Why tests must be skipped: the kernel has no PAGEMAP_SCAN (ENOTTY) or no
# soft-dirty (EINVAL for a softdirty mask).  Other errors are failures.
probe() {
	if ! "$SCAN" --pid $$ --max-pages 1 --format tsv >/dev/null 2>"$TMP/err" &&
	   grep -q 'Inappropriate ioctl' "$TMP/err"; then
		noscan="no PAGEMAP_SCAN: $(cat "$TMP/err")"
	fi
	if ! "$SCAN" --pid $$ --require softdirty --max-pages 1 --format tsv >/dev/null \
	     2>"$TMP/err" && grep -q 'Invalid argument' "$TMP/err"; then
		nosd="no soft-dirty: $(cat "$TMP/err")"
	fi
	"$TARGET" $PAGES "$PATTERN" >"$TMP/target.out" 2>&1 &
	TPID=$!
	if ! wait_for "$TMP/target.out" '^pid='; then
		echo "error: scan-target did not start: $(cat "$TMP/target.out")" >&2
		exit 2
	fi
	# shellcheck disable=SC2046 # two words: the address and the page size
	set -- $(sed -n 's/^pid=[0-9]* addr=\(0x[0-9a-f]*\) pages=[0-9]* pagesize=\([0-9]*\)$/\1 \2/p' \
		"$TMP/target.out")
	ADDR=$1 PSZ=$2
	END=$(printf '0x%x' $((ADDR + PAGES * PSZ)))
}

noscan='' nosd=''
probe
echo "TAP version 13"
echo "1..$(echo "$TESTS" | grep -c .)"
n=0 failed=0
while IFS='|' read -r fn needs desc; do
	n=$((n + 1))
	skip=
	[ "$needs" = sd ] && skip=$nosd
	[ "$needs" != - ] && [ -n "$noscan" ] && skip=$noscan
	if [ -n "$skip" ]; then
		echo "ok $n $desc # SKIP $skip"
	elif $fn >"$TMP/log" 2>&1 </dev/null; then
		echo "ok $n $desc"
	else
		echo "not ok $n $desc"
		sed 's/^/# /' "$TMP/log"
		failed=1
	fi
done <<EOF
$TESTS
EOF
exit $failed
