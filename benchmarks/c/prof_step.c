/*
 * prof_step.c -- where one training step's time goes, measured in C (no
 * Python on the path).  A workbench, not part of the library: build and run
 * it with benchmarks/c/run.sh (same per-file ISA flags as setup.py).
 *
 *   prof_step [sizes=784-16-16-10] [batch=1] [threads=1] [steps=20000] [target] [f32|f64]
 *
 * 1. The whole step: fm_train over `steps` consecutive batches in one call
 *    (plain SGD, softmax cross-entropy, ReLU hidden layers), best of 5.
 * 2. The same calls fm_train makes, one kind at a time, each repeated
 *    `steps` times on the same shapes: the forward layer GEMMs (bias+ReLU
 *    fused), the loss, the dW GEMMs, the bias column sums, the dX GEMMs
 *    (ReLU' fused), the optimizer update.  Their sum against (1) leaves the
 *    loop's own overhead (gathering y, stats, bookkeeping).
 * 3. The cost of entering an OpenMP region whose if() clause is false
 *    (what a kernel pays on one thread unless it skips the region).
 * Times are best-of-5 microseconds per step.
 */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "fastmlp.h"
#include "core/team.h"
#ifdef _OPENMP
#include <omp.h>
#endif

#ifndef T
#define T float
#define SFX(f) f##_f32
#endif

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double urand(unsigned long long *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*s >> 11) / 9007199254740992.0;
}

#define MAXL 16
static int L;
static int64_t sizes[MAXL + 1];
static int32_t acts[MAXL];
static double slopes[MAXL];
static ptrdiff_t B, nb, steps, ow[MAXL], ob[MAXL];
static int nt;
static T *params, *grad, *work, *x, *y, *a[MAXL + 1], *d0, *d1;

typedef void (*part_fn)(int layer);

static double best_of(part_fn f, int layer)
{
    double best = 1e300;
    int r;
    ptrdiff_t s;
    f(layer); /* warm */
    for (r = 0; r < 5; r++) {
        double t0 = now();
        for (s = 0; s < steps; s++) f(layer);
        t0 = now() - t0;
        if (t0 < best) best = t0;
    }
    return best / (double)steps * 1e6;
}

static void p_fwd(int l)
{
    SFX(fm_linear_forward)(a[l + 1], a[l], params + ow[l], params + ob[l],
                           l == L - 1 ? FM_ACT_IDENTITY : acts[l], 0, B, sizes[l], sizes[l + 1],
                           nt);
}
static void p_loss(int l)
{
    (void)l;
    SFX(fm_loss)(d0, a[L], a[L], y, NULL, FM_LOSS_CCE, FM_ACT_SOFTMAX, 0, B, sizes[L],
                 1.0 / (double)B);
}
static void p_dw(int l)
{
    ptrdiff_t IN = sizes[l], OUT = sizes[l + 1];
    SFX(fm_gemm)(grad + ow[l], OUT, a[l], 1, IN, d0, OUT, 1, IN, OUT, B, 1, 0, NULL, nt);
}
static void p_db(int l)
{
    ptrdiff_t OUT = sizes[l + 1], i, j;
    T *db = grad + ob[l];
    for (j = 0; j < OUT; j++) db[j] = 0;
    for (i = 0; i < B; i++)
        for (j = 0; j < OUT; j++) db[j] += d0[i * OUT + j];
}
static void p_dx(int l)
{
    ptrdiff_t IN = sizes[l], OUT = sizes[l + 1];
    fm_epilogue epi;
    memset(&epi, 0, sizeof epi);
    epi.kind = FM_EPI_DACT;
    epi.act = acts[l - 1];
    epi.z = a[l];
    epi.rsz = IN;
    SFX(fm_gemm)(d1, IN, d0, OUT, 1, params + ow[l], 1, OUT, B, IN, OUT, 1, 0, &epi, nt);
}
static fm_optim opt;
static ptrdiff_t npar;
static void p_opt(int l)
{
    (void)l;
    opt.step = 1;
    SFX(fm_optim_update)(params, NULL, NULL, grad, &opt, npar, npar, nt);
}
static volatile int sink;
static void p_omp_if0(int l)
{
    (void)l;
#ifdef _OPENMP
#pragma omp parallel num_threads(1) if (0)
    sink++;
#endif
}

int main(int argc, char **argv)
{
    const char *spec = argc > 1 ? argv[1] : "784-16-16-10";
    char buf[256], *tok;
    unsigned long long seed = 42;
    ptrdiff_t i, maxw = 1, ws;
    fm_net net;
    fm_train_cfg cfg;
    double stats[4] = {0}, total = 1e300, sum = 0, t;
    int l, r;

    B = argc > 2 ? atol(argv[2]) : 1;
    nt = argc > 3 ? atoi(argv[3]) : 1;
    steps = argc > 4 ? atol(argv[4]) : 20000;
    fm_init();
    if (argc > 5 && fm_set_target(argv[5]) != 0) {
        fprintf(stderr, "target %s not available (%s)\n", argv[5], fm_available_targets());
        return 2;
    }
    strncpy(buf, spec, sizeof buf - 1);
    buf[sizeof buf - 1] = 0;
    for (L = -1, tok = strtok(buf, "-"); tok && L < MAXL; tok = strtok(NULL, "-"))
        sizes[++L] = atol(tok);
    for (l = 0; l < L; l++) {
        acts[l] = l == L - 1 ? FM_ACT_SOFTMAX : FM_ACT_RELU;
        slopes[l] = 0;
        if (sizes[l + 1] > maxw) maxw = sizes[l + 1];
    }
    memset(&net, 0, sizeof net); /* fields appended later (norms, ...) off */
    net.n_layers = L;
    net.sizes = sizes;
    net.acts = acts;
    net.slopes = slopes;
    npar = fm_n_params(&net);
    ws = fm_workspace_size(&net, B);
    params = malloc(sizeof(T) * npar);
    grad = malloc(sizeof(T) * npar);
    work = malloc(sizeof(T) * ws);
    for (i = 0, l = 0; l < L; l++) { ow[l] = i; i += sizes[l] * sizes[l + 1]; }
    for (l = 0; l < L; l++) { ob[l] = i; i += sizes[l + 1]; }
    for (i = 0; i < npar; i++) params[i] = (T)((urand(&seed) - 0.5) * 0.1);
    /* data: B*nb rows (steps cycle through them); PROF_BATCHES=nb (default 16,
     * in cache; an epoch's 1875 batches of 32 MNIST rows stream from memory) */
    nb = getenv("PROF_BATCHES") ? atol(getenv("PROF_BATCHES")) : 16;
    if (nb < 16) nb = 16;
    x = malloc(sizeof(T) * B * nb * sizes[0]);
    y = calloc((size_t)(B * nb * sizes[L]), sizeof(T));
    for (i = 0; i < B * nb * sizes[0]; i++) x[i] = (T)urand(&seed);
    for (i = 0; i < B * nb; i++) y[i * sizes[L] + (ptrdiff_t)(urand(&seed) * (double)sizes[L])] = 1;
    memset(&cfg, 0, sizeof cfg);
    cfg.loss = FM_LOSS_CCE;
    cfg.loss_mult = 1.0;
    memset(&opt, 0, sizeof opt);
    opt.kind = FM_OPT_SGD;
    opt.lr = 1e-3;
    opt.decay_bias = 1;

    /* 1. the whole step */
    SFX(fm_train)(params, grad, NULL, NULL, work, stats, &opt, &net, &cfg, x, y, NULL, NULL,
                  B * 16, 0, 16, B, nt);
    for (r = 0; r < 5; r++) {
        ptrdiff_t done = 0;
        double t0 = now();
        while (done < steps) {
            ptrdiff_t n = steps - done < 16 ? steps - done : 16;
            if (n > nb - done % nb) n = nb - done % nb;
            SFX(fm_train)(params, grad, NULL, NULL, work, stats, &opt, &net, &cfg, x, y, NULL,
                          NULL, B * nb, (done % nb) * B, n, B, nt);
            done += n;
        }
        t0 = now() - t0;
        if (t0 < total) total = t0;
    }
    total = total / (double)steps * 1e6;

    {
        long long ts[4];
        fm_team_last_stats(ts);
        printf("last team (16 steps): %lld tasks, %lld worker sleeps, %lld master sleeps, "
               "%lld solo\n", ts[0], ts[1], ts[2], ts[3]);
    }
    /* 2. the parts, on scratch laid out like fm_train's */
    a[0] = x;
    {
        T *w = work;
        for (l = 1; l <= L; l++) { a[l] = w; w += B * sizes[l]; }
        w += B * sizes[L] + B; /* yb, swb */
        d0 = w;
        d1 = w + B * maxw;
        for (i = 0; i < B * maxw; i++) d0[i] = (T)((urand(&seed) - 0.5) * 0.01);
    }
    printf("net %s, batch %td, %d thread(s), GEMM target %s, %s, %td steps\n", spec, B, nt,
           fm_simd_target(), sizeof(T) == 4 ? "float32" : "float64", steps);
    printf("%-34s %10s %7s\n", "part", "us/step", "share");
    printf("%-34s %10.3f %7s\n", "whole step (fm_train)", total, "100%");
#define ROW(name, us) do { t = (us); sum += t; \
        printf("%-34s %10.3f %6.1f%%\n", name, t, 100 * t / total); } while (0)
    for (l = 0; l < L; l++) {
        snprintf(buf, sizeof buf, "forward L%d %lldx%lldx%lld", l, (long long)B,
                 (long long)sizes[l], (long long)sizes[l + 1]);
        ROW(buf, best_of(p_fwd, l));
    }
    ROW("loss + softmax + delta", best_of(p_loss, 0));
    for (l = L - 1; l >= 0; l--) {
        snprintf(buf, sizeof buf, "dW L%d (x^T.d, %lldx%lld, k=%lld)", l, (long long)sizes[l],
                 (long long)sizes[l + 1], (long long)B);
        ROW(buf, best_of(p_dw, l));
        snprintf(buf, sizeof buf, "db L%d (column sums)", l);
        ROW(buf, best_of(p_db, l));
        if (l > 0) {
            snprintf(buf, sizeof buf, "dX L%d (d.W^T, relu')", l);
            ROW(buf, best_of(p_dx, l));
        }
    }
    ROW("optimizer update (SGD)", best_of(p_opt, 0));
    printf("%-34s %10.3f %6.1f%%\n", "sum of parts", sum, 100 * sum / total);
    printf("%-34s %10.3f %6.1f%%\n", "rest (loop overhead)", total - sum,
           100 * (total - sum) / total);
    t = best_of(p_omp_if0, 0);
    printf("(for reference: entering a '#pragma omp parallel if(0)' region costs %.3f us, "
           "paid by any kernel call that enters one on a single thread)\n", t);
    free(params); free(grad); free(work); free(x); free(y);
    return 0;
}
