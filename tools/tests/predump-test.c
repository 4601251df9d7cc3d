// SPDX-License-Identifier: GPL-2.0
/*
 * predump-test: incremental pre-dumps of a running process with predump, and
 * an exact restore check.
 *
 *   predump-test [--predump PATH] [--mib N] [--iters N] [--budget N]
 *                [--seed S] [--dir DIR]
 *
 * A target (a forked child) maps an N MiB anonymous region (default 64,
 * MADV_NOHUGEPAGE) and a 4 MiB MADV_HUGEPAGE one, writes every page, then
 * keeps writing 8 random bytes to random pages (xorshift, seed S; one write
 * in 64 to the THP region; bursts of 8 writes), and every 256 writes pushes
 * a random 256 KiB of the region out to swap (MADV_PAGEOUT).  It writes at most --budget pages
 * (default 1024) per epoch; the test starts an epoch before each iteration,
 * so the writes race with the dumps but stay few.
 * Checked, in TAP:
 *  - predump rejects bad arguments with a message and exit 2, and an unknown
 *    pid with "no process" and exit 2;
 *  - --iters (default 5) iterations while the target runs, the first full,
 *    each later one with the previous as parent, succeed (odd ones with a
 *    2-entry vec, so walk_end resumes are exercised); the restore check
 *    refuses to compare with the running target (exit 1);
 *  - after the target wrote again and was stopped (SIGSTOP), the restore
 *    check of the chain without a last iteration finds the difference (the
 *    check can fail), a last iteration while stopped succeeds, and the
 *    restore check of the whole chain matches byte for byte;
 *  - every incremental iteration wrote less than a quarter of the bytes of
 *    the full dump (a table with the ratios is printed).
 * predump is --predump, else the predump next to this program, else the one
 * in PATH.  Images go to DIR (default /tmp/predump-test.XXXXXX), removed at
 * the end.  Run as root (predump clears soft-dirty bits of another process).
 * SKIP (all) when the kernel has no PAGEMAP_SCAN or rejects CLEAR.
 * Exit: 0 all passed (or skipped), 1 a check failed, 2 usage.
 */
#define _GNU_SOURCE
#include "scan.h"
#include "kselftest.h"

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define HUGE_SIZE	(2UL << 20)
#define THP_SIZE	(2 * HUGE_SIZE)
#define PAGEOUT_EVERY	256	/* writes */
#define PAGEOUT_SIZE	(256UL << 10)
#define OUT_MAX		4096	/* output of a predump run kept */
#define MAX_ITERS	100

static const char *predump = "predump";
static size_t mib = 64, iters = 5, budget = 1024;
static uint64_t seed = 1;
static char root[PATH_MAX - 64] = "/tmp/predump-test.XXXXXX";
static bool root_given;
static size_t psz;

/* What the test and the target share (MAP_SHARED: not in the dumps) */
struct shared {
	uint64_t epoch;		/* the test starts one before an iteration */
	uint64_t writes;	/* by the target, in all */
};
static struct shared *sh;

/* Per iteration: its guest time, and the target's writes while it ran */
static uint64_t iter_ns[MAX_ITERS + 2], iter_writes[MAX_ITERS + 2];

/* ---- the target ---- */

static char *map_area(size_t len, size_t align, int advice)
{
	char *p = mmap(NULL, len + align, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		fail("mmap a target region");
	if (align)
		p = (char *)(((uintptr_t)p + align - 1) & ~(align - 1));
	if (madvise(p, len, advice) && errno != EINVAL)
		fail("madvise a target region");
	return p;
}

static void fill(char *p, size_t len, uint64_t *rnd)
{
	size_t off;

	for (off = 0; off < len; off += sizeof(uint64_t))
		*(uint64_t *)(p + off) = xorshift(rnd);
}

/* Write 8 random bytes into a random page of [p, p + len) */
static void write_random(char *p, size_t len, uint64_t *rnd)
{
	size_t off = xorshift(rnd) % (len / sizeof(uint64_t)) * sizeof(uint64_t);

	*(volatile uint64_t *)(p + off) = xorshift(rnd);
}

/* Write at most budget pages an epoch, a little at a time, until killed */
static void __attribute__((noreturn)) target(int ready)
{
	size_t len = mib << 20, n = 0, off;
	char *region = map_area(len, 0, MADV_NOHUGEPAGE);
	char *thp = map_area(THP_SIZE, HUGE_SIZE, MADV_HUGEPAGE);
	uint64_t rnd = seed, epoch = 0, e;

	/* Do not outlive a test that exits early */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL))
		fail("prctl(PR_SET_PDEATHSIG)");
	fill(region, len, &rnd);
	fill(thp, THP_SIZE, &rnd);
	if (write(ready, "r", 1) != 1)
		fail("tell the test the target is ready");
	for (;;) {
		e = __atomic_load_n(&sh->epoch, __ATOMIC_ACQUIRE);
		if (e != epoch) {
			epoch = e;
			n = 0;
		}
		if (n >= budget) {
			usleep(1000);
			continue;
		}
		if (xorshift(&rnd) % 64)
			write_random(region, len, &rnd);
		else
			write_random(thp, THP_SIZE, &rnd);
		__atomic_add_fetch(&sh->writes, 1, __ATOMIC_RELEASE);
		if (++n % PAGEOUT_EVERY == 0) {
			off = xorshift(&rnd) % (len / PAGEOUT_SIZE) * PAGEOUT_SIZE;
			madvise(region + off, PAGEOUT_SIZE, MADV_PAGEOUT);
		}
		/* Bursts of 8: fast enough to race with the scans and copies */
		if (n % 8 == 0)
			usleep(100);
	}
}

static pid_t start_target(void)
{
	int fd;
	char c;
	pid_t pid;

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		fail("mmap the shared page");
	pid = fork_piped(&fd);
	if (!pid)
		target(fd);
	if (read(fd, &c, 1) != 1)
		ksft_exit_fail_msg("the target died before it was ready\n");
	close(fd);
	return pid;
}

static void new_epoch(void)
{
	__atomic_add_fetch(&sh->epoch, 1, __ATOMIC_RELEASE);
}

/* Wait until the target has written since @writes (10 s at most) */
static bool wait_writes(uint64_t writes)
{
	int i;

	for (i = 0; i < 10000; i++) {
		if (__atomic_load_n(&sh->writes, __ATOMIC_ACQUIRE) > writes)
			return true;
		usleep(1000);
	}
	return false;
}

static void stop_target(pid_t pid)
{
	int status;

	if (kill(pid, SIGSTOP) || waitpid(pid, &status, WUNTRACED) != pid ||
	    !WIFSTOPPED(status))
		ksft_exit_fail_msg("could not stop the target\n");
}

/* ---- running predump ---- */

/* Run predump with @args (NULL-terminated); its output in @out; exit code or -1 */
static int run(const char *const *args, char *out)
{
	const char *argv[16] = { predump };
	size_t i, len = 0;
	int fd, status;
	ssize_t n;
	pid_t pid;

	for (i = 0; args[i] && i + 2 < sizeof(argv) / sizeof(argv[0]); i++)
		argv[i + 1] = args[i];
	pid = fork_piped(&fd);
	if (!pid) {
		dup2(fd, 1);
		dup2(fd, 2);
		execvp(predump, (char **)argv);
		fprintf(stderr, "error: exec %s: %s\n", predump, strerror(errno));
		_exit(127);
	}
	while ((n = read(fd, out + len, OUT_MAX - 1 - len)) > 0)
		len += n;
	out[len] = '\0';
	close(fd);
	if (waitpid(pid, &status, 0) != pid)
		fail("waitpid predump");
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Print predump's output as TAP diagnostics */
static void show(const char *out)
{
	const char *p = out, *nl;

	while (*p) {
		nl = strchrnul(p, '\n');
		ksft_print_msg("  %.*s\n", (int)(nl - p), p);
		p = *nl ? nl + 1 : nl;
	}
}

static const char *image(size_t iter)
{
	static char bufs[2][PATH_MAX];
	char *buf = bufs[iter % 2];

	if (iter > iters)
		snprintf(buf, PATH_MAX, "%s/final", root);
	else
		snprintf(buf, PATH_MAX, "%s/iter%zu", root, iter);
	return buf;
}

/* ---- the checks ---- */

/* A bad command line: exit 2 and a message containing @expect */
static void test_bad_args(const char *name, const char *const *args, const char *expect)
{
	char out[OUT_MAX];
	int rc = run(args, out);

	if (rc == 2 && strstr(out, expect)) {
		ksft_test_result_pass("bad arguments rejected with exit 2: %s\n", name);
		return;
	}
	show(out);
	ksft_test_result_fail("bad arguments rejected with exit 2: %s (exit %d, "
			      "expected a message with '%s')\n", name, rc, expect);
}

static const struct {
	const char *name;
	const char *args[8];
	const char *expect;
} bad_args[] = {
	{ "no arguments", { NULL }, "--pid is required" },
	{ "unknown option", { "--pid", "1", "--dir", "/tmp/x", "--bogus", "1", NULL },
	  "unknown argument" },
	{ "--pid not a number", { "--pid", "abc", "--dir", "/tmp/x", NULL }, "--pid" },
	{ "--dir missing", { "--pid", "1", NULL }, "--dir is required" },
	{ "--pid without value", { "--dir", "/tmp/x", "--pid", NULL }, "missing value" },
	{ "--vec 0", { "--pid", "1", "--dir", "/tmp/x", "--vec", "0", NULL }, "--vec" },
	{ "--parent not an image", { "--pid", "1", "--dir", "/tmp/predump-test-none",
	  "--parent", "/proc", NULL }, "--parent" },
};
#define NR_BAD_ARGS (sizeof(bad_args) / sizeof(bad_args[0]))

/* A pid that is not in use: the pid of a child that was reaped */
static void test_unknown_pid(void)
{
	const char *args[] = { "--pid", NULL, "--dir", image(0), NULL };
	char out[OUT_MAX], num[32];
	pid_t pid = fork();
	int rc;

	if (pid < 0)
		fail("fork");
	if (!pid)
		_exit(0);
	waitpid(pid, NULL, 0);
	snprintf(num, sizeof(num), "%d", pid);
	args[1] = num;
	rc = run(args, out);
	if (rc == 2 && strstr(out, "no process")) {
		ksft_test_result_pass("unknown pid rejected with exit 2\n");
		return;
	}
	show(out);
	ksft_test_result_fail("unknown pid rejected with exit 2 (exit %d)\n", rc);
}

/* One iteration (iters + 1: the last one, while stopped); its bytes in *@bytes */
static bool iteration(pid_t pid, size_t iter, uint64_t *bytes)
{
	const char *args[] = { "--pid", NULL, "--dir", NULL, "--vec", iter % 2 ? "2" : "512",
			       iter > 1 ? "--parent" : NULL, NULL, NULL };
	unsigned long long n = 0;
	char out[OUT_MAX], num[32], dir[PATH_MAX], *p;
	int rc;

	snprintf(num, sizeof(num), "%d", pid);
	snprintf(dir, sizeof(dir), "%s", image(iter));
	args[1] = num;
	args[3] = dir;
	args[7] = image(iter - 1);
	iter_ns[iter] = now();
	iter_writes[iter] = __atomic_load_n(&sh->writes, __ATOMIC_ACQUIRE);
	rc = run(args, out);
	iter_ns[iter] = now() - iter_ns[iter];
	iter_writes[iter] = __atomic_load_n(&sh->writes, __ATOMIC_ACQUIRE) - iter_writes[iter];
	show(out);
	p = strstr(out, " bytes ");
	if (rc || !p || sscanf(p, " bytes %llu", &n) != 1) {
		ksft_test_result_fail("predump iteration %zu%s (exit %d)\n", iter,
				      iter > iters ? " while stopped" : "", rc);
		return false;
	}
	ksft_test_result_pass("predump iteration %zu%s\n", iter,
			      iter > iters ? " while stopped" : " while the target writes");
	*bytes = n;
	return true;
}

/* predump --check of the chain ending at @iter must exit @expect, saying @says */
static void test_check(pid_t pid, size_t iter, int expect, const char *says, const char *name)
{
	const char *args[] = { "--check", "--pid", NULL, "--dir", image(iter), NULL };
	char out[OUT_MAX], num[32];
	int rc;

	snprintf(num, sizeof(num), "%d", pid);
	args[2] = num;
	rc = run(args, out);
	show(out);
	ksft_test_result(rc == expect && strstr(out, says), "%s (exit %d, expected %d)\n",
			 name, rc, expect);
}

/* @done[i]: iteration i succeeded, with @bytes[i] bytes */
static void test_ratios(const uint64_t *bytes, const bool *done)
{
	bool ok = done[1] && bytes[1];
	size_t i;

	ksft_print_msg("%-10s %12s %12s %8s %8s %14s\n", "iteration", "bytes", "full dump",
		       "ratio", "ms", "writes during");
	for (i = 1; i <= iters + 1; i++) {
		ksft_print_msg("%-10s %12llu %12llu %8.4f %8llu %14llu\n",
			       i > iters ? "final" : image(i) + strlen(root) + 1,
			       (unsigned long long)bytes[i], (unsigned long long)bytes[1],
			       bytes[1] ? (double)bytes[i] / bytes[1] : 0.0,
			       (unsigned long long)iter_ns[i] / 1000000,
			       (unsigned long long)iter_writes[i]);
		if (i > 1 && (!done[i] || bytes[i] * 4 > bytes[1]))
			ok = false;
	}
	ksft_test_result(ok, "incremental iterations write < 1/4 of a full dump\n");
}

/* ---- options and main ---- */

static void usage(const char *why, const char *arg)
{
	fprintf(stderr, "error: %s '%s'\nusage: predump-test [--predump PATH] [--mib N] "
		"[--iters N] [--budget N] [--seed S] [--dir DIR]\n", why, arg);
	exit(2);
}

static void parse_args(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (i + 1 == argc)
			usage("missing value or unknown argument", argv[i]);
		if (!strcmp(argv[i], "--predump"))
			predump = argv[++i];
		else if (!strcmp(argv[i], "--mib"))
			mib = parse(argv[++i], "--mib", 1, 1UL << 16);
		else if (!strcmp(argv[i], "--iters"))
			iters = parse(argv[++i], "--iters", 2, MAX_ITERS);
		else if (!strcmp(argv[i], "--budget"))
			budget = parse(argv[++i], "--budget", 1, 1UL << 30);
		else if (!strcmp(argv[i], "--seed"))
			seed = parse(argv[++i], "--seed", 1, ~0UL);
		else if (!strcmp(argv[i], "--dir")) {
			if (strlen(argv[++i]) >= sizeof(root))
				usage("--dir is too long:", argv[i]);
			strcpy(root, argv[i]);
			root_given = true;
		} else
			usage("unknown argument", argv[i]);
	}
}

/* predump next to this program, unless --predump gave one (else: PATH) */
static void find_predump(void)
{
	static char path[PATH_MAX];
	ssize_t n;

	if (strcmp(predump, "predump"))
		return;
	n = readlink("/proc/self/exe", path, sizeof(path) - sizeof("/predump"));
	if (n <= 0)
		return;
	path[n] = '\0';
	strcpy(strrchr(path, '/'), "/predump");
	if (!access(path, X_OK))
		predump = path;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

int main(int argc, char **argv)
{
	uint64_t bytes[MAX_ITERS + 2] = {}, writes;
	bool done[MAX_ITERS + 2] = {};
	const char *why;
	size_t i;
	pid_t pid;

	parse_args(argc, argv);
	find_predump();
	psz = sysconf(_SC_PAGESIZE);
	setvbuf(stdout, NULL, _IOLBF, 0);
	ksft_print_header();
	why = scan_clear_unsupported();
	if (why)
		ksft_exit_skip("%s\n", why);
	ksft_set_plan(NR_BAD_ARGS + 1 + iters + 1 + 3 + 1);
	if (root_given ? mkdir(root, 0700) : !mkdtemp(root))
		fail(root);
	ksft_print_msg("predump %s, images in %s; target: %zu MiB + a THP region, "
		       "at most %zu writes an iteration, seed %llu\n", predump, root, mib,
		       budget, (unsigned long long)seed);
	for (i = 0; i < NR_BAD_ARGS; i++)
		test_bad_args(bad_args[i].name, bad_args[i].args, bad_args[i].expect);
	test_unknown_pid();

	pid = start_target();
	for (i = 1; i <= iters; i++) {
		new_epoch();
		done[i] = iteration(pid, i, &bytes[i]);
		if (i == 1)
			test_check(pid, 1, 1, "not stopped",
				   "restore check refuses a running target");
	}
	/* Writes after the last iteration: only the one taken while stopped has them */
	writes = __atomic_load_n(&sh->writes, __ATOMIC_ACQUIRE);
	new_epoch();
	if (!wait_writes(writes))
		ksft_exit_fail_msg("the target stopped writing\n");
	stop_target(pid);
	ksft_print_msg("the target made %llu writes in all\n",
		       (unsigned long long)__atomic_load_n(&sh->writes, __ATOMIC_ACQUIRE));
	test_check(pid, iters, 1, " differ", "restore check fails without the last iteration");
	done[iters + 1] = iteration(pid, iters + 1, &bytes[iters + 1]);
	test_check(pid, iters + 1, 0, " 0 differ",
		   "restore check: the image chain equals the stopped target");
	test_ratios(bytes, done);

	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	if (nftw(root, remove_one, 16, FTW_DEPTH | FTW_PHYS))
		ksft_print_msg("could not remove %s: %s\n", root, strerror(errno));
	ksft_finished();
}
