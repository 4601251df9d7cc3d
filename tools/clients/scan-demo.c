// SPDX-License-Identifier: GPL-2.0
/*
 * scan-demo: show PAGEMAP_SCAN on a live process.  Maps 32 pages, clears
 * soft-dirty, writes a few pages, then prints the soft-dirty regions, clears
 * them atomically with the report, and shows that the next scan is empty.
 */
#include "scan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define NPAGES 32
#define ALL (PAGE_IS_SOFTDIRTY | PAGE_IS_FILE | PAGE_IS_PRESENT | PAGE_IS_SWAPPED)

static long psz;

static long dirty_scan(int fd, char *mem, uint64_t flags, const char *title)
{
	struct page_region vec[NPAGES];
	uint64_t end;
	long n, i;

	n = scan_call(fd, flags, mem, NPAGES * psz, vec, NPAGES, 0,
		      PAGE_IS_SOFTDIRTY, 0, 0, ALL, &end);
	if (n < 0) {
		fprintf(stderr, "error: PAGEMAP_SCAN (%s): %s\n", title, strerror(errno));
		exit(1);
	}
	printf("%s: %ld region(s), walk_end = page %ld\n", title, n,
	       (long)((end - (uintptr_t)mem) / psz));
	for (i = 0; i < n; i++)
		printf("  pages %3ld..%3ld  %s\n",
		       (long)((vec[i].start - (uintptr_t)mem) / psz),
		       (long)((vec[i].start + vec[i].len - (uintptr_t)mem) / psz) - 1,
		       scan_bits(vec[i].bitmap));
	return n;
}

int main(void)
{
	static const int written[] = { 1, 2, 3, 10, 20, 21 };
	int fd = scan_open(0);
	char *mem;
	size_t i;

	psz = sysconf(_SC_PAGESIZE);
	mem = mmap(NULL, NPAGES * psz, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		perror("error: mmap");
		return 1;
	}
	dirty_scan(fd, mem, 0, "fresh mapping (VM_SOFTDIRTY: all dirty)");
	dirty_scan(fd, mem, PAGEMAP_SOFTDIRTY_CLEAR, "report + clear");
	printf("writing pages 1-3, 10, 20-21\n");
	for (i = 0; i < sizeof(written) / sizeof(written[0]); i++)
		mem[written[i] * psz] = 1;
	dirty_scan(fd, mem, PAGEMAP_SOFTDIRTY_CLEAR, "written pages, report + clear");
	if (dirty_scan(fd, mem, 0, "after clear") != 0) {
		fprintf(stderr, "error: pages still dirty after clear\n");
		return 1;
	}
	return 0;
}
