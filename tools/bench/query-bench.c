// SPDX-License-Identifier: GPL-2.0
/*
 * query-bench: the users' PAGEMAP_SCAN queries on several kinds of memory,
 * each beside the same query answered by pread() of /proc/self/pagemap, in
 * guest instructions per page (run under -icount shift=0,sleep=off).
 *
 *   query-bench [--mib N]   (default 1024)
 *
 * Each kind is mapped, populated, made clean (clear_refs 4) and 1% of its
 * pages, chosen at random, written; then every query runs on it, twice by
 * each method, and the faster run counts. Both methods must find the same
 * regions, or the program fails. The get+clear row writes the same pages
 * again before each run and measures GET+CLEAR against pread + clear_refs
 * (which clears the whole process; CRIU's query cannot be asked with CLEAR:
 * EINVAL, CLEAR selects by soft-dirty only). The sparse kind is a
 * MAP_NORESERVE mapping 16 times as large with one page populated every
 * 4 MiB (one PTE table in two), 1% of those written. Prints a Markdown
 * table.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "scan.h"

#define SD	PAGE_IS_SOFTDIRTY
#define FILEP	PAGE_IS_FILE
#define PRES	PAGE_IS_PRESENT
#define SWAP	PAGE_IS_SWAPPED
#define CHUNK	4096	/* pagemap entries per pread() */

struct query {
	const char *name;
	uint64_t required, anyof, excluded, ret, max_pages;
	bool clear;	/* CLEAR, against pread + clear_refs: see above */
};

/* The questions the users ask: see README "Queries, measured" */
static const struct query queries[] = {
	{ "wine: get soft-dirty", SD, 0, 0, SD, 0, false },
	{ "criu: pre-dump", 0, PRES | SWAP, FILEP, SD | PRES | SWAP, 0, false },
	{ "gc: present and dirty", PRES | SD, 0, 0, PRES | SD, 0, false },
	{ "get present", PRES, 0, 0, PRES, 0, false },
	{ "anything swapped?", SWAP, 0, 0, SWAP, 1, false },
	{ "wine: get+clear", SD, 0, 0, SD, 0, true },
};
#define NR_QUERIES (sizeof(queries) / sizeof(queries[0]))

enum kind { ANON, MEMFD, PRIVFILE, SPARSE, NR_KINDS };
static const char *const kind_names[NR_KINDS] = {
	"anon", "shared memfd", "private memfd", "sparse anon",
};
#define SPARSE_SCALE	16	/* the sparse kind's size, in sizes of the others */
#define SPARSE_STRIDE	1024	/* pages from one populated page to the next */

static size_t psz, vec_len;
static size_t pages, stride;	/* of the kind being measured: see make_kind() */
static struct page_region *vec;
static uint64_t *pmbuf;
static int pm;

/* Append page @addr with @bitmap to the regions vec[0..*n), as the kernel does */
static void add(size_t *n, uintptr_t addr, uint64_t bitmap)
{
	struct page_region *last = &vec[*n - 1];

	if (*n && last->start + last->len == addr && last->bitmap == bitmap) {
		last->len += psz;
		return;
	}
	if (*n == vec_len) {
		fprintf(stderr, "error: more than %zu regions\n", vec_len);
		exit(1);
	}
	vec[(*n)++] = (struct page_region){ addr, psz, bitmap };
}

/* Write 1% of the populated pages from @base, the same ones every time */
static void write_some(char *base)
{
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	size_t i;

	for (i = 0; i < pages / stride / 100; i++)
		base[xorshift(&seed) % (pages / stride) * stride * psz] = 2;
}

/* The query answered from pagemap: regions in vec, their number returned */
static size_t pagemap_regions(const struct query *q, char *base)
{
	size_t n = 0, found = 0, i, k, nr;

	for (i = 0; i < pages; i += nr) {
		nr = pages - i < CHUNK ? pages - i : CHUNK;
		if (pread(pm, pmbuf, nr * 8, ((uintptr_t)base / psz + i) * 8) != (ssize_t)(nr * 8))
			fail("pread of pagemap");
		for (k = 0; k < nr; k++) {
			uint64_t c = pm_categories(pmbuf[k]);

			if (!scan_matches(q->required, q->anyof, q->excluded, c))
				continue;
			add(&n, (uintptr_t)(base + (i + k) * psz), c & q->ret);
			if (q->max_pages && ++found == q->max_pages)
				return n;
		}
	}
	return n;
}

static size_t by_pread(const struct query *q, char *base)
{
	size_t n = pagemap_regions(q, base);

	if (q->clear)
		clear_refs_self();
	return n;
}

static size_t by_scan(const struct query *q, char *base)
{
	uint64_t flags = q->clear ? PAGEMAP_SOFTDIRTY_CLEAR : 0;
	long n = scan_call(pm, flags, base, pages * psz, vec, vec_len, q->max_pages,
			   q->required, q->anyof, q->excluded, q->ret, NULL);

	if (n < 0)
		fail("PAGEMAP_SCAN");
	return n;
}

/* Fastest of two runs of @fn, in guest instructions; its regions in *copy */
static uint64_t timed(size_t (*fn)(const struct query *, char *),
		      const struct query *q, char *base,
		      struct page_region *copy, size_t *n)
{
	uint64_t best = UINT64_MAX, t;
	int rep;

	for (rep = 0; rep < 2; rep++) {
		if (q->clear)
			write_some(base);
		t = now();
		*n = fn(q, base);
		t = now() - t;
		best = t < best ? t : best;
	}
	memcpy(copy, vec, *n * sizeof(*vec));
	return best;
}

/* Write every page of the memfd @fd, which the private mapping then reads */
static void fill_file(int fd)
{
	char *p = mmap(NULL, pages * psz, PROT_WRITE, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		fail("mmap of the memfd");
	memset(p, 1, pages * psz);
	munmap(p, pages * psz);
}

/* Map and populate @kind; then clean it and write 1% of it at random */
static char *make_kind(enum kind kind)
{
	int fd = -1, flags = MAP_PRIVATE | MAP_ANONYMOUS;
	char *base;
	size_t i;

	if (kind == MEMFD || kind == PRIVFILE) {
		fd = memfd_create("query-bench", 0);
		if (fd < 0 || ftruncate(fd, pages * psz))
			fail("memfd");
		flags = kind == MEMFD ? MAP_SHARED : MAP_PRIVATE;
	}
	if (kind == SPARSE)
		flags |= MAP_NORESERVE;
	base = mmap(NULL, pages * psz, PROT_READ | PROT_WRITE, flags, fd, 0);
	if (base == MAP_FAILED)
		fail("mmap");
	madvise(base, pages * psz, MADV_NOHUGEPAGE);
	if (kind == PRIVFILE)
		fill_file(fd);
	if (fd >= 0)
		close(fd);
	for (i = 0; i < pages; i += stride)
		if (kind == PRIVFILE)
			(void)*(volatile char *)(base + i * psz);
		else
			base[i * psz] = 1;
	clear_refs_self();
	write_some(base);
	return base;
}

static void run_kind(enum kind kind, size_t kind_pages,
		     struct page_region *a, struct page_region *b)
{
	char *base;
	size_t q, na, nb;
	uint64_t ts, tp;

	pages = kind_pages;
	stride = kind == SPARSE ? SPARSE_STRIDE : 1;
	base = make_kind(kind);

	for (q = 0; q < NR_QUERIES; q++) {
		ts = timed(by_scan, &queries[q], base, a, &na);
		tp = timed(by_pread, &queries[q], base, b, &nb);
		if (na != nb || memcmp(a, b, na * sizeof(*a))) {
			fprintf(stderr, "error: %s on %s: the scan found %zu regions, pagemap %zu\n",
				queries[q].name, kind_names[kind], na, nb);
			exit(1);
		}
		printf("| %s | %s | %zu | %.2f | %.2f | %.1fx |\n", queries[q].name,
		       kind_names[kind], na, (double)ts / pages, (double)tp / pages,
		       (double)tp / (ts ? ts : 1));
	}
	munmap(base, pages * psz);
}

int main(int argc, char **argv)
{
	struct page_region *a, *b;
	size_t mib = 1024;
	int k;

	if (argc == 3 && !strcmp(argv[1], "--mib"))
		mib = parse(argv[2], "--mib", 4, 4096);
	else if (argc != 1) {
		fprintf(stderr, "usage: query-bench [--mib N]\n");
		return 2;
	}
	psz = sysconf(_SC_PAGESIZE);
	pages = mib * 1024 * 1024 / psz;
	vec_len = pages / 50 + 16;	/* 1% written: at most 2 regions a page */
	vec = calloc(vec_len, sizeof(*vec));
	a = calloc(vec_len, sizeof(*vec));
	b = calloc(vec_len, sizeof(*vec));
	pmbuf = calloc(CHUNK, 8);
	if (!vec || !a || !b || !pmbuf)
		fail("calloc");
	pm = scan_open(0);
	printf("query-bench: %zu MiB of each kind (sparse: %zu MiB mapped), 1%% of its pages written at random; insn per page of the range\n\n",
	       mib, mib * SPARSE_SCALE);
	printf("| query | memory | regions | scan insn/page | pagemap pread insn/page | pread/scan |\n");
	printf("|---|---|---:|---:|---:|---:|\n");
	for (k = 0; k < NR_KINDS; k++)
		run_kind(k, k == SPARSE ? pages * SPARSE_SCALE : pages, a, b);
	return 0;
}
