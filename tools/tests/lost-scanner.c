// SPDX-License-Identifier: GPL-2.0
/* lostwrite: the race variants' extra scanners, GET and GET+CLEAR, and their checks */
#define _GNU_SOURCE
#include "lostwrite.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

unsigned long scanner_calls, scanner_enomem, scanner_bad;

/* One call's parameters */
struct query {
	uint64_t flags, max_pages, required, anyof, excluded, ret;
	size_t vec_len;		/* 0: no vec */
};

#define ALL_CATEGORIES	(PAGE_IS_SOFTDIRTY | PAGE_IS_FILE | PAGE_IS_PRESENT | PAGE_IS_SWAPPED)

/* Random parameters: any for a GET, those the spec allows for a CLEAR */
static struct query random_query(uint64_t *rnd, bool clear)
{
	struct query q = { .flags = V->nrr ? PAGEMAP_NO_REUSED_REGIONS : 0 };

	q.vec_len = 1 + xorshift(rnd) % MAX_VEC;
	q.max_pages = xorshift(rnd) % 2 ? 0 : 1 + xorshift(rnd) % SPAN;
	q.ret = xorshift(rnd) & ALL_CATEGORIES;
	if (!clear) {
		/* Few bits mostly: a query that nothing matches checks little */
		q.required = xorshift(rnd) & xorshift(rnd) & ALL_CATEGORIES;
		q.anyof = xorshift(rnd) & xorshift(rnd) & ALL_CATEGORIES;
		q.excluded = xorshift(rnd) & xorshift(rnd) & ~q.required & ALL_CATEGORIES;
		return q;
	}
	q.flags |= PAGEMAP_SOFTDIRTY_CLEAR;
	if (xorshift(rnd) % 3 == 0)
		q.required = PAGE_IS_SOFTDIRTY;
	else if (xorshift(rnd) % 2)
		q.anyof = PAGE_IS_SOFTDIRTY;
	if (xorshift(rnd) % 8 == 0)
		q.vec_len = 0;
	return q;
}

/* A call's output the spec does not allow: counted, the first few shown */
static bool bad(const char *who, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (__atomic_fetch_add(&scanner_bad, 1, __ATOMIC_RELAXED) < SHOW_MAX)
		diag("%s: %s scanner: %s\n", V->name, who, msg);
	return false;
}

/* Whether [@s, @e) meets a hole, which nothing may be mapped in but by chance */
static bool in_hole(uint64_t s, uint64_t e)
{
	char *holes[] = { churn - psz, region + npages * psz };

	for (size_t i = 0; i < 2; i++)
		if (s < (uintptr_t)holes[i] + psz && e > (uintptr_t)holes[i] &&
		    !count_vmas(holes[i], psz))
			return true;
	return false;
}

/* Whether one region's bitmap is one @q can report */
static bool bitmap_ok(const struct query *q, uint64_t b)
{
	return !(b & ~q->ret) && (b & q->required & q->ret) == (q->required & q->ret) &&
	       !(b & q->excluded & q->ret) &&
	       (!q->anyof || (q->anyof & ~q->ret) || (b & q->anyof));
}

/*
 * Check a call of @q over [@s, @e) that returned @n and @end: whatever
 * changed in the range meanwhile, the output must be one the spec allows
 */
static bool check_output(const char *who, const struct query *q, uint64_t s, uint64_t e,
			 const struct page_region *vec, long n, uint64_t end)
{
	uint64_t last = s, pages = 0;
	long i;

	if (n < 0 && errno == ENOMEM) {
		/* Allowed (a VMA split failed), but the output means nothing */
		__atomic_add_fetch(&scanner_enomem, 1, __ATOMIC_RELAXED);
		return false;
	}
	if (n < 0)
		return bad(who, "error %d (%s)", errno, strerror(errno));
	if (end % psz || end <= s || end > e)
		return bad(who, "walk_end %#llx outside (%#llx, %#llx]",
			   (unsigned long long)end, (unsigned long long)s, (unsigned long long)e);
	if ((size_t)n > q->vec_len)
		return bad(who, "%ld regions for a vec_len of %zu", n, q->vec_len);
	for (i = 0; i < n; i++) {
		const struct page_region *r = &vec[i];

		if (r->start % psz || !r->len || r->len % psz || r->start < last ||
		    r->start + r->len > end || r->start + r->len < r->start)
			return bad(who, "region %ld [%#llx, +%#llx) unaligned, unsorted or out "
				   "of [%#llx, %#llx)", i, (unsigned long long)r->start,
				   (unsigned long long)r->len, (unsigned long long)s,
				   (unsigned long long)end);
		if (i && r->start == last && r->bitmap == vec[i - 1].bitmap)
			return bad(who, "regions %ld and %ld touch with equal bitmaps", i - 1, i);
		if (!bitmap_ok(q, r->bitmap))
			return bad(who, "region %ld bitmap %#llx does not match the masks", i,
				   (unsigned long long)r->bitmap);
		if (in_hole(r->start, r->start + r->len))
			return bad(who, "region %ld [%#llx, +%#llx) in a hole", i,
				   (unsigned long long)r->start, (unsigned long long)r->len);
		last = r->start + r->len;
		pages += r->len / psz;
	}
	if (q->max_pages && pages > q->max_pages)
		return bad(who, "%llu pages reported for max_pages %llu",
			   (unsigned long long)pages, (unsigned long long)q->max_pages);
	if (q->vec_len && end < e && (size_t)n < q->vec_len &&
	    !(q->max_pages && pages == q->max_pages))
		return bad(who, "stopped at %#llx before %#llx with %ld of %zu regions and "
			   "%llu pages (max_pages %llu)", (unsigned long long)end,
			   (unsigned long long)e, n, q->vec_len, (unsigned long long)pages,
			   (unsigned long long)q->max_pages);
	return true;
}

/* Scan [@s, @e) a call at a time from walk_end, random parameters each */
static void scan_range(uint64_t *rnd, char *s, char *e, bool clear, const char *who)
{
	struct page_region vec[MAX_VEC];
	struct query q;
	uint64_t end;
	long n;

	while (s < e && !stop) {
		q = random_query(rnd, clear);
		n = scan_call(pm, q.flags, s, e - s, q.vec_len ? vec : NULL, q.vec_len,
			      q.max_pages, q.required, q.anyof, q.excluded, q.ret, &end);
		__atomic_add_fetch(&scanner_calls, 1, __ATOMIC_RELAXED);
		if (!check_output(who, &q, (uintptr_t)s, (uintptr_t)e, vec, n, end))
			return;
		s = (char *)(uintptr_t)end;
	}
}

/*
 * A scanner: GET only over the holes, the churn part and the region, or
 * (@arg) GET+CLEAR over the first hole and the churn part only: a CLEAR in
 * the region would take reports from the collector that checks them
 */
static void *scanner(void *arg)
{
	bool clear = arg;
	char *lo = churn - psz, *hi = clear ? region : region + (npages + 1) * psz;
	size_t pages = (hi - lo) / psz, from, to;
	uint64_t rnd = seed + (clear ? 55 : 33);

	while (!stop) {
		from = xorshift(&rnd) % pages;
		to = from + 1 + xorshift(&rnd) % (pages - from);
		scan_range(&rnd, lo + from * psz, lo + to * psz, clear,
			   clear ? "GET+CLEAR" : "GET");
		usleep(1000);
	}
	return NULL;
}

/* The race variants' parking place and scanners, GET and GET+CLEAR */
void start_race(pthread_t *scanners)
{
	parking = mmap(NULL, churn_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		       -1, 0);
	if (parking == MAP_FAILED)
		fail("mmap the parking place");
	for (uintptr_t clear = 0; clear < 2; clear++)
		if ((errno = pthread_create(&scanners[clear], NULL, scanner, (void *)clear)))
			fail("pthread_create a scanner");
}

/* Join the race variants' scanners; whether they found nothing wrong */
bool stop_race(pthread_t *scanners)
{
	for (size_t i = 0; i < 2; i++)
		pthread_join(scanners[i], NULL);
	diag("%s: %lu churn operations (%lu moves), %lu scanner calls "
	     "(%lu ENOMEM), %lu bad outputs\n", V->name, churn_ops, churn_moves,
	     scanner_calls, scanner_enomem, scanner_bad);
	return !scanner_bad;
}
