/*
 * linear_bf16.c -- the dense layer with bf16 products (fastmlp.h,
 * fm_linear_forward_bf16 / fm_linear_backward_bf16): the three products of
 * linear_impl.h through fm_gemm_bf16 instead of fm_gemm_f32, the same fused
 * epilogues; the bias gradient (column sums) and everything elementwise stay
 * float32.  float32 only: a float64 model has no bf16 compute (fastmlp's
 * Python layer refuses the combination).
 *
 * x (N,IN) row-major, w (IN,OUT) row-major, b (OUT), out (N,OUT).
 */
#include "core/fm_internal.h"

#include "core/fm_dtype_f32.h"
#include "layers/act_impl.h"

/* Forward: out = act(x . w + b); one bf16 GEMM, m=N n=OUT k=IN, bias and an
 * elementwise activation in its write-back, softmax as a pass over each row. */
void fm_linear_forward_bf16(float *out, const float *x, const float *w, const float *b,
                            int act, double slope, ptrdiff_t N, ptrdiff_t IN, ptrdiff_t OUT,
                            int n_threads)
{
    fm_epilogue epi = {FM_EPI_BIAS_ACT, act == FM_ACT_SOFTMAX ? FM_ACT_IDENTITY : act, slope, b,
                       NULL, 0};
    fm_gemm_bf16(out, OUT, x, IN, 1, w, OUT, 1, N, OUT, IN, 0.0f, &epi, n_threads);
    if (act == FM_ACT_SOFTMAX) {
        ptrdiff_t i;
        for (i = 0; i < N; i++) fm_softmax_row_f32(out + i * OUT, OUT);
    }
}

/* Backward of z = x.w + b given dz (N,OUT), as fm_linear_backward_acc_f32:
 *   1. dw = x^T . dz  bf16 GEMM m=IN n=OUT k=N, A = x^T (rsa=1, csa=IN)  (= or += acc:
 *                     with acc the chains continue from dw)
 *   2. db = sum_rows(dz) in float32, rows in order                        (= or += acc)
 *   3. dx = (dz . w^T) * act_in'(x)  bf16 GEMM m=N n=IN k=OUT, B = w^T    (=) */
void fm_linear_backward_bf16(float *dx, float *dw, float *db, const float *dz, const float *x,
                             const float *w, int act_in, double slope_in, ptrdiff_t N,
                             ptrdiff_t IN, ptrdiff_t OUT, int acc, int n_threads)
{
    ptrdiff_t i, j;
    fm_gemm_bf16(dw, OUT, x, 1, IN, dz, OUT, 1, IN, OUT, N, acc ? 1.0f : 0.0f, NULL, n_threads);
    if (!acc)
        for (j = 0; j < OUT; j++) db[j] = 0;
    for (i = 0; i < N; i++)
        for (j = 0; j < OUT; j++) db[j] += dz[i * OUT + j];
    if (dx) {
        fm_epilogue epi = {act_in == FM_ACT_IDENTITY ? FM_EPI_NONE : FM_EPI_DACT, act_in,
                           slope_in, NULL, x, IN};
        fm_gemm_bf16(dx, IN, dz, OUT, 1, w, 1, OUT, N, IN, OUT, 0.0f, &epi, n_threads);
    }
}

#include "core/fm_dtype_end.h"
