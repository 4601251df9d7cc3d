/* SPDX-License-Identifier: GPL-2.0 */
/* What the parts of oracle share; oracle.c says what it does. */
#ifndef ORACLE_H
#define ORACLE_H

#include "scan.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* The check classes, one TAP result each (oracle.c names them) */
enum { PAGES, REGIONS, WALK_END, CLEARED, UNCHANGED, REJECTED, NR_CLASSES };
extern const char *const classes[NR_CLASSES];

/* One call's arguments and what it returned */
struct call {
	uint64_t flags, start, len, vec_len, max_pages;
	uint64_t required, anyof, excluded, ret_mask;
	long ret;
	uint64_t walk_end;
	const char *why;	/* the operation or scan it belongs to */
};

struct counts {
	uint64_t checks, mismatches;
};

static char *const win = (char *)WIN_ADDR;
static char *const arena = (char *)ARENA_ADDR;

static inline char *page_addr(size_t win_page)
{
	return win + win_page * PSZ;
}

/* oracle.c: the run's options, and the files setup() opened */
extern size_t layouts, scans;
extern bool huge_zero;		/* THP operations may read (huge zero page) */
extern uint64_t seed;
extern const char *no_sd;	/* why the kernel has no soft-dirty, or NULL */
extern uint64_t cats;		/* the categories the kernel accepts in masks */
extern int pm, memfd, filefd;

/* oracle-check.c: what the kernel says, what it should say, and the checks */
extern uint8_t perm[WIN_PAGES];		/* IN_VMA | CAN_* | SHARED */
extern uint64_t before[WIN_PAGES], after[WIN_PAGES];	/* pagemap */
extern struct page_region vec[WIN_PAGES], want[WIN_PAGES];
extern bool matched[WIN_PAGES];
extern struct counts cnt[NR_CLASSES];
extern uint64_t nr_scans, nr_pages;
void read_maps(void);
void checked_call(struct call *c, int class);
void rejected_call(struct call *c, const char *why);

/* oracle-report.c: a mismatch, counted and the first ones shown */
void mismatch(int class, const struct call *c, long n_want, uint64_t want_end,
	      const char *what);

/* oracle-layout.c: random arguments, the layout's operations, layouts */
extern uint64_t layout_seed;
extern char oplog[16384];
extern uint64_t nr_layouts, nr_faults, nr_thp, nr_thp_ops;
extern uint64_t nr_shmem_thp;	/* THP operations that made a shmem THP */
extern uint64_t seen[4], seen_holes;	/* coverage: pages of each category, holes */
uint64_t rand_below(uint64_t n);
void random_call(struct call *c, bool clear);
void on_fault(int sig);
void run_layout(size_t index);

#endif
