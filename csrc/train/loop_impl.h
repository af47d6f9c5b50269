/*
 * loop_impl.h -- the passes fastmlp.h exports: fm_train's loop over
 * mini-batches, batched inference (fm_forward_net) and the full-data
 * objective (fm_loss_grad).  Included per dtype by train/train.c.  Small
 * nets must not pay Python's per-step overhead, so a chunk of batches runs
 * here in one call, on one team of threads when a product is worth it.
 */

/* fm_train's arguments, for running its loop as a team's body (team.h). */
typedef struct {
    FM_T *params, *grad, *s1, *s2, *work;
    double *stats;
    fm_optim *opt;
    const fm_net *net;
    const fm_train_cfg *cfg;
    const FM_T *x, *y, *sw;
    const int64_t *order;
    ptrdiff_t n_total, start, n_batches, batch;
    int n_threads;
    ptrdiff_t done; /* out: batches trained */
    int bad_input;  /* out: 1 when batch `done` stopped the loop (check_finite) */
    const fm_csr *xs; /* CSR input rows instead of x, or NULL */
} FM_FN(fm_train_args);

/* Start batch bi: gather its rows, check them, prefetch the next ones, set
 * its hyper-parameters and step, add the input noise.  Returns its rows,
 * 0 past the data, -1 for a non-finite input under check_finite (nothing
 * changed yet).  *sw_sum: the batch's sum of sample weights. */
static ptrdiff_t FM_FN(fm_batch_begin)(FM_FN(fm_train_args) *t, FM_FN(fm_ws) *ws,
                                       FM_FN(fm_data) *dt, ptrdiff_t bi, double *sw_sum)
{
    const fm_train_cfg *cfg = t->cfg;
    fm_optim *opt = t->opt;
    const ptrdiff_t lo = t->start + bi * t->batch, s0 = dt->s0;
    ptrdiff_t rows, r;
    if (lo >= t->n_total) return 0;
    rows = FM_MIN(t->batch, t->n_total - lo);
    FM_FN(fm_gather)(ws, dt, lo, rows, cfg->input_noise > 0);
    if (dt->xs && cfg->check_finite && !FM_FN(fm_csr_rows_finite)(dt->xs, dt->order, lo, rows))
        return -1;
    /* the check streams rows read in place into cache, which the GEMMs then
     * read faster: done for small batches even when not asked for */
    if (!dt->xs &&
        (cfg->check_finite || (ws->x0 != ws->a[0] &&
                               rows * s0 * (ptrdiff_t)sizeof(FM_T) <= FM_TOUCH_MAX_BYTES)) &&
        !FM_FN(fm_all_finite)(ws->x0, rows * s0) && cfg->check_finite)
        return -1;
    dt->next = lo + t->batch;
    FM_FN(fm_data_prefetch)(dt, 0, 2);
    if (cfg->lr_steps) opt->lr = cfg->lr_steps[bi];
    if (cfg->mom_steps) {
        if (opt->kind == FM_OPT_ADAM || opt->kind == FM_OPT_ADAMW) opt->beta1 = cfg->mom_steps[bi];
        else opt->momentum = cfg->mom_steps[bi];
    }
    opt->step += 1; /* keys dropout and noise */
    if (cfg->input_noise > 0 && !dt->xs) /* Gaussian input noise, stream 0 */
        FM_FN(fm_gaussian_noise)(ws->a[0], cfg->input_noise, cfg->seed, (uint64_t)opt->step, 0,
                                 rows * s0, t->n_threads);
    *sw_sum = (double)rows;
    if (dt->sw) {
        *sw_sum = 0;
        for (r = 0; r < rows; r++) *sw_sum += (double)ws->swb[r];
        if (*sw_sum <= 0) *sw_sum = 1; /* all-zero weights: no data term */
    }
    return rows;
}

/* One step on the batch at position lo: the plan's choice for it, then the
 * plain or the fast step.  Returns the data loss; *penalty its penalty. */
static double FM_FN(fm_train_step)(FM_FN(fm_train_args) *t, FM_FN(fm_ws) *ws,
                                   const fm_layers *ls, fm_plan *plan, const FM_FN(fm_data) *dt,
                                   ptrdiff_t lo, ptrdiff_t rows, ptrdiff_t bi, double sw_sum,
                                   double *penalty)
{
    const fm_train_cfg *cfg = t->cfg;
    const FM_T *swb = dt->sw ? ws->swb : NULL;
    const double scale = FM_FN(fm_loss_scale)(cfg, sw_sum, dt->K);
    fm_pass ps = {rows, cfg->seed, t->opt->step, 0, t->n_threads};
    FM_FN(fm_upd) u = {t->params, t->s1, t->s2, t->opt, 0, cfg->l1, 0};
    double loss;
    u.l2 = cfg->l2_batch_scaled ? cfg->l2 / sw_sum : cfg->l2;
    u.clip_norm = cfg->clip_norm;
    u.clip_value = cfg->clip_value;
    fm_plan_step(plan, ls, t->opt, cfg, rows, sizeof(FM_T));
    if (!plan->fast) {
        loss = FM_FN(fm_step_plain)(ws, ls, &u, t->grad, cfg, swb, scale, &ps);
    } else {
        FM_FN(fm_fast_begin_step)(ws, plan, ls, t->params, t->n_threads);
        ws->cur_lo = lo;
        if (fm_plan_has(plan, 0, FM_PATH_AHEAD) && lo >= ws->pz_next)
            FM_FN(fm_ahead0_make)(ws, plan, t->params + ls->layer[0].w, dt->x, dt->order, lo,
                                  dt->n_total, dt->batch, t->n_batches - bi, t->opt->step,
                                  dt->s0, ls->layer[0].out, t->n_threads);
        loss = FM_FN(fm_step_fast)(ws, ls, plan, &u, t->grad, cfg, swb, scale, &ps, dt);
    }
    *penalty = u.penalty;
    return loss;
}

static void FM_FN(fm_train_loop)(void *arg)
{
    FM_FN(fm_train_args) *t = (FM_FN(fm_train_args) *)arg;
    const fm_net *net = t->net;
    FM_FN(fm_ws) ws;
    FM_FN(fm_data) dt = {t->x, t->y, t->sw, t->order, t->n_total, t->batch,
                         net->sizes[0], net->sizes[net->n_layers], 0, t->xs};
    fm_layers ls;
    fm_plan plan;
    ptrdiff_t bi;
    int i;
    FM_FN(fm_ws_carve)(&ws, t->work, net, t->batch);
    fm_layers_build(&ls, net, t->cfg, FM_ACT_IDENTITY);
    ls.x_csr = t->xs != NULL;
    fm_plan_call(&plan, &ls, t->cfg, t->batch, t->n_batches, sizeof(FM_T), !t->cfg->plain);
    plan.ran = t->cfg->path_steps;
    for (bi = 0; bi < t->n_batches; bi++) {
        double sw_sum, loss, penalty;
        const ptrdiff_t rows = FM_FN(fm_batch_begin)(t, &ws, &dt, bi, &sw_sum);
        if (rows <= 0) {
            t->bad_input = rows < 0;
            break;
        }
        loss = FM_FN(fm_train_step)(t, &ws, &ls, &plan, &dt, t->start + bi * t->batch, rows, bi,
                                    sw_sum, &penalty);
        FM_FN(fm_batch_stats)(t->stats, &ws, t->cfg, rows, dt.K, loss, penalty);
    }
    /* deferred terms into the weights: the caller never sees them pending */
    for (i = 0; i < ls.n; i++)
        if (ls.layer[i].kind == FM_LAYER_DENSE)
            FM_FN(fm_lowrank_flush)(&ws, t->params + ls.layer[i].w, ls.layer[i].in,
                                    ls.layer[i].out, ls.layer[i].l, t->n_threads);
    t->done = bi;
}

/* The largest product of a step (multiply-adds): from FM_TEAM_MIN_WORK on,
 * a team of threads pays for itself. */
static int FM_FN(fm_team_size)(const fm_net *net, ptrdiff_t rows, int n_threads,
                               const fm_csr *xs)
{
    ptrdiff_t w = 0;
    int l;
    for (l = 0; l < net->n_layers; l++) {
        /* CSR input: layer 0's product has the rows' stored values, on average */
        ptrdiff_t in = (ptrdiff_t)net->sizes[l];
        if (l == 0 && xs && xs->n_rows > 0) {
            const ptrdiff_t nnz = xs->index64 ? (ptrdiff_t)((const int64_t *)xs->indptr)[xs->n_rows]
                                              : (ptrdiff_t)((const int32_t *)xs->indptr)[xs->n_rows];
            in = FM_MAX(1, nnz / xs->n_rows);
        }
        w = FM_MAX(w, rows * in * net->sizes[l + 1]);
    }
    return w >= FM_TEAM_MIN_WORK ? n_threads : 1;
}

static ptrdiff_t FM_FN(fm_train_any)(FM_FN(fm_train_args) *t)
{
    fm_team_run(FM_FN(fm_team_size)(t->net, t->batch, t->n_threads, t->xs), FM_FN(fm_train_loop),
                t);
    return t->bad_input ? -(t->done + 1) : t->done;
}

ptrdiff_t FM_FN(fm_train)(FM_T *params, FM_T *grad, FM_T *s1, FM_T *s2, FM_T *work,
                          double *stats, fm_optim *opt, const fm_net *net, const fm_train_cfg *cfg,
                          const FM_T *x, const FM_T *y, const FM_T *sw, const int64_t *order,
                          ptrdiff_t n_total, ptrdiff_t start, ptrdiff_t n_batches, ptrdiff_t batch,
                          int n_threads)
{
    FM_FN(fm_train_args) t = {params, grad, s1, s2, work, stats, opt, net, cfg, x, y, sw, order,
                              n_total, start, n_batches, batch, n_threads, 0, 0, NULL};
    return FM_FN(fm_train_any)(&t);
}

ptrdiff_t FM_FN(fm_train_csr)(FM_T *params, FM_T *grad, FM_T *s1, FM_T *s2, FM_T *work,
                              double *stats, fm_optim *opt, const fm_net *net,
                              const fm_train_cfg *cfg, const fm_csr *x, const FM_T *y,
                              const FM_T *sw, const int64_t *order, ptrdiff_t n_total,
                              ptrdiff_t start, ptrdiff_t n_batches, ptrdiff_t batch, int n_threads)
{
    FM_FN(fm_train_args) t = {params, grad, s1, s2, work, stats, opt, net, cfg, NULL, y, sw,
                              order, n_total, start, n_batches, batch, n_threads, 0, 0, x};
    return FM_FN(fm_train_any)(&t);
}

/* fm_forward_net's and fm_loss_grad's arguments, for a team's body. */
typedef struct {
    FM_T *out, *grad, *work;
    const FM_T *params;
    const fm_net *net;
    const fm_train_cfg *cfg;
    const FM_T *x, *y, *sw;
    ptrdiff_t n, batch;
    int n_threads;
    double loss; /* out: fm_loss_grad's objective */
    const fm_csr *xs; /* CSR input rows instead of x, or NULL */
} FM_FN(fm_pass_args);

/* Buffer 0 of the pass at row lo: x's rows in place, dense or CSR. */
static void FM_FN(fm_pass_rows)(FM_FN(fm_ws) *ws, const FM_FN(fm_pass_args) *t, ptrdiff_t lo)
{
    if (t->xs) {
        ws->xs = t->xs;
        ws->xs_lo = lo;
    } else {
        ws->x0 = t->x + lo * t->net->sizes[0];
    }
}

static void FM_FN(fm_forward_loop)(void *arg)
{
    FM_FN(fm_pass_args) *t = (FM_FN(fm_pass_args) *)arg;
    const fm_net *net = t->net;
    const ptrdiff_t K = net->sizes[net->n_layers];
    FM_FN(fm_ws) ws;
    fm_layers ls;
    fm_pass ps = {0, 0, 0, 0, t->n_threads};
    ptrdiff_t lo, r;
    FM_FN(fm_ws_carve)(&ws, t->work, net, t->batch);
    fm_layers_build(&ls, net, NULL, net->acts[net->n_layers - 1]);
    for (lo = 0; lo < t->n; lo += t->batch) {
        ps.rows = FM_MIN(t->batch, t->n - lo);
        FM_FN(fm_pass_rows)(&ws, t, lo);
        FM_FN(fm_layers_forward)(&ws, &ls, t->params, &ps);
        for (r = 0; r < ps.rows * K; r++) t->out[lo * K + r] = ws.a[net->n_layers][r];
    }
}

static void FM_FN(fm_forward_any)(FM_T *out, FM_T *work, const FM_T *params, const fm_net *net,
                                   const FM_T *x, const fm_csr *xs, ptrdiff_t n, ptrdiff_t batch,
                                   int n_threads)
{
    FM_FN(fm_pass_args) t;
    memset(&t, 0, sizeof t);
    t.out = out; t.work = work; t.params = params; t.net = net; t.x = x; t.xs = xs; t.n = n;
    t.batch = batch; t.n_threads = n_threads;
    fm_team_run(FM_FN(fm_team_size)(net, FM_MIN(n, batch), n_threads, xs),
                FM_FN(fm_forward_loop), &t);
}

void FM_FN(fm_forward_net)(FM_T *out, FM_T *work, const FM_T *params, const fm_net *net,
                           const FM_T *x, ptrdiff_t n, ptrdiff_t batch, int n_threads)
{
    FM_FN(fm_forward_any)(out, work, params, net, x, NULL, n, batch, n_threads);
}

void FM_FN(fm_forward_net_csr)(FM_T *out, FM_T *work, const FM_T *params, const fm_net *net,
                               const fm_csr *x, ptrdiff_t n, ptrdiff_t batch, int n_threads)
{
    FM_FN(fm_forward_any)(out, work, params, net, NULL, x, n, batch, n_threads);
}

static void FM_FN(fm_loss_grad_loop)(void *arg)
{
    FM_FN(fm_pass_args) *t = (FM_FN(fm_pass_args) *)arg;
    const fm_net *net = t->net;
    const fm_train_cfg *cfg = t->cfg;
    const ptrdiff_t K = net->sizes[net->n_layers];
    FM_FN(fm_ws) ws;
    fm_layers ls;
    fm_pass ps = {0, 0, 0, 0, t->n_threads};
    ptrdiff_t lo, r;
    double sw_sum = (double)t->n, scale, l2;
    FM_FN(fm_ws_carve)(&ws, t->work, net, t->batch);
    fm_layers_build(&ls, net, NULL, FM_ACT_IDENTITY);
    if (t->sw) {
        sw_sum = 0;
        for (r = 0; r < t->n; r++) sw_sum += (double)t->sw[r];
        if (sw_sum <= 0) sw_sum = 1;
    }
    scale = FM_FN(fm_loss_scale)(cfg, sw_sum, K);
    t->loss = 0;
    for (lo = 0; lo < t->n; lo += t->batch) {
        FM_T *p = ws.a[net->n_layers];
        ps.rows = FM_MIN(t->batch, t->n - lo);
        ps.beta = lo > 0; /* later chunks add to the gradient */
        FM_FN(fm_pass_rows)(&ws, t, lo);
        FM_FN(fm_layers_forward)(&ws, &ls, t->params, &ps);
        t->loss += FM_FN(fm_loss_p)(ws.d, p, p, t->y + lo * K, t->sw ? t->sw + lo : NULL,
                                    cfg->loss, ls.out_act, ls.out_slope, &cfg->lpar, ps.rows, K,
                                    scale);
        FM_FN(fm_layers_backward)(&ws, &ls, t->grad, t->params, &ps);
    }
    l2 = cfg->l2_batch_scaled ? cfg->l2 / sw_sum : cfg->l2;
    if (l2 != 0) {
        t->loss += 0.5 * l2 * FM_FN(fm_wsq)(t->params, ls.n_w);
        for (r = 0; r < ls.n_w; r++) t->grad[r] += (FM_T)l2 * t->params[r];
    }
}

static double FM_FN(fm_loss_grad_any)(FM_T *grad, FM_T *work, const FM_T *params,
                                      const fm_net *net, const fm_train_cfg *cfg, const FM_T *x,
                                      const fm_csr *xs, const FM_T *y, const FM_T *sw,
                                      ptrdiff_t n, ptrdiff_t batch, int n_threads)
{
    FM_FN(fm_pass_args) t;
    memset(&t, 0, sizeof t);
    t.grad = grad; t.work = work; t.params = params; t.net = net; t.cfg = cfg;
    t.x = x; t.xs = xs; t.y = y; t.sw = sw; t.n = n; t.batch = batch; t.n_threads = n_threads;
    fm_team_run(FM_FN(fm_team_size)(net, FM_MIN(n, batch), n_threads, xs),
                FM_FN(fm_loss_grad_loop), &t);
    return t.loss;
}

double FM_FN(fm_loss_grad)(FM_T *grad, FM_T *work, const FM_T *params, const fm_net *net,
                           const fm_train_cfg *cfg, const FM_T *x, const FM_T *y, const FM_T *sw,
                           ptrdiff_t n, ptrdiff_t batch, int n_threads)
{
    return FM_FN(fm_loss_grad_any)(grad, work, params, net, cfg, x, NULL, y, sw, n, batch,
                                   n_threads);
}

double FM_FN(fm_loss_grad_csr)(FM_T *grad, FM_T *work, const FM_T *params, const fm_net *net,
                               const fm_train_cfg *cfg, const fm_csr *x, const FM_T *y,
                               const FM_T *sw, ptrdiff_t n, ptrdiff_t batch, int n_threads)
{
    return FM_FN(fm_loss_grad_any)(grad, work, params, net, cfg, NULL, x, y, sw, n, batch,
                                   n_threads);
}
