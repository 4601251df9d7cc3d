// SPDX-License-Identifier: GPL-2.0
/*
 * scan-fuzz: PAGEMAP_SCAN with random and edge-case arguments.
 *
 *   scan-fuzz [--calls N] [--seed S]
 *
 * Every call's result is checked against a model of the contract
 * (shared/docs/pagemap-scan-spec.md, "Errors" and "What one call does"),
 * which follows the kernel's order of checks where several errors apply
 * (checks[] below).  The calls point at memory of ours at fixed addresses,
 * so that the model knows which pages are mapped and how:
 *
 *  - the arena: a region S of 64 pages (anonymous with a MAP_SHARED memfd
 *    tail; pages written, clean after a CLEAR, unpopulated, zero-page,
 *    swapped, and VM_SOFTDIRTY after a fresh mmap), then a region L of 512
 *    pages alternately written and clean (more regions than the kernel's
 *    vec window of 170 holds), then at the next 2 MiB a region T of two
 *    THP slots, anonymous and a MAP_SHARED memfd (with shmem_enabled
 *    advise): each is rebuilt now and then as a THP, mapped by a PMD or by
 *    PTEs, dirty or clean, partly zapped or swapped (refresh_t()); unmapped
 *    guard pages between and around them;
 *  - vec buffers: a long one, ones whose later entries are unmapped or
 *    read-only, a read-only page, holes; and the argument pages: writable,
 *    read-only, hole.
 *
 * Before every call the pagemap entries of the arena are read.  After a
 * failed call they must be unchanged (bits 55, 61, 62, 63), and so must the
 * argument and vec.  After a successful one the regions, walk_end and the
 * new state of the arena must be what the model derives from the entries
 * read before.  One allowance in both: a CLEAR that covers a shmem THP in
 * part splits it, and its pages may then read not present (bits 61 and
 * 63; their soft-dirty bits must be as for any page, and their regions
 * report what they were before the call).  Most calls scan S (CLEAR in
 * most), so that a call wrongly accepted would change something; S is
 * stirred again every 32 calls, and a slot of T sometimes.
 *
 * Without CONFIG_MEM_SOFT_DIRTY the same classes run with the model of such
 * a kernel (spec "Compatibility"): PAGEMAP_SOFTDIRTY_CLEAR is an unknown flag
 * and PAGE_IS_SOFTDIRTY an unknown mask bit, both EINVAL; valid calls GET.
 *
 * Output: kselftest TAP, one result per class of case (classes[]), passing
 * only if none of its calls got a wrong errno, a wrong result or changed
 * something it must not, and one that fails if a kernel with THP made no
 * anonymous or no shmem THP in T.  Exit: 0 all passed, 1 a result failed,
 * 2 usage.
 */
#define _GNU_SOURCE	/* memfd_create(), MAP_FIXED_NOREPLACE */
#include "scan.h"
#include "kselftest.h"

#include <errno.h>
#include <fcntl.h>		/* fallocate() */
#include <linux/fiemap.h>	/* struct fiemap: FS_IOC_FIEMAP's number */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef __x86_64__
#error "the address-space limit of the model (find_task_size()) is x86-64's"
#endif

#define SD		PAGE_IS_SOFTDIRTY
#define CATS		(PAGE_IS_SOFTDIRTY | PAGE_IS_FILE | PAGE_IS_PRESENT | \
			 PAGE_IS_SWAPPED)
#define CLEAR		PAGEMAP_SOFTDIRTY_CLEAR
#define NRR		PAGEMAP_NO_REUSED_REGIONS
#define REGION		sizeof(struct page_region)
#define ARG_SIZE	sizeof(struct pagemap_scan_arg)
#define NR		_IOC_NR(PAGEMAP_SCAN)

#define DEFAULT_CALLS	100000
#define DEFAULT_SEED	0x5ca9f022ULL
#define REFRESH		32	/* calls between two stirs of S */
#define SHOW_MAX	10	/* wrong results printed in detail */
#define CANARY		0xa5	/* vec bytes the kernel must not write */
#define CANARY_CHECK	256	/* vec entries compared after a failed call */
#define WALK_CANARY	0x5757575757575757ULL	/* walk_end before the call */

/*
 * Fixed addresses, far from what the C library maps: a range inside the
 * arena has no VMA but ours, and the kernel never writes into memory we do
 * not know of (a random user address for vec could be the stack).
 */
#define ARENA_ADDR	0x200000000000UL	/* the arena's first guard page */
#define MISC_ADDR	0x300000000000UL	/* vec buffers, argument pages */
#define KERNEL_ADDR	0xffff800000000000UL

/* The arena, in pages (ARENA_ADDR is PMD-aligned) */
enum {
	GUARD = 8,		/* unmapped, at each end */
	S_PAGES = 64,		/* most calls scan this */
	S_FILE = 8,		/* S's last pages: a MAP_SHARED memfd */
	L_PAGES = 512,		/* written and clean pages alternate */
	HUGE = 512,		/* a THP slot of T: one PMD */
	S_FIRST = GUARD,
	L_FIRST = S_FIRST + S_PAGES,
	T_ANON = 2 * HUGE,	/* PMD-aligned, after a hole */
	T_SHMEM = T_ANON + HUGE,
	ARENA_PAGES = T_SHMEM + HUGE + GUARD,
};

/* The rest, in pages from MISC_ADDR: each area is followed by a hole */
#define BIG_PAGES	512	/* more entries than any range of ours has regions */
#define PART_PAGES	8	/* entries to more than 2 vec windows, then none */
enum {
	M_BIG = 0,
	M_PART_HOLE = M_BIG + BIG_PAGES + 2,	  /* then a hole */
	M_PART_RO = M_PART_HOLE + PART_PAGES + 2, /* then a read-only page */
	M_RO = M_PART_RO + PART_PAGES + 3,	  /* a read-only page */
	M_ARG = M_RO + 2,	/* argument: writable page, read-only page, hole */
	M_ALIAS = M_ARG + 4,	/* a writable view of that read-only page */
	M_HOLE = M_ALIAS + 2,	/* never mapped */
};

enum vec_kind {
	V_NONE, V_BIG, V_HOLE, V_RO, V_KERNEL, V_RAW, V_PART_HOLE, V_PART_RO,
	V_IN_RANGE, NR_VEC_KINDS
};

static const char *const vec_names[NR_VEC_KINDS] = {
	"none", "long buffer", "unmapped", "read-only", "kernel address",
	"raw number", "partly unmapped", "partly read-only", "in the range",
};

enum arg_kind {
	A_GOOD, A_MISALIGNED, A_RO, A_SPLIT_RO, A_SPLIT_HOLE, A_HOLE, A_KERNEL,
	A_NULL, NR_ARG_KINDS
};

static const char *const arg_names[NR_ARG_KINDS] = {
	"writable", "misaligned", "read-only", "writable then read-only",
	"readable then unmapped", "unmapped", "kernel address", "NULL",
};

/* One ioctl: its number, where the argument is and what it holds */
struct call {
	unsigned long cmd;
	enum arg_kind ak;
	uintptr_t argp;
	struct pagemap_scan_arg a;
	enum vec_kind vk;
	uint64_t vec_ok;	/* leading entries at a.vec the kernel can write */
	bool zero_tail;		/* zero the argument's bytes past ARG_SIZE */
};

/* What the model allows */
struct expect {
	int err;		/* the errno, 0 for success */
	bool or_short;		/* EFAULT, or a success that ends at the vec
				 * entry the call needs and cannot write */
	const char *why;	/* the check that decides */
};

/* Per class of case */
struct counts {
	unsigned long calls, wrong, bad, violations, failed;
	unsigned long expected[7];	/* by expect_slot() */
	unsigned long or_efault, or_success;
};

static const char *const slot_names[7] = {
	"success", "EINVAL", "EFAULT", "ENOTTY", "EFAULT or short success",
	"E2BIG", "other",
};

static long psz;
static int pm_fd;
static uint64_t rng;
static uint64_t task_size;	/* the task's address-space limit */
static uint64_t known_flags;	/* flags the kernel takes */
static uint64_t known_cats = CATS;	/* mask bits it takes: no SD without soft-dirty */
static uint64_t max_regions;	/* no range of this process has more */
static unsigned long window;	/* vec entries the kernel buffers: a page */
static uint8_t pre[ARENA_PAGES], post[ARENA_PAGES]; /* arena categories */
static uint64_t pre_pm[ARENA_PAGES];	/* and the pagemap entries before */
static int t_fd;			/* the memfd of T's shmem slot */
static unsigned long thp_made[2], thp_tries[2];	/* T's slots: anon, shmem */
static bool l_broken;		/* L lost its pattern */
static unsigned long shown, setup_calls;
static char *arg_alias;		/* writable view of the read-only arg page */
static char msg[512];

struct zone {
	uintptr_t lo, hi;
};
static struct zone zones[3];	/* where vec entries are writable */

#define BAD(...) (snprintf(msg, sizeof(msg), __VA_ARGS__), (const char *)msg)
#define PICK(...) ({ const uint64_t v_[] = { __VA_ARGS__ };		\
		     v_[rnd(ARRAY_SIZE(v_))]; })

static uint64_t rnd(uint64_t n)
{
	return n ? xorshift(&rng) % n : 0;
}

static bool chance(unsigned int percent)
{
	return rnd(100) < percent;
}

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t page_up(uint64_t addr)
{
	return (addr + psz - 1) & ~(uint64_t)(psz - 1);
}

static uintptr_t arena_page(size_t i)
{
	return ARENA_ADDR + i * psz;
}

static uintptr_t misc(size_t page)
{
	return MISC_ADDR + page * psz;
}

static bool arena_mapped(size_t i)
{
	return (i >= S_FIRST && i < L_FIRST + L_PAGES) ||
	       (i >= T_ANON && i < T_SHMEM + HUGE);
}

static bool arena_file(size_t i)
{
	return (i >= L_FIRST - S_FILE && i < L_FIRST) ||
	       (i >= T_SHMEM && i < T_SHMEM + HUGE);
}

static const char *page_name(size_t i)
{
	static char buf[4][24];
	static int n;
	char *b = buf[n++ % 4];

	if (i >= L_FIRST && i < L_FIRST + L_PAGES)
		snprintf(b, sizeof(buf[0]), "L+%zu", i - L_FIRST);
	else if (i >= S_FIRST && i < L_FIRST)
		snprintf(b, sizeof(buf[0]), "S+%zu", i - S_FIRST);
	else if (i >= T_ANON && i < T_SHMEM)
		snprintf(b, sizeof(buf[0]), "T-anon+%zu", i - T_ANON);
	else if (i >= T_SHMEM && i < T_SHMEM + HUGE)
		snprintf(b, sizeof(buf[0]), "T-shmem+%zu", i - T_SHMEM);
	else
		snprintf(b, sizeof(buf[0]), "unmapped %zu", i);
	return b;
}

static const char *errname(int err)
{
	static char buf[24];

	switch (err) {
	case 0: return "success";
	case EINVAL: return "EINVAL";
	case EFAULT: return "EFAULT";
	case ENOTTY: return "ENOTTY";
	case ENOMEM: return "ENOMEM";
	case EPERM: return "EPERM";
	case E2BIG: return "E2BIG";
	case ESRCH: return "ESRCH";
	case EINTR: return "EINTR";
	}
	snprintf(buf, sizeof(buf), "errno %d", err);
	return buf;
}

/*
 * The categories (PAGE_IS_*) of the arena's pages as a read of pagemap
 * gives them, and its entries into @pm unless NULL.
 */
static void read_arena(uint8_t *cats, uint64_t *pm)
{
	static uint64_t e[ARENA_PAGES];
	size_t i;

	if (pread(pm_fd, e, sizeof(e), ARENA_ADDR / psz * 8) != sizeof(e))
		fail("read pagemap");
	for (i = 0; i < ARENA_PAGES; i++)
		cats[i] = pm_categories(e[i]);
	if (pm)
		memcpy(pm, e, sizeof(e));
}

/* candidate for scan.c */
/* Map @pages at @addr exactly, where nothing is mapped yet; exit on failure */
static void *map_at(uintptr_t addr, size_t pages, int prot, int flags, int fd)
{
	void *p = mmap((void *)addr, pages * psz, prot,
		       flags | MAP_FIXED_NOREPLACE, fd, 0);

	if (p == MAP_FAILED)
		fail("mmap at a fixed address");
	if ((uintptr_t)p != addr) {
		errno = EEXIST;
		fail("mmap at a fixed address");
	}
	return p;
}

/*
 * The task's address-space limit, TASK_SIZE_MAX on x86-64: 47 bits less a
 * guard page, or 56 bits with 5-level paging, where an address above 48
 * bits can be mapped.
 */
static uint64_t find_task_size(void)
{
	void *hi = mmap((void *)(1UL << 48), psz, PROT_NONE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

	if (hi == MAP_FAILED)
		return (1UL << 47) - psz;
	munmap(hi, psz);
	return (uintptr_t)hi == 1UL << 48 ? (1UL << 56) - psz : (1UL << 47) - psz;
}

/* Pages mapped by this process now: a bound on the regions of any range */
static uint64_t mapped_pages(void)
{
	unsigned long lo, hi;
	uint64_t pages = 0;
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];

	if (!f)
		fail("open /proc/self/maps");
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2)
			pages += (hi - lo) / psz;
	fclose(f);
	return pages;
}

/* A CLEAR of @n arena pages from @first, outside the counted calls (if it can) */
static void clear_range(size_t first, size_t n)
{
	if (!(known_flags & CLEAR))
		return;
	setup_calls++;
	if (scan_call(pm_fd, CLEAR, (void *)arena_page(first), n * psz, NULL, 0,
		      0, 0, 0, 0, 0, NULL) < 0)
		fail("PAGEMAP_SCAN CLEAR of the arena");
}

/*
 * L: even pages written, odd pages present and clean (without soft-dirty:
 * odd pages not present, so that L still alternates)
 */
static void restore_l(void)
{
	char *l = (char *)arena_page(L_FIRST);
	size_t i;

	clear_range(L_FIRST, L_PAGES);
	for (i = 0; i < L_PAGES; i++)
		if (!(i % 2))
			l[i * psz]++;
		else if (!(known_cats & SD))
			madvise(l + i * psz, psz, MADV_DONTNEED);
	l_broken = false;
}

/*
 * Stir S: some written pages become clean (a CLEAR), a fresh mmap makes its
 * VMA VM_SOFTDIRTY (all of it reads dirty), pages are written, dropped
 * (unpopulated), read (zero page, or a clean shared page) or swapped out.
 */
static void refresh_s(void)
{
	char *s = (char *)arena_page(S_FIRST);
	size_t i, first, n, anon = S_PAGES - S_FILE;

	if (chance(25))
		clear_range(S_FIRST, S_PAGES);
	if (chance(10)) {
		first = rnd(anon - 4);
		n = 1 + rnd(4);
		if (mmap(s + first * psz, n * psz, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
			fail("mmap fresh pages into S");
	}
	for (i = 0; i < S_PAGES; i++) {
		unsigned int r = rnd(100);

		if (r < 25)
			s[i * psz]++;
		else if (r < 33)
			madvise(s + i * psz, psz, MADV_DONTNEED);
		else if (r < 36)
			(void)*(volatile char *)(s + i * psz);
	}
	/* Without swap this does nothing, which is fine */
	if (chance(15))
		for (n = 1 + rnd(3); n; n--)
			madvise(s + rnd(anon) * psz, psz, MADV_PAGEOUT);
}

/*
 * Rebuild a slot of T (@shmem: the memfd one) as a THP where the kernel
 * makes one: a fresh VMA (VM_SOFTDIRTY) and a fresh page-cache THP, the
 * first page written or read, then maybe a CLEAR and writes (an anonymous
 * PMD dirty again whole; a tracked shmem write maps PTEs), a collapse, a
 * partial zap or a swap-out.  MADV_NOHUGEPAGE last keeps khugepaged out.
 */
static void rebuild_t(bool shmem)
{
	size_t first = shmem ? T_SHMEM : T_ANON, n;
	char *p = (char *)arena_page(first);
	int flags = MAP_FIXED | (shmem ? MAP_SHARED : MAP_PRIVATE | MAP_ANONYMOUS);

	if (shmem && fallocate(t_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
			       HUGE * psz))
		fail("punch the memfd of T's shmem slot");
	if (mmap(p, HUGE * psz, PROT_READ | PROT_WRITE, flags, shmem ? t_fd : -1, 0) ==
	    MAP_FAILED)
		fail("mmap a slot of T");
	madvise(p, HUGE * psz, MADV_HUGEPAGE);	/* EINVAL without THP */
	/* A store, not p[0]++: a read first maps the huge zero page */
	if (shmem && chance(30))
		(void)*(volatile char *)p;
	else
		*(volatile char *)p = 1;
	if (chance(50)) {
		clear_range(first, HUGE);
		for (n = rnd(4); n; n--)
			*(volatile char *)(p + rnd(HUGE) * psz) = 1;
	}
	if (chance(25))
		madvise(p, HUGE * psz, MADV_COLLAPSE);	/* may fail */
	if (chance(20))
		madvise(p + rnd(HUGE - 4) * psz, (1 + rnd(4)) * psz, MADV_DONTNEED);
	if (chance(15))
		madvise(p, (chance(50) ? HUGE : 1 + rnd(8)) * psz, MADV_PAGEOUT);
	madvise(p, HUGE * psz, MADV_NOHUGEPAGE);
	read_arena(pre, pre_pm);
	thp_tries[shmem]++;
	thp_made[shmem] += pm_huge(pre_pm + first, HUGE);
}

/* Stir T: a slot is rebuilt at a quarter of the stirs of S */
static void refresh_t(void)
{
	if (chance(25))
		rebuild_t(chance(50));
}

static void setup_memory(void)
{
	const int rw = PROT_READ | PROT_WRITE, anon = MAP_PRIVATE | MAP_ANONYMOUS;
	int mfd = memfd_create("scan-fuzz", 0), afd = memfd_create("scan-fuzz-arg", 0);

	t_fd = memfd_create("scan-fuzz-thp", 0);
	if (mfd < 0 || afd < 0 || t_fd < 0)
		fail("memfd_create");
	if (ftruncate(mfd, S_FILE * psz) || ftruncate(afd, psz) ||
	    ftruncate(t_fd, HUGE * psz))
		fail("ftruncate memfd");
	map_at(arena_page(S_FIRST), S_PAGES - S_FILE, rw, anon, -1);
	map_at(arena_page(L_FIRST - S_FILE), S_FILE, rw, MAP_SHARED, mfd);
	map_at(arena_page(L_FIRST), L_PAGES, rw, anon, -1);
	/* Page by page: no THP may take part of S or L */
	madvise((void *)arena_page(S_FIRST), (L_PAGES + S_PAGES) * psz,
		MADV_NOHUGEPAGE);
	map_at(arena_page(T_ANON), HUGE, rw, anon, -1);
	map_at(arena_page(T_SHMEM), HUGE, rw, MAP_SHARED, t_fd);

	map_at(misc(M_BIG), BIG_PAGES, rw, anon, -1);
	map_at(misc(M_PART_HOLE), PART_PAGES, rw, anon, -1);
	map_at(misc(M_PART_RO), PART_PAGES, rw, anon, -1);
	map_at(misc(M_PART_RO + PART_PAGES), 1, PROT_READ, anon, -1);
	map_at(misc(M_RO), 1, PROT_READ, anon, -1);
	map_at(misc(M_ARG), 1, rw, anon, -1);
	map_at(misc(M_ARG + 1), 1, PROT_READ, MAP_SHARED, afd);
	arg_alias = map_at(misc(M_ALIAS), 1, rw, MAP_SHARED, afd);
	memset((void *)misc(M_BIG), CANARY, BIG_PAGES * psz);

	zones[0] = (struct zone){ misc(M_BIG), misc(M_BIG + BIG_PAGES) };
	zones[1] = (struct zone){ misc(M_PART_HOLE), misc(M_PART_HOLE + PART_PAGES) };
	zones[2] = (struct zone){ misc(M_PART_RO), misc(M_PART_RO + PART_PAGES) };
}

/* Everything present, then clean, then L's pattern and a stirred S */
static void setup_arena(void)
{
	size_t i;

	for (i = S_FIRST; i < L_FIRST + L_PAGES; i++)
		*(char *)arena_page(i) = 1;
	clear_range(S_FIRST, S_PAGES);
	restore_l();
	refresh_s();
	rebuild_t(false);
	rebuild_t(true);
}

/* Leading entries at @vec that the kernel can write (the arena's too) */
static uint64_t writable_entries(uint64_t vec)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(zones); i++)
		if (vec >= zones[i].lo && vec < zones[i].hi)
			return (zones[i].hi - vec) / REGION;
	if (vec >= arena_page(S_FIRST) && vec < arena_page(L_FIRST + L_PAGES))
		return (arena_page(L_FIRST + L_PAGES) - vec) / REGION;
	return 0;
}

/* Argument bytes: readable on its first two pages, writable on the first */
static bool arg_readable(uintptr_t p)
{
	return p - misc(M_ARG) < 2 * (uintptr_t)psz;
}

static bool arg_writable(uintptr_t p)
{
	return p - misc(M_ARG) < (uintptr_t)psz;
}

static bool arg_all(const struct call *c, size_t n, bool (*ok)(uintptr_t))
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!ok(c->argp + i))
			return false;
	return true;
}

/* Where we write argument byte @p: the read-only page through its alias */
static char *arg_byte(uintptr_t p)
{
	if (arg_writable(p))
		return (char *)p;
	if (arg_readable(p))
		return arg_alias + (p - misc(M_ARG + 1));
	return NULL;
}

static void put_arg(const struct call *c)
{
	const char *src = (const char *)&c->a;
	uint64_t i;
	char *p;

	for (i = 0; i < ARG_SIZE; i++)
		if ((p = arg_byte(c->argp + i)))
			*p = src[i];
	for (i = ARG_SIZE; c->zero_tail && i < c->a.size && (p = arg_byte(c->argp + i)); i++)
		*p = 0;
}

static bool matches(const struct pagemap_scan_arg *a, uint8_t cat)
{
	return (cat & a->required_mask) == a->required_mask &&
	       (!a->anyof_mask || (cat & a->anyof_mask)) &&
	       !(cat & a->excluded_mask);
}

static bool arena_confined(const struct pagemap_scan_arg *a)
{
	return a->start >= arena_page(0) &&
	       a->start + a->len <= arena_page(ARENA_PAGES);
}

/* The model: the checks before the walk, one predicate each */

static bool not_scan(const struct call *c)
{
	return (unsigned int)c->cmd != PAGEMAP_SCAN;
}

static bool size_unreadable(const struct call *c)
{
	return !arg_all(c, sizeof(c->a.size), arg_readable);
}

static bool small_size(const struct call *c)
{
	return c->a.size < ARG_SIZE;
}

/*
 * The bytes past our struct, up to size, as copy_struct_from_user() sees
 * them: EFAULT if the range passes the address-space limit or reaches an
 * unreadable byte before a non-zero one, E2BIG for a non-zero one, else 0.
 */
static int tail_error(const struct call *c)
{
	uint64_t i;

	if (c->a.size <= ARG_SIZE)
		return 0;
	if (c->a.size > task_size || c->argp > task_size - c->a.size)
		return EFAULT;
	for (i = ARG_SIZE; i < c->a.size; i++) {
		if (!arg_readable(c->argp + i))
			return EFAULT;
		if (*(const char *)(c->argp + i))
			return E2BIG;
	}
	return 0;
}

static bool tail_unreadable(const struct call *c)
{
	return tail_error(c) == EFAULT;
}

static bool tail_nonzero(const struct call *c)
{
	return tail_error(c) == E2BIG;
}

static bool arg_unreadable(const struct call *c)
{
	return !arg_all(c, ARG_SIZE, arg_readable);
}

static bool bad_flags(const struct call *c)
{
	return c->a.flags & ~known_flags;
}

static bool bad_masks(const struct call *c)
{
	return (c->a.required_mask | c->a.anyof_mask | c->a.excluded_mask |
		c->a.return_mask) & ~known_cats;
}

static bool unaligned(const struct call *c)
{
	return c->a.start % psz;
}

static bool bad_end(const struct call *c)
{
	uint64_t end = c->a.start + c->a.len;

	return end < c->a.start || end > task_size;
}

static bool vec_mismatch(const struct call *c)
{
	return !c->a.vec != !c->a.vec_len;
}

static bool no_op(const struct call *c)
{
	return !c->a.vec && !(c->a.flags & CLEAR);
}

static bool clear_masks(const struct call *c)
{
	return (c->a.flags & CLEAR) &&
	       (((c->a.required_mask | c->a.anyof_mask) & ~(uint64_t)SD) ||
		c->a.excluded_mask);
}

static bool arg_unwritable(const struct call *c)
{
	return !arg_all(c, ARG_SIZE, arg_writable);
}

/*
 * The kernel's order (do_pagemap_cmd(), pagemap_scan_get_args(),
 * do_pagemap_scan() in fs/proc/task_mmu.c); the first that applies
 * decides.  Not here: EFAULT for a vec above 4G on a 32-bit kernel, EPERM
 * (only for another process's pagemap: between the last two), ESRCH, and
 * the walk's EFAULT for an entry of vec it needs (model_walk()).
 */
static const struct check {
	int err;
	const char *what;
	bool (*applies)(const struct call *c);
} checks[] = {
	{ ENOTTY, "not PAGEMAP_SCAN (the kernel takes the low 32 bits of cmd)", not_scan },
	{ EFAULT, "size not readable", size_unreadable },
	{ EINVAL, "size is smaller than sizeof(struct pagemap_scan_arg)", small_size },
	{ EFAULT, "the bytes past the struct, up to size, not readable", tail_unreadable },
	{ E2BIG, "the bytes past the struct, up to size, not all zero", tail_nonzero },
	{ EFAULT, "argument not readable", arg_unreadable },
	{ EINVAL, "unknown flag", bad_flags },
	{ EINVAL, "unknown mask bit", bad_masks },
	{ EINVAL, "start not page aligned", unaligned },
	{ EINVAL, "start + len overflows or passes the address-space limit", bad_end },
	{ EINVAL, "vec and vec_len not both 0 or both non-zero", vec_mismatch },
	{ EINVAL, "neither GET nor CLEAR", no_op },
	{ EINVAL, "CLEAR with masks other than required/anyof SOFTDIRTY", clear_masks },
	{ EFAULT, "argument not writable (walk_end)", arg_unwritable },
};

static int first_check(const struct call *c)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(checks); i++)
		if (checks[i].applies(c))
			return i;
	return -1;
}

/* What a scan of the arena does ("What one call does", 1-3) */
struct sim {
	size_t nr;
	struct page_region reg[ARENA_PAGES];
	uint64_t walk_end;
};

/* @cap: regions that fit in vec */
static void simulate(const struct pagemap_scan_arg *a, const uint8_t *cats,
		     uint64_t cap, struct sim *s)
{
	uint64_t end = page_up(a->start + a->len), addr, pages = 0;

	s->nr = 0;
	s->walk_end = end;
	for (addr = a->start; addr < end; addr += psz) {
		size_t i = (addr - ARENA_ADDR) / psz;
		struct page_region *last = s->nr ? &s->reg[s->nr - 1] : NULL;
		uint64_t bits = cats[i] & a->return_mask;

		if (!arena_mapped(i) || !matches(a, cats[i]))
			continue;
		if (a->vec) {
			if (last && last->start + last->len == addr &&
			    last->bitmap == bits) {
				last->len += psz;
			} else if (s->nr < cap) {
				s->reg[s->nr++] = (struct page_region){ addr, psz, bits };
			} else {
				s->walk_end = addr;
				return;
			}
		}
		if (++pages == a->max_pages) {
			s->walk_end = addr + psz;
			return;
		}
	}
}

/*
 * The walk's error: an entry of vec the call needs is not writable.  The
 * kernel finds out before changing anything while the entry is in its
 * first window of vec (170 entries); past that it has written vec already
 * and ends early, successfully, at the page that needs the entry
 * (pagemap.rst, "Errors").  The spec allows either: EFAULT with nothing
 * changed, or a success with walk_end there, which it calls "fit in vec".
 * With no writable entry nothing can have been written: only EFAULT.
 */
static void model_walk(const struct call *c, struct expect *e)
{
	const struct pagemap_scan_arg *a = &c->a;
	struct sim s;

	e->why = "a scan";
	if (!a->vec || c->vec_ok >= a->vec_len || c->vec_ok > max_regions)
		return;
	e->err = EFAULT;
	e->why = "needs an entry of vec that is not writable";
	if (c->vk == V_IN_RANGE) {
		/* Writing vec changes the range: how many regions it needs too */
		e->or_short = true;
		return;
	}
	simulate(a, pre, min64(a->vec_len, ARENA_PAGES), &s);
	if (s.nr <= c->vec_ok) {
		e->err = 0;
		e->why = "a scan (the entries it needs are writable)";
		return;
	}
	e->or_short = c->vec_ok > 0;
}

static void model(const struct call *c, struct expect *e)
{
	int k = first_check(c);

	memset(e, 0, sizeof(*e));
	if (k >= 0) {
		e->err = checks[k].err;
		e->why = checks[k].what;
		return;
	}
	model_walk(c, e);
}

/* Generators */

static uint64_t kernel_addr(void)
{
	return PICK(KERNEL_ADDR, 0xffff888000000000UL, 0xffffffff81000000UL,
		    0xffffffffff600000UL, 0xfffffffffffff000UL, 1ULL << 63,
		    KERNEL_ADDR + rnd(1ULL << 40));
}

/* The values every numeric field is tried with, besides valid ones */
static uint64_t edge(void)
{
	switch (rnd(12)) {
	case 0: return 0;
	case 1: return 1;
	case 2: return psz - 1;
	case 3: return psz;
	case 4: return psz + 1;
	case 5: return ~0ULL;
	case 6: return 1ULL << 47;
	case 7: return 1ULL << 63;
	case 8: return kernel_addr();
	case 9: return task_size;
	case 10: return xorshift(&rng) >> rnd(64);
	default: return xorshift(&rng);
	}
}

static void set_arg(struct call *c, enum arg_kind k)
{
	uintptr_t a0 = misc(M_ARG), a1 = a0 + psz, a2 = a1 + psz;
	size_t slots = (psz - ARG_SIZE) / 8;

	c->ak = k;
	switch (k) {
	case A_GOOD: c->argp = a0 + 8 * rnd(slots); break;
	case A_MISALIGNED: c->argp = a0 + 8 * rnd(slots - 1) + 1 + rnd(7); break;
	case A_RO: c->argp = a1 + 8 * rnd(slots); break;
	case A_SPLIT_RO: c->argp = a1 - 1 - rnd(ARG_SIZE - 1); break;
	case A_SPLIT_HOLE: c->argp = a2 - 1 - rnd(ARG_SIZE - 1); break;
	case A_HOLE: c->argp = a2 + rnd(psz - ARG_SIZE); break;
	case A_KERNEL: c->argp = kernel_addr(); break;
	default: c->argp = 0; break;
	}
}

/* @w: writable entries of a partly writable vec */
static void set_vec_part(struct call *c, enum vec_kind k, uint64_t w)
{
	size_t area = k == V_PART_HOLE ? M_PART_HOLE : M_PART_RO;
	/* Sometimes entry w straddles the end: partly writable is unwritable */
	uint64_t straddle = chance(25) ? 1 + rnd(REGION - 1) : 0;

	c->vk = k;
	c->a.vec = misc(area + PART_PAGES) - w * REGION - straddle;
	c->vec_ok = writable_entries(c->a.vec);
}

static void set_vec(struct call *c, enum vec_kind k)
{
	uint64_t v = 0;

	c->vk = k;
	switch (k) {
	case V_BIG:
		v = misc(M_BIG) + (chance(10) ? rnd(4 * REGION) : 0);
		break;
	case V_HOLE:
		v = PICK(misc(M_BIG + BIG_PAGES), misc(M_PART_HOLE + PART_PAGES),
			 misc(M_ARG + 2), misc(M_HOLE)) + rnd(psz);
		break;
	case V_RO:
		v = PICK(misc(M_RO), misc(M_PART_RO + PART_PAGES)) + rnd(psz - REGION);
		break;
	case V_KERNEL:
		v = kernel_addr();
		break;
	case V_RAW:
		/* Only numbers that are never user memory we have */
		v = PICK(1, psz - 1, psz, psz + 1, 1ULL << 47, 1ULL << 63, ~0ULL,
			 xorshift(&rng) | 1ULL << 63);
		break;
	case V_PART_HOLE:
	case V_PART_RO:
		set_vec_part(c, k, 1 + rnd(PART_PAGES * psz / REGION - 1));
		return;
	default:
		break;
	}
	c->a.vec = v;
	c->vec_ok = writable_entries(v);
}

static uint64_t gen_vec_len(void)
{
	switch (rnd(10)) {
	case 0: return PICK(psz - 1, psz, psz + 1, 1ULL << 32, 1ULL << 47,
			    1ULL << 63, ~0ULL, xorshift(&rng) | 1);
	case 1:
	case 2: return 1 + rnd(4);
	default: return 1 + rnd(600);
	}
}

/*
 * A range in the arena: mostly around S, sometimes S and L, a slot of T
 * (whole, or from or to a page inside it), or anywhere
 */
static void gen_range(struct pagemap_scan_arg *a)
{
	size_t first, n;

	switch (rnd(10)) {
	case 0:
		first = S_FIRST;
		n = S_PAGES + L_PAGES;
		break;
	case 1:
		first = rnd(ARENA_PAGES);
		n = rnd(ARENA_PAGES - first + 1);
		break;
	case 2:
		first = PICK(T_ANON, T_SHMEM) + (chance(50) ? 0 : rnd(HUGE));
		n = chance(40) ? HUGE : 1 + rnd(HUGE + 8);
		break;
	default:
		first = S_FIRST - 2 + rnd(S_PAGES + 4);
		n = rnd(S_PAGES + 8);
		break;
	}
	n = min64(n, ARENA_PAGES - first);
	a->start = arena_page(first);
	a->len = n * psz;
	if (n && chance(20))
		a->len -= 1 + rnd(psz - 1);	/* the end rounds up */
}

static uint64_t some_cats(void)
{
	return chance(40) ? 0 : chance(50) ? 1ULL << rnd(4) : rnd(16);
}

static void gen_masks(struct pagemap_scan_arg *a)
{
	if (a->flags & CLEAR) {
		a->required_mask = chance(50) ? SD : 0;
		a->anyof_mask = chance(25) ? SD : 0;
		a->excluded_mask = 0;
	} else {
		a->required_mask = some_cats() & known_cats;
		a->anyof_mask = chance(60) ? 0 : some_cats() & known_cats;
		a->excluded_mask = chance(60) ? 0 : some_cats() & known_cats;
	}
	a->return_mask = chance(20) ? known_cats : rnd(16) & known_cats;
}

/* A valid call on the arena, CLEAR in most */
static void gen_valid(struct call *c)
{
	struct pagemap_scan_arg *a = &c->a;

	memset(c, 0, sizeof(*c));
	c->cmd = PAGEMAP_SCAN;
	set_arg(c, A_GOOD);
	a->size = ARG_SIZE;
	a->walk_end = WALK_CANARY;
	a->flags = (known_flags & CLEAR) && chance(65) ? CLEAR : 0;
	gen_range(a);
	gen_masks(a);
	if (!(a->flags & CLEAR) || chance(50)) {
		set_vec(c, V_BIG);
		a->vec_len = gen_vec_len();
	}
	a->max_pages = chance(60) ? 0 : chance(75) ? 1 + rnd(70) : edge();
}

/* Each field, with @pct percent chance, gets an edge or random value */
static void mutate(struct call *c, unsigned int pct)
{
	struct pagemap_scan_arg *a = &c->a;
	__u64 *masks[] = { &a->required_mask, &a->anyof_mask,
			      &a->excluded_mask, &a->return_mask };
	size_t i;

	if (chance(pct))
		a->size = chance(50) ? edge() : ARG_SIZE + 8 * (rnd(5) - 2);
	if (chance(pct))
		a->flags = chance(50) ? edge() : a->flags ^ 1ULL << rnd(64);
	if ((known_flags & NRR) && chance(pct))
		a->flags |= NRR;
	for (i = 0; i < ARRAY_SIZE(masks); i++)
		if (chance(pct / 2 + 1))
			*masks[i] = chance(30) ? edge() : chance(50) ? rnd(16) :
				    *masks[i] ^ 1ULL << rnd(64);
	if (chance(pct))
		a->start = chance(50) ? edge() : a->start + rnd(3 * psz) - psz;
	if (chance(pct))
		a->len = chance(50) ? edge() : a->len + rnd(3 * psz) - psz;
	if (chance(pct)) {
		set_vec(c, rnd(V_IN_RANGE));
		a->vec_len = chance(15) ? 0 : gen_vec_len();
	}
	if (chance(pct))
		a->max_pages = edge();
	if (chance(pct))
		a->walk_end = edge();	/* out only: its value must not matter */
	if (chance(pct / 2 + 1))
		set_arg(c, rnd(NR_ARG_KINDS));
}

static void gen_bad_size(struct call *c)
{
	gen_valid(c);
	do
		c->a.size = chance(50) ? PICK(0, 1, 8, ARG_SIZE - 8, ARG_SIZE + 8,
					      ARG_SIZE - 1, ARG_SIZE + 1, 2 * ARG_SIZE,
					      psz - 1, psz, psz + 1) : edge();
	while (c->a.size == ARG_SIZE);
	/* The size comes first: before the rest is read or anything checked */
	if (chance(20))
		set_arg(c, PICK(A_SPLIT_HOLE, A_RO, A_MISALIGNED, A_SPLIT_RO));
	/* A larger struct with a zero tail works (copy_struct_from_user()) */
	c->zero_tail = chance(50);
	mutate(c, 5);
}

static void gen_bad_flags(struct call *c)
{
	uint64_t u = PICK(1 << 1, 1 << 2, 1 << 3, 1ULL << 31, 1ULL << 32,
			  1ULL << 63, ~0ULL, xorshift(&rng)) & ~known_flags;

	gen_valid(c);
	c->a.flags |= u ? u : 1 << 2;
	mutate(c, 3);
}

static void gen_bad_masks(struct call *c)
{
	uint64_t u = PICK(SD, 1 << 4, 1 << 5, 1 << 7, 1ULL << 32, 1ULL << 63, ~0ULL,
			  xorshift(&rng)) & ~known_cats;	/* SD: without soft-dirty */
	__u64 *masks[] = { &c->a.required_mask, &c->a.anyof_mask,
			      &c->a.excluded_mask, &c->a.return_mask };

	gen_valid(c);
	*masks[rnd(4)] |= u ? u : 1 << 4;
	mutate(c, 3);
}

/* Unaligned starts, overflowing ends, ends past the limit; and the limit */
static void gen_bad_range(struct call *c)
{
	struct pagemap_scan_arg *a = &c->a;
	uint64_t k = rnd(4);

	gen_valid(c);
	switch (rnd(7)) {
	case 0:
		a->start += 1 + rnd(psz - 1);
		break;
	case 1:
		a->start = PICK(1, psz - 1, psz + 1, ~0ULL, task_size + 1,
				xorshift(&rng) | 1);
		break;
	case 2:
		a->len = -a->start + rnd(4 * psz);		/* wraps */
		break;
	case 3:
		a->start = task_size - k * psz;
		a->len = k * psz + 1 + rnd(4 * psz);	/* past the limit */
		break;
	case 4:
		a->start = task_size - k * psz;		/* up to the limit: valid */
		a->len = k * psz - (k && chance(50) ? rnd(psz) : 0);
		break;
	case 5:
		a->start = PICK(task_size, task_size + psz, 1ULL << 47, 1ULL << 48);
		a->len = PICK(0, 1, psz);
		break;
	default:
		a->len = PICK(1ULL << 47, 1ULL << 63, ~0ULL, task_size,
			      task_size - a->start + 1, task_size - a->start);
		break;
	}
	mutate(c, 2);
}

static void gen_vec_mismatch(struct call *c)
{
	gen_valid(c);
	if (chance(50)) {
		set_vec(c, V_NONE);
		do
			c->a.vec_len = edge();
		while (!c->a.vec_len);
	} else {
		set_vec(c, PICK(V_BIG, V_HOLE, V_KERNEL, V_RAW, V_PART_HOLE));
		c->a.vec_len = 0;
	}
	mutate(c, 2);
}

static void gen_no_op(struct call *c)
{
	gen_valid(c);
	c->a.flags &= ~(uint64_t)CLEAR;
	if ((known_flags & NRR) && chance(30))
		c->a.flags |= NRR;
	set_vec(c, V_NONE);
	c->a.vec_len = 0;
	mutate(c, 2);
}

static void gen_clear_masks(struct call *c)
{
	struct pagemap_scan_arg *a = &c->a;
	uint64_t other = 1 + rnd(7);	/* FILE, PRESENT, SWAPPED: bits 1-3 */

	gen_valid(c);
	a->flags |= CLEAR;
	switch (rnd(3)) {
	case 0: a->required_mask |= other << 1; break;
	case 1: a->anyof_mask |= other << 1; break;
	default: a->excluded_mask = 1 + rnd(15); break;
	}
	mutate(c, 2);
}

static void gen_kernel(struct call *c)
{
	struct pagemap_scan_arg *a = &c->a;

	gen_valid(c);
	switch (rnd(4)) {
	case 0:
		a->start = kernel_addr() & ~(uint64_t)(psz - 1);
		a->len = PICK(0, psz, 1ULL << 30, edge());
		break;
	case 1:
		a->len = kernel_addr() - a->start + psz * rnd(3);
		break;
	case 2:
		set_vec(c, V_KERNEL);
		a->vec_len = gen_vec_len();
		break;
	default:
		set_arg(c, A_KERNEL);
		break;
	}
}

static void gen_vec_unwritable(struct call *c)
{
	struct pagemap_scan_arg *a = &c->a;

	gen_valid(c);
	set_vec(c, PICK(V_HOLE, V_RO, V_KERNEL, V_RAW));
	a->vec_len = gen_vec_len();
	if (chance(50))		/* every mapped page matches */
		a->required_mask = a->anyof_mask = a->excluded_mask = 0;
}

/*
 * vec with w writable entries, then unmapped or read-only ones: around the
 * kernel's window of 170 entries too, with ranges that need more regions.
 */
static void gen_vec_partly(struct call *c)
{
	struct pagemap_scan_arg *a = &c->a;
	uint64_t w = PICK(1, 2, 3, 1 + rnd(64), window - 1, window, window + 1,
			  1 + rnd(600), 2 * window, 2 * window + 1);

	gen_valid(c);
	a->flags = (known_flags & CLEAR) && chance(50) ? CLEAR : 0;
	gen_masks(a);
	set_vec_part(c, PICK(V_PART_HOLE, V_PART_RO), w);
	a->vec_len = chance(20) ? PICK(~0ULL, 1ULL << 40) : w + 1 + rnd(w + 8);
	if (chance(10))
		a->vec_len = 1 + rnd(c->vec_ok + 1);	/* all writable */
	if (w > 32 || chance(30)) {
		/* Enough regions: L alternates, seen through soft-dirty (or present) */
		a->start = arena_page(chance(50) ? S_FIRST : L_FIRST);
		a->len = arena_page(L_FIRST + L_PAGES) - a->start;
		a->required_mask = a->anyof_mask = a->excluded_mask = 0;
		a->return_mask = !(known_cats & SD) ? PAGE_IS_PRESENT :
				 SD | (chance(50) ? PAGE_IS_PRESENT : 0);
		if (l_broken)
			restore_l();
	}
	a->max_pages = chance(80) ? 0 : 1 + rnd(1024);
}

/*
 * vec inside [start, end): writing it changes the range while it is
 * scanned.  Mostly all writable; sometimes at the end of L, its later
 * entries in the guard.
 */
static void gen_vec_in_range(struct call *c)
{
	struct pagemap_scan_arg *a = &c->a;
	size_t vfirst, vlast, first, last, mapped_end = L_FIRST + L_PAGES;
	uint64_t vec, n;

	gen_valid(c);
	a->flags = (known_flags & CLEAR) && chance(50) ? CLEAR : 0;
	gen_masks(a);
	a->max_pages = 0;
	if (chance(75)) {
		vec = arena_page(S_FIRST + rnd(S_PAGES + L_PAGES - 8)) +
		      (chance(50) ? REGION * rnd(psz / REGION) : rnd(psz));
		a->vec_len = 1 + rnd(chance(50) ? 64 : 3 * window);
	} else {
		/* Fewer writable entries than the kernel's window: EFAULT */
		n = 1 + rnd(window - 1);
		vec = arena_page(mapped_end) - n * REGION -
		      (chance(25) ? 1 + rnd(REGION - 1) : 0);
		a->vec_len = n + 1 + rnd(64);
	}
	c->vk = V_IN_RANGE;
	a->vec = vec;
	c->vec_ok = writable_entries(vec);
	vfirst = (vec - ARENA_ADDR) / psz;
	vlast = (vec + min64(a->vec_len, c->vec_ok) * REGION - 1 - ARENA_ADDR) / psz;
	first = S_FIRST - 1 + rnd(vfirst - S_FIRST + 2);
	last = vlast + rnd(min64(ARENA_PAGES - vlast, 64));
	a->start = arena_page(first);
	a->len = arena_page(last + 1) - a->start;
}

static void gen_bad_arg(struct call *c)
{
	gen_valid(c);
	set_arg(c, PICK(A_MISALIGNED, A_RO, A_SPLIT_RO, A_SPLIT_HOLE, A_HOLE,
			A_KERNEL, A_NULL));
}

/* Space reservation ioctls (include/linux/falloc.h), not in the UAPI */
#define SPACE_RESV_SIZE	48
#define RESV(nr)	_IOC(_IOC_WRITE, 'X', nr, SPACE_RESV_SIZE)

/*
 * Handled by the VFS for every file, before pagemap's own ioctl
 * (do_vfs_ioctl(), file_ioctl() in fs/ioctl.c): not "an ioctl number this
 * file does not handle", so the random numbers avoid them.
 */
static const unsigned int vfs_cmds[] = {
	FIOCLEX, FIONCLEX, FIONBIO, FIOASYNC, FIOQSIZE, FIFREEZE, FITHAW,
	FS_IOC_FIEMAP, FIGETBSZ, FICLONE, FICLONERANGE, FIDEDUPERANGE, FIONREAD,
	FS_IOC_GETFLAGS, FS_IOC_SETFLAGS, FS_IOC_FSGETXATTR, FS_IOC_FSSETXATTR,
	FIBMAP, RESV(40), RESV(41), RESV(42), RESV(43), RESV(57),
};

static unsigned int random_cmd(void)
{
	unsigned int cmd;
	size_t i;

again:
	cmd = xorshift(&rng);
	if (cmd == PAGEMAP_SCAN)
		goto again;
	for (i = 0; i < ARRAY_SIZE(vfs_cmds); i++)
		if (cmd == vfs_cmds[i])
			goto again;
	return cmd;
}

/*
 * Other ioctl numbers, with a valid CLEAR argument (a call taken for a scan
 * would change S): random ones, PAGEMAP_SCAN's with other sizes,
 * directions, numbers or type, and with bits above the 32 the kernel takes.
 */
static void gen_other_cmd(struct call *c)
{
	uint64_t size;

	gen_valid(c);
	switch (rnd(6)) {
	case 0:
	case 1:
		c->cmd = random_cmd();
		break;
	case 2:
	case 3:
		do
			size = chance(50) ? rnd(1 << _IOC_SIZEBITS) :
			       PICK(0, 1, 8, ARG_SIZE - 8, ARG_SIZE - 1, ARG_SIZE + 1,
				    ARG_SIZE + 8, 2 * ARG_SIZE, (1 << _IOC_SIZEBITS) - 1);
		while (size == ARG_SIZE);
		c->cmd = _IOC(_IOC_READ | _IOC_WRITE, 'f', NR, size);
		break;
	case 4:
		c->cmd = PICK(_IOR('f', NR, struct pagemap_scan_arg),
			      _IOW('f', NR, struct pagemap_scan_arg), _IO('f', NR),
			      _IOWR('f', NR - 1, struct pagemap_scan_arg),
			      _IOWR('f', NR + 1, struct pagemap_scan_arg),
			      _IOWR('g', NR, struct pagemap_scan_arg),
			      /* upstream's (6.7): the same size, another struct */
			      _IOWR('f', 16, struct pagemap_scan_arg));
		break;
	default:
		c->cmd = (1 + rnd(0xffffffffUL)) << 32 |
			 (chance(50) ? PAGEMAP_SCAN : random_cmd());
		break;
	}
}

static void gen_random(struct call *c)
{
	gen_valid(c);
	mutate(c, 12);
}

static struct klass {
	const char *name;
	unsigned int weight;	/* calls in 100 */
	void (*gen)(struct call *c);
	struct counts n;
} classes[] = {
	{ .name = "size: smaller EINVAL, larger E2BIG unless its tail is zero", .weight = 5,
	  .gen = gen_bad_size },
	{ .name = "unknown flags give EINVAL", .weight = 5, .gen = gen_bad_flags },
	{ .name = "unknown mask bits give EINVAL", .weight = 5, .gen = gen_bad_masks },
	{ .name = "unaligned start, overflowing or too high end give EINVAL", .weight = 6, .gen = gen_bad_range },
	{ .name = "vec and vec_len disagreeing give EINVAL", .weight = 4, .gen = gen_vec_mismatch },
	{ .name = "neither GET nor CLEAR gives EINVAL", .weight = 3, .gen = gen_no_op },
	{ .name = "CLEAR with disallowed masks gives EINVAL", .weight = 4, .gen = gen_clear_masks },
	{ .name = "kernel addresses", .weight = 5, .gen = gen_kernel },
	{ .name = "vec unwritable gives EFAULT and changes nothing", .weight = 8, .gen = gen_vec_unwritable },
	{ .name = "vec partly unwritable: EFAULT or a shorter walk_end", .weight = 8, .gen = gen_vec_partly },
	{ .name = "vec inside the scanned range", .weight = 6, .gen = gen_vec_in_range },
	{ .name = "arg not writable gives EFAULT, misaligned works", .weight = 6, .gen = gen_bad_arg },
	{ .name = "other ioctl numbers give ENOTTY", .weight = 5, .gen = gen_other_cmd },
	{ .name = "random arguments match the model", .weight = 30, .gen = gen_random },
	{ .name = "failed calls change no soft-dirty state and write nothing", .weight = 0, .gen = NULL },
};

/*
 * A call whose outcome depends on how many regions the scan needs, which
 * the model can count only in the arena and in pagemap's soft-dirty (not
 * NO_REUSED_REGIONS'), gets a vec longer than any range of ours can fill.
 */
static void make_knowable(struct call *c)
{
	const struct pagemap_scan_arg *a = &c->a;

	if (c->vk == V_IN_RANGE || first_check(c) >= 0 || !a->vec ||
	    c->vec_ok >= a->vec_len || c->vec_ok > max_regions)
		return;
	if (arena_confined(a) && !(a->flags & NRR))
		return;
	set_vec(c, V_BIG);
}

/* Fill the entries the kernel could write with the canary (BIG stays so) */
static void prepare(const struct call *c)
{
	put_arg(c);
	if (c->vk == V_PART_HOLE || c->vk == V_PART_RO)
		memset((void *)c->a.vec, CANARY,
		       min64(c->vec_ok, c->a.vec_len) * REGION);
}

static bool has_canary(const struct call *c)
{
	return c->vk == V_BIG || c->vk == V_PART_HOLE || c->vk == V_PART_RO;
}

/* Whether entries [from, to) of vec still hold the canary */
static bool canary_intact(const struct call *c, uint64_t from, uint64_t to)
{
	const unsigned char *p = (const unsigned char *)c->a.vec;
	uint64_t i;

	to = min64(to, min64(c->vec_ok, c->a.vec_len));
	for (i = from * REGION; i < to * REGION; i++)
		if (p[i] != CANARY)
			return false;
	return true;
}

/* Whether arena page @i holds some of the writable entries of vec */
static bool holds_vec(const struct call *c, size_t i)
{
	uint64_t used = min64(c->a.vec_len, c->vec_ok);

	return c->vk == V_IN_RANGE && used && arena_page(i) < c->a.vec + used * REGION &&
	       arena_page(i) + psz > c->a.vec;
}

/*
 * Whether arena page @i was in a shmem THP that a CLEAR may have split: it
 * was mapped whole before the call (by a PMD; by PTEs too, which only
 * widens this), and the range starts or, ending at @we, stops inside it.
 * A failed call (@we 0) may have split it wherever the range covers it:
 * the spec protects soft-dirty state, and a split keeps that.  Splitting a
 * file THP unmaps it; its pages keep their soft-dirty bits.
 */
static bool in_split_thp(const struct call *c, uint64_t we, size_t i)
{
	uint64_t lo = arena_page(T_SHMEM), hi = arena_page(T_SHMEM + HUGE);
	uint64_t start = c->a.start, end = page_up(start + c->a.len);

	if (!(c->a.flags & CLEAR) || i < T_SHMEM || i >= T_SHMEM + HUGE)
		return false;
	if (!we ? start >= hi || end <= lo :
	    !(start > lo && start < hi) && !(we > lo && we < hi))
		return false;
	return pm_huge(pre_pm + T_SHMEM, HUGE);
}

/* Page @i after the call is @want, or @want unmapped by a split */
static bool state_is(const struct call *c, uint64_t we, size_t i, uint8_t want)
{
	return post[i] == want ||
	       (post[i] == (want & ~(PAGE_IS_PRESENT | PAGE_IS_FILE)) &&
		in_split_thp(c, we, i));
}

/* A failed call: nothing changed, nothing written */
static const char *check_failed(const struct call *c)
{
	const char *src = (const char *)&c->a;
	size_t i;

	for (i = 0; i < ARENA_PAGES; i++)
		if (!state_is(c, 0, i, pre[i]))
			return BAD("page %s changed from %#x to %#x%s",
				   page_name(i), pre[i], post[i],
				   holds_vec(c, i) ? " (it holds writable entries of vec)" : "");
	for (i = 0; i < ARG_SIZE; i++)
		if (arg_readable(c->argp + i) && *(char *)(c->argp + i) != src[i])
			return BAD("argument byte %zu changed", i);
	if (has_canary(c) && !canary_intact(c, 0, CANARY_CHECK))
		return BAD("vec written");
	return NULL;
}

/* The arena after a success: the regions and the new state, page by page */
static const char *check_arena(const struct call *c, const struct expect *e,
			       long ret, uint64_t we, const int *rep)
{
	const struct pagemap_scan_arg *a = &c->a;
	bool clear = a->flags & CLEAR, nrr = a->flags & NRR;
	static struct sim s;
	size_t i;

	for (i = 0; i < ARENA_PAGES; i++) {
		bool in = arena_page(i) >= a->start && arena_page(i) < we;
		bool m = in && arena_mapped(i) && matches(a, pre[i]);
		uint8_t want = clear && m ? pre[i] & ~SD : pre[i];

		if (nrr) {
			/* Its soft-dirty is not pagemap's: only what CLEAR may do */
			if (!state_is(c, we, i, pre[i]) &&
			    !(in && clear && state_is(c, we, i, pre[i] & ~SD)))
				return BAD("page %s changed from %#x to %#x",
					   page_name(i), pre[i], post[i]);
			continue;
		}
		if (a->vec && (rep[i] >= 0) != m)
			return BAD("page %s (%#x) %s reported", page_name(i),
				   pre[i], m ? "not" : "wrongly");
		if (a->vec && m && rep[i] != (int)(pre[i] & a->return_mask))
			return BAD("page %s (%#x) reported with bitmap %#x",
				   page_name(i), pre[i], rep[i]);
		if (!state_is(c, we, i, want))
			return BAD("page %s is %#x after the call, not %#x",
				   page_name(i), post[i], want);
	}
	if (!arena_confined(a) || nrr)
		return NULL;
	simulate(a, pre, e->or_short ? c->vec_ok : min64(a->vec_len, ARENA_PAGES), &s);
	if ((uint64_t)ret != s.nr || we != s.walk_end)
		return BAD("%ld regions, walk_end %#llx; the model: %zu, %#llx",
			   ret, (unsigned long long)we, s.nr,
			   (unsigned long long)s.walk_end);
	return NULL;
}

/*
 * vec inside the range: its pages may be seen before or after the kernel
 * faults them in for writing (present and soft-dirty), and may be cleared
 * after; the entries written after the walk leave their pages dirty.  The
 * other pages must be exactly as for any scan.
 */
static const char *check_in_range(const struct call *c, long ret, uint64_t we,
				  const int *rep)
{
	const struct pagemap_scan_arg *a = &c->a;
	uint64_t used = min64(a->vec_len, c->vec_ok);
	size_t vfirst = (a->vec - ARENA_ADDR) / psz;
	size_t vlast = (a->vec + used * REGION - 1 - ARENA_ADDR) / psz;
	size_t wlast = (a->vec + ret * REGION - 1 - ARENA_ADDR) / psz;
	bool clear = a->flags & CLEAR;
	size_t i, k;

	for (i = 0; i < ARENA_PAGES; i++) {
		bool in = arena_page(i) >= a->start && arena_page(i) < we;
		uint8_t alt = (PAGE_IS_PRESENT | SD | (arena_file(i) ? PAGE_IS_FILE : 0)) &
			      known_cats;
		uint8_t cand[4] = { pre[i], alt, pre[i] & ~SD, alt & ~SD };
		bool ok = false;

		if (i < vfirst || i > vlast) {
			bool m = in && arena_mapped(i) && matches(a, pre[i]);
			uint8_t want = clear && m ? pre[i] & ~SD : pre[i];

			if ((rep[i] >= 0) != m || (m && rep[i] != (int)(pre[i] & a->return_mask)))
				return BAD("page %s (%#x) reported as %d", page_name(i),
					   pre[i], rep[i]);
			if (!state_is(c, we, i, want))
				return BAD("page %s is %#x after the call, not %#x",
					   page_name(i), post[i], want);
			continue;
		}
		for (k = 0; k < 2 && in; k++)
			ok |= (rep[i] >= 0) == matches(a, cand[k]) &&
			      (rep[i] < 0 || rep[i] == (int)(cand[k] & a->return_mask));
		if (in && !ok)
			return BAD("vec page %s (%#x) reported as %d", page_name(i),
				   pre[i], rep[i]);
		for (ok = false, k = 0; k < (clear && in ? 4 : 2); k++)
			ok |= post[i] == cand[k];
		if (!ok || (ret > 0 && (unsigned long)ret < window && i <= wlast &&
			    post[i] != alt))
			return BAD("vec page %s is %#x after the call (was %#x)",
				   page_name(i), post[i], pre[i]);
	}
	return NULL;
}

/* A successful call: its regions, walk_end and the arena after it */
static const char *check_success(const struct call *c, const struct expect *e,
				 long ret)
{
	const struct pagemap_scan_arg *a = &c->a;
	struct pagemap_scan_arg out;
	uint64_t end = page_up(a->start + a->len), cap = ~0ULL, pages = 0, we;
	uint64_t prev_end = 0, prev_bits = 0, addr;
	static int rep[ARENA_PAGES];
	long i;

	memcpy(&out, (void *)c->argp, sizeof(out));
	we = out.walk_end;
	out.walk_end = a->walk_end;
	if (memcmp(&out, a, sizeof(out)))
		return BAD("the argument changed besides walk_end");
	if (a->vec)
		cap = min64(a->vec_len, c->vec_ok);
	else if (ret)
		return BAD("returned %ld without vec", ret);
	if ((uint64_t)ret > cap)
		return BAD("returned %ld, more than the %llu writable entries",
			   ret, (unsigned long long)cap);
	if (we % psz || we < a->start || we > end)
		return BAD("walk_end %#llx is not in [start, end %#llx]",
			   (unsigned long long)we, (unsigned long long)end);
	for (i = 0; i < ARENA_PAGES; i++)
		rep[i] = -1;
	for (i = 0; i < ret; i++) {
		struct page_region r;

		memcpy(&r, (char *)a->vec + i * REGION, sizeof(r));
		if (r.start % psz || !r.len || r.len % psz || r.start < a->start ||
		    r.start + r.len > we || r.start + r.len < r.start)
			return BAD("region %ld [%#llx, +%#llx) is not in [start, walk_end)",
				   i, r.start, r.len);
		if (i && r.start < prev_end)
			return BAD("region %ld overlaps or precedes the one before", i);
		if (i && r.start == prev_end && r.bitmap == prev_bits)
			return BAD("region %ld continues the one before", i);
		if (r.bitmap & ~a->return_mask)
			return BAD("region %ld has bitmap %#llx", i, r.bitmap);
		pages += r.len / psz;
		for (addr = r.start; addr < r.start + r.len; addr += psz)
			if (addr >= ARENA_ADDR && addr < arena_page(ARENA_PAGES))
				rep[(addr - ARENA_ADDR) / psz] = r.bitmap;
		prev_end = r.start + r.len;
		prev_bits = r.bitmap;
	}
	if (a->max_pages && pages > a->max_pages)
		return BAD("%llu pages reported, max_pages %llu",
			   (unsigned long long)pages, (unsigned long long)a->max_pages);
	/* A scan ends early only for a full vec or max_pages */
	if (we != end && (uint64_t)ret < cap &&
	    (a->vec ? !a->max_pages || pages < a->max_pages : !a->max_pages))
		return BAD("walk_end %#llx before the end %#llx with room left",
			   (unsigned long long)we, (unsigned long long)end);
	if (has_canary(c) && !canary_intact(c, ret, ret + 4))
		return BAD("vec written past the %ld regions returned", ret);
	if (c->vk == V_IN_RANGE)
		return check_in_range(c, ret, we, rep);
	return check_arena(c, e, ret, we, rep);
}

static size_t expect_slot(const struct expect *e)
{
	if (e->or_short)
		return 4;
	switch (e->err) {
	case 0: return 0;
	case EINVAL: return 1;
	case EFAULT: return 2;
	case ENOTTY: return 3;
	case E2BIG: return 5;
	}
	return 6;
}

static void show(const struct klass *k, const struct call *c,
		 const struct expect *e, long ret, int err, const char *what)
{
	const struct pagemap_scan_arg *a = &c->a;

	if (shown++ >= SHOW_MAX)
		return;
	ksft_print_msg("%s: %s\n", k->name, what);
	ksft_print_msg("  cmd %#lx, arg at %#lx (%s): size %#llx flags %#llx start %#llx len %#llx\n",
		       c->cmd, (unsigned long)c->argp, arg_names[c->ak],
		       a->size, a->flags, a->start, a->len);
	ksft_print_msg("  vec %#llx (%s, %llu writable entries) vec_len %#llx max_pages %#llx\n",
		       a->vec, vec_names[c->vk], (unsigned long long)c->vec_ok,
		       a->vec_len, a->max_pages);
	ksft_print_msg("  required %#llx anyof %#llx excluded %#llx return %#llx\n",
		       a->required_mask, a->anyof_mask, a->excluded_mask,
		       a->return_mask);
	ksft_print_msg("  expected %s%s (%s); got %s (%ld)\n", errname(e->err),
		       e->or_short ? " or a short success" : "", e->why,
		       errname(ret < 0 ? err : 0), ret);
}

struct result {
	long ret;
	bool short_success;
	uint64_t walk_end;
};

/* One call: prepare, model, call, judge */
static struct result run_one(struct klass *k, struct call *c)
{
	struct result r = { 0 };
	struct expect e;
	const char *bad;
	int err, got;

	make_knowable(c);
	prepare(c);
	read_arena(pre, pre_pm);
	model(c, &e);
	errno = 0;
	r.ret = ioctl(pm_fd, c->cmd, (void *)c->argp);
	err = errno;
	read_arena(post, NULL);

	got = r.ret < 0 ? err : 0;
	k->n.calls++;
	k->n.expected[expect_slot(&e)]++;
	if (got != e.err && !(e.or_short && !got)) {
		k->n.wrong++;
		show(k, c, &e, r.ret, err, "wrong errno");
	}
	if (r.ret < 0) {
		k->n.failed++;
		k->n.or_efault += e.or_short && got == EFAULT;
		bad = check_failed(c);
		if (bad) {
			k->n.violations++;
			show(k, c, &e, r.ret, err, bad);
		}
	} else if (got == e.err || e.or_short) {
		k->n.or_success += e.or_short;
		bad = check_success(c, &e, r.ret);
		if (bad) {
			k->n.bad++;
			show(k, c, &e, r.ret, err, bad);
		}
		memcpy(&r.walk_end, (char *)c->argp +
		       offsetof(struct pagemap_scan_arg, walk_end), 8);
		r.short_success = e.or_short && r.walk_end < page_up(c->a.start + c->a.len);
	}
	/* Keep the long vec's canary; note when L lost its pattern */
	if (c->vk == V_BIG && r.ret > 0)
		memset((void *)c->a.vec, CANARY,
		       min64(r.ret + 4, min64(c->vec_ok, c->a.vec_len)) * REGION);
	if (c->vk == V_IN_RANGE || (r.ret >= 0 && (c->a.flags & CLEAR) &&
				    c->a.start < arena_page(L_FIRST + L_PAGES) &&
				    c->a.start + c->a.len > arena_page(L_FIRST)))
		l_broken = true;
	return r;
}

/*
 * After a short success, the next call from walk_end, with vec from the
 * entry that was not writable, must fail with nothing changed (pagemap.rst).
 */
static void run_follow_up(struct klass *k, const struct call *c, const struct result *r)
{
	struct call f = *c;

	f.a.start = r->walk_end;
	f.a.len = c->a.start + c->a.len - r->walk_end;
	f.a.vec += r->ret * REGION;
	f.a.vec_len -= r->ret;
	f.a.max_pages = 0;
	f.a.walk_end = WALK_CANARY;
	f.vec_ok = writable_entries(f.a.vec);
	run_one(k, &f);
}

/* Whether the kernel takes @flags: a read-only argument gets EFAULT then */
static int probe_flags(uint64_t flags)
{
	struct call c;

	gen_valid(&c);
	set_arg(&c, A_RO);
	c.a.flags = flags;
	c.a.start = arena_page(S_FIRST);
	c.a.len = psz;
	c.a.required_mask = c.a.anyof_mask = c.a.excluded_mask = 0;
	set_vec(&c, V_BIG);
	c.a.vec_len = 1;
	put_arg(&c);
	setup_calls++;
	return ioctl(pm_fd, PAGEMAP_SCAN, (void *)c.argp) < 0 ? errno : 0;
}

/* What the VFS's generic ioctls do on pagemap, for the record */
static void vfs_notes(void)
{
	static const struct {
		unsigned long cmd;
		const char *name;
	} v[] = {
		{ FIOCLEX, "FIOCLEX" }, { FIONCLEX, "FIONCLEX" },
		{ FIOQSIZE, "FIOQSIZE" }, { FIGETBSZ, "FIGETBSZ" },
		{ FIONREAD, "FIONREAD" }, { FS_IOC_GETFLAGS, "FS_IOC_GETFLAGS" },
		{ FS_IOC_FSGETXATTR, "FS_IOC_FSGETXATTR" },
	};
	char line[512] = "", buf[256] __attribute__((aligned(8)));
	size_t i, n = 0;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		int ret = ioctl(pm_fd, v[i].cmd, buf);

		n += snprintf(line + n, sizeof(line) - n, "%s %s%s", v[i].name,
			      errname(ret < 0 ? errno : 0),
			      i + 1 < ARRAY_SIZE(v) ? ", " : "");
	}
	ksft_print_msg("generic VFS ioctls (fs/ioctl.c, before pagemap's; not counted): %s\n",
		       line);
}

static void report(struct klass *k, const struct counts *n)
{
	char line[512];
	size_t i, len;

	len = snprintf(line, sizeof(line), "%lu calls, expected:", n->calls);
	for (i = 0; i < ARRAY_SIZE(n->expected); i++)
		if (n->expected[i])
			len += snprintf(line + len, sizeof(line) - len, " %s %lu,",
					slot_names[i], n->expected[i]);
	ksft_print_msg("%s: %s wrong errno %lu, wrong results %lu, violations %lu\n",
		       k->name, line, n->wrong, n->bad, n->violations);
	if (n->or_efault || n->or_success)
		ksft_print_msg("%s: where EFAULT or a success was allowed: EFAULT %lu, success %lu\n",
			       k->name, n->or_efault, n->or_success);
	if (!n->calls)
		ksft_test_result_skip("%s: no calls\n", k->name);
	else
		ksft_test_result(!n->wrong && !n->bad && !n->violations, "%s\n", k->name);
}

static void report_all(uint64_t ns)
{
	struct klass *agg = &classes[ARRAY_SIZE(classes) - 1];
	struct counts t = { 0 };
	size_t i, j;

	for (i = 0; i + 1 < ARRAY_SIZE(classes); i++) {
		const struct counts *n = &classes[i].n;

		if (classes[i].gen == gen_other_cmd)
			vfs_notes();
		report(&classes[i], n);
		t.calls += n->calls;
		t.wrong += n->wrong;
		t.bad += n->bad;
		t.violations += n->violations;
		t.failed += n->failed;
		for (j = 0; j < ARRAY_SIZE(t.expected); j++)
			t.expected[j] += n->expected[j];
	}
	ksft_print_msg("all: %lu calls (%lu more to set up and stir the arena) in %.1f s; wrong errno %lu, wrong results %lu\n",
		       t.calls, setup_calls, ns / 1e9, t.wrong, t.bad);
	ksft_print_msg("%s: %lu failed calls compared, violations %lu\n",
		       agg->name, t.failed, t.violations);
	if (!t.failed)
		ksft_test_result_skip("%s: no call failed\n", agg->name);
	else
		ksft_test_result(!t.violations, "%s\n", agg->name);
}

/* Whether T held THPs; without them its calls tested small pages only */
static void report_thp(bool shmem_thp)
{
	ksft_print_msg("T: %lu of %lu anonymous and %lu of %lu shmem rebuilds made a THP\n",
		       thp_made[0], thp_tries[0], thp_made[1], thp_tries[1]);
	if (access(THP_ENABLED, F_OK))
		ksft_test_result_skip("THP in T: no %s\n", THP_ENABLED);
	else
		ksft_test_result(thp_made[0] && (!shmem_thp || thp_made[1]),
				 "THP in T: anonymous%s\n", shmem_thp ? " and shmem" : "");
}

static void skip_all(const char *why)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(classes); i++)
		ksft_test_result_skip("%s: %s\n", classes[i].name, why);
	ksft_test_result_skip("THP in T: %s\n", why);
	ksft_finished();
}

/* Call i goes to the class cycle[i % 100], in a shuffled order */
static void make_cycle(unsigned char *cycle, size_t *len)
{
	size_t i, j, n = 0;
	unsigned char t;

	for (i = 0; i < ARRAY_SIZE(classes); i++)
		for (j = 0; j < classes[i].weight; j++)
			cycle[n++] = i;
	for (i = n; i > 1; i--) {
		j = rnd(i);
		t = cycle[i - 1];
		cycle[i - 1] = cycle[j];
		cycle[j] = t;
	}
	*len = n;
}

static void fuzz(size_t calls)
{
	unsigned char cycle[128];
	size_t i, len;
	uint64_t t0 = now();

	make_cycle(cycle, &len);
	for (i = 0; i < calls; i++) {
		struct klass *k = &classes[cycle[i % len]];
		struct call c;
		struct result r;

		if (i % REFRESH == 0) {
			refresh_s();
			refresh_t();
		}
		k->gen(&c);
		r = run_one(k, &c);
		if (r.short_success)
			run_follow_up(k, &c, &r);
	}
	report_all(now() - t0);
}

static void usage(FILE *f, int status)
{
	fprintf(f, "usage: scan-fuzz [--calls N] [--seed S]\n"
		"  --calls N  PAGEMAP_SCAN calls (100..1000000000, default %d)\n"
		"  --seed S   of the pseudo-random arguments (default %llu)\n",
		DEFAULT_CALLS, DEFAULT_SEED);
	exit(status);
}

int main(int argc, char **argv)
{
	size_t calls = DEFAULT_CALLS, seed = DEFAULT_SEED;
	bool shmem_thp;
	int i, err;

	no_aslr(argv);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			usage(stdout, 0);
		if (strcmp(argv[i], "--calls") && strcmp(argv[i], "--seed")) {
			fprintf(stderr, "error: unknown argument '%s'\n", argv[i]);
			usage(stderr, 2);
		}
		if (i + 1 == argc) {
			fprintf(stderr, "error: %s needs a value\n", argv[i]);
			usage(stderr, 2);
		}
		if (!strcmp(argv[i], "--calls"))
			calls = parse(argv[i + 1], "--calls", 100, 1000000000);
		else
			seed = parse(argv[i + 1], "--seed", 1, SIZE_MAX);
		i++;
	}
	rng = seed;
	psz = sysconf(_SC_PAGESIZE);
	window = psz / REGION;
	pm_fd = scan_open(0);
	task_size = find_task_size();
	setvbuf(stdout, NULL, _IOLBF, 0);
	ksft_print_header();
	ksft_set_plan(ARRAY_SIZE(classes) + 1);
	shmem_thp = shmem_thp_advise();

	setup_memory();
	known_flags = CLEAR;
	err = probe_flags(CLEAR);
	if (err == ENOTTY)
		skip_all("the kernel has no PAGEMAP_SCAN");
	if (err == EINVAL) {	/* spec "Compatibility": CLEAR and SD are unknown */
		known_flags = 0;
		known_cats &= ~(uint64_t)SD;
		ksft_print_msg("no CONFIG_MEM_SOFT_DIRTY (CLEAR gets EINVAL): CLEAR and "
			       "PAGE_IS_SOFTDIRTY are unknown bits to the model\n");
	} else if (err != EFAULT) {
		ksft_exit_fail_msg("PAGEMAP_SOFTDIRTY_CLEAR probe: %s, not EFAULT or EINVAL\n",
				   errname(err));
	}
	err = probe_flags(CLEAR | NRR);
	if (err == EFAULT)
		known_flags |= NRR;
	else if (err != EINVAL)
		ksft_exit_fail_msg("PAGEMAP_NO_REUSED_REGIONS probe: %s, not EFAULT or EINVAL\n",
				   errname(err));
	setup_arena();
	max_regions = 2 * mapped_pages() + 1024;
	if (max_regions >= BIG_PAGES * psz / REGION)
		ksft_exit_fail_msg("%llu pages mapped: too many for the long vec\n",
				   (unsigned long long)max_regions);
	ksft_print_msg("seed %zu, %zu calls, address-space limit %#llx\n", seed,
		       calls, (unsigned long long)task_size);
	ksft_print_msg("PAGEMAP_NO_REUSED_REGIONS: %s\n", known_flags & NRR ?
		       "known (a read-only argument gets EFAULT): a valid flag" :
		       "unknown (EINVAL): an unknown flag bit like the others");
	fuzz(calls);
	report_thp(shmem_thp);
	ksft_finished();
}
