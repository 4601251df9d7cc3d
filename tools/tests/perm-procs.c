// SPDX-License-Identifier: GPL-2.0
/* scan-perm: the processes: identities, targets and callers, each a child */
#define _GNU_SOURCE
#include "scan-perm.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- identities ---- */

/*
 * Take real uid and gid @r and effective, saved and fs uid and gid @e (the
 * numbers serve as both), no supplementary groups.  Leaving uid 0 for good
 * drops the capabilities and makes the process non-dumpable
 * (fs.suid_dumpable is 0), as it does for any daemon.
 */
int set_ids(unsigned int r, unsigned int e)
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
void in_child(void (*body)(void *out, const void *in), const void *in,
	      void *out, size_t size)
{
	int fd;
	pid_t pid = fork_piped(&fd);

	if (!pid) {
		body(out, in);
		_exit(write(fd, out, size) != (ssize_t)size);
	}
	if (read(fd, out, size) != (ssize_t)size)
		bail("no report from child %d\n", pid);
	close(fd);
	waitpid(pid, NULL, 0);
}

/* ---- targets ---- */

/* Read a child's int report (an errno, 0 for ready); exits on a broken pipe */
static int read_report(int fd, const char *who)
{
	int err;

	if (read(fd, &err, sizeof(err)) != sizeof(err))
		bail("%s: no report from the child\n", who);
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
pid_t target_start(unsigned int id, bool dumpable)
{
	int fd, err = 0;
	pid_t pid = fork_piped(&fd);

	if (pid) {
		err = read_report(fd, "target");
		close(fd);
		if (err)
			bail("target setup: %s\n", strerror(err));
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
void target_stop(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* ---- callers ---- */


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
struct outcome run_caller(pid_t target, struct caller *c)
{
	struct outcome o;

	c->target = target;
	in_child(caller_child, c, &o, sizeof(o));
	if (o.setup_err)
		bail("caller: taking uid %u/%u: %s\n", c->ruid, c->euid,
		     strerror(o.setup_err));
	diag("  caller uid %u/%u%s: open %s\n", c->ruid, c->euid,
	     c->no_ptrace_cap ? " without CAP_SYS_PTRACE" : "",
	     o.open_err ? strerror(o.open_err) : "ok");
	if (c->fd >= 0 || !o.open_err) {
		show("GET", &o.get);
		show("GET+CLEAR", &o.clear);
	}
	return o;
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
pid_t thread_target(pid_t *tid, int *order)
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
