// SPDX-License-Identifier: GPL-2.0
/* oracle: a mismatch printed with the layout, the call and a page-by-page diff */
#include "oracle.h"

#include <stdio.h>

static uint64_t nr_shown;

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
	diag("  layout seed %llu (reproduce: --seed %llu --layouts 1 --scans %zu); ops:%s\n",
	     (unsigned long long)layout_seed, (unsigned long long)layout_seed, scans,
	     oplog);
	diag("  %s: flags %#llx start %#llx len %#llx vec_len %llu max_pages %llu "
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
		diag("  page %#llx maps %x pagemap %s", (unsigned long long)a, perm[i],
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

	diag("  expected %ld regions, walk_end %#llx; got %ld, walk_end %#llx\n",
	     n_want, (unsigned long long)want_end, c->ret,
	     (unsigned long long)c->walk_end);
	for (k = 0; k < DIFF_MAX / 4 && (k < n_want || k < c->ret); k++) {
		diag("  region %ld:", k);
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

void mismatch(int class, const struct call *c, long n_want, uint64_t want_end,
	      const char *what)
{
	cnt[class].mismatches++;
	if (nr_shown++ >= SHOW_MAX)
		return;
	diag("MISMATCH (%s): %s\n", classes[class], what);
	show_call(c);
	show_diff(c, n_want, want_end);
}
