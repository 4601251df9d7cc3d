// SPDX-License-Identifier: GPL-2.0
/*
 * scan-bench: cost of finding (and clearing) the dirty pages of a range.
 *
 *   scan-bench [SIZE_MB [DIRTY_PERMILLE]]     (defaults: 1024 MB, 10 = 1%)
 *
 * Maps SIZE_MB of anonymous memory, populates it, clears soft-dirty, writes
 * every (1000/DIRTY_PERMILLE)-th page and then times, on the same pages:
 * reading /proc/self/pagemap, PAGEMAP_SCAN GET, PAGEMAP_SCAN GET+CLEAR, and
 * clear_refs.  Boot the guest with -icount shift=0,sleep=off: CLOCK_MONOTONIC
 * nanoseconds are then guest instructions, and the numbers repeat exactly.
 */
#include "scan.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

static size_t psz, npages, stride;
static char *mem;

static size_t write_dirty(void)
{
	size_t i, n = 0;

	for (i = 0; i < npages; i += stride, n++)
		mem[i * psz]++;
	return n;
}

/* Read pagemap for the whole range; returns the number of soft-dirty pages. */
static size_t pagemap_dirty(int pm)
{
	static uint64_t buf[4096];
	size_t done = 0, dirty = 0, i;

	while (done < npages) {
		size_t n = npages - done < 4096 ? npages - done : 4096;
		off_t off = ((uintptr_t)mem / psz + done) * 8;

		if (pread(pm, buf, n * 8, off) != (ssize_t)(n * 8))
			fail("pread /proc/self/pagemap");
		for (i = 0; i < n; i++)
			dirty += (buf[i] >> 55) & 1;
		done += n;
	}
	return dirty;
}

static size_t dirty_pages(int pm, uint64_t flags, struct page_region *vec, size_t vec_len)
{
	return scan_dirty(pm, flags, mem, npages * psz, vec, vec_len, NULL);
}

/* The userspace alternative: write-protect, and unprotect on the first write. */
static void on_segv(int sig, siginfo_t *si, void *uc)
{
	char *page = (char *)((uintptr_t)si->si_addr & ~(psz - 1));

	(void)sig;
	(void)uc;
	if (mprotect(page, psz, PROT_READ | PROT_WRITE))
		_exit(3);
}

static size_t mprotect_tracked_writes(void)
{
	struct sigaction sa = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO };
	size_t n;

	if (sigaction(SIGSEGV, &sa, NULL))
		fail("sigaction");
	if (mprotect(mem, npages * psz, PROT_READ))
		fail("mprotect");
	n = write_dirty();
	signal(SIGSEGV, SIG_DFL);
	return n;
}

static void clear_refs(void)
{
	int fd = open("/proc/self/clear_refs", O_WRONLY);

	if (fd < 0 || write(fd, "4", 1) != 1)
		fail("write /proc/self/clear_refs");
	close(fd);
}

static void row(const char *what, uint64_t ns, size_t found, size_t expect)
{
	printf("| %-34s | %12.1f | %14.1f | %6zu%s |\n", what, (double)ns / npages,
	       expect ? (double)ns / expect : 0.0, found,
	       found == expect ? "" : " (!)");
}

int main(int argc, char **argv)
{
	size_t mb = argc > 1 ? parse(argv[1], "SIZE_MB", 1, 16384) : 1024;
	size_t permille = argc > 2 ? parse(argv[2], "DIRTY_PERMILLE", 1, 1000) : 10;
	struct page_region *vec;
	int pm = scan_open(0);
	size_t ndirty, found, vec_len;
	uint64_t t;

	if (argc > 3) {
		fprintf(stderr, "usage: scan-bench [SIZE_MB [DIRTY_PERMILLE]]\n");
		return 2;
	}
	psz = sysconf(_SC_PAGESIZE);
	npages = mb * 1024 * 1024 / psz;
	stride = 1000 / permille;
	vec_len = npages / stride + 1;
	vec = calloc(vec_len, sizeof(*vec));
	mem = mmap(NULL, npages * psz, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (!vec || mem == MAP_FAILED)
		fail("allocate the test range");
	madvise(mem, npages * psz, MADV_NOHUGEPAGE);
	memset(mem, 1, npages * psz);
	dirty_pages(pm, PAGEMAP_SOFTDIRTY_CLEAR, vec, vec_len);

	printf("%zu MiB, %zu pages, every %zu-th page written\n\n", mb, npages, stride);
	printf("| %-34s | %12s | %14s | %7s |\n", "operation", "insn/page", "insn/dirty pg", "found");
	printf("|%s|%s|%s|%s|\n", "------------------------------------",
	       "--------------", "----------------", "---------");
	t = now(); ndirty = write_dirty(); t = now() - t;
	row("first writes after clear (faults)", t, ndirty, ndirty);
	t = now(); found = pagemap_dirty(pm); t = now() - t;
	row("read /proc/self/pagemap", t, found, ndirty);
	t = now(); found = dirty_pages(pm, 0, vec, vec_len); t = now() - t;
	row("PAGEMAP_SCAN GET", t, found, ndirty);
	t = now(); found = dirty_pages(pm, PAGEMAP_SOFTDIRTY_CLEAR, vec, vec_len); t = now() - t;
	row("PAGEMAP_SCAN GET+CLEAR", t, found, ndirty);
	t = now(); found = dirty_pages(pm, 0, vec, vec_len); t = now() - t;
	row("PAGEMAP_SCAN GET after clear", t, found, 0);
	write_dirty();
	t = now(); clear_refs(); t = now() - t;
	row("clear_refs 4 (whole process)", t, 0, 0);
	t = now(); found = mprotect_tracked_writes(); t = now() - t;
	row("mprotect+SIGSEGV first writes", t, found, ndirty);
	return 0;
}
