/* SPDX-License-Identifier: GPL-2.0 */
/* What the parts of pagemap-bench share; pagemap-bench.c says what it does. */
#ifndef PAGEMAP_BENCH_H
#define PAGEMAP_BENCH_H

#include "scan.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MIB		(1024 * 1024UL)
#define HUGE_SIZE	(2 * MIB)
#define CLUSTER		64		/* pages of a cluster of the clustered pattern */
#define CHUNK		4096		/* pagemap entries per pread */
#define SEED		0x9e3779b97f4a7c15ULL
#define SLOW_WRITES	524288		/* most timed+untimed writes per combo, mprotect/uffd */
#define LOOP_ROUNDS	3		/* rounds of the tracking loop */
#define MAX_RECS	4096		/* records of a run (about 1600 with 5 sizes) */
#define SPARSE_VMAS	(smoke ? 64 : 4096)
#define MAX_SIZES	8
#define EXIT_UNSUPPORTED 3

/* ---- what a cell measures, sent to the parent through a pipe ---- */

struct rec {
	char wl[12], method[12], op[12], pattern[12];
	unsigned thp, mib, pct, threads, reps;
	uint64_t pages, vmas, written, reported, insn;
	double per_page, per_write, thp_pct;
};

struct area {
	char *base;
	size_t span;		/* pages from base to the end of the last VMA */
	size_t nvma, vpages, stride;	/* VMAs of vpages pages, stride pages apart */
	size_t mapped;		/* nvma * vpages */
	bool thp;
	double thp_pct;		/* of the mapped memory, after populating */
};

struct method {
	const char *name;
	bool softdirty;		/* reports whole huge pages of a THP */
	bool slow;		/* a signal or a context switch per write: cap the writes */
	int (*enter)(void);	/* before anything is mapped: 0 or EXIT_UNSUPPORTED */
	void (*setup)(void);	/* after the area is populated */
	size_t (*get)(struct page_region *v);
	size_t (*getclear)(struct page_region *v);
	void (*clear)(void);
	size_t (*present)(struct page_region *v);	/* NULL: not applicable */
};

enum pattern { RANDOM, CLUSTERED };
extern const char *const pattern_names[2];

/* The pages written by a combo: span indices, ascending, and as maps */
struct pat {
	size_t *idx, k;
	unsigned char *want;	/* [span] */
	unsigned char *huge;	/* [span / 512 + 1]: holds a written page */
};

struct cell {
	const char *wl;
	const struct method *m;
	unsigned mib, threads;
	bool thp;
};

/* The dirty fractions and patterns of the scan workload */
struct combo {
	unsigned pct;
	enum pattern pat;
};
#define NR_COMBOS	6
extern const struct combo combos[NR_COMBOS];

#define NR_METHODS	5
extern const struct method methods[NR_METHODS];

/* pagemap-bench.c: the run, and per child the cell being measured */
extern size_t psz;
extern int pm, out_fd;
extern bool smoke;
extern const struct cell *C;
extern const struct method *M;
extern struct rec recs[MAX_RECS];
extern size_t nrecs;
extern unsigned sizes[MAX_SIZES];
extern size_t nsizes;
extern unsigned failed, skipped_nrr;
void cell_name(const struct cell *c, char *buf, size_t len);

/* bench-area.c: the area measured and the pages a combo writes */
extern struct area A;
extern struct pat P;
extern struct page_region *vec;

static inline char *area_page(size_t span_idx)
{
	return A.base + span_idx * psz;
}

static inline size_t span_index(size_t mapped_idx)
{
	return mapped_idx / A.vpages * A.stride + mapped_idx % A.vpages;
}

void area_dense(size_t mib, bool thp);
void area_sparse(size_t nvma, size_t vpages, size_t stride);
void pattern_alloc(void);
void make_pattern(size_t k, enum pattern pat, uint64_t seed);

/* bench-workloads.c: the measured operations, checked, and their records */
void wl_scan(void);
void wl_sparse(void);
void wl_loop(void);

/* bench-report.c: the targets and markdown tables */
void report(void);

#endif
