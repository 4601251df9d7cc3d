// SPDX-License-Identifier: GPL-2.0
/*
 * pagemap-scan: print the pages of a process by category, like pmap, with
 * the PAGEMAP_SCAN ioctl on /proc/PID/pagemap.
 *
 *   pagemap-scan [--pid P] [--range START-END] [--require LIST]
 *                [--anyof LIST] [--exclude LIST] [--return LIST] [--clear]
 *                [--max-pages N] [--format text|tsv|json] [--help]
 *
 * --pid P          the process (default: pagemap-scan itself)
 * --range S-E      scan [S, E) only (hex, "0x" optional, S page aligned;
 *                  default: every VMA of /proc/P/maps)
 * --require LIST   PAGEMAP_SCAN's required_mask, --anyof its anyof_mask,
 * --exclude LIST   its excluded_mask, --return its return_mask (default all).
 *                  LIST: categories separated by ',' or '|': softdirty, file,
 *                  present, swapped; "all" or "none" alone.
 * --clear          PAGEMAP_SOFTDIRTY_CLEAR: clear the soft-dirty state of the
 *                  pages reported, atomically with the report.  --require and
 *                  --anyof may then only name softdirty, --exclude nothing.
 * --max-pages N    stop after N pages (and say where: resume from there)
 * --format F       text (default: per VMA a header line "START-END PERMS
 *                  NAME", its regions "START-END PAGES CATEGORIES", then a
 *                  total), tsv (a header line, then one line per region:
 *                  start end pages categories vma_start vma_end perms name)
 *                  or json (an object with "regions": [{start, end, pages,
 *                  categories, vma: {start, end, perms, name}}, ...]).
 *
 * The range is scanned one VMA at a time, so that every region belongs to one
 * VMA, and each VMA resumes at walk_end when the region buffer fills.  When
 * --max-pages stops the scan, text and json say where and tsv says it on
 * stderr.  [vsyscall] is skipped: it is above the task's address-space limit.
 * Exit: 0 ok, 1 PAGEMAP_SCAN or another system call failed, 2 bad usage
 * (unknown option, bad number, category, range or format, unknown pid).
 */
#include "scan.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ALL_CATS	(PAGE_IS_SOFTDIRTY | PAGE_IS_FILE | PAGE_IS_PRESENT | PAGE_IS_SWAPPED)
#define VEC_LEN		128	/* regions per call; more means resuming at walk_end */

enum format { TEXT, TSV, JSON };

struct vma {
	uint64_t start, end;
	char perms[8];
	char name[PATH_MAX];
};

struct opts {
	int pid;
	uint64_t start, end;	/* end 0: the whole address space */
	uint64_t required, anyof, excluded, ret;
	uint64_t flags, max_pages;
	enum format format;
};

/* What was scanned so far, for the total and the stop message */
struct progress {
	uint64_t pages, regions, remaining, stopped_at;
	bool stopped;
	bool first;		/* no JSON record written yet */
};

static const char *const cat_names[] = { "softdirty", "file", "present", "swapped" };
static size_t psz;

static void usage(FILE *f)
{
	fprintf(f, "usage: pagemap-scan [--pid P] [--range START-END] [--require LIST]\n"
		   "                    [--anyof LIST] [--exclude LIST] [--return LIST] [--clear]\n"
		   "                    [--max-pages N] [--format text|tsv|json] [--help]\n"
		   "LIST: categories softdirty, file, present, swapped separated by ',' or '|',\n"
		   "or 'all' or 'none'.  START-END: hex addresses, START page aligned.\n");
}

static void __attribute__((noreturn, format(printf, 1, 2))) bad(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "pagemap-scan: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see --help)\n");
	exit(2);
}

/* A category list as a mask; @opt names the option in the message. */
static uint64_t parse_cats(const char *opt, const char *list)
{
	char *copy = strdup(list), *save = NULL, *tok;
	uint64_t mask = 0;
	size_t i;

	if (!copy)
		fail("strdup");
	if (!strcmp(list, "all") || !strcmp(list, "none")) {
		free(copy);
		return list[0] == 'a' ? ALL_CATS : 0;
	}
	for (tok = strtok_r(copy, ",|", &save); tok; tok = strtok_r(NULL, ",|", &save)) {
		for (i = 0; i < sizeof(cat_names) / sizeof(cat_names[0]); i++)
			if (!strcmp(tok, cat_names[i]))
				break;
		if (i == sizeof(cat_names) / sizeof(cat_names[0]))
			bad("%s: unknown category '%s' (known: softdirty, file, present, swapped)",
			    opt, tok);
		mask |= 1ULL << i;
	}
	free(copy);
	if (!mask)
		bad("%s: empty category list '%s'", opt, list);
	return mask;
}

/* A hex address ("0x" optional) of --range, or exit 2. */
static uint64_t parse_addr(const char *s, const char *range)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 16);
	if (errno || end == s || *end || *s == '-' || *s == '+' || *s == ' ')
		bad("--range: '%s' is not START-END in hex ('%s' is not an address)", range, s);
	return v;
}

static void parse_range(struct opts *o, const char *range)
{
	char *copy = strdup(range), *dash;

	if (!copy)
		fail("strdup");
	dash = strchr(copy, '-');
	if (!dash)
		bad("--range: '%s' is not START-END in hex", range);
	*dash = '\0';
	o->start = parse_addr(copy, range);
	o->end = parse_addr(dash + 1, range);
	free(copy);
	if (o->start >= o->end)
		bad("--range: START must be below END in '%s'", range);
	if (o->start % psz)
		bad("--range: START 0x%llx is not page aligned", (unsigned long long)o->start);
}

static enum format parse_format(const char *s)
{
	if (!strcmp(s, "text"))
		return TEXT;
	if (!strcmp(s, "tsv"))
		return TSV;
	if (!strcmp(s, "json"))
		return JSON;
	bad("--format: unknown format '%s' (text, tsv or json)", s);
}

/* CLEAR accepts only these masks (the spec's EINVAL): say so before calling. */
static void check_clear(const struct opts *o)
{
	if (!(o->flags & PAGEMAP_SOFTDIRTY_CLEAR))
		return;
	if ((o->required | o->anyof) & ~(uint64_t)PAGE_IS_SOFTDIRTY)
		bad("--clear: --require and --anyof may only name softdirty");
	if (o->excluded)
		bad("--clear: --exclude is not allowed");
}

static void parse_opts(struct opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "range", required_argument, NULL, 'r' },
		{ "require", required_argument, NULL, 'R' },
		{ "anyof", required_argument, NULL, 'A' },
		{ "exclude", required_argument, NULL, 'X' },
		{ "return", required_argument, NULL, 'T' },
		{ "clear", no_argument, NULL, 'c' },
		{ "max-pages", required_argument, NULL, 'm' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	*o = (struct opts){ .ret = ALL_CATS, .format = TEXT };
	opterr = 0;	/* our own messages, naming the option */
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': o->pid = parse(optarg, "--pid", 1, INT_MAX); break;
		case 'r': parse_range(o, optarg); break;
		case 'R': o->required = parse_cats("--require", optarg); break;
		case 'A': o->anyof = parse_cats("--anyof", optarg); break;
		case 'X': o->excluded = parse_cats("--exclude", optarg); break;
		case 'T': o->ret = parse_cats("--return", optarg); break;
		case 'c': o->flags |= PAGEMAP_SOFTDIRTY_CLEAR; break;
		case 'm': o->max_pages = parse(optarg, "--max-pages", 1, SIZE_MAX); break;
		case 'f': o->format = parse_format(optarg); break;
		case 'h': usage(stdout); exit(0);
		case ':': bad("option '%s' needs an argument", argv[optind - 1]);
		default: bad("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		bad("unexpected argument '%s'", argv[optind]);
	check_clear(o);
}

/* Open /proc/P/FILE; a missing process is bad usage (exit 2), not a failure. */
static int open_proc(int pid, const char *file)
{
	char path[64];
	int fd;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
	else
		snprintf(path, sizeof(path), "/proc/self/%s", file);
	fd = open(path, O_RDONLY);
	if (fd < 0 && errno == ENOENT) {
		fprintf(stderr, "pagemap-scan: no process with pid %d\n", pid);
		exit(2);
	}
	if (fd < 0) {
		fprintf(stderr, "pagemap-scan: open %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return fd;
}

/* One line of /proc/P/maps; false at the end. */
static bool read_vma(FILE *maps, struct vma *v)
{
	char line[PATH_MAX + 128];
	unsigned long long lo, hi;
	int name = 0;

	if (!fgets(line, sizeof(line), maps))
		return false;
	line[strcspn(line, "\n")] = '\0';
	if (sscanf(line, "%llx-%llx %7s %*s %*s %*s %n", &lo, &hi, v->perms, &name) < 3) {
		fprintf(stderr, "pagemap-scan: cannot parse maps line '%s'\n", line);
		exit(1);
	}
	v->start = lo;
	v->end = hi;
	snprintf(v->name, sizeof(v->name), "%s", name ? line + name : "");
	if (!v->name[0])
		strcpy(v->name, "[anon]");
	return true;
}

/* @s for a TSV field (tab, newline, backslash escaped) or a JSON string. */
static void put_escaped(const char *s, bool json)
{
	for (; *s; s++) {
		unsigned char ch = *s;

		if (ch == '\\' || (json && ch == '"'))
			printf("\\%c", ch);
		else if (ch == '\t')
			fputs("\\t", stdout);
		else if (ch == '\n')
			fputs("\\n", stdout);
		else if (json && ch < 0x20)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
}

static void put_json_cats(uint64_t bitmap)
{
	const char *sep = "";
	size_t i;

	putchar('[');
	for (i = 0; i < sizeof(cat_names) / sizeof(cat_names[0]); i++) {
		if (bitmap & (1ULL << i)) {
			printf("%s\"%s\"", sep, cat_names[i]);
			sep = ",";
		}
	}
	putchar(']');
}

static void put_region(const struct opts *o, struct progress *pr, const struct vma *v,
		       const struct page_region *r, bool vma_header)
{
	unsigned long long s = r->start, e = r->start + r->len;
	unsigned long long pages = r->len / psz;

	switch (o->format) {
	case TEXT:
		if (vma_header)
			printf("%012llx-%012llx %s %s\n", (unsigned long long)v->start,
			       (unsigned long long)v->end, v->perms, v->name);
		printf("  %012llx-%012llx %8llu  %s\n", s, e, pages, scan_bits(r->bitmap));
		break;
	case TSV:
		printf("0x%llx\t0x%llx\t%llu\t%s\t0x%llx\t0x%llx\t%s\t", s, e, pages,
		       scan_bits(r->bitmap), (unsigned long long)v->start,
		       (unsigned long long)v->end, v->perms);
		put_escaped(v->name, false);
		putchar('\n');
		break;
	case JSON:
		printf("%s\n  {\"start\": \"0x%llx\", \"end\": \"0x%llx\", \"pages\": %llu, "
		       "\"categories\": ", pr->first ? "" : ",", s, e, pages);
		put_json_cats(r->bitmap);
		printf(", \"vma\": {\"start\": \"0x%llx\", \"end\": \"0x%llx\", "
		       "\"perms\": \"%s\", \"name\": \"", (unsigned long long)v->start,
		       (unsigned long long)v->end, v->perms);
		put_escaped(v->name, true);
		printf("\"}}");
		break;
	}
	pr->first = false;
}

static void __attribute__((noreturn)) bad_kernel(uint64_t s, uint64_t e, uint64_t walk_end)
{
	fprintf(stderr, "pagemap-scan: PAGEMAP_SCAN 0x%llx-0x%llx: walk_end 0x%llx out of "
		"the range or more pages than --max-pages\n", (unsigned long long)s,
		(unsigned long long)e, (unsigned long long)walk_end);
	exit(1);
}

/*
 * Scan [s, e) of VMA @v, resuming at walk_end while the region buffer fills,
 * until the end or until --max-pages pages were reported.
 */
static void scan_vma(int fd, const struct opts *o, struct progress *pr,
		     const struct vma *v, uint64_t s, uint64_t e)
{
	static struct page_region vec[VEC_LEN];
	bool header = true;
	uint64_t walk_end, n, i;
	long ret;

	while (s < e && !pr->stopped) {
		ret = scan_call(fd, o->flags, (void *)(uintptr_t)s, e - s, vec, VEC_LEN,
				pr->remaining, o->required, o->anyof, o->excluded,
				o->ret, &walk_end);
		if (ret < 0) {
			fprintf(stderr, "pagemap-scan: PAGEMAP_SCAN 0x%llx-0x%llx: %s\n",
				(unsigned long long)s, (unsigned long long)e, strerror(errno));
			exit(1);
		}
		n = ret;
		for (i = 0; i < n; i++) {
			put_region(o, pr, v, &vec[i], header);
			header = false;
			pr->pages += vec[i].len / psz;
			if (pr->remaining)
				pr->remaining -= vec[i].len / psz;
		}
		pr->regions += n;
		/*
		 * Kernel bugs that would make us loop forever or, with more
		 * pages than max_pages, wrap remaining to "no limit".
		 */
		if (walk_end <= s || walk_end > e || (o->max_pages && pr->pages > o->max_pages))
			bad_kernel(s, e, walk_end);
		s = walk_end;
		if (o->max_pages && !pr->remaining) {
			pr->stopped = true;
			pr->stopped_at = walk_end;
		}
	}
}

/* Every VMA of /proc/P/maps overlapping the range, in order. */
static void scan_all(int fd, int maps_fd, const struct opts *o, struct progress *pr)
{
	uint64_t end = o->end ? o->end : UINT64_MAX;
	FILE *maps = fdopen(maps_fd, "r");
	struct vma v;

	if (!maps)
		fail("fdopen maps");
	while (!pr->stopped && read_vma(maps, &v)) {
		if (v.end <= o->start || v.start >= end || !strcmp(v.name, "[vsyscall]"))
			continue;
		scan_vma(fd, o, pr, &v, v.start > o->start ? v.start : o->start,
			 v.end < end ? v.end : end);
	}
	fclose(maps);
}

static void put_total(const struct opts *o, const struct progress *pr)
{
	unsigned long long at = pr->stopped_at;

	switch (o->format) {
	case TEXT:
		printf("total: %llu pages in %llu regions\n",
		       (unsigned long long)pr->pages, (unsigned long long)pr->regions);
		if (pr->stopped)
			printf("stopped at 0x%llx after --max-pages %llu pages\n", at,
			       (unsigned long long)o->max_pages);
		break;
	case TSV:
		if (pr->stopped)
			fprintf(stderr, "pagemap-scan: stopped at 0x%llx after --max-pages "
				"%llu pages\n", at, (unsigned long long)o->max_pages);
		break;
	case JSON:
		printf("\n ],\n \"pages\": %llu,\n \"complete\": %s", (unsigned long long)pr->pages,
		       pr->stopped ? "false" : "true");
		if (pr->stopped)
			printf(",\n \"stopped_at\": \"0x%llx\"", at);
		printf("\n}\n");
		break;
	}
}

int main(int argc, char **argv)
{
	struct progress pr = { .first = true };
	struct opts o;
	int fd, maps_fd;

	psz = sysconf(_SC_PAGESIZE);
	parse_opts(&o, argc, argv);
	pr.remaining = o.max_pages;
	fd = open_proc(o.pid, "pagemap");
	maps_fd = open_proc(o.pid, "maps");
	if (o.format == TSV)
		printf("start\tend\tpages\tcategories\tvma_start\tvma_end\tperms\tname\n");
	if (o.format == JSON)
		printf("{\n \"pid\": %d,\n \"regions\": [", o.pid ? o.pid : getpid());
	scan_all(fd, maps_fd, &o, &pr);
	put_total(&o, &pr);
	close(fd);
	return 0;
}
