// SPDX-License-Identifier: GPL-2.0
/*
 * libwritewatch: GetWriteWatch() / ResetWriteWatch() on PAGEMAP_SCAN or on
 * mprotect + SIGSEGV.  The semantics are documented in libwritewatch.h.
 *
 * Regions live in a fixed table that the SIGSEGV handler reads without a
 * lock (a slot is in use when its start is non-NULL; the start is published
 * last).  The mutex only serialises ww_init(), ww_alloc() and ww_free().
 */
#define _GNU_SOURCE
#include "libwritewatch.h"
#include "scan.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE		((uintptr_t)WW_GRANULARITY)
#define VEC_LEN		64	/* regions per PAGEMAP_SCAN call (1.5 KiB of stack) */
#define LONG_BITS	(8 * sizeof(unsigned long))

struct region {
	char *start;		/* NULL: a free slot */
	size_t pages;
	unsigned long *bits;	/* mprotect: the written pages */
};

/* A backend: start watching a new region, list or reset pages of one */
struct ops {
	int (*setup)(struct region *r);
	/*
	 * Pages [first, last) of @r: store at most @cap written ones in
	 * @addresses (or none when it is NULL) and reset them when @reset;
	 * *@n receives how many.  0, or -1 with errno.
	 */
	int (*scan)(struct region *r, size_t first, size_t last, bool reset,
		    void **addresses, uintptr_t cap, uintptr_t *n);
};

static struct region regions[WW_MAX_REGIONS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static enum ww_backend current;
static const struct ops *ops;
static bool nrr;
static int pm = -1;
static struct sigaction old_segv;

static unsigned int error(int err)
{
	errno = err;
	return 1;
}

static char *page_addr(const struct region *r, size_t page)
{
	return r->start + page * PAGE;
}

/* The region holding all of [lo, hi), or NULL.  Async-signal-safe. */
static struct region *lookup(uintptr_t lo, uintptr_t hi)
{
	size_t i;

	for (i = 0; i < WW_MAX_REGIONS; i++) {
		uintptr_t s = (uintptr_t)__atomic_load_n(&regions[i].start, __ATOMIC_ACQUIRE);

		if (s && lo >= s && hi <= s + regions[i].pages * PAGE)
			return &regions[i];
	}
	return NULL;
}

/*
 * [base, base + size) widened to whole pages, as pages [*first, *last) of
 * the region returned; NULL (EINVAL) when it is empty, overflows or is not
 * inside one region.
 */
static struct region *find_range(void *base, size_t size, size_t *first, size_t *last)
{
	uintptr_t lo = (uintptr_t)base & ~(PAGE - 1), b = (uintptr_t)base;
	struct region *r;

	if (!size || b > UINTPTR_MAX - PAGE || size > UINTPTR_MAX - PAGE - b) {
		errno = EINVAL;
		return NULL;
	}
	r = lookup(lo, (b + size + PAGE - 1) & ~(PAGE - 1));
	if (!r) {
		errno = EINVAL;
		return NULL;
	}
	*first = (lo - (uintptr_t)r->start) / PAGE;
	*last = (b + size - (uintptr_t)r->start + PAGE - 1) / PAGE;
	return r;
}

/* ---- PAGEMAP_SCAN ---- */

static uint64_t scan_flags(bool clear)
{
	return (clear ? PAGEMAP_SOFTDIRTY_CLEAR : 0) | (nrr ? PAGEMAP_NO_REUSED_REGIONS : 0);
}

/* Append the pages of @vec to @addresses; -1 (EIO) past @cap: a kernel bug */
static int expand(const struct page_region *vec, long nvec, void **addresses,
		  uintptr_t cap, uintptr_t *n)
{
	uint64_t p;
	long i;

	for (i = 0; i < nvec; i++)
		for (p = vec[i].start; p < vec[i].start + vec[i].len; p += PAGE) {
			if (*n == cap) {
				errno = EIO;
				return -1;
			}
			addresses[(*n)++] = (void *)(uintptr_t)p;
		}
	return 0;
}

/*
 * GET (+CLEAR) soft-dirty pages: max_pages is the capacity left, so the
 * kernel never reports, or clears, a page that does not fit; a full vec
 * stops it early, and the next call resumes at walk_end.
 */
static int pm_scan(struct region *r, size_t first, size_t last, bool reset,
		   void **addresses, uintptr_t cap, uintptr_t *n)
{
	uintptr_t at = (uintptr_t)page_addr(r, first), end = (uintptr_t)page_addr(r, last);
	struct page_region vec[VEC_LEN];
	uint64_t walk_end;
	long ret;

	*n = 0;
	if (!addresses)		/* ResetWriteWatch: CLEAR every page */
		return scan_call(pm, scan_flags(true), (void *)at, end - at,
				 NULL, 0, 0, 0, 0, 0, 0, NULL) < 0 ? -1 : 0;
	while (at < end && *n < cap) {
		ret = scan_call(pm, scan_flags(reset), (void *)at, end - at, vec, VEC_LEN,
				cap - *n, PAGE_IS_SOFTDIRTY, 0, 0, 0, &walk_end);
		if (ret < 0 || expand(vec, ret, addresses, cap, n))
			return -1;
		if (walk_end <= at || walk_end > end) {	/* would loop or skip */
			errno = EIO;
			return -1;
		}
		at = walk_end;
	}
	return 0;
}

/* Fresh memory is soft-dirty without NO_REUSED_REGIONS (VM_SOFTDIRTY) */
static int pm_setup(struct region *r)
{
	uintptr_t n;

	/*
	 * No THP: one write would make all 512 pages of a huge page dirty,
	 * where Windows tracks 4 KiB pages. (EINVAL: a kernel without THP.)
	 */
	if (mprotect(r->start, r->pages * PAGE, PROT_READ | PROT_WRITE) ||
	    (madvise(r->start, r->pages * PAGE, MADV_NOHUGEPAGE) && errno != EINVAL))
		return -1;
	return pm_scan(r, 0, r->pages, true, NULL, 0, &n);
}

static const struct ops pagemap_ops = { pm_setup, pm_scan };

/*
 * Open pagemap and check that PAGEMAP_SCAN knows soft-dirty: a GET with
 * PAGE_IS_SOFTDIRTY required, over a page of ours, changes nothing and
 * fails with EINVAL without CONFIG_MEM_SOFT_DIRTY, ENOTTY without the ioctl.
 */
static int pm_start(bool try_nrr)
{
	static char probe[WW_GRANULARITY] __attribute__((aligned(WW_GRANULARITY)));
	struct page_region vec;
	int err;

	pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (pm < 0)
		return -1;
	if (scan_call(pm, 0, probe, sizeof(probe), &vec, 1, 0,
		      PAGE_IS_SOFTDIRTY, 0, 0, 0, NULL) < 0) {
		err = errno == ENOTTY || errno == EINVAL ? EOPNOTSUPP : errno;
		goto out;
	}
	nrr = try_nrr && scan_enter_nrr(pm) == 0;
	if (try_nrr && !nrr && errno != EINVAL) {	/* EINVAL: an older kernel */
		err = errno;
		goto out;
	}
	ops = &pagemap_ops;
	return 0;
out:
	close(pm);
	pm = -1;
	errno = err;
	return -1;
}

/* ---- mprotect + SIGSEGV ---- */

static bool test_bit(struct region *r, size_t page)
{
	return __atomic_load_n(&r->bits[page / LONG_BITS], __ATOMIC_ACQUIRE) &
	       (1UL << (page % LONG_BITS));
}

static void set_bit(struct region *r, size_t page)
{
	__atomic_fetch_or(&r->bits[page / LONG_BITS], 1UL << (page % LONG_BITS),
			  __ATOMIC_ACQ_REL);
}

static bool test_and_clear_bit(struct region *r, size_t page)
{
	unsigned long bit = 1UL << (page % LONG_BITS);

	return __atomic_fetch_and(&r->bits[page / LONG_BITS], ~bit, __ATOMIC_ACQ_REL) & bit;
}

/*
 * Make pages [first, first + n), whose bits were just cleared, read-only
 * again.  Clearing before protecting matters: a write in between is
 * reported by the current call, and one after it faults and is recorded.
 * If mprotect fails the pages stay writable, so they stay marked.
 */
static int protect(struct region *r, size_t first, size_t n)
{
	size_t i;

	if (!n || !mprotect(page_addr(r, first), n * PAGE, PROT_READ))
		return 0;
	for (i = first; i < first + n; i++)
		set_bit(r, i);
	return -1;
}

/* Read the bitmap; reset listed pages, re-protecting them run by run */
static int mp_scan(struct region *r, size_t first, size_t last, bool reset,
		   void **addresses, uintptr_t cap, uintptr_t *n)
{
	size_t page, run = 0, run_len = 0;

	*n = 0;
	if (!addresses)
		cap = UINTPTR_MAX;
	for (page = first; page < last && *n < cap; page++) {
		if (!test_bit(r, page) || (reset && !test_and_clear_bit(r, page)))
			continue;
		if (addresses)
			addresses[*n] = page_addr(r, page);
		(*n)++;
		if (!reset)
			continue;
		if (run + run_len != page) {
			if (protect(r, run, run_len))
				return -1;
			run = page;
			run_len = 0;
		}
		run_len++;
	}
	return protect(r, run, run_len);
}

static int mp_setup(struct region *r)
{
	r->bits = calloc((r->pages + LONG_BITS - 1) / LONG_BITS, sizeof(unsigned long));
	if (!r->bits)
		return -1;
	return mprotect(r->start, r->pages * PAGE, PROT_READ);
}

/*
 * The first write to a watched page: make it writable, then mark it (in
 * this order: a concurrent reset that sees the mark also sees the page
 * writable, and re-protects it after clearing the mark).
 */
static int mark_written(void *addr)
{
	struct region *r = lookup((uintptr_t)addr, (uintptr_t)addr + 1);
	size_t page;

	if (!r)
		return -1;
	page = ((uintptr_t)addr - (uintptr_t)r->start) / PAGE;
	if (mprotect(page_addr(r, page), PAGE, PROT_READ | PROT_WRITE))
		return -1;
	set_bit(r, page);
	return 0;
}

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	int err = errno;

	(void)uc;
	if (si->si_code == SEGV_ACCERR && !mark_written(si->si_addr)) {
		errno = err;
		return;
	}
	/* Not ours: a fault repeats on return and kills; a sent signal is raised again */
	sigaction(SIGSEGV, &dfl, NULL);
	if (si->si_code <= 0)
		raise(sig);
	errno = err;
}

static const struct ops mprotect_ops = { mp_setup, mp_scan };

static int mp_start(void)
{
	struct sigaction sa = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO };

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSEGV, &sa, &old_segv))
		return -1;
	ops = &mprotect_ops;
	return 0;
}

/* ---- the API ---- */

/* Undo what the current backend's start did */
static void stop(void)
{
	if (pm >= 0)
		close(pm);
	if (ops == &mprotect_ops)
		sigaction(SIGSEGV, &old_segv, NULL);
	pm = -1;
	nrr = false;
	ops = NULL;
	current = WW_BACKEND_AUTO;
}

static int init_locked(enum ww_backend b)
{
	size_t i;
	int ret;

	for (i = 0; i < WW_MAX_REGIONS; i++)
		if (regions[i].start) {
			errno = EBUSY;
			return -1;
		}
	if (sysconf(_SC_PAGESIZE) != WW_GRANULARITY) {
		errno = EINVAL;
		return -1;
	}
	stop();
	switch (b) {
	case WW_BACKEND_AUTO:
		if (!pm_start(true)) {
			b = WW_BACKEND_PAGEMAP;
			ret = 0;
			break;
		}
		b = WW_BACKEND_MPROTECT;
		ret = mp_start();
		break;
	case WW_BACKEND_PAGEMAP:
	case WW_BACKEND_PAGEMAP_PLAIN:
		ret = pm_start(b == WW_BACKEND_PAGEMAP);
		break;
	case WW_BACKEND_MPROTECT:
		ret = mp_start();
		break;
	default:
		errno = EINVAL;
		return -1;
	}
	if (!ret)
		current = b;
	return ret;
}

int ww_init(enum ww_backend backend)
{
	int ret;

	pthread_mutex_lock(&lock);
	ret = init_locked(backend);
	pthread_mutex_unlock(&lock);
	return ret;
}

enum ww_backend ww_backend(void)
{
	return current;
}

bool ww_nrr(void)
{
	return nrr;
}

static struct region *free_slot(void)
{
	size_t i;

	for (i = 0; i < WW_MAX_REGIONS; i++)
		if (!regions[i].start)
			return &regions[i];
	errno = ENOMEM;
	return NULL;
}

/* Map [guard][size][guard], all PROT_NONE until the backend's setup */
static void *alloc_locked(size_t size)
{
	size_t len = (size + PAGE - 1) & ~(PAGE - 1);
	struct region *r;
	char *p;
	int err;

	if (!size || size > SIZE_MAX / 2) {
		errno = EINVAL;
		return NULL;
	}
	if (!ops && init_locked(WW_BACKEND_AUTO))
		return NULL;
	r = free_slot();
	if (!r)
		return NULL;
	p = mmap(NULL, len + 2 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	/* Nobody can fault in the region before we return it: publish now */
	*r = (struct region){ .pages = len / PAGE };
	__atomic_store_n(&r->start, p + PAGE, __ATOMIC_RELEASE);
	if (ops->setup(r)) {
		err = errno;
		__atomic_store_n(&r->start, NULL, __ATOMIC_RELEASE);
		free(r->bits);
		r->bits = NULL;
		munmap(p, len + 2 * PAGE);
		errno = err;
		return NULL;
	}
	return p + PAGE;
}

void *ww_alloc(size_t size)
{
	void *p;

	pthread_mutex_lock(&lock);
	p = alloc_locked(size);
	pthread_mutex_unlock(&lock);
	return p;
}

int ww_free(void *base)
{
	struct region *r = base ? lookup((uintptr_t)base, (uintptr_t)base + 1) : NULL;
	int ret = -1;

	pthread_mutex_lock(&lock);
	if (r && r->start == base) {
		__atomic_store_n(&r->start, NULL, __ATOMIC_RELEASE);
		munmap((char *)base - PAGE, (r->pages + 2) * PAGE);
		free(r->bits);
		r->bits = NULL;
		ret = 0;
	} else {
		errno = EINVAL;
	}
	pthread_mutex_unlock(&lock);
	return ret;
}

unsigned int ww_get(unsigned long flags, void *base, size_t size,
		    void **addresses, uintptr_t *count, uint32_t *granularity)
{
	size_t first, last;
	struct region *r;
	uintptr_t n;

	if (flags & ~WW_FLAG_RESET)
		return error(EINVAL);
	if (!count || !granularity)
		return error(EFAULT);
	if (!*count || !size)
		return error(EINVAL);
	if (!addresses)
		return error(EFAULT);
	r = find_range(base, size, &first, &last);
	if (!r || ops->scan(r, first, last, flags & WW_FLAG_RESET, addresses, *count, &n))
		return 1;
	*count = n;
	*granularity = WW_GRANULARITY;
	return 0;
}

unsigned int ww_reset(void *base, size_t size)
{
	size_t first, last;
	struct region *r = find_range(base, size, &first, &last);
	uintptr_t n;

	return !r || ops->scan(r, first, last, true, NULL, 0, &n);
}
