// SPDX-License-Identifier: GPL-2.0
/*
 * scan-fuzz: PAGEMAP_SCAN with random and edge-case arguments.
 *
 *   scan-fuzz [--calls N] [--seed S]
 *
 * Every call's result is checked against a model of the contract
 * (shared/docs/pagemap-scan-spec.md, "Errors" and "What one call does"),
 * which follows the kernel's order of checks where several errors apply
 * (checks[] below).  The calls point at memory of ours at fixed addresses,
 * so that the model knows which pages are mapped and how:
 *
 *  - the arena: a region S of 64 pages (anonymous with a MAP_SHARED memfd
 *    tail; pages written, clean after a CLEAR, unpopulated, zero-page,
 *    swapped, and VM_SOFTDIRTY after a fresh mmap), then a region L of 512
 *    pages alternately written and clean (more regions than the kernel's
 *    vec window of 170 holds), then at the next 2 MiB a region T of two
 *    THP slots, anonymous and a MAP_SHARED memfd (with shmem_enabled
 *    advise): each is rebuilt now and then as a THP, mapped by a PMD or by
 *    PTEs, dirty or clean, partly zapped or swapped (refresh_t()); unmapped
 *    guard pages between and around them;
 *  - vec buffers: a long one, ones whose later entries are unmapped or
 *    read-only, a read-only page, holes; and the argument pages: writable,
 *    read-only, hole.
 *
 * Before every call the pagemap entries of the arena are read.  After a
 * failed call they must be unchanged (bits 55, 61, 62, 63), and so must the
 * argument and vec.  After a successful one the regions, walk_end and the
 * new state of the arena must be what the model derives from the entries
 * read before.  One allowance in both: a CLEAR that covers a shmem THP in
 * part splits it, and its pages may then read not present (bits 61 and
 * 63; their soft-dirty bits must be as for any page, and their regions
 * report what they were before the call).  Most calls scan S (CLEAR in
 * most), so that a call wrongly accepted would change something; S is
 * stirred again every 32 calls, and a slot of T sometimes.
 *
 * Without CONFIG_MEM_SOFT_DIRTY the same classes run with the model of such
 * a kernel (spec "Compatibility"): PAGEMAP_SOFTDIRTY_CLEAR is an unknown flag
 * and PAGE_IS_SOFTDIRTY an unknown mask bit, both EINVAL; valid calls GET.
 *
 * Output: kselftest TAP, one result per class of case (classes[]), passing
 * only if none of its calls got a wrong errno, a wrong result or changed
 * something it must not, and one that fails if a kernel with THP made no
 * anonymous or no shmem THP in T.  Exit: 0 all passed, 1 a result failed,
 * 2 usage.
 */
#include "scan-fuzz.h"
#include "kselftest.h"

static const char *const vec_names[NR_VEC_KINDS] = {
	"none", "long buffer", "unmapped", "read-only", "kernel address",
	"raw number", "partly unmapped", "partly read-only", "in the range",
};

static const char *const arg_names[NR_ARG_KINDS] = {
	"writable", "misaligned", "read-only", "writable then read-only",
	"readable then unmapped", "unmapped", "kernel address", "NULL",
};

static const char *const slot_names[7] = {
	"success", "EINVAL", "EFAULT", "ENOTTY", "EFAULT or short success",
	"E2BIG", "other",
};

long psz;
int pm_fd;
uint64_t rng;
uint64_t task_size;	/* the task's address-space limit */
uint64_t known_flags;	/* flags the kernel takes */
uint64_t known_cats = CATS;	/* mask bits it takes: no SD without soft-dirty */
uint64_t max_regions;	/* no range of this process has more */
unsigned long window;	/* vec entries the kernel buffers: a page */
uint8_t pre[ARENA_PAGES], post[ARENA_PAGES]; /* arena categories */
uint64_t pre_pm[ARENA_PAGES];	/* and the pagemap entries before */
int t_fd;			/* the memfd of T's shmem slot */
unsigned long thp_made[2], thp_tries[2];	/* T's slots: anon, shmem */
bool l_broken;		/* L lost its pattern */
unsigned long shown, setup_calls;
char *arg_alias;		/* writable view of the read-only arg page */
char msg[512];
struct zone zones[3];	/* where vec entries are writable */

uint64_t rnd(uint64_t n)
{
	return n ? xorshift(&rng) % n : 0;
}

bool chance(unsigned int percent)
{
	return rnd(100) < percent;
}

uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

uint64_t page_up(uint64_t addr)
{
	return (addr + psz - 1) & ~(uint64_t)(psz - 1);
}

static struct klass {
	const char *name;
	unsigned int weight;	/* calls in 100 */
	void (*gen)(struct call *c);
	struct counts n;
} classes[] = {
	{ .name = "size: smaller EINVAL, larger E2BIG unless its tail is zero", .weight = 5,
	  .gen = gen_bad_size },
	{ .name = "unknown flags give EINVAL", .weight = 5, .gen = gen_bad_flags },
	{ .name = "unknown mask bits give EINVAL", .weight = 5, .gen = gen_bad_masks },
	{ .name = "unaligned start, overflowing or too high end give EINVAL", .weight = 6, .gen = gen_bad_range },
	{ .name = "vec and vec_len disagreeing give EINVAL", .weight = 4, .gen = gen_vec_mismatch },
	{ .name = "neither GET nor CLEAR gives EINVAL", .weight = 3, .gen = gen_no_op },
	{ .name = "CLEAR with disallowed masks gives EINVAL", .weight = 4, .gen = gen_clear_masks },
	{ .name = "kernel addresses", .weight = 5, .gen = gen_kernel },
	{ .name = "vec unwritable gives EFAULT and changes nothing", .weight = 8, .gen = gen_vec_unwritable },
	{ .name = "vec partly unwritable: EFAULT or a shorter walk_end", .weight = 8, .gen = gen_vec_partly },
	{ .name = "vec inside the scanned range", .weight = 6, .gen = gen_vec_in_range },
	{ .name = "arg not writable gives EFAULT, misaligned works", .weight = 6, .gen = gen_bad_arg },
	{ .name = "other ioctl numbers give ENOTTY", .weight = 5, .gen = gen_other_cmd },
	{ .name = "random arguments match the model", .weight = 30, .gen = gen_random },
	{ .name = "failed calls change no soft-dirty state and write nothing", .weight = 0, .gen = NULL },
};

static size_t expect_slot(const struct expect *e)
{
	if (e->or_short)
		return 4;
	switch (e->err) {
	case 0: return 0;
	case EINVAL: return 1;
	case EFAULT: return 2;
	case ENOTTY: return 3;
	case E2BIG: return 5;
	}
	return 6;
}

static void show(const struct klass *k, const struct call *c,
		 const struct expect *e, long ret, int err, const char *what)
{
	const struct pagemap_scan_arg *a = &c->a;

	if (shown++ >= SHOW_MAX)
		return;
	ksft_print_msg("%s: %s\n", k->name, what);
	ksft_print_msg("  cmd %#lx, arg at %#lx (%s): size %#llx flags %#llx start %#llx len %#llx\n",
		       c->cmd, (unsigned long)c->argp, arg_names[c->ak],
		       a->size, a->flags, a->start, a->len);
	ksft_print_msg("  vec %#llx (%s, %llu writable entries) vec_len %#llx max_pages %#llx\n",
		       a->vec, vec_names[c->vk], (unsigned long long)c->vec_ok,
		       a->vec_len, a->max_pages);
	ksft_print_msg("  required %#llx anyof %#llx excluded %#llx return %#llx\n",
		       a->required_mask, a->anyof_mask, a->excluded_mask,
		       a->return_mask);
	ksft_print_msg("  expected %s%s (%s); got %s (%ld)\n", errname(e->err),
		       e->or_short ? " or a short success" : "", e->why,
		       errname(ret < 0 ? err : 0), ret);
}

struct result {
	long ret;
	bool short_success;
	uint64_t walk_end;
};

/* One call: prepare, model, call, judge */
static struct result run_one(struct klass *k, struct call *c)
{
	struct result r = { 0 };
	struct expect e;
	const char *bad;
	int err, got;

	make_knowable(c);
	prepare(c);
	read_arena(pre, pre_pm);
	model(c, &e);
	errno = 0;
	r.ret = ioctl(pm_fd, c->cmd, (void *)c->argp);
	err = errno;
	read_arena(post, NULL);

	got = r.ret < 0 ? err : 0;
	k->n.calls++;
	k->n.expected[expect_slot(&e)]++;
	if (got != e.err && !(e.or_short && !got)) {
		k->n.wrong++;
		show(k, c, &e, r.ret, err, "wrong errno");
	}
	if (r.ret < 0) {
		k->n.failed++;
		k->n.or_efault += e.or_short && got == EFAULT;
		bad = check_failed(c);
		if (bad) {
			k->n.violations++;
			show(k, c, &e, r.ret, err, bad);
		}
	} else if (got == e.err || e.or_short) {
		k->n.or_success += e.or_short;
		bad = check_success(c, &e, r.ret);
		if (bad) {
			k->n.bad++;
			show(k, c, &e, r.ret, err, bad);
		}
		memcpy(&r.walk_end, (char *)c->argp +
		       offsetof(struct pagemap_scan_arg, walk_end), 8);
		r.short_success = e.or_short && r.walk_end < page_up(c->a.start + c->a.len);
	}
	/* Keep the long vec's canary; note when L lost its pattern */
	if (c->vk == V_BIG && r.ret > 0)
		memset((void *)c->a.vec, CANARY,
		       min64(r.ret + 4, min64(c->vec_ok, c->a.vec_len)) * REGION);
	if (c->vk == V_IN_RANGE || (r.ret >= 0 && (c->a.flags & CLEAR) &&
				    c->a.start < arena_page(L_FIRST + L_PAGES) &&
				    c->a.start + c->a.len > arena_page(L_FIRST)))
		l_broken = true;
	return r;
}

/*
 * After a short success, the next call from walk_end, with vec from the
 * entry that was not writable, must fail with nothing changed (pagemap.rst).
 */
static void run_follow_up(struct klass *k, const struct call *c, const struct result *r)
{
	struct call f = *c;

	f.a.start = r->walk_end;
	f.a.len = c->a.start + c->a.len - r->walk_end;
	f.a.vec += r->ret * REGION;
	f.a.vec_len -= r->ret;
	f.a.max_pages = 0;
	f.a.walk_end = WALK_CANARY;
	f.vec_ok = writable_entries(f.a.vec);
	run_one(k, &f);
}

/* Whether the kernel takes @flags: a read-only argument gets EFAULT then */
static int probe_flags(uint64_t flags)
{
	struct call c;

	gen_valid(&c);
	set_arg(&c, A_RO);
	c.a.flags = flags;
	c.a.start = arena_page(S_FIRST);
	c.a.len = psz;
	c.a.required_mask = c.a.anyof_mask = c.a.excluded_mask = 0;
	set_vec(&c, V_BIG);
	c.a.vec_len = 1;
	put_arg(&c);
	setup_calls++;
	return ioctl(pm_fd, PAGEMAP_SCAN, (void *)c.argp) < 0 ? errno : 0;
}

/* What the VFS's generic ioctls do on pagemap, for the record */
static void vfs_notes(void)
{
	static const struct {
		unsigned long cmd;
		const char *name;
	} v[] = {
		{ FIOCLEX, "FIOCLEX" }, { FIONCLEX, "FIONCLEX" },
		{ FIOQSIZE, "FIOQSIZE" }, { FIGETBSZ, "FIGETBSZ" },
		{ FIONREAD, "FIONREAD" }, { FS_IOC_GETFLAGS, "FS_IOC_GETFLAGS" },
		{ FS_IOC_FSGETXATTR, "FS_IOC_FSGETXATTR" },
	};
	char line[512] = "", buf[256] __attribute__((aligned(8)));
	size_t i, n = 0;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		int ret = ioctl(pm_fd, v[i].cmd, buf);

		n += snprintf(line + n, sizeof(line) - n, "%s %s%s", v[i].name,
			      errname(ret < 0 ? errno : 0),
			      i + 1 < ARRAY_SIZE(v) ? ", " : "");
	}
	ksft_print_msg("generic VFS ioctls (fs/ioctl.c, before pagemap's; not counted): %s\n",
		       line);
}

static void report(struct klass *k, const struct counts *n)
{
	char line[512];
	size_t i, len;

	len = snprintf(line, sizeof(line), "%lu calls, expected:", n->calls);
	for (i = 0; i < ARRAY_SIZE(n->expected); i++)
		if (n->expected[i])
			len += snprintf(line + len, sizeof(line) - len, " %s %lu,",
					slot_names[i], n->expected[i]);
	ksft_print_msg("%s: %s wrong errno %lu, wrong results %lu, violations %lu\n",
		       k->name, line, n->wrong, n->bad, n->violations);
	if (n->or_efault || n->or_success)
		ksft_print_msg("%s: where EFAULT or a success was allowed: EFAULT %lu, success %lu\n",
			       k->name, n->or_efault, n->or_success);
	if (!n->calls)
		ksft_test_result_skip("%s: no calls\n", k->name);
	else
		ksft_test_result(!n->wrong && !n->bad && !n->violations, "%s\n", k->name);
}

static void report_all(uint64_t ns)
{
	struct klass *agg = &classes[ARRAY_SIZE(classes) - 1];
	struct counts t = { 0 };
	size_t i, j;

	for (i = 0; i + 1 < ARRAY_SIZE(classes); i++) {
		const struct counts *n = &classes[i].n;

		if (classes[i].gen == gen_other_cmd)
			vfs_notes();
		report(&classes[i], n);
		t.calls += n->calls;
		t.wrong += n->wrong;
		t.bad += n->bad;
		t.violations += n->violations;
		t.failed += n->failed;
		for (j = 0; j < ARRAY_SIZE(t.expected); j++)
			t.expected[j] += n->expected[j];
	}
	ksft_print_msg("all: %lu calls (%lu more to set up and stir the arena) in %.1f s; wrong errno %lu, wrong results %lu\n",
		       t.calls, setup_calls, ns / 1e9, t.wrong, t.bad);
	ksft_print_msg("%s: %lu failed calls compared, violations %lu\n",
		       agg->name, t.failed, t.violations);
	if (!t.failed)
		ksft_test_result_skip("%s: no call failed\n", agg->name);
	else
		ksft_test_result(!t.violations, "%s\n", agg->name);
}

/* Whether T held THPs; without them its calls tested small pages only */
static void report_thp(bool shmem_thp)
{
	ksft_print_msg("T: %lu of %lu anonymous and %lu of %lu shmem rebuilds made a THP\n",
		       thp_made[0], thp_tries[0], thp_made[1], thp_tries[1]);
	if (access(THP_ENABLED, F_OK))
		ksft_test_result_skip("THP in T: no %s\n", THP_ENABLED);
	else
		ksft_test_result(thp_made[0] && (!shmem_thp || thp_made[1]),
				 "THP in T: anonymous%s\n", shmem_thp ? " and shmem" : "");
}

static void skip_all(const char *why)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(classes); i++)
		ksft_test_result_skip("%s: %s\n", classes[i].name, why);
	ksft_test_result_skip("THP in T: %s\n", why);
	ksft_finished();
}

/* Call i goes to the class cycle[i % 100], in a shuffled order */
static void make_cycle(unsigned char *cycle, size_t *len)
{
	size_t i, j, n = 0;
	unsigned char t;

	for (i = 0; i < ARRAY_SIZE(classes); i++)
		for (j = 0; j < classes[i].weight; j++)
			cycle[n++] = i;
	for (i = n; i > 1; i--) {
		j = rnd(i);
		t = cycle[i - 1];
		cycle[i - 1] = cycle[j];
		cycle[j] = t;
	}
	*len = n;
}

void fuzz(size_t calls)
{
	unsigned char cycle[128];
	size_t i, len;
	uint64_t t0 = now();

	make_cycle(cycle, &len);
	for (i = 0; i < calls; i++) {
		struct klass *k = &classes[cycle[i % len]];
		struct call c;
		struct result r;

		if (i % REFRESH == 0) {
			refresh_s();
			refresh_t();
		}
		k->gen(&c);
		r = run_one(k, &c);
		if (r.short_success)
			run_follow_up(k, &c, &r);
	}
	report_all(now() - t0);
}

static void usage(FILE *f, int status)
{
	fprintf(f, "usage: scan-fuzz [--calls N] [--seed S]\n"
		"  --calls N  PAGEMAP_SCAN calls (100..1000000000, default %d)\n"
		"  --seed S   of the pseudo-random arguments (default %llu)\n",
		DEFAULT_CALLS, DEFAULT_SEED);
	exit(status);
}

int main(int argc, char **argv)
{
	size_t calls = DEFAULT_CALLS, seed = DEFAULT_SEED;
	bool shmem_thp;
	int i, err;

	no_aslr(argv);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			usage(stdout, 0);
		if (strcmp(argv[i], "--calls") && strcmp(argv[i], "--seed")) {
			fprintf(stderr, "error: unknown argument '%s'\n", argv[i]);
			usage(stderr, 2);
		}
		if (i + 1 == argc) {
			fprintf(stderr, "error: %s needs a value\n", argv[i]);
			usage(stderr, 2);
		}
		if (!strcmp(argv[i], "--calls"))
			calls = parse(argv[i + 1], "--calls", 100, 1000000000);
		else
			seed = parse(argv[i + 1], "--seed", 1, SIZE_MAX);
		i++;
	}
	rng = seed;
	psz = sysconf(_SC_PAGESIZE);
	window = psz / REGION;
	pm_fd = scan_open(0);
	task_size = find_task_size();
	setvbuf(stdout, NULL, _IOLBF, 0);
	ksft_print_header();
	ksft_set_plan(ARRAY_SIZE(classes) + 1);
	shmem_thp = shmem_thp_advise();

	setup_memory();
	known_flags = CLEAR;
	err = probe_flags(CLEAR);
	if (err == ENOTTY)
		skip_all("the kernel has no PAGEMAP_SCAN");
	if (err == EINVAL) {	/* spec "Compatibility": CLEAR and SD are unknown */
		known_flags = 0;
		known_cats &= ~(uint64_t)SD;
		ksft_print_msg("no CONFIG_MEM_SOFT_DIRTY (CLEAR gets EINVAL): CLEAR and "
			       "PAGE_IS_SOFTDIRTY are unknown bits to the model\n");
	} else if (err != EFAULT) {
		ksft_exit_fail_msg("PAGEMAP_SOFTDIRTY_CLEAR probe: %s, not EFAULT or EINVAL\n",
				   errname(err));
	}
	err = probe_flags(CLEAR | NRR);
	if (err == EFAULT)
		known_flags |= NRR;
	else if (err != EINVAL)
		ksft_exit_fail_msg("PAGEMAP_NO_REUSED_REGIONS probe: %s, not EFAULT or EINVAL\n",
				   errname(err));
	setup_arena();
	max_regions = 2 * mapped_pages() + 1024;
	if (max_regions >= BIG_PAGES * psz / REGION)
		ksft_exit_fail_msg("%llu pages mapped: too many for the long vec\n",
				   (unsigned long long)max_regions);
	ksft_print_msg("seed %zu, %zu calls, address-space limit %#llx\n", seed,
		       calls, (unsigned long long)task_size);
	ksft_print_msg("PAGEMAP_NO_REUSED_REGIONS: %s\n", known_flags & NRR ?
		       "known (a read-only argument gets EFAULT): a valid flag" :
		       "unknown (EINVAL): an unknown flag bit like the others");
	fuzz(calls);
	report_thp(shmem_thp);
	ksft_finished();
}
