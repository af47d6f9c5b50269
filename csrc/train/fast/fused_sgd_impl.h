/*
 * fused_sgd_impl.h -- FUSED: a plain-SGD step of a layer written by the dW
 * GEMM itself, and the SGD step of the biases that DEFER, RANK1 and FUSED
 * share.  Included per dtype by train/train.c.
 *
 *   W = (1 - lr*wd) W - lr * x^T . d     one GEMM: alpha = -lr, beta = 1 - lr*wd
 *   b = b - lr * (sum_rows d + [wd * b with decay_bias])
 * No gradient buffer is written or read again.  The caller has already
 * used the old W for the delta of the layer below.
 */

static void FM_FN(fm_fused_sgd_w)(FM_T *w, const FM_T *x, const FM_T *d, const fm_optim *o,
                                  ptrdiff_t rows, ptrdiff_t IN, ptrdiff_t OUT, int n_threads)
{
    const FM_T lr = (FM_T)o->lr, wd = (FM_T)o->weight_decay;
    FM_FN(fm_gemm)(w, OUT, x, 1, IN, d, OUT, 1, IN, OUT, rows, -lr, 1 - lr * wd, NULL,
                   n_threads);
}

/* db (OUT, scratch: the gradient slot) = column sums of d, row by row
 * (contiguous, vectorised); then b's step. */
static void FM_FN(fm_sgd_bias)(FM_T *b, FM_T *db, const FM_T *d, const fm_optim *o,
                               ptrdiff_t rows, ptrdiff_t OUT)
{
    const FM_T lr = (FM_T)o->lr, wd = (FM_T)o->weight_decay;
    ptrdiff_t i, j;
    for (j = 0; j < OUT; j++) db[j] = 0;
    for (i = 0; i < rows; i++)
        for (j = 0; j < OUT; j++) db[j] += d[i * OUT + j];
    for (j = 0; j < OUT; j++) b[j] -= lr * (db[j] + (o->decay_bias ? wd * b[j] : 0));
}
