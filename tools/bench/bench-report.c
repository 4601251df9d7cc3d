// SPDX-License-Identifier: GPL-2.0
/* pagemap-bench: the report: targets and markdown tables from the records */
#include "pagemap-bench.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* ---- the report ---- */

static const struct rec *find(const char *wl, const char *method, const char *op,
			      int thp, unsigned mib, unsigned pct, const char *pattern)
{
	size_t i;

	for (i = 0; i < nrecs; i++) {
		const struct rec *r = &recs[i];

		if (!strcmp(r->wl, wl) && !strcmp(r->method, method) &&
		    !strcmp(r->op, op) && (int)r->thp == thp && r->mib == mib &&
		    r->pct == pct && !strcmp(r->pattern, pattern))
			return r;
	}
	return NULL;
}

static void cell_value(const struct rec *r, bool per_write)
{
	if (!r)
		printf(" %10s |", "-");
	else
		printf(" %10.1f |", per_write ? r->per_write : r->per_page);
}

struct col {
	const char *label, *pattern;
	unsigned pct, mib;
};

static const char *const ops[] = { "get", "getclear", "clear", "present", "write", "cycle" };
#define NR_OPS (sizeof(ops) / sizeof(ops[0]))

static void table_head(const char *first, const struct col *cols, size_t ncols)
{
	size_t i;

	printf("| %-18s |", first);
	for (i = 0; i < ncols; i++)
		printf(" %10s |", cols[i].label);
	printf("\n|--------------------|");
	for (i = 0; i < ncols; i++)
		printf("-----------:|");
	printf("\n");
}

/* Rows method/op, one column per @cols; "write" in insn per written page */
static void op_table(const char *wl, int thp, const struct col *cols, size_t ncols)
{
	char label[32];
	size_t m, o, i;
	bool any;

	table_head("method / op", cols, ncols);
	for (m = 0; m < NR_METHODS; m++)
		for (o = 0; o < NR_OPS; o++) {
			for (any = false, i = 0; i < ncols; i++)
				any |= !!find(wl, methods[m].name, ops[o], thp, cols[i].mib,
					      cols[i].pct, cols[i].pattern);
			if (!any)
				continue;
			snprintf(label, sizeof(label), "%s %s", methods[m].name, ops[o]);
			printf("| %-18s |", label);
			for (i = 0; i < ncols; i++)
				cell_value(find(wl, methods[m].name, ops[o], thp, cols[i].mib,
						cols[i].pct, cols[i].pattern),
					   !strcmp(ops[o], "write"));
			printf("\n");
		}
	printf("\n");
}

static size_t dirty_cols(struct col *cols, unsigned mib)
{
	static char labels[6][16];
	size_t i, n = sizeof(combos) / sizeof(combos[0]);

	for (i = 0; i < n; i++) {
		snprintf(labels[i], sizeof(labels[i]), "%u%%%s", combos[i].pct,
			 combos[i].pct % 100 == 0 ? "" :
			 combos[i].pat == RANDOM ? " rnd" : " clu");
		cols[i] = (struct col){ labels[i], pattern_names[combos[i].pat],
					combos[i].pct, mib };
	}
	cols[n] = (struct col){ "present", "uniform", 100, mib };
	return n + 1;
}

static void report_scan(void)
{
	static char labels[MAX_SIZES][16];
	unsigned largest = sizes[nsizes - 1];
	struct col cols[MAX_SIZES + 1];
	size_t i, n = dirty_cols(cols, largest);
	const struct rec *r;

	printf("## Scan cost by dirty fraction, %u MiB, 4 KiB pages\n\n", largest);
	printf("insn per page of the region; `write`: insn per written page (faults and "
	       "handlers included); `cycle`: write + getclear per page.\n\n");
	op_table("scan", 0, cols, n);
	r = find("scan", "scan", "get", 1, largest, 1, "random");
	printf("## The same on THP (MADV_HUGEPAGE), %u MiB\n\n", largest);
	printf("THP after populating: %.0f%% of the region (AnonHugePages). Soft-dirty "
	       "methods report whole 2 MiB pages: a write to a clean THP makes its 512 "
	       "pages dirty.\n\n", r ? r->thp_pct : 0.0);
	op_table("scan", 1, cols, n);
	for (i = 0; i < nsizes; i++) {
		snprintf(labels[i], sizeof(labels[i]), "%u MiB", sizes[i]);
		cols[i] = (struct col){ labels[i], "random", 1, sizes[i] };
	}
	printf("## Scan cost by region size, 1%% random, 4 KiB pages\n\n");
	op_table("scan", 0, cols, nsizes);
}

static void loop_row(const char *method, const struct rec *scan_total)
{
	static const char *const wls[] = { "loop", "loop-mt" };
	static const char *const parts[] = { "total", "fault", "collect" };
	const struct rec *r = NULL;
	size_t w, p;

	printf("| %-10s |", method);
	for (w = 0; w < 2; w++)
		for (p = 0; p < 3; p++) {
			r = find(wls[w], method, parts[p], 0, sizes[nsizes - 1], 1, "random");
			cell_value(r, true);
		}
	r = find("loop", method, "total", 0, sizes[nsizes - 1], 1, "random");
	if (r && scan_total)
		printf(" %9.2fx |\n", r->per_write / scan_total->per_write);
	else
		printf(" %10s |\n", "-");
}

static void report_loop(void)
{
	const struct rec *s = find("loop", "scan", "total", 0, sizes[nsizes - 1], 1, "random");
	size_t m;

	printf("## Tracking loop: write 1%% of %u MiB, collect and reset, %u rounds\n\n",
	       sizes[nsizes - 1], smoke ? 2 : LOOP_ROUNDS);
	printf("insn per tracked write: `total` = `fault` (the writes, faults and handlers "
	       "included) + `collect` (getclear).\n");
	printf("loop-mt: two writer threads, each half of the pages; %ld vCPU(s) online%s.\n\n",
	       sysconf(_SC_NPROCESSORS_ONLN),
	       sysconf(_SC_NPROCESSORS_ONLN) < 2 ? ": the threads share one vCPU" : "");
	printf("| %-10s | %10s | %10s | %10s | %10s | %10s | %10s | %10s |\n", "method",
	       "total", "fault", "collect", "mt total", "mt fault", "mt collect", "vs scan");
	printf("|------------|-----------:|-----------:|-----------:|-----------:|"
	       "-----------:|-----------:|-----------:|\n");
	for (m = 0; m < NR_METHODS; m++)
		loop_row(methods[m].name, s);
	printf("\n");
}

static void report_sparse(void)
{
	static const struct col cols[] = {
		{ "0%", "random", 0, 0 }, { "1% rnd", "random", 1, 0 },
		{ "10% rnd", "random", 10, 0 }, { "present", "uniform", 100, 0 },
	};
	const struct rec *r = find("sparse", "scan", "get", 0, 0, 1, "random");

	printf("## Sparse mappings: %llu VMAs of 4 pages, 12-page PROT_NONE gaps\n\n",
	       r ? (unsigned long long)r->vmas : 0ULL);
	printf("insn per mapped page (x4 = per VMA); scan and pagemap walk the whole span "
	       "(16 pages per VMA), mprotect (and uffd when many runs are written) act on "
	       "each VMA.\n\n");
	op_table("sparse", 0, cols, 4);
}

static const struct rec *target_rec(const char *op, int thp, unsigned pct, const char *pat)
{
	return find("scan", "scan", op, thp, sizes[nsizes - 1], pct, pat);
}

static void target(const char *what, const struct rec *r, double value, double limit,
		   bool at_most)
{
	printf("| %-52s | %8s | ", what, at_most ? "<=" : ">=");
	printf("%8.1f | ", limit);
	if (!r) {
		printf("%10s | not measured |\n", "-");
		return;
	}
	printf("%10.2f | %s |\n", value,
	       (at_most ? value <= limit : value >= limit) ? "met" : "NOT met");
}

static void report_targets(void)
{
	const struct rec *g = target_rec("get", 0, 1, "random");
	const struct rec *gc = target_rec("getclear", 0, 1, "random");
	const struct rec *p = target_rec("present", 0, 100, "uniform");
	const struct rec *h = target_rec("get", 1, 1, "random");
	unsigned mib = sizes[nsizes - 1];
	const struct rec *ls = find("loop", "scan", "total", 0, mib, 1, "random");
	const struct rec *lm = find("loop", "mprotect", "total", 0, mib, 1, "random");
	const struct rec *lp = find("loop", "pagemap", "total", 0, mib, 1, "random");

	printf("## Targets (PAGEMAP_SCAN, %u MiB anonymous%s)\n\n", mib,
	       mib == 1024 ? "" : ": NOT the 1 GiB of the targets");
	printf("| %-52s | %8s | %8s | %10s | verdict |\n", "target", "", "limit", "measured");
	printf("|------------------------------------------------------|----------|"
	       "---------:|-----------:|---------|\n");
	target("GET SOFTDIRTY, 1% random dirty: insn/page", g, g ? g->per_page : 0, 12, true);
	target("GET+CLEAR, 1% random dirty: insn/page", gc, gc ? gc->per_page : 0, 20, true);
	target("GET PRESENT, uniform region: insn/page", p, p ? p->per_page : 0, 10, true);
	target("GET SOFTDIRTY on THP, 1% random: insn/page", h, h ? h->per_page : 0, 1, true);
	target("tracked write: mprotect+SIGSEGV / scan (x fewer)", ls && lm ? ls : NULL,
	       ls && lm ? lm->per_write / ls->per_write : 0, 20, false);
	target("tracked write: pread+clear_refs / scan (x fewer)", ls && lp ? ls : NULL,
	       ls && lp ? lp->per_write / ls->per_write : 0, 1.0, false);
	printf("\n(\"fewer than pread+clear_refs\" is met when the ratio is > 1.)\n\n");
}

void report(void)
{
	size_t i;

	printf("<!-- report -->\n# pagemap-bench%s\n\n", smoke ? " (smoke)" : "");
	printf("Unit: **guest instructions** (QEMU TCG, -icount shift=0,sleep=off: the guest's "
	       "CLOCK_MONOTONIC ns are executed instructions, kernel and user). Never wall time.\n");
	printf("Sizes run: ");
	for (i = 0; i < nsizes; i++)
		printf("%s%u MiB", i ? ", " : "", sizes[i]);
	printf("; fastest of 3 repetitions below 256 MiB, of 2 at 256 MiB and above (1 in "
	       "smoke mode); mprotect and uffd stop at %u timed+untimed writes per "
	       "combination (fewer repetitions, or skipped: '-').\n", SLOW_WRITES);
	printf("Resets: mprotect re-protects every VMA whole (as Wine does); uffd "
	       "re-protects the runs found written, or every VMA whole when there is more "
	       "than one run per 64 pages.\n");
	printf("Online vCPUs: %ld.\n\n", sysconf(_SC_NPROCESSORS_ONLN));
	report_targets();
	report_scan();
	report_loop();
	report_sparse();
	if (skipped_nrr)
		printf("scan-nrr: skipped, the kernel rejects PAGEMAP_NO_REUSED_REGIONS.\n\n");
	printf("Result: %u failed cell(s).\n<!-- end -->\n", failed);
}
