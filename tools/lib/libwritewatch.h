/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libwritewatch: Windows GetWriteWatch() / ResetWriteWatch() semantics on
 * Linux, with two backends behind one API:
 *
 *  - PAGEMAP_SCAN: soft-dirty bits read (GET) and reset (CLEAR) by the
 *    PAGEMAP_SCAN ioctl on /proc/self/pagemap, with PAGEMAP_NO_REUSED_REGIONS
 *    when the kernel accepts it (soft-dirty from the page tables only, so
 *    VMA changes next to a region never make its pages look written);
 *  - mprotect: what Wine does without kernel support.  Watched pages are kept
 *    read-only; the first write to one raises SIGSEGV, whose handler marks the
 *    page in a bitmap and makes it writable.
 *
 * The semantics (shared/docs/background.md, "Windows write-watch semantics"):
 * a region is watched only if it was allocated by ww_alloc() (VirtualAlloc
 * with MEM_WRITE_WATCH); ww_get() lists the pages of a sub-range written
 * since the last reset, page aligned and ascending, at most *count of them;
 * with WW_FLAG_RESET exactly the listed pages are reset, so written pages
 * that did not fit stay written.  Fresh memory and reads are not writes.  A
 * write that straddles two pages marks both.
 *
 * Where the backends differ, by design:
 *  - a write by the kernel (read() into a watched buffer, or any other
 *    syscall that stores into it) counts as a write with PAGEMAP_SCAN.  With
 *    mprotect the page is read-only to the kernel too: the syscall fails with
 *    EFAULT and nothing is marked, exactly as under Wine's fallback (Wine
 *    has to make such buffers writable itself before the syscall);
 *  - mprotect owns SIGSEGV while it is the backend (see ww_init());
 *  - mprotect costs a signal and two syscalls per first write after a reset;
 *    PAGEMAP_SCAN costs a write fault, and calls proportional to the range.
 *
 * Errors set errno, which plays Windows' "last error": EINVAL for
 * ERROR_INVALID_PARAMETER, EFAULT for ERROR_NOACCESS.
 *
 * Thread safety: every function may be called from any thread; writes from
 * every thread are tracked.  A write concurrent with ww_get(WW_FLAG_RESET)
 * is either reported by that call or left for the next one, never lost.
 * Freeing a region while another thread uses it is the caller's race, as
 * with VirtualFree().
 */
#ifndef LIBWRITEWATCH_H
#define LIBWRITEWATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* GetWriteWatch()'s WRITE_WATCH_FLAG_RESET */
#define WW_FLAG_RESET		1UL

/* The granularity ww_get() reports: the page size */
#define WW_GRANULARITY		4096

/* At most this many regions are registered at once (ww_alloc(): ENOMEM) */
#define WW_MAX_REGIONS		256

/**
 * enum ww_backend - how writes are tracked
 * @WW_BACKEND_AUTO:		PAGEMAP_SCAN if the kernel has it, else mprotect
 * @WW_BACKEND_PAGEMAP:		PAGEMAP_SCAN, with PAGEMAP_NO_REUSED_REGIONS when
 *				the kernel accepts it (ww_nrr() says)
 * @WW_BACKEND_PAGEMAP_PLAIN:	PAGEMAP_SCAN with the default soft-dirty
 *				semantics even where the kernel has
 *				PAGEMAP_NO_REUSED_REGIONS (what older kernels
 *				get; for tests and comparisons)
 * @WW_BACKEND_MPROTECT:	read-only pages and a SIGSEGV handler
 */
enum ww_backend {
	WW_BACKEND_AUTO,
	WW_BACKEND_PAGEMAP,
	WW_BACKEND_PAGEMAP_PLAIN,
	WW_BACKEND_MPROTECT,
};

/**
 * ww_init() - choose the backend
 * @backend:	the backend, or WW_BACKEND_AUTO
 *
 * Optional: the first ww_alloc() calls ww_init(WW_BACKEND_AUTO).  It may be
 * called again to switch backends while no region is registered.
 *
 * PAGEMAP_SCAN: opens /proc/self/pagemap.  With NO_REUSED_REGIONS the
 * process's address space enters, for good, the mode in which the kernel
 * keeps a write fault for every clean page (see the flag's documentation):
 * call it early, before the process maps much memory.
 *
 * mprotect: installs a SIGSEGV handler (sigaction, SA_SIGINFO).  A SIGSEGV
 * that is not a write to a watched page gets the default action (the
 * process dies with SIGSEGV, as if the handler did not exist); a handler the
 * program installed before is not called, and one installed after replaces
 * ours and breaks tracking.  Switching away restores the previous action.
 *
 * Return: 0, or -1 with errno: EOPNOTSUPP (the kernel has no PAGEMAP_SCAN
 * or no soft-dirty tracking), EBUSY (regions are registered), EINVAL (an
 * unknown backend, or a page size other than WW_GRANULARITY), or what
 * open() or sigaction() failed with.  After a failure other than EBUSY no
 * backend is active: the next ww_alloc() chooses one as WW_BACKEND_AUTO.
 */
int ww_init(enum ww_backend backend);

/**
 * ww_backend() - the backend in use
 *
 * Return: WW_BACKEND_PAGEMAP, WW_BACKEND_PAGEMAP_PLAIN or WW_BACKEND_MPROTECT;
 * WW_BACKEND_AUTO before ww_init().
 */
enum ww_backend ww_backend(void);

/**
 * ww_nrr() - whether the PAGEMAP_SCAN backend uses PAGEMAP_NO_REUSED_REGIONS
 *
 * Return: true only with WW_BACKEND_PAGEMAP on a kernel that accepted it.
 */
bool ww_nrr(void);

/**
 * ww_alloc() - VirtualAlloc(MEM_RESERVE | MEM_COMMIT | MEM_WRITE_WATCH)
 * @size:	bytes, rounded up to a page
 *
 * Maps zeroed, readable and writable memory and watches it: no page reads
 * as written until it is written.  Each region has an inaccessible guard
 * page on both sides, so that no other mapping ever merges with it (with
 * PAGEMAP_SCAN without NO_REUSED_REGIONS, a merge would make the whole
 * region read as written).  With PAGEMAP_SCAN the region never gets
 * transparent huge pages (MADV_NOHUGEPAGE): a write to one would make all
 * its 512 pages read as written.
 *
 * Return: the page-aligned start, or NULL with errno: EINVAL (size 0 or too
 * big), ENOMEM (no memory, or WW_MAX_REGIONS regions already), or what the
 * backend's setup failed with (see ww_init()).
 */
void *ww_alloc(size_t size);

/**
 * ww_free() - VirtualFree(MEM_RELEASE): unmap a region and stop watching it
 * @base:	a start returned by ww_alloc()
 *
 * Return: 0, or -1 with errno EINVAL when @base is not such a start.
 */
int ww_free(void *base);

/**
 * ww_get() - GetWriteWatch()
 * @flags:	0 or WW_FLAG_RESET
 * @base:	start of the range; need not be page aligned
 * @size:	bytes; the range is [@base, @base + @size) widened to whole pages
 * @addresses:	receives the page-aligned addresses of written pages, ascending
 * @count:	in: the capacity of @addresses (> 0); out: the number returned
 * @granularity: receives WW_GRANULARITY
 *
 * Lists the pages of the range written since they were last reset, the
 * lowest first, at most *@count of them.  With WW_FLAG_RESET the listed
 * pages, and only those, are reset atomically with their listing: a write
 * at any time during the call is either listed or left for the next call.
 *
 * Errors are checked in Wine's order: unknown @flags (EINVAL); @count or
 * @granularity NULL (EFAULT); *@count or @size 0 (EINVAL); @addresses NULL
 * (EFAULT); the range not inside one region from ww_alloc(), which includes
 * a NULL @base and an overflowing end (EINVAL).  A failed call changes
 * nothing, and writes neither *@count nor *@granularity, except when the
 * kernel fails a PAGEMAP_SCAN call (ENOMEM, EINTR) after earlier calls of
 * the same ww_get() had reset pages: those are then lost to the caller, and
 * likewise when mprotect() fails to re-protect a page (ENOMEM).
 *
 * Return: 0 on success, non-zero with errno set on failure.
 */
unsigned int ww_get(unsigned long flags, void *base, size_t size,
		    void **addresses, uintptr_t *count, uint32_t *granularity);

/**
 * ww_reset() - ResetWriteWatch(): reset every page of a range
 * @base:	start of the range; need not be page aligned
 * @size:	bytes, > 0; widened to whole pages as in ww_get()
 *
 * Racy against writers by nature (a write just before the call is lost to
 * the caller): use ww_get(WW_FLAG_RESET) to collect and reset atomically.
 *
 * Return: 0 on success, non-zero with errno EINVAL (size 0, the range not
 * inside one region) or the backend's error.
 */
unsigned int ww_reset(void *base, size_t size);

#endif
