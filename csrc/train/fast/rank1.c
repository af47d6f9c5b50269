/*
 * rank1.c -- fm_rank1_sgd_f32/f64 (rank1.h): the active target's instance
 * of the fused pass, one table lookup per call (core/kernels.h).
 */
#include "core/kernels.h"
#include "train/fast/rank1.h"

void fm_rank1_sgd_f32(float *dn, float *w, const float *d, const float *x, const float *a,
                      int act, double slope, float lr, float s, int acc, ptrdiff_t rows,
                      ptrdiff_t IN, ptrdiff_t OUT, int n_threads)
{
    fm_kernels_active()->rank1_sgd_f32(dn, w, d, x, a, act, slope, lr, s, acc, rows, IN, OUT,
                                       n_threads);
}

void fm_rank1_sgd_f64(double *dn, double *w, const double *d, const double *x, const double *a,
                      int act, double slope, double lr, double s, int acc, ptrdiff_t rows,
                      ptrdiff_t IN, ptrdiff_t OUT, int n_threads)
{
    fm_kernels_active()->rank1_sgd_f64(dn, w, d, x, a, act, slope, lr, s, acc, rows, IN, OUT,
                                       n_threads);
}
