/*
 * rank1.h -- the fused small-batch SGD pass over one layer's weights
 * (rank1_impl.h), per target, and its dispatching entry.  Internal.
 */
#ifndef FM_RANK1_H
#define FM_RANK1_H

#include <stddef.h>

/* fm_train (plain SGD) takes the fused pass for batches of up to
 * FM_RANK1_MAX_ROWS rows and a W of at least FM_RANK1_MIN_BYTES, where the
 * update is not deferred (lowrank.h: weight decay), and the pass read-only
 * (lr = 0, s = 1) for the delta of a layer whose update is deferred.  A W that
 * fits in L1/L2 is read fast either way, and there the GEMMs' register tiles
 * (4 rows of W per load of d, one horizontal sum per element instead of the
 * pass's lane sums per row) win; from 3 rows on the pass's FMAs, not W's
 * bytes, set its time and the GEMMs win or tie.  1 thread, the delta +
 * update of one layer, GEMMs / fused, us (benchmarks/c, this machine: 2 MiB
 * L2, 32 MiB L3, both shared with a second core's load):
 *   1 row:  128x64    f32 0.87 / 1.63   f64 1.62 / 1.85
 *           256x256   f32 7.35 / 10.1   f64 16.3 / 19.1
 *           512x512   f32 35.4 / 25.3   f64 80.2 / 45.8
 *           2048x2048 f32 1142 / 520    f64 3571 / 2090
 *   2 rows: 512x512   f32 46.2 / 38.6   f64 98.6 / 67.9
 *   3 rows: 512x512   f32 61.8 / 77.7   f64 127 / 130
 *           2048x2048 f32 1623 / 1744   f64 4915 / 5064 */
#define FM_RANK1_MAX_ROWS 2
#define FM_RANK1_MIN_BYTES ((ptrdiff_t)1 << 20)

/* 1 when fm_train should run the fused pass on a rows-batch, IN x OUT layer */
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
