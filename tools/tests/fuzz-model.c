// SPDX-License-Identifier: GPL-2.0
/* scan-fuzz: the model: which error a call gets, and what a scan reports */
#include "scan-fuzz.h"

/* Leading entries at @vec that the kernel can write (the arena's too) */
uint64_t writable_entries(uint64_t vec)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(zones); i++)
		if (vec >= zones[i].lo && vec < zones[i].hi)
			return (zones[i].hi - vec) / REGION;
	if (vec >= arena_page(S_FIRST) && vec < arena_page(L_FIRST + L_PAGES))
		return (arena_page(L_FIRST + L_PAGES) - vec) / REGION;
	return 0;
}

/* Argument bytes: readable on its first two pages, writable on the first */
bool arg_readable(uintptr_t p)
{
	return p - misc(M_ARG) < 2 * (uintptr_t)psz;
}

static bool arg_writable(uintptr_t p)
{
	return p - misc(M_ARG) < (uintptr_t)psz;
}

static bool arg_all(const struct call *c, size_t n, bool (*ok)(uintptr_t))
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!ok(c->argp + i))
			return false;
	return true;
}

/* Where we write argument byte @p: the read-only page through its alias */
static char *arg_byte(uintptr_t p)
{
	if (arg_writable(p))
		return (char *)p;
	if (arg_readable(p))
		return arg_alias + (p - misc(M_ARG + 1));
	return NULL;
}

void put_arg(const struct call *c)
{
	const char *src = (const char *)&c->a;
	uint64_t i;
	char *p;

	for (i = 0; i < ARG_SIZE; i++)
		if ((p = arg_byte(c->argp + i)))
			*p = src[i];
	for (i = ARG_SIZE; c->zero_tail && i < c->a.size && (p = arg_byte(c->argp + i)); i++)
		*p = 0;
}

bool matches(const struct pagemap_scan_arg *a, uint8_t cat)
{
	return scan_matches(a->required_mask, a->anyof_mask, a->excluded_mask, cat);
}

bool arena_confined(const struct pagemap_scan_arg *a)
{
	return a->start >= arena_page(0) &&
	       a->start + a->len <= arena_page(ARENA_PAGES);
}

/* The model: the checks before the walk, one predicate each */

static bool not_scan(const struct call *c)
{
	return (unsigned int)c->cmd != PAGEMAP_SCAN;
}

static bool size_unreadable(const struct call *c)
{
	return !arg_all(c, sizeof(c->a.size), arg_readable);
}

static bool small_size(const struct call *c)
{
	return c->a.size < ARG_SIZE;
}

/*
 * The bytes past our struct, up to size, as copy_struct_from_user() sees
 * them: EFAULT if the range passes the address-space limit or reaches an
 * unreadable byte before a non-zero one, E2BIG for a non-zero one, else 0.
 */
static int tail_error(const struct call *c)
{
	uint64_t i;

	if (c->a.size <= ARG_SIZE)
		return 0;
	if (c->a.size > task_size || c->argp > task_size - c->a.size)
		return EFAULT;
	for (i = ARG_SIZE; i < c->a.size; i++) {
		if (!arg_readable(c->argp + i))
			return EFAULT;
		if (*(const char *)(c->argp + i))
			return E2BIG;
	}
	return 0;
}

static bool tail_unreadable(const struct call *c)
{
	return tail_error(c) == EFAULT;
}

static bool tail_nonzero(const struct call *c)
{
	return tail_error(c) == E2BIG;
}

static bool arg_unreadable(const struct call *c)
{
	return !arg_all(c, ARG_SIZE, arg_readable);
}

static bool bad_flags(const struct call *c)
{
	return c->a.flags & ~known_flags;
}

static bool bad_masks(const struct call *c)
{
	return (c->a.required_mask | c->a.anyof_mask | c->a.excluded_mask |
		c->a.return_mask) & ~known_cats;
}

bool unaligned(const struct call *c)
{
	return c->a.start % psz;
}

static bool bad_end(const struct call *c)
{
	uint64_t end = c->a.start + c->a.len;

	return end < c->a.start || end > task_size;
}

static bool vec_mismatch(const struct call *c)
{
	return !c->a.vec != !c->a.vec_len;
}

static bool no_op(const struct call *c)
{
	return !c->a.vec && !(c->a.flags & CLEAR);
}

static bool clear_masks(const struct call *c)
{
	return (c->a.flags & CLEAR) &&
	       (((c->a.required_mask | c->a.anyof_mask) & ~(uint64_t)SD) ||
		c->a.excluded_mask);
}

static bool arg_unwritable(const struct call *c)
{
	return !arg_all(c, ARG_SIZE, arg_writable);
}

/*
 * The kernel's order (do_pagemap_cmd(), pagemap_scan_get_args(),
 * do_pagemap_scan() in fs/proc/task_mmu.c); the first that applies
 * decides.  Not here: EFAULT for a vec above 4G on a 32-bit kernel, EPERM
 * (only for another process's pagemap: between the last two), ESRCH, and
 * the walk's EFAULT for an entry of vec it needs (model_walk()).
 */
static const struct check {
	int err;
	const char *what;
	bool (*applies)(const struct call *c);
} checks[] = {
	{ ENOTTY, "not PAGEMAP_SCAN (the kernel takes the low 32 bits of cmd)", not_scan },
	{ EFAULT, "size not readable", size_unreadable },
	{ EINVAL, "size is smaller than sizeof(struct pagemap_scan_arg)", small_size },
	{ EFAULT, "the bytes past the struct, up to size, not readable", tail_unreadable },
	{ E2BIG, "the bytes past the struct, up to size, not all zero", tail_nonzero },
	{ EFAULT, "argument not readable", arg_unreadable },
	{ EINVAL, "unknown flag", bad_flags },
	{ EINVAL, "unknown mask bit", bad_masks },
	{ EINVAL, "start not page aligned", unaligned },
	{ EINVAL, "start + len overflows or passes the address-space limit", bad_end },
	{ EINVAL, "vec and vec_len not both 0 or both non-zero", vec_mismatch },
	{ EINVAL, "neither GET nor CLEAR", no_op },
	{ EINVAL, "CLEAR with masks other than required/anyof SOFTDIRTY", clear_masks },
	{ EFAULT, "argument not writable (walk_end)", arg_unwritable },
};

int first_check(const struct call *c)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(checks); i++)
		if (checks[i].applies(c))
			return i;
	return -1;
}

/* @cap: regions that fit in vec */
void simulate(const struct pagemap_scan_arg *a, const uint8_t *cats,
	      uint64_t cap, struct sim *s)
{
	uint64_t end = page_up(a->start + a->len), addr, pages = 0;

	s->nr = 0;
	s->walk_end = end;
	for (addr = a->start; addr < end; addr += psz) {
		size_t i = (addr - ARENA_ADDR) / psz;
		struct page_region *last = s->nr ? &s->reg[s->nr - 1] : NULL;
		uint64_t bits = cats[i] & a->return_mask;

		if (!arena_mapped(i) || !matches(a, cats[i]))
			continue;
		if (a->vec) {
			if (last && last->start + last->len == addr &&
			    last->bitmap == bits) {
				last->len += psz;
			} else if (s->nr < cap) {
				s->reg[s->nr++] = (struct page_region){ addr, psz, bits };
			} else {
				s->walk_end = addr;
				return;
			}
		}
		if (++pages == a->max_pages) {
			s->walk_end = addr + psz;
			return;
		}
	}
}

/*
 * The walk's error: an entry of vec the call needs is not writable.  The
 * kernel finds out before changing anything while the entry is in its
 * first window of vec (170 entries); past that it has written vec already
 * and ends early, successfully, at the page that needs the entry
 * (pagemap.rst, "Errors").  The spec allows either: EFAULT with nothing
 * changed, or a success with walk_end there, which it calls "fit in vec".
 * With no writable entry nothing can have been written: only EFAULT.
 */
static void model_walk(const struct call *c, struct expect *e)
{
	const struct pagemap_scan_arg *a = &c->a;
	struct sim s;

	e->why = "a scan";
	if (!a->vec || c->vec_ok >= a->vec_len || c->vec_ok > max_regions)
		return;
	e->err = EFAULT;
	e->why = "needs an entry of vec that is not writable";
	if (c->vk == V_IN_RANGE) {
		/* Writing vec changes the range: how many regions it needs too */
		e->or_short = true;
		return;
	}
	simulate(a, pre, min64(a->vec_len, ARENA_PAGES), &s);
	if (s.nr <= c->vec_ok) {
		e->err = 0;
		e->why = "a scan (the entries it needs are writable)";
		return;
	}
	e->or_short = c->vec_ok > 0;
}

void model(const struct call *c, struct expect *e)
{
	int k = first_check(c);

	memset(e, 0, sizeof(*e));
	if (k >= 0) {
		e->err = checks[k].err;
		e->why = checks[k].what;
		return;
	}
	model_walk(c, e);
}
