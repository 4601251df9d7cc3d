// SPDX-License-Identifier: GPL-2.0
/* pagemap-bench: the area measured (dense or sparse VMAs) and the pages a combo writes */
#define _GNU_SOURCE
#include "pagemap-bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

struct area A;
struct pat P;
struct page_region *vec;

/* ---- areas ---- */

/* PROT_NONE reservation of @bytes aligned to @align, guard pages around it */
static char *reserve(size_t bytes, size_t align)
{
	char *res = mmap(NULL, bytes + align + 2 * psz, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (res == MAP_FAILED)
		fail("mmap a PROT_NONE reservation");
	return (char *)(((uintptr_t)res + psz + align - 1) & ~(align - 1));
}

/* AnonHugePages of the VMA holding @addr, in % of @bytes */
static double thp_percent(const void *addr, size_t bytes)
{
	unsigned long lo, hi, a = (uintptr_t)addr;
	FILE *f = fopen("/proc/self/smaps", "r");
	char *line = NULL;
	size_t cap = 0, kib = 0;
	bool in = false;

	if (!f)
		fail("open /proc/self/smaps");
	while (getline(&line, &cap, f) > 0) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2)
			in = lo <= a && a < hi;
		else if (in && sscanf(line, "AnonHugePages: %zu kB", &kib) == 1)
			break;
	}
	free(line);
	fclose(f);
	return 100.0 * kib * 1024 / bytes;
}

static void populate(void)
{
	volatile char *p = A.base;
	size_t i;

	for (i = 0; i < A.mapped; i++)
		p[span_index(i) * psz] = 1;
}

static void area_map(bool thp)
{
	size_t v, bytes = A.vpages * psz;
	char *p;

	A.mapped = A.nvma * A.vpages;
	A.thp = thp;
	A.base = reserve(A.span * psz, thp ? HUGE_SIZE : psz);
	for (v = 0; v < A.nvma; v++) {
		p = A.base + v * A.stride * psz;
		if (mmap(p, bytes, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
			fail("mmap the region");
		if (madvise(p, bytes, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE))
			fail("madvise the region");
	}
	populate();
	A.thp_pct = thp_percent(A.base, bytes);
}

void area_dense(size_t mib, bool thp)
{
	A.span = A.vpages = A.stride = mib * MIB / psz;
	A.nvma = 1;
	area_map(thp);
}

void area_sparse(size_t nvma, size_t vpages, size_t stride)
{
	A.nvma = nvma;
	A.vpages = vpages;
	A.stride = stride;
	A.span = (nvma - 1) * stride + vpages;
	area_map(false);
}

/* ---- patterns ---- */

/* Choose @k of @n in ascending order (Knuth's selection sampling) */
static size_t choose(size_t n, size_t k, uint64_t *rng, size_t *out)
{
	size_t i, got = 0;

	for (i = 0; i < n && got < k; i++)
		if (xorshift(rng) % (n - i) < k - got)
			out[got++] = i;
	return got;
}

void pattern_alloc(void)
{
	P.idx = calloc(A.mapped, sizeof(*P.idx));
	P.want = calloc(A.span, 1);
	P.huge = calloc(A.span / 512 + 1, 1);
	vec = calloc(A.span / 2 + 2, sizeof(*vec));
	if (!P.idx || !P.want || !P.huge || !vec)
		fail("calloc the pattern");
}

/* @k pages in clusters of CLUSTER pages (dense areas: span index = mapped index) */
static void pattern_clusters(size_t k, uint64_t *rng)
{
	size_t n = (k + CLUSTER - 1) / CLUSTER, i, j;
	size_t *first = calloc(n ? n : 1, sizeof(*first));

	if (!first)
		fail("calloc");
	n = choose(A.mapped / CLUSTER, n, rng, first);
	for (P.k = i = 0; i < n; i++)
		for (j = 0; j < CLUSTER && P.k < k; j++)
			P.idx[P.k++] = first[i] * CLUSTER + j;
	free(first);
}

void make_pattern(size_t k, enum pattern pat, uint64_t seed)
{
	uint64_t rng = SEED ^ seed;
	size_t i;

	if (pat == CLUSTERED) {
		pattern_clusters(k, &rng);
	} else {
		P.k = choose(A.mapped, k, &rng, P.idx);
		for (i = 0; i < P.k; i++)
			P.idx[i] = span_index(P.idx[i]);
	}
	memset(P.want, 0, A.span);
	memset(P.huge, 0, A.span / 512 + 1);
	for (i = 0; i < P.k; i++) {
		P.want[P.idx[i]] = 1;
		P.huge[P.idx[i] / 512] = 1;
	}
}

