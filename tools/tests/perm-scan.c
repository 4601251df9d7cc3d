// SPDX-License-Identifier: GPL-2.0
/* scan-perm: scanning the region through a descriptor, and what a result must be */
#include "scan-perm.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* ---- scanning ---- */


/*
 * GET the pages of the region in category cat through @fd, with @flags (0 or
 * CLEAR).  vec starts as a pattern the kernel never writes, and scan_call()
 * passes walk_end as 0, so that any output of a failed call shows.
 */
struct result scan_region(int fd, uint64_t flags)
{
	struct page_region vec[NPAGES], pattern[NPAGES];
	struct result r = { 0 };
	uint64_t end, a;
	long i;

	memset(pattern, 0xa5, sizeof(pattern));
	memcpy(vec, pattern, sizeof(vec));
	r.ret = scan_call(fd, flags, region, len, vec, NPAGES, 0, cat, 0, 0, cat, &end);
	r.err = r.ret < 0 ? errno : 0;
	if (r.ret < 0) {
		r.wrote = end || memcmp(vec, pattern, sizeof(vec));
		return r;
	}
	for (i = 0; i < r.ret; i++)
		for (a = vec[i].start; a < vec[i].start + vec[i].len; a += psz)
			r.mask |= 1ULL << ((a - (uintptr_t)region) / psz);
	return r;
}

/* Print @r, for the log */
void show(const char *what, const struct result *r)
{
	if (r->ret < 0)
		diag("  %s: %s%s\n", what, strerror(r->err),
		     r->wrote ? ", and it wrote output" : "");
	else
		diag("  %s: %ld regions, pages %#llx\n", what, r->ret,
		     (unsigned long long)r->mask);
}

/* A success that reported exactly the pages @mask */
bool reported(const struct result *r, uint64_t mask)
{
	return r->ret >= 0 && r->mask == mask;
}

/* A failure with @err that wrote nothing (spec, "Errors") */
bool denied(const struct result *r, int err)
{
	return r->ret == -1 && r->err == err && !r->wrote;
}

/*
 * The errno a CLEAR refused with @err gets: without soft-dirty every CLEAR
 * gets EINVAL, before any permission check (spec "Compatibility").
 */
int clear_err(int err)
{
	return no_sd ? EINVAL : err;
}

/* What a result name says of CLEAR: @text, or the EINVAL without soft-dirty */
const char *clear_says(const char *text)
{
	return no_sd ? "CLEAR gets EINVAL (no soft-dirty) and changes nothing" : text;
}

/* The pages of @pid's region in category cat, read by root: a mask */
uint64_t dirty_of(pid_t pid)
{
	int fd = scan_open(pid);
	struct result r = scan_region(fd, 0);

	close(fd);
	if (r.ret < 0)
		bail("root's GET on process %d: %s\n", pid, strerror(r.err));
	return r.mask;
}

/* Make this process's soft-dirty (or present) pages of the region exactly EVEN */
int mark_even(void)
{
	int fd;
	long ret;
	size_t i;

	if (no_sd) {
		if (madvise(region, len, MADV_DONTNEED))
			return -1;
		for (i = 0; i < NPAGES; i += 2)
			region[i * psz] = 2;
		return 0;
	}
	fd = scan_open(0);

	for (i = 0; i < NPAGES; i++)
		region[i * psz] = 1;
	ret = scan_call(fd, CLEAR, region, len, NULL, 0, 0, 0, 0, 0, 0, NULL);
	close(fd);
	for (i = 0; i < NPAGES; i += 2)
		region[i * psz] = 2;
	return ret < 0 ? -1 : 0;
}

/*
 * A caller that may GET with root's descriptor of @target but not CLEAR:
 * GET reports EVEN (opening checked the permission: the spec's errno table
 * has nothing for a GET), GET+CLEAR fails with EPERM, writes nothing and
 * leaves the target as it was (spec: "a call that fails changes no
 * soft-dirty state").
 */
bool may_get_not_clear(pid_t target, const struct outcome *o)
{
	uint64_t after = dirty_of(target);

	diag("  target's marked pages after: %#llx\n", (unsigned long long)after);
	return reported(&o->get, EVEN) && denied(&o->clear, clear_err(EPERM)) && after == EVEN;
}

/*
 * A GET and a GET+CLEAR that may clear: both reported EVEN, and the target
 * is clean (without soft-dirty: the GET reported EVEN, the CLEAR got EINVAL
 * and the target is as it was).
 */
bool cleared(pid_t target, const struct result *get, const struct result *clear)
{
	uint64_t after = dirty_of(target);

	diag("  target's marked pages after: %#llx\n", (unsigned long long)after);
	if (no_sd)
		return reported(get, EVEN) && denied(clear, EINVAL) && after == EVEN;
	return reported(get, EVEN) && reported(clear, EVEN) && !after;
}
