/*
 * sparse_fwd.c -- fm_sparse_fwd_f32/f64 (sparse_fwd.h): the active target's
 * instance of the zero-skipping forward, one table lookup per call
 * (core/kernels.h).
 */
#include "core/kernels.h"
#include "train/fast/sparse_fwd.h"

void fm_sparse_fwd_f32(float *c, const float *x, const float *w, float beta, ptrdiff_t rows,
                       ptrdiff_t IN, ptrdiff_t OUT, int n_threads)
{
    fm_kernels_active()->sparse_fwd_f32(c, x, w, beta, rows, IN, OUT, n_threads);
}

void fm_sparse_fwd_f64(double *c, const double *x, const double *w, double beta, ptrdiff_t rows,
                       ptrdiff_t IN, ptrdiff_t OUT, int n_threads)
{
    fm_kernels_active()->sparse_fwd_f64(c, x, w, beta, rows, IN, OUT, n_threads);
}
