// SPDX-License-Identifier: GPL-2.0
/*
 * ww-conformance: libwritewatch's backends against the Windows
 * GetWriteWatch() / ResetWriteWatch() semantics, and against each other.
 *
 *   ww-conformance            (no arguments)
 *
 * Every case (cases[] below) runs once per backend, each backend in its own
 * child process: pagemap-nrr (PAGEMAP_SCAN with PAGEMAP_NO_REUSED_REGIONS;
 * SKIP if the kernel rejects the flag), pagemap (PAGEMAP_SCAN with the
 * default soft-dirty semantics) and mprotect (read-only pages + SIGSEGV; no
 * kernel support needed).  A case writes down what it observes, e.g.
 * "get+reset [0 2]; get []" (the pages ww_get() returned, as page indices
 * in the case's region, or the errno of a failed call), and passes when
 * that is exactly the expected text.  Every ww_get() result is also checked
 * for granularity 4096, at most the capacity, page-aligned ascending
 * addresses, and a failed call leaving *count and *granularity untouched.
 *
 * The cases: fresh memory (and reads) are not writes; one write reports one
 * page; RESET clears; ww_reset() clears; sub-range queries and resets, also
 * unaligned; a write straddling two pages marks both; Wine's count=1 with
 * RESET and 3 pages written; 512 pages over many PAGEMAP_SCAN calls with
 * partial resets; with THP=always (set for the case and restored; SKIP if it
 * cannot be set) one write still marks one 4 KiB page; a kernel write
 * (read() into the buffer); the error cases; a reused address and new
 * neighbours do not look written; writes from another thread; a writer
 * thread racing get+reset calls loses no write (1000 writes, lostwrite's
 * check); a SIGSEGV that is not ours kills as by default.
 *
 * Where the backends differ by design, the case says so: a kernel write
 * counts with PAGEMAP_SCAN, and fails with EFAULT (nothing marked) under
 * mprotect, as under Wine's fallback.  Two final results check that all
 * backends that ran observed identical texts in every other case, and that
 * the designed differences are exactly what each backend observed.
 *
 * Output: kselftest TAP, "<backend>: <case>" per case and backend, then the
 * two comparisons.  Exit: 0 all passed (or skipped), 1 a failure, 2 usage.
 */
#define _GNU_SOURCE
#include "ww-conformance.h"
#include "kselftest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* BROKEN: the backend could not start; a failure, but nothing to compare */
enum status { PASS, FAIL, SKIP, BROKEN };

/* What a backend's child reports for one case */
struct record {
	int status;
	char obs[OBS_MAX];	/* the observations, or the reason for a SKIP */
};

struct tbackend {
	const char *name;
	enum ww_backend backend;
	bool need_nrr;
};

static const struct tbackend backends[] = {
	{ "pagemap-nrr", WW_BACKEND_PAGEMAP, true },
	{ "pagemap", WW_BACKEND_PAGEMAP_PLAIN, false },
	{ "mprotect", WW_BACKEND_MPROTECT, false },
};
#define NR_BACKENDS (sizeof(backends) / sizeof(backends[0]))

static const char *expected(const struct tcase *c, const struct tbackend *b)
{
	return b->backend == WW_BACKEND_MPROTECT && c->expect_mprotect ?
	       c->expect_mprotect : c->expect;
}

static void send(int fd, int status, const char *text)
{
	struct record rec = { .status = status };

	snprintf(rec.obs, sizeof(rec.obs), "%s", text);
	if (write(fd, &rec, sizeof(rec)) != sizeof(rec))
		fail("write to the parent");
}

/* Run case @c and send its record: its observations, or why it skipped */
static void run_case(const struct tcase *c, const struct tbackend *b, int fd)
{
	obs[0] = '\0';
	obs_full = false;
	skip_reason = NULL;
	c->run();
	if (skip_reason) {
		send(fd, SKIP, skip_reason);
		return;
	}
	if (obs_full)
		note("(observations truncated)");
	send(fd, strcmp(obs, expected(c, b)) ? FAIL : PASS, obs);
}

/* The child of backend @b: every case, one record each */
static void run_backend(const struct tbackend *b, int fd)
{
	char why_buf[OBS_MAX];
	const char *why = NULL;
	int status = SKIP;
	size_t i;

	if (ww_init(b->backend) && errno == EOPNOTSUPP) {
		why = "the kernel has no PAGEMAP_SCAN with soft-dirty";
	} else if (ww_backend() != b->backend) {	/* a real failure */
		snprintf(why_buf, sizeof(why_buf), "ww_init failed: %s", strerror(errno));
		why = why_buf;
		status = BROKEN;
	} else if (b->need_nrr && !ww_nrr()) {
		why = "the kernel rejects PAGEMAP_NO_REUSED_REGIONS";
	}
	for (i = 0; i < NR_CASES; i++) {
		if (why) {
			send(fd, status, why);
			continue;
		}
		run_case(&cases[i], b, fd);
	}
	_exit(0);
}

static struct record results[NR_BACKENDS][NR_CASES];

/* Run backend @b in a child, print its results; a child that dies fails the rest */
static void collect(size_t b)
{
	const struct tbackend *tb = &backends[b];
	uint64_t t0 = now();
	size_t i;
	int fd, status;
	pid_t pid = fork_piped(&fd);

	if (!pid)
		run_backend(tb, fd);
	for (i = 0; i < NR_CASES; i++) {
		struct record *r = &results[b][i];

		if (read(fd, r, sizeof(*r)) != sizeof(*r)) {
			r->status = FAIL;
			snprintf(r->obs, sizeof(r->obs), "(the child died before this case)");
		}
		r->obs[OBS_MAX - 1] = '\0';
		if (r->status == SKIP) {
			ksft_test_result_skip("%s: %s: %s\n", tb->name, cases[i].name, r->obs);
			continue;
		}
		if (r->status == BROKEN && !i)
			ksft_print_msg("%s: %s\n", tb->name, r->obs);
		else if (r->status == FAIL)
			ksft_print_msg("%s: %s:\n#   expected: %s\n#   observed: %s\n",
				       tb->name, cases[i].name, expected(&cases[i], tb), r->obs);
		ksft_test_result(r->status == PASS, "%s: %s\n", tb->name, cases[i].name);
	}
	close(fd);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		ksft_print_msg("%s: child ended with status %#x\n", tb->name, status);
	ksft_print_msg("%s: %.2f s\n", tb->name, (now() - t0) / 1e9);
}

static bool ran(size_t b, size_t c)
{
	return results[b][c].status == PASS || results[b][c].status == FAIL;
}

/* Backends that ran case @c; *first receives the first of them */
static size_t nr_ran(size_t c, size_t *first)
{
	size_t b, n = 0;

	for (b = 0; b < NR_BACKENDS; b++)
		if (ran(b, c) && !n++)
			*first = b;
	return n;
}

/* Every case that must agree: identical observations on every backend that ran */
static void check_agree(void)
{
	size_t b, c, first = 0, compared = 0, differ = 0;

	for (c = 0; c < NR_CASES; c++) {
		if (cases[c].expect_mprotect || nr_ran(c, &first) < 2)
			continue;
		compared++;
		for (b = first + 1; b < NR_BACKENDS; b++) {
			if (!ran(b, c) || !strcmp(results[b][c].obs, results[first][c].obs))
				continue;
			differ++;
			ksft_print_msg("%s and %s differ on '%s'\n", backends[first].name,
				       backends[b].name, cases[c].name);
		}
	}
	if (!compared)
		ksft_test_result_skip("backends agree: fewer than 2 backends ran\n");
	else
		ksft_test_result(!differ, "backends agree on all %zu cases that must agree\n",
				 compared);
}

/* The cases that differ by design: each backend saw its own expected text */
static void check_differ(void)
{
	size_t b, c, checked = 0, wrong = 0;
	bool mprotect_ran = false, pagemap_ran = false;

	for (b = 0; b < NR_BACKENDS; b++)
		for (c = 0; c < NR_CASES; c++) {
			const struct record *r = &results[b][c];

			if (!cases[c].expect_mprotect || !ran(b, c))
				continue;
			if (backends[b].backend == WW_BACKEND_MPROTECT)
				mprotect_ran = true;
			else
				pagemap_ran = true;
			checked++;
			if (strcmp(r->obs, expected(&cases[c], &backends[b]))) {
				wrong++;
				ksft_print_msg("%s: '%s' should be '%s', is '%s'\n",
					       backends[b].name, cases[c].name,
					       expected(&cases[c], &backends[b]), r->obs);
			}
		}
	if (!mprotect_ran || !pagemap_ran)
		ksft_test_result_skip("backends differ as designed: a backend did not run\n");
	else
		ksft_test_result(!wrong, "backends differ as designed only on kernel writes "
				 "(%zu results checked)\n", checked);
}

int main(int argc, char **argv)
{
	size_t b;

	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "error: unexpected argument '%s' (usage: ww-conformance)\n",
			argv[1]);
		return 2;
	}
	ksft_print_header();
	ksft_set_plan(NR_BACKENDS * NR_CASES + 2);
	ksft_print_msg("by design, a kernel write (read() into a watched buffer) counts "
		       "with PAGEMAP_SCAN and fails with EFAULT under mprotect\n");
	for (b = 0; b < NR_BACKENDS; b++)
		collect(b);
	check_agree();
	check_differ();
	ksft_finished();
}
