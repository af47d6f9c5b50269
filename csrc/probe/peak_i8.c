/*
 * peak_i8.c -- the int8 peak, measured (fm_peak_i8, fastmlp.h): the kernel
 * table's vpdpbusd probe (peak_i8.h) on n_threads threads, as peak.c runs
 * the FMA probe for floats.  Benchmarks only.
 */
#include "core/fm_internal.h"
#include "core/kernels.h"

double fm_peak_i8(double *sums, ptrdiff_t reps, int n_threads)
{
    fm_peak_i8_fn_t chains = fm_kernels_peak_i8();
    double ops = 0;
    int used = 1, t;
    if (!chains) return -1.0;
    if (n_threads < 1) n_threads = 1;
    for (t = 0; t < n_threads; t++) sums[t] = 0;
#ifdef _OPENMP
#pragma omp parallel num_threads(n_threads)
    {
        int me = omp_get_thread_num();
        double f;
        sums[me] = chains(reps, &f);
        if (me == 0) {
            used = omp_get_num_threads();
            ops = f;
        }
    }
#else
    sums[0] = chains(reps, &ops);
#endif
    return ops * (double)used;
}
