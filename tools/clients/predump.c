// SPDX-License-Identifier: GPL-2.0
/*
 * predump: a CRIU-style incremental pre-dump of a process's anonymous memory
 * with PAGEMAP_SCAN, and a restore check of the resulting image chain.
 *
 *   predump --pid P --dir DIR [--parent PREVDIR] [--vec N]
 *   predump --check --pid P --dir DIR
 *
 * Dump (DIR must not exist; it is created): the pages of P that are present
 * or swapped and not file-backed are copied with process_vm_readv into DIR.
 * Without --parent it is a full dump; with --parent (the previous iteration's
 * directory) only the pages that became soft-dirty since that iteration.
 * Each PAGEMAP_SCAN call is a GET+CLEAR over [0, top of /proc/P/maps),
 * resumed at walk_end when the N-entry vec (default 512) is full:
 *  - The report and the clear are one call, so a write that happens after a
 *    page was reported is seen by the next iteration; the copy comes after
 *    that call, so a page written between its report and its copy is copied
 *    now and reported again next time.  Nothing written is lost, and
 *    /proc/P/clear_refs is never used: only the scanned range is cleared.
 *  - With CLEAR the spec allows only PAGE_IS_SOFTDIRTY in required/anyof and
 *    no excluded mask, so "present or swapped, not file" is applied to the
 *    returned bitmaps (return mask: all four categories), not as masks.  The
 *    full dump matches every page (no masks), so it clears every page; an
 *    incremental one requires PAGE_IS_SOFTDIRTY.
 *  - A page that cannot be read any more (munmapped, or made PROT_NONE,
 *    since the scan) is left out and counted as unreadable.
 *  - Where process_vm_readv is missing (ENOSYS: no CONFIG_CROSS_MEMORY_ATTACH)
 *    pages are read with pread() on /proc/P/mem instead, which also reads
 *    PROT_NONE pages.
 *
 * Image format, one directory per iteration:
 *   DIR/pagemap  text, one record a line: "<addr in hex> <npages>", in the
 *                order of the data; the records never overlap
 *   DIR/pages    the contents of the records' pages, concatenated
 *   DIR/parent   a symlink to the previous iteration's directory (absent in
 *                a full dump)
 *   DIR/stats    one line: "iter I pages N records R calls C unreadable U
 *                bytes B", B the size of pagemap and pages
 * The stats line is also printed on stdout; stats is written last, so a
 * directory without it (a dump that failed) is not an image.
 *
 * Check: P must be stopped (SIGSTOP) and DIR the last iteration of the chain,
 * taken while P was stopped.  The chain is applied oldest first (a later
 * iteration's page replaces an earlier one) into a map address -> page, then:
 *  - every page of the map must equal P's page, read as in a dump (pages
 *    that cannot be read, i.e. munmapped since, are skipped, counted);
 *  - every page of P that is present or swapped and not file-backed must be
 *    in the map, unless it is all zero: a restore fills memory that is not in
 *    the image with zeros, and a read fault maps the zero page without making
 *    it soft-dirty.
 * Limits: a page zapped by MADV_DONTNEED keeps its old contents in the image
 * (CRIU learns that from the VMA list, which this tool does not record);
 * a VMA mapped above the top of /proc/P/maps during a dump is missed (on
 * x86-64 the stack is the top VMA and mmap places new VMAs below it).
 *
 * Needs the right to ptrace-attach to P (CLEAR on another process): root.
 * Exit: 0 ok (check: the image matches), 1 failure (a call failed, the
 * check found a difference), 2 usage (bad arguments, no such pid, DIR exists,
 * PREVDIR is not an image).
 */
#define _GNU_SOURCE
#include "scan.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define ALL_CATEGORIES	(PAGE_IS_SOFTDIRTY | PAGE_IS_FILE | PAGE_IS_PRESENT | PAGE_IS_SWAPPED)
#define CHUNK_PAGES	256	/* pages copied per process_vm_readv */
#define MAX_CHAIN	1000	/* iterations a check follows (stops a parent loop) */
#define SHOW_MAX	5	/* differences printed in detail */
#define LIVE_VEC	512	/* regions per call of the check's scan */
#define USER_TOP	0x800000000000ULL	/* maps lines at or above: [vsyscall] */

static pid_t pid;
static size_t psz;

static void usage(const char *why, const char *arg)
{
	fprintf(stderr, "error: %s%s%s%s\n"
		"usage: predump --pid P --dir DIR [--parent PREVDIR] [--vec N]\n"
		"       predump --check --pid P --dir DIR\n",
		why, arg ? " '" : "", arg ? arg : "", arg ? "'" : "");
	exit(2);
}

static char *path_in(const char *dir, const char *name)
{
	static char buf[PATH_MAX];

	if ((size_t)snprintf(buf, sizeof(buf), "%s/%s", dir, name) >= sizeof(buf))
		usage("path too long:", dir);
	return buf;
}

/* ---- the target ---- */

/* The end of the highest user VMA of the target: where a scan stops */
static uint64_t top_of_maps(void)
{
	char path[64], *line = NULL;
	unsigned long long lo, hi, top = 0;
	size_t cap = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "r");
	if (!f)
		fail(path);
	while (getline(&line, &cap, f) > 0)
		if (sscanf(line, "%llx-%llx", &lo, &hi) == 2 && hi <= USER_TOP && hi > top)
			top = hi;
	free(line);
	fclose(f);
	return top;
}

/*
 * Read the target's memory through /proc/P/mem: for kernels without
 * CONFIG_CROSS_MEMORY_ATTACH (process_vm_readv gives ENOSYS)
 */
static ssize_t read_mem(uint64_t addr, void *buf, size_t len)
{
	static int fd = -1;
	char path[64];

	if (fd < 0) {
		snprintf(path, sizeof(path), "/proc/%d/mem", pid);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			fail(path);
	}
	return pread(fd, buf, len, addr);
}

/* Pages read from the target at @addr, from the first one up to a fault */
static size_t read_target(uint64_t addr, void *buf, size_t npages)
{
	static bool no_cma;
	struct iovec local = { buf, npages * psz };
	struct iovec remote = { (void *)(uintptr_t)addr, npages * psz };
	ssize_t n = -1;

	if (!no_cma) {
		n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
		no_cma = n < 0 && errno == ENOSYS;
	}
	if (no_cma)
		n = read_mem(addr, buf, npages * psz);
	/* EFAULT (process_vm_readv), EIO (/proc/P/mem): the first page is not mapped */
	if (n < 0 && errno != EFAULT && errno != EIO && errno != ENOMEM)
		fail(no_cma ? "read /proc/P/mem" : "process_vm_readv");
	return n < 0 ? 0 : (size_t)n / psz;
}

static bool is_stopped(void)
{
	char path[64], buf[512], *paren;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		fail(path);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	/* "pid (comm) S ...": comm may hold spaces and parentheses */
	paren = strrchr(buf, ')');
	return paren && (paren[2] == 'T' || paren[2] == 't');
}

/* ---- dump ---- */

struct image {
	FILE *map;
	int data;
	uint64_t rec_addr, rec_pages;	/* the record being built */
	uint64_t pages, records, calls, unreadable;
	char *buf;
};

static void flush_record(struct image *im)
{
	if (!im->rec_pages)
		return;
	if (fprintf(im->map, "%#llx %llu\n", (unsigned long long)im->rec_addr,
		    (unsigned long long)im->rec_pages) < 0)
		fail("write pagemap");
	im->records++;
	im->rec_pages = 0;
}

/* Append @n pages read from @addr: one record while they stay contiguous */
static void add_pages(struct image *im, uint64_t addr, const char *data, size_t n)
{
	size_t len = n * psz;

	if (write(im->data, data, len) != (ssize_t)len)
		fail("write pages");
	if (im->rec_pages && im->rec_addr + im->rec_pages * psz != addr)
		flush_record(im);
	if (!im->rec_pages)
		im->rec_addr = addr;
	im->rec_pages += n;
	im->pages += n;
}

/* Copy a reported region: what can be read goes in, the rest is counted */
static void copy_region(struct image *im, uint64_t addr, uint64_t npages)
{
	size_t n, got;

	while (npages) {
		n = npages < CHUNK_PAGES ? npages : CHUNK_PAGES;
		got = read_target(addr, im->buf, n);
		if (got)
			add_pages(im, addr, im->buf, got);
		else
			im->unreadable++;
		got = got ? got : 1;
		addr += got * psz;
		npages -= got;
	}
}

static bool wanted(uint64_t bitmap)
{
	return (bitmap & (PAGE_IS_PRESENT | PAGE_IS_SWAPPED)) && !(bitmap & PAGE_IS_FILE);
}

static void scan_failed(void)
{
	if (errno == EPERM)
		fprintf(stderr, "error: PAGEMAP_SCAN CLEAR on pid %d: not allowed to "
			"ptrace-attach to it (run as root)\n", pid);
	else if (errno == ESRCH)
		fprintf(stderr, "error: pid %d exited during the dump\n", pid);
	else if (errno == ENOTTY)
		fprintf(stderr, "error: this kernel has no PAGEMAP_SCAN\n");
	else if (errno == EINVAL)
		fprintf(stderr, "error: PAGEMAP_SCAN GET+CLEAR: EINVAL (a kernel without "
			"CONFIG_MEM_SOFT_DIRTY rejects CLEAR)\n");
	else
		fail("PAGEMAP_SCAN GET+CLEAR");
	exit(1);
}

/* GET+CLEAR the whole address space, resuming at walk_end, copying as it goes */
static void dump(struct image *im, bool incremental, size_t vec_len)
{
	struct page_region *vec = calloc(vec_len, sizeof(*vec));
	uint64_t addr = 0, top = top_of_maps(), end;
	long n, i;
	int pm = scan_open(pid);

	if (!vec)
		fail("calloc vec");
	while (addr < top) {
		n = scan_call(pm, PAGEMAP_SOFTDIRTY_CLEAR, (void *)(uintptr_t)addr, top - addr,
			      vec, vec_len, 0, incremental ? PAGE_IS_SOFTDIRTY : 0, 0, 0,
			      ALL_CATEGORIES, &end);
		if (n < 0)
			scan_failed();
		im->calls++;
		for (i = 0; i < n; i++)
			if (wanted(vec[i].bitmap))
				copy_region(im, vec[i].start, vec[i].len / psz);
		if (end <= addr || end > top) {
			fprintf(stderr, "error: walk_end %#llx after a call from %#llx to %#llx\n",
				(unsigned long long)end, (unsigned long long)addr,
				(unsigned long long)top);
			exit(1);
		}
		addr = end;
	}
	flush_record(im);
	close(pm);
	free(vec);
}

/* The iteration number in DIR/stats, or 0 if DIR is not an image */
static unsigned int iteration_of(const char *dir)
{
	unsigned int iter = 0;
	FILE *f = fopen(path_in(dir, "stats"), "r");

	if (f) {
		if (fscanf(f, "iter %u", &iter) != 1)
			iter = 0;
		fclose(f);
	}
	return iter;
}

static int do_dump(const char *dir, const char *parent, size_t vec_len)
{
	struct image im = {};
	unsigned int iter = 1;
	char *abs_parent = NULL;
	struct stat st;
	uint64_t bytes;
	FILE *f;

	if (parent) {
		iter = iteration_of(parent) + 1;
		abs_parent = realpath(parent, NULL);
		if (iter == 1 || !abs_parent)
			usage("--parent is not a predump image directory:", parent);
	}
	if (mkdir(dir, 0700)) {
		if (errno == EEXIST)
			usage("--dir exists already:", dir);
		fail(dir);
	}
	if (abs_parent && symlink(abs_parent, path_in(dir, "parent")))
		fail("symlink parent");
	im.map = fopen(path_in(dir, "pagemap"), "w");
	im.data = open(path_in(dir, "pages"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	im.buf = malloc(CHUNK_PAGES * psz);
	if (!im.map || im.data < 0 || !im.buf)
		fail("create the image files");
	dump(&im, parent != NULL, vec_len);
	if (fclose(im.map) || close(im.data))
		fail("close the image files");
	bytes = im.pages * psz;
	if (stat(path_in(dir, "pagemap"), &st))
		fail("stat pagemap");
	bytes += st.st_size;
	f = fopen(path_in(dir, "stats"), "w");
	if (!f)
		fail("create stats");
	fprintf(f, "iter %u pages %llu records %llu calls %llu unreadable %llu bytes %llu\n",
		iter, (unsigned long long)im.pages, (unsigned long long)im.records,
		(unsigned long long)im.calls, (unsigned long long)im.unreadable,
		(unsigned long long)bytes);
	if (fclose(f))
		fail("write stats");
	printf("predump: pid %d %s: iter %u pages %llu records %llu calls %llu "
	       "unreadable %llu bytes %llu\n", pid, dir, iter,
	       (unsigned long long)im.pages, (unsigned long long)im.records,
	       (unsigned long long)im.calls, (unsigned long long)im.unreadable,
	       (unsigned long long)bytes);
	free(abs_parent);
	free(im.buf);
	return 0;
}

/* ---- restore check ---- */

struct entry {
	uint64_t addr;
	uint64_t seq;		/* order of application: later wins */
	unsigned int iter;
	const char *data;
};

struct chain {
	struct entry *e;
	size_t n, cap;
	uint64_t seq;
};

static void push(struct chain *c, uint64_t addr, unsigned int iter, const char *data)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 4096;
		c->e = realloc(c->e, c->cap * sizeof(*c->e));
		if (!c->e)
			fail("realloc");
	}
	c->e[c->n++] = (struct entry){ addr, c->seq++, iter, data };
}

static void corrupt(const char *dir, const char *why)
{
	fprintf(stderr, "error: image %s: %s\n", dir, why);
	exit(1);
}

/* Add the records of one iteration; its pages file stays mapped */
static void load_dir(struct chain *c, const char *dir, unsigned int iter)
{
	unsigned long long addr, n, i;
	char *line = NULL, *data = NULL;
	size_t cap = 0, off = 0;
	struct stat st;
	FILE *map;
	int fd;

	map = fopen(path_in(dir, "pagemap"), "r");
	fd = open(path_in(dir, "pages"), O_RDONLY);
	if (!map || fd < 0 || fstat(fd, &st))
		corrupt(dir, "no pagemap or pages file");
	if (st.st_size) {
		data = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (data == MAP_FAILED)
			fail("mmap pages");
	}
	close(fd);
	while (getline(&line, &cap, map) > 0) {
		if (sscanf(line, "%llx %llu", &addr, &n) != 2 || addr % psz || !n)
			corrupt(dir, "bad pagemap record");
		if (n > (st.st_size - off) / psz)
			corrupt(dir, "pagemap records more pages than the pages file holds");
		for (i = 0; i < n; i++, off += psz)
			push(c, addr + i * psz, iter, data + off);
	}
	if (off != (size_t)st.st_size)
		corrupt(dir, "the pages file holds more than the pagemap records");
	free(line);
	fclose(map);
}

/* Load DIR after its parents, oldest first; returns DIR's depth (1 = full) */
static unsigned int load_chain(struct chain *c, const char *dir, unsigned int depth)
{
	char parent[PATH_MAX];
	unsigned int iter = 1;
	ssize_t n;

	if (depth > MAX_CHAIN)
		corrupt(dir, "the parent chain is too long (a loop?)");
	n = readlink(path_in(dir, "parent"), parent, sizeof(parent) - 1);
	if (n > 0) {
		parent[n] = '\0';
		iter = load_chain(c, parent, depth + 1) + 1;
	}
	load_dir(c, dir, iter);
	return iter;
}

static int by_addr_seq(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Sort and keep the last entry of every address: the restored memory */
static void flatten(struct chain *c)
{
	size_t i, k = 0;

	qsort(c->e, c->n, sizeof(*c->e), by_addr_seq);
	for (i = 0; i < c->n; i++) {
		if (k && c->e[k - 1].addr == c->e[i].addr)
			k--;
		c->e[k++] = c->e[i];
	}
	c->n = k;
}

static const struct entry *lookup(const struct chain *c, uint64_t addr)
{
	size_t lo = 0, hi = c->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (c->e[mid].addr == addr)
			return &c->e[mid];
		if (c->e[mid].addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

struct verdict {
	uint64_t compared, differ, unmapped, live, missing, zero_missing;
};

/* Every page of the image must equal the target's */
static void compare_image(const struct chain *c, struct verdict *v, char *buf)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		if (!read_target(c->e[i].addr, buf, 1)) {
			v->unmapped++;
			continue;
		}
		v->compared++;
		if (!memcmp(buf, c->e[i].data, psz))
			continue;
		if (v->differ++ < SHOW_MAX)
			printf("differ: page %#llx (from iteration %u) is not the target's\n",
			       (unsigned long long)c->e[i].addr, c->e[i].iter);
	}
}

static bool all_zero(const char *p)
{
	return !p[0] && !memcmp(p, p + 1, psz - 1);
}

/* Every present or swapped anonymous page of the target must be in the image */
static void check_live_page(const struct chain *c, struct verdict *v, uint64_t addr, char *buf)
{
	v->live++;
	if (lookup(c, addr))
		return;
	if (read_target(addr, buf, 1) && all_zero(buf)) {
		v->zero_missing++;
		return;
	}
	if (v->missing++ < SHOW_MAX)
		printf("missing: page %#llx of the target is not in the image\n",
		       (unsigned long long)addr);
}

static void check_live(const struct chain *c, struct verdict *v, char *buf)
{
	struct page_region vec[LIVE_VEC];
	uint64_t addr = 0, top = top_of_maps(), end, a;
	int pm = scan_open(pid);
	long n, i;

	while (addr < top) {
		n = scan_call(pm, 0, (void *)(uintptr_t)addr, top - addr, vec, LIVE_VEC, 0, 0,
			      PAGE_IS_PRESENT | PAGE_IS_SWAPPED, PAGE_IS_FILE, 0, &end);
		if (n < 0)
			fail("PAGEMAP_SCAN GET");
		for (i = 0; i < n; i++)
			for (a = vec[i].start; a < vec[i].start + vec[i].len; a += psz)
				check_live_page(c, v, a, buf);
		if (end <= addr) {
			fprintf(stderr, "error: PAGEMAP_SCAN GET from %#llx made no progress\n",
				(unsigned long long)addr);
			exit(1);
		}
		addr = end;
	}
	close(pm);
}

static int do_check(const char *dir)
{
	struct chain c = {};
	struct verdict v = {};
	unsigned int iters;
	char *buf = malloc(psz);

	if (!buf)
		fail("malloc");
	if (!iteration_of(dir))
		usage("--dir is not a predump image directory:", dir);
	if (!is_stopped()) {
		fprintf(stderr, "error: pid %d is not stopped: SIGSTOP it and take a last "
			"iteration first\n", pid);
		return 1;
	}
	iters = load_chain(&c, dir, 1);
	flatten(&c);
	compare_image(&c, &v, buf);
	check_live(&c, &v, buf);
	printf("check: pid %d, %u iterations, %zu pages restored: %llu compared, "
	       "%llu differ, %llu unmapped; %llu live pages: %llu missing, "
	       "%llu zero and not in the image\n", pid, iters, c.n,
	       (unsigned long long)v.compared, (unsigned long long)v.differ,
	       (unsigned long long)v.unmapped, (unsigned long long)v.live,
	       (unsigned long long)v.missing, (unsigned long long)v.zero_missing);
	free(buf);
	return v.differ || v.missing ? 1 : 0;
}

/* ---- options ---- */

int main(int argc, char **argv)
{
	const char *dir = NULL, *parent = NULL;
	size_t vec_len = 512;
	bool check = false;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--check")) {
			check = true;
			continue;
		}
		if (i + 1 == argc)
			usage("missing value or unknown argument", argv[i]);
		if (!strcmp(argv[i], "--pid"))
			pid = parse(argv[++i], "--pid", 1, INT_MAX);
		else if (!strcmp(argv[i], "--dir"))
			dir = argv[++i];
		else if (!strcmp(argv[i], "--parent"))
			parent = argv[++i];
		else if (!strcmp(argv[i], "--vec"))
			vec_len = parse(argv[++i], "--vec", 1, 1UL << 20);
		else
			usage("unknown argument", argv[i]);
	}
	if (!pid || !dir)
		usage(!pid ? "--pid is required" : "--dir is required", NULL);
	if (check && parent)
		usage("--check takes no --parent: it follows DIR/parent", NULL);
	if (kill(pid, 0) && errno == ESRCH) {
		fprintf(stderr, "error: no process with pid %d\n", pid);
		return 2;
	}
	psz = sysconf(_SC_PAGESIZE);
	setvbuf(stdout, NULL, _IOLBF, 0);
	return check ? do_check(dir) : do_dump(dir, parent, vec_len);
}
