/*
 * sparse_fwd.h -- the small-batch forward product that skips W's rows whose
 * inputs are zero (sparse_fwd_impl.h), per target, and its dispatching
 * entry: the SPARSE speed path of fm_train (train/plan.h).  Internal.
 */
#ifndef FM_SPARSE_FWD_H
#define FM_SPARSE_FWD_H

#include <stddef.h>

/* SPARSE (train/plan.h): fm_train's forward takes it at batches of up to
 * FM_SPARSE_FWD_MAX_ROWS rows, for a W of at least FM_SPARSE_FWD_MIN_BYTES,
 * when at most FM_SPARSE_FWD_MAX_FILL of the inputs' columns hold a nonzero
 * (denser inputs: the GEMM, which needs no index scan; smaller W: the
 * index scan costs more than the rows it skips -- docs/performance.md). */
#define FM_SPARSE_FWD_MAX_ROWS 2
#ifndef FM_SPARSE_FWD_MIN_BYTES
#define FM_SPARSE_FWD_MIN_BYTES ((ptrdiff_t)128 << 10)
#endif
#define FM_SPARSE_FWD_MAX_FILL 0.875

/* 1 when the shapes allow it: rows-batch, IN x OUT layer of elem-byte weights */
static inline int fm_sparse_fwd_wins(ptrdiff_t rows, ptrdiff_t IN, ptrdiff_t OUT, size_t elem)
{
    return rows <= FM_SPARSE_FWD_MAX_ROWS &&
           IN * OUT * (ptrdiff_t)elem >= FM_SPARSE_FWD_MIN_BYTES;
}

/* 1 when inputs with nz nonzero columns (or values) out of n are sparse enough */
static inline int fm_sparse_fwd_sparse_enough(ptrdiff_t nz, ptrdiff_t n)
{
    return (double)nz <= FM_SPARSE_FWD_MAX_FILL * (double)n;
}

#define FM_SPARSE_FWD_DECLARE(tgt)                                                            \
    void fm_sparse_##tgt##_fwd_f32(float *c, const float *x, const float *w, float beta,      \
                                   ptrdiff_t rows, ptrdiff_t IN, ptrdiff_t OUT, int n_threads); \
    void fm_sparse_##tgt##_fwd_f64(double *c, const double *x, const double *w, double beta,  \
                                   ptrdiff_t rows, ptrdiff_t IN, ptrdiff_t OUT, int n_threads);
FM_SPARSE_FWD_DECLARE(generic)
FM_SPARSE_FWD_DECLARE(avx2)
FM_SPARSE_FWD_DECLARE(avx512)

/* The instance of the active target (sparse_fwd.c, through core/kernels.h;
 * "ref" runs generic):
 *   c = beta * c + x . W  over the rows of W whose column of x is nonzero. */
void fm_sparse_fwd_f32(float *c, const float *x, const float *w, float beta, ptrdiff_t rows,
                       ptrdiff_t IN, ptrdiff_t OUT, int n_threads);
void fm_sparse_fwd_f64(double *c, const double *x, const double *w, double beta, ptrdiff_t rows,
                       ptrdiff_t IN, ptrdiff_t OUT, int n_threads);

#endif /* FM_SPARSE_FWD_H */
