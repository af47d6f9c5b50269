/*
 * linear_impl.h -- the dense layer, forward and backward, as calls into the
 * dispatched GEMM with fused epilogues (included per dtype by linear.c).
 *
 * x (N,IN) row-major, w (IN,OUT) row-major, b (OUT), out (N,OUT).
 */

/* Forward: out = act(x . w + b).
 *   one GEMM, m=N n=OUT k=IN, A = x (rsa=IN, csa=1), B = w (rsb=OUT, csb=1),
 *   bias + elementwise activation fused in the write-back; softmax, being
 *   row-wise, runs as a second pass over each finished row. */
void FM_FN(fm_linear_forward)(FM_T *out, const FM_T *x, const FM_T *w, const FM_T *b,
                              int act, double slope, ptrdiff_t N, ptrdiff_t IN, ptrdiff_t OUT,
                              int n_threads)
{
    fm_epilogue epi = {FM_EPI_BIAS_ACT, act == FM_ACT_SOFTMAX ? FM_ACT_IDENTITY : act,
                       slope, b, NULL, 0};
    FM_FN(fm_gemm)(out, OUT, x, IN, 1, w, OUT, 1, N, OUT, IN, 1, 0, &epi, n_threads);
    if (act == FM_ACT_SOFTMAX) {
        ptrdiff_t i;
        for (i = 0; i < N; i++) FM_FN(fm_softmax_row)(out + i * OUT, OUT);
    }
}

/* db[j] (= or += with acc) sum_i dz[i, j], summed in row order i = 0..N-1. */
static void FM_FN(fm_colsum)(FM_T *FM_RESTRICT db, const FM_T *FM_RESTRICT dz,
                             ptrdiff_t N, ptrdiff_t OUT, int acc)
{
    ptrdiff_t i, j;
    if (!acc)
        for (j = 0; j < OUT; j++) db[j] = 0;
    for (i = 0; i < N; i++)
        for (j = 0; j < OUT; j++) db[j] += dz[i * OUT + j];
}

/* Backward of z = x.w + b, given dz = dL/dz (N,OUT):
 *   1. dw = x^T . dz      GEMM m=IN n=OUT k=N, A = x^T (rsa=1, csa=IN)   (= or += acc)
 *   2. db = sum_rows(dz)                                                  (= or += acc)
 *   3. dx = (dz . w^T) * act_in'(x)   GEMM m=N n=IN k=OUT,
 *      B = w^T (rsb=1, csb=OUT), derivative fused in the write-back      (=)
 * dx may be NULL (first layer: nobody needs dL/dinput). */
void FM_FN(fm_linear_backward_acc)(FM_T *dx, FM_T *dw, FM_T *db, const FM_T *dz,
                                   const FM_T *x, const FM_T *w, int act_in, double slope_in,
                                   ptrdiff_t N, ptrdiff_t IN, ptrdiff_t OUT, int acc,
                                   int n_threads)
{
    FM_FN(fm_gemm)(dw, OUT, x, 1, IN, dz, OUT, 1, IN, OUT, N, 1, acc ? 1 : 0, NULL, n_threads);
    FM_FN(fm_colsum)(db, dz, N, OUT, acc);
    if (dx) {
        fm_epilogue epi = {act_in == FM_ACT_IDENTITY ? FM_EPI_NONE : FM_EPI_DACT, act_in,
                           slope_in, NULL, x, IN};
        FM_FN(fm_gemm)(dx, IN, dz, OUT, 1, w, 1, OUT, N, IN, OUT, 1, 0, &epi, n_threads);
    }
}

void FM_FN(fm_linear_backward)(FM_T *dx, FM_T *dw, FM_T *db, const FM_T *dz,
                               const FM_T *x, const FM_T *w, int act_in, double slope_in,
                               ptrdiff_t N, ptrdiff_t IN, ptrdiff_t OUT, int n_threads)
{
    FM_FN(fm_linear_backward_acc)(dx, dw, db, dz, x, w, act_in, slope_in, N, IN, OUT, 0,
                                  n_threads);
}

void FM_FN(fm_act_forward)(FM_T *a, ptrdiff_t n, ptrdiff_t k, int act, double slope)
{
    if (act == FM_ACT_SOFTMAX) {
        ptrdiff_t i;
        for (i = 0; i < n; i++) FM_FN(fm_softmax_row)(a + i * k, k);
    } else {
        FM_FN(fm_act_span)(a, n * k, act, (FM_T)slope);
    }
}

void FM_FN(fm_act_backward)(FM_T *dz, const FM_T *da, const FM_T *a, ptrdiff_t n, int act,
                            double slope)
{
    ptrdiff_t i;
    if (dz != da)
        for (i = 0; i < n; i++) dz[i] = da[i];
    FM_FN(fm_dact_span)(dz, a, n, act, (FM_T)slope);
}
