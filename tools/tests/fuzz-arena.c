// SPDX-License-Identifier: GPL-2.0
/* scan-fuzz: the memory the calls point at: the arena, vec buffers, argument pages */
#include "scan-fuzz.h"

uintptr_t arena_page(size_t i)
{
	return ARENA_ADDR + i * psz;
}

uintptr_t misc(size_t page)
{
	return MISC_ADDR + page * psz;
}

bool arena_mapped(size_t i)
{
	return (i >= S_FIRST && i < L_FIRST + L_PAGES) ||
	       (i >= T_ANON && i < T_SHMEM + HUGE);
}

bool arena_file(size_t i)
{
	return (i >= L_FIRST - S_FILE && i < L_FIRST) ||
	       (i >= T_SHMEM && i < T_SHMEM + HUGE);
}

const char *page_name(size_t i)
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

/*
 * The categories (PAGE_IS_*) of the arena's pages as a read of pagemap
 * gives them, and its entries into @pm unless NULL.
 */
void read_arena(uint8_t *cats, uint64_t *pm)
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
uint64_t find_task_size(void)
{
	void *hi = mmap((void *)(1UL << 48), psz, PROT_NONE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

	if (hi == MAP_FAILED)
		return (1UL << 47) - psz;
	munmap(hi, psz);
	return (uintptr_t)hi == 1UL << 48 ? (1UL << 56) - psz : (1UL << 47) - psz;
}

/* Pages mapped by this process now: a bound on the regions of any range */
uint64_t mapped_pages(void)
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
void restore_l(void)
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
void refresh_s(void)
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
void refresh_t(void)
{
	if (chance(25))
		rebuild_t(chance(50));
}

void setup_memory(void)
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
void setup_arena(void)
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
