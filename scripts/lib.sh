# shellcheck shell=sh
# Common helpers for the harness scripts: sourced, not run.
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
TREE=${TREE:-$BUILD/linux}
LOGS=$BUILD/logs
JOBS=${JOBS:-$(nproc)}

# step NAME: announce a step so that a failure below it is attributable.
step() {
	STEP=$1
	printf '==> %s\n' "$STEP" >&2
}

die() {
	printf 'error: %s: %s\n' "${STEP:-${0##*/}}" "$*" >&2
	exit "${DIE_STATUS:-2}"
}

warn() {
	printf 'warning: %s\n' "$*" >&2
}

# series_dirs: the patch directories to apply, in order.
# SERIES=main stops after the main series; SERIES=all (default) adds the follow-up.
series_dirs() {
	case "${SERIES:-all}" in
	main) echo "$TOP/patches/pagemap-scan" ;;
	all) echo "$TOP/patches/pagemap-scan $TOP/patches/no-reused-regions" ;;
	*) die "SERIES must be 'main' or 'all', not '${SERIES}'" ;;
	esac
}

# dir_patches DIR: the patch files of one series directory, in filename
# order, cover letter excluded.
dir_patches() {
	[ -d "$1" ] || return 0
	find "$1" -maxdepth 1 -name '[0-9][0-9][0-9][0-9]-*.patch' ! -name '0000-*' | sort
}

# series_patches: every patch file of the selected series, in order.
series_patches() {
	for d in $(series_dirs); do
		dir_patches "$d"
	done
}

# main_patches: how many patches the main series has (MAIN_PATCHES overrides).
main_patches() {
	echo "${MAIN_PATCHES:-$(dir_patches "$TOP/patches/pagemap-scan" | wc -l)}"
}
