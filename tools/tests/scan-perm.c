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
#include "scan-perm.h"
#include "kselftest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* The region every process here has at the same address (mapped before any fork) */
char *region;
size_t psz, len;

/* Why the kernel has no soft-dirty, or NULL; what marks a target's pages */
const char *no_sd;
uint64_t cat = SD;

void bail(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ksft_exit_fail_msg("%s", msg);
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
