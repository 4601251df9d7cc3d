/* SPDX-License-Identifier: GPL-2.0 */
/*
 * criu-workload: the process that CRIU checkpoints in the guest
 * (tools/tests/criu-test.sh), and the checks of what CRIU wrote and restored.
 */
#ifndef CRIU_WORKLOAD_H
#define CRIU_WORKLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The kinds of memory the workload keeps, one region each */
enum wl_kind { WL_ANON, WL_THP, WL_SHANON, WL_MEMFD, WL_FILE, WL_SWAP, WL_KINDS };

struct wl_region {
	const char *name;
	uintptr_t addr;
	size_t pages;
};

#define WL_MAX_ROUNDS	64
#define WL_THP_PAGES	512

/* The rounds the harness asked for (DIR/requests): round k writes permille[k] */
struct wl_rounds {
	unsigned int nr;		/* rounds 1 .. nr */
	unsigned int permille[WL_MAX_ROUNDS + 1];
};

extern size_t wl_psz;

/* Whether round @k (>= 1) of @rounds writes page @p of region @r */
bool wl_written(const struct wl_rounds *rounds, unsigned int k, int r, size_t p);
/* The 8-byte word @w of page @p of region @r as round @k writes it (0: first fill) */
uint64_t wl_word(int r, size_t p, unsigned int k, size_t w);
/* The last round up to @upto that wrote the page; 0 for the first fill */
unsigned int wl_generation(const struct wl_rounds *rounds, unsigned int upto, int r, size_t p);
/* Read DIR/layout and DIR/requests; exit with a message if they are bad */
void wl_load(const char *dir, struct wl_region *regions, struct wl_rounds *rounds);

/* criu-check.c: the checks, each prints TAP-style "# " lines and returns 0 or 1 */
int wl_verify(const char *dir, int pid, unsigned int upto);
int wl_count(const char *dir, const char *imgdir, unsigned int since, bool dump);

#endif
