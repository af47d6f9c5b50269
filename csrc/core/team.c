/*
 * team.c -- a team of threads that lives for one long call (team.h).
 *
 * fm_team_run opens ONE OpenMP parallel region: thread 0 (the master) runs
 * the body, the others loop in fm_worker waiting for tasks.  A task is
 * posted by bumping `gen` after writing (task, arg, nt); the master runs
 * part 0 itself, then waits for `pending` to reach 0.  Whoever waits --
 * a worker for the next task, the master for the last part -- spins for up
 * to spin_ns and then sleeps on a futex, announcing itself (`sleepers`,
 * `master_sleeping`) so that the other side makes the wake-up system call
 * only when someone sleeps.  The announcement and the re-check are both
 * sequentially consistent, so a post can never slip between them unseen.
 *
 * Why not OpenMP's own regions: fastmlp runs libgomp with passive waits
 * (fastmlp/_omp_policy.py: spinning OpenMP workers slow everything else on
 * the machine down), and waking a passive worker costs tens of microseconds
 * in a VM, several times per training step (docs/performance.md, "Threads").
 * Spinning here is bounded (spin_ns) and only between the tasks of one call,
 * whose gaps are short.
 *
 * Only Linux has the futex this needs; elsewhere fm_team_run runs the body
 * alone and every kernel keeps its own OpenMP regions.
 */
#if defined(__linux__)
#define _GNU_SOURCE
#endif
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/fm_internal.h"
#include "core/team.h"

#if defined(_OPENMP) && defined(__linux__) && !defined(__STDC_NO_ATOMICS__) && \
    !defined(__STDC_NO_THREADS__)
#define FM_TEAM_ON 1
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/futex.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define FM_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define FM_RELAX() __asm__ __volatile__("yield")
#else
#define FM_RELAX() ((void)0)
#endif
#else
#define FM_TEAM_ON 0
#endif

#if FM_TEAM_ON

/* How long a waiting thread spins before it sleeps (FASTMLP_SPIN_US
 * overrides; 0 = sleep at once). */
#define FM_SPIN_NS_DEFAULT 200000L

typedef struct {
    _Alignas(64) atomic_int gen; /* bumped once per posted task */
    fm_task_fn task;             /* NULL: leave the team */
    void *arg;
    int nt;
    int n; /* threads in the team (master included) */
    _Alignas(64) atomic_int pending; /* workers still on the current task */
    atomic_int master_sleeping;
    _Alignas(64) atomic_int sleepers; /* workers asleep on gen */
    _Alignas(64) long spin_ns;
    /* master only: is the team worth it?  (see fm_par_run) */
    long long gain_ns;          /* time saved by the tasks of this window */
    int window;                 /* tasks in the window */
    atomic_llong stat_worker_slept;
    long long stat_tasks, stat_master_slept, stat_solo;
} fm_team;

/* Tasks per verdict, and the solo stretches that follow a bad one. */
#define FM_TEAM_WINDOW 8
#define FM_TEAM_SOLO_MIN_NS 2000000LL   /* about one scheduler slice */
#define FM_TEAM_SOLO_MAX_NS 64000000LL  /* the back-off's bound */
#define FM_TEAM_LATE_NS 200000LL        /* a task's wait that settles it at once */

static _Thread_local fm_team *fm_cur;
/* The verdict outlives a team (one per fm_train chunk): until
 * fm_solo_until (monotonic ns) this thread runs kernels alone. */
static _Thread_local long long fm_solo_until, fm_solo_backoff = FM_TEAM_SOLO_MIN_NS;
static _Thread_local long long fm_last_stats[4];

static long long fm_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void fm_futex_wait(atomic_int *word, int val)
{
    syscall(SYS_futex, (int *)word, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void fm_futex_wake(atomic_int *word, int n)
{
    syscall(SYS_futex, (int *)word, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

/* Spin up to spin_ns until (*word == val) == equal; 1 if it came, 0 if time
 * ran out. */
static int fm_spin(atomic_int *word, int val, int equal, long spin_ns)
{
    long long t0 = 0;
    unsigned i;
    for (i = 1;; i++) {
        if ((atomic_load_explicit(word, memory_order_acquire) == val) == equal) return 1;
        if (spin_ns <= 0) return 0;
        FM_RELAX();
        if ((i & 63) == 0) { /* the clock only every 64 pauses */
            long long now = fm_now_ns();
            if (t0 == 0) t0 = now;
            else if (now - t0 > spin_ns) return 0;
        }
    }
}

static long fm_spin_ns_cfg = FM_SPIN_NS_DEFAULT;

/* Read FASTMLP_SPIN_US once, from fm_init (at import, before any thread of
 * ours runs: getenv is not safe against a concurrent setenv). */
void fm_team_init(void)
{
    const char *s = getenv("FASTMLP_SPIN_US");
    if (s && *s) {
        char *end;
        long us = strtol(s, &end, 10);
        if (*end == '\0' && us >= 0 && us <= 1000000) fm_spin_ns_cfg = us * 1000L;
        else fprintf(stderr, "fastmlp: FASTMLP_SPIN_US=%s is not a whole number of "
                             "microseconds in [0, 1000000]; using %ld\n", s,
                     FM_SPIN_NS_DEFAULT / 1000L);
    }
}

long fm_team_spin_us(void)
{
    return fm_spin_ns_cfg / 1000L;
}

static void fm_worker(fm_team *tm, int t)
{
    int seen = 0;
    for (;;) {
        int g;
        if (!fm_spin(&tm->gen, seen, 0, tm->spin_ns)) {
            atomic_fetch_add(&tm->sleepers, 1);
            while (atomic_load(&tm->gen) == seen) fm_futex_wait(&tm->gen, seen);
            atomic_fetch_sub(&tm->sleepers, 1);
            atomic_fetch_add_explicit(&tm->stat_worker_slept, 1, memory_order_relaxed);
        }
        g = atomic_load_explicit(&tm->gen, memory_order_acquire);
        seen = g;
        if (tm->task == NULL) return;
        if (t < tm->nt) tm->task(tm->arg, t, tm->nt);
        if (atomic_fetch_sub(&tm->pending, 1) == 1 && atomic_load(&tm->master_sleeping))
            fm_futex_wake(&tm->pending, 1);
    }
}

/* Master: hand (task, arg, nt) to the workers. */
static void fm_post(fm_team *tm, fm_task_fn task, void *arg, int nt)
{
    tm->task = task;
    tm->arg = arg;
    tm->nt = nt;
    atomic_store_explicit(&tm->pending, tm->n - 1, memory_order_relaxed);
    atomic_fetch_add(&tm->gen, 1); /* publishes the fields above */
    if (atomic_load(&tm->sleepers) > 0) fm_futex_wake(&tm->gen, INT_MAX);
}

/* Master: wait until every worker is done with the current task. */
static void fm_join(fm_team *tm)
{
    int p;
    if (fm_spin(&tm->pending, 0, 1, tm->spin_ns)) return;
    atomic_store(&tm->master_sleeping, 1);
    while ((p = atomic_load(&tm->pending)) != 0) fm_futex_wait(&tm->pending, p);
    atomic_store(&tm->master_sleeping, 0);
    tm->stat_master_slept++;
}

int fm_par_threads(ptrdiff_t work, ptrdiff_t solo_min, int n_threads)
{
    fm_team *tm = fm_cur;
    if (tm) {
        if (work < FM_TEAM_MIN_WORK) return 1;
        if (fm_solo_until != 0) { /* the workers have been late: go alone */
            if (fm_now_ns() < fm_solo_until) {
                tm->stat_solo++;
                return 1;
            }
            fm_solo_until = 0;
        }
        return tm->n;
    }
    if (work < solo_min) return 1;
    if (fm_solo_until != 0 && n_threads > 1) { /* the last team's verdict holds */
        if (fm_now_ns() < fm_solo_until) return 1;
        fm_solo_until = 0;
    }
    return fm_threads_for(work, n_threads);
}

void fm_par_run(int nt, fm_task_fn task, void *arg)
{
    fm_team *tm = fm_cur;
    int t;
    if (nt <= 1) {
        task(arg, 0, 1);
        return;
    }
    if (tm && nt <= tm->n) {
        long long t0 = fm_now_ns(), t1, t2;
        fm_post(tm, task, arg, nt);
        task(arg, 0, nt);
        t1 = fm_now_ns();
        fm_join(tm);
        t2 = fm_now_ns();
        tm->stat_tasks++;
        /* Alone, the master would have taken nt times its own part; with
         * the team it took its part plus the wait for the last worker.  When
         * other programs keep the machine busy, a worker loses its core for
         * whole scheduler slices and the team is slower than one thread:
         * after a window of FM_TEAM_WINDOW tasks that lost time, this
         * thread runs its kernels alone for a while (FM_TEAM_SOLO_MIN_NS,
         * doubling up to FM_TEAM_SOLO_MAX_NS while the workers stay late,
         * halving after each window that gained), then tries the team again. */
        {
            long long own = (long long)(nt - 1) * (t1 - t0), wait = t2 - t1;
            tm->gain_ns += own - wait;
            /* a worker that lost its core is late by a whole time slice:
             * no need to wait for the window's end to see it */
            if (++tm->window == FM_TEAM_WINDOW || wait > 2 * own + FM_TEAM_LATE_NS) {
                if (tm->gain_ns < 0) {
                    fm_solo_until = t2 + fm_solo_backoff;
                    fm_solo_backoff = FM_MIN(2 * fm_solo_backoff, FM_TEAM_SOLO_MAX_NS);
                } else if (tm->window == FM_TEAM_WINDOW) {
                    fm_solo_backoff = FM_MAX(fm_solo_backoff / 2, FM_TEAM_SOLO_MIN_NS);
                }
                tm->gain_ns = 0;
                tm->window = 0;
            }
        }
        return;
    }
    if (tm) { /* more parts than threads: the master runs them all */
        for (t = 0; t < nt; t++) task(arg, t, nt);
        return;
    }
#pragma omp parallel for num_threads(nt) schedule(static)
    for (t = 0; t < nt; t++) task(arg, t, nt);
}

void fm_team_run(int n_threads, void (*body)(void *arg), void *arg)
{
    fm_team *tm;
    if (n_threads <= 1 || fm_cur != NULL ||
        (fm_solo_until != 0 && fm_now_ns() < fm_solo_until)) {
        body(arg);
        return;
    }
    tm = (fm_team *)aligned_alloc(64, (sizeof(fm_team) + 63) / 64 * 64);
    if (!tm) {
        body(arg);
        return;
    }
    memset(tm, 0, sizeof *tm);
    atomic_init(&tm->gen, 0);
    atomic_init(&tm->pending, 0);
    atomic_init(&tm->master_sleeping, 0);
    atomic_init(&tm->sleepers, 0);
    atomic_init(&tm->stat_worker_slept, 0);
    tm->spin_ns = fm_spin_ns_cfg;
#pragma omp parallel num_threads(n_threads)
    {
        int t = omp_get_thread_num();
        if (t == 0) {
            tm->n = omp_get_num_threads();
            if (tm->n > 1) fm_cur = tm;
            body(arg);
            fm_cur = NULL;
            if (tm->n > 1) fm_post(tm, NULL, NULL, 0);
        } else {
            fm_worker(tm, t);
        }
    }
    fm_last_stats[0] = tm->stat_tasks;
    fm_last_stats[1] = atomic_load(&tm->stat_worker_slept);
    fm_last_stats[2] = tm->stat_master_slept;
    fm_last_stats[3] = tm->stat_solo;
    free(tm);
}

void fm_team_last_stats(long long out[4])
{
    out[0] = fm_last_stats[0];
    out[1] = fm_last_stats[1];
    out[2] = fm_last_stats[2];
    out[3] = fm_last_stats[3];
}

#else /* no team: every kernel opens its own OpenMP region */

void fm_team_init(void)
{
}

long fm_team_spin_us(void)
{
    return -1;
}

int fm_par_threads(ptrdiff_t work, ptrdiff_t solo_min, int n_threads)
{
    if (work < solo_min) return 1;
    return fm_threads_for(work, n_threads);
}

void fm_par_run(int nt, fm_task_fn task, void *arg)
{
    int t;
    if (nt <= 1) {
        task(arg, 0, 1);
        return;
    }
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static)
#endif
    for (t = 0; t < nt; t++) task(arg, t, nt);
}

void fm_team_run(int n_threads, void (*body)(void *arg), void *arg)
{
    (void)n_threads;
    body(arg);
}

void fm_team_last_stats(long long out[4])
{
    out[0] = out[1] = out[2] = out[3] = 0;
}

#endif

int fm_openmp_enabled(void)
{
#ifdef _OPENMP
    return 1;
#else
    return 0;
#endif
}

int fm_max_threads(void)
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}
