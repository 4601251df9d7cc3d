// SPDX-License-Identifier: GPL-2.0
/* pagemap-bench: the workloads, their measured operations, checks and records */
#define _GNU_SOURCE
#include "pagemap-bench.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *const pattern_names[2] = { "random", "clustered" };

/* Store to every @step-th page of the pattern from @first (a store only: no read fault) */
static void write_pattern(size_t first, size_t step)
{
	volatile char *base = A.base;
	/* In locals: the compiler cannot tell that the stores leave P and psz alone */
	const size_t *idx = P.idx;
	size_t i, k = P.k, pg = psz;

	for (i = first; i < k; i += step)
		base[idx[i] * pg] = 1;
}

/* ---- verification: a wrong answer is an error, never a number ---- */

static void bad(const char *op, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

static void bad(const char *op, const char *fmt, ...)
{
	char name[80];
	va_list ap;

	cell_name(C, name, sizeof(name));
	fprintf(stderr, "error: %s, %zu pages written: %s ", name, P.k, op);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static bool allowed(size_t idx)
{
	return P.want[idx] || (A.thp && M->softdirty && P.huge[idx / 512]);
}

/*
 * The regions must hold every written page and nothing else (on THP, for
 * the soft-dirty methods: nothing outside the huge pages written to).
 * Returns the pages reported.
 */
static size_t check(const char *op, size_t n)
{
	uintptr_t base = (uintptr_t)A.base, prev = base;
	size_t i, pg, idx, total = 0, hits = 0;

	for (i = 0; i < n; i++) {
		if (vec[i].start < prev || vec[i].len % psz || !vec[i].len)
			bad(op, "region %zu of %zu out of order or empty", i, n);
		for (pg = 0; pg < vec[i].len / psz; pg++) {
			idx = (vec[i].start - base) / psz + pg;
			if (idx >= A.span || !allowed(idx))
				bad(op, "reported page %zu (of %zu) that was not written", idx, A.span);
			hits += P.want[idx];
			total++;
		}
		prev = vec[i].start + vec[i].len;
	}
	if (hits != P.k)
		bad(op, "reported %zu of the %zu written pages", hits, P.k);
	return total;
}

static void expect_clean(const char *after)
{
	size_t n = M->get(vec);

	if (n)
		bad(after, "then get found %zu regions (from page %zu) still dirty", n,
		    (size_t)((vec[0].start - (uintptr_t)A.base) / psz));
}

/* ---- records ---- */

static void emit(const char *op, const char *pattern, unsigned pct, unsigned reps,
		 uint64_t insn, size_t reported)
{
	struct rec r = {
		.thp = A.thp, .mib = C->mib, .pct = pct, .threads = C->threads,
		.reps = reps, .pages = A.mapped, .vmas = A.nvma, .written = P.k,
		.reported = reported, .insn = insn, .thp_pct = A.thp_pct,
	};

	snprintf(r.wl, sizeof(r.wl), "%s", C->wl);
	snprintf(r.method, sizeof(r.method), "%s", M->name);
	snprintf(r.op, sizeof(r.op), "%s", op);
	snprintf(r.pattern, sizeof(r.pattern), "%s", pattern);
	r.per_page = (double)insn / A.mapped;
	r.per_write = P.k ? (double)insn / P.k : 0;
	if (write(out_fd, &r, sizeof(r)) != sizeof(r))
		fail("write a record to the parent");
}

/* ---- workload: scan cost ---- */

struct best {
	uint64_t write, get, getclear, clear;
	size_t reported;
};

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t timed(size_t (*fn)(struct page_region *), size_t *n)
{
	uint64_t t = now();

	*n = fn(vec);
	return now() - t;
}

static void one_rep(struct best *b)
{
	uint64_t t;
	size_t n;

	t = now();
	write_pattern(0, 1);
	b->write = min_u64(b->write, now() - t);
	b->get = min_u64(b->get, timed(M->get, &n));
	b->reported = check("get", n);
	b->getclear = min_u64(b->getclear, timed(M->getclear, &n));
	n = check("getclear", n);
	if (n != b->reported)
		bad("getclear", "reported %zu pages, get %zu", n, b->reported);
	expect_clean("getclear");
	write_pattern(0, 1);
	t = now();
	M->clear();
	b->clear = min_u64(b->clear, now() - t);
	expect_clean("clear");
}

/* Repetitions: fewer on big areas; mprotect and uffd capped in writes */
static unsigned combo_reps(size_t k)
{
	unsigned reps = smoke ? 1 : A.span * psz >= 256 * MIB ? 2 : 3;

	if (M->slow && k && 2 * k * reps > SLOW_WRITES)
		reps = SLOW_WRITES / (2 * k);
	return reps;
}

static void combo(unsigned pct, enum pattern pat)
{
	size_t k = A.mapped * pct / 100;
	unsigned reps = combo_reps(k), r;
	const char *name = pattern_names[pat];
	struct best b = { UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX, 0 };

	if (!reps) {
		printf("bench: %s %s %u MiB%s %u%% %s: skipped, %zu writes > the cap of %u\n",
		       C->wl, M->name, C->mib, A.thp ? " THP" : "", pct, name, k,
		       SLOW_WRITES / 2);
		fflush(stdout);
		return;
	}
	make_pattern(k, pat, pct * 2 + pat);
	for (r = 0; r < reps; r++)
		one_rep(&b);
	if (k)
		emit("write", name, pct, reps, b.write, k);
	emit("get", name, pct, reps, b.get, b.reported);
	emit("getclear", name, pct, reps, b.getclear, b.reported);
	emit("clear", name, pct, reps, b.clear, 0);
	emit("cycle", name, pct, reps, b.write + b.getclear, b.reported);
}

/* GET PRESENT over the populated area: exactly its pages */
static void present(void)
{
	uint64_t t, best = UINT64_MAX;
	size_t n, i, pages = 0;
	int r;

	if (!M->present)
		return;
	for (r = 0; r < 3; r++)
		best = min_u64(best, timed(M->present, &n));
	for (i = 0; i < n; i++)
		pages += vec[i].len / psz;
	if (pages != A.mapped || n != A.nvma)
		bad("present", "reported %zu pages in %zu regions", pages, n);
	P.k = 0;
	t = best;
	emit("present", "uniform", 100, 3, t, pages);
}

const struct combo combos[] = {
	{ 0, RANDOM }, { 1, RANDOM }, { 1, CLUSTERED }, { 10, RANDOM },
	{ 10, CLUSTERED }, { 100, RANDOM },
};

void wl_scan(void)
{
	size_t i;

	area_dense(C->mib, C->thp);
	pattern_alloc();
	if (M->setup)
		M->setup();
	M->clear();
	for (i = 0; i < sizeof(combos) / sizeof(combos[0]); i++)
		combo(combos[i].pct, combos[i].pat);
	present();
}

/* ---- workload: sparse mappings ---- */

void wl_sparse(void)
{
	size_t nvma = SPARSE_VMAS;

	area_sparse(nvma, 4, 16);
	if (count_vmas(A.base, A.span * psz) != 2 * nvma - 1) {
		fprintf(stderr, "error: sparse: %zu VMAs, not %zu\n",
			count_vmas(A.base, A.span * psz), 2 * nvma - 1);
		exit(1);
	}
	pattern_alloc();
	if (M->setup)
		M->setup();
	M->clear();
	combo(0, RANDOM);
	combo(1, RANDOM);
	combo(10, RANDOM);
	present();
}

/* ---- workload: the tracking loop, one or more writer threads ---- */

static pthread_barrier_t start_line, finish_line;
static unsigned nthreads;

static void *writer(void *arg)
{
	size_t me = (uintptr_t)arg;

	for (;;) {
		pthread_barrier_wait(&start_line);
		write_pattern(me, nthreads);
		pthread_barrier_wait(&finish_line);
	}
	return NULL;
}

static void start_writers(void)
{
	pthread_t t;
	size_t i;

	nthreads = C->threads;
	if (nthreads < 2)
		return;
	if (pthread_barrier_init(&start_line, NULL, nthreads + 1) ||
	    pthread_barrier_init(&finish_line, NULL, nthreads + 1))
		fail("pthread_barrier_init");
	for (i = 0; i < nthreads; i++) {
		errno = pthread_create(&t, NULL, writer, (void *)(uintptr_t)i);
		if (errno)
			fail("pthread_create a writer");
	}
}

static void write_round(void)
{
	if (nthreads < 2) {
		write_pattern(0, 1);
		return;
	}
	pthread_barrier_wait(&start_line);
	pthread_barrier_wait(&finish_line);
}

void wl_loop(void)
{
	uint64_t t, faults = 0, collect = 0;
	size_t k, n, reported = 0, written = 0;
	unsigned r, rounds = smoke ? 2 : LOOP_ROUNDS;
	const char *name = pattern_names[RANDOM];

	area_dense(C->mib, false);
	pattern_alloc();
	if (M->setup)
		M->setup();
	start_writers();
	M->clear();
	k = A.mapped / 100;
	for (r = 0; r < rounds; r++) {
		make_pattern(k, RANDOM, 1000 + r);
		t = now();
		write_round();
		faults += now() - t;
		collect += timed(M->getclear, &n);
		reported += check("getclear", n);
		written += P.k;
	}
	/* Records of one mean round: k writes, the instructions over rounds */
	P.k = written / rounds;
	reported /= rounds;
	emit("total", name, 1, rounds, (faults + collect) / rounds, reported);
	emit("fault", name, 1, rounds, faults / rounds, reported);
	emit("collect", name, 1, rounds, collect / rounds, reported);
}
