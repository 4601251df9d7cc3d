/* SPDX-License-Identifier: GPL-2.0 */
/* Shared helpers for our PAGEMAP_SCAN programs. */
#ifndef SCAN_H
#define SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/fs.h>
#include <sys/mman.h>

#ifndef PAGEMAP_SCAN
#error "linux/fs.h has no PAGEMAP_SCAN: build against the series' headers (build/headers/include)"
#endif

/* The follow-up series' flag: a kernel without it refuses it (EINVAL) */
#ifndef PAGEMAP_NO_REUSED_REGIONS
#define PAGEMAP_NO_REUSED_REGIONS	0x2
#endif

/* 6.1's advice values, newer than this C library */
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT	21
#endif
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE	25
#endif

/* Open /proc/<pid>/pagemap ("self" when pid is 0); exits with a message on failure. */
int scan_open(int pid);

/*
 * One PAGEMAP_SCAN call.  Returns the number of regions, or -1 with errno
 * set; *walk_end receives where the kernel stopped.
 */
long scan_call(int fd, uint64_t flags, void *start, size_t len,
	       struct page_region *vec, size_t vec_len, uint64_t max_pages,
	       uint64_t required, uint64_t anyof, uint64_t excluded,
	       uint64_t ret_mask, uint64_t *walk_end);

/* Categories as text, e.g. "softdirty|present". */
const char *scan_bits(uint64_t bitmap);

/*
 * GET the soft-dirty pages of [start, start + len) in one PAGEMAP_SCAN call
 * with @flags (e.g. 0 or PAGEMAP_SOFTDIRTY_CLEAR).  Returns the number of
 * pages; *regions (unless NULL) receives the number of regions.  Exits with
 * a message if the call fails or @vec is too short for a complete scan.
 */
size_t scan_dirty(int fd, uint64_t flags, void *start, size_t len,
		  struct page_region *vec, size_t vec_len, long *regions);

/*
 * CLOCK_MONOTONIC in ns: guest instructions when QEMU runs with
 * -icount shift=0,sleep=off.
 */
uint64_t now(void);

/*
 * Enter the PAGEMAP_NO_REUSED_REGIONS mode of this process (per mm, permanent)
 * with a CLEAR of a scratch page; do it before mapping anything.  Returns 0,
 * or -1 with errno set (EINVAL: the kernel does not know the flag).
 */
int scan_enter_nrr(int fd);

/*
 * Why this kernel cannot CLEAR soft-dirty with PAGEMAP_SCAN (no ioctl: ENOTTY;
 * no CONFIG_MEM_SOFT_DIRTY: EINVAL), as a reason to SKIP with, or NULL when
 * it can.  Tried on a page of our own; other errors exit with a message.
 */
const char *scan_clear_unsupported(void);

/* Lines of /proc/self/maps (VMAs) overlapping [start, start + len). */
size_t count_vmas(const void *start, size_t len);

/*
 * Page-table and VMA-tree work depends on the addresses: re-exec the program
 * (argv) with ASLR off, as setarch -R, unless it is off already.
 */
void no_aslr(char **argv);

/* The next number of a xorshift64 sequence (*state must not be 0). */
uint64_t xorshift(uint64_t *state);

/*
 * Print a TAP diagnostic line, "# " and the message, as kselftest.h's
 * ksft_print_msg() does (errno kept), for the parts of a program other than
 * the one file that includes kselftest.h: its counters are static, so every
 * ksft_* call of a program stays in that file.
 */
void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * The name of an errno value ("EFAULT"; "success" for 0), or "errno N" in a
 * static buffer for one the ioctl and our clients never return.
 */
const char *errname(int err);

/* Print "error: WHAT: strerror(errno)" and exit 1. */
void fail(const char *what) __attribute__((noreturn));

/*
 * fork() a child that reports through a pipe.  Returns 0 in the child, with
 * *fd the write end; the child's pid in the parent, with *fd the read end.
 * Exits with a message if the pipe or the fork fails.
 */
int fork_piped(int *fd);

#define THP_ENABLED	"/sys/kernel/mm/transparent_hugepage/enabled"
#define SHMEM_ENABLED	"/sys/kernel/mm/transparent_hugepage/shmem_enabled"

/*
 * Set the "[x] y z" sysfs knob @path (THP's enabled, shmem_enabled) to
 * @mode; with @old, save the selected value there first.  False on failure.
 */
bool sysfs_mode(const char *path, const char *mode, char *old, size_t len);

/*
 * Set shmem_enabled to advise until exit, so that MADV_HUGEPAGE makes shmem
 * THPs.  False if the kernel has no shmem THP; exits with a message if the
 * knob cannot be set.
 */
bool shmem_thp_advise(void);

/* Bits of a /proc/pid/pagemap entry */
#define PM_SD		(1ULL << 55)
#define PM_FILE		(1ULL << 61)
#define PM_SWAP		(1ULL << 62)
#define PM_PRESENT	(1ULL << 63)
#define PM_PFN		((1ULL << 55) - 1)

/* The categories (PAGE_IS_*) pagemap gives a page: bits 55, 61, 62, 63 */
uint64_t pm_categories(uint64_t pme);

/* Whether a page with categories @cat matches the masks (spec "What one call does") */
bool scan_matches(uint64_t required, uint64_t anyof, uint64_t excluded, uint64_t cat);

/* Write 4 to /proc/self/clear_refs: soft-dirty of the whole process cleared; exits on failure */
void clear_refs_self(void);

/*
 * Whether the @n pagemap entries at @pm are present with consecutive frames
 * from an @n-aligned one: one huge page, mapped whole (needs CAP_SYS_ADMIN
 * for the frames).
 */
bool pm_huge(const uint64_t *pm, size_t n);

/* The counter @name of /proc/vmstat, or 0 */
unsigned long vmstat(const char *name);

/* @s as a number in [lo, hi], or a message naming @name and exit 2. */
size_t parse(const char *s, const char *name, size_t lo, size_t hi);

#endif
