// SPDX-License-Identifier: GPL-2.0
/* lostwrite: the tracked region, and for the race variants the churn part before it */
#define _GNU_SOURCE
#include "lostwrite.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <unistd.h>

char *churn, *parking;
size_t churn_len;
int churn_fd = -1;

/* Whether @v tracks shmem THPs: memfd, or a tmpfs mounted huge=always */
bool shmem_thp(const struct variant *v)
{
	return v->thp && (v->backing == SHMEM || v->backing == TMPFS_HUGE);
}

/* A file on a tmpfs of its own mounted huge=always, which goes with the fd */
static int huge_tmpfs_file(void)
{
	char dir[] = "/tmp/lostwrite-huge-XXXXXX", path[64];
	int fd;

	if (!mkdtemp(dir) || mount("tmpfs", dir, "tmpfs", 0, "huge=always"))
		fail("mount a tmpfs with huge=always");
	snprintf(path, sizeof(path), "%s/file", dir);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (umount2(dir, MNT_DETACH) || rmdir(dir))
		fail("detach the huge tmpfs");
	return fd;
}

static int backing_fd(enum backing b, size_t len)
{
	char path[] = "/tmp/lostwrite-XXXXXX";
	int fd;

	if (b == ANON)
		return -1;
	if (b == SHMEM)
		fd = memfd_create("lostwrite", 0);
	else if (b == TMPFS_HUGE)
		fd = huge_tmpfs_file();
	else if ((fd = mkstemp(path)) >= 0)
		unlink(path);
	if (fd < 0 || ftruncate(fd, len))
		fail("create the backing file");
	return fd;
}

int map_flags(const struct variant *v, int fd)
{
	return (v->backing == FILE_PRIVATE || v->backing == ANON ? MAP_PRIVATE : MAP_SHARED) |
	       (fd < 0 ? MAP_ANONYMOUS : 0);
}

/*
 * The region, and for the race variants the churn part before it in the
 * same mapping (file offset 0), with a hole of a page before and after
 */
char *map_region(const struct variant *v)
{
	bool race = v->extra == RACE;
	size_t head = race ? churn_len : 0, guard = race ? psz : 0;
	size_t len = head + npages * psz, span = len + 2 * guard + (v->thp ? HUGE_SIZE : 0);
	int fd = backing_fd(v->backing, len);
	char *res, *p;

	/* THP needs a 2 MiB aligned region: reserve, then map inside */
	res = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (res == MAP_FAILED)
		fail("mmap the reservation");
	p = res + guard + head;
	if (v->thp)
		p = (char *)(((uintptr_t)p + HUGE_SIZE - 1) & ~(HUGE_SIZE - 1));
	p = mmap(p - head, len, PROT_READ | PROT_WRITE, map_flags(v, fd) | MAP_FIXED, fd, 0);
	if (p == MAP_FAILED)
		fail("mmap the region");
	if (v->thp && madvise(p, len, MADV_HUGEPAGE))
		fail("madvise(MADV_HUGEPAGE)");
	/* The holes: a PROT_NONE VMA would have soft-dirty pages */
	if (race && (munmap(res, p - res) || munmap(p + len, res + span - p - len)))
		fail("munmap the holes");
	if (race || v->extra == MIGRATE)
		churn_fd = fd;
	else if (fd >= 0)
		close(fd);
	memset(p, 0, len);	/* populate: counters start at 0 */
	churn = p;
	return p + head;
}

