/* SPDX-License-Identifier: GPL-2.0 */
/* What the parts of lostwrite share; lostwrite.c says what it does. */
#ifndef LOSTWRITE_H
#define LOSTWRITE_H

#include "scan.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WRITERS		2
#define HUGE_SIZE	(2UL << 20)
#define MAX_VEC		64
#define SHOW_MAX	5	/* violations printed in detail */
#define SPAN		256	/* most pages of a sub-range, but every 16th round */

enum backing { ANON, SHMEM, FILE_SHARED, FILE_PRIVATE, TMPFS_HUGE };

/* What runs beside the writers and the collector */
enum extra { NONE, PAGEOUT, CHAOS, RACE, MIGRATE, TWIN };

struct variant {
	const char *name;
	enum backing backing;
	const char *thp;	/* MADV_HUGEPAGE; for shmem also shmem_enabled's value */
	bool nrr;
	enum extra extra;
};

/* lostwrite.c: the run's parameters, and the state one variant's child works on */
extern size_t writes, npages, psz;
extern size_t burst;		/* writes of a writer between two collector calls */
extern uint64_t seed;
extern const struct variant *V;
extern char *region;
extern int pm;
extern volatile int stop;
extern int writers_done;
extern unsigned long calls_done;	/* by the collector, to pace the writers */

/* lost-region.c: the race variants' churn part [churn, region), its file and parking place */
extern char *churn, *parking;
extern size_t churn_len;
extern int churn_fd;
/* lost-extra.c, lost-scanner.c: what the extra threads did */
extern unsigned long churn_ops, churn_moves, scanner_calls, scanner_enomem, scanner_bad;

static inline uint64_t *counter(size_t page)
{
	return (uint64_t *)(region + page * psz);
}

static inline uint64_t load(size_t page)
{
	return __atomic_load_n(counter(page), __ATOMIC_ACQUIRE);
}

/* lost-region.c: the tracked region */
bool shmem_thp(const struct variant *v);
int map_flags(const struct variant *v, int fd);
char *map_region(const struct variant *v);

/* lost-extra.c: the writers, and the thread beside them (pager, chaos, migration, churn) */
void *writer(void *arg);
void *extra(void *arg);

/* lost-scanner.c: the race variants' extra scanners */
void start_race(pthread_t *scanners);
bool stop_race(pthread_t *scanners);

#endif
