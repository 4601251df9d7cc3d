# shellcheck shell=sh
# The stages of make check / make check-full: sourced by scripts/check (and
# by scripts/check-harness, which checks that a failing stage is reported).
# Needs lib.sh's LOGS.  Each stage is a row of $SUMMARY:
#   STAGE RESULT PASS FAIL SKIP SECONDS NOTE
mkdir -p "$LOGS"
SUMMARY=$LOGS/check-summary.tsv
: >"$SUMMARY"
failed_stages=0
TAP_PASS=0 TAP_FAIL=0

# record STAGE RESULT PASS FAIL SKIP SECONDS NOTE
record() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$SUMMARY"
	[ "$2" != FAIL ] || failed_stages=$((failed_stages + 1))
}

# skip_stage NAME: a stage left to the full gate.
skip_stage() {
	record "$1" SKIP - - - - "not in the fast gate: make check-full runs it"
}

# failed_log NAME: the end of a failed stage's log, on stderr.
failed_log() {
	echo "==> check: $1 FAILED after $(($(date +%s) - t0))s; last lines of build/logs/check-$1.log:" >&2
	tail -n 15 "$LOGS/check-$1.log" >&2
}

# run_stage NAME CMD...: run a non-test stage, log it, record the result.
run_stage() {
	name=$1; shift
	echo "==> check: $name" >&2
	t0=$(date +%s)
	if "$@" >"$LOGS/check-$name.log" 2>&1; then
		record "$name" PASS - - - $(($(date +%s) - t0)) "$(tail -n 1 "$LOGS/check-$name.log")"
	else
		failed_log "$name"
		record "$name" FAIL - - - $(($(date +%s) - t0)) "see build/logs/check-$name.log"
		return 1
	fi
}

# sum_field NAME FILE: the sum of NAME=<n> over the result lines of FILE.
sum_field() {
	awk -F"$1=" '{ split($2, a, " "); s += a[1] } END { print s + 0 }' "$2"
}

# guest_stage NAME CMD...: CMD boots a guest that runs tests through
# guest/run-selftests; sum the results it printed.
guest_stage() {
	name=$1; shift
	echo "==> check: $name" >&2
	t0=$(date +%s)
	set +e
	"$@" >"$LOGS/check-$name.log" 2>&1
	rc=$?
	set -e
	grep '^# result:' "$LOGS/check-$name.log" >"$LOGS/$name.results" || true
	p=$(sum_field pass "$LOGS/$name.results")
	f=$(sum_field fail "$LOGS/$name.results")
	k=$(sum_field skip "$LOGS/$name.results")
	verdict=$(grep '^vm-run:' "$LOGS/check-$name.log" | tail -n 1)
	TAP_PASS=$((TAP_PASS + p)); TAP_FAIL=$((TAP_FAIL + f))
	sed 's/^# result: /    /' "$LOGS/$name.results" >&2
	if [ "$rc" = 0 ] && [ "$f" = 0 ] && [ "$p" -gt 0 ]; then
		record "$name" PASS "$p" "$f" "$k" $(($(date +%s) - t0)) "${verdict#vm-run: }"
	else
		failed_log "$name"
		record "$name" FAIL "$p" "$f" "$k" $(($(date +%s) - t0)) "${verdict#vm-run: }"
	fi
}

# print_summary GATE START: the table with the seconds of each stage and the
# total, then the closing line; exit status 0 only when nothing failed.
print_summary() {
	total=$(($(date +%s) - $2))
	echo
	printf '%-18s %-6s %6s %6s %6s %6s  %s\n' STAGE RESULT PASS FAIL SKIP SECS NOTE
	while IFS="$(printf '\t')" read -r a b c d e s f; do
		printf '%-18s %-6s %6s %6s %6s %6s  %s\n' "$a" "$b" "$c" "$d" "$e" "$s" "$f"
	done <"$SUMMARY"
	printf '%-18s %-6s %6s %6s %6s %6s\n' total "" "" "" "" "$total"
	echo "$1 took ${total}s; logs in build/logs/"
	# The closing line sums the guest TAP results; a failed non-test stage
	# counts as one failure so that a red run can never print "0 failed".
	# (A stage that already counted failing cases adds nothing more.)
	extra=$(awk -F'\t' '$2 == "FAIL" && ($4 == "-" || $4 == 0)' "$SUMMARY" | wc -l)
	echo "$TAP_PASS passed, $((TAP_FAIL + extra)) failed"
	[ "$failed_stages" = 0 ] && [ "$TAP_FAIL" = 0 ]
}
