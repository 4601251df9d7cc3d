// SPDX-License-Identifier: GPL-2.0
/*
 * criu-workload: a process for CRIU to checkpoint, and the checks of what
 * CRIU made of it (tools/tests/criu-test.sh).
 *
 *   criu-workload run DIR MIB        start the workload; print its pid
 *   criu-workload verify DIR PID K   every page of PID holds what rounds
 *                                    1..K wrote (or the first fill)
 *   criu-workload count DIR IMG K pre-dump|dump
 *                                    the pages CRIU wrote into the images
 *                                    in IMG are those round K wrote (K = 0:
 *                                    everything, a first pre-dump)
 *
 * The workload maps MIB MiB as six regions (anonymous, anonymous THP,
 * shared anonymous, a shared memfd, a private mapping of a file, anonymous
 * memory kept swapped out), fills every page with a pattern naming region,
 * page and round 0, writes their addresses to DIR/layout and waits.  On SIGUSR1 it runs the
 * rounds appended to DIR/requests ("k permille" lines, written by the
 * harness): round k writes the pattern of round k to permille/1000 of the
 * pages of each region, chosen by a hash of (k, region, page), then pages
 * the swapped region out again, and writes k to DIR/done.  The checks
 * compute the same hash, from the harness's requests, not from the process.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "scan.h"
#include "criu-workload.h"

size_t wl_psz;

static const char *const kind_name[WL_KINDS] = {
	[WL_ANON] = "anon", [WL_THP] = "thp", [WL_SHANON] = "shanon", [WL_MEMFD] = "memfd",
	[WL_FILE] = "file", [WL_SWAP] = "swap",
};

/* Eighths of MIB per region */
static const int kind_share[WL_KINDS] = {
	[WL_ANON] = 2, [WL_THP] = 2, [WL_SHANON] = 1, [WL_MEMFD] = 1, [WL_FILE] = 1,
	[WL_SWAP] = 1,
};

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

bool wl_written(const struct wl_rounds *rounds, unsigned int k, int r, size_t p)
{
	return mix((uint64_t)k << 48 ^ (uint64_t)r << 40 ^ p) % 1000 < rounds->permille[k];
}

uint64_t wl_word(int r, size_t p, unsigned int k, size_t w)
{
	return (uint64_t)(r + 1) << 56 | (uint64_t)k << 44 | (uint64_t)p << 12 | w;
}

unsigned int wl_generation(const struct wl_rounds *rounds, unsigned int upto, int r, size_t p)
{
	unsigned int k;

	for (k = upto; k > 0; k--)
		if (wl_written(rounds, k, r, p))
			return k;
	return 0;
}

static void fill_page(char *page, int r, size_t p, unsigned int k)
{
	uint64_t *w = (uint64_t *)page;
	size_t i;

	for (i = 0; i < wl_psz / 8; i++)
		w[i] = wl_word(r, p, k, i);
}

static void read_rounds(const char *dir, struct wl_rounds *rounds)
{
	char path[4096];
	unsigned int k, pm;
	FILE *f;

	memset(rounds, 0, sizeof(*rounds));
	snprintf(path, sizeof(path), "%s/requests", dir);
	f = fopen(path, "r");
	if (!f)
		return;		/* no round yet */
	while (fscanf(f, "%u %u", &k, &pm) == 2) {
		if (k != rounds->nr + 1 || k > WL_MAX_ROUNDS || pm > 1000) {
			fprintf(stderr, "criu-workload: %s: round %u (%u permille) out of order or range\n",
				path, k, pm);
			exit(2);
		}
		rounds->permille[k] = pm;
		rounds->nr = k;
	}
	fclose(f);
}

void wl_load(const char *dir, struct wl_region *regions, struct wl_rounds *rounds)
{
	char path[4096], name[16];
	unsigned long addr, pages;
	int r;
	FILE *f;

	snprintf(path, sizeof(path), "%s/layout", dir);
	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "criu-workload: no layout %s: %s\n", path, strerror(errno));
		exit(2);
	}
	for (r = 0; r < WL_KINDS; r++) {
		if (fscanf(f, "%15s %lx %lu", name, &addr, &pages) != 3 ||
		    strcmp(name, kind_name[r])) {
			fprintf(stderr, "criu-workload: %s: line %d is not '%s ADDR PAGES'\n",
				path, r + 1, kind_name[r]);
			exit(2);
		}
		regions[r] = (struct wl_region){ kind_name[r], addr, pages };
	}
	fclose(f);
	read_rounds(dir, rounds);
}

/* The file behind WL_FILE, filled with round 0's pattern */
static int make_file(const char *dir, size_t pages)
{
	char path[4096], *page = malloc(wl_psz);
	size_t p;
	int fd;

	snprintf(path, sizeof(path), "%s/file", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || !page)
		fail("create the workload's file");
	for (p = 0; p < pages; p++) {
		fill_page(page, WL_FILE, p, 0);
		if (write(fd, page, wl_psz) != (ssize_t)wl_psz)
			fail("write the workload's file");
	}
	free(page);
	return fd;
}

static char *map_region(const char *dir, int r, size_t pages)
{
	size_t len = pages * wl_psz, thp = WL_THP_PAGES * wl_psz;
	int fd = -1, flags = MAP_PRIVATE | MAP_ANONYMOUS;
	char *p;

	if (r == WL_SHANON) {
		flags = MAP_SHARED | MAP_ANONYMOUS;
	} else if (r == WL_MEMFD) {
		fd = memfd_create("criu-workload", 0);
		if (fd < 0 || ftruncate(fd, len))
			fail("memfd_create and size the memfd");
		flags = MAP_SHARED;
	} else if (r == WL_FILE) {
		fd = make_file(dir, pages);
		flags = MAP_PRIVATE;
	}
	/* THP: a 2 MiB aligned start, from a larger reservation */
	p = mmap(NULL, len + (r == WL_THP ? thp : 0), PROT_READ | PROT_WRITE,
		 flags, fd, 0);
	if (p == MAP_FAILED)
		fail("mmap a workload region");
	if (fd >= 0)
		close(fd);
	if (r == WL_THP) {
		char *a = (char *)(((uintptr_t)p + thp - 1) & ~(thp - 1));

		munmap(p, a - p);
		munmap(a + len, p + thp - a);
		p = a;
	}
	madvise(p, len, r == WL_THP ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	return p;
}

/* Round @k on region @r; round 0 is the first fill (none for the file) */
static void run_round(const struct wl_region *reg, int r, const struct wl_rounds *rounds,
		      unsigned int k)
{
	char *base = (char *)reg->addr;
	size_t p;

	for (p = 0; p < reg->pages; p++)
		if (k ? wl_written(rounds, k, r, p) : r != WL_FILE)
			fill_page(base + p * wl_psz, r, p, k);
	if (r == WL_SWAP && madvise(base, reg->pages * wl_psz, MADV_PAGEOUT))
		fail("MADV_PAGEOUT the swapped region");
}

/* Write DIR/NAME whole: a temporary file renamed over it */
static void __attribute__((format(printf, 3, 4)))
write_file(const char *dir, const char *name, const char *fmt, ...)
{
	char tmp[4096], path[4096];
	va_list ap;
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s/.%s", dir, name);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(tmp, "w");
	if (!f)
		fail("create a workload file");
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	if (fclose(f) || rename(tmp, path))
		fail("write a workload file");
}

static void write_layout(const char *dir, const struct wl_region *regions)
{
	char buf[WL_KINDS * 64];
	size_t n = 0;
	int r;

	for (r = 0; r < WL_KINDS; r++)
		n += snprintf(buf + n, sizeof(buf) - n, "%s %lx %zu\n", regions[r].name,
			      (unsigned long)regions[r].addr, regions[r].pages);
	write_file(dir, "layout", "%s", buf);
}

static void __attribute__((noreturn)) serve(const char *dir, struct wl_region *regions)
{
	struct wl_rounds rounds;
	unsigned int done = 0;
	sigset_t set;
	int r;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	for (;;) {
		/* A restore may end the wait early: EINTR is another look */
		if (sigwaitinfo(&set, NULL) < 0 && errno != EINTR)
			fail("sigwaitinfo");
		read_rounds(dir, &rounds);
		for (; done < rounds.nr; done++)
			for (r = 0; r < WL_KINDS; r++)
				run_round(&regions[r], r, &rounds, done + 1);
		write_file(dir, "done", "%u\n", done);
	}
}

static int run(const char *dir, size_t mib)
{
	struct wl_region regions[WL_KINDS];
	size_t pages = mib * (1 << 20) / wl_psz;
	struct wl_rounds none = { 0 };
	int fds[2], r, null;
	sigset_t set;
	char c = 0;
	pid_t pid;

	if (pipe(fds))
		fail("pipe");
	pid = fork();
	if (pid < 0)
		fail("fork");
	if (pid) {
		close(fds[1]);
		if (read(fds[0], &c, 1) != 1) {
			fprintf(stderr, "criu-workload: the workload did not start\n");
			return 1;
		}
		printf("%d\n", pid);
		return 0;
	}
	close(fds[0]);
	setsid();
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	for (r = 0; r < WL_KINDS; r++) {
		size_t n = pages / 8 * kind_share[r];

		if (r == WL_THP)
			n = n / WL_THP_PAGES * WL_THP_PAGES;
		regions[r] = (struct wl_region){ kind_name[r], 0, n };
		regions[r].addr = (uintptr_t)map_region(dir, r, n);
		run_round(&regions[r], r, &none, 0);
	}
	write_layout(dir, regions);
	write_file(dir, "pid", "%d\n", getpid());
	/* CRIU dumps what the workload holds: no pipe, no terminal */
	null = open("/dev/null", O_RDWR);
	if (null < 0 || chdir("/"))
		fail("open /dev/null and chdir /");
	if (write(fds[1], &c, 1) != 1)
		fail("tell the parent the workload is ready");
	close(fds[1]);
	dup2(null, 0);
	dup2(null, 1);
	dup2(null, 2);
	close(null);
	serve(dir, regions);
}

static void usage(void)
{
	fprintf(stderr, "usage: criu-workload run DIR MIB\n"
		"       criu-workload verify DIR PID K\n"
		"       criu-workload count DIR IMGDIR K pre-dump|dump\n");
	exit(2);
}

int main(int argc, char **argv)
{
	wl_psz = sysconf(_SC_PAGESIZE);
	if (argc == 4 && !strcmp(argv[1], "run"))
		return run(argv[2], parse(argv[3], "MIB", 8, 1 << 16));
	if (argc == 5 && !strcmp(argv[1], "verify"))
		return wl_verify(argv[2], parse(argv[3], "PID", 1, 1 << 22),
				 parse(argv[4], "K", 0, WL_MAX_ROUNDS));
	if (argc == 6 && !strcmp(argv[1], "count") &&
	    (!strcmp(argv[5], "pre-dump") || !strcmp(argv[5], "dump")))
		return wl_count(argv[2], argv[3], parse(argv[4], "K", 0, WL_MAX_ROUNDS),
				!strcmp(argv[5], "dump"));
	usage();
}
