/*
 * csr.c -- the first layer over CSR input rows (scipy.sparse's layout),
 * float and double (body in csr_impl.h): its forward X.W + b with the
 * activation, its weight gradient X^T.dz, and the finite check of the rows.
 * Portable C, no intrinsics: each stored value is one axpy over a row of W
 * (or of dW), which the compiler vectorises.  fm_train runs these for layer
 * 0 when its input is CSR (train/layers_impl.h); fastmlp.h states the contract.
 */
#include "core/fm_internal.h"
#include "core/team.h"

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
static ptrdiff_t fm_csr_rows_nnz(const fm_csr *x, const int64_t *sel, ptrdiff_t lo, ptrdiff_t N)
{
    ptrdiff_t i, nnz = 0;
    for (i = 0; i < N; i++) {
        const ptrdiff_t r = fm_csr_row(sel, lo, i);
        nnz += fm_csr_at(x->indptr, x->index64, r + 1) - fm_csr_at(x->indptr, x->index64, r);
    }
    return nnz;
}

#include "core/fm_dtype_f32.h"
#include "layers/act_impl.h"
#include "layers/csr_impl.h"
#include "core/fm_dtype_end.h"

#include "core/fm_dtype_f64.h"
#include "layers/act_impl.h"
#include "layers/csr_impl.h"
#include "core/fm_dtype_end.h"
