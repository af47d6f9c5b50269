/*
 * step_impl.h -- one training step on a gathered batch: the plain step,
 * the in-C oracle, and the fast step, which runs the speed paths the plan
 * names.  Included per dtype by train/train.c.
 *
 * On entry ws holds the batch: x0 (rows, s0) as buffer 0, yb (rows, K),
 * swb (rows) when sw; both steps return the batch's data loss and leave the
 * output probabilities in a[L] (for the metrics) and the updated
 * parameters in u->params.
 */

/* The plain step: forward through every layer, the loss, backward through
 * every layer into grad, then one optimizer update of the flat buffer. */
static double FM_FN(fm_step_plain)(FM_FN(fm_ws) *ws, const fm_layers *ls, FM_FN(fm_upd) *u,
                                   FM_T *grad, const fm_train_cfg *cfg, const FM_T *swb,
                                   double scale, const fm_pass *ps)
{
    const ptrdiff_t K = ls->layer[ls->n - 1].out;
    FM_T *p = ws->a[ls->n_dense];
    double loss;
    FM_FN(fm_layers_forward)(ws, ls, u->params, ps);      /* a_1 .. a_L (z_L for the loss) */
    loss = FM_FN(fm_loss_p)(ws->d, p, p, ws->yb, swb, cfg->loss, ls->out_act, ls->out_slope,
                            &cfg->lpar, ps->rows, K, scale);             /* p = act(z_L), d = dL/dz_L */
    FM_FN(fm_layers_backward)(ws, ls, grad, u->params, ps); /* grad = dL/dparams */
    FM_FN(fm_params_update)(u, grad, ls, ps->n_threads);  /* penalties, optimizer */
    return loss;
}

/* The fast step: the same list, each dense layer through the plan's paths
 * (fast/dense_fast_impl.h) and updated right after its backward (or all of
 * them at the end when the plan says update_last); `pf`
 * prefetches the next shuffled batch's second half while the step runs. */
static double FM_FN(fm_step_fast)(FM_FN(fm_ws) *ws, const fm_layers *ls, fm_plan *plan,
                                  FM_FN(fm_upd) *u, FM_T *grad, const fm_train_cfg *cfg,
                                  const FM_T *swb, double scale, const fm_pass *ps,
                                  const FM_FN(fm_data) *pf)
{
    const ptrdiff_t K = ls->layer[ls->n - 1].out;
    FM_T *p = ws->a[ls->n_dense];
    double loss;
    int i;
    for (i = 0; i < ls->n; i++) {
        const fm_layer *ly = &ls->layer[i];
        if (ly->kind == FM_LAYER_DENSE) FM_FN(fm_fast_dense_forward)(ws, plan, ly, u->params, ps);
        else FM_FN(fm_layer_forward)(ws, ly, u->params, ps);
    }
    loss = FM_FN(fm_loss_p)(ws->d, p, p, ws->yb, swb, cfg->loss, ls->out_act, ls->out_slope,
                            &cfg->lpar, ps->rows, K, scale);
    FM_FN(fm_data_prefetch)(pf, 1, 2);
    for (i = ls->n - 1; i >= 0; i--) {
        const fm_layer *ly = &ls->layer[i];
        if (ly->kind == FM_LAYER_DENSE) FM_FN(fm_fast_dense_backward)(ws, plan, ly, u, grad, ps);
        else FM_FN(fm_layer_backward)(ws, ly, grad, u->params, ps);
    }
    if (plan->update_last) /* the layers left their updates to here (train/plan.h) */
        FM_FN(fm_params_update)(u, grad, ls, ps->n_threads);
    return loss;
}
