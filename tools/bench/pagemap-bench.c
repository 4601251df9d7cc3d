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
#include "pagemap-bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- per child: the cell being measured ---- */

size_t psz;
int pm = -1, out_fd = -1;
bool smoke;
const struct cell *C;
const struct method *M;

void cell_name(const struct cell *c, char *buf, size_t len)
{
	if (!strcmp(c->wl, "sparse"))
		snprintf(buf, len, "sparse %s %d VMAs", c->m->name, SPARSE_VMAS);
	else
		snprintf(buf, len, "%s %s %u MiB%s%s", c->wl, c->m->name, c->mib,
			 c->thp ? " THP" : "", c->threads > 1 ? " 2 threads" : "");
}

/* ---- the parent: cells, children, records ---- */

struct rec recs[MAX_RECS];
size_t nrecs;
unsigned sizes[MAX_SIZES] = { 4, 16, 64, 256, 1024 };
size_t nsizes = 5;
unsigned failed, skipped_nrr;
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
