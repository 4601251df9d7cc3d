// SPDX-License-Identifier: GPL-2.0
/* oracle: what the kernel says (maps, pagemap), what a call should return, the checks */
#include "oracle.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

uint8_t perm[WIN_PAGES];
uint64_t before[WIN_PAGES], after[WIN_PAGES];
struct page_region vec[WIN_PAGES], want[WIN_PAGES];
bool matched[WIN_PAGES];
struct counts cnt[NR_CLASSES];
uint64_t nr_scans, nr_pages;

/* ---- what the kernel says: maps and pagemap of the window ---- */

/* perm[] from /proc/self/maps: the window holds only the arena's VMAs */
void read_maps(void)
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
	return scan_matches(c->required, c->anyof, c->excluded, cat);
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

void checked_call(struct call *c, int class)
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


/*
 * Without soft-dirty: a valid call turned into one that CLEARs or has
 * PAGE_IS_SOFTDIRTY in one of its masks.  Spec "Compatibility": EINVAL;
 * "Errors": a failed call writes no output and changes nothing.
 */
void rejected_call(struct call *c, const char *why)
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
