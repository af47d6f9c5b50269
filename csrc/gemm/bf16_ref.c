/*
 * bf16_ref.c -- the bf16 GEMM's specification (gemm/bf16.h) as a scalar
 * loop: each element of C is one chain of pair steps in order.  The "ref"
 * target's bf16 product, and the fallback of the packed paths when their
 * pack buffers cannot be allocated.  Threads over rows of C.
 */
#include "core/fm_internal.h"
#include "gemm/bf16.h"

#include "core/fm_dtype_f32.h"
#include "layers/act_impl.h"

/* Rows [i0, i1) of C. */
static void fm_bf16_ref_rows(float *c, ptrdiff_t rsc, const float *a, ptrdiff_t rsa,
                             ptrdiff_t csa, const float *b, ptrdiff_t rsb, ptrdiff_t csb,
                             ptrdiff_t i0, ptrdiff_t i1, ptrdiff_t n, ptrdiff_t k, float beta,
                             const fm_epilogue *epi)
{
    ptrdiff_t i, j, p;
    for (i = i0; i < i1; i++) {
        float *ci = c + i * rsc;
        for (j = 0; j < n; j++) {
            float acc = beta != 0 ? fm_bf16_ftz(ci[j]) : 0.0f;
            for (p = 0; p < k; p += 2) {
                const float a0 = a[i * rsa + p * csa], b0 = b[p * rsb + j * csb];
                const float a1 = p + 1 < k ? a[i * rsa + (p + 1) * csa] : 0.0f;
                const float b1 = p + 1 < k ? b[(p + 1) * rsb + j * csb] : 0.0f;
                acc = fm_bf16_step(acc, fm_bf16_pair(a0, a1), fm_bf16_pair(b0, b1));
            }
            ci[j] = acc;
        }
        fm_epi_row_f32(ci, i, 0, n, epi);
    }
}

void fm_gemm_bf16_ref(float *c, ptrdiff_t rsc, const float *a, ptrdiff_t rsa, ptrdiff_t csa,
                      const float *b, ptrdiff_t rsb, ptrdiff_t csb, ptrdiff_t m, ptrdiff_t n,
                      ptrdiff_t k, float beta, const fm_epilogue *epi, int n_threads)
{
    int nt = fm_threads_for(m * n * k, n_threads);
    ptrdiff_t t;
    if (m <= 0 || n <= 0) return;
    if (epi && epi->kind == FM_EPI_NONE) epi = NULL;
    (void)nt;
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
#endif
    for (t = 0; t < m; t++)
        fm_bf16_ref_rows(c, rsc, a, rsa, csa, b, rsb, csb, t, t + 1, n, k, beta, epi);
}

#include "core/fm_dtype_end.h"
