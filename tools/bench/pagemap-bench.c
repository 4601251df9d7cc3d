// SPDX-License-Identifier: GPL-2.0
/*
 * pagemap-bench: PAGEMAP_SCAN against every other way of finding the pages a
 * program wrote, on the same workloads, in guest instructions.
 *
 *   pagemap-bench [--smoke] [--sizes MIB[,MIB]...] [--methods NAME[,NAME]...]
 *
 * Run it in a guest booted with -icount shift=0,sleep=off (scripts/vm-run
 * --icount): CLOCK_MONOTONIC then counts guest instructions, kernel and user
 * alike, and identical runs give identical numbers.  Compare methods as
 * ratios within one run; the unit is never wall time.
 *
 * Methods, each cell of the benchmark in its own forked child:
 *   scan      PAGEMAP_SCAN GET, GET+CLEAR, CLEAR alone, GET PRESENT
 *   scan-nrr  the same with PAGEMAP_NO_REUSED_REGIONS (skipped if rejected)
 *   pagemap   pread of /proc/self/pagemap + write "4" to /proc/self/clear_refs
 *   mprotect  PROT_READ + a SIGSEGV handler that records and unprotects the page
 *   uffd      userfaultfd write-protect (UFFDIO_REGISTER_MODE_WP), a handler
 *             thread that records the page and unprotects it (synchronous)
 *   (mprotect and uffd keep a byte per page; a reset re-protects every VMA
 *   whole for mprotect, as Wine does, and for uffd the runs found written,
 *   or every VMA whole when there is more than one run per 64 pages)
 * Operations, each timed alone (the fastest of the repetitions counts):
 *   write     the k writes after a reset, faults and handlers included
 *   get       report the written pages; getclear: report and reset;
 *   clear     reset alone; present: GET PRESENT (scan, pagemap only)
 *   cycle     write + getclear: one round of tracking
 * Workloads:
 *   scan      every region size, 0/1/10/100% of the pages written, random or
 *             in clusters of 64 pages, on 4 KiB pages and on THP
 *   loop      write 1% of the pages, getclear, repeat (largest size, 4 KiB)
 *   loop-mt   the same with two writer threads
 *   sparse    many 4-page VMAs between PROT_NONE gaps (as ASan's shadow)
 * Every get and getclear must report exactly the pages written (on THP the
 * soft-dirty methods report the whole huge pages that hold them): anything
 * else fails the run.  Output: progress lines ("bench: "), CSV lines
 * ("CSV,"), then a markdown report.  Exit: 0 ok, 1 a cell failed, 2 usage.
 */
#define _GNU_SOURCE
#include "scan.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

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
static const char *const pattern_names[] = { "random", "clustered" };

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

/* ---- per child: the cell being measured ---- */

static size_t psz;
static int pm = -1, out_fd = -1;
static bool smoke;
static const struct cell *C;
static const struct method *M;
static struct area A;
static struct pat P;
static struct page_region *vec;

static void cell_name(const struct cell *c, char *buf, size_t len)
{
	if (!strcmp(c->wl, "sparse"))
		snprintf(buf, len, "sparse %s %d VMAs", c->m->name, SPARSE_VMAS);
	else
		snprintf(buf, len, "%s %s %u MiB%s%s", c->wl, c->m->name, c->mib,
			 c->thp ? " THP" : "", c->threads > 1 ? " 2 threads" : "");
}

/* ---- areas ---- */

static char *area_page(size_t span_idx)
{
	return A.base + span_idx * psz;
}

static size_t span_index(size_t mapped_idx)
{
	return mapped_idx / A.vpages * A.stride + mapped_idx % A.vpages;
}

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

static void area_dense(size_t mib, bool thp)
{
	A.span = A.vpages = A.stride = mib * MIB / psz;
	A.nvma = 1;
	area_map(thp);
}

static void area_sparse(size_t nvma, size_t vpages, size_t stride)
{
	A.nvma = nvma;
	A.vpages = vpages;
	A.stride = stride;
	A.span = (nvma - 1) * stride + vpages;
	area_map(false);
}

/* ---- reported pages as regions ---- */

struct runs {
	struct page_region *v;
	size_t n;
};

static inline void runs_add(struct runs *r, char *page)
{
	struct page_region *last = r->v + r->n - 1;

	if (r->n && last->start + last->len == (uintptr_t)page) {
		last->len += psz;
		return;
	}
	r->v[r->n].start = (uintptr_t)page;
	r->v[r->n].len = psz;
	r->v[r->n].bitmap = PAGE_IS_SOFTDIRTY;
	r->n++;
}

/* ---- method: PAGEMAP_SCAN ---- */

static uint64_t scan_mode;	/* 0 or PAGEMAP_NO_REUSED_REGIONS */

static int scan_nrr_enter(void)
{
	scan_mode = PAGEMAP_NO_REUSED_REGIONS;
	if (!scan_enter_nrr(pm))
		return 0;
	if (errno == EINVAL)
		return EXIT_UNSUPPORTED;
	fail("PAGEMAP_SCAN with PAGEMAP_NO_REUSED_REGIONS");
}

static size_t scan_get_flags(uint64_t flags, struct page_region *v)
{
	long regions;

	scan_dirty(pm, scan_mode | flags, A.base, A.span * psz, v, A.span / 2 + 2, &regions);
	return regions;
}

static size_t scan_get(struct page_region *v)
{
	return scan_get_flags(0, v);
}

static size_t scan_getclear(struct page_region *v)
{
	return scan_get_flags(PAGEMAP_SOFTDIRTY_CLEAR, v);
}

/* Reset alone: the written pages only, as getclear selects them */
static void scan_clear(void)
{
	if (scan_call(pm, scan_mode | PAGEMAP_SOFTDIRTY_CLEAR, A.base, A.span * psz,
		      NULL, 0, 0, PAGE_IS_SOFTDIRTY, 0, 0, 0, NULL) < 0)
		fail("PAGEMAP_SCAN CLEAR");
}

static size_t scan_present(struct page_region *v)
{
	uint64_t end;
	long n = scan_call(pm, 0, A.base, A.span * psz, v, A.span / 2 + 2, 0,
			   PAGE_IS_PRESENT, 0, 0, PAGE_IS_PRESENT, &end);

	if (n < 0)
		fail("PAGEMAP_SCAN GET PRESENT");
	if (end != (uintptr_t)A.base + A.span * psz) {
		fprintf(stderr, "error: PAGEMAP_SCAN GET PRESENT stopped early\n");
		exit(1);
	}
	return n;
}

/* ---- method: read /proc/self/pagemap, write /proc/self/clear_refs ---- */

static int clear_refs_fd = -1;

static void pagemap_setup(void)
{
	clear_refs_fd = open("/proc/self/clear_refs", O_WRONLY);
	if (clear_refs_fd < 0)
		fail("open /proc/self/clear_refs");
}

/* Pages of the area whose pagemap entry has @bit set */
static size_t pagemap_runs(int bit, struct page_region *v)
{
	static uint64_t buf[CHUNK];
	struct runs r = { v, 0 };
	off_t off = (uintptr_t)A.base / psz * sizeof(buf[0]);
	size_t done, i, n;

	for (done = 0; done < A.span; done += n) {
		n = A.span - done < CHUNK ? A.span - done : CHUNK;
		if (pread(pm, buf, n * sizeof(buf[0]), off + done * sizeof(buf[0])) !=
		    (ssize_t)(n * sizeof(buf[0])))
			fail("pread /proc/self/pagemap");
		for (i = 0; i < n; i++)
			if (buf[i] >> bit & 1)
				runs_add(&r, area_page(done + i));
	}
	return r.n;
}

static size_t pagemap_get(struct page_region *v)
{
	return pagemap_runs(55, v);
}

static void pagemap_clear(void)
{
	if (write(clear_refs_fd, "4", 1) != 1)
		fail("write 4 to /proc/self/clear_refs");
}

static size_t pagemap_getclear(struct page_region *v)
{
	size_t n = pagemap_get(v);

	pagemap_clear();
	return n;
}

static size_t pagemap_present(struct page_region *v)
{
	return pagemap_runs(63, v);
}

/* ---- userspace tracking (mprotect, uffd): a byte per page, set by the handler ---- */

static unsigned char *mark;

static void mark_page(uintptr_t addr)
{
	mark[(addr - (uintptr_t)A.base) / psz] = 1;
}

static bool in_area(uintptr_t addr)
{
	return addr - (uintptr_t)A.base < A.span * psz;
}

/* The marked pages as regions, skipping 8 clean pages at a time; @reset clears the marks. */
static size_t mark_runs(struct page_region *v, bool reset)
{
	struct runs r = { v, 0 };
	uint64_t word;
	size_t i;

	for (i = 0; i < A.span; i++) {
		if (!(i % 8) && i + 8 <= A.span) {
			memcpy(&word, mark + i, sizeof(word));
			if (!word) {
				i += 7;
				continue;
			}
		}
		if (mark[i]) {
			runs_add(&r, area_page(i));
			if (reset)
				mark[i] = 0;
		}
	}
	return r.n;
}

static size_t mark_get(struct page_region *v)
{
	return mark_runs(v, false);
}

static void mark_alloc(void)
{
	mark = calloc(A.span, 1);
	if (!mark)
		fail("calloc the page marks");
}

/* ---- method: mprotect + SIGSEGV ---- */

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	uintptr_t addr = (uintptr_t)si->si_addr;

	(void)sig;
	(void)uc;
	if (!in_area(addr)) {
		signal(SIGSEGV, SIG_DFL);	/* a real crash: fault again, die */
		return;
	}
	mark_page(addr);
	if (mprotect((void *)(addr & ~(psz - 1)), psz, PROT_READ | PROT_WRITE))
		_exit(1);
}

/*
 * Re-protect what the handlers unprotected (every unmarked page stays
 * protected): the @n reported runs when there are at most @few, else every
 * VMA whole.
 */
static void reprotect(const struct page_region *v, size_t n, size_t few,
		      void (*range)(char *, size_t))
{
	size_t i;

	if (n > few) {
		for (i = 0; i < A.nvma; i++)
			range(area_page(i * A.stride), A.vpages * psz);
		return;
	}
	for (i = 0; i < n; i++)
		range((char *)(uintptr_t)v[i].start, v[i].len);
}

static void mprotect_ro(char *start, size_t len)
{
	if (mprotect(start, len, PROT_READ))
		fail("mprotect PROT_READ");
}

static void mprotect_setup(void)
{
	struct sigaction sa = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO };

	mark_alloc();
	if (sigaction(SIGSEGV, &sa, NULL))
		fail("sigaction SIGSEGV");
	reprotect(NULL, 1, 0, mprotect_ro);
}

static size_t mprotect_getclear(struct page_region *v)
{
	size_t n = mark_runs(v, true);

	/* The whole range, as Wine does: page by page costs more (VMA merges) */
	reprotect(v, n, 0, mprotect_ro);
	return n;
}

static void mprotect_clear(void)
{
	mprotect_getclear(vec);
}

/* ---- method: userfaultfd write-protect ---- */

static int uffd = -1;

static void uffd_wp(char *start, size_t len, bool wp)
{
	struct uffdio_writeprotect w = {
		.range = { .start = (uintptr_t)start, .len = len },
		.mode = wp ? UFFDIO_WRITEPROTECT_MODE_WP : 0,
	};

	if (ioctl(uffd, UFFDIO_WRITEPROTECT, &w))
		fail("UFFDIO_WRITEPROTECT");
}

static void uffd_protect(char *start, size_t len)
{
	uffd_wp(start, len, true);
}

static void uffd_fault(const struct uffd_msg *msg)
{
	uintptr_t addr = msg->arg.pagefault.address;

	if (msg->event != UFFD_EVENT_PAGEFAULT ||
	    !(msg->arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP) || !in_area(addr)) {
		fprintf(stderr, "error: userfaultfd: unexpected event %u at %#lx\n",
			msg->event, (unsigned long)addr);
		exit(1);
	}
	mark_page(addr);
	uffd_wp((char *)(addr & ~(psz - 1)), psz, false);	/* and wake the writer */
}

static void *uffd_handler(void *arg)
{
	struct uffd_msg msg[16];
	ssize_t n, i;

	(void)arg;
	for (;;) {
		n = read(uffd, msg, sizeof(msg));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || n % sizeof(msg[0]))
			fail("read userfaultfd");
		for (i = 0; i < n / (ssize_t)sizeof(msg[0]); i++)
			uffd_fault(&msg[i]);
	}
	return NULL;
}

static void uffd_register(char *start, size_t len)
{
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)start, .len = len },
		.mode = UFFDIO_REGISTER_MODE_WP,
	};

	if (ioctl(uffd, UFFDIO_REGISTER, &reg))
		fail("UFFDIO_REGISTER_MODE_WP");
	if (!(reg.ioctls & (1ULL << _UFFDIO_WRITEPROTECT))) {
		fprintf(stderr, "error: userfaultfd: no UFFDIO_WRITEPROTECT on this range\n");
		exit(1);
	}
}

static void uffd_setup(void)
{
	struct uffdio_api api = { .api = UFFD_API };
	pthread_t thread;
	size_t v;

	mark_alloc();
	uffd = syscall(__NR_userfaultfd, O_CLOEXEC);
	if (uffd < 0)
		fail("userfaultfd");
	if (ioctl(uffd, UFFDIO_API, &api))
		fail("UFFDIO_API");
	for (v = 0; v < A.nvma; v++)
		uffd_register(area_page(v * A.stride), A.vpages * psz);
	errno = pthread_create(&thread, NULL, uffd_handler, NULL);
	if (errno)
		fail("pthread_create the userfaultfd handler");
	reprotect(NULL, 1, 0, uffd_protect);
}

static size_t uffd_getclear(struct page_region *v)
{
	size_t n = mark_runs(v, true);

	/* Run by run when there are few: whole ranges cost ~85 insn/page */
	reprotect(v, n, A.span / 64, uffd_protect);
	return n;
}

static void uffd_clear(void)
{
	uffd_getclear(vec);
}

static const struct method methods[] = {
	{ "scan", true, false, NULL, NULL, scan_get, scan_getclear, scan_clear, scan_present },
	{ "scan-nrr", true, false, scan_nrr_enter, NULL, scan_get, scan_getclear, scan_clear, NULL },
	{ "pagemap", true, false, NULL, pagemap_setup, pagemap_get, pagemap_getclear,
	  pagemap_clear, pagemap_present },
	{ "mprotect", false, true, NULL, mprotect_setup, mark_get, mprotect_getclear,
	  mprotect_clear, NULL },
	{ "uffd", false, true, NULL, uffd_setup, mark_get, uffd_getclear, uffd_clear, NULL },
};
#define NR_METHODS (sizeof(methods) / sizeof(methods[0]))

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

static void pattern_alloc(void)
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

static void make_pattern(size_t k, enum pattern pat, uint64_t seed)
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

/* Store to every @step-th page of the pattern from @first (a store only: no read fault) */
static void write_pattern(size_t first, size_t step)
{
	volatile char *base = A.base;
	size_t i;

	for (i = first; i < P.k; i += step)
		base[P.idx[i] * psz] = 1;
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

static const struct { unsigned pct; enum pattern pat; } combos[] = {
	{ 0, RANDOM }, { 1, RANDOM }, { 1, CLUSTERED }, { 10, RANDOM },
	{ 10, CLUSTERED }, { 100, RANDOM },
};

static void wl_scan(void)
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

static void wl_sparse(void)
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

static void wl_loop(void)
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

/* ---- the parent: cells, children, records ---- */

static struct rec recs[MAX_RECS];
static size_t nrecs;
static unsigned sizes[MAX_SIZES] = { 4, 16, 64, 256, 1024 };
static size_t nsizes = 5;
static unsigned failed, skipped_nrr;
static bool method_off[NR_METHODS];	/* left out with --methods */

static void run_cell(const struct cell *c)
{
	int rc;

	C = c;
	M = c->m;
	pm = scan_open(0);
	if (M->enter && (rc = M->enter()))
		exit(rc);
	if (!strcmp(c->wl, "scan"))
		wl_scan();
	else if (!strcmp(c->wl, "sparse"))
		wl_sparse();
	else
		wl_loop();
	exit(0);
}

static void print_csv(const struct rec *r)
{
	printf("CSV,%s,%s,%s,%s,%u,%u,%u,%u,%u,%llu,%llu,%llu,%llu,%llu,%.2f,%.1f,%.0f\n",
	       r->wl, r->method, r->op, r->pattern, r->thp, r->mib, r->pct, r->threads,
	       r->reps, (unsigned long long)r->pages, (unsigned long long)r->vmas,
	       (unsigned long long)r->written, (unsigned long long)r->reported,
	       (unsigned long long)r->insn, r->per_page, r->per_write, r->thp_pct);
}

/* Read the child's records until it closes the pipe; returns its exit code. */
static int collect(int in, pid_t pid)
{
	struct rec r;
	ssize_t n;
	int status;

	while ((n = read(in, &r, sizeof(r))) == sizeof(r)) {
		print_csv(&r);
		if (nrecs == MAX_RECS) {
			fprintf(stderr, "error: more than %d records: raise MAX_RECS\n", MAX_RECS);
			exit(1);
		}
		recs[nrecs++] = r;
	}
	close(in);
	if (waitpid(pid, &status, 0) != pid)
		fail("waitpid");
	if (n != 0)
		return 1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

static void fork_cell(const struct cell *c)
{
	uint64_t t = now();
	char name[80];
	int fd, rc;
	pid_t pid;

	cell_name(c, name, sizeof(name));
	pid = fork_piped(&fd);
	if (!pid) {
		out_fd = fd;
		run_cell(c);
	}
	rc = collect(fd, pid);
	if (rc == EXIT_UNSUPPORTED && !strcmp(c->m->name, "scan-nrr")) {
		printf("bench: %s: skipped: the kernel rejects PAGEMAP_NO_REUSED_REGIONS\n", name);
		skipped_nrr++;
	} else if (rc) {
		printf("bench: %s: FAILED (exit %d)\n", name, rc);
		failed++;
	} else {
		printf("bench: %s: done, %.1f M insn\n", name, (now() - t) / 1e6);
	}
	fflush(stdout);
}

static void run_all(void)
{
	unsigned largest = sizes[nsizes - 1];
	struct cell c;
	size_t m, s;
	int thp;

	printf("CSV,workload,method,op,pattern,thp,size_mib,dirty_pct,threads,reps,pages,"
	       "vmas,written,reported,insn,insn_per_page,insn_per_write,thp_pct\n");
	for (m = 0; m < NR_METHODS; m++) {
		if (method_off[m])
			continue;
		c = (struct cell){ "sparse", &methods[m], 0, 1, false };
		fork_cell(&c);
		c = (struct cell){ "loop", &methods[m], largest, 1, false };
		fork_cell(&c);
		c.wl = "loop-mt";
		c.threads = 2;
		fork_cell(&c);
	}
	for (thp = 0; thp < 2; thp++)
		for (s = 0; s < nsizes; s++)
			for (m = 0; m < NR_METHODS; m++) {
				if (method_off[m])
					continue;
				c = (struct cell){ "scan", &methods[m], sizes[s], 1, thp };
				fork_cell(&c);
			}
}

/* ---- the report ---- */

static const struct rec *find(const char *wl, const char *method, const char *op,
			      int thp, unsigned mib, unsigned pct, const char *pattern)
{
	size_t i;

	for (i = 0; i < nrecs; i++) {
		const struct rec *r = &recs[i];

		if (!strcmp(r->wl, wl) && !strcmp(r->method, method) &&
		    !strcmp(r->op, op) && (int)r->thp == thp && r->mib == mib &&
		    r->pct == pct && !strcmp(r->pattern, pattern))
			return r;
	}
	return NULL;
}

static void cell_value(const struct rec *r, bool per_write)
{
	if (!r)
		printf(" %10s |", "-");
	else
		printf(" %10.1f |", per_write ? r->per_write : r->per_page);
}

struct col {
	const char *label, *pattern;
	unsigned pct, mib;
};

static const char *const ops[] = { "get", "getclear", "clear", "present", "write", "cycle" };
#define NR_OPS (sizeof(ops) / sizeof(ops[0]))

static void table_head(const char *first, const struct col *cols, size_t ncols)
{
	size_t i;

	printf("| %-18s |", first);
	for (i = 0; i < ncols; i++)
		printf(" %10s |", cols[i].label);
	printf("\n|--------------------|");
	for (i = 0; i < ncols; i++)
		printf("-----------:|");
	printf("\n");
}

/* Rows method/op, one column per @cols; "write" in insn per written page */
static void op_table(const char *wl, int thp, const struct col *cols, size_t ncols)
{
	char label[32];
	size_t m, o, i;
	bool any;

	table_head("method / op", cols, ncols);
	for (m = 0; m < NR_METHODS; m++)
		for (o = 0; o < NR_OPS; o++) {
			for (any = false, i = 0; i < ncols; i++)
				any |= !!find(wl, methods[m].name, ops[o], thp, cols[i].mib,
					      cols[i].pct, cols[i].pattern);
			if (!any)
				continue;
			snprintf(label, sizeof(label), "%s %s", methods[m].name, ops[o]);
			printf("| %-18s |", label);
			for (i = 0; i < ncols; i++)
				cell_value(find(wl, methods[m].name, ops[o], thp, cols[i].mib,
						cols[i].pct, cols[i].pattern),
					   !strcmp(ops[o], "write"));
			printf("\n");
		}
	printf("\n");
}

static size_t dirty_cols(struct col *cols, unsigned mib)
{
	static char labels[6][16];
	size_t i, n = sizeof(combos) / sizeof(combos[0]);

	for (i = 0; i < n; i++) {
		snprintf(labels[i], sizeof(labels[i]), "%u%%%s", combos[i].pct,
			 combos[i].pct % 100 == 0 ? "" :
			 combos[i].pat == RANDOM ? " rnd" : " clu");
		cols[i] = (struct col){ labels[i], pattern_names[combos[i].pat],
					combos[i].pct, mib };
	}
	cols[n] = (struct col){ "present", "uniform", 100, mib };
	return n + 1;
}

static void report_scan(void)
{
	static char labels[MAX_SIZES][16];
	unsigned largest = sizes[nsizes - 1];
	struct col cols[MAX_SIZES + 1];
	size_t i, n = dirty_cols(cols, largest);
	const struct rec *r;

	printf("## Scan cost by dirty fraction, %u MiB, 4 KiB pages\n\n", largest);
	printf("insn per page of the region; `write`: insn per written page (faults and "
	       "handlers included); `cycle`: write + getclear per page.\n\n");
	op_table("scan", 0, cols, n);
	r = find("scan", "scan", "get", 1, largest, 1, "random");
	printf("## The same on THP (MADV_HUGEPAGE), %u MiB\n\n", largest);
	printf("THP after populating: %.0f%% of the region (AnonHugePages). Soft-dirty "
	       "methods report whole 2 MiB pages: a write to a clean THP makes its 512 "
	       "pages dirty.\n\n", r ? r->thp_pct : 0.0);
	op_table("scan", 1, cols, n);
	for (i = 0; i < nsizes; i++) {
		snprintf(labels[i], sizeof(labels[i]), "%u MiB", sizes[i]);
		cols[i] = (struct col){ labels[i], "random", 1, sizes[i] };
	}
	printf("## Scan cost by region size, 1%% random, 4 KiB pages\n\n");
	op_table("scan", 0, cols, nsizes);
}

static void loop_row(const char *method, const struct rec *scan_total)
{
	static const char *const wls[] = { "loop", "loop-mt" };
	static const char *const parts[] = { "total", "fault", "collect" };
	const struct rec *r = NULL;
	size_t w, p;

	printf("| %-10s |", method);
	for (w = 0; w < 2; w++)
		for (p = 0; p < 3; p++) {
			r = find(wls[w], method, parts[p], 0, sizes[nsizes - 1], 1, "random");
			cell_value(r, true);
		}
	r = find("loop", method, "total", 0, sizes[nsizes - 1], 1, "random");
	if (r && scan_total)
		printf(" %9.2fx |\n", r->per_write / scan_total->per_write);
	else
		printf(" %10s |\n", "-");
}

static void report_loop(void)
{
	const struct rec *s = find("loop", "scan", "total", 0, sizes[nsizes - 1], 1, "random");
	size_t m;

	printf("## Tracking loop: write 1%% of %u MiB, collect and reset, %u rounds\n\n",
	       sizes[nsizes - 1], smoke ? 2 : LOOP_ROUNDS);
	printf("insn per tracked write: `total` = `fault` (the writes, faults and handlers "
	       "included) + `collect` (getclear).\n");
	printf("loop-mt: two writer threads, each half of the pages; %ld vCPU(s) online%s.\n\n",
	       sysconf(_SC_NPROCESSORS_ONLN),
	       sysconf(_SC_NPROCESSORS_ONLN) < 2 ? ": the threads share one vCPU" : "");
	printf("| %-10s | %10s | %10s | %10s | %10s | %10s | %10s | %10s |\n", "method",
	       "total", "fault", "collect", "mt total", "mt fault", "mt collect", "vs scan");
	printf("|------------|-----------:|-----------:|-----------:|-----------:|"
	       "-----------:|-----------:|-----------:|\n");
	for (m = 0; m < NR_METHODS; m++)
		loop_row(methods[m].name, s);
	printf("\n");
}

static void report_sparse(void)
{
	static const struct col cols[] = {
		{ "0%", "random", 0, 0 }, { "1% rnd", "random", 1, 0 },
		{ "10% rnd", "random", 10, 0 }, { "present", "uniform", 100, 0 },
	};
	const struct rec *r = find("sparse", "scan", "get", 0, 0, 1, "random");

	printf("## Sparse mappings: %llu VMAs of 4 pages, 12-page PROT_NONE gaps\n\n",
	       r ? (unsigned long long)r->vmas : 0ULL);
	printf("insn per mapped page (x4 = per VMA); scan and pagemap walk the whole span "
	       "(16 pages per VMA), mprotect (and uffd when many runs are written) act on "
	       "each VMA.\n\n");
	op_table("sparse", 0, cols, 4);
}

static const struct rec *target_rec(const char *op, int thp, unsigned pct, const char *pat)
{
	return find("scan", "scan", op, thp, sizes[nsizes - 1], pct, pat);
}

static void target(const char *what, const struct rec *r, double value, double limit,
		   bool at_most)
{
	printf("| %-52s | %8s | ", what, at_most ? "<=" : ">=");
	printf("%8.1f | ", limit);
	if (!r) {
		printf("%10s | not measured |\n", "-");
		return;
	}
	printf("%10.2f | %s |\n", value,
	       (at_most ? value <= limit : value >= limit) ? "met" : "NOT met");
}

static void report_targets(void)
{
	const struct rec *g = target_rec("get", 0, 1, "random");
	const struct rec *gc = target_rec("getclear", 0, 1, "random");
	const struct rec *p = target_rec("present", 0, 100, "uniform");
	const struct rec *h = target_rec("get", 1, 1, "random");
	unsigned mib = sizes[nsizes - 1];
	const struct rec *ls = find("loop", "scan", "total", 0, mib, 1, "random");
	const struct rec *lm = find("loop", "mprotect", "total", 0, mib, 1, "random");
	const struct rec *lp = find("loop", "pagemap", "total", 0, mib, 1, "random");

	printf("## Targets (PAGEMAP_SCAN, %u MiB anonymous%s)\n\n", mib,
	       mib == 1024 ? "" : ": NOT the 1 GiB of the targets");
	printf("| %-52s | %8s | %8s | %10s | verdict |\n", "target", "", "limit", "measured");
	printf("|------------------------------------------------------|----------|"
	       "---------:|-----------:|---------|\n");
	target("GET SOFTDIRTY, 1% random dirty: insn/page", g, g ? g->per_page : 0, 12, true);
	target("GET+CLEAR, 1% random dirty: insn/page", gc, gc ? gc->per_page : 0, 20, true);
	target("GET PRESENT, uniform region: insn/page", p, p ? p->per_page : 0, 10, true);
	target("GET SOFTDIRTY on THP, 1% random: insn/page", h, h ? h->per_page : 0, 1, true);
	target("tracked write: mprotect+SIGSEGV / scan (x fewer)", ls && lm ? ls : NULL,
	       ls && lm ? lm->per_write / ls->per_write : 0, 20, false);
	target("tracked write: pread+clear_refs / scan (x fewer)", ls && lp ? ls : NULL,
	       ls && lp ? lp->per_write / ls->per_write : 0, 1.0, false);
	printf("\n(\"fewer than pread+clear_refs\" is met when the ratio is > 1.)\n\n");
}

static void report(void)
{
	size_t i;

	printf("<!-- report -->\n# pagemap-bench%s\n\n", smoke ? " (smoke)" : "");
	printf("Unit: **guest instructions** (QEMU TCG, -icount shift=0,sleep=off: the guest's "
	       "CLOCK_MONOTONIC ns are executed instructions, kernel and user). Never wall time.\n");
	printf("Sizes run: ");
	for (i = 0; i < nsizes; i++)
		printf("%s%u MiB", i ? ", " : "", sizes[i]);
	printf("; fastest of 3 repetitions below 256 MiB, of 2 at 256 MiB and above (1 in "
	       "smoke mode); mprotect and uffd stop at %u timed+untimed writes per "
	       "combination (fewer repetitions, or skipped: '-').\n", SLOW_WRITES);
	printf("Resets: mprotect re-protects every VMA whole (as Wine does); uffd "
	       "re-protects the runs found written, or every VMA whole when there is more "
	       "than one run per 64 pages.\n");
	printf("Online vCPUs: %ld.\n\n", sysconf(_SC_NPROCESSORS_ONLN));
	report_targets();
	report_scan();
	report_loop();
	report_sparse();
	if (skipped_nrr)
		printf("scan-nrr: skipped, the kernel rejects PAGEMAP_NO_REUSED_REGIONS.\n\n");
	printf("Result: %u failed cell(s).\n<!-- end -->\n", failed);
}

static void usage(const char *why, const char *arg)
{
	fprintf(stderr, "error: %s '%s'\n", why, arg);
	fprintf(stderr, "usage: pagemap-bench [--smoke] [--sizes MIB[,MIB]...] "
		"[--methods NAME[,NAME]...]\n"
		"  sizes ascending, each a power of two in [4, 2048], at most %d\n"
		"  methods: scan, scan-nrr, pagemap, mprotect, uffd (default: all)\n", MAX_SIZES);
	exit(2);
}

static void parse_sizes(char *list)
{
	char *tok, *save = NULL;

	for (nsizes = 0, tok = strtok_r(list, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (nsizes == MAX_SIZES)
			usage("too many sizes at", tok);
		sizes[nsizes] = parse(tok, "a size in MiB", 4, 2048);
		if (sizes[nsizes] & (sizes[nsizes] - 1) ||
		    (nsizes && sizes[nsizes] <= sizes[nsizes - 1]))
			usage("sizes must be ascending powers of two, not", tok);
		nsizes++;
	}
	if (!nsizes)
		usage("no sizes in", "");
}

/* --methods: run only the methods named in @list */
static void parse_methods(char *list)
{
	char *tok, *save = NULL;
	size_t m;

	for (m = 0; m < NR_METHODS; m++)
		method_off[m] = true;
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (m = 0; m < NR_METHODS && strcmp(tok, methods[m].name); m++)
			;
		if (m == NR_METHODS)
			usage("unknown method", tok);
		method_off[m] = false;
	}
	for (m = 0; m < NR_METHODS && method_off[m]; m++)
		;
	if (m == NR_METHODS)
		usage("no methods in", "");
}

int main(int argc, char **argv)
{
	int i;

	no_aslr(argv);		/* first: parsing --sizes changes argv */
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--smoke")) {
			smoke = true;
			sizes[0] = 4;
			nsizes = 1;
		} else if (!strcmp(argv[i], "--sizes") && i + 1 < argc) {
			parse_sizes(argv[++i]);
		} else if (!strcmp(argv[i], "--methods") && i + 1 < argc) {
			parse_methods(argv[++i]);
		} else {
			usage("unknown argument", argv[i]);
		}
	}
	psz = sysconf(_SC_PAGESIZE);
	setvbuf(stdout, NULL, _IOLBF, 0);
	run_all();
	report();
	return failed ? 1 : 0;
}
