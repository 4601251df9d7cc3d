// SPDX-License-Identifier: GPL-2.0
/* lostwrite: the writers, and the thread beside them: pager, chaos, migration or churn */
#define _GNU_SOURCE
#include "lostwrite.h"

#include <errno.h>
#include <linux/mempolicy.h>	/* MPOL_MF_MOVE */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

unsigned long churn_ops, churn_moves;

/* ---- writers and the pager ---- */

/* Wait for the collector's next call: writes must overlap many calls */
static void pace(void)
{
	unsigned long calls = __atomic_load_n(&calls_done, __ATOMIC_ACQUIRE);

	while (__atomic_load_n(&calls_done, __ATOMIC_ACQUIRE) == calls)
		sched_yield();
}

/* Writer @me owns the pages p with p % WRITERS == me: one writer a counter */
void *writer(void *arg)
{
	size_t me = (uintptr_t)arg, n, page, mine = (npages - me + WRITERS - 1) / WRITERS;
	uint64_t rnd = seed * 2654435761u + me + 1;

	for (n = 0; n < writes / WRITERS; n++) {
		page = (xorshift(&rnd) % mine) * WRITERS + me;
		__atomic_store_n(counter(page), load(page) + 1, __ATOMIC_RELEASE);
		if (n % burst == burst - 1)
			pace();
	}
	__atomic_add_fetch(&writers_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* A random sub-range of @pages from @base: *@len bytes from the returned address */
static char *random_part(uint64_t *rnd, char *base, size_t pages, size_t *len)
{
	size_t first = xorshift(rnd) % pages;

	*len = (1 + xorshift(rnd) % (pages - first)) * psz;
	return base + first * psz;
}

/* Push random parts of the region out to swap while the others run */
static void pageout(uint64_t *rnd)
{
	size_t len;
	char *p = random_part(rnd, region, npages, &len);

	if (madvise(p, len, MADV_PAGEOUT) && errno != EINVAL)
		fail("madvise(MADV_PAGEOUT)");
}

/*
 * Change the region's VMAs and page tables under the writers and the
 * collector, keeping its contents: split and merge VMAs (mprotect adding
 * PROT_EXEC, MADV_NOHUGEPAGE), collapse THPs, swap out, write-protect
 * every private PTE for COW (fork), and map and unmap next to the region.
 * Failures that the kernel is allowed (EINVAL, EAGAIN, EBUSY, ENOMEM,
 * EEXIST) are ignored: what is checked is that no write is lost, nothing
 * splats and nothing hangs.
 */
static void chaos(uint64_t *rnd)
{
	char *end = region + npages * psz, *p;
	size_t len;
	pid_t pid;

	p = random_part(rnd, region, npages, &len);
	switch (xorshift(rnd) % 6) {
	case 0:
		if (!mprotect(p, len, PROT_READ | PROT_WRITE | PROT_EXEC))
			mprotect(p, len, PROT_READ | PROT_WRITE);
		break;
	case 1:
		madvise(p, len, MADV_NOHUGEPAGE);
		madvise(p, len, V->thp ? MADV_HUGEPAGE : MADV_NORMAL);
		break;
	case 2:
		madvise(p, len, MADV_COLLAPSE);
		break;
	case 3:
		/*
		 * Not on a shared file: its page cache PTEs keep no soft-dirty
		 * marker when paged out (shmem's do)
		 */
		if (V->backing != FILE_SHARED)
			pageout(rnd);
		break;
	case 4:
		pid = fork();
		if (!pid)
			_exit(0);
		if (pid < 0 || waitpid(pid, NULL, 0) != pid)
			fail("fork and wait for a child");
		break;
	default:
		p = mmap(end, psz, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		if (p == end) {
			*p = 1;
			munmap(p, psz);
		}
		break;
	}
}

/*
 * Move a random part of the region (at most SPAN pages) to a random NUMA
 * node with move_pages(2), so that the collector meets migration entries,
 * PTE ones and, with THP, PMD ones.  On a shared backing the part is often
 * mapped again in place first and read: the new VMA has VM_SOFTDIRTY, so no
 * write-notify, and the read faults map its pages writable and clean.  Then
 * only a migration entry made read-only by a CLEAR makes the first write
 * after the migration fault.  Failures the kernel is allowed are ignored.
 */
static void migrate(uint64_t *rnd)
{
	static void *pages[SPAN];
	static int nodes[SPAN], status[SPAN];
	size_t len, n, i;
	char *p = random_part(rnd, region, npages, &len);
	int node = xorshift(rnd) % 2;

	n = len / psz < SPAN ? len / psz : SPAN;
	if (churn_fd >= 0 && xorshift(rnd) % 2) {
		if (mmap(p, n * psz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, churn_fd,
			 p - region) != p)
			fail("mmap MAP_FIXED a part of the region again");
		for (i = 0; i < n; i++)
			(void)*(volatile char *)(p + i * psz);
	}
	for (i = 0; i < n; i++) {
		pages[i] = p + i * psz;
		nodes[i] = node;
	}
	if (syscall(SYS_move_pages, 0, n, pages, nodes, status, MPOL_MF_MOVE) < 0 &&
	    errno != ENOMEM && errno != EBUSY && errno != EAGAIN)
		fail("move_pages");
	churn_ops++;
}

/* ---- the race variants' churn thread ---- */

/* Map @len bytes at @p of the churn part again, as map_region() did */
static void map_piece(char *p, size_t len)
{
	if (mmap(p, len, PROT_READ | PROT_WRITE, map_flags(V, churn_fd) | MAP_FIXED,
		 churn_fd, churn_fd < 0 ? 0 : p - churn) != p)
		fail("mmap MAP_FIXED a piece of the churn part");
	if (V->thp)
		madvise(p, len, MADV_HUGEPAGE);
}

/*
 * mremap a piece away to the parking place and back, then park again.  Not
 * if the piece spans VMAs (EFAULT): madvise and other moves split them.
 */
static void move_piece(char *p, size_t len)
{
	if (mremap(p, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, parking) != parking) {
		if (errno != EFAULT)
			fail("mremap a piece of the churn part away");
		return;
	}
	churn_moves++;
	if (mremap(parking, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, p) != p)
		fail("mremap a piece of the churn part back");
	if (mmap(parking, churn_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE |
		 MAP_FIXED, -1, 0) != parking)
		fail("mmap the parking place again");
}

/*
 * Change the churn part, in the checked region's VMA, under the writers and
 * all scanners: write it, unmap and map it again, move it, split and merge
 * the VMA, zap, swap out, collapse and COW its pages.  The churn part is
 * mapped read-write again before each return: this thread writes it.  What
 * the kernel may refuse (madvise) is ignored.
 */
static void churn_once(uint64_t *rnd)
{
	size_t len, i;
	char *p;
	pid_t pid;

	for (i = 0; i < 8; i++)
		churn[xorshift(rnd) % churn_len & ~(psz - 1)]++;
	p = random_part(rnd, churn, churn_len / psz, &len);
	switch (xorshift(rnd) % 7) {
	case 0:
		if (xorshift(rnd) % 2 && munmap(p, len))
			fail("munmap a piece of the churn part");
		map_piece(p, len);
		break;
	case 1:
		move_piece(p, len);
		break;
	case 2:
		if (mprotect(p, len, PROT_READ))
			fail("mprotect a piece of the churn part read-only");
		usleep(100);
		if (mprotect(p, len, PROT_READ | PROT_WRITE))
			fail("mprotect a piece of the churn part read-write");
		break;
	case 3:
		madvise(p, len, MADV_DONTNEED);
		break;
	case 4:
		madvise(p, len, MADV_PAGEOUT);
		break;
	case 5:
		madvise(p, len, MADV_HUGEPAGE);
		madvise(p, len, MADV_COLLAPSE);
		break;
	default:
		pid = fork();
		if (!pid) {
			*p = 1;	/* COW in the child */
			_exit(0);
		}
		if (pid < 0 || waitpid(pid, NULL, 0) != pid)
			fail("fork and wait for a child");
		break;
	}
	churn_ops++;
}

/* The thread that runs beside the writers and the collector, if any */
void *extra(void *arg)
{
	uint64_t rnd = seed + 77;

	(void)arg;
	while (!stop) {
		if (V->extra == PAGEOUT)
			pageout(&rnd);
		else if (V->extra == CHAOS)
			chaos(&rnd);
		else if (V->extra == MIGRATE)
			migrate(&rnd);
		else
			churn_once(&rnd);
		usleep(1000);
	}
	return NULL;
}
