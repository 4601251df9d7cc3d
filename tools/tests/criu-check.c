// SPDX-License-Identifier: GPL-2.0
/*
 * criu-workload's checks: the restored process's pages (wl_verify()), and
 * the pages CRIU wrote into a dump's images (wl_count()).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scan.h"
#include "criu-workload.h"

/* Pages read from /proc/PID/mem at a time */
#define CHUNK	64

static size_t verify_region(int mem, const struct wl_region *reg, int r,
			    const struct wl_rounds *rounds, unsigned int upto)
{
	size_t p, i, w, bad = 0, n;
	uint64_t *buf = malloc(CHUNK * wl_psz);
	unsigned int k;

	if (!buf)
		fail("malloc");
	for (p = 0; p < reg->pages; p += n) {
		n = reg->pages - p < CHUNK ? reg->pages - p : CHUNK;
		if (pread(mem, buf, n * wl_psz, reg->addr + p * wl_psz) != (ssize_t)(n * wl_psz)) {
			diag("%s: page %zu: cannot read the restored process: %s\n",
			     reg->name, p, strerror(errno));
			bad += reg->pages - p;
			break;
		}
		for (i = 0; i < n; i++) {
			uint64_t *page = buf + i * (wl_psz / 8);

			k = wl_generation(rounds, upto, r, p + i);
			for (w = 0; w < wl_psz / 8; w++)
				if (page[w] != wl_word(r, p + i, k, w))
					break;
			if (w == wl_psz / 8)
				continue;
			if (bad++ < 4)
				diag("%s: page %zu holds %#llx at word %zu, round %u wrote %#llx\n",
				     reg->name, p + i, (unsigned long long)page[w], w, k,
				     (unsigned long long)wl_word(r, p + i, k, w));
		}
	}
	free(buf);
	return bad;
}

int wl_verify(const char *dir, int pid, unsigned int upto)
{
	struct wl_region regions[WL_KINDS];
	struct wl_rounds rounds;
	size_t bad, total = 0, pages = 0;
	char path[64];
	int mem, r;

	wl_load(dir, regions, &rounds);
	if (upto > rounds.nr) {
		fprintf(stderr, "criu-workload: verify: round %u was never asked for\n", upto);
		return 2;
	}
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	mem = open(path, O_RDONLY);
	if (mem < 0) {
		fprintf(stderr, "criu-workload: verify: open %s: %s\n", path, strerror(errno));
		return 2;
	}
	for (r = 0; r < WL_KINDS; r++) {
		bad = verify_region(mem, &regions[r], r, &rounds, upto);
		diag("%s: %zu pages, %zu wrong\n", regions[r].name, regions[r].pages, bad);
		total += bad;
		pages += regions[r].pages;
	}
	close(mem);
	diag("verify: %zu of %zu pages hold what rounds 0..%u wrote, %zu do not\n",
	     pages - total, pages, upto, total);
	return total ? 1 : 0;
}

/*
 * A CRIU image: a magic (two for most images), then messages, each a 32-bit
 * size and a protobuf.  A pagemap image's first message is its head; each
 * later one is a PagemapEntry: vaddr (1), nr_pages (2), in_parent (3),
 * flags (4).  Its pages are in the pages image when PE_PRESENT is set and
 * PE_PARENT is not (CRIU's images/pagemap.proto and criu/include/pagemap.h).
 */
#define IMG_COMMON_MAGIC	0x54564319
#define IMG_SERVICE_MAGIC	0x55105940
#define PE_PARENT		(1 << 0)
#define PE_PRESENT		(1 << 2)

struct pm_entry {
	uint64_t vaddr, nr_pages, flags;
};

static bool varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	int shift;

	for (*v = 0, shift = 0; *p < end && shift < 64; shift += 7) {
		uint8_t b = *(*p)++;

		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return true;
	}
	return false;
}

/* Decode one PagemapEntry message; unknown fields are skipped */
static bool decode_entry(const uint8_t *p, const uint8_t *end, struct pm_entry *e)
{
	uint64_t key, v;

	memset(e, 0, sizeof(*e));
	while (p < end) {
		if (!varint(&p, end, &key))
			return false;
		switch (key & 7) {
		case 0:
			if (!varint(&p, end, &v))
				return false;
			break;
		case 1: p += 8; continue;
		case 5: p += 4; continue;
		case 2:
			if (!varint(&p, end, &v) || v > (uint64_t)(end - p))
				return false;
			p += v;
			continue;
		default:
			return false;
		}
		if (key >> 3 == 1)
			e->vaddr = v;
		else if (key >> 3 == 2)
			e->nr_pages = v;
		else if (key >> 3 == 4)
			e->flags = v;
	}
	return p == end;
}

/*
 * Call @fn for each entry of the pagemap image @path whose pages the image
 * holds; return the number of entries, or -1 with a message if bad.
 */
static long pagemap_image(const char *path, uint64_t *pages_id,
			  void (*fn)(const struct pm_entry *, void *), void *arg)
{
	uint8_t buf[256];
	uint32_t magic[2], size;
	struct pm_entry e;
	long n = 0;
	bool head = true;
	FILE *f = fopen(path, "r");

	if (!f || fread(magic, sizeof(magic), 1, f) != 1) {
		diag("%s: cannot read its magic\n", path);
		goto bad;
	}
	/* The two-magic images start with the common or the service magic */
	if (magic[0] != IMG_COMMON_MAGIC && magic[0] != IMG_SERVICE_MAGIC)
		fseek(f, 4, SEEK_SET);
	while (fread(&size, sizeof(size), 1, f) == 1) {
		if (size > sizeof(buf) || fread(buf, size, 1, f) != 1) {
			diag("%s: a message of %u bytes is cut off or too large\n", path, size);
			goto bad;
		}
		/* The head's field 1 names the pages image, pages-<id>.img */
		if (head) {
			const uint8_t *q = buf;
			uint64_t key;

			head = false;
			if (!varint(&q, buf + size, &key) || key != 1 << 3 ||
			    !varint(&q, buf + size, pages_id)) {
				diag("%s: its head names no pages image\n", path);
				goto bad;
			}
			continue;
		}
		if (!decode_entry(buf, buf + size, &e)) {
			diag("%s: message %ld is not a PagemapEntry\n", path, n + 1);
			goto bad;
		}
		n++;
		if (fn && (e.flags & PE_PRESENT) && !(e.flags & PE_PARENT))
			fn(&e, arg);
	}
	fclose(f);
	return n;
bad:
	if (f)
		fclose(f);
	return -1;
}

/* Pages per region that an image holds, as a bitmap over the region's pages */
struct dumped {
	const struct wl_region *regions;
	uint8_t *map[WL_KINDS];
	FILE *pages;		/* a shmem image's pages, in the order of its entries */
	size_t unknown;		/* shmem pages that are no region's */
};

static void mark_task(const struct pm_entry *e, void *arg)
{
	struct dumped *d = arg;
	uint64_t a, end = e->vaddr + e->nr_pages * wl_psz;
	int r;

	for (r = 0; r < WL_KINDS; r++) {
		const struct wl_region *reg = &d->regions[r];
		uintptr_t rend = reg->addr + reg->pages * wl_psz;

		if (r == WL_MEMFD || r == WL_SHANON)
			continue;
		for (a = e->vaddr > reg->addr ? e->vaddr : reg->addr; a < end && a < rend;
		     a += wl_psz)
			d->map[r][(a - reg->addr) / wl_psz] = 1;
	}
}

/*
 * A shmem image addresses a shmem file by offset, and does not say which
 * mapping it is: each page's first word names its region and page
 * (wl_word()), which also checks what CRIU wrote.
 */
static void mark_shmem(const struct pm_entry *e, void *arg)
{
	struct dumped *d = arg;
	uint64_t i, w0;
	size_t p;
	int r;

	for (i = 0; i < e->nr_pages; i++) {
		if (fread(&w0, sizeof(w0), 1, d->pages) != 1 ||
		    fseek(d->pages, wl_psz - sizeof(w0), SEEK_CUR)) {
			d->unknown += e->nr_pages - i;
			return;
		}
		r = (int)(w0 >> 56) - 1;
		p = (w0 >> 12) & 0xffffffff;
		if (r < 0 || r >= WL_KINDS || p >= d->regions[r].pages ||
		    w0 != wl_word(r, p, (w0 >> 44) & 0xfff, 0)) {
			d->unknown++;
			continue;
		}
		d->map[r][p] = 1;
	}
}

/* A shmem pagemap image, with its pages image */
static int shmem_image(const char *imgdir, const char *name, struct dumped *d)
{
	char path[4096];
	uint64_t id = 0;
	long n;

	snprintf(path, sizeof(path), "%s/%s", imgdir, name);
	/* First the entries, for the pages image's name; then again, with it */
	if (pagemap_image(path, &id, NULL, NULL) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/pages-%llu.img", imgdir, (unsigned long long)id);
	d->pages = fopen(path, "r");
	if (!d->pages) {
		diag("%s: %s\n", path, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s", imgdir, name);
	n = pagemap_image(path, &id, mark_shmem, d);
	fclose(d->pages);
	return n < 0 ? -1 : 0;
}

static int read_images(const char *imgdir, int pid, struct dumped *d)
{
	char path[4096];
	struct dirent *de;
	long shm = 0;
	uint64_t id;
	DIR *dir;

	snprintf(path, sizeof(path), "%s/pagemap-%d.img", imgdir, pid);
	if (pagemap_image(path, &id, mark_task, d) < 0)
		return -1;
	dir = opendir(imgdir);
	if (!dir) {
		diag("%s: %s\n", imgdir, strerror(errno));
		return -1;
	}
	while ((de = readdir(dir))) {
		if (strncmp(de->d_name, "pagemap-shmem-", 14))
			continue;
		if (shmem_image(imgdir, de->d_name, d)) {
			closedir(dir);
			return -1;
		}
		shm++;
	}
	closedir(dir);
	diag("%s: pagemap-%d.img and %ld shmem pagemap image(s)\n", imgdir, pid, shm);
	if (d->unknown)
		diag("%s: %zu shmem pages are no region's (or were cut off)\n", imgdir, d->unknown);
	return d->unknown ? -1 : 0;
}

/*
 * Whether page @p of region @r belongs in the images of a (pre-)dump after
 * round @since (0: the first, which holds every page but the file's, whose
 * pages are in the file until a round writes them).  CRIU 3.17 dumps a
 * memfd, and shared anonymous memory, which it takes for one (its
 * map_files link is "/dev/zero (deleted)" on shmem), as a file: in no
 * pre-dump, and whole in the dump.
 */
static bool expected(const struct wl_rounds *rounds, int r, size_t p, unsigned int since,
		     bool dump)
{
	if (r == WL_MEMFD || r == WL_SHANON)
		return dump;
	if (!since)
		return r != WL_FILE;
	return wl_written(rounds, since, r, p);
}

/*
 * Compare region @r's dumped pages with those the rounds wrote: none may be
 * missing, and none may be extra but in a THP that a written page made dirty
 * (soft-dirty is tracked per PMD for a THP).
 */
static size_t count_region(const struct dumped *d, int r, const struct wl_rounds *rounds,
			   unsigned int since, bool dump)
{
	size_t nr = d->regions[r].pages, want = 0, got = 0, missing = 0, extra = 0;
	size_t block = r == WL_THP ? WL_THP_PAGES : 1, b, p, want_b, extra_b;

	for (b = 0; b < nr; b += block) {
		for (p = b, want_b = extra_b = 0; p < b + block && p < nr; p++) {
			bool e = expected(rounds, r, p, since, dump), in = d->map[r][p];

			want_b += e;
			got += in;
			missing += e && !in;
			extra_b += in && !e;
		}
		want += want_b;
		/* The rest of a THP that a written page made dirty is not extra */
		if (!(block > 1 && want_b))
			extra += extra_b;
	}
	diag("%s: %zu pages expected (round %u, %s), the images hold %zu: %zu missing, %zu extra\n",
	     d->regions[r].name, want, since, dump ? "dump" : "pre-dump", got, missing, extra);
	return missing + extra;
}

int wl_count(const char *dir, const char *imgdir, unsigned int since, bool dump)
{
	struct wl_region regions[WL_KINDS];
	struct wl_rounds rounds;
	struct dumped d = { .regions = regions };
	char path[4096];
	size_t bad = 0;
	int r, pid;
	FILE *f;

	wl_load(dir, regions, &rounds);
	if (since > rounds.nr) {
		fprintf(stderr, "criu-workload: count: round %u was never asked for\n", since);
		return 2;
	}
	snprintf(path, sizeof(path), "%s/pid", dir);
	f = fopen(path, "r");
	if (!f || fscanf(f, "%d", &pid) != 1) {
		fprintf(stderr, "criu-workload: count: no pid in %s\n", path);
		return 2;
	}
	fclose(f);
	for (r = 0; r < WL_KINDS; r++) {
		d.map[r] = calloc(regions[r].pages, 1);
		if (!d.map[r])
			fail("calloc");
	}
	if (read_images(imgdir, pid, &d))
		return 2;
	for (r = 0; r < WL_KINDS; r++) {
		bad += count_region(&d, r, &rounds, since, dump);
		free(d.map[r]);
	}
	return bad ? 1 : 0;
}
