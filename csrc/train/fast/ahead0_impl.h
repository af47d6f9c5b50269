/*
 * ahead0_impl.h -- AHEAD: layer 0's products x.W_0 made for a block of
 * steps in one GEMM, while its updates are deferred (DEFER, lowrank.h).
 * Included per dtype by train/train.c.
 *
 * Layer 0 reads the data itself, so the rows of the steps up to the next
 * flush (the next step whose number is a multiple of FM_TRAIN_ALIGN) are
 * known before they run, and W_0 keeps its stored values until that flush:
 * each step's x.W_eff is the product made ahead plus the pending terms'
 * part.  W_0 is then read once per block instead of once per step.  The
 * products are valid while W_0 is unchanged: fm_lowrank_flush of layer 0
 * drops them, and every other write of W_0 comes after such a flush.
 */

/* At a step starting at row lo whose plan holds AHEAD for layer 0, and no
 * block covering it: make x.W_0 for the rows of up to `left` steps ending
 * at the next flush, within the data.  A block whose inputs the
 * zero-skipping forward would take (the plan's SPARSE, the fill test of
 * sparse_fwd.h) is declined: those steps read fewer of W_0's rows. */
static void FM_FN(fm_ahead0_make)(FM_FN(fm_ws) *ws, const fm_plan *plan, const FM_T *w0,
                                  const FM_T *x, const int64_t *order, ptrdiff_t lo,
                                  ptrdiff_t n_total, ptrdiff_t batch, ptrdiff_t left,
                                  int64_t step, ptrdiff_t s0, ptrdiff_t s1, int n_threads)
{
    const ptrdiff_t steps = FM_MIN((ptrdiff_t)((FM_TRAIN_ALIGN - step % FM_TRAIN_ALIGN) %
                                               FM_TRAIN_ALIGN) + 1, left);
    const ptrdiff_t hi = FM_MIN(lo + steps * batch, n_total);
    const FM_T *xb = x + lo * s0;
    ptrdiff_t r, j;
    if (order) {
        FM_T *FM_RESTRICT dst = ws->pxb;
        for (r = 0; r < hi - lo; r++) {
            const FM_T *FM_RESTRICT src = x + (ptrdiff_t)order[lo + r] * s0;
            for (j = 0; j < s0; j++) dst[r * s0 + j] = src[j];
        }
        xb = ws->pxb;
    }
    ws->pz_next = hi;
    ws->pz_hi = 0;
    if (fm_plan_has(plan, 0, FM_PATH_SPARSE) &&
        fm_sparse_fwd_sparse_enough(FM_FN(fm_count_nz)(xb, (hi - lo) * s0), (hi - lo) * s0))
        return;
    FM_FN(fm_gemm)(ws->pz, s1, xb, s0, 1, w0, s1, 1, hi - lo, s1, s0, 1, 0, NULL, n_threads);
    ws->pz_lo = lo;
    ws->pz_hi = hi;
}

/* This step's x.W_0 (rows, OUT) made ahead, or NULL when no block holds it. */
static const FM_T *FM_FN(fm_ahead0_rows)(const FM_FN(fm_ws) *ws, ptrdiff_t rows, ptrdiff_t OUT)
{
    if (ws->cur_lo >= ws->pz_lo && ws->cur_lo + rows <= ws->pz_hi)
        return ws->pz + (ws->cur_lo - ws->pz_lo) * OUT;
    return NULL;
}
