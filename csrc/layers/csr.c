/*
 * csr.c -- the first layer over CSR input rows (scipy.sparse's layout),
 * float and double: the entry points of fastmlp.h ("CSR input"), each one
 * table lookup to the active target's instance (csr_impl.h, built by
 * csr_generic.c, csr_avx2.c, csr_avx512.c; core/kernels.h), and the finite
 * check of the rows.  fm_train runs these for layer 0 when its input is CSR
 * (train/layers_impl.h).
 */
#include "core/fm_internal.h"
#include "core/kernels.h"
#include "layers/csr.h"

void fm_csr_linear_forward_f32(float *out, const fm_csr *x, const int64_t *sel, ptrdiff_t lo,
                               const float *w, const float *b, int act, double slope,
                               ptrdiff_t N, ptrdiff_t OUT, int n_threads)
{
    fm_kernels_active()->csr_fwd_f32(out, x, sel, lo, w, b, act, slope, N, OUT, n_threads);
}

void fm_csr_linear_forward_f64(double *out, const fm_csr *x, const int64_t *sel, ptrdiff_t lo,
                               const double *w, const double *b, int act, double slope,
                               ptrdiff_t N, ptrdiff_t OUT, int n_threads)
{
    fm_kernels_active()->csr_fwd_f64(out, x, sel, lo, w, b, act, slope, N, OUT, n_threads);
}

void fm_csr_linear_backward_f32(float *dw, float *db, const float *dz, const fm_csr *x,
                                const int64_t *sel, ptrdiff_t lo, ptrdiff_t N, ptrdiff_t OUT,
                                int acc, int n_threads)
{
    fm_kernels_active()->csr_bwd_f32(dw, db, dz, x, sel, lo, N, OUT, acc, n_threads);
}

void fm_csr_linear_backward_f64(double *dw, double *db, const double *dz, const fm_csr *x,
                                const int64_t *sel, ptrdiff_t lo, ptrdiff_t N, ptrdiff_t OUT,
                                int acc, int n_threads)
{
    fm_kernels_active()->csr_bwd_f64(dw, db, dz, x, sel, lo, N, OUT, acc, n_threads);
}

/* The stored values of each selected row, checked as one block (fm_all_finite). */
#define FM_CSR_ROWS_FINITE(T, all_finite)                                                     \
    ptrdiff_t i;                                                                              \
    for (i = 0; i < N; i++) {                                                                 \
        const ptrdiff_t r = fm_csr_row(sel, lo, i);                                           \
        const ptrdiff_t k0 = fm_csr_at(x->indptr, x->index64, r);                             \
        if (!all_finite((const T *)x->data + k0, fm_csr_at(x->indptr, x->index64, r + 1) - k0)) \
            return 0;                                                                         \
    }                                                                                         \
    return 1;

int fm_csr_rows_finite_f32(const fm_csr *x, const int64_t *sel, ptrdiff_t lo, ptrdiff_t N)
{
    FM_CSR_ROWS_FINITE(float, fm_all_finite_f32)
}

int fm_csr_rows_finite_f64(const fm_csr *x, const int64_t *sel, ptrdiff_t lo, ptrdiff_t N)
{
    FM_CSR_ROWS_FINITE(double, fm_all_finite_f64)
}
