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

# Kernel builds go through ccache when it is installed.  The cache lives
# outside the clone (CCACHE_DIR, default ~/.cache/ccache) and paths under
# $BUILD are hashed relative to it (CCACHE_BASEDIR), so a fresh clone hits
# what another clone compiled; a fixed build timestamp, user and host keep
# init/version.o the same.  Depend mode (CCACHE_DEPEND) takes the headers
# from the compiler's -MMD output instead of running the preprocessor first:
# a miss then costs a quarter less.  A cache that cannot be written (full
# disk, no home) only disables the cache: the build goes on without it.
KCC=gcc
if command -v ccache >/dev/null 2>&1; then
	KCC="ccache gcc"
	export CCACHE_DIR="${CCACHE_DIR:-${HOME:-/root}/.cache/ccache}"
	export CCACHE_BASEDIR="$BUILD" CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-20G}" CCACHE_DEPEND=1
	if ! { mkdir -p "$CCACHE_DIR" && touch "$CCACHE_DIR/.writable"; } 2>/dev/null; then
		warn "ccache: $CCACHE_DIR is not writable: building without the cache"
		export CCACHE_DISABLE=1
	fi
fi
export KBUILD_BUILD_TIMESTAMP="${KBUILD_BUILD_TIMESTAMP:-2000-01-01}"
export KBUILD_BUILD_USER=pagemap-scan KBUILD_BUILD_HOST=harness

# kmake ARGS...: make with the kernel compiler (through ccache).
kmake() {
	make CC="$KCC" HOSTCC="$KCC" "$@"
}

# pack_cpio DIR OUT: DIR's files as a gzipped newc cpio archive OUT (an
# initramfs, or a layer on top of one), written whole or not at all.
pack_cpio() {
	step "pack $2"
	(cd "$1" && find . | cpio -o -H newc --quiet | gzip -1) >"$2.tmp" || die "cpio failed"
	mv "$2.tmp" "$2"
}

# build_without_series OBJ CONFIG: build the pinned base without the series
# (a worktree at tag 'base', $BUILD/none-src) into OBJ with the .config
# CONFIG, and check that every option survived but those the series adds.
build_without_series() {
	wt=$BUILD/none-src obj=$1
	step "worktree at the base without the series"
	if [ ! -e "$wt/.git" ]; then
		git -C "$TREE" worktree prune
		git -C "$TREE" worktree add -q --detach "$wt" base || die "git worktree add failed"
	fi
	# The same commit again keeps timestamps: the build stays incremental.
	git -C "$wt" checkout -q --detach base || die "checkout failed"

	step "build the base kernel without the series into $obj (log $LOGS/build-${obj##*/}.log)"
	mkdir -p "$obj" "$LOGS"
	cmp -s "$2" "$obj/.config" || cp "$2" "$obj/.config"
	{ kmake -C "$wt" O="$obj" olddefconfig && kmake -C "$wt" O="$obj" -j"$JOBS" bzImage; } \
		>"$LOGS/build-${obj##*/}.log" 2>&1 ||
		{ tail -n 30 "$LOGS/build-${obj##*/}.log" >&2; die "build failed"; }
	missing=$(grep '^CONFIG_.*=' "$2" | while read -r l; do
		grep -qxF "$l" "$obj/.config" && continue
		sym=${l%%=*}
		grep -rqs --include='Kconfig*' "^config ${sym#CONFIG_}\$" "$wt" && echo "$sym"
	done)
	[ -z "$missing" ] || die "the base kernel's .config lost $(echo $missing)"
}
