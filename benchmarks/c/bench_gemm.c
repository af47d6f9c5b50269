/*
 * bench_gemm.c -- test and timing harness for the GEMM targets (C side,
 * no Python): first checks every available target against the reference
 * triple loop fm_gemm_ref_* over awkward shapes, then times the products
 * of a dense layer for the project's hot shapes and prints GFLOP/s next to
 * an FMA-bound peak probe.  Verify first, then time: a failing target is
 * not timed, and any failure makes the exit status 1.
 *
 * Build and run (see the Makefile beside this file):
 *   make -C benchmarks/c && benchmarks/c/bench_gemm            # check + time
 *   benchmarks/c/bench_gemm --check        only the parity check
 *   benchmarks/c/bench_gemm --time         only the timings
 *   options: --targets avx512,avx2  --threads 1,2  --dtype f32|f64|both
 *            --quick (fewer shapes)  --max-gflop X (skip larger products
 *            for the slow targets)
 *
 * Parity: |C - C_ref| <= rtol * (|alpha| * sum_p |A(i,p) B(p,j)| + |beta C0|)
 * per element (the magnitude grows with k, so the bound scales with k),
 * rtol = 1e-5 f32 and 1e-12 f64.  C is filled with NaN when beta == 0 (a
 * kernel that reads it fails) and C's row padding must stay untouched.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "fastmlp.h"
#include "gemm/gemm.h"
#include "gemm/gemm_config.h"
#include "core/team.h"

static int opt_net = -1;     /* --net I: time only nets[I] */
/* --cputime: time 1-thread runs in the thread's CPU time instead of wall
 * time, to see through other processes on a shared machine (runs with more
 * threads stay in wall time: other threads' CPU time is only accounted at
 * ticks, and a preempted worker's delay is what they must show). */
static int opt_cputime = 0;
/* --team: time multi-threaded products inside one thread team (csrc/core/team.h),
 * as fm_train runs them, instead of one OpenMP region per product. */
static int opt_team = 0;

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static double now(void)
{
#ifdef _OPENMP
    return omp_get_wtime();
#else
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
#endif
}

static unsigned long long rng_state = 88172645463325252ULL;
static double urand(void) /* uniform in [-1, 1) */
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) / (double)(1ULL << 52) - 1.0;
}

/* ---- options ------------------------------------------------------------ */
static char opt_targets[256] = "";
static int opt_threads[8] = {1, 2}, opt_n_threads = 2;
static int opt_f32 = 1, opt_f64 = 1, opt_quick = 0, opt_check = 1, opt_time = 1;
static double opt_max_gflop = 2.0; /* ref/generic: skip products above this */
static ptrdiff_t opt_shape[4] = {0, 0, 0, 0}; /* --shape MxNxK[:prod]: time one product */

static int target_wanted(const char *name)
{
    char buf[256], *tok, *save = NULL;
    if (!opt_targets[0]) return 1;
    strcpy(buf, opt_targets);
    for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
        if (strcmp(tok, name) == 0) return 1;
    return 0;
}

/* ---- one GEMM case, both dtypes through double storage ------------------- */
typedef struct {
    ptrdiff_t m, n, k;
    int form;           /* 0 NN, 1 TN (A^T), 2 NT (B^T), 3 TT, 4 general strides */
    double alpha, beta;
    int epi_kind, act;  /* fm_epi_kind, fm_act */
    int bias;           /* BIAS_ACT with a bias vector (else NULL) */
} gcase;

static const char *form_name[] = {"NN", "TN", "NT", "TT", "GS"};

/* strides for A (m x k) and B (k x n) in each form; sizes of their buffers */
static void case_strides(const gcase *g, ptrdiff_t *rsa, ptrdiff_t *csa, ptrdiff_t *rsb,
                         ptrdiff_t *csb, ptrdiff_t *na, ptrdiff_t *nb)
{
    ptrdiff_t m = g->m, n = g->n, k = g->k;
    switch (g->form) {
    case 0: *rsa = k; *csa = 1; *rsb = n; *csb = 1; break;
    case 1: *rsa = 1; *csa = m; *rsb = n; *csb = 1; break;
    case 2: *rsa = k; *csa = 1; *rsb = 1; *csb = k; break;
    case 3: *rsa = 1; *csa = m; *rsb = 1; *csb = k; break;
    default: *rsa = 2 * k + 1; *csa = 2; *rsb = 3; *csb = 3 * k + 2; break;
    }
    *na = (m - 1) * *rsa + (k - 1) * *csa + 1;
    *nb = (k - 1) * *rsb + (n - 1) * *csb + 1;
}

typedef void (*gemm32)(float *, ptrdiff_t, const float *, ptrdiff_t, ptrdiff_t, const float *,
                       ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, float, float,
                       const fm_epilogue *, int);
typedef void (*gemm64)(double *, ptrdiff_t, const double *, ptrdiff_t, ptrdiff_t, const double *,
                       ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, double, double,
                       const fm_epilogue *, int);

/* Run one case on fm_gemm_* (the active target) and on the reference;
 * returns the worst error/bound ratio (> 1 fails), or 1e30 on a padding or
 * NaN failure. */
static double run_case(const gcase *g, int f64, int nt)
{
    ptrdiff_t rsa, csa, rsb, csb, na, nb, i, j, p;
    ptrdiff_t m = g->m, n = g->n, k = g->k, ldc = n + 3, nc = m * ldc;
    double *A, *B, *C0, *Z, *bias, worst = 0;
    void *a, *b, *c, *cr, *z, *bi;
    size_t es = f64 ? sizeof(double) : sizeof(float);
    fm_epilogue epi;
    case_strides(g, &rsa, &csa, &rsb, &csb, &na, &nb);
    A = malloc(na * sizeof(double)); B = malloc(nb * sizeof(double));
    C0 = malloc(nc * sizeof(double)); Z = malloc(nc * sizeof(double));
    bias = malloc(n * sizeof(double));
    a = malloc(na * es); b = malloc(nb * es); c = malloc(nc * es); cr = malloc(nc * es);
    z = malloc(nc * es); bi = malloc(n * es);
    for (i = 0; i < na; i++) A[i] = urand();
    for (i = 0; i < nb; i++) B[i] = urand();
    for (i = 0; i < nc; i++) {
        C0[i] = g->beta == 0 ? NAN : urand();
        if (i % ldc >= n) C0[i] = 12345.0; /* padding sentinel */
        Z[i] = g->act == FM_ACT_TANH ? urand() : 0.5 * (urand() + 1.0); /* a valid act output */
        if (i % 7 == 0 && g->act != FM_ACT_SIGMOID) Z[i] = -Z[i];
    }
    for (j = 0; j < n; j++) bias[j] = urand();
#define FILL(T)                                                                              \
    for (i = 0; i < na; i++) ((T *)a)[i] = (T)A[i];                                          \
    for (i = 0; i < nb; i++) ((T *)b)[i] = (T)B[i];                                          \
    for (i = 0; i < nc; i++) ((T *)c)[i] = ((T *)cr)[i] = (T)C0[i], ((T *)z)[i] = (T)Z[i];   \
    for (j = 0; j < n; j++) ((T *)bi)[j] = (T)bias[j];
    if (f64) { FILL(double) } else { FILL(float) }
    epi.kind = g->epi_kind; epi.act = g->act; epi.slope = 0.1;
    epi.bias = g->bias ? bi : NULL; epi.z = z; epi.rsz = ldc;
    if (f64) {
        fm_gemm_f64(c, ldc, a, rsa, csa, b, rsb, csb, m, n, k, g->alpha, g->beta, &epi, nt);
        fm_gemm_ref_f64(cr, ldc, a, rsa, csa, b, rsb, csb, m, n, k, g->alpha, g->beta, &epi, 1);
    } else {
        fm_gemm_f32(c, ldc, a, rsa, csa, b, rsb, csb, m, n, k, (float)g->alpha, (float)g->beta,
                    &epi, nt);
        fm_gemm_ref_f32(cr, ldc, a, rsa, csa, b, rsb, csb, m, n, k, (float)g->alpha,
                        (float)g->beta, &epi, 1);
    }
    for (i = 0; i < m && worst < 1e30; i++)
        for (j = 0; j < ldc; j++) {
            double v = f64 ? ((double *)c)[i * ldc + j] : ((float *)c)[i * ldc + j];
            double r = f64 ? ((double *)cr)[i * ldc + j] : ((float *)cr)[i * ldc + j];
            double mag = 0, rtol = f64 ? 1e-12 : 1e-5;
            if (j >= n) {
                if (v != 12345.0) worst = 1e30;
                continue;
            }
            for (p = 0; p < k; p++) mag += fabs(A[i * rsa + p * csa] * B[p * rsb + j * csb]);
            mag = fabs(g->alpha) * mag + (g->beta == 0 ? 0 : fabs(g->beta * C0[i * ldc + j]));
            if (g->epi_kind == FM_EPI_BIAS_ACT && g->bias) mag += fabs(bias[j]);
            if (isnan(v) != isnan(r)) { worst = 1e30; break; }
            if (!isnan(v) && fabs(v - r) > 0) {
                double e = fabs(v - r) / (rtol * mag + 1e-300);
                if (e > worst) worst = e;
            }
        }
    free(A); free(B); free(C0); free(Z); free(bias);
    free(a); free(b); free(c); free(cr); free(z); free(bi);
    return worst;
}

/* alpha/beta and epilogue variants, cycled over the shapes */
static const double ab_var[][2] = {{1, 0}, {1, 1}, {-0.5, 0.75}, {2.0, 0}, {0.3, -1.5}};
static const int epi_var[][3] = {/* kind, act, bias */
                                 {FM_EPI_NONE, 0, 0},
                                 {FM_EPI_BIAS_ACT, FM_ACT_RELU, 1},
                                 {FM_EPI_DACT, FM_ACT_RELU, 0},
                                 {FM_EPI_BIAS_ACT, FM_ACT_TANH, 1},
                                 {FM_EPI_DACT, FM_ACT_SIGMOID, 0},
                                 {FM_EPI_BIAS_ACT, FM_ACT_SIGMOID, 0},
                                 {FM_EPI_DACT, FM_ACT_LEAKY_RELU, 0},
                                 {FM_EPI_BIAS_ACT, FM_ACT_LEAKY_RELU, 1},
                                 {FM_EPI_DACT, FM_ACT_TANH, 0},
                                 {FM_EPI_BIAS_ACT, FM_ACT_IDENTITY, 1},
                                 {FM_EPI_DACT, FM_ACT_STEP, 0}};
#define N_AB ((int)(sizeof(ab_var) / sizeof(ab_var[0])))
#define N_EPI ((int)(sizeof(epi_var) / sizeof(epi_var[0])))

typedef struct { int mr, nr, mc, kc, nc; } blk;

static blk target_blk(const char *t, int f64)
{
    blk r = {4, 4, 64, 64, 64};
#define BLK(tg, s) { r.mr = FM_CFG_GET_(MR, tg, s); r.nr = FM_CFG_GET_(NR, tg, s);           \
                     r.mc = FM_CFG_GET_(MC, tg, s); r.kc = FM_CFG_GET_(KC, tg, s);           \
                     r.nc = FM_CFG_GET_(NC, tg, s); }
    if (!strcmp(t, "avx512")) { if (f64) BLK(avx512, f64) else BLK(avx512, f32) }
    else if (!strcmp(t, "avx2")) { if (f64) BLK(avx2, f64) else BLK(avx2, f32) }
    else if (!strcmp(t, "generic")) { if (f64) BLK(generic, f64) else BLK(generic, f32) }
    return r;
}

/* Parity over awkward shapes for the active target; returns failures. */
static int check_target(const char *t, int f64)
{
    blk q = target_blk(t, f64);
    ptrdiff_t ms[] = {1, 2, 3, q.mr - 1, q.mr, q.mr + 1, 2 * q.mr + 3};
    ptrdiff_t ns[] = {1, q.nr - 1, q.nr, q.nr + 1, 2 * q.nr + 5, 10, 16};
    ptrdiff_t ks[] = {1, 3, 4, 5, 17, 64};
    ptrdiff_t big[][3] = {
        {q.mc + q.mr + 3, 2 * q.nr + 5, q.kc + 1},   /* crosses MC and KC */
        {2 * q.mc + 1, 3 * q.nr + 1, 2 * q.kc + 5},  /* several IC and PC blocks */
        {37, q.nc + q.nr + 1, 19},                    /* crosses NC */
        {q.mr * 2 + 1, q.nc + 3, q.kc + 2},           /* NC and KC, few rows */
        {300, 300, 600},
        {256, 10, 512}, {512, 10, 256}, {256, 512, 10}, /* a 10-wide layer's products */
        {4, 300, 700}, {1, 3000, 800}, {900, 3, 2}, {3000, 700, 1},  /* GEMV, outer */
        {300, 16, 600}, {45, 31, 520}, {19, 9, 1000}, {2, 700, 3000}, /* narrow, deep */
        {1100, 10, 300}}; /* narrow with a tall A^T: short k slices */
    int nm = 7, nn = 7, nk = 6, nbig = (int)(sizeof(big) / sizeof(big[0]));
    int fails = 0, cnt = 0, v = 0, ti, im, in, ik, f, ib;
    double worst = 0;
    for (ti = 0; ti < opt_n_threads; ti++) {
        int nt = opt_threads[ti];
        for (im = 0; im < nm; im++)
            for (in = 0; in < nn; in++)
                for (ik = 0; ik < nk; ik++)
                    for (f = 0; f < 5; f++, v++) {
                        gcase g = {ms[im], ns[in], ks[ik], f, ab_var[v % N_AB][0],
                                   ab_var[v % N_AB][1], epi_var[v % N_EPI][0],
                                   epi_var[v % N_EPI][1], epi_var[v % N_EPI][2]};
                        double e;
                        if (g.m < 1 || g.n < 1) continue;
                        e = run_case(&g, f64, nt);
                        cnt++;
                        if (e > worst) worst = e;
                        if (e > 1 && fails++ < 10)
                            printf("  FAIL %s %s m=%td n=%td k=%td %s alpha=%g beta=%g epi=%d/%d "
                                   "nt=%d: err/bound=%.3g\n", t, f64 ? "f64" : "f32", g.m, g.n,
                                   g.k, form_name[f], g.alpha, g.beta, g.epi_kind, g.act, nt, e);
                    }
        for (ib = 0; ib < nbig; ib++)
            for (f = 0; f < 5; f++, v++) {
                gcase g = {big[ib][0], big[ib][1], big[ib][2], f, ab_var[v % N_AB][0],
                           ab_var[v % N_AB][1], epi_var[v % N_EPI][0], epi_var[v % N_EPI][1],
                           epi_var[v % N_EPI][2]};
                double e;
                if (opt_quick && g.m * g.n * g.k > 20000000) continue;
                e = run_case(&g, f64, nt);
                cnt++;
                if (e > worst) worst = e;
                if (e > 1 && fails++ < 10)
                    printf("  FAIL %s %s m=%td n=%td k=%td %s alpha=%g beta=%g epi=%d/%d nt=%d: "
                           "err/bound=%.3g\n", t, f64 ? "f64" : "f32", g.m, g.n, g.k,
                           form_name[f], g.alpha, g.beta, g.epi_kind, g.act, nt, e);
            }
    }
    printf("parity %-8s %s: %d cases, %d failed, worst err/bound %.3g (MR=%d NR=%d MC=%d KC=%d "
           "NC=%d)\n", t, f64 ? "f64" : "f32", cnt, fails, worst, q.mr, q.nr, q.mc, q.kc, q.nc);
    return fails;
}

/* ---- peak probe: independent FMA chains, no memory traffic ---------------- */
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define PEAK_BODY(V, FMA, SET1, CLOBBER)                                                     \
    V a0 = SET1(1), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0,  \
      a9 = a0, a10 = a0, a11 = a0, x = SET1(0.99999f), y = SET1(1e-6f);                      \
    long i;                                                                                  \
    for (i = 0; i < it; i++) {                                                               \
        a0 = FMA(a0, x, y); a1 = FMA(a1, x, y); a2 = FMA(a2, x, y); a3 = FMA(a3, x, y);      \
        a4 = FMA(a4, x, y); a5 = FMA(a5, x, y); a6 = FMA(a6, x, y); a7 = FMA(a7, x, y);      \
        a8 = FMA(a8, x, y); a9 = FMA(a9, x, y); a10 = FMA(a10, x, y); a11 = FMA(a11, x, y);  \
        __asm__ volatile("" : CLOBBER(a0), CLOBBER(a1), CLOBBER(a2), CLOBBER(a3),            \
                         CLOBBER(a4), CLOBBER(a5), CLOBBER(a6), CLOBBER(a7), CLOBBER(a8),    \
                         CLOBBER(a9), CLOBBER(a10), CLOBBER(a11));                           \
    }                                                                                        \
    a0 = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;                       \
    return a0[0];
#define XREG(v) "+x"(v)
#define VREG(v) "+v"(v)
__attribute__((target("avx2,fma"))) static float peak_avx2(long it)
{
    PEAK_BODY(__m256, _mm256_fmadd_ps, _mm256_set1_ps, XREG)
}
__attribute__((target("avx512f"))) static float peak_avx512(long it)
{
    PEAK_BODY(__m512, _mm512_fmadd_ps, _mm512_set1_ps, VREG)
}
#endif

/* fp32 GFLOP/s of nt threads running FMA chains of the given ISA */
static double peak_probe(int isa512, int nt)
{
    double best = 0;
#if defined(__x86_64__) && defined(__GNUC__)
    long it = 20000000;
    int rep;
    volatile float sink = 0;
    for (rep = 0; rep < 3; rep++) {
        double t = now();
#ifdef _OPENMP
#pragma omp parallel num_threads(nt)
#endif
        {
            float s = isa512 ? peak_avx512(it / 2) : peak_avx2(it);
            sink += s;
        }
        t = now() - t;
        if (12.0 * 16 * it * nt / t / 1e9 > best) best = 12.0 * 16 * it * nt / t / 1e9;
    }
#else
    (void)isa512; (void)nt;
#endif
    return best;
}

/* ---- timing of the hot shapes ------------------------------------------- */
typedef struct { const char *name; int n; int sizes[5]; } netdef;
static const netdef nets[] = {{"784-16-16-10", 4, {784, 16, 16, 10}},
                              {"784-128-64-10", 4, {784, 128, 64, 10}},
                              {"784-512-512-10", 4, {784, 512, 512, 10}},
                              {"784-2048-2048-10", 4, {784, 2048, 2048, 10}}};
static const int batches[] = {1, 32, 200, 256, 4096};

/* The timed repeats of time_gemm, as a body fm_team_run can run (--team). */
typedef struct {
    int f64, nt;
    ptrdiff_t m, n, k, rsa, csa, rsb, csb;
    void *a, *b, *c;
    const fm_epilogue *epi;
    double flops, best;
} tloop;

static void timed_loop(void *arg)
{
    tloop *L = (tloop *)arg;
    double total = 0;
    int rep = 0;
    while (rep < 5 || (total < 0.5 && rep < 100000)) {
        int inner = L->flops < 1e6 ? 20 : 1, r, cpu = opt_cputime && L->nt == 1;
        double t = cpu ? cpu_now() : now();
        for (r = 0; r < inner; r++) {
            if (L->f64)
                fm_gemm_f64(L->c, L->n, L->a, L->rsa, L->csa, L->b, L->rsb, L->csb, L->m, L->n,
                            L->k, 1.0, 0.0, L->epi, L->nt);
            else
                fm_gemm_f32(L->c, L->n, L->a, L->rsa, L->csa, L->b, L->rsb, L->csb, L->m, L->n,
                            L->k, 1.0f, 0.0f, L->epi, L->nt);
        }
        t = ((cpu ? cpu_now() : now()) - t) / inner;
        total += t * inner;
        if (t < L->best) L->best = t;
        rep++;
    }
}

/* best-of time of one product; data are allocated per call */
static double time_gemm(int f64, int kind, ptrdiff_t B, ptrdiff_t IN, ptrdiff_t OUT, int nt)
{
    /* kind 0: fwd out(B,OUT) = relu(x(B,IN).w + b); 1: dW(IN,OUT) = x^T.dz (beta 0);
     * 2: dx(B,IN) = (dz.w^T) * relu'(x) */
    ptrdiff_t m, n, k, rsa, csa, rsb, csb, na, nb, nc, i;
    double best = 1e30, total = 0, flops;
    size_t es = f64 ? 8 : 4;
    void *a, *b, *c, *z, *bi;
    fm_epilogue epi = {FM_EPI_NONE, FM_ACT_RELU, 0.0, NULL, NULL, 0};
    int rep = 0;
    if (kind == 0) { m = B; n = OUT; k = IN; rsa = IN; csa = 1; rsb = OUT; csb = 1; }
    else if (kind == 1) { m = IN; n = OUT; k = B; rsa = 1; csa = IN; rsb = OUT; csb = 1; }
    else { m = B; n = IN; k = OUT; rsa = OUT; csa = 1; rsb = 1; csb = OUT; }
    na = m * k; nb = k * n; nc = m * n;
    a = malloc(na * es); b = malloc(nb * es); c = malloc(nc * es); z = malloc(nc * es);
    bi = malloc(n * es);
    for (i = 0; i < na; i++) { if (f64) ((double *)a)[i] = urand(); else ((float *)a)[i] = urand(); }
    for (i = 0; i < nb; i++) { if (f64) ((double *)b)[i] = urand(); else ((float *)b)[i] = urand(); }
    for (i = 0; i < nc; i++) {
        if (f64) ((double *)c)[i] = ((double *)z)[i] = urand();
        else ((float *)c)[i] = ((float *)z)[i] = urand();
    }
    for (i = 0; i < n; i++) { if (f64) ((double *)bi)[i] = urand(); else ((float *)bi)[i] = urand(); }
    if (kind == 0) { epi.kind = FM_EPI_BIAS_ACT; epi.bias = bi; }
    if (kind == 2) { epi.kind = FM_EPI_DACT; epi.z = z; epi.rsz = n; }
    flops = 2.0 * m * n * k;
    {
        tloop L = {f64, nt, m, n, k, rsa, csa, rsb, csb, a, b, c, &epi, flops, 1e30};
        if (opt_team && nt > 1) fm_team_run(nt, timed_loop, &L);
        else timed_loop(&L);
        best = L.best;
    }
    (void)rep; (void)total;
    free(a); free(b); free(c); free(z); free(bi);
    return best;
}

static void time_target(const char *t, int f64, double peak1)
{
    int ni, bi, ti, l, kind;
    if (opt_shape[0]) { /* one product: m x n x k of the given kind */
        ptrdiff_t m = opt_shape[0], n = opt_shape[1], k = opt_shape[2], kd = opt_shape[3];
        ptrdiff_t B = kd == 1 ? k : m, IN = kd == 0 ? k : kd == 1 ? m : n;
        ptrdiff_t OUT = kd == 2 ? k : n;
        printf("%-8s %s %s %tdx%tdx%td:", t, f64 ? "f64" : "f32",
               kd == 0 ? "fwd" : kd == 1 ? "dW" : "dX", m, n, k);
        for (ti = 0; ti < opt_n_threads; ti++) {
            double tt = time_gemm(f64, (int)kd, B, IN, OUT, opt_threads[ti]);
            printf("  %dt %.1f us %.1f GF/s", opt_threads[ti], tt * 1e6, 2.0 * m * n * k / tt / 1e9);
        }
        printf("\n");
        return;
    }
    printf("\n== %s %s: GFLOP/s per product (best of >= 5 runs, %s; %% of the fp32 FMA "
           "peak %.0f GFLOP/s/core) ==\n", t, f64 ? "f64" : "f32",
           opt_cputime ? "1t in CPU time, 2t wall" : "wall time", peak1);
    printf("%-17s %5s %-4s %-15s %7s %7s %7s %7s %10s\n", "net", "batch", "prod", "m x n x k",
           "us/1t", "GF/1t", "us/2t", "GF/2t", "%peak(2t)");
    for (ni = 0; ni < (int)(sizeof(nets) / sizeof(nets[0])); ni++) {
        if ((opt_quick && ni == 1) || (opt_net >= 0 && ni != opt_net)) continue;
        for (bi = 0; bi < (int)(sizeof(batches) / sizeof(batches[0])); bi++) {
            ptrdiff_t B = batches[bi];
            double step[8] = {0};
            if (opt_quick && (B == 200 || B == 32)) continue;
            for (l = 0; l < nets[ni].n - 1; l++)
                for (kind = 0; kind < 3; kind++) {
                    ptrdiff_t IN = nets[ni].sizes[l], OUT = nets[ni].sizes[l + 1];
                    ptrdiff_t m = kind == 1 ? IN : B, n = kind == 2 ? IN : OUT;
                    ptrdiff_t k = kind == 0 ? IN : kind == 1 ? B : OUT;
                    double fl = 2.0 * m * n * k, tt[8] = {0};
                    char dims[40];
                    if (kind == 2 && l == 0) continue; /* nobody needs dL/dx of the input */
                    if (fl > opt_max_gflop * 1e9 &&
                        (!strcmp(t, "ref") || !strcmp(t, "generic")))
                        continue;
                    for (ti = 0; ti < opt_n_threads; ti++) {
                        tt[ti] = time_gemm(f64, kind, B, IN, OUT, opt_threads[ti]);
                        step[ti] += tt[ti];
                    }
                    snprintf(dims, sizeof dims, "%tdx%tdx%td", m, n, k);
                    printf("%-17s %5td %-4s %-15s", nets[ni].name, B,
                           kind == 0 ? "fwd" : kind == 1 ? "dW" : "dX", dims);
                    for (ti = 0; ti < 2; ti++) {
                        if (ti < opt_n_threads)
                            printf(" %7.1f %7.1f", tt[ti] * 1e6, fl / tt[ti] / 1e9);
                        else
                            printf(" %7s %7s", "-", "-");
                    }
                    if (opt_n_threads > 1)
                        printf(" %9.0f%%", 100.0 * fl / tt[1] / 1e9 / (peak1 * opt_threads[1]));
                    printf("\n");
                }
            printf("%-17s %5td step GEMMs (fwd+dW+dX): %.1f us/1t", nets[ni].name, B,
                   step[0] * 1e6);
            if (opt_n_threads > 1) printf(", %.1f us/%dt", step[1] * 1e6, opt_threads[1]);
            printf("\n");
        }
    }
}

static void parse_args(int argc, char **argv)
{
    int i;
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--check")) { opt_time = 0; }
        else if (!strcmp(argv[i], "--time")) { opt_check = 0; }
        else if (!strcmp(argv[i], "--quick")) { opt_quick = 1; }
        else if (!strcmp(argv[i], "--cputime")) { opt_cputime = 1; }
        else if (!strcmp(argv[i], "--team")) { opt_team = 1; }
        else if (!strcmp(argv[i], "--net") && i + 1 < argc) { opt_net = atoi(argv[++i]); }
        else if (!strcmp(argv[i], "--targets") && i + 1 < argc) {
            strncpy(opt_targets, argv[++i], sizeof opt_targets - 1);
        } else if (!strcmp(argv[i], "--dtype") && i + 1 < argc) {
            i++;
            opt_f32 = !strcmp(argv[i], "f32") || !strcmp(argv[i], "both");
            opt_f64 = !strcmp(argv[i], "f64") || !strcmp(argv[i], "both");
        } else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
            char *s = argv[++i];
            opt_n_threads = 0;
            while (*s && opt_n_threads < 8) {
                opt_threads[opt_n_threads++] = (int)strtol(s, &s, 10);
                if (*s == ',') s++;
            }
        } else if (!strcmp(argv[i], "--shape") && i + 1 < argc) {
            char prod[8] = "fwd";
            sscanf(argv[++i], "%tdx%tdx%td:%7s", &opt_shape[0], &opt_shape[1], &opt_shape[2], prod);
            opt_shape[3] = !strcmp(prod, "dW") ? 1 : !strcmp(prod, "dX") ? 2 : 0;
            opt_check = 0;
        } else if (!strcmp(argv[i], "--max-gflop") && i + 1 < argc) {
            opt_max_gflop = atof(argv[++i]);
        } else {
            fprintf(stderr, "usage: %s [--check|--time] [--quick] [--targets a,b] "
                            "[--threads 1,2] [--dtype f32|f64|both] [--max-gflop X] [--net I] "
                            "[--shape MxNxK[:fwd|dW|dX]] [--cputime] [--team]\n", argv[0]);
            exit(2);
        }
    }
}

int main(int argc, char **argv)
{
    char avail[256], *tok, *save = NULL;
    int fails = 0, checked = 0;
    double peak1 = 0;
    parse_args(argc, argv);
    fm_init();
    printf("fastmlp bench_gemm: targets available %s (default %s), OpenMP %s, max threads %d\n",
           fm_available_targets(), fm_simd_target(), fm_openmp_enabled() ? "on" : "off",
           fm_max_threads());
    strncpy(avail, fm_available_targets(), sizeof avail - 1);
    avail[sizeof avail - 1] = 0;
    if (opt_check) {
        for (tok = strtok_r(avail, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            if (!target_wanted(tok) || !strcmp(tok, "ref")) continue;
            fm_set_target(tok);
            if (opt_f32) fails += check_target(tok, 0);
            if (opt_f64) fails += check_target(tok, 1);
            checked++;
        }
        printf("parity: %d targets checked, %d failures\n", checked, fails);
    }
    if (opt_time && !fails) {
        if (!opt_shape[0]) {
            double p2a = peak_probe(0, 1), p5a = peak_probe(1, 1);
            double p2b = peak_probe(0, 2), p5b = peak_probe(1, 2);
            peak1 = p2a > p5a ? p2a : p5a;
            printf("\nfp32 FMA peak probe: avx2 %.1f GFLOP/s (1 thread) %.1f (2 threads); "
                   "avx512 %.1f (1) %.1f (2)\n", p2a, p2b, p5a, p5b);
        }
        strncpy(avail, fm_available_targets(), sizeof avail - 1);
        for (tok = strtok_r(avail, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            if (!target_wanted(tok)) continue;
            fm_set_target(tok);
            if (opt_f32) time_target(tok, 0, peak1);
            if (opt_f64) time_target(tok, 1, peak1);
        }
    }
    if (fails) printf("FAILED: %d parity failures\n", fails);
    return fails ? 1 : 0;
}
