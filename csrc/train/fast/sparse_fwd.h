/*
 * sparse_fwd.h -- the small-batch forward product that skips W's rows whose
 * inputs are zero (sparse_fwd_impl.h), per target, and its dispatching
 * entry.  Internal.
 */
#ifndef FM_SPARSE_FWD_H
#define FM_SPARSE_FWD_H

#include <stddef.h>

/* fm_train's forward takes it at batches of up to FM_SPARSE_FWD_MAX_ROWS
 * rows, for a W of at least FM_SPARSE_FWD_MIN_BYTES, when at most
 * FM_SPARSE_FWD_MAX_FILL of the inputs' columns hold a nonzero (denser
 * inputs: the GEMM's dense paths, which need no index scan).  MNIST at
 * batch 1, 1 thread, us a step, GEMM -> this: 784-128-64-10 (W_0 401 KB in
 * float32) float32 9.8-10.0 -> 8.1-8.6, float64 23.1-23.4 -> 14.0; with the
 * size floor at 32 KiB, 784-16-16-10 (W_0 50 KB) lost (2.7 -> 4.0). */
#define FM_SPARSE_FWD_MAX_ROWS 2
#ifndef FM_SPARSE_FWD_MIN_BYTES
#define FM_SPARSE_FWD_MIN_BYTES ((ptrdiff_t)128 << 10)
#endif
#define FM_SPARSE_FWD_MAX_FILL 0.875

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
