#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# criu-test.sh: CRIU's incremental checkpoint of criu-workload (busybox sh, root).
#
#   criu-test.sh MIB PERMILLE ITER
#
# Starts criu-workload with MIB MiB (anonymous, THP, shared anonymous,
# memfd, private file, swapped), then ITER times: (from the second on) has
# it write PERMILLE/1000 of its pages, and runs criu pre-dump --track-mem on
# the previous images.  Then one more round and criu dump, criu restore,
# and the checks: every pre-dump and the dump hold exactly the pages written
# since the one before (criu-workload count: none missing, none extra but in
# a dirty THP), every page of the restored process holds what the rounds
# wrote (criu-workload verify), and both checks fail when given the wrong
# round.  Each criu command's guest time (insn-timed: guest instructions
# under icount) is a "# criu-insn WHAT DIR N" line, followed by CRIU's
# statistics.  A failing 'criu check' is a failure, never a skip: the kernel
# lacks what CRIU needs ('criu check --all' is printed, not required).
# CRIU's logs follow the TAP lines as "# criu: " lines.  CRIU is $CRIU
# (criu); criu-workload is taken from the script's directory, else $PATH.
# CRIU_VERBOSITY=N sets criu's -v (default 4, debug).
# Exit: 0 all passed, 1 a test failed, 2 setup error.
set -eu

[ $# = 3 ] || { echo "usage: criu-test.sh MIB PERMILLE ITER" >&2; exit 2; }
MIB=$1 PERMILLE=$2 ITER=$3
case "$MIB$PERMILLE$ITER" in *[!0-9]*) echo "criu-test.sh: arguments are numbers" >&2; exit 2 ;; esac
[ "$ITER" -ge 1 ] && [ "$PERMILLE" -ge 1 ] && [ "$PERMILLE" -le 1000 ] ||
	{ echo "criu-test.sh: ITER must be at least 1, PERMILLE 1 to 1000" >&2; exit 2; }
PATH=$PATH:/usr/sbin:/sbin
CRIU=${CRIU:-criu}
W=$(dirname "$0")/criu-workload
[ -x "$W" ] || W=criu-workload
TIMED=$(command -v insn-timed || true)
# -v4 (debug) logs for the check; a benchmark takes CRIU's default, 2
VERBOSITY=${CRIU_VERBOSITY:-4}
D=/tmp/criu-wl IMG=/tmp/criu-img
n=0 failed=0

ok() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n $2"; else echo "not ok $n $2"; failed=1; fi
}

# logs: CRIU's logs, for build/logs (the host keeps the guest's output)
logs() {
	for f in "$IMG"/*/*.log; do
		[ -f "$f" ] || continue
		echo "# criu: ==> $f"
		sed 's/^/# criu: /' "$f"
	done
}

bail() {
	echo "Bail out! $*"
	logs
	[ -z "${pid:-}" ] || kill -9 "$pid" 2>/dev/null || true
	exit 1
}

# round K: ask the workload for round K and wait until it is done
round() {
	echo "$1 $PERMILLE" >>"$D/requests"
	kill -USR1 "$pid"
	t=0
	while [ "$(cat "$D/done" 2>/dev/null)" != "$1" ]; do
		t=$((t + 1))
		[ "$t" -le 600 ] || bail "the workload did not finish round $1 in 600 s"
		sleep 1
	done
}

# criu_run WHAT DIR ARGS...: run criu WHAT into DIR, its log there, and
# print its guest time (instructions under icount) and CRIU's own statistics
criu_run() {
	what=$1 dir=$2
	shift 2
	mkdir -p "$dir"
	r=0
	$TIMED "$CRIU" "$what" -D "$dir" -o "$what.log" -v"$VERBOSITY" --display-stats "$@" \
		>"$dir/stats.out" 2>&1 || r=$?
	sed -n "s|^insn-timed: \([0-9]*\) .*|# criu-insn $what ${dir##*/} \1|p" "$dir/stats.out"
	grep -v '^insn-timed:' "$dir/stats.out" | sed 's/^/#   /'
	return "$r"
}

# count_case DIR K pre-dump|dump WHAT: DIR's images hold the pages of round K (0: all)
count_case() {
	c=0
	"$W" count "$D" "$1" "$2" "$3" >"$1/count.out" 2>&1 || c=$?
	sed 's/^/# /' "$1/count.out"
	ok "$c" "$4"
}

echo "1..$((ITER + 6))"
command -v "$CRIU" >/dev/null || bail "no $CRIU in the guest (scripts/mkcriu-layer)"
# criu's kerndat binds to the loopback, criu check opens /dev/ptmx
ip link set lo up || bail "cannot bring up lo"
mkdir -p /dev/pts
grep -q ' /dev/pts ' /proc/mounts || mount -t devpts devpts /dev/pts || bail "cannot mount devpts"
rm -rf "$D" "$IMG"
mkdir -p "$D" "$IMG/check"
rc=0
"$CRIU" check >"$IMG/check/check.log" 2>&1 || rc=$?
"$CRIU" check --feature mem_dirty_track >>"$IMG/check/check.log" 2>&1 || rc=$?
sed 's/^/# /' "$IMG/check/check.log"
# The optional features too, for the record (README: what is missing, why it
# does not matter here)
echo "# criu check --all:"
"$CRIU" check --all 2>&1 | sed 's/^/#   /' || true
ok "$rc" "criu check and criu check --feature mem_dirty_track pass on this kernel"
[ "$rc" = 0 ] || bail "criu check failed: the kernel lacks what CRIU needs (above)"

pid=$("$W" run "$D" "$MIB") || bail "criu-workload did not start"
echo "# workload pid $pid, $MIB MiB, $PERMILLE permille per round, $ITER pre-dumps"
i=1
while [ "$i" -le "$ITER" ]; do
	prev=""
	if [ "$i" -gt 1 ]; then
		round $((i - 1))
		prev="--prev-images-dir ../$((i - 1))"
	fi
	rc=0
	# shellcheck disable=SC2086
	criu_run pre-dump "$IMG/$i" -t "$pid" --track-mem $prev || rc=$?
	[ "$rc" = 0 ] || bail "criu pre-dump $i failed ($rc)"
	since="pre-dump $((i - 1))"
	[ "$i" = 1 ] && since="the start"
	count_case "$IMG/$i" $((i - 1)) pre-dump "pre-dump $i holds exactly the pages written since $since"
	i=$((i + 1))
done

round "$ITER"
rc=0
criu_run dump "$IMG/dump" -t "$pid" --track-mem --prev-images-dir "../$ITER" || rc=$?
[ "$rc" = 0 ] || bail "criu dump failed ($rc)"
count_case "$IMG/dump" "$ITER" dump "dump holds exactly the pages written since pre-dump $ITER"

rc=0
criu_run restore "$IMG/dump" --restore-detached || rc=$?
ok "$rc" "restore of the dump"
[ "$rc" = 0 ] || bail "criu restore failed ($rc)"
rc=0
"$W" verify "$D" "$pid" "$ITER" || rc=$?
ok "$rc" "every page of the restored process holds what the workload wrote last"
# The checks can fail: the wrong round is caught by both
rc=0
"$W" verify "$D" "$pid" $((ITER - 1)) >/dev/null 2>&1 || rc=$?
ok "$([ "$rc" = 1 ] && echo 0 || echo 1)" "verify finds the pages of round $ITER wrong as round $((ITER - 1))'s ($rc)"
rc=0
"$W" count "$D" "$IMG/dump" $((ITER - 1)) dump >/dev/null 2>&1 || rc=$?
ok "$([ "$rc" = 1 ] && echo 0 || echo 1)" "count finds the dump's pages wrong for round $((ITER - 1)) ($rc)"
kill -9 "$pid" 2>/dev/null || true
logs
exit "$failed"
