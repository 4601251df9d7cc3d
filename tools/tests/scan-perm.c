// SPDX-License-Identifier: GPL-2.0
/*
 * scan-perm: who may use PAGEMAP_SCAN on whose /proc/<pid>/pagemap.
 *
 *   scan-perm		(as root, no arguments)
 *
 * Every scenario starts target processes whose soft-dirty pages of a small
 * region are exactly the even ones (EVEN), and callers: children that take
 * other uids/gids (1000, 65534), and then open /proc/<target>/pagemap or use
 * a descriptor root opened for them, GET, and GET+CLEAR.  The callers report
 * through a pipe; root then reads the target's soft-dirty pages itself.
 * Checked, with the expected values from shared/docs/pagemap-scan-spec.md
 * where it says them, else from the kernel code (said so where it is done):
 *  - another uid cannot open a process's pagemap (EACCES);
 *  - the right to CLEAR is the opener's, decided at open (the spec's
 *    "caller may not ptrace-attach", PTRACE_MODE_ATTACH_FSCREDS, read as
 *    procfs files decide rights: at open, review of v7): a descriptor root
 *    opened GETs and CLEARs after dropping to another uid, or to root
 *    without CAP_SYS_PTRACE, and on a non-dumpable target;
 *  - the open checks the fs uid, not the real one;
 *  - root without CAP_SYS_PTRACE cannot open another uid's pagemap;
 *  - a process always GETs and CLEARs its own pages, even after dropping
 *    privileges (which makes it non-dumpable);
 *  - a non-dumpable target: its uid cannot open its pagemap; root can CLEAR;
 *  - the same uid can CLEAR a dumpable process (Yama ptrace_scope 0);
 *  - with Yama ptrace_scope 1 a same-uid sibling may open and GET but not
 *    ptrace-attach: CLEAR gets EPERM and changes nothing (SKIP without Yama);
 *  - a kernel thread's pagemap (NULL mm): opens, reads empty, the ioctl
 *    fails with ESRCH and writes nothing, an unknown ioctl gets ENOTTY;
 *  - a target that exited after the open, as a zombie and reaped: ESRCH;
 *  - a thread that exited after its /proc/<pid>/task/<tid>/pagemap was
 *    opened, its process still running: GET and CLEAR still work;
 *  - a target that exec'd after the open: the descriptor does not reach
 *    the new image (ESRCH).
 * A call that fails must write neither vec nor walk_end.
 *
 * On a kernel without CONFIG_MEM_SOFT_DIRTY the targets' marked pages are
 * their present ones (the odd ones are zapped) instead, GETs ask for
 * PAGE_IS_PRESENT, and where a CLEAR is checked it must get EINVAL (spec
 * "Compatibility") and change nothing; the two results about clearing
 * one's own pages skip.
 *
 * Output: kselftest TAP, results per scenario (scenarios[]).
 * Exit: 0 all passed, 1 a check failed, 2 usage, 4 skipped (not root).
 */
#define _GNU_SOURCE
#include "scan.h"
#include "kselftest.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define NPAGES		8
#define ALL		0xffULL	/* every page of the region */
#define EVEN		0x55ULL	/* pages 0, 2, 4, 6: a target's dirty pages */
#define UID_A		1000	/* the targets' uid (and gid) */
#define UID_B		65534	/* another uid (and gid): nobody */
#define PF_KTHREAD	0x00200000	/* include/linux/sched.h */
#define SD		PAGE_IS_SOFTDIRTY
#define BUSYBOX		"/bin/busybox"	/* what a target execs (the guest has it) */
#define CLEAR		PAGEMAP_SOFTDIRTY_CLEAR

/* The region every process here has at the same address (mapped before any fork) */
static char *region;
static size_t psz, len;

/* Why the kernel has no soft-dirty, or NULL; what marks a target's pages */
static const char *no_sd;
static uint64_t cat = SD;

/* ---- scanning ---- */

/* One call on the region and what came of it */
struct result {
	long ret;	/* regions, or -1 */
	int err;	/* errno when ret is -1 */
	uint64_t mask;	/* the pages reported (bit i: page i) */
	bool wrote;	/* vec or walk_end was written */
};

/*
 * GET the pages of the region in category cat through @fd, with @flags (0 or
 * CLEAR).  vec starts as a pattern the kernel never writes, and scan_call()
 * passes walk_end as 0, so that any output of a failed call shows.
 */
static struct result scan_region(int fd, uint64_t flags)
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
static void show(const char *what, const struct result *r)
{
	if (r->ret < 0)
		ksft_print_msg("  %s: %s%s\n", what, strerror(r->err),
			       r->wrote ? ", and it wrote output" : "");
	else
		ksft_print_msg("  %s: %ld regions, pages %#llx\n", what, r->ret,
			       (unsigned long long)r->mask);
}

/* A success that reported exactly the pages @mask */
static bool reported(const struct result *r, uint64_t mask)
{
	return r->ret >= 0 && r->mask == mask;
}

/* A failure with @err that wrote nothing (spec, "Errors") */
static bool denied(const struct result *r, int err)
{
	return r->ret == -1 && r->err == err && !r->wrote;
}

/*
 * The errno a CLEAR refused with @err gets: without soft-dirty every CLEAR
 * gets EINVAL, before any permission check (spec "Compatibility").
 */
static int clear_err(int err)
{
	return no_sd ? EINVAL : err;
}

/* What a result name says of CLEAR: @text, or the EINVAL without soft-dirty */
static const char *clear_says(const char *text)
{
	return no_sd ? "CLEAR gets EINVAL (no soft-dirty) and changes nothing" : text;
}

/* The pages of @pid's region in category cat, read by root: a mask */
static uint64_t dirty_of(pid_t pid)
{
	int fd = scan_open(pid);
	struct result r = scan_region(fd, 0);

	close(fd);
	if (r.ret < 0)
		ksft_exit_fail_msg("root's GET on process %d: %s\n", pid, strerror(r.err));
	return r.mask;
}

/* Make this process's soft-dirty (or present) pages of the region exactly EVEN */
static int mark_even(void)
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

/* ---- identities ---- */

/*
 * Take real uid and gid @r and effective, saved and fs uid and gid @e (the
 * numbers serve as both), no supplementary groups.  Leaving uid 0 for good
 * drops the capabilities and makes the process non-dumpable
 * (fs.suid_dumpable is 0), as it does for any daemon.
 */
static int set_ids(unsigned int r, unsigned int e)
{
	if (setgroups(0, NULL) || setresgid(r, e, e) || setresuid(r, e, e))
		return -1;
	return 0;
}

/* Stay root but lose CAP_SYS_PTRACE (of the effective set) */
static int drop_ptrace_cap(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &hdr, data))
		return -1;
	data[CAP_TO_INDEX(CAP_SYS_PTRACE)].effective &= ~CAP_TO_MASK(CAP_SYS_PTRACE);
	return syscall(SYS_capset, &hdr, data) ? -1 : 0;
}

/*
 * Run @body(@out, @in) in a child (its identity changes are for good) and
 * copy its @size bytes of @out back through a pipe.
 */
static void in_child(void (*body)(void *out, const void *in), const void *in,
		     void *out, size_t size)
{
	int fd;
	pid_t pid = fork_piped(&fd);

	if (!pid) {
		body(out, in);
		_exit(write(fd, out, size) != (ssize_t)size);
	}
	if (read(fd, out, size) != (ssize_t)size)
		ksft_exit_fail_msg("no report from child %d\n", pid);
	close(fd);
	waitpid(pid, NULL, 0);
}

/* ---- targets ---- */

/* Read a child's int report (an errno, 0 for ready); exits on a broken pipe */
static int read_report(int fd, const char *who)
{
	int err;

	if (read(fd, &err, sizeof(err)) != sizeof(err))
		ksft_exit_fail_msg("%s: no report from the child\n", who);
	return err;
}

/* A target's SIGUSR1 handler: exec a program that waits (execve() is async-signal-safe) */
static void exec_sleep(int sig)
{
	char *const argv[] = { "sleep", "1000000", NULL };

	(void)sig;
	execve(BUSYBOX, argv, argv + 2);
	_exit(127);
}

/*
 * Start a target: a child with the region's soft-dirty pages EVEN, running
 * as uid/gid @id (0: stays root), dumpable or not; it waits to be killed,
 * and execs BUSYBOX sleep on SIGUSR1.
 * It marks its pages as root first: the open of its own pagemap then does
 * not depend on what the scenarios test.
 */
static pid_t target_start(unsigned int id, bool dumpable)
{
	int fd, err = 0;
	pid_t pid = fork_piped(&fd);

	if (pid) {
		err = read_report(fd, "target");
		close(fd);
		if (err)
			ksft_exit_fail_msg("target setup: %s\n", strerror(err));
		return pid;
	}
	if (mark_even() || (id && set_ids(id, id)) ||
	    prctl(PR_SET_DUMPABLE, dumpable, 0, 0, 0) || signal(SIGUSR1, exec_sleep) == SIG_ERR)
		err = errno;
	if (write(fd, &err, sizeof(err)) != sizeof(err))
		_exit(1);
	for (;;)
		pause();
}

/* Kill and reap a target (our own child) */
static void target_stop(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* ---- callers ---- */

struct caller {
	unsigned int ruid, euid;	/* ids to take (see set_ids(); 0, 0: stay root) */
	bool no_ptrace_cap;		/* stay root but without CAP_SYS_PTRACE */
	int fd;				/* root's descriptor to scan with, or -1 */
	pid_t target;			/* set by run_caller() */
};

struct outcome {
	int setup_err;		/* errno of taking the identity */
	int open_err;		/* errno of opening /proc/<target>/pagemap, or 0 */
	struct result get, clear;	/* GET, then GET+CLEAR (when there is an fd) */
};

/* The caller's child: take the identity, open, scan (struct caller in, outcome out) */
static void caller_child(void *out, const void *in)
{
	const struct caller *c = in;
	struct outcome *o = out;
	char path[64];
	int fd = c->fd, own;

	memset(o, 0, sizeof(*o));
	if ((c->euid && set_ids(c->ruid, c->euid)) ||
	    (c->no_ptrace_cap && drop_ptrace_cap())) {
		o->setup_err = errno;
		return;
	}
	snprintf(path, sizeof(path), "/proc/%d/pagemap", c->target);
	own = open(path, O_RDONLY);
	if (own < 0)
		o->open_err = errno;
	if (fd < 0)
		fd = own;
	if (fd < 0)
		return;
	o->get = scan_region(fd, 0);
	o->clear = scan_region(fd, CLEAR);
}

/* Run caller @c on @target in a child and return what it saw */
static struct outcome run_caller(pid_t target, struct caller *c)
{
	struct outcome o;

	c->target = target;
	in_child(caller_child, c, &o, sizeof(o));
	if (o.setup_err)
		ksft_exit_fail_msg("caller: taking uid %u/%u: %s\n", c->ruid, c->euid,
				   strerror(o.setup_err));
	ksft_print_msg("  caller uid %u/%u%s: open %s\n", c->ruid, c->euid,
		       c->no_ptrace_cap ? " without CAP_SYS_PTRACE" : "",
		       o.open_err ? strerror(o.open_err) : "ok");
	if (c->fd >= 0 || !o.open_err) {
		show("GET", &o.get);
		show("GET+CLEAR", &o.clear);
	}
	return o;
}

/*
 * A caller that may GET with root's descriptor of @target but not CLEAR:
 * GET reports EVEN (opening checked the permission: the spec's errno table
 * has nothing for a GET), GET+CLEAR fails with EPERM, writes nothing and
 * leaves the target as it was (spec: "a call that fails changes no
 * soft-dirty state").
 */
static bool may_get_not_clear(pid_t target, const struct outcome *o)
{
	uint64_t after = dirty_of(target);

	ksft_print_msg("  target's marked pages after: %#llx\n", (unsigned long long)after);
	return reported(&o->get, EVEN) && denied(&o->clear, clear_err(EPERM)) && after == EVEN;
}

/*
 * A GET and a GET+CLEAR that may clear: both reported EVEN, and the target
 * is clean (without soft-dirty: the GET reported EVEN, the CLEAR got EINVAL
 * and the target is as it was).
 */
static bool cleared(pid_t target, const struct result *get, const struct result *clear)
{
	uint64_t after = dirty_of(target);

	ksft_print_msg("  target's marked pages after: %#llx\n", (unsigned long long)after);
	if (no_sd)
		return reported(get, EVEN) && denied(clear, EINVAL) && after == EVEN;
	return reported(get, EVEN) && reported(clear, EVEN) && !after;
}

/* ---- scenarios ---- */

/*
 * Another uid cannot open a process's pagemap, so it has nothing to scan
 * with.  EACCES: the spec is silent on open, so it is what pagemap's open
 * already does (fs/proc/base.c proc_mem_open(): mm_access() gives EACCES
 * when ptrace_may_access(PTRACE_MODE_READ_FSCREDS) fails; the 0400 mode of
 * the file gives the same before it).
 */
static void other_uid_open(void)
{
	struct caller c = { .ruid = UID_B, .euid = UID_B, .fd = -1 };
	unsigned int ids[] = { 0, UID_A };
	struct outcome o;
	size_t i;
	pid_t t;

	for (i = 0; i < 2; i++) {
		t = target_start(ids[i], true);
		o = run_caller(t, &c);
		ksft_test_result(o.open_err == EACCES,
				 "uid %u cannot open the pagemap of a uid %u process: EACCES\n",
				 UID_B, ids[i]);
		target_stop(t);
	}
}

/*
 * Root opens the pagemap of a uid 1000 process and drops to 65534 before
 * using it: uid 65534 could not open it itself (EACCES), but the right to
 * CLEAR was decided at root's open: GET and CLEAR work.
 */
static void dropped_after_open(void)
{
	pid_t t = target_start(UID_A, true);
	struct caller c = { .ruid = UID_B, .euid = UID_B, .fd = scan_open(t) };
	struct outcome o = run_caller(t, &c);

	ksft_test_result(o.open_err == EACCES && cleared(t, &o.get, &o.clear),
			 "opened by root, used as uid %u on a uid %u process: GET works, %s\n",
			 UID_B, UID_A, clear_says("CLEAR works (the opener's right)"));
	close(c.fd);
	target_stop(t);
}

/*
 * The open checks the fs uid/gid (PTRACE_MODE_READ_FSCREDS, and the right
 * to CLEAR PTRACE_MODE_ATTACH_FSCREDS), not the real ones: real = the
 * target's, fs = another cannot open; fs = the target's, real = another
 * opens and may CLEAR.
 */
static void fs_credentials(void)
{
	struct caller refused = { .ruid = UID_A, .euid = UID_B, .fd = -1 };
	struct caller allowed = { .ruid = UID_B, .euid = UID_A, .fd = -1 };
	struct outcome o;
	pid_t t;

	t = target_start(UID_A, true);
	o = run_caller(t, &refused);
	ksft_test_result(o.open_err == EACCES && dirty_of(t) == EVEN,
			 "real uid = the target's, fs uid %u: the open gets EACCES\n", UID_B);
	target_stop(t);

	t = target_start(UID_A, true);
	o = run_caller(t, &allowed);
	ksft_test_result(!o.open_err && cleared(t, &o.get, &o.clear),
			 "fs uid = the target's, real uid %u: GET works, %s\n",
			 UID_B, clear_says("CLEAR works and the target is clean"));
	target_stop(t);
}

/*
 * uid 0 is not enough: opening another uid's pagemap takes CAP_SYS_PTRACE.
 * A descriptor root opened with it keeps working without it.
 */
static void root_without_cap(void)
{
	pid_t t = target_start(UID_A, true);
	struct caller c = { .ruid = 0, .euid = 0, .no_ptrace_cap = true, .fd = -1 };
	struct outcome o = run_caller(t, &c);

	ksft_test_result(o.open_err == EACCES && dirty_of(t) == EVEN,
			 "root without CAP_SYS_PTRACE cannot open a uid %u process's pagemap: EACCES\n",
			 UID_A);
	c.fd = scan_open(t);
	o = run_caller(t, &c);
	ksft_test_result(cleared(t, &o.get, &o.clear),
			 "root's descriptor used without CAP_SYS_PTRACE: GET works, %s\n",
			 clear_says("CLEAR works (the opener's right)"));
	close(c.fd);
	target_stop(t);
}

/* What own_after_drop()'s child saw */
struct own {
	int setup_err;
	int dumpable;			/* after dropping to uid 65534 */
	struct result first, get, clear, after;
};

/* Open our pagemap as root, drop to 65534, then GET and CLEAR our own pages */
static void own_child(void *out, const void *in)
{
	struct own *o = out;
	int fd = scan_open(0);
	size_t i;

	(void)in;
	memset(o, 0, sizeof(*o));
	if (set_ids(UID_B, UID_B)) {
		o->setup_err = errno;
		return;
	}
	o->dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
	for (i = 0; i < NPAGES; i++)
		region[i * psz] = 1;
	o->first = scan_region(fd, CLEAR);
	for (i = 0; i < NPAGES; i += 2)
		region[i * psz] = 2;
	o->get = scan_region(fd, 0);
	o->clear = scan_region(fd, CLEAR);
	o->after = scan_region(fd, 0);
}

/*
 * "A process may always clear its own" (spec, EPERM): also after it dropped
 * privileges after the open, which also made it non-dumpable.
 */
static void own_after_drop(void)
{
	struct own o;

	if (no_sd) {
		ksft_test_result_skip("own pagemap used after dropping privileges: CLEAR: %s\n",
				      no_sd);
		ksft_test_result_skip("own pagemap used after dropping privileges: GET of "
				      "the pages written since a CLEAR: %s\n", no_sd);
		return;
	}
	in_child(own_child, NULL, &o, sizeof(o));
	if (o.setup_err)
		ksft_exit_fail_msg("own: taking uid %u: %s\n", UID_B, strerror(o.setup_err));
	ksft_print_msg("  own, as uid %u (dumpable %d):\n", UID_B, o.dumpable);
	show("GET+CLEAR of all pages written", &o.first);
	show("GET after writing the even ones", &o.get);
	show("GET+CLEAR", &o.clear);
	show("GET after", &o.after);
	ksft_test_result(reported(&o.first, ALL) && reported(&o.clear, EVEN),
			 "own pagemap opened as root, used as uid %u (non-dumpable): CLEAR works\n",
			 UID_B);
	ksft_test_result(reported(&o.get, EVEN) && reported(&o.after, 0),
			 "own pagemap used as uid %u: GET reports exactly the pages written since the last CLEAR\n",
			 UID_B);
}

/*
 * A non-dumpable process of uid 1000: uid 1000 cannot open its pagemap
 * (EACCES, from the code as in other_uid_open(): ptrace_may_access() fails
 * on a non-dumpable mm without CAP_SYS_PTRACE), but may use a descriptor
 * root opened (the opener's right); root can CLEAR.
 */
static void non_dumpable(void)
{
	pid_t t = target_start(UID_A, false);
	struct caller c = { .ruid = UID_A, .euid = UID_A, .fd = -1 };
	struct outcome o = run_caller(t, &c);
	struct result get, r;

	ksft_test_result(o.open_err == EACCES,
			 "uid %u cannot open the pagemap of its non-dumpable process: EACCES\n", UID_A);
	c.fd = scan_open(t);
	o = run_caller(t, &c);
	ksft_test_result(cleared(t, &o.get, &o.clear),
			 "root's descriptor used as uid %u on its non-dumpable process: GET works, %s\n",
			 UID_A, clear_says("CLEAR works (the opener's right)"));
	close(c.fd);
	target_stop(t);

	t = target_start(UID_A, false);
	c.fd = scan_open(t);
	get = scan_region(c.fd, 0);
	r = scan_region(c.fd, CLEAR);
	show("root's GET", &get);
	show("root's GET+CLEAR", &r);
	ksft_test_result(cleared(t, &get, &r),
			 "root (CAP_SYS_PTRACE) on a non-dumpable process: GET works, %s\n",
			 clear_says("CLEAR works and the target is clean"));
	close(c.fd);
	target_stop(t);
}

/* Yama's ptrace_scope >= 1 lets only ancestors attach: why, or NULL */
static const char *yama_restricts(void)
{
	FILE *f = fopen("/proc/sys/kernel/yama/ptrace_scope", "r");
	int scope = 0;

	if (!f)
		return NULL;
	if (fscanf(f, "%d", &scope) != 1)
		scope = 0;
	fclose(f);
	return scope ? "Yama ptrace_scope is not 0: a sibling may not attach" : NULL;
}

/* A process that may ptrace-attach (same uid, dumpable) can CLEAR another */
static void same_uid(void)
{
	struct caller c = { .ruid = UID_A, .euid = UID_A, .fd = -1 };
	const char *why = yama_restricts();
	struct outcome o;
	pid_t t;

	if (why) {
		ksft_test_result_skip("same uid CLEARs another dumpable process: %s\n", why);
		return;
	}
	t = target_start(UID_A, true);
	o = run_caller(t, &c);
	ksft_test_result(!o.open_err && cleared(t, &o.get, &o.clear),
			 "uid %u opens its dumpable process's pagemap, GET works, %s\n", UID_A,
			 clear_says("CLEAR works and the target is clean"));
	target_stop(t);
}

#define YAMA_SCOPE	"/proc/sys/kernel/yama/ptrace_scope"

/* Write @val to Yama's ptrace_scope, saving the old value in @old (if not NULL) */
static bool yama_set(const char *val, char *old, size_t len)
{
	FILE *f = fopen(YAMA_SCOPE, old ? "r+" : "w");
	bool ok = f != NULL;

	if (ok && old)
		ok = fgets(old, len, f) && !fseek(f, 0, SEEK_SET);
	if (ok)
		ok = fputs(val, f) >= 0;
	if (f && fclose(f))
		ok = false;
	return ok;
}

/*
 * Yama's ptrace_scope 1 lets only an ancestor ptrace-attach, and does not
 * restrict reading: a same-uid sibling opens the target's pagemap and GETs,
 * but it may not ptrace-attach, so CLEAR gets EPERM (spec) and changes
 * nothing.  The only way a pagemap that opens refuses CLEAR.
 */
static void yama_sibling(void)
{
	struct caller c = { .ruid = UID_A, .euid = UID_A, .fd = -1 };
	char old[16];
	struct outcome o;
	pid_t t;

	if (access(YAMA_SCOPE, F_OK)) {
		ksft_test_result_skip("Yama ptrace_scope 1: no %s (CONFIG_SECURITY_YAMA)\n",
				      YAMA_SCOPE);
		return;
	}
	t = target_start(UID_A, true);
	if (!yama_set("1", old, sizeof(old)))
		ksft_exit_fail_msg("cannot set %s: %s\n", YAMA_SCOPE, strerror(errno));
	o = run_caller(t, &c);
	if (!yama_set(old, NULL, 0))
		ksft_exit_fail_msg("cannot restore %s: %s\n", YAMA_SCOPE, strerror(errno));
	ksft_test_result(!o.open_err && may_get_not_clear(t, &o),
			 "Yama ptrace_scope 1, a uid %u sibling: GET works, %s\n", UID_A,
			 clear_says("CLEAR gets EPERM and changes nothing"));
	target_stop(t);
}

/* Whether pid 2 is a kernel thread without an mm: why not, or NULL */
static const char *not_kthread(void)
{
	char line[256], *p;
	unsigned int flags = 0;
	bool vm = false;
	FILE *f = fopen("/proc/2/status", "r");

	if (!f)
		return "no /proc/2/status";
	while (fgets(line, sizeof(line), f))
		vm |= !strncmp(line, "VmSize:", 7);
	fclose(f);
	f = fopen("/proc/2/stat", "r");
	if (!f || !fgets(line, sizeof(line), f) || !(p = strrchr(line, ')')) ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %u", &flags) != 1)
		flags = 0;
	if (f)
		fclose(f);
	if (vm)
		return "/proc/2/status has VmSize: pid 2 has an mm";
	return flags & PF_KTHREAD ? NULL : "pid 2 is not a kernel thread";
}

/*
 * kthreadd's pagemap: the spec's ESRCH ("the target's address space is
 * gone"; a kernel thread has none) for the ioctl, and a call that fails
 * writes nothing.  That the open works and a read returns 0 bytes is what
 * pagemap already does (proc_mem_open() gives a NULL mm, pagemap_read()
 * returns 0 for it): from the code.  ENOTTY for a number the file does not
 * handle: the spec.
 */
static void kernel_thread(void)
{
	const char *why = not_kthread();
	struct pagemap_scan_arg arg = { .size = sizeof(arg) };
	struct result get, clear;
	uint64_t entry;
	ssize_t n;
	int fd;

	if (why) {
		for (n = 0; n < 4; n++)
			ksft_test_result_skip("kernel thread: %s\n", why);
		return;
	}
	fd = open("/proc/2/pagemap", O_RDONLY);
	if (fd < 0) {
		ksft_print_msg("  open /proc/2/pagemap: %s\n", strerror(errno));
		ksft_test_result_fail("kernel thread (code): its pagemap opens and reads 0 bytes\n");
		for (n = 0; n < 3; n++)
			ksft_test_result_skip("kernel thread: no descriptor\n");
		return;
	}
	n = read(fd, &entry, sizeof(entry));
	ksft_print_msg("  read: %zd\n", n);
	ksft_test_result(n == 0, "kernel thread (code): its pagemap opens and reads 0 bytes\n");
	get = scan_region(fd, 0);
	clear = scan_region(fd, CLEAR);
	show("GET", &get);
	show("GET+CLEAR", &clear);
	ksft_test_result(denied(&get, ESRCH),
			 "kernel thread (spec): GET gets ESRCH and writes nothing\n");
	ksft_test_result(denied(&clear, ESRCH),
			 "kernel thread (spec): CLEAR gets ESRCH and writes nothing\n");
	n = ioctl(fd, _IOWR('f', _IOC_NR(PAGEMAP_SCAN) + 1, struct pagemap_scan_arg), &arg);
	ksft_test_result(n == -1 && errno == ENOTTY,
			 "kernel thread (spec): an unknown ioctl number gets ENOTTY\n");
	close(fd);
}

/* GET and CLEAR through @fd fail with ESRCH and write nothing */
static bool gone(int fd)
{
	struct result get = scan_region(fd, 0), clear = scan_region(fd, CLEAR);

	show("GET", &get);
	show("GET+CLEAR", &clear);
	return denied(&get, ESRCH) && denied(&clear, ESRCH);
}

/* The state letter of /proc/<pid>/stat, or '?' */
static char proc_state(pid_t pid)
{
	char path[64], line[256], *p, state = '?';
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (f && fgets(line, sizeof(line), f) && (p = strrchr(line, ')')))
		state = p[2];
	if (f)
		fclose(f);
	return state;
}

/*
 * A target that exited after root opened its pagemap: its address space
 * is gone (spec: ESRCH), whether it is a zombie or reaped.
 */
static void exited(void)
{
	pid_t t = target_start(UID_A, true);
	int fd = scan_open(t);
	siginfo_t si;

	kill(t, SIGKILL);
	/* Wait for the exit without reaping */
	if (waitid(P_PID, t, &si, WEXITED | WNOWAIT))
		ksft_exit_fail_msg("waitid: %s\n", strerror(errno));
	ksft_print_msg("  target state: %c\n", proc_state(t));
	ksft_test_result(proc_state(t) == 'Z' && gone(fd),
			 "target exited after the open, a zombie: GET and CLEAR get ESRCH\n");
	waitpid(t, NULL, 0);
	ksft_test_result(gone(fd), "target exited after the open, reaped: GET and CLEAR get ESRCH\n");
	close(fd);
}

/* Whether @pid runs BUSYBOX now (its exec is done); waits up to 5 s */
static bool runs_busybox(pid_t pid)
{
	char path[64], exe[256];
	ssize_t n = -1;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	for (i = 0; i < 5000; i++) {
		n = readlink(path, exe, sizeof(exe) - 1);
		if (n > 0) {
			exe[n] = '\0';
			if (!strcmp(exe, BUSYBOX))
				return true;
		}
		usleep(1000);
	}
	ksft_print_msg("  %s: %s\n", path, n > 0 ? exe : strerror(errno));
	return false;
}

/*
 * A target that exec'd after root opened its pagemap: the descriptor holds
 * the address space it was opened on (proc_mem_open() pins the mm, as for
 * /proc/<pid>/mem), which exec dropped: GET and CLEAR get ESRCH (spec: the
 * target's address space is gone) and do not reach the new image.  That it
 * is the old one, not the new, is from the code: the spec says nothing of
 * exec.  A setuid exec is the case this protects.
 */
static void exec_after_open(void)
{
	pid_t t = target_start(UID_A, true);
	int fd = scan_open(t);

	kill(t, SIGUSR1);
	ksft_test_result(runs_busybox(t) && gone(fd),
			 "target exec'd after the open: GET and CLEAR get ESRCH, not the new image\n");
	close(fd);
	target_stop(t);
}

/* The tid of thread_target()'s second thread, once it runs */
static pid_t short_tid;

/* thread_target()'s second thread: publish its tid, exit when told */
static void *short_thread(void *arg)
{
	int order = *(int *)arg;
	char c;

	__atomic_store_n(&short_tid, gettid(), __ATOMIC_RELEASE);
	if (read(order, &c, 1) < 0)
		_exit(1);
	return NULL;
}

/*
 * Start a root target with a second thread, which exits when a byte
 * arrives on *order; *tid receives its tid.  The pages are marked EVEN
 * after the thread started: its stack mapping may merge with the region,
 * and a merge sets VM_SOFTDIRTY on the whole VMA.
 */
static pid_t thread_target(pid_t *tid, int *order)
{
	int fd, order_fds[2];
	pthread_t thread;
	pid_t pid;

	if (pipe(order_fds))
		fail("pipe");
	pid = fork_piped(&fd);
	if (pid) {
		close(order_fds[0]);
		*order = order_fds[1];
		*tid = read_report(fd, "thread target");
		close(fd);
		return pid;
	}
	if (pthread_create(&thread, NULL, short_thread, &order_fds[0]))
		_exit(1);
	while (!__atomic_load_n(&short_tid, __ATOMIC_ACQUIRE))
		usleep(100);
	if (mark_even() || write(fd, &short_tid, sizeof(short_tid)) != sizeof(short_tid))
		_exit(1);
	for (;;)
		pause();
}

/*
 * /proc/<pid>/task/<tid>/pagemap opened by root, then the thread exits
 * while its process runs on: the address space is not gone (no ESRCH,
 * spec) and root could ptrace-attach to the process when it opened the
 * file (no EPERM): GET and CLEAR work.
 */
static void thread_exited(void)
{
	char path[80];
	struct result get, clear;
	int fd, order, i;
	pid_t tid, t = thread_target(&tid, &order);

	snprintf(path, sizeof(path), "/proc/%d/task/%d/pagemap", t, tid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		ksft_exit_fail_msg("open %s: %s\n", path, strerror(errno));
	if (write(order, "x", 1) != 1)
		fail("write to the thread target");
	snprintf(path, sizeof(path), "/proc/%d/task/%d", t, tid);
	for (i = 0; i < 5000 && !access(path, F_OK); i++)
		usleep(1000);
	ksft_print_msg("  thread %d of %d %s\n", tid, t,
		       access(path, F_OK) ? "is gone" : "is still there");
	get = scan_region(fd, 0);
	clear = scan_region(fd, CLEAR);
	show("GET", &get);
	show("GET+CLEAR", &clear);
	ksft_test_result(access(path, F_OK) && cleared(t, &get, &clear),
			 "thread exited after its pagemap was opened, process alive: GET works, %s\n",
			 clear_says("CLEAR (root) works and the target is clean"));
	close(fd);
	close(order);
	target_stop(t);
}

static const struct {
	void (*fn)(void);
	unsigned int results;
} scenarios[] = {
	{ other_uid_open, 2 },
	{ dropped_after_open, 1 },
	{ fs_credentials, 2 },
	{ root_without_cap, 2 },
	{ own_after_drop, 2 },
	{ non_dumpable, 3 },
	{ same_uid, 1 },
	{ yama_sibling, 1 },
	{ kernel_thread, 4 },
	{ exited, 2 },
	{ exec_after_open, 1 },
	{ thread_exited, 1 },
};

int main(int argc, char **argv)
{
	unsigned int i, plan = 0;
	uint64_t t0 = now();

	if (argc > 1) {
		fprintf(stderr, "error: unexpected argument '%s'\nusage: %s (as root, no arguments)\n",
			argv[1], argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	ksft_print_header();
	if (geteuid())
		ksft_exit_skip("needs root: it takes other uids\n");
	psz = sysconf(_SC_PAGESIZE);
	len = NPAGES * psz;
	region = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (region == MAP_FAILED)
		fail("mmap");
	/* Without soft-dirty the scenarios check present pages (see the top) */
	no_sd = scan_clear_unsupported();
	if (no_sd) {
		struct result r;
		int fd = scan_open(0);

		cat = PAGE_IS_PRESENT;
		r = scan_region(fd, 0);
		close(fd);
		if (r.ret < 0)
			ksft_exit_skip("%s: %s\n", no_sd, strerror(r.err));
		ksft_print_msg("%s: the targets' marked pages are their present ones\n", no_sd);
	}
	for (i = 0; i < ARRAY_SIZE(scenarios); i++)
		plan += scenarios[i].results;
	ksft_set_plan(plan);
	for (i = 0; i < ARRAY_SIZE(scenarios); i++)
		scenarios[i].fn();
	ksft_print_msg("run time %.2f s\n", (now() - t0) / 1e9);
	ksft_finished();
}
