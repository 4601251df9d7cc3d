/* SPDX-License-Identifier: GPL-2.0 */
/* What the parts of scan-fuzz share; scan-fuzz.c says what it does. */
#ifndef SCAN_FUZZ_H
#define SCAN_FUZZ_H

#define _GNU_SOURCE	/* memfd_create(), MAP_FIXED_NOREPLACE */
#include "scan.h"
#include <errno.h>
#include <fcntl.h>		/* fallocate() */
#include <linux/fiemap.h>	/* struct fiemap: FS_IOC_FIEMAP's number */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

#ifndef __x86_64__
#error "the address-space limit of the model (find_task_size()) is x86-64's"
#endif

#define SD		PAGE_IS_SOFTDIRTY
#define CATS		(PAGE_IS_SOFTDIRTY | PAGE_IS_FILE | PAGE_IS_PRESENT | \
			 PAGE_IS_SWAPPED)
#define CLEAR		PAGEMAP_SOFTDIRTY_CLEAR
#define NRR		PAGEMAP_NO_REUSED_REGIONS
#define REGION		sizeof(struct page_region)
#define ARG_SIZE	sizeof(struct pagemap_scan_arg)
#define NR		_IOC_NR(PAGEMAP_SCAN)

#define DEFAULT_CALLS	100000
#define DEFAULT_SEED	0x5ca9f022ULL
#define REFRESH		32	/* calls between two stirs of S */
#define SHOW_MAX	10	/* wrong results printed in detail */
#define CANARY		0xa5	/* vec bytes the kernel must not write */
#define CANARY_CHECK	256	/* vec entries compared after a failed call */
#define WALK_CANARY	0x5757575757575757ULL	/* walk_end before the call */

/*
 * Fixed addresses, far from what the C library maps: a range inside the
 * arena has no VMA but ours, and the kernel never writes into memory we do
 * not know of (a random user address for vec could be the stack).
 */
#define ARENA_ADDR	0x200000000000UL	/* the arena's first guard page */
#define MISC_ADDR	0x300000000000UL	/* vec buffers, argument pages */
#define KERNEL_ADDR	0xffff800000000000UL

/* The arena, in pages (ARENA_ADDR is PMD-aligned) */
enum {
	GUARD = 8,		/* unmapped, at each end */
	S_PAGES = 64,		/* most calls scan this */
	S_FILE = 8,		/* S's last pages: a MAP_SHARED memfd */
	L_PAGES = 512,		/* written and clean pages alternate */
	HUGE = 512,		/* a THP slot of T: one PMD */
	S_FIRST = GUARD,
	L_FIRST = S_FIRST + S_PAGES,
	T_ANON = 2 * HUGE,	/* PMD-aligned, after a hole */
	T_SHMEM = T_ANON + HUGE,
	ARENA_PAGES = T_SHMEM + HUGE + GUARD,
};

/* The rest, in pages from MISC_ADDR: each area is followed by a hole */
#define BIG_PAGES	512	/* more entries than any range of ours has regions */
#define PART_PAGES	8	/* entries to more than 2 vec windows, then none */
enum {
	M_BIG = 0,
	M_PART_HOLE = M_BIG + BIG_PAGES + 2,	  /* then a hole */
	M_PART_RO = M_PART_HOLE + PART_PAGES + 2, /* then a read-only page */
	M_RO = M_PART_RO + PART_PAGES + 3,	  /* a read-only page */
	M_ARG = M_RO + 2,	/* argument: writable page, read-only page, hole */
	M_ALIAS = M_ARG + 4,	/* a writable view of that read-only page */
	M_HOLE = M_ALIAS + 2,	/* never mapped */
};

enum vec_kind {
	V_NONE, V_BIG, V_HOLE, V_RO, V_KERNEL, V_RAW, V_PART_HOLE, V_PART_RO,
	V_IN_RANGE, NR_VEC_KINDS
};

enum arg_kind {
	A_GOOD, A_MISALIGNED, A_RO, A_SPLIT_RO, A_SPLIT_HOLE, A_HOLE, A_KERNEL,
	A_NULL, NR_ARG_KINDS
};

/* One ioctl: its number, where the argument is and what it holds */
struct call {
	unsigned long cmd;
	enum arg_kind ak;
	uintptr_t argp;
	struct pagemap_scan_arg a;
	enum vec_kind vk;
	uint64_t vec_ok;	/* leading entries at a.vec the kernel can write */
	bool zero_tail;		/* zero the argument's bytes past ARG_SIZE */
};

/* What the model allows */
struct expect {
	int err;		/* the errno, 0 for success */
	bool or_short;		/* EFAULT, or a success that ends at the vec
				 * entry the call needs and cannot write */
	const char *why;	/* the check that decides */
};

/* Per class of case */
struct counts {
	unsigned long calls, wrong, bad, violations, failed;
	unsigned long expected[7];	/* by expect_slot() */
	unsigned long or_efault, or_success;
};

struct zone {
	uintptr_t lo, hi;
};
extern struct zone zones[3];	/* where vec entries are writable */

#define BAD(...) (snprintf(msg, sizeof(msg), __VA_ARGS__), (const char *)msg)
#define PICK(...) ({ const uint64_t v_[] = { __VA_ARGS__ };		\
		     v_[rnd(ARRAY_SIZE(v_))]; })

/* What a scan of the arena does ("What one call does", 1-3) */
struct sim {
	size_t nr;
	struct page_region reg[ARENA_PAGES];
	uint64_t walk_end;
};

extern long psz;
extern int pm_fd;
extern uint64_t rng;
extern uint64_t task_size;	/* the task's address-space limit */
extern uint64_t known_flags;	/* flags the kernel takes */
extern uint64_t known_cats;	/* mask bits it takes: no SD without soft-dirty */
extern uint64_t max_regions;	/* no range of this process has more */
extern unsigned long window;	/* vec entries the kernel buffers: a page */
extern uint8_t pre[ARENA_PAGES], post[ARENA_PAGES]; /* arena categories */
extern uint64_t pre_pm[ARENA_PAGES];	/* and the pagemap entries before */
extern int t_fd;			/* the memfd of T's shmem slot */
extern unsigned long thp_made[2], thp_tries[2];	/* T's slots: anon, shmem */
extern bool l_broken;		/* L lost its pattern */
extern unsigned long shown, setup_calls;
extern char *arg_alias;		/* writable view of the read-only arg page */
extern char msg[512];

/* scan-fuzz.c */
uint64_t rnd(uint64_t n);
bool chance(unsigned int percent);
uint64_t min64(uint64_t a, uint64_t b);
uint64_t page_up(uint64_t addr);
void fuzz(size_t calls);

/* fuzz-arena.c */
uintptr_t arena_page(size_t i);
uintptr_t misc(size_t page);
bool arena_mapped(size_t i);
bool arena_file(size_t i);
const char *page_name(size_t i);
void read_arena(uint8_t *cats, uint64_t *pm);
uint64_t find_task_size(void);
uint64_t mapped_pages(void);
void restore_l(void);
void refresh_s(void);
void refresh_t(void);
void setup_memory(void);
void setup_arena(void);

/* fuzz-model.c */
uint64_t writable_entries(uint64_t vec);
bool arg_readable(uintptr_t p);
void put_arg(const struct call *c);
bool matches(const struct pagemap_scan_arg *a, uint8_t cat);
bool arena_confined(const struct pagemap_scan_arg *a);
bool unaligned(const struct call *c);
int first_check(const struct call *c);
void simulate(const struct pagemap_scan_arg *a, const uint8_t *cats,
	      uint64_t cap, struct sim *s);
void model(const struct call *c, struct expect *e);

/* fuzz-gen.c */
void set_arg(struct call *c, enum arg_kind k);
void set_vec(struct call *c, enum vec_kind k);
void gen_valid(struct call *c);
void gen_bad_size(struct call *c);
void gen_bad_flags(struct call *c);
void gen_bad_masks(struct call *c);
void gen_bad_range(struct call *c);
void gen_vec_mismatch(struct call *c);
void gen_no_op(struct call *c);
void gen_clear_masks(struct call *c);
void gen_kernel(struct call *c);
void gen_vec_unwritable(struct call *c);
void gen_vec_partly(struct call *c);
void gen_vec_in_range(struct call *c);
void gen_bad_arg(struct call *c);
void gen_other_cmd(struct call *c);
void gen_random(struct call *c);
void make_knowable(struct call *c);

/* fuzz-check.c */
void prepare(const struct call *c);
const char *check_failed(const struct call *c);
const char *check_success(const struct call *c, const struct expect *e,
			  long ret);

#endif
