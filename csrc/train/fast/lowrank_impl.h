/*
 * lowrank_impl.h -- DEFER: plain-SGD updates of a layer held as low-rank
 * terms (contract and thresholds in train/fast/lowrank.h).  Included per
 * dtype by train/train.c.
 *
 * A deferred step appends u = -lr * x (the layer's input rows) to U and
 * g = its delta rows to G; the weights in force are W_eff = W + U^T G, so
 *   forward   x . W_eff   = x . W   + (x . U^T) . G     (fm_lowrank_part)
 *   backward  d . W_eff^T = d . W^T + (d . G^T) . U
 * and fm_lowrank_flush writes W += U^T G.  fm_train flushes after every
 * step whose number is a multiple of FM_TRAIN_ALIGN, before a step that
 * does not defer the layer, and at the end of the call.
 */

/* Write layer l's pending terms into W_l (W += U^T . G).  Every write of
 * W_0 goes through here or follows it (fm_fast_begin_step), so this is
 * also where layer 0's products made ahead go stale. */
static void FM_FN(fm_lowrank_flush)(FM_FN(fm_ws) *ws, FM_T *w, ptrdiff_t IN, ptrdiff_t OUT,
                                    int l, int n_threads)
{
    const ptrdiff_t k = ws->lk[l];
    if (l == 0) ws->pz_hi = 0;
    if (k == 0) return;
    FM_FN(fm_gemm)(w, OUT, ws->lu[l], 1, IN, ws->lg[l], OUT, 1, IN, OUT, k, 1, 1, NULL,
                   n_threads);
    ws->lk[l] = 0;
}

/* out (rows, n) = in (rows, m) . V^T . Z: what layer l's pending terms add
 * to a product, V (k, m) and Z (k, n) being U and G (forward, m = IN) or
 * G and U (backward, m = OUT).  Small: one thread. */
static void FM_FN(fm_lowrank_part)(FM_T *out, const FM_T *in, const FM_T *V, const FM_T *Z,
                                   ptrdiff_t rows, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k)
{
    FM_T coef[FM_RANK1_MAX_ROWS * FM_LOWRANK_MAX];
    FM_FN(fm_gemm)(coef, k, in, m, 1, V, 1, m, rows, k, m, 1, 0, NULL, 1);
    FM_FN(fm_gemm)(out, n, coef, k, 1, Z, n, 1, rows, n, k, 1, 0, NULL, 1);
}

/* Defer this step's update of layer l: U gets -lr * x, G the delta dl;
 * flush on a step that ends a block of FM_TRAIN_ALIGN (or a full buffer). */
static void FM_FN(fm_lowrank_push)(FM_FN(fm_ws) *ws, FM_T *w, const FM_T *x, const FM_T *dl,
                                   FM_T lr, ptrdiff_t rows, ptrdiff_t IN, ptrdiff_t OUT, int l,
                                   int64_t step, int n_threads)
{
    FM_T *U = ws->lu[l] + ws->lk[l] * IN, *G = ws->lg[l] + ws->lk[l] * OUT;
    ptrdiff_t i;
    for (i = 0; i < rows * IN; i++) U[i] = -lr * x[i];
    for (i = 0; i < rows * OUT; i++) G[i] = dl[i];
    ws->lk[l] += (int)rows;
    if (step % FM_TRAIN_ALIGN == 0 || ws->lk[l] + FM_RANK1_MAX_ROWS > FM_LOWRANK_MAX)
        FM_FN(fm_lowrank_flush)(ws, w, IN, OUT, l, n_threads);
}

/* The delta for the layer below through W_eff: the terms' part first, then
 * the rank-1 pass reads W (read-only: lr = 0, s = 1), adds W's products and
 * applies act' (rank1.h). */
static void FM_FN(fm_lowrank_delta)(FM_FN(fm_ws) *ws, FM_T *dn, FM_T *w, const FM_T *d,
                                    const FM_T *x, const fm_layer *ly, ptrdiff_t rows,
                                    int n_threads)
{
    const int l = ly->l;
    const ptrdiff_t k = ws->lk[l];
    if (k > 0) FM_FN(fm_lowrank_part)(dn, d, ws->lg[l], ws->lu[l], rows, ly->out, ly->in, k);
    FM_FN(fm_rank1_sgd)(dn, w, d, x, ws->a[l], ly->act_in, ly->slope_in, 0, 1, k > 0,
                        rows, ly->in, ly->out, n_threads);
}
