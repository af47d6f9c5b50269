/*
 * layers_impl.h -- each layer kind's forward and backward, the walks over a
 * network's descriptors (train/net.h), and the optimizer update: the pieces
 * the plain step (train/step_impl.h) is made of.  Included per dtype.
 *
 * Every function here is the plain form: no speed path, no plan.
 */

/* DENSE: y = act(x . W + b); x (rows, in), W (in, out), b (out), y (rows, out) */
static void FM_FN(fm_dense_forward)(FM_T *y, const FM_T *x, const FM_T *params,
                                    const fm_layer *ly, const fm_pass *ps)
{
#ifdef FM_DTYPE_F32
    if (ly->bf16) { /* bf16 products, float32 everything else */
        fm_linear_forward_bf16(y, x, params + ly->w, params + ly->b, ly->act, ly->slope,
                               ps->rows, ly->in, ly->out, ps->n_threads);
        return;
    }
#endif
    FM_FN(fm_linear_forward)(y, x, params + ly->w, params + ly->b, ly->act, ly->slope, ps->rows,
                             ly->in, ly->out, ps->n_threads);
}

/* DENSE over CSR input rows (buffer 0 when ws->xs): y = act(x . W + b),
 * its backward dW, db (= or += by ps->beta); no dx (the input layer). */
static void FM_FN(fm_dense_csr_forward)(FM_T *y, const FM_FN(fm_ws) *ws, const FM_T *params,
                                        const fm_layer *ly, const fm_pass *ps)
{
    FM_FN(fm_csr_linear_forward)(y, ws->xs, ws->xs_sel, ws->xs_lo, params + ly->w,
                                 params + ly->b, ly->act, ly->slope, ps->rows, ly->out,
                                 ps->n_threads);
}

static void FM_FN(fm_dense_csr_backward)(FM_T *grad, FM_T *d, const FM_FN(fm_ws) *ws,
                                         const FM_T *y, const fm_layer *ly, const fm_pass *ps)
{
    if (ly->act != FM_ACT_IDENTITY)
        FM_FN(fm_act_backward)(d, d, y, ps->rows * ly->out, ly->act, ly->slope);
    FM_FN(fm_csr_linear_backward)(grad + ly->w, grad + ly->b, d, ws->xs, ws->xs_sel, ws->xs_lo,
                                  ps->rows, ly->out, ps->beta, ps->n_threads);
}

/* DENSE backward: d (rows, out) = dL/dy, overwritten with dL/dz (z = x.W + b);
 * dW (in, out) and db (out) in grad (= or += by ps->beta); dx (rows, in) =
 * dL/dx unless NULL (the input layer).  y is the forward's output (act' reads it). */
static void FM_FN(fm_dense_backward)(FM_T *dx, FM_T *grad, FM_T *d, const FM_T *x, const FM_T *y,
                                     const FM_T *params, const fm_layer *ly, const fm_pass *ps)
{
    if (ly->act != FM_ACT_IDENTITY)
        FM_FN(fm_act_backward)(d, d, y, ps->rows * ly->out, ly->act, ly->slope);
#ifdef FM_DTYPE_F32
    if (ly->bf16) {
        fm_linear_backward_bf16(dx, grad + ly->w, grad + ly->b, d, x, params + ly->w,
                                FM_ACT_IDENTITY, 0.0, ps->rows, ly->in, ly->out, ps->beta,
                                ps->n_threads);
        return;
    }
#endif
    FM_FN(fm_linear_backward_acc)(dx, grad + ly->w, grad + ly->b, d, x, params + ly->w,
                                  FM_ACT_IDENTITY, 0.0, ps->rows, ly->in, ly->out, ps->beta,
                                  ps->n_threads);
}

/* DROPOUT: y = x * mask / (1 - p); backward d = d * mask / (1 - p) in place
 * (rows, in); the mask is keyed by (seed, step, stream = l) (rng/rng.h). */
static void FM_FN(fm_dropout_layer_forward)(FM_T *y, const FM_T *x, const fm_layer *ly,
                                            const fm_pass *ps)
{
    FM_FN(fm_dropout_forward)(y, x, ly->rate, ps->seed, (uint64_t)ps->step, (uint64_t)ly->l,
                              ps->rows * ly->in, ps->n_threads);
}

static void FM_FN(fm_dropout_layer_backward)(FM_T *d, const fm_layer *ly, const fm_pass *ps)
{
    FM_FN(fm_dropout_backward)(d, ly->rate, ps->seed, (uint64_t)ps->step, (uint64_t)ly->l,
                               ps->rows * ly->in, ps->n_threads);
}

/* NORM: y = act(gamma * xhat + beta), the activation fused into the norm's
 * last pass; x (rows, in) is the dense layer's z, xhat over the batch
 * (NORM_BATCH; the running statistics when !ly->train) or over each row
 * (NORM_LAYER); ns (2 max(rows, in)) receives the mean and rstd the backward
 * reads.  Training batch norm also updates the running statistics here (the
 * caller guarantees rows >= 2). */
static void FM_FN(fm_norm_layer_forward)(FM_T *y, FM_T *ns, const FM_T *x, const FM_T *params,
                                         const fm_layer *ly, const fm_pass *ps)
{
    const FM_T *gamma = params + ly->w, *beta = params + ly->b;
    FM_T *run = ly->run ? (FM_T *)ly->run + ly->st : NULL;
    const ptrdiff_t C = ly->in, S = FM_MAX(ps->rows, C);
    if (ly->kind == FM_LAYER_NORM_LAYER)
        FM_FN(fm_layernorm_forward)(y, ns, ns + S, x, gamma, beta, ly->eps, ly->act, ly->slope,
                                    ps->rows, C, ps->n_threads);
    else if (ly->train)
        FM_FN(fm_batchnorm_forward)(y, ns, ns + S, run, run ? run + C : NULL, x, gamma, beta,
                                    ly->eps, ly->momentum, ly->act, ly->slope, ps->rows, C,
                                    ps->n_threads);
    else
        FM_FN(fm_batchnorm_infer)(y, x, gamma, beta, run, run + C, ly->eps, ly->act, ly->slope,
                                  ps->rows, C, ps->n_threads);
}

/* NORM backward: d (rows, in) = dL/dy, overwritten with dL/dx (act' folded
 * in, read from y, the forward's output); x its input z; dgamma, dbeta in
 * grad (= or += by ps->beta). */
static void FM_FN(fm_norm_layer_backward)(FM_T *grad, FM_T *d, const FM_T *ns, const FM_T *x,
                                          const FM_T *y, const FM_T *params, const fm_layer *ly,
                                          const fm_pass *ps)
{
    const ptrdiff_t C = ly->in, S = FM_MAX(ps->rows, C);
    if (ly->kind == FM_LAYER_NORM_LAYER)
        FM_FN(fm_layernorm_backward)(d, grad + ly->w, grad + ly->b, d, y, x, ns, ns + S,
                                     params + ly->w, ly->act, ly->slope, ps->rows, C, ps->beta,
                                     ps->n_threads);
    else
        FM_FN(fm_batchnorm_backward)(d, grad + ly->w, grad + ly->b, d, y, x, ns, ns + S,
                                     params + ly->w, ly->act, ly->slope, ps->rows, C, ps->beta,
                                     ps->n_threads);
}

/* ACT: y = act(x) elementwise (rows, in); backward d = d * act'(x) in place,
 * reading its input x (z) and its output y (fastmlp.h's fm_act_layer_*). */
static void FM_FN(fm_act_layer_fwd)(FM_T *y, const FM_T *x, const fm_layer *ly, const fm_pass *ps)
{
    FM_FN(fm_act_layer_forward)(y, x, ps->rows * ly->in, ly->act, ly->slope, ps->n_threads);
}

static void FM_FN(fm_act_layer_bwd)(FM_T *d, const FM_T *x, const FM_T *y, const fm_layer *ly,
                                    const fm_pass *ps)
{
    FM_FN(fm_act_layer_backward)(d, d, x, y, ps->rows * ly->in, ly->act, ly->slope,
                                 ps->n_threads);
}

/* One layer forward: its output buffer from its input buffer. */
static void FM_FN(fm_layer_forward)(FM_FN(fm_ws) *ws, const fm_layer *ly, const FM_T *params,
                                    const fm_pass *ps)
{
    const FM_T *x = FM_FN(fm_buf_in)(ws, ly->x);
    FM_T *y = FM_FN(fm_buf_out)(ws, ly->y);
    switch (ly->kind) {
    case FM_LAYER_DENSE:
        if (ly->x == 0 && ws->xs) FM_FN(fm_dense_csr_forward)(y, ws, params, ly, ps);
        else FM_FN(fm_dense_forward)(y, x, params, ly, ps);
        break;
    case FM_LAYER_DROPOUT: FM_FN(fm_dropout_layer_forward)(y, x, ly, ps); break;
    case FM_LAYER_NORM_BATCH:
    case FM_LAYER_NORM_LAYER:
        FM_FN(fm_norm_layer_forward)(y, ws->ns[ly->l], x, params, ly, ps);
        break;
    case FM_LAYER_ACT: FM_FN(fm_act_layer_fwd)(y, x, ly, ps); break;
    }
}

/* One layer backward: ws->d holds dL/d(its output) and then dL/d(its input). */
static void FM_FN(fm_layer_backward)(FM_FN(fm_ws) *ws, const fm_layer *ly, FM_T *grad,
                                     const FM_T *params, const fm_pass *ps)
{
    switch (ly->kind) {
    case FM_LAYER_DENSE:
        if (ly->x == 0 && ws->xs) {
            FM_FN(fm_dense_csr_backward)(grad, ws->d, ws, FM_FN(fm_buf_in)(ws, ly->y), ly, ps);
            break;
        }
        FM_FN(fm_dense_backward)(ly->x ? ws->dn : NULL, grad, ws->d, FM_FN(fm_buf_in)(ws, ly->x),
                                 FM_FN(fm_buf_in)(ws, ly->y), params, ly, ps);
        if (ly->x) FM_FN(fm_ws_swap)(ws);
        break;
    case FM_LAYER_DROPOUT: FM_FN(fm_dropout_layer_backward)(ws->d, ly, ps); break;
    case FM_LAYER_NORM_BATCH:
    case FM_LAYER_NORM_LAYER:
        FM_FN(fm_norm_layer_backward)(grad, ws->d, ws->ns[ly->l], FM_FN(fm_buf_in)(ws, ly->x),
                                      FM_FN(fm_buf_in)(ws, ly->y), params, ly, ps);
        break;
    case FM_LAYER_ACT:
        FM_FN(fm_act_layer_bwd)(ws->d, FM_FN(fm_buf_in)(ws, ly->x), FM_FN(fm_buf_in)(ws, ly->y),
                                ly, ps);
        break;
    }
}

static void FM_FN(fm_layers_forward)(FM_FN(fm_ws) *ws, const fm_layers *ls, const FM_T *params,
                                     const fm_pass *ps)
{
    int i;
    for (i = 0; i < ls->n; i++) FM_FN(fm_layer_forward)(ws, &ls->layer[i], params, ps);
}

static void FM_FN(fm_layers_backward)(FM_FN(fm_ws) *ws, const fm_layers *ls, FM_T *grad,
                                      const FM_T *params, const fm_pass *ps)
{
    int i;
    for (i = ls->n - 1; i >= 0; i--) FM_FN(fm_layer_backward)(ws, &ls->layer[i], grad, params, ps);
}

/* The update of a training step: the flat parameters, their optimizer
 * state, the penalties on the weights (and, out, the penalty term). */
typedef struct {
    FM_T *params;
    FM_T *s1, *s2;              /* optimizer state (flat layout) or NULL */
    fm_optim *opt;
    double l2, l1;              /* effective penalties on the weights */
    double penalty;             /* out: 0.5*l2*||W||^2 + l1*||W||_1 before the update */
    double clip_norm, clip_value; /* > 0: clip the data gradient (fm_clip_grad_*) */
} FM_FN(fm_upd);

/* grad[off, off+n) += the penalties' gradient at the weights there; the
 * penalty term is added to u->penalty. */
static void FM_FN(fm_penalise)(FM_FN(fm_upd) *u, FM_T *grad, ptrdiff_t off, ptrdiff_t n)
{
    const FM_T *FM_RESTRICT w = u->params + off;
    FM_T *FM_RESTRICT gr = grad + off;
    double sq = 0, ab = 0;
    ptrdiff_t r;
    if (u->l2 != 0 && u->l1 == 0) { /* L2 alone (scikit-learn's alpha): vectorised */
        const FM_T l2 = (FM_T)u->l2;
        FM_SIMD_SUM(sq)
        for (r = 0; r < n; r++) {
            sq += (double)w[r] * (double)w[r];
            gr[r] += l2 * w[r];
        }
        u->penalty += 0.5 * u->l2 * sq;
    } else if (u->l2 != 0 || u->l1 != 0) {
        for (r = 0; r < n; r++) {
            double v = (double)w[r];
            sq += v * v;
            ab += fabs(v);
            gr[r] = (FM_T)((double)gr[r] + u->l2 * v + u->l1 * (double)((v > 0) - (v < 0)));
        }
        u->penalty += 0.5 * u->l2 * sq + u->l1 * ab;
    }
}

/* The optimizer's update of [off, off+n) of the flat buffers, the first
 * n_decay of them under weight decay / L1 (fm_optim_update). */
static void FM_FN(fm_update_span)(FM_FN(fm_upd) *u, const FM_T *grad, ptrdiff_t off, ptrdiff_t n,
                                  ptrdiff_t n_decay, int n_threads)
{
    fm_optim o = *u->opt;
    if (o.s3) o.s3 = (FM_T *)o.s3 + off;
    FM_FN(fm_optim_update)(u->params + off, u->s1 ? u->s1 + off : NULL,
                           u->s2 ? u->s2 + off : NULL, grad + off, &o, n, n_decay, n_threads);
}

/* The plain update (llm.c's gpt2_update): clip the data gradient (one global
 * norm over every weight and bias, or by value), penalise all weights, then
 * one optimizer pass over the whole flat buffer (weights first, then biases,
 * which decay only with decay_bias).  Clipping comes before the penalties, as
 * torch.optim's weight_decay comes after clip_grad_norm_ (it is the optimizer's). */
static void FM_FN(fm_params_update)(FM_FN(fm_upd) *u, FM_T *grad, const fm_layers *ls,
                                    int n_threads)
{
    if (u->clip_norm > 0) FM_FN(fm_clip_grad_norm)(grad, ls->n_params, u->clip_norm);
    if (u->clip_value > 0) FM_FN(fm_clip_grad_value)(grad, ls->n_params, u->clip_value);
    FM_FN(fm_penalise)(u, grad, 0, ls->n_w);
    FM_FN(fm_update_span)(u, grad, 0, ls->n_params, u->opt->decay_bias ? ls->n_params : ls->n_w,
                          n_threads);
}
