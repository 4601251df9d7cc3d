// SPDX-License-Identifier: GPL-2.0
/*
 * lostwrite: no write is lost by PAGEMAP_SCAN GET+CLEAR under concurrency.
 *
 *   lostwrite [--writes N] [--pages N] [--burst N] [--seed S]
 *             [--variants NAME[,NAME]...]
 *
 * Writer threads write random pages of a tracked region, each page holding a
 * counter that only its owner thread increments.  Meanwhile a collector loops
 * GET+CLEAR over random sub-ranges, with random max_pages and vec_len,
 * resuming at walk_end.  The check, for every page a call examined (below its
 * walk_end) and did not report: its counter, read before the call, must
 * equal the value read right after the call that last reported it.  A write
 * after that read made the page soft-dirty after its last clear, so a call
 * that does not report it lost the write, even if a later write to the same
 * page would hide the loss.  A final complete pass after the writers stopped
 * checks the last write of every page.  Violations must be 0.
 *
 * Variants, each in its own child process: anon, shmem (memfd), file (a
 * MAP_SHARED file in /tmp), private-file (MAP_PRIVATE, COW), thp
 * (MADV_HUGEPAGE), swap (anon with a thread doing MADV_PAGEOUT meanwhile),
 * swap-shmem (the same on shmem, whose PTEs keep soft-dirty in a marker
 * when paged out), thp-shmem, swap-thp-shmem (memfd with MADV_HUGEPAGE and
 * shmem_enabled advise), chaos-thp-shmem (shmem_enabled always), thp-tmpfs
 * and chaos-thp-tmpfs (a file on a tmpfs of their own mounted huge=always):
 * a shmem THP variant fails if no shmem THP is made; chaos, chaos-thp,
 * chaos-shmem (a thread changing VMAs and
 * page tables meanwhile: see chaos()), nrr-anon, nrr-shmem, nrr-chaos
 * (PAGEMAP_NO_REUSED_REGIONS; SKIP if rejected), and race-anon, race-shmem,
 * race-thp, race-nrr: races on the tracked mapping itself.  There the
 * mapping holds a churn part of 2 MiB before the checked region, in the same
 * VMA, and a hole of a page on each side.  A thread writes the churn part,
 * munmaps and maps it back, mremaps pieces away and back, mprotects pieces
 * RO and back (splitting and merging the checked region's VMA too),
 * MADV_DONTNEED / PAGEOUT / HUGEPAGE / COLLAPSE and forks (see churn_once()).
 * Two more scanners run meanwhile: GET only over everything (holes, churn
 * part and region: a GET changes no state, so it hides nothing from the
 * collector) and GET+CLEAR over the churn part and its hole, with random
 * masks, max_pages and vec_len.  Each of their calls must give an output
 * the spec allows whatever the races: no error but ENOMEM, a page-aligned
 * walk_end in (start, end], sorted, maximal, non-overlapping regions inside
 * [start, walk_end), none in a hole, bitmaps that match the masks, at most
 * vec_len regions and max_pages pages, and a stop before the end only when
 * one of them is reached.  migrate, migrate-shmem and migrate-thp: a thread
 * moves parts of the region between NUMA nodes with move_pages(2), mapping
 * shared parts again and reading them first so that their PTEs are
 * writable and clean (see migrate()); SKIP with one node.  They found that
 * clearing a writable migration entry lost the next write (main-series
 * patches 4 and 5).  twin, twin-shmem and twin-thp: a second GET+CLEAR
 * collector loops over random sub-ranges of the same pages, so the two clear
 * the same pages concurrently.  A page a call does not report must then not
 * have been written since the last report of it by either collector: each
 * call takes a ticket before and after, publishes its reports, and checks
 * only when the other collector's calls that began before it ended have
 * published theirs (see check_call()). Output: kselftest TAP, one result per
 * variant.  Exit: 0 ok, 1 a variant failed, 2 usage.
 */
#define _GNU_SOURCE
#include "lostwrite.h"
#include "kselftest.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const struct variant variants[] = {
	{ "anon", ANON, NULL, false, NONE },
	{ "shmem", SHMEM, NULL, false, NONE },
	{ "file", FILE_SHARED, NULL, false, NONE },
	{ "private-file", FILE_PRIVATE, NULL, false, NONE },
	{ "thp", ANON, "advise", false, NONE },
	{ "swap", ANON, NULL, false, PAGEOUT },
	{ "swap-shmem", SHMEM, NULL, false, PAGEOUT },
	{ "chaos", ANON, NULL, false, CHAOS },
	{ "chaos-thp", ANON, "advise", false, CHAOS },
	{ "chaos-shmem", SHMEM, NULL, false, CHAOS },
	{ "nrr-anon", ANON, NULL, true, NONE },
	{ "nrr-shmem", SHMEM, NULL, true, NONE },
	{ "nrr-chaos", ANON, NULL, true, CHAOS },
	{ "race-anon", ANON, NULL, false, RACE },
	{ "race-shmem", SHMEM, NULL, false, RACE },
	{ "race-thp", ANON, "advise", false, RACE },
	{ "race-nrr", ANON, NULL, true, RACE },
	{ "migrate", ANON, NULL, false, MIGRATE },
	{ "migrate-shmem", SHMEM, NULL, false, MIGRATE },
	{ "migrate-thp", ANON, "advise", false, MIGRATE },
	{ "twin", ANON, NULL, false, TWIN },
	{ "twin-shmem", SHMEM, NULL, false, TWIN },
	{ "twin-thp", ANON, "advise", false, TWIN },
	{ "thp-shmem", SHMEM, "advise", false, NONE },
	{ "swap-thp-shmem", SHMEM, "advise", false, PAGEOUT },
	{ "chaos-thp-shmem", SHMEM, "always", false, CHAOS },
	{ "thp-tmpfs", TMPFS_HUGE, "advise", false, NONE },
	{ "chaos-thp-tmpfs", TMPFS_HUGE, "advise", false, CHAOS },
};
#define NR_VARIANTS (sizeof(variants) / sizeof(variants[0]))

/* The run's parameters, and the state one variant's child works on */
size_t writes = 100000, npages = 4096, psz;
size_t burst = 32;	/* writes of a writer between two collector calls */
uint64_t seed = 1;
static bool variant_off[NR_VARIANTS];

const struct variant *V;
char *region;
int pm;
volatile int stop;
int writers_done;
unsigned long calls_done;	/* by the collector, to pace the writers */
static uint64_t *seen;		/* counter read after the last report, by anyone */

struct stats {
	uint64_t calls, reported, examined, violations;
};

/* A GET+CLEAR collector: the twin variants run two on the same pages */
struct collector {
	int id;
	uint64_t *before;	/* counter read before the current call */
	uint64_t rnd;
	struct stats st;
};

/*
 * Call order across the collectors: a ticket is taken before each call and
 * after it, and in_flight[id] holds the start ticket of a collector's call
 * whose reports are not published in seen[] yet (else UINT64_MAX).
 */
static uint64_t ticket;
static uint64_t in_flight[2] = { UINT64_MAX, UINT64_MAX };

/* ---- the collector ---- */

static void violation(struct collector *c, size_t page, const char *when)
{
	if (c->st.violations++ < SHOW_MAX)
		ksft_print_msg("%s: page %zu written (counter %llu, last reported at %llu) "
			       "but not reported %s\n", V->name, page,
			       (unsigned long long)c->before[page],
			       (unsigned long long)seen[page], when);
}

/* A report of @page: its counter now is what the next calls must not exceed */
static void publish(size_t page)
{
	uint64_t v = load(page), old = __atomic_load_n(&seen[page], __ATOMIC_ACQUIRE);

	while (old < v && !__atomic_compare_exchange_n(&seen[page], &old, v, false,
						       __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		;
}

/*
 * Wait until the other collector's calls that began before ours ended
 * (@end) have published their reports: one of them may have cleared a page
 * we examined, after its last write.
 */
static void wait_for_twin(const struct collector *c, uint64_t end)
{
	while (__atomic_load_n(&in_flight[!c->id], __ATOMIC_SEQ_CST) < end)
		sched_yield();
}

/*
 * Check one call that examined [@from, @to) and reported @vec: reported pages
 * get a new "seen" value, the others must not have been written since the
 * last report of them by any call.  A page we did not report was clean when
 * we examined it; if it was written before our call, some call reported it
 * after that write and before we examined it, and read its counter after.
 */
static void check_call(struct collector *c, size_t from, size_t to, uint64_t end,
		       const struct page_region *vec, long n, const char *when)
{
	size_t page = from, first, last;
	long i;

	for (i = 0; i < n; i++) {
		first = (vec[i].start - (uintptr_t)region) / psz;
		for (page = first; page < first + vec[i].len / psz; page++)
			publish(page);
		c->st.reported += vec[i].len / psz;
	}
	__atomic_store_n(&in_flight[c->id], UINT64_MAX, __ATOMIC_SEQ_CST);
	wait_for_twin(c, end);
	for (page = from, i = 0; i <= n; i++) {
		first = i < n ? (vec[i].start - (uintptr_t)region) / psz : to;
		last = i < n ? first + vec[i].len / psz : to;
		for (; page < first; page++)
			if (c->before[page] > __atomic_load_n(&seen[page], __ATOMIC_ACQUIRE))
				violation(c, page, when);
		page = last;
	}
	c->st.examined += to - from;
}

/* GET+CLEAR of [@from, @to), a call at a time from walk_end */
static void collect(struct collector *c, size_t from, size_t to, bool random_limits,
		    const char *when)
{
	struct page_region vec[MAX_VEC];
	uint64_t flags = PAGEMAP_SOFTDIRTY_CLEAR | (V->nrr ? PAGEMAP_NO_REUSED_REGIONS : 0);
	uint64_t end, max_pages = 0, ticket_end;
	size_t vec_len = MAX_VEC, page, done;
	long n;

	while (from < to) {
		if (random_limits) {
			vec_len = 1 + xorshift(&c->rnd) % MAX_VEC;
			max_pages = xorshift(&c->rnd) % 2 ? 0 : 1 + xorshift(&c->rnd) % 64;
		}
		__atomic_store_n(&in_flight[c->id], __atomic_fetch_add(&ticket, 1, __ATOMIC_SEQ_CST),
				 __ATOMIC_SEQ_CST);
		for (page = from; page < to; page++)
			c->before[page] = load(page);
		n = scan_call(pm, flags, region + from * psz, (to - from) * psz, vec, vec_len,
			      max_pages, PAGE_IS_SOFTDIRTY, 0, 0, PAGE_IS_SOFTDIRTY, &end);
		if (n < 0)
			fail("PAGEMAP_SCAN GET+CLEAR");
		ticket_end = __atomic_fetch_add(&ticket, 1, __ATOMIC_SEQ_CST);
		done = (end - (uintptr_t)region) / psz;
		if (done <= from || done > to)
			ksft_exit_fail_msg("%s: walk_end %#llx outside the call's range\n",
					   V->name, (unsigned long long)end);
		c->st.calls++;
		__atomic_add_fetch(&calls_done, 1, __ATOMIC_RELEASE);
		check_call(c, from, done, ticket_end, vec, n, when);
		from = done;
	}
}

/*
 * Collect until the writers are done: each round a random sub-range, short
 * but for one round in 16, as each call reads the counters of its range first
 */
static void collect_while_writing(struct collector *c)
{
	size_t from, to;

	while (__atomic_load_n(&writers_done, __ATOMIC_ACQUIRE) < WRITERS) {
		from = xorshift(&c->rnd) % npages;
		to = npages - from;
		if (xorshift(&c->rnd) % 16)
			to = to < SPAN ? to : SPAN;
		to = from + 1 + xorshift(&c->rnd) % to;
		collect(c, from, to, true, "while writing");
	}
}

/* The twin variants' second collector, on the same pages as the first */
static void *twin(void *arg)
{
	collect_while_writing(arg);
	return NULL;
}

static struct collector *new_collector(int id)
{
	struct collector *c = calloc(1, sizeof(*c));

	if (!c || !(c->before = calloc(npages, sizeof(*c->before))))
		fail("calloc");
	c->id = id;
	c->rnd = seed + 1000 * id;
	return c;
}

/* ---- one variant, in a child ---- */

static int enter_mode(const struct variant *v)
{
	if (!v->nrr || !scan_enter_nrr(pm))
		return 0;
	if (errno == EINVAL)
		return KSFT_SKIP;
	fail("enter PAGEMAP_NO_REUSED_REGIONS");
}

/* A collector's totals, after @what ("N writes, " or which collector) */
static void print_stats(const char *what, const struct stats *st)
{
	ksft_print_msg("%s: %s%llu calls, %llu pages examined, %llu reported, %llu violations\n",
		       V->name, what, (unsigned long long)st->calls,
		       (unsigned long long)st->examined, (unsigned long long)st->reported,
		       (unsigned long long)st->violations);
}

/* Start the extra thread: a pager, chaos, churn (and scanners) or a twin */
static void start_extra(pthread_t *th, pthread_t *scanners, struct collector *twin_c)
{
	if (V->extra == TWIN)
		errno = pthread_create(th, NULL, twin, twin_c);
	else
		errno = pthread_create(th, NULL, extra, NULL);
	if (errno)
		fail("pthread_create the pager, chaos, churn or twin thread");
	if (V->extra == RACE)
		start_race(scanners);
}

static int run_variant(const struct variant *v)
{
	pthread_t w[WRITERS], th, scanners[2];
	unsigned long migrated = vmstat("pgmigrate_success"), huge;
	struct collector *c, *c2;
	bool race_ok = true;
	char total[32];
	size_t i;
	int rc;

	V = v;
	pm = scan_open(0);
	rc = enter_mode(v);
	if (rc)
		return rc;
	huge = vmstat("nr_shmem_hugepages");
	region = map_region(v);
	/* A shmem THP variant that made no shmem THP would test nothing */
	if (shmem_thp(v) && vmstat("nr_shmem_hugepages") <= huge) {
		ksft_print_msg("%s: no shmem THP was made\n", v->name);
		return KSFT_FAIL;
	}
	seen = calloc(npages, sizeof(*seen));
	if (!seen)
		fail("calloc");
	c = new_collector(0);
	c2 = v->extra == TWIN ? new_collector(1) : NULL;
	collect(c, 0, npages, false, "by the first pass");
	c->st = (struct stats){};

	for (i = 0; i < WRITERS; i++)
		if ((errno = pthread_create(&w[i], NULL, writer, (void *)(uintptr_t)i)))
			fail("pthread_create a writer");
	if (v->extra != NONE)
		start_extra(&th, scanners, c2);
	collect_while_writing(c);
	for (i = 0; i < WRITERS; i++)
		pthread_join(w[i], NULL);
	stop = 1;
	if (v->extra != NONE)
		pthread_join(th, NULL);
	if (v->extra == RACE)
		race_ok = stop_race(scanners);
	if (v->extra == MIGRATE)
		ksft_print_msg("%s: %lu move_pages calls, %lu pages migrated\n", v->name,
			       churn_ops, vmstat("pgmigrate_success") - migrated);
	collect(c, 0, npages, false, "by the final pass");
	if (c2)
		print_stats("the twin collector: ", &c2->st);
	snprintf(total, sizeof(total), "%zu writes, ", writes / WRITERS * WRITERS);
	print_stats(total, &c->st);
	if (!race_ok)
		return KSFT_FAIL;
	if (!c->st.violations && (!c2 || !c2->st.violations))
		return KSFT_PASS;
	return KSFT_FAIL;
}

/* Fork a child per variant: NO_REUSED_REGIONS is per mm and permanent */
/*
 * Why this kernel cannot run @v (its result is then a SKIP), or NULL: the
 * config matrix boots kernels without soft-dirty and without THP.
 */
static const char *unsupported(const struct variant *v)
{
	static const char *no_clear;
	static bool probed;

	if (!probed) {
		no_clear = scan_clear_unsupported();
		probed = true;
	}
	if (no_clear)
		return no_clear;
	if (v->thp && access("/sys/kernel/mm/transparent_hugepage/enabled", F_OK))
		return "no THP (CONFIG_TRANSPARENT_HUGEPAGE=n)";
	if (v->extra == MIGRATE && access("/sys/devices/system/node/node1", F_OK))
		return "one NUMA node: no other node to migrate to";
	return NULL;
}

static void test_variant(const struct variant *v)
{
	const char *why = unsupported(v);
	bool knob = v->backing == SHMEM && v->thp;
	char old[32];
	int status;
	pid_t pid;

	if (why) {
		ksft_test_result_skip("no lost write: %s: %s\n", v->name, why);
		return;
	}
	if (knob && !sysfs_mode(SHMEM_ENABLED, v->thp, old, sizeof(old))) {
		ksft_test_result_fail("no lost write: %s: cannot set %s to %s: %s\n", v->name,
				      SHMEM_ENABLED, v->thp, strerror(errno));
		return;
	}
	pid = fork();
	if (pid < 0)
		fail("fork");
	if (!pid) {
		fflush(stdout);
		_exit(run_variant(v));
	}
	if (waitpid(pid, &status, 0) != pid)
		fail("waitpid");
	if (knob && !sysfs_mode(SHMEM_ENABLED, old, NULL, 0))
		fail("restore shmem_enabled");
	if (WIFEXITED(status) && WEXITSTATUS(status) == KSFT_PASS)
		ksft_test_result_pass("no lost write: %s\n", v->name);
	else if (WIFEXITED(status) && WEXITSTATUS(status) == KSFT_SKIP)
		ksft_test_result_skip("no lost write: %s: the kernel rejects "
				      "PAGEMAP_NO_REUSED_REGIONS\n", v->name);
	else
		ksft_test_result_fail("no lost write: %s (status %#x)\n", v->name, status);
}

/* ---- options ---- */

static void usage(const char *why, const char *arg)
{
	fprintf(stderr, "error: %s '%s'\n"
		"usage: lostwrite [--writes N] [--pages N] [--burst N] [--seed S] "
		"[--variants NAME[,NAME]...]\n  variants:", why, arg);
	for (size_t i = 0; i < NR_VARIANTS; i++)
		fprintf(stderr, " %s", variants[i].name);
	fprintf(stderr, " (default: all)\n");
	exit(2);
}

static void parse_variants(char *list)
{
	char *tok, *save = NULL;
	size_t i;

	for (i = 0; i < NR_VARIANTS; i++)
		variant_off[i] = true;
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < NR_VARIANTS && strcmp(tok, variants[i].name); i++)
			;
		if (i == NR_VARIANTS)
			usage("unknown variant", tok);
		variant_off[i] = false;
	}
}

static void parse_args(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (i + 1 == argc)
			usage("missing value or unknown argument", argv[i]);
		if (!strcmp(argv[i], "--writes"))
			writes = parse(argv[++i], "--writes", WRITERS, 1UL << 40);
		else if (!strcmp(argv[i], "--pages"))
			npages = parse(argv[++i], "--pages", 2 * WRITERS, 1UL << 20);
		else if (!strcmp(argv[i], "--burst"))
			burst = parse(argv[++i], "--burst", 1, 1UL << 20);
		else if (!strcmp(argv[i], "--seed"))
			seed = parse(argv[++i], "--seed", 1, ~0UL);
		else if (!strcmp(argv[i], "--variants"))
			parse_variants(argv[++i]);
		else
			usage("unknown argument", argv[i]);
	}
}

int main(int argc, char **argv)
{
	size_t i, n = 0;

	no_aslr(argv);
	parse_args(argc, argv);
	setvbuf(stdout, NULL, _IOLBF, 0);	/* progress reaches the console */
	psz = sysconf(_SC_PAGESIZE);
	churn_len = HUGE_SIZE;	/* a THP's worth, for MADV_COLLAPSE */
	/* A THP needs 512 pages */
	if (npages % (HUGE_SIZE / psz))
		npages += HUGE_SIZE / psz - npages % (HUGE_SIZE / psz);
	for (i = 0; i < NR_VARIANTS; i++)
		n += !variant_off[i];
	ksft_print_header();
	ksft_set_plan(n);
	ksft_print_msg("%zu pages, %zu writes per variant, %d writer threads, "
		       "a call every %zu writes of each, seed %llu\n",
		       npages, writes, WRITERS, burst, (unsigned long long)seed);
	for (i = 0; i < NR_VARIANTS; i++)
		if (!variant_off[i])
			test_variant(&variants[i]);
	ksft_finished();
}
