// SPDX-License-Identifier: GPL-2.0
#include "scan.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int scan_open(int pid)
{
	char path[64];
	int fd;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/pagemap");
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "error: open %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return fd;
}

long scan_call(int fd, uint64_t flags, void *start, size_t len,
	       struct page_region *vec, size_t vec_len, uint64_t max_pages,
	       uint64_t required, uint64_t anyof, uint64_t excluded,
	       uint64_t ret_mask, uint64_t *walk_end)
{
	struct pagemap_scan_arg arg = {
		.size = sizeof(arg),
		.flags = flags,
		.start = (uintptr_t)start,
		.len = len,
		.vec = (uintptr_t)vec,
		.vec_len = vec_len,
		.max_pages = max_pages,
		.required_mask = required,
		.anyof_mask = anyof,
		.excluded_mask = excluded,
		.return_mask = ret_mask,
	};
	long ret = ioctl(fd, PAGEMAP_SCAN, &arg);

	if (walk_end)
		*walk_end = arg.walk_end;
	return ret;
}

const char *scan_bits(uint64_t bitmap)
{
	static const char *const names[] = { "softdirty", "file", "present", "swapped" };
	static char buf[64];
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(bitmap & (1ULL << i)))
			continue;
		if (buf[0])
			strcat(buf, "|");
		strcat(buf, names[i]);
	}
	return buf[0] ? buf : "-";
}
