// SPDX-License-Identifier: GPL-2.0
/*
 * lostwrite: no write is lost by PAGEMAP_SCAN GET+CLEAR under concurrency.
 *
 *   lostwrite [--writes N] [--pages N] [--burst N] [--seed S]
 *             [--variants NAME[,NAME]...]
 *
 * Writer threads write random pages of a tracked region, each page holding a
 * counter that only its owner thread increments.  Meanwhile a collector loops
 * GET+CLEAR over random sub-ranges, with random max_pages and vec_len,
 * resuming at walk_end.  The check, for every page a call examined (below its
 * walk_end) and did not report: its counter, read before the call, must
 * equal the value read right after the call that last reported it.  A write
 * after that read made the page soft-dirty after its last clear, so a call
 * that does not report it lost the write, even if a later write to the same
 * page would hide the loss.  A final complete pass after the writers stopped
 * checks the last write of every page.  Violations must be 0.
 *
 * Variants, each in its own child process: anon, shmem (memfd), file (a
 * MAP_SHARED file in /tmp), private-file (MAP_PRIVATE, COW), thp
 * (MADV_HUGEPAGE), swap (anon with a thread doing MADV_PAGEOUT meanwhile),
 * swap-shmem (the same on shmem, whose PTEs keep soft-dirty in a marker
 * when paged out), thp-shmem, swap-thp-shmem (memfd with MADV_HUGEPAGE and
 * shmem_enabled advise), chaos-thp-shmem (shmem_enabled always), thp-tmpfs
 * and chaos-thp-tmpfs (a file on a tmpfs of their own mounted huge=always):
 * a shmem THP variant fails if no shmem THP is made; chaos, chaos-thp,
 * chaos-shmem (a thread changing VMAs and
 * page tables meanwhile: see chaos()), nrr-anon, nrr-shmem, nrr-chaos
 * (PAGEMAP_NO_REUSED_REGIONS; SKIP if rejected), and race-anon, race-shmem,
 * race-thp, race-nrr: races on the tracked mapping itself.  There the
 * mapping holds a churn part of 2 MiB before the checked region, in the same
 * VMA, and a hole of a page on each side.  A thread writes the churn part,
 * munmaps and maps it back, mremaps pieces away and back, mprotects pieces
 * RO and back (splitting and merging the checked region's VMA too),
 * MADV_DONTNEED / PAGEOUT / HUGEPAGE / COLLAPSE and forks (see churn_once()).
 * Two more scanners run meanwhile: GET only over everything (holes, churn
 * part and region: a GET changes no state, so it hides nothing from the
 * collector) and GET+CLEAR over the churn part and its hole, with random
 * masks, max_pages and vec_len.  Each of their calls must give an output
 * the spec allows whatever the races: no error but ENOMEM, a page-aligned
 * walk_end in (start, end], sorted, maximal, non-overlapping regions inside
 * [start, walk_end), none in a hole, bitmaps that match the masks, at most
 * vec_len regions and max_pages pages, and a stop before the end only when
 * one of them is reached.  migrate, migrate-shmem and migrate-thp: a thread
 * moves parts of the region between NUMA nodes with move_pages(2), mapping
 * shared parts again and reading them first so that their PTEs are
 * writable and clean (see migrate()); SKIP with one node.  They found that
 * clearing a writable migration entry lost the next write (main-series
 * patch 4).  twin, twin-shmem and twin-thp: a second GET+CLEAR collector
 * loops over random sub-ranges of the same pages, so the two clear the same
 * pages concurrently.  A page a call does not report must then not have
 * been written since the last report of it by either collector: each call
 * takes a ticket before and after, publishes its reports, and checks only
 * when the other collector's calls that began before it ended have
 * published theirs (see check_call()).
 * Output: kselftest TAP, one result per variant.  Exit: 0 ok, 1 a variant
 * failed, 2 usage.
 */
#define _GNU_SOURCE
#include "scan.h"
#include "kselftest.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/mempolicy.h>	/* MPOL_MF_MOVE */
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define WRITERS		2
#define HUGE_SIZE	(2UL << 20)
#define MAX_VEC		64
#define SHOW_MAX	5	/* violations printed in detail */
#define SPAN		256	/* most pages of a sub-range, but every 16th round */

enum backing { ANON, SHMEM, FILE_SHARED, FILE_PRIVATE, TMPFS_HUGE };

/* What runs beside the writers and the collector */
enum extra { NONE, PAGEOUT, CHAOS, RACE, MIGRATE, TWIN };

struct variant {
	const char *name;
	enum backing backing;
	const char *thp;	/* MADV_HUGEPAGE; for shmem also shmem_enabled's value */
	bool nrr;
	enum extra extra;
};

static const struct variant variants[] = {
	{ "anon", ANON, NULL, false, NONE },
	{ "shmem", SHMEM, NULL, false, NONE },
	{ "file", FILE_SHARED, NULL, false, NONE },
	{ "private-file", FILE_PRIVATE, NULL, false, NONE },
	{ "thp", ANON, "advise", false, NONE },
	{ "swap", ANON, NULL, false, PAGEOUT },
	{ "swap-shmem", SHMEM, NULL, false, PAGEOUT },
	{ "chaos", ANON, NULL, false, CHAOS },
	{ "chaos-thp", ANON, "advise", false, CHAOS },
	{ "chaos-shmem", SHMEM, NULL, false, CHAOS },
	{ "nrr-anon", ANON, NULL, true, NONE },
	{ "nrr-shmem", SHMEM, NULL, true, NONE },
	{ "nrr-chaos", ANON, NULL, true, CHAOS },
	{ "race-anon", ANON, NULL, false, RACE },
	{ "race-shmem", SHMEM, NULL, false, RACE },
	{ "race-thp", ANON, "advise", false, RACE },
	{ "race-nrr", ANON, NULL, true, RACE },
	{ "migrate", ANON, NULL, false, MIGRATE },
	{ "migrate-shmem", SHMEM, NULL, false, MIGRATE },
	{ "migrate-thp", ANON, "advise", false, MIGRATE },
	{ "twin", ANON, NULL, false, TWIN },
	{ "twin-shmem", SHMEM, NULL, false, TWIN },
	{ "twin-thp", ANON, "advise", false, TWIN },
	{ "thp-shmem", SHMEM, "advise", false, NONE },
	{ "swap-thp-shmem", SHMEM, "advise", false, PAGEOUT },
	{ "chaos-thp-shmem", SHMEM, "always", false, CHAOS },
	{ "thp-tmpfs", TMPFS_HUGE, "advise", false, NONE },
	{ "chaos-thp-tmpfs", TMPFS_HUGE, "advise", false, CHAOS },
};
#define NR_VARIANTS (sizeof(variants) / sizeof(variants[0]))

/* The run's parameters, and the state one variant's child works on */
static size_t writes = 100000, npages = 4096, psz;
static size_t burst = 32;	/* writes of a writer between two collector calls */
static uint64_t seed = 1;
static bool variant_off[NR_VARIANTS];

static const struct variant *V;
static char *region;
static int pm;
static volatile int stop;
static int writers_done;
static unsigned long calls_done;	/* by the collector, to pace the writers */
static uint64_t *seen;		/* counter read after the last report, by anyone */

/* The race variants' churn part [churn, region), its file and parking place */
static char *churn, *parking;
static size_t churn_len;
static int churn_fd = -1;
static unsigned long churn_ops, churn_moves, scanner_calls, scanner_enomem, scanner_bad;

struct stats {
	uint64_t calls, reported, examined, violations;
};

/* A GET+CLEAR collector: the twin variants run two on the same pages */
struct collector {
	int id;
	uint64_t *before;	/* counter read before the current call */
	uint64_t rnd;
	struct stats st;
};

/*
 * Call order across the collectors: a ticket is taken before each call and
 * after it, and in_flight[id] holds the start ticket of a collector's call
 * whose reports are not published in seen[] yet (else UINT64_MAX).
 */
static uint64_t ticket;
static uint64_t in_flight[2] = { UINT64_MAX, UINT64_MAX };

/* ---- the tracked region ---- */

/* Whether @v tracks shmem THPs: memfd, or a tmpfs mounted huge=always */
static bool shmem_thp(const struct variant *v)
{
	return v->thp && (v->backing == SHMEM || v->backing == TMPFS_HUGE);
}

/* A file on a tmpfs of its own mounted huge=always, which goes with the fd */
static int huge_tmpfs_file(void)
{
	char dir[] = "/tmp/lostwrite-huge-XXXXXX", path[64];
	int fd;

	if (!mkdtemp(dir) || mount("tmpfs", dir, "tmpfs", 0, "huge=always"))
		fail("mount a tmpfs with huge=always");
	snprintf(path, sizeof(path), "%s/file", dir);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (umount2(dir, MNT_DETACH) || rmdir(dir))
		fail("detach the huge tmpfs");
	return fd;
}

static int backing_fd(enum backing b, size_t len)
{
	char path[] = "/tmp/lostwrite-XXXXXX";
	int fd;

	if (b == ANON)
		return -1;
	if (b == SHMEM)
		fd = memfd_create("lostwrite", 0);
	else if (b == TMPFS_HUGE)
		fd = huge_tmpfs_file();
	else if ((fd = mkstemp(path)) >= 0)
		unlink(path);
	if (fd < 0 || ftruncate(fd, len))
		fail("create the backing file");
	return fd;
}

static int map_flags(const struct variant *v, int fd)
{
	return (v->backing == FILE_PRIVATE || v->backing == ANON ? MAP_PRIVATE : MAP_SHARED) |
	       (fd < 0 ? MAP_ANONYMOUS : 0);
}

/*
 * The region, and for the race variants the churn part before it in the
 * same mapping (file offset 0), with a hole of a page before and after
 */
static char *map_region(const struct variant *v)
{
	bool race = v->extra == RACE;
	size_t head = race ? churn_len : 0, guard = race ? psz : 0;
	size_t len = head + npages * psz, span = len + 2 * guard + (v->thp ? HUGE_SIZE : 0);
	int fd = backing_fd(v->backing, len);
	char *res, *p;

	/* THP needs a 2 MiB aligned region: reserve, then map inside */
	res = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (res == MAP_FAILED)
		fail("mmap the reservation");
	p = res + guard + head;
	if (v->thp)
		p = (char *)(((uintptr_t)p + HUGE_SIZE - 1) & ~(HUGE_SIZE - 1));
	p = mmap(p - head, len, PROT_READ | PROT_WRITE, map_flags(v, fd) | MAP_FIXED, fd, 0);
	if (p == MAP_FAILED)
		fail("mmap the region");
	if (v->thp && madvise(p, len, MADV_HUGEPAGE))
		fail("madvise(MADV_HUGEPAGE)");
	/* The holes: a PROT_NONE VMA would have soft-dirty pages */
	if (race && (munmap(res, p - res) || munmap(p + len, res + span - p - len)))
		fail("munmap the holes");
	if (race || v->extra == MIGRATE)
		churn_fd = fd;
	else if (fd >= 0)
		close(fd);
	memset(p, 0, len);	/* populate: counters start at 0 */
	churn = p;
	return p + head;
}

static uint64_t *counter(size_t page)
{
	return (uint64_t *)(region + page * psz);
}

static uint64_t load(size_t page)
{
	return __atomic_load_n(counter(page), __ATOMIC_ACQUIRE);
}

/* ---- writers and the pager ---- */

/* Wait for the collector's next call: writes must overlap many calls */
static void pace(void)
{
	unsigned long calls = __atomic_load_n(&calls_done, __ATOMIC_ACQUIRE);

	while (__atomic_load_n(&calls_done, __ATOMIC_ACQUIRE) == calls)
		sched_yield();
}

/* Writer @me owns the pages p with p % WRITERS == me: one writer a counter */
static void *writer(void *arg)
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
static void *extra(void *arg)
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

/* ---- the race variants' extra scanners ---- */

/* One call's parameters */
struct query {
	uint64_t flags, max_pages, required, anyof, excluded, ret;
	size_t vec_len;		/* 0: no vec */
};

#define ALL_CATEGORIES	(PAGE_IS_SOFTDIRTY | PAGE_IS_FILE | PAGE_IS_PRESENT | PAGE_IS_SWAPPED)

/* Random parameters: any for a GET, those the spec allows for a CLEAR */
static struct query random_query(uint64_t *rnd, bool clear)
{
	struct query q = { .flags = V->nrr ? PAGEMAP_NO_REUSED_REGIONS : 0 };

	q.vec_len = 1 + xorshift(rnd) % MAX_VEC;
	q.max_pages = xorshift(rnd) % 2 ? 0 : 1 + xorshift(rnd) % SPAN;
	q.ret = xorshift(rnd) & ALL_CATEGORIES;
	if (!clear) {
		/* Few bits mostly: a query that nothing matches checks little */
		q.required = xorshift(rnd) & xorshift(rnd) & ALL_CATEGORIES;
		q.anyof = xorshift(rnd) & xorshift(rnd) & ALL_CATEGORIES;
		q.excluded = xorshift(rnd) & xorshift(rnd) & ~q.required & ALL_CATEGORIES;
		return q;
	}
	q.flags |= PAGEMAP_SOFTDIRTY_CLEAR;
	if (xorshift(rnd) % 3 == 0)
		q.required = PAGE_IS_SOFTDIRTY;
	else if (xorshift(rnd) % 2)
		q.anyof = PAGE_IS_SOFTDIRTY;
	if (xorshift(rnd) % 8 == 0)
		q.vec_len = 0;
	return q;
}

/* A call's output the spec does not allow: counted, the first few shown */
static bool bad(const char *who, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (__atomic_fetch_add(&scanner_bad, 1, __ATOMIC_RELAXED) < SHOW_MAX)
		ksft_print_msg("%s: %s scanner: %s\n", V->name, who, msg);
	return false;
}

/* Whether [@s, @e) meets a hole, which nothing may be mapped in but by chance */
static bool in_hole(uint64_t s, uint64_t e)
{
	char *holes[] = { churn - psz, region + npages * psz };

	for (size_t i = 0; i < 2; i++)
		if (s < (uintptr_t)holes[i] + psz && e > (uintptr_t)holes[i] &&
		    !count_vmas(holes[i], psz))
			return true;
	return false;
}

/* Whether one region's bitmap is one @q can report */
static bool bitmap_ok(const struct query *q, uint64_t b)
{
	return !(b & ~q->ret) && (b & q->required & q->ret) == (q->required & q->ret) &&
	       !(b & q->excluded & q->ret) &&
	       (!q->anyof || (q->anyof & ~q->ret) || (b & q->anyof));
}

/*
 * Check a call of @q over [@s, @e) that returned @n and @end: whatever
 * changed in the range meanwhile, the output must be one the spec allows
 */
static bool check_output(const char *who, const struct query *q, uint64_t s, uint64_t e,
			 const struct page_region *vec, long n, uint64_t end)
{
	uint64_t last = s, pages = 0;
	long i;

	if (n < 0 && errno == ENOMEM) {
		/* Allowed (a VMA split failed), but the output means nothing */
		__atomic_add_fetch(&scanner_enomem, 1, __ATOMIC_RELAXED);
		return false;
	}
	if (n < 0)
		return bad(who, "error %d (%s)", errno, strerror(errno));
	if (end % psz || end <= s || end > e)
		return bad(who, "walk_end %#llx outside (%#llx, %#llx]",
			   (unsigned long long)end, (unsigned long long)s, (unsigned long long)e);
	if ((size_t)n > q->vec_len)
		return bad(who, "%ld regions for a vec_len of %zu", n, q->vec_len);
	for (i = 0; i < n; i++) {
		const struct page_region *r = &vec[i];

		if (r->start % psz || !r->len || r->len % psz || r->start < last ||
		    r->start + r->len > end || r->start + r->len < r->start)
			return bad(who, "region %ld [%#llx, +%#llx) unaligned, unsorted or out "
				   "of [%#llx, %#llx)", i, (unsigned long long)r->start,
				   (unsigned long long)r->len, (unsigned long long)s,
				   (unsigned long long)end);
		if (i && r->start == last && r->bitmap == vec[i - 1].bitmap)
			return bad(who, "regions %ld and %ld touch with equal bitmaps", i - 1, i);
		if (!bitmap_ok(q, r->bitmap))
			return bad(who, "region %ld bitmap %#llx does not match the masks", i,
				   (unsigned long long)r->bitmap);
		if (in_hole(r->start, r->start + r->len))
			return bad(who, "region %ld [%#llx, +%#llx) in a hole", i,
				   (unsigned long long)r->start, (unsigned long long)r->len);
		last = r->start + r->len;
		pages += r->len / psz;
	}
	if (q->max_pages && pages > q->max_pages)
		return bad(who, "%llu pages reported for max_pages %llu",
			   (unsigned long long)pages, (unsigned long long)q->max_pages);
	if (q->vec_len && end < e && (size_t)n < q->vec_len &&
	    !(q->max_pages && pages == q->max_pages))
		return bad(who, "stopped at %#llx before %#llx with %ld of %zu regions and "
			   "%llu pages (max_pages %llu)", (unsigned long long)end,
			   (unsigned long long)e, n, q->vec_len, (unsigned long long)pages,
			   (unsigned long long)q->max_pages);
	return true;
}

/* Scan [@s, @e) a call at a time from walk_end, random parameters each */
static void scan_range(uint64_t *rnd, char *s, char *e, bool clear, const char *who)
{
	struct page_region vec[MAX_VEC];
	struct query q;
	uint64_t end;
	long n;

	while (s < e && !stop) {
		q = random_query(rnd, clear);
		n = scan_call(pm, q.flags, s, e - s, q.vec_len ? vec : NULL, q.vec_len,
			      q.max_pages, q.required, q.anyof, q.excluded, q.ret, &end);
		__atomic_add_fetch(&scanner_calls, 1, __ATOMIC_RELAXED);
		if (!check_output(who, &q, (uintptr_t)s, (uintptr_t)e, vec, n, end))
			return;
		s = (char *)(uintptr_t)end;
	}
}

/*
 * A scanner: GET only over the holes, the churn part and the region, or
 * (@arg) GET+CLEAR over the first hole and the churn part only: a CLEAR in
 * the region would take reports from the collector that checks them
 */
static void *scanner(void *arg)
{
	bool clear = arg;
	char *lo = churn - psz, *hi = clear ? region : region + (npages + 1) * psz;
	size_t pages = (hi - lo) / psz, from, to;
	uint64_t rnd = seed + (clear ? 55 : 33);

	while (!stop) {
		from = xorshift(&rnd) % pages;
		to = from + 1 + xorshift(&rnd) % (pages - from);
		scan_range(&rnd, lo + from * psz, lo + to * psz, clear,
			   clear ? "GET+CLEAR" : "GET");
		usleep(1000);
	}
	return NULL;
}

/* ---- the collector ---- */

static void violation(struct collector *c, size_t page, const char *when)
{
	if (c->st.violations++ < SHOW_MAX)
		ksft_print_msg("%s: page %zu written (counter %llu, last reported at %llu) "
			       "but not reported %s\n", V->name, page,
			       (unsigned long long)c->before[page],
			       (unsigned long long)seen[page], when);
}

/* A report of @page: its counter now is what the next calls must not exceed */
static void publish(size_t page)
{
	uint64_t v = load(page), old = __atomic_load_n(&seen[page], __ATOMIC_ACQUIRE);

	while (old < v && !__atomic_compare_exchange_n(&seen[page], &old, v, false,
						       __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		;
}

/*
 * Wait until the other collector's calls that began before ours ended
 * (@end) have published their reports: one of them may have cleared a page
 * we examined, after its last write.
 */
static void wait_for_twin(const struct collector *c, uint64_t end)
{
	while (__atomic_load_n(&in_flight[!c->id], __ATOMIC_SEQ_CST) < end)
		sched_yield();
}

/*
 * Check one call that examined [@from, @to) and reported @vec: reported pages
 * get a new "seen" value, the others must not have been written since the
 * last report of them by any call.  A page we did not report was clean when
 * we examined it; if it was written before our call, some call reported it
 * after that write and before we examined it, and read its counter after.
 */
static void check_call(struct collector *c, size_t from, size_t to, uint64_t end,
		       const struct page_region *vec, long n, const char *when)
{
	size_t page = from, first, last;
	long i;

	for (i = 0; i < n; i++) {
		first = (vec[i].start - (uintptr_t)region) / psz;
		for (page = first; page < first + vec[i].len / psz; page++)
			publish(page);
		c->st.reported += vec[i].len / psz;
	}
	__atomic_store_n(&in_flight[c->id], UINT64_MAX, __ATOMIC_SEQ_CST);
	wait_for_twin(c, end);
	for (page = from, i = 0; i <= n; i++) {
		first = i < n ? (vec[i].start - (uintptr_t)region) / psz : to;
		last = i < n ? first + vec[i].len / psz : to;
		for (; page < first; page++)
			if (c->before[page] > __atomic_load_n(&seen[page], __ATOMIC_ACQUIRE))
				violation(c, page, when);
		page = last;
	}
	c->st.examined += to - from;
}

/* GET+CLEAR of [@from, @to), a call at a time from walk_end */
static void collect(struct collector *c, size_t from, size_t to, bool random_limits,
		    const char *when)
{
	struct page_region vec[MAX_VEC];
	uint64_t flags = PAGEMAP_SOFTDIRTY_CLEAR | (V->nrr ? PAGEMAP_NO_REUSED_REGIONS : 0);
	uint64_t end, max_pages = 0, ticket_end;
	size_t vec_len = MAX_VEC, page, done;
	long n;

	while (from < to) {
		if (random_limits) {
			vec_len = 1 + xorshift(&c->rnd) % MAX_VEC;
			max_pages = xorshift(&c->rnd) % 2 ? 0 : 1 + xorshift(&c->rnd) % 64;
		}
		__atomic_store_n(&in_flight[c->id], __atomic_fetch_add(&ticket, 1, __ATOMIC_SEQ_CST),
				 __ATOMIC_SEQ_CST);
		for (page = from; page < to; page++)
			c->before[page] = load(page);
		n = scan_call(pm, flags, region + from * psz, (to - from) * psz, vec, vec_len,
			      max_pages, PAGE_IS_SOFTDIRTY, 0, 0, PAGE_IS_SOFTDIRTY, &end);
		if (n < 0)
			fail("PAGEMAP_SCAN GET+CLEAR");
		ticket_end = __atomic_fetch_add(&ticket, 1, __ATOMIC_SEQ_CST);
		done = (end - (uintptr_t)region) / psz;
		if (done <= from || done > to)
			ksft_exit_fail_msg("%s: walk_end %#llx outside the call's range\n",
					   V->name, (unsigned long long)end);
		c->st.calls++;
		__atomic_add_fetch(&calls_done, 1, __ATOMIC_RELEASE);
		check_call(c, from, done, ticket_end, vec, n, when);
		from = done;
	}
}

/*
 * Collect until the writers are done: each round a random sub-range, short
 * but for one round in 16, as each call reads the counters of its range first
 */
static void collect_while_writing(struct collector *c)
{
	size_t from, to;

	while (__atomic_load_n(&writers_done, __ATOMIC_ACQUIRE) < WRITERS) {
		from = xorshift(&c->rnd) % npages;
		to = npages - from;
		if (xorshift(&c->rnd) % 16)
			to = to < SPAN ? to : SPAN;
		to = from + 1 + xorshift(&c->rnd) % to;
		collect(c, from, to, true, "while writing");
	}
}

/* The twin variants' second collector, on the same pages as the first */
static void *twin(void *arg)
{
	collect_while_writing(arg);
	return NULL;
}

static struct collector *new_collector(int id)
{
	struct collector *c = calloc(1, sizeof(*c));

	if (!c || !(c->before = calloc(npages, sizeof(*c->before))))
		fail("calloc");
	c->id = id;
	c->rnd = seed + 1000 * id;
	return c;
}

/* ---- one variant, in a child ---- */

static int enter_mode(const struct variant *v)
{
	if (!v->nrr || !scan_enter_nrr(pm))
		return 0;
	if (errno == EINVAL)
		return KSFT_SKIP;
	fail("enter PAGEMAP_NO_REUSED_REGIONS");
}

/* The race variants' parking place and scanners, GET and GET+CLEAR */
static void start_race(pthread_t *scanners)
{
	parking = mmap(NULL, churn_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		       -1, 0);
	if (parking == MAP_FAILED)
		fail("mmap the parking place");
	for (uintptr_t clear = 0; clear < 2; clear++)
		if ((errno = pthread_create(&scanners[clear], NULL, scanner, (void *)clear)))
			fail("pthread_create a scanner");
}

/* Join the race variants' scanners; whether they found nothing wrong */
static bool stop_race(pthread_t *scanners)
{
	for (size_t i = 0; i < 2; i++)
		pthread_join(scanners[i], NULL);
	ksft_print_msg("%s: %lu churn operations (%lu moves), %lu scanner calls "
		       "(%lu ENOMEM), %lu bad outputs\n", V->name, churn_ops, churn_moves,
		       scanner_calls, scanner_enomem, scanner_bad);
	return !scanner_bad;
}

/* A collector's totals, after @what ("N writes, " or which collector) */
static void print_stats(const char *what, const struct stats *st)
{
	ksft_print_msg("%s: %s%llu calls, %llu pages examined, %llu reported, %llu violations\n",
		       V->name, what, (unsigned long long)st->calls,
		       (unsigned long long)st->examined, (unsigned long long)st->reported,
		       (unsigned long long)st->violations);
}

/* Start the extra thread: a pager, chaos, churn (and scanners) or a twin */
static void start_extra(pthread_t *th, pthread_t *scanners, struct collector *twin_c)
{
	if (V->extra == TWIN)
		errno = pthread_create(th, NULL, twin, twin_c);
	else
		errno = pthread_create(th, NULL, extra, NULL);
	if (errno)
		fail("pthread_create the pager, chaos, churn or twin thread");
	if (V->extra == RACE)
		start_race(scanners);
}

static int run_variant(const struct variant *v)
{
	pthread_t w[WRITERS], th, scanners[2];
	unsigned long migrated = vmstat("pgmigrate_success"), huge;
	struct collector *c, *c2;
	bool race_ok = true;
	char total[32];
	size_t i;
	int rc;

	V = v;
	pm = scan_open(0);
	rc = enter_mode(v);
	if (rc)
		return rc;
	huge = vmstat("nr_shmem_hugepages");
	region = map_region(v);
	/* A shmem THP variant that made no shmem THP would test nothing */
	if (shmem_thp(v) && vmstat("nr_shmem_hugepages") <= huge) {
		ksft_print_msg("%s: no shmem THP was made\n", v->name);
		return KSFT_FAIL;
	}
	seen = calloc(npages, sizeof(*seen));
	if (!seen)
		fail("calloc");
	c = new_collector(0);
	c2 = v->extra == TWIN ? new_collector(1) : NULL;
	collect(c, 0, npages, false, "by the first pass");
	c->st = (struct stats){};

	for (i = 0; i < WRITERS; i++)
		if ((errno = pthread_create(&w[i], NULL, writer, (void *)(uintptr_t)i)))
			fail("pthread_create a writer");
	if (v->extra != NONE)
		start_extra(&th, scanners, c2);
	collect_while_writing(c);
	for (i = 0; i < WRITERS; i++)
		pthread_join(w[i], NULL);
	stop = 1;
	if (v->extra != NONE)
		pthread_join(th, NULL);
	if (v->extra == RACE)
		race_ok = stop_race(scanners);
	if (v->extra == MIGRATE)
		ksft_print_msg("%s: %lu move_pages calls, %lu pages migrated\n", v->name,
			       churn_ops, vmstat("pgmigrate_success") - migrated);
	collect(c, 0, npages, false, "by the final pass");
	if (c2)
		print_stats("the twin collector: ", &c2->st);
	snprintf(total, sizeof(total), "%zu writes, ", writes / WRITERS * WRITERS);
	print_stats(total, &c->st);
	if (!race_ok)
		return KSFT_FAIL;
	if (!c->st.violations && (!c2 || !c2->st.violations))
		return KSFT_PASS;
	return KSFT_FAIL;
}

/* Fork a child per variant: NO_REUSED_REGIONS is per mm and permanent */
/*
 * Why this kernel cannot run @v (its result is then a SKIP), or NULL: the
 * config matrix boots kernels without soft-dirty and without THP.
 */
static const char *unsupported(const struct variant *v)
{
	static const char *no_clear;
	static bool probed;

	if (!probed) {
		no_clear = scan_clear_unsupported();
		probed = true;
	}
	if (no_clear)
		return no_clear;
	if (v->thp && access("/sys/kernel/mm/transparent_hugepage/enabled", F_OK))
		return "no THP (CONFIG_TRANSPARENT_HUGEPAGE=n)";
	if (v->extra == MIGRATE && access("/sys/devices/system/node/node1", F_OK))
		return "one NUMA node: no other node to migrate to";
	return NULL;
}

static void test_variant(const struct variant *v)
{
	const char *why = unsupported(v);
	bool knob = v->backing == SHMEM && v->thp;
	char old[32];
	int status;
	pid_t pid;

	if (why) {
		ksft_test_result_skip("no lost write: %s: %s\n", v->name, why);
		return;
	}
	if (knob && !sysfs_mode(SHMEM_ENABLED, v->thp, old, sizeof(old))) {
		ksft_test_result_fail("no lost write: %s: cannot set %s to %s: %s\n", v->name,
				      SHMEM_ENABLED, v->thp, strerror(errno));
		return;
	}
	pid = fork();
	if (pid < 0)
		fail("fork");
	if (!pid) {
		fflush(stdout);
		_exit(run_variant(v));
	}
	if (waitpid(pid, &status, 0) != pid)
		fail("waitpid");
	if (knob && !sysfs_mode(SHMEM_ENABLED, old, NULL, 0))
		fail("restore shmem_enabled");
	if (WIFEXITED(status) && WEXITSTATUS(status) == KSFT_PASS)
		ksft_test_result_pass("no lost write: %s\n", v->name);
	else if (WIFEXITED(status) && WEXITSTATUS(status) == KSFT_SKIP)
		ksft_test_result_skip("no lost write: %s: the kernel rejects "
				      "PAGEMAP_NO_REUSED_REGIONS\n", v->name);
	else
		ksft_test_result_fail("no lost write: %s (status %#x)\n", v->name, status);
}

/* ---- options ---- */

static void usage(const char *why, const char *arg)
{
	fprintf(stderr, "error: %s '%s'\n"
		"usage: lostwrite [--writes N] [--pages N] [--burst N] [--seed S] "
		"[--variants NAME[,NAME]...]\n  variants:", why, arg);
	for (size_t i = 0; i < NR_VARIANTS; i++)
		fprintf(stderr, " %s", variants[i].name);
	fprintf(stderr, " (default: all)\n");
	exit(2);
}

static void parse_variants(char *list)
{
	char *tok, *save = NULL;
	size_t i;

	for (i = 0; i < NR_VARIANTS; i++)
		variant_off[i] = true;
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < NR_VARIANTS && strcmp(tok, variants[i].name); i++)
			;
		if (i == NR_VARIANTS)
			usage("unknown variant", tok);
		variant_off[i] = false;
	}
}

static void parse_args(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (i + 1 == argc)
			usage("missing value or unknown argument", argv[i]);
		if (!strcmp(argv[i], "--writes"))
			writes = parse(argv[++i], "--writes", WRITERS, 1UL << 40);
		else if (!strcmp(argv[i], "--pages"))
			npages = parse(argv[++i], "--pages", 2 * WRITERS, 1UL << 20);
		else if (!strcmp(argv[i], "--burst"))
			burst = parse(argv[++i], "--burst", 1, 1UL << 20);
		else if (!strcmp(argv[i], "--seed"))
			seed = parse(argv[++i], "--seed", 1, ~0UL);
		else if (!strcmp(argv[i], "--variants"))
			parse_variants(argv[++i]);
		else
			usage("unknown argument", argv[i]);
	}
}

int main(int argc, char **argv)
{
	size_t i, n = 0;

	no_aslr(argv);
	parse_args(argc, argv);
	setvbuf(stdout, NULL, _IOLBF, 0);	/* progress reaches the console */
	psz = sysconf(_SC_PAGESIZE);
	churn_len = HUGE_SIZE;	/* a THP's worth, for MADV_COLLAPSE */
	/* A THP needs 512 pages */
	if (npages % (HUGE_SIZE / psz))
		npages += HUGE_SIZE / psz - npages % (HUGE_SIZE / psz);
	for (i = 0; i < NR_VARIANTS; i++)
		n += !variant_off[i];
	ksft_print_header();
	ksft_set_plan(n);
	ksft_print_msg("%zu pages, %zu writes per variant, %d writer threads, "
		       "a call every %zu writes of each, seed %llu\n",
		       npages, writes, WRITERS, burst, (unsigned long long)seed);
	for (i = 0; i < NR_VARIANTS; i++)
		if (!variant_off[i])
			test_variant(&variants[i]);
	ksft_finished();
}
