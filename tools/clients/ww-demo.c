// SPDX-License-Identifier: GPL-2.0
/*
 * ww-demo: GetWriteWatch() on Linux, shown with libwritewatch (make run).
 *
 *   ww-demo
 *
 * Watches a 16-page region, writes pages 1, 2, 5 and 9, then asks for at
 * most 2 written pages with WRITE_WATCH_FLAG_RESET (the lowest two are
 * returned and reset, the other two stay written), asks again, and shows that
 * ResetWriteWatch() leaves nothing.  Done with the PAGEMAP_SCAN backend and
 * with the mprotect + SIGSEGV one (Wine's fallback); the lists must agree.
 * Exit: 0 ok, 1 an error or the backends disagree.
 */
#include "libwritewatch.h"
#include "scan.h"

#include <stdio.h>
#include <string.h>

#define NPAGES	16
#define PG	WW_GRANULARITY

static const int written[] = { 1, 2, 5, 9 };

/* GetWriteWatch(flags, region, capacity): print and append the page numbers. */
static size_t get(const char *what, unsigned long flags, char *p, uintptr_t cap,
		  int *out)
{
	void *addr[NPAGES];
	uint32_t gran;
	uintptr_t i;

	if (ww_get(flags, p, NPAGES * PG, addr, &cap, &gran))
		fail("GetWriteWatch");
	printf("  %-44s ->", what);
	for (i = 0; i < cap; i++) {
		out[i] = (int)(((char *)addr[i] - p) / PG);
		printf(" page %d", out[i]);
	}
	printf("%s\n", cap ? "" : " nothing");
	return cap;
}

/* The scenario on one backend; fills seen[] with every page listed, in order. */
static size_t scenario(enum ww_backend b, const char *name, int *seen)
{
	size_t n = 0, i;
	char *p;

	if (ww_init(b))
		fail(name);
	printf("%s%s:\n", name, b == WW_BACKEND_PAGEMAP && ww_nrr() ?
	       " (with PAGEMAP_NO_REUSED_REGIONS)" : "");
	p = ww_alloc(NPAGES * PG);
	if (!p)
		fail("ww_alloc");
	for (i = 0; i < sizeof(written) / sizeof(written[0]); i++)
		p[written[i] * PG + 100] = 1;
	printf("  wrote pages 1, 2, 5, 9 of a fresh 16-page region\n");
	n += get("GetWriteWatch(RESET, capacity 2)", WW_FLAG_RESET, p, 2, seen + n);
	n += get("GetWriteWatch(RESET, capacity 16)", WW_FLAG_RESET, p, NPAGES, seen + n);
	p[3 * PG] = 1;
	printf("  wrote page 3, then ResetWriteWatch()\n");
	if (ww_reset(p, NPAGES * PG))
		fail("ResetWriteWatch");
	n += get("GetWriteWatch(0, capacity 16)", 0, p, NPAGES, seen + n);
	if (ww_free(p))
		fail("ww_free");
	return n;
}

int main(void)
{
	int a[3 * NPAGES], b[3 * NPAGES];
	size_t na, nb;

	na = scenario(WW_BACKEND_PAGEMAP, "PAGEMAP_SCAN backend", a);
	nb = scenario(WW_BACKEND_MPROTECT, "mprotect + SIGSEGV backend (Wine's fallback)", b);
	if (na != nb || memcmp(a, b, na * sizeof(a[0]))) {
		printf("ww-demo: the backends disagree\n");
		return 1;
	}
	printf("ww-demo: both backends listed the same %zu pages\n", na);
	return 0;
}
