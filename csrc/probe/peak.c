/*
 * peak.c -- the machine's floating-point peak, measured: an FMA-throughput
 * probe for benchmarks (the bench reports every speed as a fraction of it).
 * Not a kernel of the library; nothing else calls it.
 *
 * Each target of the kernel table (core/kernels.h) that has a probe runs its
 * own chain loop (peak_generic.c, peak_avx2.c, peak_avx512.c); the ISA is
 * chosen per call by name, independently of the active target.
 */
#include <string.h>
#include "core/fm_internal.h"
#include "core/kernels.h"
#include "probe/peak.h"

static char fm_peak_list[64]; /* supported targets with a probe, best first */

const char *fm_peak_isas(void)
{
    const fm_kernels *k;
    int i;
    if (fm_peak_list[0]) return fm_peak_list; /* the list never changes */
    for (i = 0; (k = fm_kernels_at(i)) != NULL; i++) {
        if (!k->peak_chains_f32 || !k->supported()) continue;
        if (fm_peak_list[0])
            strncat(fm_peak_list, ",", sizeof(fm_peak_list) - strlen(fm_peak_list) - 1);
        strncat(fm_peak_list, k->name, sizeof(fm_peak_list) - strlen(fm_peak_list) - 1);
    }
    return fm_peak_list;
}

/* The probe of the target named `isa` ("" the best one), or NULL. */
static const fm_kernels *fm_peak_pick(const char *isa)
{
    const fm_kernels *k;
    int i;
    for (i = 0; (k = fm_kernels_at(i)) != NULL; i++)
        if (k->peak_chains_f32 && k->supported() && (!isa || !isa[0] || !strcmp(k->name, isa)))
            return k;
    return NULL;
}

static double fm_peak_one(const fm_kernels *k, int dbl, double mul, double add,
                          ptrdiff_t reps, double *flops)
{
    return dbl ? k->peak_chains_f64(mul, add, reps, flops)
               : k->peak_chains_f32((float)mul, (float)add, reps, flops);
}

/* sums[t] = thread t's accumulator sum; returns the FLOPs of all threads,
 * or -1 when this CPU cannot run `isa`. */
static double fm_peak(double *sums, const char *isa, int dbl, double mul, double add,
                      ptrdiff_t reps, int n_threads)
{
    const fm_kernels *k = fm_peak_pick(isa);
    double flops = 0;
    int used = 1, t;
    if (!k) return -1.0;
    if (n_threads < 1) n_threads = 1;
    for (t = 0; t < n_threads; t++) sums[t] = 0;
#ifdef _OPENMP
#pragma omp parallel num_threads(n_threads)
    {
        int me = omp_get_thread_num();
        double f;
        sums[me] = fm_peak_one(k, dbl, mul, add, reps, &f);
        if (me == 0) {
            used = omp_get_num_threads();
            flops = f;
        }
    }
#else
    sums[0] = fm_peak_one(k, dbl, mul, add, reps, &flops);
#endif
    return flops * (double)used;
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

/* The bf16 probe (peak_bf16_avx512.c) on n_threads threads, as fm_peak. */
double fm_peak_bf16(double *sums, ptrdiff_t reps, int n_threads)
{
#if defined(__x86_64__) || defined(_M_X64)
    double flops = 0;
    int used = 1, t;
    if (!fm_bf16_dp_supported()) return -1.0;
    if (n_threads < 1) n_threads = 1;
    for (t = 0; t < n_threads; t++) sums[t] = 0;
#ifdef _OPENMP
#pragma omp parallel num_threads(n_threads)
    {
        int me = omp_get_thread_num();
        double f;
        sums[me] = fm_peak_chains_bf16(reps, &f);
        if (me == 0) {
            used = omp_get_num_threads();
            flops = f;
        }
    }
#else
    sums[0] = fm_peak_chains_bf16(reps, &flops);
#endif
    return flops * (double)used;
#else
    (void)sums; (void)reps; (void)n_threads;
    return -1.0;
#endif
}
