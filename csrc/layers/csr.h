/*
 * csr.h -- reading CSR input (fastmlp.h's fm_csr) and the per-target
 * instances of the CSR kernels (csr_impl.h, built by csr_generic.c,
 * csr_avx2.c and csr_avx512.c; csr.c dispatches through core/kernels.h).
 * Internal.
 */
#ifndef FM_CSR_H
#define FM_CSR_H

#include <stddef.h>
#include <stdint.h>
#include "fastmlp.h"

/* Entry k of an index array of int32 (i64 = 0) or int64 (i64 = 1): the
 * branch is the same for the whole call, so the predictor always gets it. */
static inline ptrdiff_t fm_csr_at(const void *a, int i64, ptrdiff_t k)
{
    return i64 ? (ptrdiff_t)((const int64_t *)a)[k] : (ptrdiff_t)((const int32_t *)a)[k];
}

/* The CSR row of the kernel's row i (fastmlp.h: sel, lo). */
static inline ptrdiff_t fm_csr_row(const int64_t *sel, ptrdiff_t lo, ptrdiff_t i)
{
    return sel ? (ptrdiff_t)sel[lo + i] : lo + i;
}

/* Stored values in the N selected rows (the work estimate for threads). */
static inline ptrdiff_t fm_csr_rows_nnz(const fm_csr *x, const int64_t *sel, ptrdiff_t lo,
                                        ptrdiff_t N)
{
    ptrdiff_t i, nnz = 0;
    for (i = 0; i < N; i++) {
        const ptrdiff_t r = fm_csr_row(sel, lo, i);
        nnz += fm_csr_at(x->indptr, x->index64, r + 1) - fm_csr_at(x->indptr, x->index64, r);
    }
    return nnz;
}

/* fm_csr_linear_forward_f32/f64 and fm_csr_linear_backward_f32/f64 (fastmlp.h) of a target */
#define FM_CSR_DECLARE(tgt)                                                                   \
    void fm_csr_##tgt##_fwd_f32(float *out, const fm_csr *x, const int64_t *sel, ptrdiff_t lo, \
                                const float *w, const float *b, int act, double slope,        \
                                ptrdiff_t N, ptrdiff_t OUT, int n_threads);                   \
    void fm_csr_##tgt##_fwd_f64(double *out, const fm_csr *x, const int64_t *sel,             \
                                ptrdiff_t lo, const double *w, const double *b, int act,      \
                                double slope, ptrdiff_t N, ptrdiff_t OUT, int n_threads);     \
    void fm_csr_##tgt##_bwd_f32(float *dw, float *db, const float *dz, const fm_csr *x,       \
                                const int64_t *sel, ptrdiff_t lo, ptrdiff_t N, ptrdiff_t OUT, \
                                int acc, int n_threads);                                      \
    void fm_csr_##tgt##_bwd_f64(double *dw, double *db, const double *dz, const fm_csr *x,    \
                                const int64_t *sel, ptrdiff_t lo, ptrdiff_t N, ptrdiff_t OUT, \
                                int acc, int n_threads);
FM_CSR_DECLARE(generic)
FM_CSR_DECLARE(avx2)
FM_CSR_DECLARE(avx512)

#endif /* FM_CSR_H */
