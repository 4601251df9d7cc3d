// SPDX-License-Identifier: GPL-2.0
/* pagemap-bench: the methods of finding written pages, behind struct method */
#define _GNU_SOURCE
#include "pagemap-bench.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ---- reported pages as regions ---- */

struct runs {
	struct page_region *v;
	size_t n;
};

/* Add the page at @page, @pg bytes (psz) */
static inline void runs_add(struct runs *r, char *page, size_t pg)
{
	struct page_region *last = r->v + r->n - 1;

	if (r->n && last->start + last->len == (uintptr_t)page) {
		last->len += pg;
		return;
	}
	r->v[r->n].start = (uintptr_t)page;
	r->v[r->n].len = pg;
	r->v[r->n].bitmap = PAGE_IS_SOFTDIRTY;
	r->n++;
}

/* ---- method: PAGEMAP_SCAN ---- */

static uint64_t scan_mode;	/* 0 or PAGEMAP_NO_REUSED_REGIONS */

static int scan_nrr_enter(void)
{
	scan_mode = PAGEMAP_NO_REUSED_REGIONS;
	if (!scan_enter_nrr(pm))
		return 0;
	if (errno == EINVAL)
		return EXIT_UNSUPPORTED;
	fail("PAGEMAP_SCAN with PAGEMAP_NO_REUSED_REGIONS");
}

static size_t scan_get_flags(uint64_t flags, struct page_region *v)
{
	long regions;

	scan_dirty(pm, scan_mode | flags, A.base, A.span * psz, v, A.span / 2 + 2, &regions);
	return regions;
}

static size_t scan_get(struct page_region *v)
{
	return scan_get_flags(0, v);
}

static size_t scan_getclear(struct page_region *v)
{
	return scan_get_flags(PAGEMAP_SOFTDIRTY_CLEAR, v);
}

/* Reset alone: the written pages only, as getclear selects them */
static void scan_clear(void)
{
	if (scan_call(pm, scan_mode | PAGEMAP_SOFTDIRTY_CLEAR, A.base, A.span * psz,
		      NULL, 0, 0, PAGE_IS_SOFTDIRTY, 0, 0, 0, NULL) < 0)
		fail("PAGEMAP_SCAN CLEAR");
}

static size_t scan_present(struct page_region *v)
{
	uint64_t end;
	long n = scan_call(pm, 0, A.base, A.span * psz, v, A.span / 2 + 2, 0,
			   PAGE_IS_PRESENT, 0, 0, PAGE_IS_PRESENT, &end);

	if (n < 0)
		fail("PAGEMAP_SCAN GET PRESENT");
	if (end != (uintptr_t)A.base + A.span * psz) {
		fprintf(stderr, "error: PAGEMAP_SCAN GET PRESENT stopped early\n");
		exit(1);
	}
	return n;
}

/* ---- method: read /proc/self/pagemap, write /proc/self/clear_refs ---- */

static int clear_refs_fd = -1;

static void pagemap_setup(void)
{
	clear_refs_fd = open("/proc/self/clear_refs", O_WRONLY);
	if (clear_refs_fd < 0)
		fail("open /proc/self/clear_refs");
}

/* Pages of the area whose pagemap entry has @bit set */
static size_t pagemap_runs(int bit, struct page_region *v)
{
	static uint64_t buf[CHUNK];
	struct runs r = { v, 0 };
	off_t off = (uintptr_t)A.base / psz * sizeof(buf[0]);
	size_t done, i, n;

	for (done = 0; done < A.span; done += n) {
		n = A.span - done < CHUNK ? A.span - done : CHUNK;
		if (pread(pm, buf, n * sizeof(buf[0]), off + done * sizeof(buf[0])) !=
		    (ssize_t)(n * sizeof(buf[0])))
			fail("pread /proc/self/pagemap");
		for (i = 0; i < n; i++)
			if (buf[i] >> bit & 1)
				runs_add(&r, area_page(done + i), psz);
	}
	return r.n;
}

static size_t pagemap_get(struct page_region *v)
{
	return pagemap_runs(55, v);
}

static void pagemap_clear(void)
{
	if (write(clear_refs_fd, "4", 1) != 1)
		fail("write 4 to /proc/self/clear_refs");
}

static size_t pagemap_getclear(struct page_region *v)
{
	size_t n = pagemap_get(v);

	pagemap_clear();
	return n;
}

static size_t pagemap_present(struct page_region *v)
{
	return pagemap_runs(63, v);
}

/* ---- userspace tracking (mprotect, uffd): a byte per page, set by the handler ---- */

static unsigned char *mark;

static void mark_page(uintptr_t addr)
{
	mark[(addr - (uintptr_t)A.base) / psz] = 1;
}

static bool in_area(uintptr_t addr)
{
	return addr - (uintptr_t)A.base < A.span * psz;
}

/* The marked pages as regions, skipping 8 clean pages at a time; @reset clears the marks. */
static size_t mark_runs(struct page_region *v, bool reset)
{
	struct runs r = { v, 0 };
	/*
	 * In locals: the compiler cannot tell that clearing a mark leaves these
	 * globals of other files alone, and would read them again per page
	 */
	unsigned char *marks = mark;
	char *base = A.base;
	size_t span = A.span, pg = psz;
	uint64_t word;
	size_t i;

	for (i = 0; i < span; i++) {
		if (!(i % 8) && i + 8 <= span) {
			memcpy(&word, marks + i, sizeof(word));
			if (!word) {
				i += 7;
				continue;
			}
		}
		if (marks[i]) {
			runs_add(&r, base + i * pg, pg);
			if (reset)
				marks[i] = 0;
		}
	}
	return r.n;
}

static size_t mark_get(struct page_region *v)
{
	return mark_runs(v, false);
}

static void mark_alloc(void)
{
	mark = calloc(A.span, 1);
	if (!mark)
		fail("calloc the page marks");
}

/* ---- method: mprotect + SIGSEGV ---- */

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	uintptr_t addr = (uintptr_t)si->si_addr;
	size_t pg = psz;	/* in a local: as in mark_runs() */

	(void)sig;
	(void)uc;
	if (!in_area(addr)) {
		signal(SIGSEGV, SIG_DFL);	/* a real crash: fault again, die */
		return;
	}
	mark_page(addr);
	if (mprotect((void *)(addr & ~(pg - 1)), pg, PROT_READ | PROT_WRITE))
		_exit(1);
}

/*
 * Re-protect what the handlers unprotected (every unmarked page stays
 * protected): the @n reported runs when there are at most @few, else every
 * VMA whole.
 */
static void reprotect(const struct page_region *v, size_t n, size_t few,
		      void (*range)(char *, size_t))
{
	size_t i;

	if (n > few) {
		for (i = 0; i < A.nvma; i++)
			range(area_page(i * A.stride), A.vpages * psz);
		return;
	}
	for (i = 0; i < n; i++)
		range((char *)(uintptr_t)v[i].start, v[i].len);
}

static void mprotect_ro(char *start, size_t len)
{
	if (mprotect(start, len, PROT_READ))
		fail("mprotect PROT_READ");
}

static void mprotect_setup(void)
{
	struct sigaction sa = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO };

	mark_alloc();
	if (sigaction(SIGSEGV, &sa, NULL))
		fail("sigaction SIGSEGV");
	reprotect(NULL, 1, 0, mprotect_ro);
}

static size_t mprotect_getclear(struct page_region *v)
{
	size_t n = mark_runs(v, true);

	/* The whole range, as Wine does: page by page costs more (VMA merges) */
	reprotect(v, n, 0, mprotect_ro);
	return n;
}

static void mprotect_clear(void)
{
	mprotect_getclear(vec);
}

/* ---- method: userfaultfd write-protect ---- */

static int uffd = -1;

static void uffd_wp(char *start, size_t len, bool wp)
{
	struct uffdio_writeprotect w = {
		.range = { .start = (uintptr_t)start, .len = len },
		.mode = wp ? UFFDIO_WRITEPROTECT_MODE_WP : 0,
	};

	if (ioctl(uffd, UFFDIO_WRITEPROTECT, &w))
		fail("UFFDIO_WRITEPROTECT");
}

static void uffd_protect(char *start, size_t len)
{
	uffd_wp(start, len, true);
}

static void uffd_fault(const struct uffd_msg *msg)
{
	uintptr_t addr = msg->arg.pagefault.address;
	size_t pg = psz;	/* in a local: as in mark_runs() */

	if (msg->event != UFFD_EVENT_PAGEFAULT ||
	    !(msg->arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP) || !in_area(addr)) {
		fprintf(stderr, "error: userfaultfd: unexpected event %u at %#lx\n",
			msg->event, (unsigned long)addr);
		exit(1);
	}
	mark_page(addr);
	uffd_wp((char *)(addr & ~(pg - 1)), pg, false);	/* and wake the writer */
}

static void *uffd_handler(void *arg)
{
	struct uffd_msg msg[16];
	ssize_t n, i;

	(void)arg;
	for (;;) {
		n = read(uffd, msg, sizeof(msg));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || n % sizeof(msg[0]))
			fail("read userfaultfd");
		for (i = 0; i < n / (ssize_t)sizeof(msg[0]); i++)
			uffd_fault(&msg[i]);
	}
	return NULL;
}

static void uffd_register(char *start, size_t len)
{
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)start, .len = len },
		.mode = UFFDIO_REGISTER_MODE_WP,
	};

	if (ioctl(uffd, UFFDIO_REGISTER, &reg))
		fail("UFFDIO_REGISTER_MODE_WP");
	if (!(reg.ioctls & (1ULL << _UFFDIO_WRITEPROTECT))) {
		fprintf(stderr, "error: userfaultfd: no UFFDIO_WRITEPROTECT on this range\n");
		exit(1);
	}
}

static void uffd_setup(void)
{
	struct uffdio_api api = { .api = UFFD_API };
	pthread_t thread;
	size_t v;

	mark_alloc();
	uffd = syscall(__NR_userfaultfd, O_CLOEXEC);
	if (uffd < 0)
		fail("userfaultfd");
	if (ioctl(uffd, UFFDIO_API, &api))
		fail("UFFDIO_API");
	for (v = 0; v < A.nvma; v++)
		uffd_register(area_page(v * A.stride), A.vpages * psz);
	errno = pthread_create(&thread, NULL, uffd_handler, NULL);
	if (errno)
		fail("pthread_create the userfaultfd handler");
	reprotect(NULL, 1, 0, uffd_protect);
}

static size_t uffd_getclear(struct page_region *v)
{
	size_t n = mark_runs(v, true);

	/* Run by run when there are few: whole ranges cost ~85 insn/page */
	reprotect(v, n, A.span / 64, uffd_protect);
	return n;
}

static void uffd_clear(void)
{
	uffd_getclear(vec);
}

const struct method methods[] = {
	{ "scan", true, false, NULL, NULL, scan_get, scan_getclear, scan_clear, scan_present },
	{ "scan-nrr", true, false, scan_nrr_enter, NULL, scan_get, scan_getclear, scan_clear, NULL },
	{ "pagemap", true, false, NULL, pagemap_setup, pagemap_get, pagemap_getclear,
	  pagemap_clear, pagemap_present },
	{ "mprotect", false, true, NULL, mprotect_setup, mark_get, mprotect_getclear,
	  mprotect_clear, NULL },
	{ "uffd", false, true, NULL, uffd_setup, mark_get, uffd_getclear, uffd_clear, NULL },
};
_Static_assert(sizeof(methods) / sizeof(methods[0]) == NR_METHODS, "NR_METHODS");
