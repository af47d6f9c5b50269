/*
 * rank1.h -- the fused small-batch SGD pass over one layer's weights
 * (rank1_impl.h), per target, and its dispatching entry.  Internal.
 */
#ifndef FM_RANK1_H
#define FM_RANK1_H

#include <stddef.h>

/* Batches of up to this many rows take the fused pass in fm_train (plain
 * SGD); larger ones keep the two GEMMs, whose register tiles reuse each
 * loaded row of W across rows of d. */
#define FM_RANK1_MAX_ROWS 4

#define FM_RANK1_DECLARE(tgt)                                                                 \
    void fm_rank1_##tgt##_sgd_f32(float *dn, float *w, const float *d, const float *x,        \
                                  const float *a, int act, double slope, float lr, float s,   \
                                  ptrdiff_t rows, ptrdiff_t IN, ptrdiff_t OUT, int n_threads); \
    void fm_rank1_##tgt##_sgd_f64(double *dn, double *w, const double *d, const double *x,    \
                                  const double *a, int act, double slope, double lr, double s, \
                                  ptrdiff_t rows, ptrdiff_t IN, ptrdiff_t OUT, int n_threads);
FM_RANK1_DECLARE(generic)
FM_RANK1_DECLARE(avx2)
FM_RANK1_DECLARE(avx512)

/* The instance of the active GEMM target (dispatch.c; "ref" runs generic). */
void fm_rank1_sgd_f32(float *dn, float *w, const float *d, const float *x, const float *a,
                      int act, double slope, float lr, float s, ptrdiff_t rows, ptrdiff_t IN,
                      ptrdiff_t OUT, int n_threads);
void fm_rank1_sgd_f64(double *dn, double *w, const double *d, const double *x, const double *a,
                      int act, double slope, double lr, double s, ptrdiff_t rows, ptrdiff_t IN,
                      ptrdiff_t OUT, int n_threads);

#endif /* FM_RANK1_H */
