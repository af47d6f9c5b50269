/*
 * team.h -- how the kernels run on several threads (internal).
 *
 * A kernel that can split its work calls
 *     nt = fm_par_threads(work, solo_min, n_threads);
 *     ... decide its partition for nt ...
 *     fm_par_run(nt, task, arg);          task(arg, t, nt) for t < nt
 * Outside a team this is an OpenMP `parallel for` over t (one region per
 * call), taken only from `solo_min` units of work on.  Inside fm_team_run
 * (a whole chunk of training steps, or a batched forward pass) the calling
 * thread is the master of a team that lives for the whole call: its
 * workers wait for the next task spinning for a while, then asleep
 * (csrc/core/team.c), so a task costs a cache-line hand-off instead of a
 * passive OpenMP worker's wake-up, and smaller products (from
 * FM_TEAM_MIN_WORK) are worth splitting (docs/performance.md, "Threads").
 *
 * Results never depend on whether a team runs a task: the partition is
 * decided by the kernel from nt alone, as in an OpenMP region.
 */
#ifndef FM_TEAM_H
#define FM_TEAM_H

#include <stddef.h>

typedef void (*fm_task_fn)(void *arg, int t, int nt);

/* Inside a team: work (multiply-adds, or elements x cost) from which a task
 * is split across the team (a hand-off is cheap, not free). */
#define FM_TEAM_MIN_WORK ((ptrdiff_t)1 << 18)

/* Threads a kernel should use for `work` units: the team's size inside a
 * team (from FM_TEAM_MIN_WORK), else n_threads from `solo_min` (and
 * FM_OMP_MIN_WORK) on, else 1. */
int fm_par_threads(ptrdiff_t work, ptrdiff_t solo_min, int n_threads);

/* task(arg, t, nt) for every t < nt, on the calling thread's team when it
 * has one of nt threads, else in an OpenMP region (serially without
 * OpenMP or when nt <= 1). */
void fm_par_run(int nt, fm_task_fn task, void *arg);

/* body(arg) on the calling thread as the master of a team of n_threads
 * (fewer when OpenMP grants fewer; body runs alone when n_threads <= 1, on
 * a build without OpenMP or team support, or inside another team). */
void fm_team_run(int n_threads, void (*body)(void *arg), void *arg);

/* Called by fm_init: reads FASTMLP_SPIN_US. */
void fm_team_init(void);

/* fm_team_last_stats and fm_team_spin_us (fastmlp.h) reports what the last team did. */

#endif /* FM_TEAM_H */
