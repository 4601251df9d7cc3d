// SPDX-License-Identifier: GPL-2.0
/* ww-conformance: the cases, each run once per backend, and what they must observe */
#define _GNU_SOURCE
#include "ww-conformance.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static void fresh(void)
{
	volatile char sum = 0;
	size_t i;

	set_region(4);
	for (i = 0; i < 4 * PG; i += 64)
		sum += R[i];
	get_pages(0, 0, 4);
	get(WW_FLAG_RESET, R, 4 * PG, 1);
}

static void one_write(void)
{
	set_region(4);
	wr(1, 123);
	get_pages(0, 0, 4);
	get_pages(0, 0, 4);	/* without RESET it stays */
}

static void reset_flag(void)
{
	set_region(4);
	wr(0, 0);
	wr(2, PG - 1);
	get_pages(WW_FLAG_RESET, 0, 4);
	get_pages(0, 0, 4);
	wr(2, 7);		/* tracked again after the reset */
	get_pages(0, 0, 4);
}

static void reset_call(void)
{
	set_region(4);
	wr(0, 0);
	wr(1, 0);
	wr(3, 0);
	reset(R, 4 * PG);
	get_pages(0, 0, 4);
	wr(1, 9);
	get_pages(0, 0, 4);
}

static void sub_range(void)
{
	set_region(8);
	wr(1, 0);
	wr(3, 0);
	wr(5, 0);
	wr(6, 0);
	get_pages(0, 2, 4);
	get(0, R + 3 * PG + 100, 10, MAX_ADDR);		/* widened to page 3 */
	get_pages(WW_FLAG_RESET, 0, 2);
	reset(R + 5 * PG, PG);
	reset(R + 6 * PG + 1, 1);			/* widened to page 6 */
	get(0, R, 3 * PG + 1, MAX_ADDR);		/* pages 0-3 */
	get_pages(0, 0, 8);
}

static void straddle(void)
{
	uint64_t v = 0x0102030405060708ULL;

	set_region(4);
	memcpy(R + 2 * PG - 4, &v, sizeof(v));	/* one unaligned store */
	__asm__ volatile("" ::: "memory");
	get_pages(0, 0, 4);
}

/* Wine's test: 3 pages written, count=1 with RESET returns the lowest */
static void count_one(void)
{
	set_region(4);
	wr(3, 0);
	wr(1, 0);
	wr(2, 0);
	get(0, R, 4 * PG, 1);
	get(WW_FLAG_RESET, R, 4 * PG, 1);
	get_pages(0, 0, 4);
}

/* More regions than one PAGEMAP_SCAN vec holds, and partial resets */
static void many(void)
{
	size_t i;

	set_region(MANY);
	for (i = 0; i < MANY; i += 2)
		wr(i, 0);
	get_pages(0, 0, MANY);
	get(WW_FLAG_RESET, R, MANY * PG, 100);
	get(WW_FLAG_RESET, R, MANY * PG, 1);
	get_pages(0, 0, MANY);
	get_pages(WW_FLAG_RESET, 0, MANY);
	get_pages(0, 0, MANY);
}

static void kernel_write(void)
{
	char buf[200] = "written by the kernel";
	int fds[2];
	ssize_t n;

	set_region(4);
	if (pipe(fds) || write(fds[1], buf, sizeof(buf)) != sizeof(buf))
		fail("pipe");
	n = read(fds[0], R + PG + PG - 100, sizeof(buf));	/* pages 1 and 2 */
	if (n < 0)
		note("read %s", errname(errno));
	else
		note("read %zd", n);
	close(fds[0]);
	close(fds[1]);
	get_pages(0, 0, 4);
}

static void einval(void)
{
	set_region(4);
	wr(0, 0);
	get(WW_FLAG_RESET | 2, R, 4 * PG, 4);	/* unknown flag */
	get(WW_FLAG_RESET, R, 4 * PG, 0);	/* *count 0 */
	get(WW_FLAG_RESET, R, 0, 4);		/* size 0 */
	get(WW_FLAG_RESET, NULL, 4 * PG, 4);
	get_pages(0, 0, 4);			/* nothing was reset */
}

static void efault(void)
{
	void *addr[4];
	uintptr_t count = 4;
	uint32_t gran;

	set_region(4);
	wr(0, 0);
	get_raw(WW_FLAG_RESET, R, 4 * PG, addr, NULL, &gran);
	get_raw(WW_FLAG_RESET, R, 4 * PG, addr, &count, NULL);
	get_raw(WW_FLAG_RESET, R, 4 * PG, NULL, &count, &gran);
	get_pages(0, 0, 4);
}

static void outside(void)
{
	char *other = mmap(NULL, PG, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char local[64];

	if (other == MAP_FAILED)
		fail("mmap");
	set_region(4);
	wr(0, 0);
	wr(3, 0);
	get(WW_FLAG_RESET, R, 5 * PG, 4);		/* past the end */
	get(WW_FLAG_RESET, R - 1, 2, 4);		/* from the guard page */
	get(WW_FLAG_RESET, R + 3 * PG, SIZE_MAX, 4);	/* end overflows */
	get(WW_FLAG_RESET, (void *)(UINTPTR_MAX - 100), 50, 4);	/* so would its page */
	get(WW_FLAG_RESET, other, PG, 4);		/* not watched */
	get(WW_FLAG_RESET, local, sizeof(local), 4);
	reset(R, 5 * PG);
	reset(R, 0);
	reset(NULL, PG);
	reset(other, PG);
	get_pages(0, 0, 4);
	munmap(other, PG);
}

static void free_errors(void)
{
	char local[64];
	void *p;

	set_region(4);
	note_ret("free", ww_free(R + PG));
	note_ret("free", ww_free(NULL));
	note_ret("free", ww_free(local));
	p = ww_alloc(0);
	note("alloc(0) %s", p ? "ok" : errname(errno));
	note_ret("free", ww_free(R));
	get_pages(0, 0, 4);
	reset(R, PG);
	note_ret("free", ww_free(R));
}


/* With THP for every mapping, a write must still mark one 4 KiB page */
static void thp_always(void)
{
	char old[32];

	if (!sysfs_mode(THP_ENABLED, "always", old, sizeof(old))) {
		skip_reason = "cannot set " THP_ENABLED " to always";
		return;
	}
	set_region(MANY);
	wr(0, 0);
	wr(600, 0);
	get_pages(0, 0, MANY);
	if (!sysfs_mode(THP_ENABLED, old, NULL, 0))
		note("could not restore THP mode %s", old);
}

/* Fresh memory at a reused address, next to a new mapping */
static void reuse(void)
{
	char *a, *b;

	set_region(4);
	memset(R, 1, 4 * PG);
	note_ret("free", ww_free(R));
	set_region(4);
	get_pages(0, 0, 4);
	a = R;
	memset(a, 1, 4 * PG);
	get_pages(WW_FLAG_RESET, 0, 4);
	set_region(4);		/* new neighbours must not dirty a */
	b = R;
	set_region(4);
	b[0] = 1;
	R = a;
	get_pages(0, 0, 4);
	R = b;
	get_pages(0, 0, 4);
}

static void *write_2_3(void *arg)
{
	(void)arg;
	wr(2, 5);
	wr(3, 5);
	return NULL;
}

static void threads(void)
{
	pthread_t t;
	int i;

	set_region(4);
	for (i = 0; i < 2; i++) {
		if (pthread_create(&t, NULL, write_2_3, NULL) || pthread_join(t, NULL))
			fail("pthread");
		get_pages(WW_FLAG_RESET, 0, 4);
	}
}

#define RACE_PAGES	64
#define RACE_WRITES	1000
#define RACE_BURST	8	/* writes between two collector calls, at least */

static unsigned long race_calls;
static int race_done;

/* The counter in page @page of R: the number of the write that set it */
static uint64_t *counter(size_t page)
{
	return (uint64_t *)(R + page * PG);
}

static void *race_writer(void *arg)
{
	uint64_t rnd = 0x9e3779b97f4a7c15ULL, k;
	unsigned long calls;

	(void)arg;
	for (k = 1; k <= RACE_WRITES; k++) {
		__atomic_store_n(counter(xorshift(&rnd) % RACE_PAGES), k, __ATOMIC_RELEASE);
		if (k % RACE_BURST)
			continue;
		calls = __atomic_load_n(&race_calls, __ATOMIC_ACQUIRE);
		while (__atomic_load_n(&race_calls, __ATOMIC_ACQUIRE) == calls)
			sched_yield();
	}
	__atomic_store_n(&race_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * One get+reset of all of R.  A page it does not report must hold the
 * counter read right after the call that last reported it (@seen): a write
 * after that read came after the page's reset, so it must be reported.
 * Returns the writes lost.
 */
static size_t race_collect(uint64_t *seen)
{
	uint64_t before[RACE_PAGES];
	bool hit[RACE_PAGES] = { false };
	void *addr[RACE_PAGES];
	uintptr_t i, n = RACE_PAGES;
	uint32_t gran;
	size_t lost = 0;

	for (i = 0; i < RACE_PAGES; i++)
		before[i] = __atomic_load_n(counter(i), __ATOMIC_ACQUIRE);
	if (ww_get(WW_FLAG_RESET, R, RACE_PAGES * PG, addr, &n, &gran))
		fail("ww_get");
	__atomic_add_fetch(&race_calls, 1, __ATOMIC_RELEASE);
	for (i = 0; i < n; i++)
		hit[((char *)addr[i] - R) / PG] = true;
	for (i = 0; i < RACE_PAGES; i++)
		if (hit[i])
			seen[i] = __atomic_load_n(counter(i), __ATOMIC_ACQUIRE);
		else
			lost += before[i] != seen[i];
	return lost;
}

/* A writer thread against get+reset calls: no write may be lost */
static void race(void)
{
	uint64_t seen[RACE_PAGES] = { 0 };
	size_t lost = 0;
	pthread_t t;

	set_region(RACE_PAGES);
	race_calls = 0;
	race_done = 0;
	if (pthread_create(&t, NULL, race_writer, NULL))
		fail("pthread_create");
	while (!__atomic_load_n(&race_done, __ATOMIC_ACQUIRE))
		lost += race_collect(seen);
	if (pthread_join(t, NULL))
		fail("pthread_join");
	lost += race_collect(seen);	/* the last writes */
	note("lost %zu", lost);
}

/* A child that does @what; notes how it ended */
static void child_ends(const char *name, void (*what)(void))
{
	struct rlimit no_core = { 0, 0 };
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		fail("fork");
	if (!pid) {
		setrlimit(RLIMIT_CORE, &no_core);
		what();
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid)
		fail("waitpid");
	if (WIFSIGNALED(status))
		note("%s: %s", name, strsignal(WTERMSIG(status)));
	else
		note("%s: exit %d", name, WEXITSTATUS(status));
}

static void write_readonly(void)
{
	char *p = mmap(NULL, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p != MAP_FAILED)
		*(volatile char *)p = 1;
}

static void send_segv(void)
{
	kill(getpid(), SIGSEGV);
}

static void write_guard(void)
{
	((volatile char *)R)[-1] = 1;
}

static void foreign_segv(void)
{
	set_region(1);
	child_ends("write to unwatched read-only page", write_readonly);
	child_ends("kill SIGSEGV", send_segv);
	child_ends("write to guard page", write_guard);
}

const struct tcase cases[] = {
	{ "fresh region reports 0 pages (reads are not writes)", fresh,
	  "get []; get+reset []", NULL },
	{ "one write reports one page-aligned address", one_write,
	  "get [1]; get [1]", NULL },
	{ "RESET reports, clears, and the page is tracked again", reset_flag,
	  "get+reset [0 2]; get []; get [2]", NULL },
	{ "ww_reset clears the range", reset_call,
	  "reset ok; get []; get [1]", NULL },
	{ "sub-range queries and resets, unaligned ones widened", sub_range,
	  "get [3 5]; get [3]; get+reset [1]; reset ok; reset ok; get [3]; get [3]", NULL },
	{ "a write straddling two pages marks both", straddle,
	  "get [1 2]", NULL },
	{ "count=1 with RESET returns the lowest of 3 and leaves 2", count_one,
	  "get [1]; get+reset [1]; get [2 3]", NULL },
	{ "512 pages in 512 regions, partial RESETs resume", many,
	  "get 512 pages 0..1022 step 2; get+reset 100 pages 0..198 step 2; "
	  "get+reset [200]; get 411 pages 202..1022 step 2; "
	  "get+reset 411 pages 202..1022 step 2; get []", NULL },
	{ "THP=always: a write still marks one 4 KiB page", thp_always,
	  "get [0 600]", NULL },
	{ "kernel write (read() into the buffer)", kernel_write,
	  "read 200; get [1 2]",
	  "read EFAULT; get []" },
	{ "EINVAL: unknown flag, count 0, size 0, base NULL; nothing reset", einval,
	  "get+reset EINVAL; get+reset EINVAL; get+reset EINVAL; get+reset EINVAL; get [0]", NULL },
	{ "EFAULT: count, granularity or addresses NULL; nothing reset", efault,
	  "get+reset EFAULT; get+reset EFAULT; get+reset EFAULT; get [0]", NULL },
	{ "EINVAL: ranges outside the watched allocation; nothing reset", outside,
	  "get+reset EINVAL; get+reset EINVAL; get+reset EINVAL; get+reset EINVAL; "
	  "get+reset EINVAL; get+reset EINVAL; reset EINVAL; reset EINVAL; reset EINVAL; reset EINVAL; "
	  "get [0 3]", NULL },
	{ "ww_free/ww_alloc errors, a freed region is not watched", free_errors,
	  "free EINVAL; free EINVAL; free EINVAL; alloc(0) EINVAL; free ok; get EINVAL; "
	  "reset EINVAL; free EINVAL", NULL },
	{ "a reused address and new neighbours do not look written", reuse,
	  "free ok; get []; get+reset [0 1 2 3]; get []; get [0]", NULL },
	{ "writes from another thread are reported", threads,
	  "get+reset [2 3]; get+reset [2 3]", NULL },
	{ "a writer thread against get+reset calls loses no write", race,
	  "lost 0", NULL },
	{ "a SIGSEGV that is not a watched write kills as by default", foreign_segv,
	  "write to unwatched read-only page: Segmentation fault; "
	  "kill SIGSEGV: Segmentation fault; write to guard page: Segmentation fault", NULL },
};
_Static_assert(sizeof(cases) / sizeof(cases[0]) == NR_CASES, "NR_CASES is not the number of cases");
