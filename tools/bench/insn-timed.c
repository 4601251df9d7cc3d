// SPDX-License-Identifier: GPL-2.0
/*
 * insn-timed: run a command and print how long it took, in CLOCK_MONOTONIC
 * nanoseconds: under -icount shift=0,sleep=off, guest instructions (all of
 * them, the command's and the kernel's on its behalf, and any other task's
 * meanwhile).
 *
 *   insn-timed CMD [ARG]...
 *
 * Prints "insn-timed: N CMD" on stderr, exits with CMD's status (127: it
 * could not run, 128 + N: killed by signal N).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>

#include "scan.h"

int main(int argc, char **argv)
{
	uint64_t t0;
	int status;
	pid_t pid;

	if (argc < 2) {
		fprintf(stderr, "usage: insn-timed CMD [ARG]...\n");
		return 2;
	}
	t0 = now();
	pid = fork();
	if (pid < 0)
		fail("fork");
	if (!pid) {
		execvp(argv[1], argv + 1);
		fprintf(stderr, "insn-timed: %s: %s\n", argv[1], strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid)
		fail("waitpid");
	fprintf(stderr, "insn-timed: %llu %s\n", (unsigned long long)(now() - t0), argv[1]);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
