// SPDX-License-Identifier: GPL-2.0
/*
 * nrr-bench: what PAGEMAP_NO_REUSED_REGIONS costs and what it buys.
 *
 *   nrr-bench [--csv] [--default-only] [N [K [M]]]
 *
 *   N  pages of the churn and write-fault ranges (default 4096)
 *   K  partial clears of the churn (default 1000)
 *   M  half the pages of the merge ranges (default 256)
 *
 * The flag's mode is per process and permanent, so each mode runs in its own
 * forked child (a child does not inherit the mode; the "flag" child enters it
 * before it maps anything), which sends its numbers to the parent through a
 * pipe; the parent prints one markdown table (and CSV lines with --csv).
 * --default-only measures the default mode alone, for kernels without the
 * flag.  Exit 3: the kernel rejects the flag.
 *
 * Boot the guest with -icount shift=0,sleep=off: CLOCK_MONOTONIC nanoseconds
 * are then guest instructions.  With ASLR off (the program re-execs itself
 * so) and THP off, boot-to-boot repeats agree to about 0.1%; only the sum of
 * the churn's CLEAR calls moves more (up to ~1%: the split path allocates,
 * and where timer ticks and RCU frees land varies), so its median is shown too.
 * Compare the two modes within one run.
 *
 * 1. Churn: write all N pages, then K times write one pseudo-random page and
 *    CLEAR a pseudo-random run of 1..64 pages; count the VMAs of the range.
 *    Then write 1% of the pages and GET the soft-dirty pages.
 * 2. Write faults: insn/page of writing every page (a) right after CLEAR,
 *    (b) after CLEAR, a merge that sets VM_SOFTDIRTY and mprotect RO then
 *    RW, (c) of a fresh MAP_SHARED memfd mapping after reading every page.
 * 3. Merges: how many pages GET reports dirty after CLEAR and (a) a fresh
 *    page mapped next to the range merges with it, or (b) CLEAR of one half,
 *    then mprotect RO then RW of the other half merges the two again.
 */
#define _GNU_SOURCE	/* memfd_create() */
#include "scan.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_CLEAR	64			/* pages of one churn CLEAR, at most */
#define GET_RUNS	5			/* GET repeats; the fastest counts */
#define SEED		0x9e3779b97f4a7c15ULL	/* of the page-granular pseudo-random */
#define EXIT_UNSUPPORTED 3

enum metric {
	CH_VMAS_BEFORE, CH_CLEAR_TOTAL, CH_CLEAR_CALL, CH_CLEAR_MEDIAN,
	CH_VMAS_MAX, CH_SPLITS,
	CH_VMAS_AFTER, CH_GET_TOTAL, CH_GET_PAGE, CH_GET_DIRTY, CH_GET_TRUE,
	CH_GET_REGIONS,
	WF_CLEAR, WF_CLEAR_DIRTY, WF_MPROT, WF_MPROT_DIRTY, WF_SHARED,
	WF_SHARED_DIRTY,
	MG_REMAP_VMAS, MG_REMAP_DIRTY, MG_REMAP_TRUE,
	MG_MPROT_VMAS, MG_MPROT_DIRTY, MG_MPROT_TRUE,
	NR_METRICS
};

static const struct {
	const char *exp, *what;
	int decimals;
} metrics[NR_METRICS] = {
	[CH_VMAS_BEFORE]  = { "1 churn", "VMAs of the range before", 0 },
	[CH_CLEAR_TOTAL]  = { "1 churn", "CLEAR calls: insn total", 0 },
	[CH_CLEAR_CALL]   = { "1 churn", "CLEAR calls: insn per call (mean)", 1 },
	[CH_CLEAR_MEDIAN] = { "1 churn", "CLEAR calls: insn per call (median)", 0 },
	[CH_VMAS_MAX]     = { "1 churn", "VMAs of the range: most during churn", 0 },
	[CH_SPLITS]       = { "1 churn", "VMA splits (sum of VMA count growth)", 0 },
	[CH_VMAS_AFTER]   = { "1 churn", "VMAs of the range after", 0 },
	[CH_GET_TOTAL]    = { "1 churn", "GET after churn + 1% writes: insn (best of 5)", 0 },
	[CH_GET_PAGE]     = { "1 churn", "GET after churn + 1% writes: insn per page", 2 },
	[CH_GET_DIRTY]    = { "1 churn", "GET: pages reported dirty", 0 },
	[CH_GET_TRUE]     = { "1 churn", "GET: pages written since their last CLEAR", 0 },
	[CH_GET_REGIONS]  = { "1 churn", "GET: regions", 0 },
	[WF_CLEAR]        = { "2 faults", "(a) write after CLEAR: insn/page", 1 },
	[WF_CLEAR_DIRTY]  = { "2 faults", "(a) pages reported dirty after the writes", 0 },
	[WF_MPROT]        = { "2 faults", "(b) CLEAR+merge+mprotect RO/RW then write: insn/page", 1 },
	[WF_MPROT_DIRTY]  = { "2 faults", "(b) pages reported dirty after the writes", 0 },
	[WF_SHARED]       = { "2 faults", "(c) shared memfd: read then write: insn/page of writes", 1 },
	[WF_SHARED_DIRTY] = { "2 faults", "(c) pages reported dirty after the writes", 0 },
	[MG_REMAP_VMAS]   = { "3 merge", "(a) CLEAR 2M + fresh page merged: VMAs", 0 },
	[MG_REMAP_DIRTY]  = { "3 merge", "(a) pages reported dirty (of 2M+1)", 0 },
	[MG_REMAP_TRUE]   = { "3 merge", "(a) pages written since CLEAR", 0 },
	[MG_MPROT_VMAS]   = { "3 merge", "(b) CLEAR half + mprotect RO/RW other half: VMAs", 0 },
	[MG_MPROT_DIRTY]  = { "3 merge", "(b) pages reported dirty (of 2M)", 0 },
	[MG_MPROT_TRUE]   = { "3 merge", "(b) pages written and not cleared since", 0 },
};

struct results {
	double v[NR_METRICS];
};

/* Per child: its pagemap, its mode (0 or PAGEMAP_NO_REUSED_REGIONS), GET's vec */
static size_t psz;
static int pm;
static uint64_t mode;
static struct page_region *vec;
static size_t vec_len;
static uint64_t rng;

static size_t rnd(size_t n)
{
	return xorshift(&rng) % n;
}

/* Store to each page (a store only: a load first would add a read fault). */
static void write_pages(char *mem, size_t pages)
{
	size_t i;

	for (i = 0; i < pages; i++)
		mem[i * psz] = 1;
}

static void read_pages(char *mem, size_t pages)
{
	volatile char *p = mem;
	size_t i;

	for (i = 0; i < pages; i++)
		(void)p[i * psz];
}

static double timed_write(char *mem, size_t pages)
{
	uint64_t t = now();

	write_pages(mem, pages);
	return (double)(now() - t) / pages;
}

/*
 * A fresh private anonymous RW range of @pages (a VMA with VM_SOFTDIRTY),
 * between PROT_NONE guard pages so that it merges with nothing: one below,
 * two above (the first of them is where map_fresh_page() goes).
 */
static char *map_range(size_t pages)
{
	char *res = mmap(NULL, (pages + 3) * psz, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	char *mem;

	if (res == MAP_FAILED)
		fail("mmap guard pages");
	mem = mmap(res + psz, pages * psz, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (mem == MAP_FAILED)
		fail("mmap the range");
	return mem;
}

static void unmap_range(char *mem, size_t pages)
{
	if (munmap(mem - psz, (pages + 3) * psz))
		fail("munmap");
}

/* MAP_FIXED a new anonymous RW page at @addr: it merges with a range ending there. */
static void map_fresh_page(char *addr)
{
	if (mmap(addr, psz, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
		fail("mmap MAP_FIXED a fresh page");
}

static void protect(char *mem, size_t pages, int prot)
{
	if (mprotect(mem, pages * psz, prot))
		fail("mprotect");
}

/* CLEAR in the child's mode: every page of the range, no vec */
static void clear(char *mem, size_t pages)
{
	if (scan_call(pm, PAGEMAP_SOFTDIRTY_CLEAR | mode, mem, pages * psz,
		      NULL, 0, 0, 0, 0, 0, 0, NULL) < 0)
		fail("PAGEMAP_SCAN CLEAR");
}

/* GET in the child's mode: soft-dirty pages of the range */
static size_t dirty(char *mem, size_t pages, long *regions)
{
	return scan_dirty(pm, mode, mem, pages * psz, vec, vec_len, regions);
}

/* Write a random page, CLEAR a random run; returns the CLEAR's instructions. */
static uint64_t churn_step(char *mem, size_t pages, unsigned char *written)
{
	size_t page = rnd(pages), len = 1 + rnd(MAX_CLEAR);
	size_t first = rnd(pages - len + 1);
	uint64_t t;

	mem[page * psz] = 1;
	written[page] = 1;
	t = now();
	clear(mem + first * psz, len);
	t = now() - t;
	memset(written + first, 0, len);
	return t;
}

/* Instructions of the fastest of GET_RUNS GETs: a timer tick lands in some. */
static uint64_t best_get(double *v, char *mem, size_t pages)
{
	uint64_t t, best = UINT64_MAX;
	long regions;
	int i;

	for (i = 0; i < GET_RUNS; i++) {
		t = now();
		v[CH_GET_DIRTY] = dirty(mem, pages, &regions);
		t = now() - t;
		if (t < best)
			best = t;
	}
	v[CH_GET_REGIONS] = regions;
	return best;
}

static void churn_get(double *v, char *mem, size_t pages, unsigned char *written)
{
	size_t i, truth = 0;
	uint64_t t;

	for (i = 0; i < pages; i += 100) {
		mem[i * psz] = 1;
		written[i] = 1;
	}
	for (i = 0; i < pages; i++)
		truth += written[i];
	t = best_get(v, mem, pages);
	v[CH_GET_TOTAL] = t;
	v[CH_GET_PAGE] = (double)t / pages;
	v[CH_GET_TRUE] = truth;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * The median call: unlike the total, it does not depend on where the timer
 * ticks land, which the untimed work between the calls shifts from boot to boot.
 */
static uint64_t median(uint64_t *t, size_t n)
{
	qsort(t, n, sizeof(*t), cmp_u64);
	return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

static void exp_churn(double *v, size_t pages, size_t clears)
{
	unsigned char *written = malloc(pages);
	uint64_t *cost = calloc(clears, sizeof(*cost));
	char *mem = map_range(pages);
	size_t i, vmas, last;
	uint64_t total = 0;

	if (!written || !cost)
		fail("malloc");
	rng = SEED;
	write_pages(mem, pages);
	memset(written, 1, pages);
	last = count_vmas(mem, pages * psz);
	v[CH_VMAS_BEFORE] = v[CH_VMAS_MAX] = last;
	for (i = 0; i < clears; i++) {
		cost[i] = churn_step(mem, pages, written);
		total += cost[i];
		vmas = count_vmas(mem, pages * psz);
		if (vmas > last)
			v[CH_SPLITS] += vmas - last;
		if (vmas > v[CH_VMAS_MAX])
			v[CH_VMAS_MAX] = vmas;
		last = vmas;
	}
	v[CH_VMAS_AFTER] = last;
	v[CH_CLEAR_TOTAL] = total;
	v[CH_CLEAR_CALL] = (double)total / clears;
	v[CH_CLEAR_MEDIAN] = median(cost, clears);
	churn_get(v, mem, pages, written);
	unmap_range(mem, pages);
	free(written);
	free(cost);
}

static void fault_after_clear(double *v, size_t pages)
{
	char *mem = map_range(pages);

	write_pages(mem, pages);
	clear(mem, pages);
	v[WF_CLEAR] = timed_write(mem, pages);
	v[WF_CLEAR_DIRTY] = dirty(mem, pages, NULL);
	unmap_range(mem, pages);
}

/*
 * Cleared PTEs in a VMA with VM_SOFTDIRTY: the fresh page merged at the end
 * sets it again (the reviewer's reproducer).  mprotect RW may then make the
 * PTEs writable without a fault, unless the mode keeps the write faults.
 */
static void fault_after_mprotect(double *v, size_t pages)
{
	char *mem = map_range(pages);

	write_pages(mem, pages);
	clear(mem, pages);
	map_fresh_page(mem + pages * psz);
	protect(mem, pages, PROT_READ);
	protect(mem, pages, PROT_READ | PROT_WRITE);
	v[WF_MPROT] = timed_write(mem, pages);
	v[WF_MPROT_DIRTY] = dirty(mem, pages, NULL);
	unmap_range(mem, pages);
}

static void fault_shared(double *v, size_t pages)
{
	int fd = memfd_create("nrr-bench", 0);
	char *mem;

	if (fd < 0 || ftruncate(fd, pages * psz))
		fail("memfd_create");
	mem = mmap(NULL, pages * psz, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED)
		fail("mmap memfd");
	read_pages(mem, pages);
	v[WF_SHARED] = timed_write(mem, pages);
	v[WF_SHARED_DIRTY] = dirty(mem, pages, NULL);
	munmap(mem, pages * psz);
	close(fd);
}

static void merge_fresh_page(double *v, size_t half)
{
	size_t pages = 2 * half;
	char *mem = map_range(pages);

	write_pages(mem, pages);
	clear(mem, pages);
	map_fresh_page(mem + pages * psz);
	v[MG_REMAP_VMAS] = count_vmas(mem, (pages + 1) * psz);
	v[MG_REMAP_DIRTY] = dirty(mem, pages + 1, NULL);
	v[MG_REMAP_TRUE] = 0;
	unmap_range(mem, pages);
}

/*
 * The default mode splits off the cleared first half; mprotect RO then RW of
 * the other half merges it back, and the merged VMA takes the flags of the
 * mprotected half, VM_SOFTDIRTY included: the cleared half reads dirty again.
 */
static void merge_mprotect(double *v, size_t half)
{
	size_t pages = 2 * half;
	char *mem = map_range(pages);

	write_pages(mem, pages);
	clear(mem, half);
	protect(mem + half * psz, half, PROT_READ);
	protect(mem + half * psz, half, PROT_READ | PROT_WRITE);
	v[MG_MPROT_VMAS] = count_vmas(mem, pages * psz);
	v[MG_MPROT_DIRTY] = dirty(mem, pages, NULL);
	v[MG_MPROT_TRUE] = half;
	unmap_range(mem, pages);
}

/*
 * Enter the flag's mode with a CLEAR of a scratch page, before mapping
 * anything.  Exit EXIT_UNSUPPORTED if the kernel does not know the flag.
 */
static void enter_mode(void)
{
	if (!mode || !scan_enter_nrr(pm))
		return;
	if (errno == EINVAL)
		exit(EXIT_UNSUPPORTED);
	fail("PAGEMAP_SCAN with PAGEMAP_NO_REUSED_REGIONS");
}

static void measure(struct results *r, const size_t nkm[3])
{
	/* The pagemap of the child: one opened before fork() is the parent's */
	pm = scan_open(0);
	enter_mode();
	/* Base pages only: THP would change what faults and splits */
	if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0))
		fail("prctl PR_SET_THP_DISABLE");
	vec_len = nkm[0] > 2 * nkm[2] + 1 ? nkm[0] : 2 * nkm[2] + 1;
	vec = calloc(vec_len, sizeof(*vec));
	if (!vec)
		fail("calloc");
	exp_churn(r->v, nkm[0], nkm[1]);
	fault_after_clear(r->v, nkm[0]);
	fault_after_mprotect(r->v, nkm[0]);
	fault_shared(r->v, nkm[0]);
	merge_fresh_page(r->v, nkm[2]);
	merge_mprotect(r->v, nkm[2]);
}

static void child(int out, uint64_t child_mode, const size_t nkm[3])
{
	struct results r = { { 0 } };

	mode = child_mode;
	measure(&r, nkm);
	if (write(out, &r, sizeof(r)) != sizeof(r))
		fail("write to the parent");
	exit(0);
}

/* Read the child's results; returns its exit code. */
static int collect(int in, pid_t pid, struct results *r)
{
	size_t got = 0;
	ssize_t n;
	int status;

	while (got < sizeof(*r) && (n = read(in, (char *)r + got, sizeof(*r) - got)) > 0)
		got += n;
	close(in);
	if (waitpid(pid, &status, 0) != pid)
		fail("waitpid");
	if (!WIFEXITED(status))
		return 1;
	if (WEXITSTATUS(status) == 0 && got != sizeof(*r))
		return 1;
	return WEXITSTATUS(status);
}

/* Measure one mode in a fresh child; exits (3 if the flag is unknown) on failure. */
static void run_mode(uint64_t child_mode, const size_t nkm[3], struct results *r)
{
	const char *name = child_mode ? "flag" : "default";
	int fd, rc;
	pid_t pid;

	pid = fork_piped(&fd);
	if (!pid)
		child(fd, child_mode, nkm);
	rc = collect(fd, pid, r);
	if (rc == EXIT_UNSUPPORTED) {
		fprintf(stderr, "PAGEMAP_NO_REUSED_REGIONS not supported by this kernel\n");
		exit(EXIT_UNSUPPORTED);
	}
	if (rc) {
		fprintf(stderr, "error: the %s-mode child failed\n", name);
		exit(1);
	}
}

static void print_table(const struct results *d, const struct results *f)
{
	int i, p;

	printf("| %-8s | %-54s | %14s | %14s | %14s |\n", "exp", "quantity",
	       "default", "flag", "flag-default");
	printf("|----------|--------------------------------------------------------|"
	       "---------------:|---------------:|---------------:|\n");
	for (i = 0; i < NR_METRICS; i++) {
		p = metrics[i].decimals;
		printf("| %-8s | %-54s | %14.*f |", metrics[i].exp, metrics[i].what,
		       p, d->v[i]);
		if (f)
			printf(" %14.*f | %14.*f |\n", p, f->v[i], p, f->v[i] - d->v[i]);
		else
			printf(" %14s | %14s |\n", "-", "-");
	}
}

static void print_csv(const struct results *d, const struct results *f)
{
	int i, p;

	printf("experiment,quantity,default,flag,flag_minus_default\n");
	for (i = 0; i < NR_METRICS; i++) {
		p = metrics[i].decimals;
		printf("%s,%s,%.*f", metrics[i].exp, metrics[i].what, p, d->v[i]);
		if (f)
			printf(",%.*f,%.*f\n", p, f->v[i], p, f->v[i] - d->v[i]);
		else
			printf(",,\n");
	}
}

static void print_header(const size_t nkm[3])
{
	printf("# nrr-bench: PAGEMAP_NO_REUSED_REGIONS (flag) vs the default mode\n\n");
	printf("unit: guest instructions (QEMU -icount shift=0)\n");
	printf("N=%zu pages, K=%zu clears of 1..%d pages, M=%zu, seed 0x%llx, "
	       "THP off, ASLR off\n\n", nkm[0], nkm[1], MAX_CLEAR, nkm[2],
	       (unsigned long long)SEED);
}

static void print_notes(void)
{
	printf("\nNotes: \"reported dirty\" is GET (PAGE_IS_SOFTDIRTY) in the column's mode;\n"
	       "the truth rows count pages written since their last CLEAR.\n"
	       "2(b)/(c): default-mode VMAs have VM_SOFTDIRTY (merged/fresh), so the kernel\n"
	       "may map PTEs writable without a write fault; the flag keeps the faults.\n"
	       "3(a): the +1 is the fresh page, never touched; 1(VMAs): lines of\n"
	       "/proc/self/maps overlapping the range (guard pages keep it apart).\n");
}

static void usage(const char *why, const char *arg)
{
	fprintf(stderr, "error: %s '%s'\n", why, arg);
	fprintf(stderr, "usage: nrr-bench [--csv] [--default-only] [N [K [M]]]\n"
		"  N pages (64..262144, default 4096), K clears (1..1000000, "
		"default 1000),\n  M half-range pages (1..65536, default 256)\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const char *const names[3] = { "N", "K", "M" };
	static const size_t lo[3] = { MAX_CLEAR, 1, 1 };
	static const size_t hi[3] = { 262144, 1000000, 65536 };
	size_t nkm[3] = { 4096, 1000, 256 };
	struct results d, f;
	bool csv = false, flag = true;
	int i, n = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--csv"))
			csv = true;
		else if (!strcmp(argv[i], "--default-only"))
			flag = false;
		else if (argv[i][0] == '-')
			usage("unknown option", argv[i]);
		else if (n == 3)
			usage("too many arguments at", argv[i]);
		else {
			nkm[n] = parse(argv[i], names[n], lo[n], hi[n]);
			n++;
		}
	}
	no_aslr(argv);
	psz = sysconf(_SC_PAGESIZE);
	/* Flag first: on a kernel without it, fail before the long default run */
	if (flag)
		run_mode(PAGEMAP_NO_REUSED_REGIONS, nkm, &f);
	run_mode(0, nkm, &d);
	print_header(nkm);
	print_table(&d, flag ? &f : NULL);
	print_notes();
	if (csv) {
		printf("\n");
		print_csv(&d, flag ? &f : NULL);
	}
	return 0;
}
