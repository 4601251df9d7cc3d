// SPDX-License-Identifier: GPL-2.0
/*
 * ww-conformance: libwritewatch's backends against the Windows
 * GetWriteWatch() / ResetWriteWatch() semantics, and against each other.
 *
 *   ww-conformance            (no arguments)
 *
 * Every case (cases[] below) runs once per backend, each backend in its own
 * child process: pagemap-nrr (PAGEMAP_SCAN with PAGEMAP_NO_REUSED_REGIONS;
 * SKIP if the kernel rejects the flag), pagemap (PAGEMAP_SCAN with the
 * default soft-dirty semantics) and mprotect (read-only pages + SIGSEGV; no
 * kernel support needed).  A case writes down what it observes, e.g.
 * "get+reset [0 2]; get []" (the pages ww_get() returned, as page indices
 * in the case's region, or the errno of a failed call), and passes when
 * that is exactly the expected text.  Every ww_get() result is also checked
 * for granularity 4096, at most the capacity, page-aligned ascending
 * addresses, and a failed call leaving *count and *granularity untouched.
 *
 * The cases: fresh memory (and reads) are not writes; one write reports one
 * page; RESET clears; ww_reset() clears; sub-range queries and resets, also
 * unaligned; a write straddling two pages marks both; Wine's count=1 with
 * RESET and 3 pages written; 512 pages over many PAGEMAP_SCAN calls with
 * partial resets; with THP=always (set for the case and restored; SKIP if it
 * cannot be set) one write still marks one 4 KiB page; a kernel write
 * (read() into the buffer); the error cases; a reused address and new
 * neighbours do not look written; writes from another thread; a writer
 * thread racing get+reset calls loses no write (1000 writes, lostwrite's
 * check); a SIGSEGV that is not ours kills as by default.
 *
 * Where the backends differ by design, the case says so: a kernel write
 * counts with PAGEMAP_SCAN, and fails with EFAULT (nothing marked) under
 * mprotect, as under Wine's fallback.  Two final results check that all
 * backends that ran observed identical texts in every other case, and that
 * the designed differences are exactly what each backend observed.
 *
 * Output: kselftest TAP, "<backend>: <case>" per case and backend, then the
 * two comparisons.  Exit: 0 all passed (or skipped), 1 a failure, 2 usage.
 */
#define _GNU_SOURCE
#include "libwritewatch.h"
#include "scan.h"
#include "kselftest.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG		WW_GRANULARITY
#define OBS_MAX		500	/* a record stays below PIPE_BUF: one write() */
#define MAX_ADDR	1024	/* addresses a get can return */
#define LIST_MAX	8	/* longer results are summarised */
#define MANY		1024	/* pages of the "many pages" case: 4 MiB, THP-able */

/* BROKEN: the backend could not start; a failure, but nothing to compare */
enum status { PASS, FAIL, SKIP, BROKEN };

/* What a backend's child reports for one case */
struct record {
	int status;
	char obs[OBS_MAX];	/* the observations, or the reason for a SKIP */
};

struct tbackend {
	const char *name;
	enum ww_backend backend;
	bool need_nrr;
};

static const struct tbackend backends[] = {
	{ "pagemap-nrr", WW_BACKEND_PAGEMAP, true },
	{ "pagemap", WW_BACKEND_PAGEMAP_PLAIN, false },
	{ "mprotect", WW_BACKEND_MPROTECT, false },
};
#define NR_BACKENDS (sizeof(backends) / sizeof(backends[0]))

static char *R;			/* the current case's region: indices are relative to it */
static char obs[OBS_MAX];
static bool obs_full;
static const char *skip_reason;	/* set by a case that cannot run */

/* Append one observation, "; "-separated */
static void note(const char *fmt, ...)
{
	size_t len = strlen(obs);
	va_list ap;
	int n;

	if (len && len + 2 < sizeof(obs)) {
		strcpy(obs + len, "; ");
		len += 2;
	}
	va_start(ap, fmt);
	n = vsnprintf(obs + len, sizeof(obs) - len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(obs) - len)
		obs_full = true;
}

static const char *errname(int err)
{
	static char buf[32];

	switch (err) {
	case EINVAL: return "EINVAL";
	case EFAULT: return "EFAULT";
	case ENOMEM: return "ENOMEM";
	case EIO: return "EIO";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	}
	snprintf(buf, sizeof(buf), "errno %d", err);
	return buf;
}

/* A call's result: "ok" or its errno */
static void note_ret(const char *what, int failed)
{
	note("%s %s", what, failed ? errname(errno) : "ok");
}

/* Page indices in R, or a summary "N pages A..B step S" for long lists */
static void note_pages(const char *what, void **addr, uintptr_t n)
{
	char list[LIST_MAX * 8 + 1] = "";
	long idx[MAX_ADDR];
	uintptr_t i;
	bool even = true;

	for (i = 0; i < n; i++) {
		idx[i] = ((char *)addr[i] - R) / PG;
		if ((uintptr_t)addr[i] % PG || (i && addr[i] <= addr[i - 1])) {
			note("%s: address %p not page aligned or not ascending", what, addr[i]);
			return;
		}
		even &= i < 2 || idx[i] - idx[i - 1] == idx[1] - idx[0];
	}
	if (n > LIST_MAX) {
		if (even)
			note("%s %lu pages %ld..%ld step %ld", what, (unsigned long)n,
			     idx[0], idx[n - 1], idx[1] - idx[0]);
		else
			note("%s %lu pages %ld..%ld, irregular", what, (unsigned long)n,
			     idx[0], idx[n - 1]);
		return;
	}
	for (i = 0; i < n; i++)
		sprintf(list + strlen(list), "%s%ld", i ? " " : "", idx[i]);
	note("%s [%s]", what, list);
}

/* ww_get() with raw arguments; checks what it must not or must write */
static void get_raw(unsigned long flags, void *base, size_t size, void **addr,
		    uintptr_t *count, uint32_t *gran)
{
	const char *what = flags & WW_FLAG_RESET ? "get+reset" : "get";
	uintptr_t cap = count ? *count : 0;

	if (gran)
		*gran = 0;
	if (ww_get(flags, base, size, addr, count, gran)) {
		note("%s %s", what, errname(errno));
		if ((count && *count != cap) || (gran && *gran))
			note("failed get wrote count %lu granularity %u",
			     count ? (unsigned long)*count : 0UL, gran ? *gran : 0);
		return;
	}
	if (*gran != 4096 || *count > cap)
		note("granularity %u count %lu of %lu", *gran, (unsigned long)*count,
		     (unsigned long)cap);
	else
		note_pages(what, addr, *count);
}

static void get(unsigned long flags, void *base, size_t size, uintptr_t cap)
{
	void *addr[MAX_ADDR];
	uint32_t gran;

	get_raw(flags, base, size, addr, &cap, &gran);
}

/* Pages [first, first + n) of R, with a capacity for all of them */
static void get_pages(unsigned long flags, size_t first, size_t n)
{
	get(flags, R + first * PG, n * PG, MAX_ADDR);
}

static void reset(void *base, size_t size)
{
	note_ret("reset", ww_reset(base, size));
}

static void set_region(size_t pages)
{
	R = ww_alloc(pages * PG);
	if (!R)
		fail("ww_alloc");
}

/* A write at byte @off of page @page of R */
static void wr(size_t page, size_t off)
{
	((volatile char *)R)[page * PG + off] = 1;
}

/* ---- the cases ---- */

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

struct tcase {
	const char *name;
	void (*run)(void);
	const char *expect;		/* what every backend observes */
	const char *expect_mprotect;	/* non-NULL: mprotect differs by design */
};

static const struct tcase cases[] = {
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
#define NR_CASES (sizeof(cases) / sizeof(cases[0]))

static const char *expected(const struct tcase *c, const struct tbackend *b)
{
	return b->backend == WW_BACKEND_MPROTECT && c->expect_mprotect ?
	       c->expect_mprotect : c->expect;
}

static void send(int fd, int status, const char *text)
{
	struct record rec = { .status = status };

	snprintf(rec.obs, sizeof(rec.obs), "%s", text);
	if (write(fd, &rec, sizeof(rec)) != sizeof(rec))
		fail("write to the parent");
}

/* Run case @c and send its record: its observations, or why it skipped */
static void run_case(const struct tcase *c, const struct tbackend *b, int fd)
{
	obs[0] = '\0';
	obs_full = false;
	skip_reason = NULL;
	c->run();
	if (skip_reason) {
		send(fd, SKIP, skip_reason);
		return;
	}
	if (obs_full)
		note("(observations truncated)");
	send(fd, strcmp(obs, expected(c, b)) ? FAIL : PASS, obs);
}

/* The child of backend @b: every case, one record each */
static void run_backend(const struct tbackend *b, int fd)
{
	char why_buf[OBS_MAX];
	const char *why = NULL;
	int status = SKIP;
	size_t i;

	if (ww_init(b->backend) && errno == EOPNOTSUPP) {
		why = "the kernel has no PAGEMAP_SCAN with soft-dirty";
	} else if (ww_backend() != b->backend) {	/* a real failure */
		snprintf(why_buf, sizeof(why_buf), "ww_init failed: %s", strerror(errno));
		why = why_buf;
		status = BROKEN;
	} else if (b->need_nrr && !ww_nrr()) {
		why = "the kernel rejects PAGEMAP_NO_REUSED_REGIONS";
	}
	for (i = 0; i < NR_CASES; i++) {
		if (why) {
			send(fd, status, why);
			continue;
		}
		run_case(&cases[i], b, fd);
	}
	_exit(0);
}

static struct record results[NR_BACKENDS][NR_CASES];

/* Run backend @b in a child, print its results; a child that dies fails the rest */
static void collect(size_t b)
{
	const struct tbackend *tb = &backends[b];
	uint64_t t0 = now();
	size_t i;
	int fd, status;
	pid_t pid = fork_piped(&fd);

	if (!pid)
		run_backend(tb, fd);
	for (i = 0; i < NR_CASES; i++) {
		struct record *r = &results[b][i];

		if (read(fd, r, sizeof(*r)) != sizeof(*r)) {
			r->status = FAIL;
			snprintf(r->obs, sizeof(r->obs), "(the child died before this case)");
		}
		r->obs[OBS_MAX - 1] = '\0';
		if (r->status == SKIP) {
			ksft_test_result_skip("%s: %s: %s\n", tb->name, cases[i].name, r->obs);
			continue;
		}
		if (r->status == BROKEN && !i)
			ksft_print_msg("%s: %s\n", tb->name, r->obs);
		else if (r->status == FAIL)
			ksft_print_msg("%s: %s:\n#   expected: %s\n#   observed: %s\n",
				       tb->name, cases[i].name, expected(&cases[i], tb), r->obs);
		ksft_test_result(r->status == PASS, "%s: %s\n", tb->name, cases[i].name);
	}
	close(fd);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		ksft_print_msg("%s: child ended with status %#x\n", tb->name, status);
	ksft_print_msg("%s: %.2f s\n", tb->name, (now() - t0) / 1e9);
}

static bool ran(size_t b, size_t c)
{
	return results[b][c].status == PASS || results[b][c].status == FAIL;
}

/* Backends that ran case @c; *first receives the first of them */
static size_t nr_ran(size_t c, size_t *first)
{
	size_t b, n = 0;

	for (b = 0; b < NR_BACKENDS; b++)
		if (ran(b, c) && !n++)
			*first = b;
	return n;
}

/* Every case that must agree: identical observations on every backend that ran */
static void check_agree(void)
{
	size_t b, c, first = 0, compared = 0, differ = 0;

	for (c = 0; c < NR_CASES; c++) {
		if (cases[c].expect_mprotect || nr_ran(c, &first) < 2)
			continue;
		compared++;
		for (b = first + 1; b < NR_BACKENDS; b++) {
			if (!ran(b, c) || !strcmp(results[b][c].obs, results[first][c].obs))
				continue;
			differ++;
			ksft_print_msg("%s and %s differ on '%s'\n", backends[first].name,
				       backends[b].name, cases[c].name);
		}
	}
	if (!compared)
		ksft_test_result_skip("backends agree: fewer than 2 backends ran\n");
	else
		ksft_test_result(!differ, "backends agree on all %zu cases that must agree\n",
				 compared);
}

/* The cases that differ by design: each backend saw its own expected text */
static void check_differ(void)
{
	size_t b, c, checked = 0, wrong = 0;
	bool mprotect_ran = false, pagemap_ran = false;

	for (b = 0; b < NR_BACKENDS; b++)
		for (c = 0; c < NR_CASES; c++) {
			const struct record *r = &results[b][c];

			if (!cases[c].expect_mprotect || !ran(b, c))
				continue;
			if (backends[b].backend == WW_BACKEND_MPROTECT)
				mprotect_ran = true;
			else
				pagemap_ran = true;
			checked++;
			if (strcmp(r->obs, expected(&cases[c], &backends[b]))) {
				wrong++;
				ksft_print_msg("%s: '%s' should be '%s', is '%s'\n",
					       backends[b].name, cases[c].name,
					       expected(&cases[c], &backends[b]), r->obs);
			}
		}
	if (!mprotect_ran || !pagemap_ran)
		ksft_test_result_skip("backends differ as designed: a backend did not run\n");
	else
		ksft_test_result(!wrong, "backends differ as designed only on kernel writes "
				 "(%zu results checked)\n", checked);
}

int main(int argc, char **argv)
{
	size_t b;

	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "error: unexpected argument '%s' (usage: ww-conformance)\n",
			argv[1]);
		return 2;
	}
	ksft_print_header();
	ksft_set_plan(NR_BACKENDS * NR_CASES + 2);
	ksft_print_msg("by design, a kernel write (read() into a watched buffer) counts "
		       "with PAGEMAP_SCAN and fails with EFAULT under mprotect\n");
	for (b = 0; b < NR_BACKENDS; b++)
		collect(b);
	check_agree();
	check_differ();
	ksft_finished();
}
