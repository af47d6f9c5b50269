/*
 * peak.c -- the machine's floating-point peak, measured: an FMA-throughput
 * probe for benchmarks (fastmlp.bench reports every speed as a fraction of
 * it).  Not a kernel of the library; nothing else calls it.
 *
 * Targets, best first: "avx512" (peak_avx512.c, 512-bit FMA), "avx2"
 * (peak_avx2.c, 256-bit FMA), "generic" (below, portable C: separate
 * multiply and add, vectorised by the compiler as it can).  The ISA files
 * are compiled with their own flags (setup.py) and called only after the
 * check below has found the CPU *and* the OS (saved YMM/ZMM state) able to
 * run them.  The loop bodies are in peak_impl.h.
 */
#include <string.h>
#include "core/fm_internal.h"

#if defined(__x86_64__) || defined(_M_X64)
#define FM_PEAK_X86 1
#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
#include <immintrin.h>
#endif
double fm_peak_chains_avx2_f32(float mul, float add, ptrdiff_t reps);
double fm_peak_chains_avx2_f64(double mul, double add, ptrdiff_t reps);
double fm_peak_chains_avx512_f32(float mul, float add, ptrdiff_t reps);
double fm_peak_chains_avx512_f64(double mul, double add, ptrdiff_t reps);
#else
#define FM_PEAK_X86 0
#endif

/* ---- the portable body: PK_CHAINS scalar chains ------------------------- */
#define PK_ISA generic
#define PK_CHAINS 32
#define PK_LANES 1
#define PK_SET1(x) (x)
#define PK_FMA(a, b, c) ((a) * (b) + (c))
#define PK_STOREU(p, v) (*(p) = (v))

#include "core/fm_dtype_f32.h"
#define PK_VEC float
#include "probe/peak_impl.h"
#undef PK_VEC
#include "core/fm_dtype_end.h"

#include "core/fm_dtype_f64.h"
#define PK_VEC double
#include "probe/peak_impl.h"
#undef PK_VEC
#include "core/fm_dtype_end.h"

/* ---- which ISAs this CPU and OS run --------------------------------------- */

/* 2: AVX-512F, 1: AVX2+FMA, 0: neither (or not x86-64). */
static int fm_peak_level(void)
{
#if FM_PEAK_X86 && (defined(__GNUC__) || defined(__clang__))
    /* libgcc/compiler-rt check cpuid and, through xgetbv, that the OS
     * saves the YMM/ZMM registers before reporting these features. */
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return 2;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 1;
#elif FM_PEAK_X86 && defined(_MSC_VER)
    int r[4];
    unsigned long long xcr0;
    int fma, avx2, avx512f;
    __cpuid(r, 0);
    if (r[0] < 7) return 0;
    __cpuid(r, 1);
    if (!(r[2] & (1 << 27))) return 0;           /* OSXSAVE */
    fma = (r[2] >> 12) & 1;
    xcr0 = _xgetbv(0);
    __cpuidex(r, 7, 0);
    avx2 = (r[1] >> 5) & 1;
    avx512f = (r[1] >> 16) & 1;
    if (avx512f && (xcr0 & 0xe6) == 0xe6) return 2; /* XMM, YMM, opmask, ZMM state */
    if (avx2 && fma && (xcr0 & 0x6) == 0x6) return 1;
#endif
    return 0;
}

const char *fm_peak_isas(void)
{
    switch (fm_peak_level()) {
    case 2: return "avx512,avx2,generic";
    case 1: return "avx2,generic";
    default: return "generic";
    }
}

/* name -> 2/1/0, or -1 when this CPU cannot run it; "" is the best. */
static int fm_peak_pick(const char *isa)
{
    int best = fm_peak_level();
    if (!isa || !isa[0]) return best;
    if (strcmp(isa, "generic") == 0) return 0;
    if (strcmp(isa, "avx2") == 0) return best >= 1 ? 1 : -1;
    if (strcmp(isa, "avx512") == 0) return best >= 2 ? 2 : -1;
    return -1;
}

/* ---- the probe ------------------------------------------------------------ */

/* FLOPs one call of a chain function does per rep, by level. */
static double fm_peak_flops_per_rep(int level, int dbl)
{
    static const double lanes_chains[3][2] = {
        {32.0, 32.0},            /* generic: 32 scalar chains */
        {8.0 * 12, 4.0 * 12},    /* avx2: 12 vectors of 8 floats / 4 doubles */
        {16.0 * 16, 8.0 * 16},   /* avx512: 16 vectors of 16 floats / 8 doubles */
    };
    return 2.0 * lanes_chains[level][dbl];
}

static double fm_peak_one(int level, int dbl, double mul, double add, ptrdiff_t reps)
{
#if FM_PEAK_X86
    if (level == 2)
        return dbl ? fm_peak_chains_avx512_f64(mul, add, reps)
                   : fm_peak_chains_avx512_f32((float)mul, (float)add, reps);
    if (level == 1)
        return dbl ? fm_peak_chains_avx2_f64(mul, add, reps)
                   : fm_peak_chains_avx2_f32((float)mul, (float)add, reps);
#endif
    return dbl ? fm_peak_chains_generic_f64(mul, add, reps)
               : fm_peak_chains_generic_f32((float)mul, (float)add, reps);
}

static double fm_peak(double *sums, const char *isa, int dbl, double mul, double add,
                      ptrdiff_t reps, int n_threads)
{
    int level = fm_peak_pick(isa), used = 1, t;
    if (level < 0) return -1.0;
    if (n_threads < 1) n_threads = 1;
    for (t = 0; t < n_threads; t++) sums[t] = 0;
#ifdef _OPENMP
#pragma omp parallel num_threads(n_threads)
    {
        int me = omp_get_thread_num();
        sums[me] = fm_peak_one(level, dbl, mul, add, reps);
        if (me == 0) used = omp_get_num_threads();
    }
#else
    sums[0] = fm_peak_one(level, dbl, mul, add, reps);
#endif
    return fm_peak_flops_per_rep(level, dbl) * (double)reps * (double)used;
}

double fm_peak_f32(double *sums, const char *isa, double mul, double add, ptrdiff_t reps,
                   int n_threads)
{
    return fm_peak(sums, isa, 0, mul, add, reps, n_threads);
}

double fm_peak_f64(double *sums, const char *isa, double mul, double add, ptrdiff_t reps,
                   int n_threads)
{
    return fm_peak(sums, isa, 1, mul, add, reps, n_threads);
}
