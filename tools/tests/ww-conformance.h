/* SPDX-License-Identifier: GPL-2.0 */
/* What the parts of ww-conformance share; ww-conformance.c says what it does. */
#ifndef WW_CONFORMANCE_H
#define WW_CONFORMANCE_H

#include "libwritewatch.h"
#include "scan.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PG		WW_GRANULARITY
#define OBS_MAX		500	/* a record stays below PIPE_BUF: one write() */
#define MAX_ADDR	1024	/* addresses a get can return */
#define LIST_MAX	8	/* longer results are summarised */
#define MANY		1024	/* pages of the "many pages" case: 4 MiB, THP-able */

struct tcase {
	const char *name;
	void (*run)(void);
	const char *expect;		/* what every backend observes */
	const char *expect_mprotect;	/* non-NULL: mprotect differs by design */
};

#define NR_CASES	18	/* ww-cases.c checks it against cases[] */

/* ww-observe.c: what a case observes, as text */
extern char *R;			/* the current case's region: indices are relative to it */
extern char obs[OBS_MAX];
extern bool obs_full;
extern const char *skip_reason;	/* set by a case that cannot run */
void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void note_ret(const char *what, int failed);
void get_raw(unsigned long flags, void *base, size_t size, void **addr,
	     uintptr_t *count, uint32_t *gran);
void get(unsigned long flags, void *base, size_t size, uintptr_t cap);
void get_pages(unsigned long flags, size_t first, size_t n);
void reset(void *base, size_t size);
void set_region(size_t pages);
void wr(size_t page, size_t off);

/* ww-cases.c: the cases */
extern const struct tcase cases[NR_CASES];

#endif
