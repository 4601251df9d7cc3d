// SPDX-License-Identifier: GPL-2.0
/* scan-fuzz: the checks of a call's result against the model */
#include "scan-fuzz.h"

/* Fill the entries the kernel could write with the canary (BIG stays so) */
void prepare(const struct call *c)
{
	put_arg(c);
	if (c->vk == V_PART_HOLE || c->vk == V_PART_RO)
		memset((void *)c->a.vec, CANARY,
		       min64(c->vec_ok, c->a.vec_len) * REGION);
}

static bool has_canary(const struct call *c)
{
	return c->vk == V_BIG || c->vk == V_PART_HOLE || c->vk == V_PART_RO;
}

/* Whether entries [from, to) of vec still hold the canary */
static bool canary_intact(const struct call *c, uint64_t from, uint64_t to)
{
	const unsigned char *p = (const unsigned char *)c->a.vec;
	uint64_t i;

	to = min64(to, min64(c->vec_ok, c->a.vec_len));
	for (i = from * REGION; i < to * REGION; i++)
		if (p[i] != CANARY)
			return false;
	return true;
}

/* Whether arena page @i holds some of the writable entries of vec */
static bool holds_vec(const struct call *c, size_t i)
{
	uint64_t used = min64(c->a.vec_len, c->vec_ok);

	return c->vk == V_IN_RANGE && used && arena_page(i) < c->a.vec + used * REGION &&
	       arena_page(i) + psz > c->a.vec;
}

/*
 * Whether arena page @i was in a shmem THP that a CLEAR may have split: it
 * was mapped whole before the call (by a PMD; by PTEs too, which only
 * widens this), and the range starts or, ending at @we, stops inside it.
 * A failed call (@we 0) may have split it wherever the range covers it:
 * the spec protects soft-dirty state, and a split keeps that.  Splitting a
 * file THP unmaps it; its pages keep their soft-dirty bits.
 */
static bool in_split_thp(const struct call *c, uint64_t we, size_t i)
{
	uint64_t lo = arena_page(T_SHMEM), hi = arena_page(T_SHMEM + HUGE);
	uint64_t start = c->a.start, end = page_up(start + c->a.len);

	if (!(c->a.flags & CLEAR) || i < T_SHMEM || i >= T_SHMEM + HUGE)
		return false;
	if (!we ? start >= hi || end <= lo :
	    !(start > lo && start < hi) && !(we > lo && we < hi))
		return false;
	return pm_huge(pre_pm + T_SHMEM, HUGE);
}

/* Page @i after the call is @want, or @want unmapped by a split */
static bool state_is(const struct call *c, uint64_t we, size_t i, uint8_t want)
{
	return post[i] == want ||
	       (post[i] == (want & ~(PAGE_IS_PRESENT | PAGE_IS_FILE)) &&
		in_split_thp(c, we, i));
}

/* A failed call: nothing changed, nothing written */
const char *check_failed(const struct call *c)
{
	const char *src = (const char *)&c->a;
	size_t i;

	for (i = 0; i < ARENA_PAGES; i++)
		if (!state_is(c, 0, i, pre[i]))
			return BAD("page %s changed from %#x to %#x%s",
				   page_name(i), pre[i], post[i],
				   holds_vec(c, i) ? " (it holds writable entries of vec)" : "");
	for (i = 0; i < ARG_SIZE; i++)
		if (arg_readable(c->argp + i) && *(char *)(c->argp + i) != src[i])
			return BAD("argument byte %zu changed", i);
	if (has_canary(c) && !canary_intact(c, 0, CANARY_CHECK))
		return BAD("vec written");
	return NULL;
}

/* The arena after a success: the regions and the new state, page by page */
static const char *check_arena(const struct call *c, const struct expect *e,
			       long ret, uint64_t we, const int *rep)
{
	const struct pagemap_scan_arg *a = &c->a;
	bool clear = a->flags & CLEAR, nrr = a->flags & NRR;
	static struct sim s;
	size_t i;

	for (i = 0; i < ARENA_PAGES; i++) {
		bool in = arena_page(i) >= a->start && arena_page(i) < we;
		bool m = in && arena_mapped(i) && matches(a, pre[i]);
		uint8_t want = clear && m ? pre[i] & ~SD : pre[i];

		if (nrr) {
			/* Its soft-dirty is not pagemap's: only what CLEAR may do */
			if (!state_is(c, we, i, pre[i]) &&
			    !(in && clear && state_is(c, we, i, pre[i] & ~SD)))
				return BAD("page %s changed from %#x to %#x",
					   page_name(i), pre[i], post[i]);
			continue;
		}
		if (a->vec && (rep[i] >= 0) != m)
			return BAD("page %s (%#x) %s reported", page_name(i),
				   pre[i], m ? "not" : "wrongly");
		if (a->vec && m && rep[i] != (int)(pre[i] & a->return_mask))
			return BAD("page %s (%#x) reported with bitmap %#x",
				   page_name(i), pre[i], rep[i]);
		if (!state_is(c, we, i, want))
			return BAD("page %s is %#x after the call, not %#x",
				   page_name(i), post[i], want);
	}
	if (!arena_confined(a) || nrr)
		return NULL;
	simulate(a, pre, e->or_short ? c->vec_ok : min64(a->vec_len, ARENA_PAGES), &s);
	if ((uint64_t)ret != s.nr || we != s.walk_end)
		return BAD("%ld regions, walk_end %#llx; the model: %zu, %#llx",
			   ret, (unsigned long long)we, s.nr,
			   (unsigned long long)s.walk_end);
	return NULL;
}

/*
 * vec inside the range: its pages may be seen before or after the kernel
 * faults them in for writing (present and soft-dirty), and may be cleared
 * after; the entries written after the walk leave their pages dirty.  The
 * other pages must be exactly as for any scan.
 */
static const char *check_in_range(const struct call *c, long ret, uint64_t we,
				  const int *rep)
{
	const struct pagemap_scan_arg *a = &c->a;
	uint64_t used = min64(a->vec_len, c->vec_ok);
	size_t vfirst = (a->vec - ARENA_ADDR) / psz;
	size_t vlast = (a->vec + used * REGION - 1 - ARENA_ADDR) / psz;
	size_t wlast = (a->vec + ret * REGION - 1 - ARENA_ADDR) / psz;
	bool clear = a->flags & CLEAR;
	size_t i, k;

	for (i = 0; i < ARENA_PAGES; i++) {
		bool in = arena_page(i) >= a->start && arena_page(i) < we;
		uint8_t alt = (PAGE_IS_PRESENT | SD | (arena_file(i) ? PAGE_IS_FILE : 0)) &
			      known_cats;
		uint8_t cand[4] = { pre[i], alt, pre[i] & ~SD, alt & ~SD };
		bool ok = false;

		if (i < vfirst || i > vlast) {
			bool m = in && arena_mapped(i) && matches(a, pre[i]);
			uint8_t want = clear && m ? pre[i] & ~SD : pre[i];

			if ((rep[i] >= 0) != m || (m && rep[i] != (int)(pre[i] & a->return_mask)))
				return BAD("page %s (%#x) reported as %d", page_name(i),
					   pre[i], rep[i]);
			if (!state_is(c, we, i, want))
				return BAD("page %s is %#x after the call, not %#x",
					   page_name(i), post[i], want);
			continue;
		}
		for (k = 0; k < 2 && in; k++)
			ok |= (rep[i] >= 0) == matches(a, cand[k]) &&
			      (rep[i] < 0 || rep[i] == (int)(cand[k] & a->return_mask));
		if (in && !ok)
			return BAD("vec page %s (%#x) reported as %d", page_name(i),
				   pre[i], rep[i]);
		for (ok = false, k = 0; k < (clear && in ? 4 : 2); k++)
			ok |= post[i] == cand[k];
		if (!ok || (ret > 0 && (unsigned long)ret < window && i <= wlast &&
			    post[i] != alt))
			return BAD("vec page %s is %#x after the call (was %#x)",
				   page_name(i), post[i], pre[i]);
	}
	return NULL;
}

/* A successful call: its regions, walk_end and the arena after it */
const char *check_success(const struct call *c, const struct expect *e,
			  long ret)
{
	const struct pagemap_scan_arg *a = &c->a;
	struct pagemap_scan_arg out;
	uint64_t end = page_up(a->start + a->len), cap = ~0ULL, pages = 0, we;
	uint64_t prev_end = 0, prev_bits = 0, addr;
	static int rep[ARENA_PAGES];
	long i;

	memcpy(&out, (void *)c->argp, sizeof(out));
	we = out.walk_end;
	out.walk_end = a->walk_end;
	if (memcmp(&out, a, sizeof(out)))
		return BAD("the argument changed besides walk_end");
	if (a->vec)
		cap = min64(a->vec_len, c->vec_ok);
	else if (ret)
		return BAD("returned %ld without vec", ret);
	if ((uint64_t)ret > cap)
		return BAD("returned %ld, more than the %llu writable entries",
			   ret, (unsigned long long)cap);
	if (we % psz || we < a->start || we > end)
		return BAD("walk_end %#llx is not in [start, end %#llx]",
			   (unsigned long long)we, (unsigned long long)end);
	for (i = 0; i < ARENA_PAGES; i++)
		rep[i] = -1;
	for (i = 0; i < ret; i++) {
		struct page_region r;

		memcpy(&r, (char *)a->vec + i * REGION, sizeof(r));
		if (r.start % psz || !r.len || r.len % psz || r.start < a->start ||
		    r.start + r.len > we || r.start + r.len < r.start)
			return BAD("region %ld [%#llx, +%#llx) is not in [start, walk_end)",
				   i, r.start, r.len);
		if (i && r.start < prev_end)
			return BAD("region %ld overlaps or precedes the one before", i);
		if (i && r.start == prev_end && r.bitmap == prev_bits)
			return BAD("region %ld continues the one before", i);
		if (r.bitmap & ~a->return_mask)
			return BAD("region %ld has bitmap %#llx", i, r.bitmap);
		pages += r.len / psz;
		for (addr = r.start; addr < r.start + r.len; addr += psz)
			if (addr >= ARENA_ADDR && addr < arena_page(ARENA_PAGES))
				rep[(addr - ARENA_ADDR) / psz] = r.bitmap;
		prev_end = r.start + r.len;
		prev_bits = r.bitmap;
	}
	if (a->max_pages && pages > a->max_pages)
		return BAD("%llu pages reported, max_pages %llu",
			   (unsigned long long)pages, (unsigned long long)a->max_pages);
	/* A scan ends early only for a full vec or max_pages */
	if (we != end && (uint64_t)ret < cap &&
	    (a->vec ? !a->max_pages || pages < a->max_pages : !a->max_pages))
		return BAD("walk_end %#llx before the end %#llx with room left",
			   (unsigned long long)we, (unsigned long long)end);
	if (has_canary(c) && !canary_intact(c, ret, ret + 4))
		return BAD("vec written past the %ld regions returned", ret);
	if (c->vk == V_IN_RANGE)
		return check_in_range(c, ret, we, rep);
	return check_arena(c, e, ret, we, rep);
}
