/*
 * rank1.h -- the fused small-batch SGD pass over one layer's weights
 * (rank1_impl.h), per target, and its dispatching entry: the RANK1 speed
 * path of fm_train (train/plan.h).  Internal.
 */
#ifndef FM_RANK1_H
#define FM_RANK1_H

#include <stddef.h>

/* RANK1 (train/plan.h): plain SGD at batches of up to FM_RANK1_MAX_ROWS rows
 * on a layer l > 0 whose W is at least FM_RANK1_MIN_BYTES and whose update
 * is not deferred; DEFER runs the pass read-only (lr = 0, s = 1) for its
 * delta.  A W that fits in L1/L2 is read fast either way and the GEMMs'
 * register tiles win there; from 3 rows on the pass's FMAs, not W's bytes,
 * set its time and the GEMMs win or tie (figures: docs/performance.md). */
#define FM_RANK1_MAX_ROWS 2
#define FM_RANK1_MIN_BYTES ((ptrdiff_t)1 << 20)

/* 1 when the pass pays on a rows-batch, IN x OUT layer of elem-byte weights */
static inline int fm_rank1_wins(ptrdiff_t rows, ptrdiff_t IN, ptrdiff_t OUT, size_t elem)
{
    return rows <= FM_RANK1_MAX_ROWS && IN * OUT * (ptrdiff_t)elem >= FM_RANK1_MIN_BYTES;
}

#define FM_RANK1_DECLARE(tgt)                                                                 \
    void fm_rank1_##tgt##_sgd_f32(float *dn, float *w, const float *d, const float *x,        \
                                  const float *a, int act, double slope, float lr, float s,   \
                                  int acc, ptrdiff_t rows, ptrdiff_t IN, ptrdiff_t OUT,       \
                                  int n_threads);                                             \
    void fm_rank1_##tgt##_sgd_f64(double *dn, double *w, const double *d, const double *x,    \
                                  const double *a, int act, double slope, double lr, double s, \
                                  int acc, ptrdiff_t rows, ptrdiff_t IN, ptrdiff_t OUT,       \
                                  int n_threads);
FM_RANK1_DECLARE(generic)
FM_RANK1_DECLARE(avx2)
FM_RANK1_DECLARE(avx512)

/* The instance of the active target (rank1.c, through core/kernels.h; "ref"
 * runs generic). */
void fm_rank1_sgd_f32(float *dn, float *w, const float *d, const float *x, const float *a,
                      int act, double slope, float lr, float s, int acc, ptrdiff_t rows,
                      ptrdiff_t IN, ptrdiff_t OUT, int n_threads);
void fm_rank1_sgd_f64(double *dn, double *w, const double *d, const double *x, const double *a,
                      int act, double slope, double lr, double s, int acc, ptrdiff_t rows,
                      ptrdiff_t IN, ptrdiff_t OUT, int n_threads);

#endif /* FM_RANK1_H */
