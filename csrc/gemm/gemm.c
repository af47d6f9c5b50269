/*
 * gemm.c -- fm_gemm_f32/f64 (fastmlp.h): the active target's GEMM, one
 * table lookup per call (core/kernels.h).
 */
#include "core/kernels.h"

void fm_gemm_f32(float *c, ptrdiff_t rsc, const float *a, ptrdiff_t rsa, ptrdiff_t csa,
                 const float *b, ptrdiff_t rsb, ptrdiff_t csb, ptrdiff_t m, ptrdiff_t n,
                 ptrdiff_t k, float alpha, float beta, const fm_epilogue *epi, int n_threads)
{
    fm_kernels_active()->gemm_f32(c, rsc, a, rsa, csa, b, rsb, csb, m, n, k, alpha, beta, epi,
                                  n_threads);
}

void fm_gemm_f64(double *c, ptrdiff_t rsc, const double *a, ptrdiff_t rsa, ptrdiff_t csa,
                 const double *b, ptrdiff_t rsb, ptrdiff_t csb, ptrdiff_t m, ptrdiff_t n,
                 ptrdiff_t k, double alpha, double beta, const fm_epilogue *epi, int n_threads)
{
    fm_kernels_active()->gemm_f64(c, rsc, a, rsa, csa, b, rsb, csb, m, n, k, alpha, beta, epi,
                                  n_threads);
}
