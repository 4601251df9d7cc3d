// SPDX-License-Identifier: GPL-2.0
/* scan-perm: what /proc and Yama's sysctl say */
#include "scan-perm.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Yama's ptrace_scope >= 1 lets only ancestors attach: why, or NULL */
const char *yama_restricts(void)
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

/* Write @val to Yama's ptrace_scope, saving the old value in @old (if not NULL) */
bool yama_set(const char *val, char *old, size_t len)
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

/* Whether pid 2 is a kernel thread without an mm: why not, or NULL */
const char *not_kthread(void)
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

/* The state letter of /proc/<pid>/stat, or '?' */
char proc_state(pid_t pid)
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

/* Whether @pid runs BUSYBOX now (its exec is done); waits up to 5 s */
bool runs_busybox(pid_t pid)
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
	diag("  %s: %s\n", path, n > 0 ? exe : strerror(errno));
	return false;
}
