// SPDX-License-Identifier: GPL-2.0
/* oracle: random arguments, the layout's operations, and one layout */
#define _GNU_SOURCE	/* mremap(), MAP_FIXED_NOREPLACE */
#include "oracle.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

/* The current layout: its seed, a log of its operations */
uint64_t layout_seed;
static uint64_t rnd;
char oplog[16384];
static size_t oplog_len;
uint64_t nr_layouts, nr_faults, nr_thp, nr_thp_ops, nr_shmem_thp;
uint64_t seen[4], seen_holes;

uint64_t rand_below(uint64_t n)
{
	return n ? xorshift(&rnd) % n : 0;
}

static bool one_in(uint64_t n)
{
	return rand_below(n) == 0;
}

static void log_op(const char *fmt, ...)
{
	va_list ap;
	int n;

	if (oplog_len >= sizeof(oplog) - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(oplog + oplog_len, sizeof(oplog) - oplog_len, fmt, ap);
	va_end(ap);
	if (n > 0)
		oplog_len = oplog_len + n < sizeof(oplog) ? oplog_len + n : sizeof(oplog) - 1;
}

/* ---- random arguments ---- */

/* A random page range of the arena: first page (arena-relative) and count */
static size_t rand_range(size_t *first)
{
	static const size_t max_len[] = { 16, 256, ARENA_PAGES };
	size_t n;

	*first = rand_below(ARENA_PAGES);
	n = 1 + rand_below(max_len[rand_below(3)]);
	return n < ARENA_PAGES - *first ? n : ARENA_PAGES - *first;
}

static uint64_t rand_mask(unsigned int one_in_n)
{
	uint64_t m = 0;

	for (int b = 0; b < 4; b++)
		if (one_in(one_in_n))
			m |= 1ULL << b;
	return m;
}

/* A valid call on a random part of the window (spec "What one call does") */
void random_call(struct call *c, bool clear)
{
	size_t first = rand_below(WIN_PAGES), n = 1 + rand_below(WIN_PAGES - first);

	memset(c, 0, sizeof(*c));
	if (one_in(4))
		n = 1 + rand_below(n < 64 ? n : 64);
	c->start = WIN_ADDR + first * PSZ;
	c->len = n * PSZ - (one_in(4) ? rand_below(PSZ) : 0);	/* end rounds up */
	if (one_in(64))
		c->len = 0;
	c->flags = clear ? CLEAR : 0;
	if (!clear || !one_in(3)) {
		static const uint64_t lens[] = { 1, 2, 3, 8, WIN_PAGES };

		c->vec_len = 1 + rand_below(lens[rand_below(5)]);
	}
	if (one_in(2))
		c->max_pages = 1 + rand_below(one_in(2) ? 8 : WIN_PAGES);
	if (clear) {
		/* with CLEAR only soft-dirty in required/anyof, excluded 0 */
		c->required = one_in(2) ? SD : 0;
		c->anyof = one_in(3) ? SD : 0;
	} else {
		c->required = rand_mask(5) & cats;
		c->anyof = one_in(3) ? rand_mask(2) & cats : 0;
		c->excluded = rand_mask(6) & cats & ~c->required;
		if (one_in(8))	/* a filter nothing passes */
			c->excluded = rand_mask(2) & cats;
	}
	c->ret_mask = one_in(4) ? cats : rand_below(16) & cats;
}

/* ---- the layout's operations ---- */

static sigjmp_buf fault_jmp;

void on_fault(int sig)
{
	siglongjmp(fault_jmp, sig);
}

/*
 * Write or read @n pages from arena page @first where maps allows it.  A
 * fault (SIGBUS past a file's end) is caught and counted, not fatal.
 */
static void touch(size_t first, size_t n, bool write)
{
	static volatile size_t i;
	volatile char *p;

	read_maps();
	for (i = first; i < first + n; i++) {
		size_t w = GUARD_PAGES + i;

		if (!(perm[w] & (write ? CAN_WRITE : CAN_READ)))
			continue;
		p = page_addr(w) + rand_below(PSZ);
		if (sigsetjmp(fault_jmp, 1)) {
			nr_faults++;
			continue;
		}
		if (write)
			*p = (char)i;
		else
			(void)*p;
	}
}

/* A fresh mapping of a random kind: the layout's building block */
static void op_map(size_t first, size_t n)
{
	static const char *const kinds[] = { "anon", "shared-anon", "memfd", "file",
					     "private-file" };
	int kind = rand_below(5), prot = one_in(4) ? PROT_READ : PROT_READ | PROT_WRITE;
	int flags = MAP_FIXED | (kind == 0 || kind == 4 ? MAP_PRIVATE : MAP_SHARED);
	int fd = kind == 2 ? memfd : kind >= 3 ? filefd : -1;

	if (fd < 0)
		flags |= MAP_ANONYMOUS;
	log_op(" map-%s%s(%zu+%zu)", kinds[kind], prot & PROT_WRITE ? "" : "-ro", first, n);
	if (mmap(arena + first * PSZ, n * PSZ, prot, flags, fd,
		 fd < 0 ? 0 : first * PSZ) == MAP_FAILED)
		fail("mmap MAP_FIXED in the arena");
}

/* mremap part of a VMA: move it (MREMAP_FIXED, in the arena) or resize in place */
static void op_mremap(size_t first, size_t n)
{
	size_t w = GUARD_PAGES + first, len = n, dest, new_len;
	void *to;

	read_maps();
	/* mremap needs the old range in one VMA: stop at its first change */
	for (len = 1; len < n && perm[w + len] == perm[w]; len++)
		;
	if (!(perm[w] & IN_VMA))
		return;
	new_len = 1 + rand_below(2 * len < ARENA_PAGES ? 2 * len : ARENA_PAGES);
	if ((perm[w] & SHARED) && new_len > len)	/* a grown shmem tail would SIGBUS */
		new_len = len;
	if (one_in(3)) {
		if (first + new_len > ARENA_PAGES)
			new_len = ARENA_PAGES - first;
		log_op(" mremap(%zu+%zu->%zu)%s", first, len, new_len,
		       mremap(arena + first * PSZ, len * PSZ, new_len * PSZ, 0) ==
		       MAP_FAILED ? "=fail" : "");
		return;
	}
	dest = rand_below(ARENA_PAGES - new_len + 1);
	to = arena + dest * PSZ;
	log_op(" mremap(%zu+%zu->%zu+%zu)%s", first, len, dest, new_len,
	       mremap(arena + first * PSZ, len * PSZ, new_len * PSZ,
		      MREMAP_MAYMOVE | MREMAP_FIXED, to) == MAP_FAILED ? "=fail" : "");
}

/* AnonHugePages of the process: whether THP is really exercised */
static unsigned long anon_huge_kb(void)
{
	FILE *f = fopen("/proc/self/smaps_rollup", "r");
	unsigned long kb = 0;
	char *line = NULL;
	size_t cap = 0;

	if (!f)
		return 0;
	while (getline(&line, &cap, f) > 0)
		if (sscanf(line, "AnonHugePages: %lu", &kb) == 1)
			break;
	free(line);
	fclose(f);
	return kb;
}

/* A THP in a random 2 MiB slot: fault one in, maybe collapse, then keep khugepaged out */
static void op_thp(void)
{
	size_t first = rand_below(ARENA_PAGES / HUGE_PAGES) * HUGE_PAGES;
	char *p = arena + first * PSZ;
	bool fresh = one_in(2), collapse = one_in(2), zero = one_in(4) && huge_zero;

	unsigned long shmem_huge = vmstat("nr_shmem_hugepages");

	log_op(" thp%s%s%s(%zu)", fresh ? "-fresh" : "", zero ? "-zero" : "",
	       collapse ? "-collapse" : "", first);
	if (fresh && mmap(p, HUGE_PAGES * PSZ, PROT_READ | PROT_WRITE,
			  MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED)
		fail("mmap a THP slot");
	madvise(p, HUGE_PAGES * PSZ, MADV_HUGEPAGE);
	touch(first, 1, !zero);		/* a read faults in the huge zero page */
	if (!zero)
		touch(first + rand_below(HUGE_PAGES - 32), 1 + rand_below(32), true);
	if (collapse)
		madvise(p, HUGE_PAGES * PSZ, MADV_COLLAPSE);	/* may fail */
	madvise(p, HUGE_PAGES * PSZ, MADV_NOHUGEPAGE);
	nr_thp_ops++;
	nr_thp += anon_huge_kb() > 0;
	nr_shmem_thp += vmstat("nr_shmem_hugepages") > shmem_huge;
}

/*
 * fork: the child writes pages (COW for private ones) and exits.  At most
 * FORK_WRITES of them: copying more costs time and tests nothing new.
 */
static void op_fork(size_t first, size_t n)
{
	pid_t pid;
	int status;

	if (n > FORK_WRITES) {
		first += rand_below(n - FORK_WRITES + 1);
		n = FORK_WRITES;
	}
	log_op(" fork-write(%zu+%zu)", first, n);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		fail("fork");
	if (!pid) {
		touch(first, n, true);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid)
		fail("waitpid");
}

static void op_clear_refs(void)
{
	log_op(" clear_refs");
	clear_refs_self();
}

static void op_scan_clear(void)
{
	struct call c;

	if (no_sd) {
		rejected_call(&c, "a rejected call in the layout's operations");
		log_op(" rejected-scan(flags %#llx,req %llx,any %llx,excl %llx,ret %llx)",
		       (unsigned long long)c.flags, (unsigned long long)c.required,
		       (unsigned long long)c.anyof, (unsigned long long)c.excluded,
		       (unsigned long long)c.ret_mask);
		return;
	}
	random_call(&c, true);
	c.why = "CLEAR in the layout's operations";
	log_op(" scan-clear(%#llx+%#llx,vec_len %llu,max %llu,req %llx,any %llx)",
	       (unsigned long long)c.start, (unsigned long long)c.len,
	       (unsigned long long)c.vec_len, (unsigned long long)c.max_pages,
	       (unsigned long long)c.required, (unsigned long long)c.anyof);
	checked_call(&c, REGIONS);
}

static void op_madvise(size_t first, size_t n, int advice, const char *name)
{
	log_op(" %s(%zu+%zu)", name, first, n);
	madvise(arena + first * PSZ, n * PSZ, advice);	/* ENOMEM over holes: fine */
}

static void op_mprotect(size_t first, size_t n)
{
	static const int prots[] = { PROT_NONE, PROT_READ, PROT_READ | PROT_WRITE };
	int k = rand_below(3);

	log_op(" mprotect-%d(%zu+%zu)", k, first, n);
	mprotect(arena + first * PSZ, n * PSZ, prots[k]);	/* ENOMEM over holes: fine */
}

/* One random operation; the weights favour mappings, writes and swap-out */
static void random_op(void)
{
	size_t first, n = rand_range(&first);

	switch (rand_below(20)) {
	case 0: case 1: case 2: case 3:
		op_map(first, n);
		break;
	case 4:
		log_op(" munmap(%zu+%zu)", first, n);
		munmap(arena + first * PSZ, n * PSZ);
		break;
	case 5:
		op_mprotect(first, n);
		break;
	case 6:
		op_mremap(first, n);
		break;
	case 7: case 8: case 9:
		log_op(" write(%zu+%zu)", first, n);
		touch(first, n, true);
		break;
	case 10:
		log_op(" read(%zu+%zu)", first, n);
		touch(first, n, false);
		break;
	case 11: case 12: case 13:
		if (one_in(2)) {	/* most of the arena: swap entries survive more ops */
			first = rand_below(ARENA_PAGES / 4);
			n = ARENA_PAGES - first;
		}
		op_madvise(first, n, MADV_PAGEOUT, "pageout");
		break;
	case 14:
		op_madvise(first, n, MADV_DONTNEED, "dontneed");
		break;
	case 15:
		op_thp();
		break;
	case 16:
		op_fork(first, n);
		break;
	case 17: case 18:
		op_scan_clear();
		break;
	default:
		op_clear_refs();
	}
}

/* ---- layouts ---- */

/* The arena back to one PROT_NONE reservation, the files back to holes */
static void reset_arena(void)
{
	if (munmap(win, WIN_PAGES * PSZ))
		fail("munmap the window");
	if (mmap(arena, ARENA_PAGES * PSZ, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) != arena)
		fail("mmap the arena at its fixed address");
	if (ftruncate(memfd, 0) || ftruncate(memfd, FILE_SIZE) ||
	    ftruncate(filefd, 0) || ftruncate(filefd, FILE_SIZE))
		fail("reset the backing files");
}

/* What the complete scan saw, from the pagemap read before it */
static void count_coverage(void)
{
	for (size_t i = 0; i < WIN_PAGES; i++) {
		seen_holes += !(perm[i] & IN_VMA);
		for (int b = 0; b < 4; b++)
			seen[b] += (perm[i] & IN_VMA) && (pm_categories(before[i]) & (1ULL << b));
	}
}

void run_layout(size_t index)
{
	size_t i, nops;
	struct call c;

	layout_seed = seed + index;
	rnd = layout_seed * 0x9e3779b97f4a7c15ULL | 1;	/* never 0 */
	oplog_len = 0;
	oplog[0] = '\0';
	reset_arena();
	nops = 4 + rand_below(MAX_OPS - 3);	/* 4..MAX_OPS */
	for (i = 0; i < nops; i++)
		random_op();

	/* every page of the window, categories unfiltered */
	memset(&c, 0, sizeof(c));
	c.start = WIN_ADDR;
	c.len = WIN_PAGES * PSZ;
	c.vec_len = WIN_PAGES;
	c.ret_mask = cats;
	c.why = "complete unfiltered scan";
	checked_call(&c, PAGES);
	count_coverage();

	for (i = 0; i < scans; i++) {
		bool clear = one_in(3);

		if (clear && no_sd) {
			rejected_call(&c, "rejected random scan");
			continue;
		}
		random_call(&c, clear);
		c.why = "random scan";
		checked_call(&c, REGIONS);
	}
	nr_layouts++;
}
