// SPDX-License-Identifier: GPL-2.0
/*
 * oracle: PAGEMAP_SCAN against /proc/self/pagemap, on random memory layouts.
 *
 *   oracle [--layouts N] [--scans N] [--seed S] [--no-huge-zero]
 *
 * For each of N layouts (default 1000) an arena of ARENA_PAGES pages at a
 * fixed, 2 MiB aligned address is reset to one PROT_NONE reservation, then
 * shaped by random operations on random page ranges (random_op()): mmap
 * MAP_FIXED of private/shared anon, memfd shmem, shared/private file; munmap
 * (holes, partial); mprotect; mremap (move, grow, shrink); writes and reads
 * (zero page); MADV_PAGEOUT (swap), MADV_DONTNEED; THP (MADV_HUGEPAGE, a
 * fault, MADV_COLLAPSE; shmem_enabled is advise for the run, so a memfd or
 * shared anon slot gets a shmem THP: one more result fails if a run of
 * SHMEM_THP_MIN_LAYOUTS or more made none); fork with a COW-writing child;
 * clear_refs 4; and
 * PAGEMAP_SCAN CLEAR and GET+CLEAR calls, which are checked like the scans.
 * Then one complete unfiltered scan and --scans (default 6) random valid
 * scans: random range (holes and the unmapped guards around the arena
 * included, an unaligned length sometimes), GET, CLEAR or both, masks,
 * return_mask, max_pages and vec_len (small ones truncate).
 *
 * The expected result of every call is derived from /proc/self/pagemap read
 * just before it (bits 55/61/62/63 are the categories, spec "Categories of a
 * page") and /proc/self/maps (pages outside every VMA are never reported):
 * the filter, maximal regions of equal cat & return_mask, the vec_len and
 * max_pages stops and walk_end (spec "What one call does", 1-4 and 6).  It
 * must match exactly.  Pagemap is read again after the call: a CLEAR must
 * have cleared bit 55 of exactly the matched pages below walk_end, and no
 * call may change anything else.  No other thread runs, and every THP range
 * gets MADV_NOHUGEPAGE after its operation, so khugepaged leaves the layout
 * alone while it is compared.
 *
 * A layout is reproduced alone by --seed S+i --layouts 1 (same --scans): a
 * mismatch prints that seed, the layout's operations, the call's arguments
 * and a page-by-page diff.  --no-huge-zero makes THP operations write only,
 * for kernels without main-series patch 1: there pagemap reports bit 61
 * (file) for the huge zero page but not for the small one, so a partial
 * CLEAR, which splits it, changes the categories of pages it did not clear
 * (this test found that; make check runs the default, which keeps the case).
 *
 * On a kernel without CONFIG_MEM_SOFT_DIRTY (spec "Compatibility") the same
 * layouts run without soft-dirty: the scans use FILE/PRESENT/SWAPPED masks
 * only and are compared as above, and every call that would CLEAR or ask
 * about soft-dirty instead checks that such a call gets EINVAL, writes
 * neither vec nor walk_end and changes nothing (class REJECTED, which is a
 * SKIP on kernels with soft-dirty: scan-fuzz checks the errnos there).
 *
 * Output: kselftest TAP, one result per check class (classes[]), then
 * totals and coverage.  Exit: 0 all matched, 1 a mismatch, 2 usage.
 */
#define _GNU_SOURCE	/* memfd_create() */
#include "oracle.h"
#include "kselftest.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

const char *const classes[NR_CLASSES] = {
	"pagemap bits match page by page (complete unfiltered scans)",
	"regions and return value of filtered, truncated scans as the spec says",
	"walk_end as the spec says",
	"CLEAR cleared soft-dirty of exactly the matched pages below walk_end",
	"nothing else changed: bits 55/61/62/63 outside the cleared pages",
	"without soft-dirty, CLEAR and soft-dirty masks get EINVAL, write and change nothing",
};

size_t layouts = DEFAULT_LAYOUTS, scans = DEFAULT_SCANS;
bool huge_zero = true;	/* THP operations may read (huge zero page) */
uint64_t seed = DEFAULT_SEED;
const char *no_sd;	/* why the kernel has no soft-dirty, or NULL */
uint64_t cats = CATS;	/* the categories the kernel accepts in masks */

int pm, memfd, filefd;
static bool shmem_thp;		/* the kernel has shmem THP */

/* ---- options, setup ---- */

static void usage(const char *why, const char *arg)
{
	fprintf(stderr, "error: %s '%s'\n"
		"usage: oracle [--layouts N] [--scans N] [--seed S] [--no-huge-zero]\n", why, arg);
	exit(2);
}

static void parse_args(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--no-huge-zero")) {
			huge_zero = false;
			continue;
		}
		if (i + 1 == argc)
			usage("missing value or unknown argument", argv[i]);
		if (!strcmp(argv[i], "--layouts"))
			layouts = parse(argv[++i], "--layouts", 1, 1UL << 32);
		else if (!strcmp(argv[i], "--scans"))
			scans = parse(argv[++i], "--scans", 0, 1UL << 20);
		else if (!strcmp(argv[i], "--seed"))
			seed = parse(argv[++i], "--seed", 0, ~0UL);
		else
			usage("unknown argument", argv[i]);
	}
}

static void setup(void)
{
	char path[] = "/tmp/oracle-XXXXXX";
	struct sigaction sa = { .sa_handler = on_fault };

	if (sysconf(_SC_PAGESIZE) != PSZ)
		ksft_exit_skip("the page size is not %lu\n", PSZ);
	pm = scan_open(0);
	memfd = memfd_create("oracle", 0);
	filefd = mkstemp(path);
	if (memfd < 0 || filefd < 0)
		fail("create the backing files");
	unlink(path);
	if (mmap(win, WIN_PAGES * PSZ, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
		 MAP_FIXED_NOREPLACE, -1, 0) != win)
		fail("reserve the window at its fixed address");
	if (scan_call(pm, 0, win, PSZ, vec, 1, 0, 0, 0, 0, 0, NULL) < 0) {
		if (errno == ENOTTY)
			ksft_exit_skip("the kernel has no PAGEMAP_SCAN\n");
		fail("a GET of the window");
	}
	no_sd = scan_clear_unsupported();
	if (no_sd)
		cats &= ~SD;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, NULL) || sigaction(SIGSEGV, &sa, NULL))
		fail("sigaction");
}

int main(int argc, char **argv)
{
	uint64_t t0, mism = 0;
	size_t i;
	int k;

	no_aslr(argv);
	parse_args(argc, argv);
	setvbuf(stdout, NULL, _IOLBF, 0);
	ksft_print_header();
	setup();	/* before the plan: it may skip the whole run */
	ksft_set_plan(NR_CLASSES + 1);
	/* THP operations on memfd and shared anon slots make shmem THPs */
	shmem_thp = shmem_thp_advise();
	ksft_print_msg("%zu layouts of %lu pages (+%d guard pages each side), %zu random scans "
		       "each, seed %llu%s%s\n", layouts, ARENA_PAGES, GUARD_PAGES, scans,
		       (unsigned long long)seed, huge_zero ? "" : ", no huge zero page",
		       no_sd ? ", without soft-dirty" : "");
	t0 = now();
	for (i = 0; i < layouts; i++)
		run_layout(i);
	for (k = 0; k < NR_CLASSES; k++) {
		mism += cnt[k].mismatches;
		if (k == CLEARED && no_sd)
			ksft_test_result_skip("%s: %s\n", classes[k], no_sd);
		else if (k == REJECTED && !no_sd)
			ksft_test_result_skip("%s: the kernel has soft-dirty (scan-fuzz checks "
					      "its errnos)\n", classes[k]);
		else if (!cnt[k].checks)
			ksft_test_result_skip("%s: no checks\n", classes[k]);
		else
			ksft_test_result(!cnt[k].mismatches, "%s: %llu checks, %llu mismatches "
					 "(%llu layouts)\n", classes[k],
					 (unsigned long long)cnt[k].checks,
					 (unsigned long long)cnt[k].mismatches,
					 (unsigned long long)nr_layouts);
	}
	ksft_print_msg("totals: %llu layouts, %llu scans, %llu pages compared, %llu mismatches, "
		       "%llu faults caught, %.1f s\n", (unsigned long long)nr_layouts,
		       (unsigned long long)nr_scans, (unsigned long long)nr_pages,
		       (unsigned long long)mism, (unsigned long long)nr_faults,
		       (now() - t0) / 1e9);
	ksft_print_msg("coverage (complete scans): softdirty %llu, file %llu, present %llu, "
		       "swapped %llu pages, %llu hole pages; AnonHugePages > 0 after %llu of %llu "
		       "THP operations, a new shmem THP after %llu\n",
		       (unsigned long long)seen[0], (unsigned long long)seen[1],
		       (unsigned long long)seen[2], (unsigned long long)seen[3],
		       (unsigned long long)seen_holes, (unsigned long long)nr_thp,
		       (unsigned long long)nr_thp_ops, (unsigned long long)nr_shmem_thp);
	if (!shmem_thp)
		ksft_test_result_skip("shmem THP in the layouts: no %s\n", SHMEM_ENABLED);
	else if (layouts < SHMEM_THP_MIN_LAYOUTS)
		ksft_test_result_skip("shmem THP in the layouts: only %zu layouts\n", layouts);
	else
		ksft_test_result(nr_shmem_thp > 0, "shmem THP in the layouts: %llu made\n",
				 (unsigned long long)nr_shmem_thp);
	ksft_finished();
}
