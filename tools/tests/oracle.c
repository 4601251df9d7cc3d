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
#define _GNU_SOURCE	/* memfd_create(), mremap(), MAP_FIXED_NOREPLACE */
#include "scan.h"
#include "kselftest.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define SD		PAGE_IS_SOFTDIRTY
#define CATS		(PAGE_IS_SOFTDIRTY | PAGE_IS_FILE | PAGE_IS_PRESENT | \
			 PAGE_IS_SWAPPED)
#define CLEAR		PAGEMAP_SOFTDIRTY_CLEAR

#define PSZ		4096UL
#define HUGE_PAGES	512		/* base pages of a PMD THP */
#define ARENA_ADDR	0x100000000000UL	/* far from what libc maps */
#define ARENA_PAGES	(4 * HUGE_PAGES)	/* 8 MiB: 4 THP slots */
#define GUARD_PAGES	64		/* never mapped, on both sides */
#define WIN_PAGES	(ARENA_PAGES + 2 * GUARD_PAGES)
#define WIN_ADDR	(ARENA_ADDR - GUARD_PAGES * PSZ)
#define FILE_SIZE	(2 * ARENA_PAGES * PSZ)	/* room for grown mappings */

#define DEFAULT_LAYOUTS	1000
#define SHMEM_THP_MIN_LAYOUTS	100	/* a run this long must make a shmem THP */
#define DEFAULT_SCANS	6
#define DEFAULT_SEED	0x0bac1eUL
#define MAX_OPS		16	/* operations of a layout: 4 to MAX_OPS */
#define FORK_WRITES	32	/* pages a forked child writes at most */
#define SHOW_MAX	5	/* mismatches printed in detail */
#define DIFF_MAX	16	/* differing pages printed per mismatch */

/* Pagemap bits and what maps says of a page of the window */
#define IN_VMA		1
#define CAN_READ	2
#define CAN_WRITE	4
#define SHARED		8

/* The check classes, one TAP result each */
enum { PAGES, REGIONS, WALK_END, CLEARED, UNCHANGED, REJECTED, NR_CLASSES };
static const char *const classes[NR_CLASSES] = {
	"pagemap bits match page by page (complete unfiltered scans)",
	"regions and return value of filtered, truncated scans as the spec says",
	"walk_end as the spec says",
	"CLEAR cleared soft-dirty of exactly the matched pages below walk_end",
	"nothing else changed: bits 55/61/62/63 outside the cleared pages",
	"without soft-dirty, CLEAR and soft-dirty masks get EINVAL, write and change nothing",
};

static size_t layouts = DEFAULT_LAYOUTS, scans = DEFAULT_SCANS;
static bool huge_zero = true;	/* THP operations may read (huge zero page) */
static uint64_t seed = DEFAULT_SEED;
static const char *no_sd;	/* why the kernel has no soft-dirty, or NULL */
static uint64_t cats = CATS;	/* the categories the kernel accepts in masks */

static int pm, memfd, filefd;
static char *const win = (char *)WIN_ADDR;
static char *const arena = (char *)ARENA_ADDR;
static uint8_t perm[WIN_PAGES];		/* IN_VMA | CAN_* | SHARED */
static uint64_t before[WIN_PAGES], after[WIN_PAGES];	/* pagemap */
static struct page_region vec[WIN_PAGES], want[WIN_PAGES];
static bool matched[WIN_PAGES];

/* The current layout: its seed, a log of its operations */
static uint64_t layout_seed, rnd;
static char oplog[16384];
static size_t oplog_len;

struct counts {
	uint64_t checks, mismatches;
};
static struct counts cnt[NR_CLASSES];
static uint64_t nr_layouts, nr_scans, nr_pages, nr_faults, nr_shown, nr_thp, nr_thp_ops;
static uint64_t nr_shmem_thp;	/* THP operations that made a shmem THP */
static bool shmem_thp;		/* the kernel has shmem THP */
static uint64_t seen[4], seen_holes;	/* coverage: pages of each category, holes */

/* One call's arguments and what it returned */
struct call {
	uint64_t flags, start, len, vec_len, max_pages;
	uint64_t required, anyof, excluded, ret_mask;
	long ret;
	uint64_t walk_end;
	const char *why;	/* the operation or scan it belongs to */
};

static uint64_t rand_below(uint64_t n)
{
	return n ? xorshift(&rnd) % n : 0;
}

static bool one_in(uint64_t n)
{
	return rand_below(n) == 0;
}

static void log_op(const char *fmt, ...)
{
	va_list ap;
	int n;

	if (oplog_len >= sizeof(oplog) - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(oplog + oplog_len, sizeof(oplog) - oplog_len, fmt, ap);
	va_end(ap);
	if (n > 0)
		oplog_len = oplog_len + n < sizeof(oplog) ? oplog_len + n : sizeof(oplog) - 1;
}

static char *page_addr(size_t win_page)
{
	return win + win_page * PSZ;
}

/* ---- what the kernel says: maps and pagemap of the window ---- */

/* perm[] from /proc/self/maps: the window holds only the arena's VMAs */
static void read_maps(void)
{
	unsigned long lo, hi, s = WIN_ADDR, e = WIN_ADDR + WIN_PAGES * PSZ, p;
	char r, w, x, sh, *line = NULL;
	FILE *f = fopen("/proc/self/maps", "r");
	size_t cap = 0;

	if (!f)
		fail("open /proc/self/maps");
	memset(perm, 0, sizeof(perm));
	while (getline(&line, &cap, f) > 0) {
		if (sscanf(line, "%lx-%lx %c%c%c%c", &lo, &hi, &r, &w, &x, &sh) != 6 ||
		    hi <= s || lo >= e)
			continue;
		for (p = lo < s ? s : lo; p < hi && p < e; p += PSZ)
			perm[(p - s) / PSZ] = IN_VMA | (r == 'r' ? CAN_READ : 0) |
				(w == 'w' ? CAN_WRITE : 0) | (sh == 's' ? SHARED : 0);
	}
	free(line);
	fclose(f);
}

static void read_pagemap(uint64_t *pme)
{
	size_t want_bytes = WIN_PAGES * sizeof(*pme);

	if (pread(pm, pme, want_bytes, WIN_ADDR / PSZ * sizeof(*pme)) != (ssize_t)want_bytes)
		fail("read /proc/self/pagemap");
}

/* ---- the expected result of a call ---- */

static bool matches(const struct call *c, uint64_t cat)
{
	return (cat & c->required) == c->required && (!c->anyof || (cat & c->anyof)) &&
	       !(cat & c->excluded);
}

/*
 * Spec "What one call does": walk the pages in order; a matching page
 * extends the last region or opens a new one if vec has room, else the walk
 * stops at it; it stops after the max_pages-th matching page.  Fills want[],
 * matched[] and returns the number of regions; *walk_end gets the stop.
 */
static long expect(const struct call *c, uint64_t *walk_end)
{
	uint64_t end = (c->start + c->len + PSZ - 1) & ~(PSZ - 1), a, found = 0, b;
	size_t i;
	long n = 0;

	memset(matched, 0, sizeof(matched));
	*walk_end = end;
	for (a = c->start; a < end; a += PSZ) {
		i = (a - WIN_ADDR) / PSZ;
		if (!(perm[i] & IN_VMA) || !matches(c, pm_categories(before[i])))
			continue;
		b = pm_categories(before[i]) & c->ret_mask;
		if (c->vec_len) {
			if (n && want[n - 1].start + want[n - 1].len == a && want[n - 1].bitmap == b) {
				want[n - 1].len += PSZ;
			} else if ((uint64_t)n == c->vec_len) {
				*walk_end = a;
				break;
			} else {
				want[n++] = (struct page_region){ a, PSZ, b };
			}
		}
		matched[i] = true;
		if (++found == c->max_pages) {
			*walk_end = a + PSZ;
			break;
		}
	}
	return c->vec_len ? n : 0;
}

/* ---- reporting mismatches ---- */

/* What the regions in @r say of the page at @a: its bitmap, or -1 */
static long reported(const struct page_region *r, long n, uint64_t a)
{
	for (long k = 0; k < n; k++)
		if (a >= r[k].start && a - r[k].start < r[k].len)
			return r[k].bitmap;
	return -1;
}

static void show_call(const struct call *c)
{
	ksft_print_msg("  layout seed %llu (reproduce: --seed %llu --layouts 1 --scans %zu); ops:%s\n",
		       (unsigned long long)layout_seed, (unsigned long long)layout_seed, scans,
		       oplog);
	ksft_print_msg("  %s: flags %#llx start %#llx len %#llx vec_len %llu max_pages %llu "
		       "required %#llx anyof %#llx excluded %#llx return %#llx\n", c->why,
		       (unsigned long long)c->flags, (unsigned long long)c->start,
		       (unsigned long long)c->len, (unsigned long long)c->vec_len,
		       (unsigned long long)c->max_pages, (unsigned long long)c->required,
		       (unsigned long long)c->anyof, (unsigned long long)c->excluded,
		       (unsigned long long)c->ret_mask);
}

/* Up to DIFF_MAX pages whose reporting (@state false) or new state differs */
static void show_pages(const struct call *c, long n_want, bool state)
{
	size_t i, shown = 0;

	for (i = 0; i < WIN_PAGES && shown < DIFF_MAX; i++) {
		uint64_t a = WIN_ADDR + i * PSZ, was = pm_categories(before[i]);
		uint64_t now_cat = pm_categories(after[i]);
		uint64_t ok = matched[i] && (c->flags & CLEAR) ? was & ~SD : was;
		long w = reported(want, n_want, a);
		long g = c->ret > 0 ? reported(vec, c->ret, a) : -1;

		if (state ? now_cat == ok : w == g)
			continue;
		shown++;
		ksft_print_msg("  page %#llx maps %x pagemap %s", (unsigned long long)a, perm[i],
			       scan_bits(was));
		printf(" -> %s", scan_bits(now_cat));	/* scan_bits(): one buffer */
		printf(" (expected %s);", scan_bits(ok));
		printf(" reported: expected %s,", w < 0 ? "no" : scan_bits(w));
		printf(" got %s\n", g < 0 ? "no" : scan_bits(g));
	}
}

/* The first regions of both sides, then the differing pages */
static void show_diff(const struct call *c, long n_want, uint64_t want_end)
{
	long k;

	ksft_print_msg("  expected %ld regions, walk_end %#llx; got %ld, walk_end %#llx\n",
		       n_want, (unsigned long long)want_end, c->ret,
		       (unsigned long long)c->walk_end);
	for (k = 0; k < DIFF_MAX / 4 && (k < n_want || k < c->ret); k++) {
		ksft_print_msg("  region %ld:", k);
		if (k < n_want)
			printf(" expected %#llx+%#llx %s;", (unsigned long long)want[k].start,
			       (unsigned long long)want[k].len, scan_bits(want[k].bitmap));
		if (k < c->ret)
			printf(" got %#llx+%#llx %s", (unsigned long long)vec[k].start,
			       (unsigned long long)vec[k].len, scan_bits(vec[k].bitmap));
		printf("\n");
	}
	show_pages(c, n_want, false);
	show_pages(c, n_want, true);
}

static void mismatch(int class, const struct call *c, long n_want, uint64_t want_end,
		     const char *what)
{
	cnt[class].mismatches++;
	if (nr_shown++ >= SHOW_MAX)
		return;
	ksft_print_msg("MISMATCH (%s): %s\n", classes[class], what);
	show_call(c);
	show_diff(c, n_want, want_end);
}

/* ---- one checked call ---- */

static void check_regions(int class, const struct call *c, long n, uint64_t want_end)
{
	cnt[class].checks++;
	if (c->ret < 0) {
		mismatch(class, c, n, want_end, strerror(errno));
		return;
	}
	if (c->ret != n || (n && memcmp(vec, want, n * sizeof(*vec))))
		mismatch(class, c, n, want_end, "regions differ");
}

/*
 * A CLEAR that covers a file THP in part splits it first (the spec's rule
 * 5), and splitting a file THP unmaps it: its pages stay in the page cache,
 * their soft-dirty bits in PTE markers, but read not present until the next
 * fault. Whether window page @i was in such a THP: its PMD-aligned block
 * held present file pages with consecutive frames from a PMD-aligned one,
 * and the range of @c starts or stops inside the block.
 */
static bool in_split_file_thp(const struct call *c, size_t i)
{
	uint64_t blk = ((uint64_t)page_addr(i)) & ~(HUGE_PAGES * PSZ - 1);
	uint64_t end = blk + HUGE_PAGES * PSZ;
	size_t first = (blk - WIN_ADDR) / PSZ, k;

	if (!(c->flags & CLEAR) || blk < WIN_ADDR || first + HUGE_PAGES > WIN_PAGES)
		return false;
	if (!(c->start > blk && c->start < end) && !(c->walk_end > blk && c->walk_end < end))
		return false;
	for (k = 0; k < HUGE_PAGES; k++)
		if (!(before[first + k] & PM_FILE))
			return false;
	return pm_huge(before + first, HUGE_PAGES);
}

/*
 * After the call: bit 55 of exactly the matched pages cleared if CLEAR, and
 * nothing else changed, but for the pages of a file THP split by the call,
 * which may read not present (in_split_file_thp()).
 */
static void check_state(const struct call *c, long n, uint64_t want_end)
{
	const uint64_t mapped = PAGE_IS_PRESENT | PAGE_IS_FILE;
	bool cleared_ok = true, rest_ok = true;
	size_t i;

	for (i = 0; i < WIN_PAGES; i++) {
		uint64_t was = pm_categories(before[i]), now_cat = pm_categories(after[i]);
		uint64_t want = (c->flags & CLEAR) && matched[i] ? was & ~SD : was;
		bool ok = now_cat == want ||
			  (now_cat == (want & ~mapped) && in_split_file_thp(c, i));

		if ((c->flags & CLEAR) && matched[i])
			cleared_ok &= ok;
		else
			rest_ok &= ok;
	}
	if (c->flags & CLEAR) {
		cnt[CLEARED].checks++;
		if (!cleared_ok)
			mismatch(CLEARED, c, n, want_end, "a matched page is not clean as it was");
	}
	cnt[UNCHANGED].checks++;
	if (!rest_ok)
		mismatch(UNCHANGED, c, n, want_end, "a page not cleared changed");
}

/* Make call @c and read pagemap into after[] at once; returns its errno */
static int make_call(struct call *c)
{
	int err;

	c->ret = scan_call(pm, c->flags, (void *)c->start, c->len, c->vec_len ? vec : NULL,
			   c->vec_len, c->max_pages, c->required, c->anyof, c->excluded,
			   c->ret_mask, &c->walk_end);
	err = errno;
	read_pagemap(after);
	nr_scans++;
	return err;
}

static void checked_call(struct call *c, int class)
{
	uint64_t want_end;
	long n;

	read_maps();
	read_pagemap(before);
	n = expect(c, &want_end);
	errno = make_call(c);
	nr_pages += (((c->start + c->len + PSZ - 1) & ~(PSZ - 1)) - c->start) / PSZ;
	check_regions(class, c, n, want_end);
	cnt[WALK_END].checks++;
	if (c->ret >= 0 && c->walk_end != want_end)
		mismatch(WALK_END, c, n, want_end, "walk_end differs");
	check_state(c, n, want_end);
}

/* ---- random arguments ---- */

/* A random page range of the arena: first page (arena-relative) and count */
static size_t rand_range(size_t *first)
{
	static const size_t max_len[] = { 16, 256, ARENA_PAGES };
	size_t n;

	*first = rand_below(ARENA_PAGES);
	n = 1 + rand_below(max_len[rand_below(3)]);
	return n < ARENA_PAGES - *first ? n : ARENA_PAGES - *first;
}

static uint64_t rand_mask(unsigned int one_in_n)
{
	uint64_t m = 0;

	for (int b = 0; b < 4; b++)
		if (one_in(one_in_n))
			m |= 1ULL << b;
	return m;
}

/* A valid call on a random part of the window (spec "What one call does") */
static void random_call(struct call *c, bool clear)
{
	size_t first = rand_below(WIN_PAGES), n = 1 + rand_below(WIN_PAGES - first);

	memset(c, 0, sizeof(*c));
	if (one_in(4))
		n = 1 + rand_below(n < 64 ? n : 64);
	c->start = WIN_ADDR + first * PSZ;
	c->len = n * PSZ - (one_in(4) ? rand_below(PSZ) : 0);	/* end rounds up */
	if (one_in(64))
		c->len = 0;
	c->flags = clear ? CLEAR : 0;
	if (!clear || !one_in(3)) {
		static const uint64_t lens[] = { 1, 2, 3, 8, WIN_PAGES };

		c->vec_len = 1 + rand_below(lens[rand_below(5)]);
	}
	if (one_in(2))
		c->max_pages = 1 + rand_below(one_in(2) ? 8 : WIN_PAGES);
	if (clear) {
		/* with CLEAR only soft-dirty in required/anyof, excluded 0 */
		c->required = one_in(2) ? SD : 0;
		c->anyof = one_in(3) ? SD : 0;
	} else {
		c->required = rand_mask(5) & cats;
		c->anyof = one_in(3) ? rand_mask(2) & cats : 0;
		c->excluded = rand_mask(6) & cats & ~c->required;
		if (one_in(8))	/* a filter nothing passes */
			c->excluded = rand_mask(2) & cats;
	}
	c->ret_mask = one_in(4) ? cats : rand_below(16) & cats;
}

/*
 * Without soft-dirty: a valid call turned into one that CLEARs or has
 * PAGE_IS_SOFTDIRTY in one of its masks.  Spec "Compatibility": EINVAL;
 * "Errors": a failed call writes no output and changes nothing.
 */
static void rejected_call(struct call *c, const char *why)
{
	static struct page_region pattern[WIN_PAGES];
	bool same_vec, same_state = true;
	const char *what;
	int err;

	random_call(c, false);
	c->why = why;
	memset(matched, 0, sizeof(matched));
	switch (rand_below(5)) {
	case 0: c->flags |= CLEAR; break;
	case 1: c->required |= SD; break;
	case 2: c->anyof |= SD; break;
	case 3: c->excluded |= SD; break;
	default: c->ret_mask |= SD;
	}
	read_pagemap(before);
	memset(pattern, 0xa5, sizeof(pattern));
	memcpy(vec, pattern, sizeof(vec));
	err = make_call(c);
	same_vec = !memcmp(vec, pattern, sizeof(vec));
	for (size_t i = 0; i < WIN_PAGES; i++)
		same_state &= pm_categories(before[i]) == pm_categories(after[i]);
	cnt[REJECTED].checks++;
	if (c->ret != -1 || err != EINVAL)
		what = c->ret < 0 ? strerror(err) : "it succeeded";
	else if (c->walk_end || !same_vec)
		what = "it wrote vec or walk_end";
	else if (!same_state)
		what = "it changed a page";
	else
		return;
	c->ret = -1;	/* vec holds nothing to show */
	mismatch(REJECTED, c, 0, 0, what);
}

/* ---- the layout's operations ---- */

static sigjmp_buf fault_jmp;

static void on_fault(int sig)
{
	siglongjmp(fault_jmp, sig);
}

/*
 * Write or read @n pages from arena page @first where maps allows it.  A
 * fault (SIGBUS past a file's end) is caught and counted, not fatal.
 */
static void touch(size_t first, size_t n, bool write)
{
	static volatile size_t i;
	volatile char *p;

	read_maps();
	for (i = first; i < first + n; i++) {
		size_t w = GUARD_PAGES + i;

		if (!(perm[w] & (write ? CAN_WRITE : CAN_READ)))
			continue;
		p = page_addr(w) + rand_below(PSZ);
		if (sigsetjmp(fault_jmp, 1)) {
			nr_faults++;
			continue;
		}
		if (write)
			*p = (char)i;
		else
			(void)*p;
	}
}

/* A fresh mapping of a random kind: the layout's building block */
static void op_map(size_t first, size_t n)
{
	static const char *const kinds[] = { "anon", "shared-anon", "memfd", "file",
					     "private-file" };
	int kind = rand_below(5), prot = one_in(4) ? PROT_READ : PROT_READ | PROT_WRITE;
	int flags = MAP_FIXED | (kind == 0 || kind == 4 ? MAP_PRIVATE : MAP_SHARED);
	int fd = kind == 2 ? memfd : kind >= 3 ? filefd : -1;

	if (fd < 0)
		flags |= MAP_ANONYMOUS;
	log_op(" map-%s%s(%zu+%zu)", kinds[kind], prot & PROT_WRITE ? "" : "-ro", first, n);
	if (mmap(arena + first * PSZ, n * PSZ, prot, flags, fd,
		 fd < 0 ? 0 : first * PSZ) == MAP_FAILED)
		fail("mmap MAP_FIXED in the arena");
}

/* mremap part of a VMA: move it (MREMAP_FIXED, in the arena) or resize in place */
static void op_mremap(size_t first, size_t n)
{
	size_t w = GUARD_PAGES + first, len = n, dest, new_len;
	void *to;

	read_maps();
	/* mremap needs the old range in one VMA: stop at its first change */
	for (len = 1; len < n && perm[w + len] == perm[w]; len++)
		;
	if (!(perm[w] & IN_VMA))
		return;
	new_len = 1 + rand_below(2 * len < ARENA_PAGES ? 2 * len : ARENA_PAGES);
	if ((perm[w] & SHARED) && new_len > len)	/* a grown shmem tail would SIGBUS */
		new_len = len;
	if (one_in(3)) {
		if (first + new_len > ARENA_PAGES)
			new_len = ARENA_PAGES - first;
		log_op(" mremap(%zu+%zu->%zu)%s", first, len, new_len,
		       mremap(arena + first * PSZ, len * PSZ, new_len * PSZ, 0) ==
		       MAP_FAILED ? "=fail" : "");
		return;
	}
	dest = rand_below(ARENA_PAGES - new_len + 1);
	to = arena + dest * PSZ;
	log_op(" mremap(%zu+%zu->%zu+%zu)%s", first, len, dest, new_len,
	       mremap(arena + first * PSZ, len * PSZ, new_len * PSZ,
		      MREMAP_MAYMOVE | MREMAP_FIXED, to) == MAP_FAILED ? "=fail" : "");
}

/* AnonHugePages of the process: whether THP is really exercised */
static unsigned long anon_huge_kb(void)
{
	FILE *f = fopen("/proc/self/smaps_rollup", "r");
	unsigned long kb = 0;
	char *line = NULL;
	size_t cap = 0;

	if (!f)
		return 0;
	while (getline(&line, &cap, f) > 0)
		if (sscanf(line, "AnonHugePages: %lu", &kb) == 1)
			break;
	free(line);
	fclose(f);
	return kb;
}

/* A THP in a random 2 MiB slot: fault one in, maybe collapse, then keep khugepaged out */
static void op_thp(void)
{
	size_t first = rand_below(ARENA_PAGES / HUGE_PAGES) * HUGE_PAGES;
	char *p = arena + first * PSZ;
	bool fresh = one_in(2), collapse = one_in(2), zero = one_in(4) && huge_zero;

	unsigned long shmem_huge = vmstat("nr_shmem_hugepages");

	log_op(" thp%s%s%s(%zu)", fresh ? "-fresh" : "", zero ? "-zero" : "",
	       collapse ? "-collapse" : "", first);
	if (fresh && mmap(p, HUGE_PAGES * PSZ, PROT_READ | PROT_WRITE,
			  MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED)
		fail("mmap a THP slot");
	madvise(p, HUGE_PAGES * PSZ, MADV_HUGEPAGE);
	touch(first, 1, !zero);		/* a read faults in the huge zero page */
	if (!zero)
		touch(first + rand_below(HUGE_PAGES - 32), 1 + rand_below(32), true);
	if (collapse)
		madvise(p, HUGE_PAGES * PSZ, MADV_COLLAPSE);	/* may fail */
	madvise(p, HUGE_PAGES * PSZ, MADV_NOHUGEPAGE);
	nr_thp_ops++;
	nr_thp += anon_huge_kb() > 0;
	nr_shmem_thp += vmstat("nr_shmem_hugepages") > shmem_huge;
}

/*
 * fork: the child writes pages (COW for private ones) and exits.  At most
 * FORK_WRITES of them: copying more costs time and tests nothing new.
 */
static void op_fork(size_t first, size_t n)
{
	pid_t pid;
	int status;

	if (n > FORK_WRITES) {
		first += rand_below(n - FORK_WRITES + 1);
		n = FORK_WRITES;
	}
	log_op(" fork-write(%zu+%zu)", first, n);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		fail("fork");
	if (!pid) {
		touch(first, n, true);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid)
		fail("waitpid");
}

static void op_clear_refs(void)
{
	int fd = open("/proc/self/clear_refs", O_WRONLY);

	log_op(" clear_refs");
	if (fd < 0 || write(fd, "4", 1) != 1)
		fail("write 4 to /proc/self/clear_refs");
	close(fd);
}

static void op_scan_clear(void)
{
	struct call c;

	if (no_sd) {
		rejected_call(&c, "a rejected call in the layout's operations");
		log_op(" rejected-scan(flags %#llx,req %llx,any %llx,excl %llx,ret %llx)",
		       (unsigned long long)c.flags, (unsigned long long)c.required,
		       (unsigned long long)c.anyof, (unsigned long long)c.excluded,
		       (unsigned long long)c.ret_mask);
		return;
	}
	random_call(&c, true);
	c.why = "CLEAR in the layout's operations";
	log_op(" scan-clear(%#llx+%#llx,vec_len %llu,max %llu,req %llx,any %llx)",
	       (unsigned long long)c.start, (unsigned long long)c.len,
	       (unsigned long long)c.vec_len, (unsigned long long)c.max_pages,
	       (unsigned long long)c.required, (unsigned long long)c.anyof);
	checked_call(&c, REGIONS);
}

static void op_madvise(size_t first, size_t n, int advice, const char *name)
{
	log_op(" %s(%zu+%zu)", name, first, n);
	madvise(arena + first * PSZ, n * PSZ, advice);	/* ENOMEM over holes: fine */
}

static void op_mprotect(size_t first, size_t n)
{
	static const int prots[] = { PROT_NONE, PROT_READ, PROT_READ | PROT_WRITE };
	int k = rand_below(3);

	log_op(" mprotect-%d(%zu+%zu)", k, first, n);
	mprotect(arena + first * PSZ, n * PSZ, prots[k]);	/* ENOMEM over holes: fine */
}

/* One random operation; the weights favour mappings, writes and swap-out */
static void random_op(void)
{
	size_t first, n = rand_range(&first);

	switch (rand_below(20)) {
	case 0: case 1: case 2: case 3:
		op_map(first, n);
		break;
	case 4:
		log_op(" munmap(%zu+%zu)", first, n);
		munmap(arena + first * PSZ, n * PSZ);
		break;
	case 5:
		op_mprotect(first, n);
		break;
	case 6:
		op_mremap(first, n);
		break;
	case 7: case 8: case 9:
		log_op(" write(%zu+%zu)", first, n);
		touch(first, n, true);
		break;
	case 10:
		log_op(" read(%zu+%zu)", first, n);
		touch(first, n, false);
		break;
	case 11: case 12: case 13:
		if (one_in(2)) {	/* most of the arena: swap entries survive more ops */
			first = rand_below(ARENA_PAGES / 4);
			n = ARENA_PAGES - first;
		}
		op_madvise(first, n, MADV_PAGEOUT, "pageout");
		break;
	case 14:
		op_madvise(first, n, MADV_DONTNEED, "dontneed");
		break;
	case 15:
		op_thp();
		break;
	case 16:
		op_fork(first, n);
		break;
	case 17: case 18:
		op_scan_clear();
		break;
	default:
		op_clear_refs();
	}
}

/* ---- layouts ---- */

/* The arena back to one PROT_NONE reservation, the files back to holes */
static void reset_arena(void)
{
	if (munmap(win, WIN_PAGES * PSZ))
		fail("munmap the window");
	if (mmap(arena, ARENA_PAGES * PSZ, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) != arena)
		fail("mmap the arena at its fixed address");
	if (ftruncate(memfd, 0) || ftruncate(memfd, FILE_SIZE) ||
	    ftruncate(filefd, 0) || ftruncate(filefd, FILE_SIZE))
		fail("reset the backing files");
}

/* What the complete scan saw, from the pagemap read before it */
static void count_coverage(void)
{
	for (size_t i = 0; i < WIN_PAGES; i++) {
		seen_holes += !(perm[i] & IN_VMA);
		for (int b = 0; b < 4; b++)
			seen[b] += (perm[i] & IN_VMA) && (pm_categories(before[i]) & (1ULL << b));
	}
}

static void run_layout(size_t index)
{
	size_t i, nops;
	struct call c;

	layout_seed = seed + index;
	rnd = layout_seed * 0x9e3779b97f4a7c15ULL | 1;	/* never 0 */
	oplog_len = 0;
	oplog[0] = '\0';
	reset_arena();
	nops = 4 + rand_below(MAX_OPS - 3);	/* 4..MAX_OPS */
	for (i = 0; i < nops; i++)
		random_op();

	/* every page of the window, categories unfiltered */
	memset(&c, 0, sizeof(c));
	c.start = WIN_ADDR;
	c.len = WIN_PAGES * PSZ;
	c.vec_len = WIN_PAGES;
	c.ret_mask = cats;
	c.why = "complete unfiltered scan";
	checked_call(&c, PAGES);
	count_coverage();

	for (i = 0; i < scans; i++) {
		bool clear = one_in(3);

		if (clear && no_sd) {
			rejected_call(&c, "rejected random scan");
			continue;
		}
		random_call(&c, clear);
		c.why = "random scan";
		checked_call(&c, REGIONS);
	}
	nr_layouts++;
}

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
