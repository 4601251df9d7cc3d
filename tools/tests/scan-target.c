// SPDX-License-Identifier: GPL-2.0
/*
 * scan-target: a process with a known soft-dirty pattern, for testing
 * pagemap-scan from outside (tools/pagemap-scan-test.sh).
 *
 *   scan-target PAGES LIST
 *
 * Maps PAGES anonymous pages between two PROT_NONE guard pages (so that the
 * mapping is a VMA of its own), makes every page present, clears soft-dirty
 * with "4" to /proc/self/clear_refs (not with PAGEMAP_SCAN, the thing under
 * test), then writes the pages of LIST: comma-separated page indices "A",
 * ranges "A-B" (inclusive) or strided ranges "A-B/S" (every S-th page from A).
 * It then prints one line
 *   pid=PID addr=0xADDR pages=PAGES pagesize=PSZ
 * and waits for signals: SIGUSR1 writes the pages of LIST again and prints
 * "rewritten"; SIGTERM (or any other fatal signal) ends it.
 * Exit: 1 a system call failed, 2 usage.
 */
#include "scan.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MAX_PAGES	(1UL << 20)

static volatile sig_atomic_t rewrite;

static void on_usr1(int sig)
{
	(void)sig;
	rewrite = 1;
}

/* One item of LIST ("A", "A-B" or "A-B/S") as first, last and step. */
static void parse_item(char *item, size_t pages, size_t *a, size_t *b, size_t *step)
{
	char *dash = strchr(item, '-'), *slash = strchr(item, '/');

	*step = 1;
	if (slash) {
		*slash = '\0';
		*step = parse(slash + 1, "step of a LIST item", 1, pages);
	}
	if (dash)
		*dash = '\0';
	*a = parse(item, "page index in LIST", 0, pages - 1);
	*b = dash ? parse(dash + 1, "page index in LIST", *a, pages - 1) : *a;
}

/* Write one byte to each page of @list (parsed again each time: it is tiny). */
static void write_pattern(char *mem, size_t pages, size_t psz, const char *list)
{
	char *copy = strdup(list), *save = NULL, *item;
	size_t a, b, step, i;

	if (!copy)
		fail("strdup");
	for (item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		parse_item(item, pages, &a, &b, &step);
		for (i = a; i <= b; i += step)
			mem[i * psz]++;
	}
	free(copy);
}

int main(int argc, char **argv)
{
	size_t psz = sysconf(_SC_PAGESIZE), pages, i;
	sigset_t usr1, old;
	char *mem;

	if (argc != 3) {
		fprintf(stderr, "usage: scan-target PAGES LIST (see the source)\n");
		return 2;
	}
	pages = parse(argv[1], "PAGES", 1, MAX_PAGES);
	mem = mmap(NULL, (pages + 2) * psz, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		fail("mmap");
	mem += psz;
	if (mprotect(mem, pages * psz, PROT_READ | PROT_WRITE))
		fail("mprotect");
	for (i = 0; i < pages; i++)
		mem[i * psz] = 0;
	write_pattern(mem, pages, psz, argv[2]);	/* check LIST before clearing */
	clear_refs_self();
	write_pattern(mem, pages, psz, argv[2]);

	/* Block SIGUSR1 outside sigsuspend() so that no request is missed. */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, &old);
	signal(SIGUSR1, on_usr1);
	printf("pid=%d addr=%p pages=%zu pagesize=%zu\n", getpid(), (void *)mem, pages, psz);
	fflush(stdout);
	for (;;) {
		sigsuspend(&old);
		if (!rewrite)
			continue;
		rewrite = 0;
		write_pattern(mem, pages, psz, argv[2]);
		printf("rewritten\n");
		fflush(stdout);
	}
}
