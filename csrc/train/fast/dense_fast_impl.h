/*
 * dense_fast_impl.h -- a dense layer's forward and backward in the fast
 * step: each reads the plan (train/plan.h) and runs the speed path it names
 * for this layer and step, else the plain pieces.  Included per dtype.
 *
 * Convention of the fast backward: ws->d holds dL/dz of the layer on entry
 * (the loss gives it for the output layer) and dL/dz of the dense layer
 * below on exit: act' of the layer below is applied in the write-back of
 * the delta product (or by the rank-1 pass).  Between two dense layers only
 * DROPOUT may sit (elementwise: it commutes with act'); fm_plan_call keeps
 * other kinds on the plain step.
 */

/* The forward's product x.W_eff (+ b, act): made ahead (AHEAD), skipping
 * rows of W under zero inputs (SPARSE, when the inputs are sparse enough),
 * or the GEMM, each plus the part of the deferred terms (DEFER). */
static void FM_FN(fm_fast_dense_forward)(FM_FN(fm_ws) *ws, fm_plan *plan, const fm_layer *ly,
                                         const FM_T *params, const fm_pass *ps)
{
    const int l = ly->l, lk = ws->lk[l] > 0;
    const ptrdiff_t rows = ps->rows, IN = ly->in, OUT = ly->out;
    const FM_T *x = FM_FN(fm_buf_in)(ws, ly->x), *w = params + ly->w;
    FM_T *FM_RESTRICT y = FM_FN(fm_buf_out)(ws, ly->y);
    const FM_T *ahead =
        fm_plan_has(plan, l, FM_PATH_AHEAD) ? FM_FN(fm_ahead0_rows)(ws, rows, OUT) : NULL;
    const int sparse = !ahead && fm_plan_has(plan, l, FM_PATH_SPARSE) &&
                       fm_sparse_fwd_sparse_enough(FM_FN(fm_nz_cols)(x, rows, IN), IN);
    fm_epilogue epi = {FM_EPI_BIAS_ACT, ly->act == FM_ACT_SOFTMAX ? FM_ACT_IDENTITY : ly->act,
                       ly->slope, params + ly->b, NULL, 0};
    ptrdiff_t i;
    if (!lk && !sparse && !ahead) {
        FM_FN(fm_dense_forward)(y, x, params, ly, ps);
        return;
    }
    if (lk) FM_FN(fm_lowrank_part)(y, x, ws->lu[l], ws->lg[l], rows, IN, OUT, ws->lk[l]);
    if (ahead) {
        if (lk)
            for (i = 0; i < rows * OUT; i++) y[i] += ahead[i];
        else
            for (i = 0; i < rows * OUT; i++) y[i] = ahead[i];
        fm_plan_ran(plan, l, FM_PATH_AHEAD);
    } else if (sparse) {
        FM_FN(fm_sparse_fwd)(y, x, w, (FM_T)lk, rows, IN, OUT, ps->n_threads);
        fm_plan_ran(plan, l, FM_PATH_SPARSE);
    } else {
        FM_FN(fm_gemm)(y, OUT, x, IN, 1, w, OUT, 1, rows, OUT, IN, 1, (FM_T)lk, &epi,
                       ps->n_threads);
    }
    if (ahead || sparse)
        for (i = 0; i < rows; i++) FM_FN(fm_epi_row)(y + i * OUT, i, 0, OUT, &epi);
    if (ly->act == FM_ACT_SOFTMAX)
        for (i = 0; i < rows; i++) FM_FN(fm_softmax_row)(y + i * OUT, OUT);
}

/* ws->dn = dL/dz of the dense layer below, through W_l as it stands before
 * this step's update: deferred terms + read-only rank-1 pass (DEFER), the
 * rank-1 pass that also updates W (RANK1), or the GEMM with act' fused. */
static void FM_FN(fm_fast_delta)(FM_FN(fm_ws) *ws, const fm_plan *plan, const fm_layer *ly,
                                 FM_FN(fm_upd) *u, const FM_T *x, const FM_T *d,
                                 const fm_pass *ps)
{
    const int l = ly->l;
    FM_T *w = u->params + ly->w;
    if (fm_plan_has(plan, l, FM_PATH_DEFER)) {
        FM_FN(fm_lowrank_delta)(ws, ws->dn, w, d, x, ly, ps->rows, ps->n_threads);
    } else if (fm_plan_has(plan, l, FM_PATH_RANK1)) {
        FM_FN(fm_rank1_sgd)(ws->dn, w, d, x, ws->a[l], ly->act_in, ly->slope_in,
                            (FM_T)u->opt->lr,
                            1 - (FM_T)u->opt->lr * (FM_T)u->opt->weight_decay, 0, ps->rows,
                            ly->in, ly->out, ps->n_threads);
    } else {
        fm_epilogue epi = {FM_EPI_DACT, ly->act_in, ly->slope_in, NULL, ws->a[l], ly->in};
        FM_FN(fm_gemm)(ws->dn, ly->in, d, ly->out, 1, w, 1, ly->out, ps->rows, ly->in, ly->out,
                       1, 0, &epi, ps->n_threads);
    }
}

/* Backward of dense layer l fused with its update: the gradient (unless a
 * plain-SGD path needs none), the delta below with the old W_l, then W_l
 * and b_l updated while they are in cache (the optimizer's update is
 * elementwise: the same as updating the whole buffer at the end). */
static void FM_FN(fm_fast_dense_backward)(FM_FN(fm_ws) *ws, fm_plan *plan, const fm_layer *ly,
                                          FM_FN(fm_upd) *u, FM_T *grad, const fm_pass *ps)
{
    const int l = ly->l;
    const ptrdiff_t rows = ps->rows, IN = ly->in, OUT = ly->out, nw = IN * OUT;
    const int defer = fm_plan_has(plan, l, FM_PATH_DEFER);
    const int rank1 = fm_plan_has(plan, l, FM_PATH_RANK1);
    const int fused = fm_plan_has(plan, l, FM_PATH_FUSED);
    const FM_T *x = FM_FN(fm_buf_in)(ws, ly->x), *d = ws->d;
    FM_T *w = u->params + ly->w;
    if (!defer && !rank1 && !fused) /* 1-2. dW = x^T . d, db = column sums of d (=) */
        FM_FN(fm_linear_backward_acc)(NULL, grad + ly->w, grad + ly->b, d, x, w,
                                      FM_ACT_IDENTITY, 0.0, rows, IN, OUT, 0, ps->n_threads);
    if (l > 0) { /* 3. the delta below, with the old W_l */
        FM_FN(fm_fast_delta)(ws, plan, ly, u, x, d, ps);
        FM_FN(fm_ws_swap)(ws);
    }
    /* 4. the update */
    if (defer) {
        FM_FN(fm_lowrank_push)(ws, w, x, d, (FM_T)u->opt->lr, rows, IN, OUT, l, ps->step,
                               ps->n_threads);
        fm_plan_ran(plan, l, FM_PATH_DEFER);
    } else if (fused) {
        FM_FN(fm_fused_sgd_w)(w, x, d, u->opt, rows, IN, OUT, ps->n_threads);
        fm_plan_ran(plan, l, FM_PATH_FUSED);
    } else if (rank1) {
        fm_plan_ran(plan, l, FM_PATH_RANK1); /* W_l written by the pass in 3 */
    }
    if (defer || rank1 || fused) {
        FM_FN(fm_sgd_bias)(u->params + ly->b, grad + ly->b, d, u->opt, rows, OUT);
        return;
    }
    if (plan->update_last) return; /* fm_step_fast updates every layer at its end */
    if (u->clip_value > 0) { /* elementwise: per layer as over the whole buffer (plain) */
        FM_FN(fm_clip_grad_value)(grad + ly->w, nw, u->clip_value);
        FM_FN(fm_clip_grad_value)(grad + ly->b, OUT, u->clip_value);
    }
    FM_FN(fm_penalise)(u, grad, ly->w, nw);
    FM_FN(fm_update_span)(u, grad, ly->w, nw, nw, ps->n_threads);
    FM_FN(fm_update_span)(u, grad, ly->b, OUT, u->opt->decay_bias ? OUT : 0, ps->n_threads);
}

/* Before a fast step: every layer that does not defer at this step gets
 * its pending terms written (none in a run whose settings stay put). */
static void FM_FN(fm_fast_begin_step)(FM_FN(fm_ws) *ws, const fm_plan *plan, const fm_layers *ls,
                                      FM_T *params, int n_threads)
{
    int i;
    for (i = 0; i < ls->n; i++) {
        const fm_layer *ly = &ls->layer[i];
        if (ly->kind == FM_LAYER_DENSE && !fm_plan_has(plan, ly->l, FM_PATH_DEFER))
            FM_FN(fm_lowrank_flush)(ws, params + ly->w, ly->in, ly->out, ly->l, n_threads);
    }
}
