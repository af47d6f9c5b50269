/*
 * qgemm_generic.c -- the int8 product in portable C: the "generic" path
 * (a 4 x 32 micro-kernel in the shared loop nest, qgemm_loop_impl.h) and
 * the "ref" path (the triple loop, the specification the others are tested
 * against), and the generic row quantiser.  Baseline flags, no intrinsics;
 * see qgemm_avx2.c and qgemm_avx512.c for the SIMD paths.
 *
 * Sums are uint32 (wrapping, as the SIMD lanes do; signed overflow would be
 * undefined in C), converted to int32 by the epilogue.
 */
#include "core/fm_internal.h"
#include "core/team.h"
#include "gemm/gemm_config.h"
#include "qgemm/qgemm.h"
#include "qgemm/qepi.h"

#include "core/fm_dtype_f32.h"
#include "layers/act_impl.h"
#include "core/fm_dtype_end.h"

/* m <= 4 rows of q times one weight panel (kq groups of 4 inputs x 32 columns). */
static void fm_qukr_generic(ptrdiff_t m, ptrdiff_t n, ptrdiff_t kq, const uint8_t *a,
                            ptrdiff_t lda, const int8_t *b, float *c, ptrdiff_t rsc,
                            ptrdiff_t i0, ptrdiff_t j0, const fm_qepilogue *e)
{
    uint32_t acc[4][FM_Q_NR];
    ptrdiff_t i, p, jj, t;
    memset(acc, 0, sizeof acc);
    for (p = 0; p < kq; p++, b += FM_Q_GROUP)
        for (i = 0; i < m; i++) {
            const uint8_t *ai = a + i * lda + 4 * p;
            for (jj = 0; jj < FM_Q_NR; jj++) {
                int32_t s = 0;
                for (t = 0; t < 4; t++) s += (int32_t)ai[t] * b[jj * 4 + t];
                acc[i][jj] += (uint32_t)s;
            }
        }
    for (i = 0; i < m; i++)
        fm_qepi_row(c + i * rsc, e->out_i32 ? e->out_i32 + (i0 + i) * rsc + j0 : NULL, acc[i], n,
                    i0 + i, j0, e);
}

#define FM_QP generic
#define FM_QMR 4
#define FM_QUKR fm_qukr_generic
#include "qgemm/qgemm_loop_impl.h"
#undef FM_QP
#undef FM_QMR
#undef FM_QUKR

/* The specification: C(i, j) from the packed weights' defining formula. */
void fm_qgemm_ref(float *c, ptrdiff_t rsc, const uint8_t *a, ptrdiff_t lda, const int8_t *wp,
                  ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const fm_qepilogue *e, int n_threads)
{
    const ptrdiff_t kq = (k + 3) / 4;
    ptrdiff_t i, j, p;
    (void)n_threads;
    for (i = 0; i < m; i++) {
        for (j = 0; j < n; j++) {
            uint32_t acc = 0;
            for (p = 0; p < k; p++)
                acc += (uint32_t)((int32_t)a[i * lda + p] *
                                  wp[(j / FM_Q_NR) * kq * FM_Q_GROUP + (p / 4) * FM_Q_GROUP +
                                     (j % FM_Q_NR) * 4 + p % 4]);
            fm_qepi_row(c + i * rsc + j, e->out_i32 ? e->out_i32 + i * rsc + j : NULL, &acc, 1,
                        i, j, e);
        }
        if (!e->out_i32)
            fm_act_span_f32(c + i * rsc, n, e->act == FM_ACT_RELU || e->act == FM_ACT_LEAKY_RELU
                                                ? FM_ACT_IDENTITY : e->act, (float)e->slope);
    }
}

#define FM_QT generic
#include "qgemm/qquant_impl.h"
#undef FM_QT
