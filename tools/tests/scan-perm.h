/* SPDX-License-Identifier: GPL-2.0 */
/* What the parts of scan-perm share; scan-perm.c says what it does. */
#ifndef SCAN_PERM_H
#define SCAN_PERM_H

#include "scan.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define NPAGES		8
#define ALL		0xffULL	/* every page of the region */
#define EVEN		0x55ULL	/* pages 0, 2, 4, 6: a target's dirty pages */
#define UID_A		1000	/* the targets' uid (and gid) */
#define UID_B		65534	/* another uid (and gid): nobody */
#define PF_KTHREAD	0x00200000	/* include/linux/sched.h */
#define SD		PAGE_IS_SOFTDIRTY
#define BUSYBOX		"/bin/busybox"	/* what a target execs (the guest has it) */
#define CLEAR		PAGEMAP_SOFTDIRTY_CLEAR
#define YAMA_SCOPE	"/proc/sys/kernel/yama/ptrace_scope"

/* The region every process here has at the same address (mapped before any fork) */
extern char *region;
extern size_t psz, len;

/* Why the kernel has no soft-dirty, or NULL; what marks a target's pages */
extern const char *no_sd;
extern uint64_t cat;

/* One call on the region and what came of it */
struct result {
	long ret;	/* regions, or -1 */
	int err;	/* errno when ret is -1 */
	uint64_t mask;	/* the pages reported (bit i: page i) */
	bool wrote;	/* vec or walk_end was written */
};

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

/* scan-perm.c: a fatal error, as ksft_exit_fail_msg() (the counts, exit 1) */
void bail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* perm-scan.c: scanning the region, and what a result must be */
struct result scan_region(int fd, uint64_t flags);
void show(const char *what, const struct result *r);
bool reported(const struct result *r, uint64_t mask);
bool denied(const struct result *r, int err);
int clear_err(int err);
const char *clear_says(const char *text);
uint64_t dirty_of(pid_t pid);
int mark_even(void);
bool may_get_not_clear(pid_t target, const struct outcome *o);
bool cleared(pid_t target, const struct result *get, const struct result *clear);

/* perm-procs.c: identities, targets and callers, each a child process */
int set_ids(unsigned int r, unsigned int e);
void in_child(void (*body)(void *out, const void *in), const void *in,
	      void *out, size_t size);
pid_t target_start(unsigned int id, bool dumpable);
void target_stop(pid_t pid);
struct outcome run_caller(pid_t target, struct caller *c);
pid_t thread_target(pid_t *tid, int *order);

/* perm-probe.c: what /proc and Yama's sysctl say */
const char *yama_restricts(void);
bool yama_set(const char *val, char *old, size_t len);
const char *not_kthread(void);
char proc_state(pid_t pid);
bool runs_busybox(pid_t pid);

#endif
