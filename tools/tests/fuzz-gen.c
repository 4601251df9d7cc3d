// SPDX-License-Identifier: GPL-2.0
/* scan-fuzz: the generators of calls, one per class of case */
#include "scan-fuzz.h"

/* Generators */

static uint64_t kernel_addr(void)
{
	return PICK(KERNEL_ADDR, 0xffff888000000000UL, 0xffffffff81000000UL,
		    0xffffffffff600000UL, 0xfffffffffffff000UL, 1ULL << 63,
		    KERNEL_ADDR + rnd(1ULL << 40));
}

/* The values every numeric field is tried with, besides valid ones */
static uint64_t edge(void)
{
	switch (rnd(12)) {
	case 0: return 0;
	case 1: return 1;
	case 2: return psz - 1;
	case 3: return psz;
	case 4: return psz + 1;
	case 5: return ~0ULL;
	case 6: return 1ULL << 47;
	case 7: return 1ULL << 63;
	case 8: return kernel_addr();
	case 9: return task_size;
	case 10: return xorshift(&rng) >> rnd(64);
	default: return xorshift(&rng);
	}
}

void set_arg(struct call *c, enum arg_kind k)
{
	uintptr_t a0 = misc(M_ARG), a1 = a0 + psz, a2 = a1 + psz;
	size_t slots = (psz - ARG_SIZE) / 8;

	c->ak = k;
	switch (k) {
	case A_GOOD: c->argp = a0 + 8 * rnd(slots); break;
	case A_MISALIGNED: c->argp = a0 + 8 * rnd(slots - 1) + 1 + rnd(7); break;
	case A_RO: c->argp = a1 + 8 * rnd(slots); break;
	case A_SPLIT_RO: c->argp = a1 - 1 - rnd(ARG_SIZE - 1); break;
	case A_SPLIT_HOLE: c->argp = a2 - 1 - rnd(ARG_SIZE - 1); break;
	case A_HOLE: c->argp = a2 + rnd(psz - ARG_SIZE); break;
	case A_KERNEL: c->argp = kernel_addr(); break;
	default: c->argp = 0; break;
	}
}

/* @w: writable entries of a partly writable vec */
static void set_vec_part(struct call *c, enum vec_kind k, uint64_t w)
{
	size_t area = k == V_PART_HOLE ? M_PART_HOLE : M_PART_RO;
	/* Sometimes entry w straddles the end: partly writable is unwritable */
	uint64_t straddle = chance(25) ? 1 + rnd(REGION - 1) : 0;

	c->vk = k;
	c->a.vec = misc(area + PART_PAGES) - w * REGION - straddle;
	c->vec_ok = writable_entries(c->a.vec);
}

void set_vec(struct call *c, enum vec_kind k)
{
	uint64_t v = 0;

	c->vk = k;
	switch (k) {
	case V_BIG:
		v = misc(M_BIG) + (chance(10) ? rnd(4 * REGION) : 0);
		break;
	case V_HOLE:
		v = PICK(misc(M_BIG + BIG_PAGES), misc(M_PART_HOLE + PART_PAGES),
			 misc(M_ARG + 2), misc(M_HOLE)) + rnd(psz);
		break;
	case V_RO:
		v = PICK(misc(M_RO), misc(M_PART_RO + PART_PAGES)) + rnd(psz - REGION);
		break;
	case V_KERNEL:
		v = kernel_addr();
		break;
	case V_RAW:
		/* Only numbers that are never user memory we have */
		v = PICK(1, psz - 1, psz, psz + 1, 1ULL << 47, 1ULL << 63, ~0ULL,
			 xorshift(&rng) | 1ULL << 63);
		break;
	case V_PART_HOLE:
	case V_PART_RO:
		set_vec_part(c, k, 1 + rnd(PART_PAGES * psz / REGION - 1));
		return;
	default:
		break;
	}
	c->a.vec = v;
	c->vec_ok = writable_entries(v);
}

static uint64_t gen_vec_len(void)
{
	switch (rnd(10)) {
	case 0: return PICK(psz - 1, psz, psz + 1, 1ULL << 32, 1ULL << 47,
			    1ULL << 63, ~0ULL, xorshift(&rng) | 1);
	case 1:
	case 2: return 1 + rnd(4);
	default: return 1 + rnd(600);
	}
}

/*
 * A range in the arena: mostly around S, sometimes S and L, a slot of T
 * (whole, or from or to a page inside it), or anywhere
 */
static void gen_range(struct pagemap_scan_arg *a)
{
	size_t first, n;

	switch (rnd(10)) {
	case 0:
		first = S_FIRST;
		n = S_PAGES + L_PAGES;
		break;
	case 1:
		first = rnd(ARENA_PAGES);
		n = rnd(ARENA_PAGES - first + 1);
		break;
	case 2:
		first = PICK(T_ANON, T_SHMEM) + (chance(50) ? 0 : rnd(HUGE));
		n = chance(40) ? HUGE : 1 + rnd(HUGE + 8);
		break;
	default:
		first = S_FIRST - 2 + rnd(S_PAGES + 4);
		n = rnd(S_PAGES + 8);
		break;
	}
	n = min64(n, ARENA_PAGES - first);
	a->start = arena_page(first);
	a->len = n * psz;
	if (n && chance(20))
		a->len -= 1 + rnd(psz - 1);	/* the end rounds up */
}

static uint64_t some_cats(void)
{
	return chance(40) ? 0 : chance(50) ? 1ULL << rnd(4) : rnd(16);
}

static void gen_masks(struct pagemap_scan_arg *a)
{
	if (a->flags & CLEAR) {
		a->required_mask = chance(50) ? SD : 0;
		a->anyof_mask = chance(25) ? SD : 0;
		a->excluded_mask = 0;
	} else {
		a->required_mask = some_cats() & known_cats;
		a->anyof_mask = chance(60) ? 0 : some_cats() & known_cats;
		a->excluded_mask = chance(60) ? 0 : some_cats() & known_cats;
	}
	a->return_mask = chance(20) ? known_cats : rnd(16) & known_cats;
}

/* A valid call on the arena, CLEAR in most */
void gen_valid(struct call *c)
{
	struct pagemap_scan_arg *a = &c->a;

	memset(c, 0, sizeof(*c));
	c->cmd = PAGEMAP_SCAN;
	set_arg(c, A_GOOD);
	a->size = ARG_SIZE;
	a->walk_end = WALK_CANARY;
	a->flags = (known_flags & CLEAR) && chance(65) ? CLEAR : 0;
	gen_range(a);
	gen_masks(a);
	if (!(a->flags & CLEAR) || chance(50)) {
		set_vec(c, V_BIG);
		a->vec_len = gen_vec_len();
	}
	a->max_pages = chance(60) ? 0 : chance(75) ? 1 + rnd(70) : edge();
}

/* Each field, with @pct percent chance, gets an edge or random value */
static void mutate(struct call *c, unsigned int pct)
{
	struct pagemap_scan_arg *a = &c->a;
	__u64 *masks[] = { &a->required_mask, &a->anyof_mask,
			      &a->excluded_mask, &a->return_mask };
	size_t i;

	if (chance(pct))
		a->size = chance(50) ? edge() : ARG_SIZE + 8 * (rnd(5) - 2);
	if (chance(pct))
		a->flags = chance(50) ? edge() : a->flags ^ 1ULL << rnd(64);
	if ((known_flags & NRR) && chance(pct))
		a->flags |= NRR;
	for (i = 0; i < ARRAY_SIZE(masks); i++)
		if (chance(pct / 2 + 1))
			*masks[i] = chance(30) ? edge() : chance(50) ? rnd(16) :
				    *masks[i] ^ 1ULL << rnd(64);
	if (chance(pct))
		a->start = chance(50) ? edge() : a->start + rnd(3 * psz) - psz;
	if (chance(pct))
		a->len = chance(50) ? edge() : a->len + rnd(3 * psz) - psz;
	if (chance(pct)) {
		set_vec(c, rnd(V_IN_RANGE));
		a->vec_len = chance(15) ? 0 : gen_vec_len();
	}
	if (chance(pct))
		a->max_pages = edge();
	if (chance(pct))
		a->walk_end = edge();	/* out only: its value must not matter */
	if (chance(pct / 2 + 1))
		set_arg(c, rnd(NR_ARG_KINDS));
}

void gen_bad_size(struct call *c)
{
	gen_valid(c);
	do
		c->a.size = chance(50) ? PICK(0, 1, 8, ARG_SIZE - 8, ARG_SIZE + 8,
					      ARG_SIZE - 1, ARG_SIZE + 1, 2 * ARG_SIZE,
					      psz - 1, psz, psz + 1) : edge();
	while (c->a.size == ARG_SIZE);
	/* The size comes first: before the rest is read or anything checked */
	if (chance(20))
		set_arg(c, PICK(A_SPLIT_HOLE, A_RO, A_MISALIGNED, A_SPLIT_RO));
	/* A larger struct with a zero tail works (copy_struct_from_user()) */
	c->zero_tail = chance(50);
	mutate(c, 5);
}

void gen_bad_flags(struct call *c)
{
	uint64_t u = PICK(1 << 1, 1 << 2, 1 << 3, 1ULL << 31, 1ULL << 32,
			  1ULL << 63, ~0ULL, xorshift(&rng)) & ~known_flags;

	gen_valid(c);
	c->a.flags |= u ? u : 1 << 2;
	mutate(c, 3);
}

void gen_bad_masks(struct call *c)
{
	uint64_t u = PICK(SD, 1 << 4, 1 << 5, 1 << 7, 1ULL << 32, 1ULL << 63, ~0ULL,
			  xorshift(&rng)) & ~known_cats;	/* SD: without soft-dirty */
	__u64 *masks[] = { &c->a.required_mask, &c->a.anyof_mask,
			      &c->a.excluded_mask, &c->a.return_mask };

	gen_valid(c);
	*masks[rnd(4)] |= u ? u : 1 << 4;
	mutate(c, 3);
}

/* Unaligned starts, overflowing ends, ends past the limit; and the limit */
void gen_bad_range(struct call *c)
{
	struct pagemap_scan_arg *a = &c->a;
	uint64_t k = rnd(4);

	gen_valid(c);
	switch (rnd(7)) {
	case 0:
		a->start += 1 + rnd(psz - 1);
		break;
	case 1:
		a->start = PICK(1, psz - 1, psz + 1, ~0ULL, task_size + 1,
				xorshift(&rng) | 1);
		break;
	case 2:
		a->len = -a->start + rnd(4 * psz);		/* wraps */
		break;
	case 3:
		a->start = task_size - k * psz;
		a->len = k * psz + 1 + rnd(4 * psz);	/* past the limit */
		break;
	case 4:
		a->start = task_size - k * psz;		/* up to the limit: valid */
		a->len = k * psz - (k && chance(50) ? rnd(psz) : 0);
		break;
	case 5:
		a->start = PICK(task_size, task_size + psz, 1ULL << 47, 1ULL << 48);
		a->len = PICK(0, 1, psz);
		break;
	default:
		a->len = PICK(1ULL << 47, 1ULL << 63, ~0ULL, task_size,
			      task_size - a->start + 1, task_size - a->start);
		break;
	}
	mutate(c, 2);
}

void gen_vec_mismatch(struct call *c)
{
	gen_valid(c);
	if (chance(50)) {
		set_vec(c, V_NONE);
		do
			c->a.vec_len = edge();
		while (!c->a.vec_len);
	} else {
		set_vec(c, PICK(V_BIG, V_HOLE, V_KERNEL, V_RAW, V_PART_HOLE));
		c->a.vec_len = 0;
	}
	mutate(c, 2);
}

void gen_no_op(struct call *c)
{
	gen_valid(c);
	c->a.flags &= ~(uint64_t)CLEAR;
	if ((known_flags & NRR) && chance(30))
		c->a.flags |= NRR;
	set_vec(c, V_NONE);
	c->a.vec_len = 0;
	mutate(c, 2);
}

void gen_clear_masks(struct call *c)
{
	struct pagemap_scan_arg *a = &c->a;
	uint64_t other = 1 + rnd(7);	/* FILE, PRESENT, SWAPPED: bits 1-3 */

	gen_valid(c);
	a->flags |= CLEAR;
	switch (rnd(3)) {
	case 0: a->required_mask |= other << 1; break;
	case 1: a->anyof_mask |= other << 1; break;
	default: a->excluded_mask = 1 + rnd(15); break;
	}
	mutate(c, 2);
}

void gen_kernel(struct call *c)
{
	struct pagemap_scan_arg *a = &c->a;

	gen_valid(c);
	switch (rnd(4)) {
	case 0:
		a->start = kernel_addr() & ~(uint64_t)(psz - 1);
		a->len = PICK(0, psz, 1ULL << 30, edge());
		break;
	case 1:
		a->len = kernel_addr() - a->start + psz * rnd(3);
		break;
	case 2:
		set_vec(c, V_KERNEL);
		a->vec_len = gen_vec_len();
		break;
	default:
		set_arg(c, A_KERNEL);
		break;
	}
}

void gen_vec_unwritable(struct call *c)
{
	struct pagemap_scan_arg *a = &c->a;

	gen_valid(c);
	set_vec(c, PICK(V_HOLE, V_RO, V_KERNEL, V_RAW));
	a->vec_len = gen_vec_len();
	if (chance(50))		/* every mapped page matches */
		a->required_mask = a->anyof_mask = a->excluded_mask = 0;
}

/*
 * vec with w writable entries, then unmapped or read-only ones: around the
 * kernel's window of 170 entries too, with ranges that need more regions.
 */
void gen_vec_partly(struct call *c)
{
	struct pagemap_scan_arg *a = &c->a;
	uint64_t w = PICK(1, 2, 3, 1 + rnd(64), window - 1, window, window + 1,
			  1 + rnd(600), 2 * window, 2 * window + 1);

	gen_valid(c);
	a->flags = (known_flags & CLEAR) && chance(50) ? CLEAR : 0;
	gen_masks(a);
	set_vec_part(c, PICK(V_PART_HOLE, V_PART_RO), w);
	a->vec_len = chance(20) ? PICK(~0ULL, 1ULL << 40) : w + 1 + rnd(w + 8);
	if (chance(10))
		a->vec_len = 1 + rnd(c->vec_ok + 1);	/* all writable */
	if (w > 32 || chance(30)) {
		/* Enough regions: L alternates, seen through soft-dirty (or present) */
		a->start = arena_page(chance(50) ? S_FIRST : L_FIRST);
		a->len = arena_page(L_FIRST + L_PAGES) - a->start;
		a->required_mask = a->anyof_mask = a->excluded_mask = 0;
		a->return_mask = !(known_cats & SD) ? PAGE_IS_PRESENT :
				 SD | (chance(50) ? PAGE_IS_PRESENT : 0);
		if (l_broken)
			restore_l();
	}
	a->max_pages = chance(80) ? 0 : 1 + rnd(1024);
}

/*
 * vec inside [start, end): writing it changes the range while it is
 * scanned.  Mostly all writable; sometimes at the end of L, its later
 * entries in the guard.
 */
void gen_vec_in_range(struct call *c)
{
	struct pagemap_scan_arg *a = &c->a;
	size_t vfirst, vlast, first, last, mapped_end = L_FIRST + L_PAGES;
	uint64_t vec, n;

	gen_valid(c);
	a->flags = (known_flags & CLEAR) && chance(50) ? CLEAR : 0;
	gen_masks(a);
	a->max_pages = 0;
	if (chance(75)) {
		vec = arena_page(S_FIRST + rnd(S_PAGES + L_PAGES - 8)) +
		      (chance(50) ? REGION * rnd(psz / REGION) : rnd(psz));
		a->vec_len = 1 + rnd(chance(50) ? 64 : 3 * window);
	} else {
		/* Fewer writable entries than the kernel's window: EFAULT */
		n = 1 + rnd(window - 1);
		vec = arena_page(mapped_end) - n * REGION -
		      (chance(25) ? 1 + rnd(REGION - 1) : 0);
		a->vec_len = n + 1 + rnd(64);
	}
	c->vk = V_IN_RANGE;
	a->vec = vec;
	c->vec_ok = writable_entries(vec);
	vfirst = (vec - ARENA_ADDR) / psz;
	vlast = (vec + min64(a->vec_len, c->vec_ok) * REGION - 1 - ARENA_ADDR) / psz;
	first = S_FIRST - 1 + rnd(vfirst - S_FIRST + 2);
	last = vlast + rnd(min64(ARENA_PAGES - vlast, 64));
	a->start = arena_page(first);
	a->len = arena_page(last + 1) - a->start;
}

void gen_bad_arg(struct call *c)
{
	gen_valid(c);
	set_arg(c, PICK(A_MISALIGNED, A_RO, A_SPLIT_RO, A_SPLIT_HOLE, A_HOLE,
			A_KERNEL, A_NULL));
}

/* Space reservation ioctls (include/linux/falloc.h), not in the UAPI */
#define SPACE_RESV_SIZE	48
#define RESV(nr)	_IOC(_IOC_WRITE, 'X', nr, SPACE_RESV_SIZE)

/*
 * Handled by the VFS for every file, before pagemap's own ioctl
 * (do_vfs_ioctl(), file_ioctl() in fs/ioctl.c): not "an ioctl number this
 * file does not handle", so the random numbers avoid them.
 */
static const unsigned int vfs_cmds[] = {
	FIOCLEX, FIONCLEX, FIONBIO, FIOASYNC, FIOQSIZE, FIFREEZE, FITHAW,
	FS_IOC_FIEMAP, FIGETBSZ, FICLONE, FICLONERANGE, FIDEDUPERANGE, FIONREAD,
	FS_IOC_GETFLAGS, FS_IOC_SETFLAGS, FS_IOC_FSGETXATTR, FS_IOC_FSSETXATTR,
	FIBMAP, RESV(40), RESV(41), RESV(42), RESV(43), RESV(57),
};

static unsigned int random_cmd(void)
{
	unsigned int cmd;
	size_t i;

again:
	cmd = xorshift(&rng);
	if (cmd == PAGEMAP_SCAN)
		goto again;
	for (i = 0; i < ARRAY_SIZE(vfs_cmds); i++)
		if (cmd == vfs_cmds[i])
			goto again;
	return cmd;
}

/*
 * Other ioctl numbers, with a valid CLEAR argument (a call taken for a scan
 * would change S): random ones, PAGEMAP_SCAN's with other sizes,
 * directions, numbers or type, and with bits above the 32 the kernel takes.
 */
void gen_other_cmd(struct call *c)
{
	uint64_t size;

	gen_valid(c);
	switch (rnd(6)) {
	case 0:
	case 1:
		c->cmd = random_cmd();
		break;
	case 2:
	case 3:
		do
			size = chance(50) ? rnd(1 << _IOC_SIZEBITS) :
			       PICK(0, 1, 8, ARG_SIZE - 8, ARG_SIZE - 1, ARG_SIZE + 1,
				    ARG_SIZE + 8, 2 * ARG_SIZE, (1 << _IOC_SIZEBITS) - 1);
		while (size == ARG_SIZE);
		c->cmd = _IOC(_IOC_READ | _IOC_WRITE, 'f', NR, size);
		break;
	case 4:
		c->cmd = PICK(_IOR('f', NR, struct pagemap_scan_arg),
			      _IOW('f', NR, struct pagemap_scan_arg), _IO('f', NR),
			      _IOWR('f', NR - 1, struct pagemap_scan_arg),
			      _IOWR('f', NR + 1, struct pagemap_scan_arg),
			      _IOWR('g', NR, struct pagemap_scan_arg),
			      /* upstream's (6.7): the same size, another struct */
			      _IOWR('f', 16, struct pagemap_scan_arg));
		break;
	default:
		c->cmd = (1 + rnd(0xffffffffUL)) << 32 |
			 (chance(50) ? PAGEMAP_SCAN : random_cmd());
		break;
	}
}

void gen_random(struct call *c)
{
	gen_valid(c);
	mutate(c, 12);
}

/*
 * A call whose outcome depends on how many regions the scan needs, which
 * the model can count only in the arena and in pagemap's soft-dirty (not
 * NO_REUSED_REGIONS'), gets a vec longer than any range of ours can fill.
 */
void make_knowable(struct call *c)
{
	const struct pagemap_scan_arg *a = &c->a;

	if (c->vk == V_IN_RANGE || first_check(c) >= 0 || !a->vec ||
	    c->vec_ok >= a->vec_len || c->vec_ok > max_regions)
		return;
	if (arena_confined(a) && !(a->flags & NRR))
		return;
	set_vec(c, V_BIG);
}
