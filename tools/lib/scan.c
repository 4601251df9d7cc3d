// SPDX-License-Identifier: GPL-2.0
#include "scan.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <time.h>
#include <unistd.h>

int scan_open(int pid)
{
	char path[64];
	int fd;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/pagemap");
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "error: open %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return fd;
}

long scan_call(int fd, uint64_t flags, void *start, size_t len,
	       struct page_region *vec, size_t vec_len, uint64_t max_pages,
	       uint64_t required, uint64_t anyof, uint64_t excluded,
	       uint64_t ret_mask, uint64_t *walk_end)
{
	struct pagemap_scan_arg arg = {
		.size = sizeof(arg),
		.flags = flags,
		.start = (uintptr_t)start,
		.len = len,
		.vec = (uintptr_t)vec,
		.vec_len = vec_len,
		.max_pages = max_pages,
		.required_mask = required,
		.anyof_mask = anyof,
		.excluded_mask = excluded,
		.return_mask = ret_mask,
	};
	long ret = ioctl(fd, PAGEMAP_SCAN, &arg);

	if (walk_end)
		*walk_end = arg.walk_end;
	return ret;
}

const char *scan_bits(uint64_t bitmap)
{
	static const char *const names[] = { "softdirty", "file", "present", "swapped" };
	static char buf[64];
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(bitmap & (1ULL << i)))
			continue;
		if (buf[0])
			strcat(buf, "|");
		strcat(buf, names[i]);
	}
	return buf[0] ? buf : "-";
}

size_t scan_dirty(int fd, uint64_t flags, void *start, size_t len,
		  struct page_region *vec, size_t vec_len, long *regions)
{
	size_t bytes = 0;
	uint64_t end;
	long n, i;

	n = scan_call(fd, flags, start, len, vec, vec_len, 0,
		      PAGE_IS_SOFTDIRTY, 0, 0, PAGE_IS_SOFTDIRTY, &end);
	if (n < 0)
		fail("PAGEMAP_SCAN");
	if (end != (uintptr_t)start + len) {
		fprintf(stderr, "error: PAGEMAP_SCAN stopped early: %zu regions are not enough\n",
			vec_len);
		exit(1);
	}
	for (i = 0; i < n; i++)
		bytes += vec[i].len;
	if (regions)
		*regions = n;
	return bytes / sysconf(_SC_PAGESIZE);
}

int scan_enter_nrr(int fd)
{
	long psz = sysconf(_SC_PAGESIZE);
	char *page = mmap(NULL, psz, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long ret;
	int err;

	if (page == MAP_FAILED)
		fail("mmap scratch page");
	ret = scan_call(fd, PAGEMAP_SOFTDIRTY_CLEAR | PAGEMAP_NO_REUSED_REGIONS,
			page, psz, NULL, 0, 0, 0, 0, 0, 0, NULL);
	err = errno;
	munmap(page, psz);
	errno = err;
	return ret < 0 ? -1 : 0;
}

size_t count_vmas(const void *start, size_t len)
{
	unsigned long lo, hi, s = (uintptr_t)start, e = s + len;
	FILE *f = fopen("/proc/self/maps", "r");
	char *line = NULL;
	size_t cap = 0, n = 0;

	if (!f)
		fail("open /proc/self/maps");
	while (getline(&line, &cap, f) > 0)
		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && lo < e && hi > s)
			n++;
	free(line);
	fclose(f);
	return n;
}

void no_aslr(char **argv)
{
	int pers = personality(0xffffffff);

	if (pers == -1)
		fail("personality");
	if (pers & ADDR_NO_RANDOMIZE)
		return;
	if (personality(pers | ADDR_NO_RANDOMIZE) == -1)
		fail("personality ADDR_NO_RANDOMIZE");
	execv("/proc/self/exe", argv);
	fail("re-exec /proc/self/exe with ASLR off");
}

uint64_t xorshift(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

uint64_t now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

void diag(const char *fmt, ...)
{
	int saved_errno = errno;
	va_list ap;

	va_start(ap, fmt);
	printf("# ");
	errno = saved_errno;
	vprintf(fmt, ap);
	va_end(ap);
}

const char *errname(int err)
{
	static char buf[24];

	switch (err) {
	case 0: return "success";
	case EINVAL: return "EINVAL";
	case EFAULT: return "EFAULT";
	case ENOTTY: return "ENOTTY";
	case ENOMEM: return "ENOMEM";
	case EPERM: return "EPERM";
	case E2BIG: return "E2BIG";
	case ESRCH: return "ESRCH";
	case EINTR: return "EINTR";
	case EIO: return "EIO";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	}
	snprintf(buf, sizeof(buf), "errno %d", err);
	return buf;
}

void fail(const char *what)
{
	fprintf(stderr, "error: %s: %s\n", what, strerror(errno));
	exit(1);
}

bool sysfs_mode(const char *path, const char *mode, char *old, size_t len)
{
	FILE *f = fopen(path, "r+");
	char line[128], *a, *b;
	bool ok;

	if (!f)
		return false;
	if (old) {
		ok = fgets(line, sizeof(line), f) && (a = strchr(line, '[')) &&
		     (b = strchr(a, ']'));
		if (!ok) {
			fclose(f);
			return false;
		}
		snprintf(old, len, "%.*s", (int)(b - a - 1), a + 1);
		rewind(f);
	}
	ok = fputs(mode, f) >= 0;
	return !fclose(f) && ok;
}

static char shmem_old[32];	/* shmem_enabled before shmem_thp_advise() */

static void restore_shmem_enabled(void)
{
	sysfs_mode(SHMEM_ENABLED, shmem_old, NULL, 0);
}

bool shmem_thp_advise(void)
{
	if (access(SHMEM_ENABLED, F_OK))
		return false;
	if (!sysfs_mode(SHMEM_ENABLED, "advise", shmem_old, sizeof(shmem_old)) ||
	    atexit(restore_shmem_enabled))
		fail("set " SHMEM_ENABLED " to advise");
	return true;
}

uint64_t pm_categories(uint64_t pme)
{
	return (pme & PM_SD ? PAGE_IS_SOFTDIRTY : 0) | (pme & PM_FILE ? PAGE_IS_FILE : 0) |
	       (pme & PM_SWAP ? PAGE_IS_SWAPPED : 0) | (pme & PM_PRESENT ? PAGE_IS_PRESENT : 0);
}

bool scan_matches(uint64_t required, uint64_t anyof, uint64_t excluded, uint64_t cat)
{
	return (cat & required) == required && (!anyof || (cat & anyof)) && !(cat & excluded);
}

void clear_refs_self(void)
{
	int fd = open("/proc/self/clear_refs", O_WRONLY);

	if (fd < 0 || write(fd, "4", 1) != 1)
		fail("write 4 to /proc/self/clear_refs");
	close(fd);
}

bool pm_huge(const uint64_t *pm, size_t n)
{
	uint64_t pfn0 = pm[0] & PM_PFN;
	size_t k;

	for (k = 0; k < n; k++)
		if (!(pm[k] & PM_PRESENT) || (pm[k] & PM_PFN) != pfn0 + k)
			return false;
	return pfn0 && !(pfn0 % n);
}

unsigned long vmstat(const char *name)
{
	FILE *f = fopen("/proc/vmstat", "r");
	unsigned long v = 0, val;
	char key[64];

	while (f && fscanf(f, "%63s %lu", key, &val) == 2)
		if (!strcmp(key, name))
			v = val;
	if (f)
		fclose(f);
	return v;
}

size_t parse(const char *s, const char *name, size_t lo, size_t hi)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || !isdigit((unsigned char)*s) || *end || v < lo || v > hi) {
		fprintf(stderr, "error: %s must be a number in [%zu, %zu], not '%s'\n",
			name, lo, hi, s);
		exit(2);
	}
	return v;
}

int fork_piped(int *fd)
{
	int fds[2];
	pid_t pid;

	fflush(stdout);
	if (pipe(fds))
		fail("pipe");
	pid = fork();
	if (pid < 0)
		fail("fork");
	close(fds[pid ? 1 : 0]);
	*fd = fds[pid ? 0 : 1];
	return pid;
}

const char *scan_clear_unsupported(void)
{
	long psz = sysconf(_SC_PAGESIZE);
	char *page = mmap(NULL, psz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	const char *why = NULL;
	int pm = scan_open(0);

	if (page == MAP_FAILED)
		fail("mmap a probe page");
	*page = 1;
	if (scan_call(pm, PAGEMAP_SOFTDIRTY_CLEAR, page, psz, NULL, 0, 0, 0, 0, 0, 0, NULL) < 0) {
		if (errno == ENOTTY)
			why = "the kernel has no PAGEMAP_SCAN";
		else if (errno == EINVAL)
			why = "the kernel rejects PAGEMAP_SOFTDIRTY_CLEAR (no CONFIG_MEM_SOFT_DIRTY)";
		else
			fail("PAGEMAP_SCAN CLEAR of a page of our own");
	}
	close(pm);
	munmap(page, psz);
	return why;
}
