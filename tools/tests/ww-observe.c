// SPDX-License-Identifier: GPL-2.0
/* ww-conformance: what a case observes, written down as text (ww_get() results, errnos) */
#include "ww-conformance.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *R;			/* the current case's region: indices are relative to it */
char obs[OBS_MAX];
bool obs_full;
const char *skip_reason;	/* set by a case that cannot run */

/* Append one observation, "; "-separated */
void note(const char *fmt, ...)
{
	size_t len = strlen(obs);
	va_list ap;
	int n;

	if (len && len + 2 < sizeof(obs)) {
		strcpy(obs + len, "; ");
		len += 2;
	}
	va_start(ap, fmt);
	n = vsnprintf(obs + len, sizeof(obs) - len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(obs) - len)
		obs_full = true;
}

/* A call's result: "ok" or its errno */
void note_ret(const char *what, int failed)
{
	note("%s %s", what, failed ? errname(errno) : "ok");
}

/* Page indices in R, or a summary "N pages A..B step S" for long lists */
static void note_pages(const char *what, void **addr, uintptr_t n)
{
	char list[LIST_MAX * 8 + 1] = "";
	long idx[MAX_ADDR];
	uintptr_t i;
	bool even = true;

	for (i = 0; i < n; i++) {
		idx[i] = ((char *)addr[i] - R) / PG;
		if ((uintptr_t)addr[i] % PG || (i && addr[i] <= addr[i - 1])) {
			note("%s: address %p not page aligned or not ascending", what, addr[i]);
			return;
		}
		even &= i < 2 || idx[i] - idx[i - 1] == idx[1] - idx[0];
	}
	if (n > LIST_MAX) {
		if (even)
			note("%s %lu pages %ld..%ld step %ld", what, (unsigned long)n,
			     idx[0], idx[n - 1], idx[1] - idx[0]);
		else
			note("%s %lu pages %ld..%ld, irregular", what, (unsigned long)n,
			     idx[0], idx[n - 1]);
		return;
	}
	for (i = 0; i < n; i++)
		sprintf(list + strlen(list), "%s%ld", i ? " " : "", idx[i]);
	note("%s [%s]", what, list);
}

/* ww_get() with raw arguments; checks what it must not or must write */
void get_raw(unsigned long flags, void *base, size_t size, void **addr,
	     uintptr_t *count, uint32_t *gran)
{
	const char *what = flags & WW_FLAG_RESET ? "get+reset" : "get";
	uintptr_t cap = count ? *count : 0;

	if (gran)
		*gran = 0;
	if (ww_get(flags, base, size, addr, count, gran)) {
		note("%s %s", what, errname(errno));
		if ((count && *count != cap) || (gran && *gran))
			note("failed get wrote count %lu granularity %u",
			     count ? (unsigned long)*count : 0UL, gran ? *gran : 0);
		return;
	}
	if (*gran != 4096 || *count > cap)
		note("granularity %u count %lu of %lu", *gran, (unsigned long)*count,
		     (unsigned long)cap);
	else
		note_pages(what, addr, *count);
}

void get(unsigned long flags, void *base, size_t size, uintptr_t cap)
{
	void *addr[MAX_ADDR];
	uint32_t gran;

	get_raw(flags, base, size, addr, &cap, &gran);
}

/* Pages [first, first + n) of R, with a capacity for all of them */
void get_pages(unsigned long flags, size_t first, size_t n)
{
	get(flags, R + first * PG, n * PG, MAX_ADDR);
}

void reset(void *base, size_t size)
{
	note_ret("reset", ww_reset(base, size));
}

void set_region(size_t pages)
{
	R = ww_alloc(pages * PG);
	if (!R)
		fail("ww_alloc");
}

/* A write at byte @off of page @page of R */
void wr(size_t page, size_t off)
{
	((volatile char *)R)[page * PG + off] = 1;
}
