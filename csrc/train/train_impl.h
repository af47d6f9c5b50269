/*
 * train_impl.h -- whole-network passes (included per dtype by train.c):
 * the mini-batch training loop, batched inference and the full-data
 * loss+gradient.  Small nets must not pay Python's per-step overhead, so a
 * chunk of batches runs here in one call.
 *
 * Scratch layout for batches of up to B rows (see fm_workspace_size):
 *   A[0] (B, s0) gathered inputs | A[1..L] (B, s_l) layer outputs
 *   Yb (B, K) gathered targets   | SWb (B) gathered sample weights
 *   D0, D1 (B, maxw) ping-pong deltas
 *   H[1..L-1] (B, s_l) dropped-out copies of the hidden outputs (training
 *   with dropout only; A[l] keeps the undropped h, which act' needs)
 *   U_l (FM_LOWRANK_MAX, s_l), G_l (FM_LOWRANK_MAX, s_{l+1}) for each layer
 *   with fm_lowrank_room: its deferred SGD terms (lowrank.h)
 */

typedef struct {
    FM_T *a[64 + 1];
    FM_T *hd[64 + 1];
    FM_T *yb, *swb, *d0, *d1;
    FM_T *lu[64], *lg[64]; /* deferred terms U_l, G_l (NULL: no room) */
    int lk[64];            /* how many are pending */
    /* layer 0's products x.W_0 for the rows [pz_lo, pz_hi) of the steps up
     * to the next flush, made in one GEMM while W_0 stays as stored
     * (fm_ahead0_make); pz_hi = 0: none held.  pz_next: the first row
     * for which new ones may be made.  cur_lo: the row the current
     * training step starts at. */
    FM_T *pz, *pxb;
    ptrdiff_t pz_lo, pz_hi, pz_next, cur_lo;
} FM_FN(fm_ws);

static void FM_FN(fm_ws_carve)(FM_FN(fm_ws) *ws, FM_T *work, const fm_net *net, ptrdiff_t B)
{
    int l, L = net->n_layers;
    ptrdiff_t maxw = 1;
    for (l = 0; l <= L; l++) {
        ws->a[l] = work;
        work += B * net->sizes[l];
        if (l > 0) maxw = FM_MAX(maxw, (ptrdiff_t)net->sizes[l]);
    }
    ws->yb = work; work += B * net->sizes[L];
    ws->swb = work; work += B;
    ws->d0 = work; work += B * maxw;
    ws->d1 = work; work += B * maxw;
    ws->hd[0] = ws->hd[L] = NULL;
    for (l = 1; l < L; l++) {
        ws->hd[l] = work;
        work += B * net->sizes[l];
    }
    for (l = 0; l < L; l++) {
        ws->lk[l] = 0;
        ws->lu[l] = ws->lg[l] = NULL;
        if (fm_lowrank_room(B, net->sizes[l], net->sizes[l + 1])) {
            ws->lu[l] = work;
            work += FM_LOWRANK_MAX * net->sizes[l];
            ws->lg[l] = work;
            work += FM_LOWRANK_MAX * net->sizes[l + 1];
        }
    }
    ws->pz = ws->pxb = NULL;
    ws->pz_lo = ws->pz_hi = ws->pz_next = ws->cur_lo = 0;
    if (ws->lu[0]) { /* the same room test: fm_workspace_size counts it once more */
        ws->pz = work;
        work += FM_LOWRANK_MAX * net->sizes[1];
        ws->pxb = work;
        work += FM_LOWRANK_MAX * net->sizes[0];
    }
}

/* Write layer l's pending terms into W_l:  W += U^T . G  (lowrank.h) */
static void FM_FN(fm_lowrank_flush)(FM_FN(fm_ws) *ws, FM_T *w, ptrdiff_t IN, ptrdiff_t OUT,
                                    int l, int n_threads)
{
    const ptrdiff_t k = ws->lk[l];
    if (k == 0) return;
    FM_FN(fm_gemm)(w, OUT, ws->lu[l], 1, IN, ws->lg[l], OUT, 1, IN, OUT, k, 1, 1, NULL,
                   n_threads);
    ws->lk[l] = 0;
    if (l == 0) ws->pz_hi = 0; /* W_0 changed: the products made ahead are stale */
}

/* out (rows, n) = in (rows, m) . V^T . Z: the part of a product that layer
 * l's pending terms add, V (k, m) and Z (k, n) being U and G (forward,
 * m = IN) or G and U (backward, m = OUT).  Small: one thread. */
static void FM_FN(fm_lowrank_part)(FM_T *out, const FM_T *in, const FM_T *V, const FM_T *Z,
                                   ptrdiff_t rows, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k)
{
    FM_T coef[FM_RANK1_MAX_ROWS * FM_LOWRANK_MAX];
    FM_FN(fm_gemm)(coef, k, in, m, 1, V, 1, m, rows, k, m, 1, 0, NULL, 1);
    FM_FN(fm_gemm)(out, n, coef, k, 1, Z, n, 1, rows, n, k, 1, 0, NULL, 1);
}

/* Dropout rate on the output of hidden layer l-1, i.e. on A[l] (0 = none). */
static double FM_FN(fm_drop_rate)(const fm_train_cfg *cfg, const fm_net *net, int l)
{
    if (cfg == NULL || cfg->dropout == NULL || l < 1 || l >= net->n_layers) return 0.0;
    return cfg->dropout[l - 1];
}

/* The input each layer reads: x0 for layer 0, else A[l] or its dropped copy. */
static const FM_T *FM_FN(fm_layer_in)(const FM_FN(fm_ws) *ws, const FM_T *x0,
                                      const fm_train_cfg *cfg, const fm_net *net, int l)
{
    if (l == 0) return x0;
    return FM_FN(fm_drop_rate)(cfg, net, l) > 0 ? ws->hd[l] : ws->a[l];
}

/* Offsets of W_l and b_l in the flat parameter buffer (sklearn packing). */
static void FM_FN(fm_offsets)(const fm_net *net, ptrdiff_t *ow, ptrdiff_t *ob)
{
    int l, L = net->n_layers;
    ptrdiff_t off = 0;
    for (l = 0; l < L; l++) { ow[l] = off; off += net->sizes[l] * net->sizes[l + 1]; }
    for (l = 0; l < L; l++) { ob[l] = off; off += net->sizes[l + 1]; }
}

/* How many columns of x (rows, IN; rows 1 or 2) hold a nonzero (vectorised:
 * dense inputs, which take the GEMM, pay ~IN/16 vector compares for it). */
static ptrdiff_t FM_FN(fm_nz_cols)(const FM_T *x, ptrdiff_t rows, ptrdiff_t IN)
{
    ptrdiff_t i, n = 0;
    if (rows == 1) {
        FM_SIMD_SUM(n)
        for (i = 0; i < IN; i++) n += x[i] != 0;
    } else {
        FM_SIMD_SUM(n)
        for (i = 0; i < IN; i++) n += (x[i] != 0) | (x[IN + i] != 0);
    }
    return n;
}

/* Forward through all layers: a[l+1] = act_l(in_l . W_l + b_l); the last
 * layer stops at last_act (identity: the loss applies the output act).
 * With cfg (training), a hidden output with a dropout rate is also written
 * dropped out to hd[l+1], which the next layer reads; step keys the mask. */
static void FM_FN(fm_net_forward)(FM_FN(fm_ws) *ws, const FM_T *x0, const FM_T *params,
                                  const fm_net *net, const ptrdiff_t *ow, const ptrdiff_t *ob,
                                  ptrdiff_t rows, int last_act, const fm_train_cfg *cfg,
                                  int64_t step, int n_threads)
{
    int l, L = net->n_layers;
    for (l = 0; l < L; l++) {
        int act = l == L - 1 ? last_act : net->acts[l];
        double p = FM_FN(fm_drop_rate)(cfg, net, l + 1);
        const FM_T *in = FM_FN(fm_layer_in)(ws, x0, cfg, net, l);
        const ptrdiff_t IN = net->sizes[l], OUT = net->sizes[l + 1];
        /* layer 0 in training: x.W_0 made ahead for these rows (fm_ahead0_make) */
        const FM_T *ahead = l == 0 && cfg && ws->cur_lo >= ws->pz_lo &&
                                    ws->cur_lo + rows <= ws->pz_hi
                                ? ws->pz + (ws->cur_lo - ws->pz_lo) * OUT
                                : NULL;
        /* training at batch 1-2, a big W and inputs with zeros (ReLU, blank
         * pixels): W's rows under zero inputs are not read (sparse_fwd.h) */
        const int sparse = cfg && !ahead && rows <= FM_SPARSE_FWD_MAX_ROWS &&
                           IN * OUT * (ptrdiff_t)sizeof(FM_T) >= FM_SPARSE_FWD_MIN_BYTES &&
                           (double)FM_FN(fm_nz_cols)(in, rows, IN) <=
                               FM_SPARSE_FWD_MAX_FILL * (double)IN;
        if (ws->lk[l] > 0 || sparse || ahead) {
            /* deferred terms pending: x.W_eff = x.W + (x.U^T).G (lowrank.h), then b, act */
            const int lk = ws->lk[l] > 0;
            fm_epilogue epi = {FM_EPI_BIAS_ACT, act == FM_ACT_SOFTMAX ? FM_ACT_IDENTITY : act,
                               net->slopes[l], params + ob[l], NULL, 0};
            ptrdiff_t i;
            if (lk)
                FM_FN(fm_lowrank_part)(ws->a[l + 1], in, ws->lu[l], ws->lg[l], rows, IN, OUT,
                                       ws->lk[l]);
            if (ahead) {
                FM_T *FM_RESTRICT z = ws->a[l + 1];
                if (lk)
                    for (i = 0; i < rows * OUT; i++) z[i] += ahead[i];
                else
                    for (i = 0; i < rows * OUT; i++) z[i] = ahead[i];
                for (i = 0; i < rows; i++)
                    FM_FN(fm_epi_row)(z + i * OUT, i, 0, OUT, &epi);
            } else if (sparse) {
                FM_FN(fm_sparse_fwd)(ws->a[l + 1], in, params + ow[l], (FM_T)lk, rows, IN, OUT,
                                     n_threads);
                for (i = 0; i < rows; i++)
                    FM_FN(fm_epi_row)(ws->a[l + 1] + i * OUT, i, 0, OUT, &epi);
            } else
                FM_FN(fm_gemm)(ws->a[l + 1], OUT, in, IN, 1, params + ow[l], OUT, 1, rows, OUT,
                               IN, 1, (FM_T)lk, &epi, n_threads);
            if (act == FM_ACT_SOFTMAX)
                for (i = 0; i < rows; i++) FM_FN(fm_softmax_row)(ws->a[l + 1] + i * OUT, OUT);
        } else
            FM_FN(fm_linear_forward)(ws->a[l + 1], in, params + ow[l], params + ob[l], act,
                                     net->slopes[l], rows, IN, OUT, n_threads);
        if (p > 0)
            FM_FN(fm_dropout_forward)(ws->hd[l + 1], ws->a[l + 1], p, cfg->seed,
                                      (uint64_t)step, (uint64_t)(l + 1),
                                      rows * net->sizes[l + 1], n_threads);
    }
}

/* What fm_train fuses into the backward pass: weight penalties and the
 * optimizer update of each layer, right after that layer's gradient. */
typedef struct {
    FM_T *params;               /* the flat parameters being trained */
    FM_T *s1, *s2;              /* optimizer state (flat layout) or NULL */
    fm_optim *opt;
    double l2, l1;              /* effective penalties on the weights */
    double penalty;             /* out: 0.5*l2*||W||^2 + l1*||W||_1 before the update */
} FM_FN(fm_upd);

/* Penalise then update one block [off, off+n) of the flat buffers. */
static void FM_FN(fm_block_update)(FM_FN(fm_upd) *u, FM_T *grad, ptrdiff_t off, ptrdiff_t n,
                                   ptrdiff_t n_decay, int penalise, int n_threads)
{
    FM_T *params = u->params;
    fm_optim o = *u->opt;
    ptrdiff_t r;
    if (penalise && u->l2 != 0 && u->l1 == 0) { /* L2 alone (sklearn's alpha): vectorised */
        const FM_T l2 = (FM_T)u->l2;
        const FM_T *FM_RESTRICT w = params + off;
        FM_T *FM_RESTRICT gr = grad + off;
        double sq = 0;
        FM_SIMD_SUM(sq)
        for (r = 0; r < n; r++) {
            sq += (double)w[r] * (double)w[r];
            gr[r] += l2 * w[r];
        }
        u->penalty += 0.5 * u->l2 * sq;
    } else if (penalise && (u->l2 != 0 || u->l1 != 0)) {
        double sq = 0, ab = 0;
        for (r = off; r < off + n; r++) {
            double w = (double)params[r];
            sq += w * w;
            ab += fabs(w);
            grad[r] = (FM_T)((double)grad[r] + u->l2 * w + u->l1 * (double)((w > 0) - (w < 0)));
        }
        u->penalty += 0.5 * u->l2 * sq + u->l1 * ab;
    }
    if (o.s3) o.s3 = (FM_T *)o.s3 + off;
    FM_FN(fm_optim_update)(params + off, u->s1 ? u->s1 + off : NULL, u->s2 ? u->s2 + off : NULL,
                           grad + off, &o, n, n_decay, n_threads);
}

/* 1 when layer updates can be fused into the dW GEMM: plain SGD (no momentum
 * state, torch or scikit-learn form -- identical without momentum), no L1,
 * no penalty term to report (its ||W||^2 needs the weights before the
 * update). */
static int FM_FN(fm_sgd_plain)(const fm_optim *o, double l1, double l2)
{
    return o->kind == FM_OPT_SGD && o->momentum == 0 && o->l1 == 0 && l1 == 0 && l2 == 0;
}

static int FM_FN(fm_sgd_fusable)(const FM_FN(fm_upd) *u)
{
    return u && FM_FN(fm_sgd_plain)(u->opt, u->l1, u->l2);
}

/* Backward from dz = ws->d0 (rows, K) down to layer 0, writing (beta=0) or
 * accumulating (beta=1) the parameter gradients in grad.  With cfg, hidden
 * outputs that had dropout pass their delta through the same mask (keyed by
 * step).  With upd, layer l is penalised and updated as soon as its dW, db
 * and the delta for layer l-1 (which needs the old W_l) are done. */
static void FM_FN(fm_net_backward)(FM_FN(fm_ws) *ws, const FM_T *x0, FM_T *grad,
                                   const FM_T *params,
                                   const fm_net *net, const ptrdiff_t *ow, const ptrdiff_t *ob,
                                   ptrdiff_t rows, FM_T beta, const fm_train_cfg *cfg,
                                   int64_t step, FM_FN(fm_upd) *upd, int n_threads)
{
    int l, L = net->n_layers;
    FM_T *d = ws->d0, *dn = ws->d1, *tmp;
    for (l = L - 1; l >= 0; l--) {
        ptrdiff_t IN = net->sizes[l], OUT = net->sizes[l + 1], i, j;
        const FM_T *x = FM_FN(fm_layer_in)(ws, x0, cfg, net, l);
        FM_T *db = grad + ob[l];
        /* forward was: a_{l+1} = act_l(x . W_l + b_l), x = dropout(a_l) or a_l */
        const int fused = FM_FN(fm_sgd_fusable)(upd);
        /* small batch, big W, no decay: the update deferred (lowrank.h) */
        const int lowrank = fused && ws->lu[l] && rows <= FM_RANK1_MAX_ROWS &&
                            upd->opt->weight_decay == 0 && fm_lowrank_wins(l, IN, OUT, sizeof(FM_T));
        /* small batch, l > 0: steps 3 and 4's W update in one pass over W (rank1.h) */
        const int rank1 = fused && !lowrank && l > 0 && fm_rank1_wins(rows, IN, OUT, sizeof(FM_T));
        const FM_T *dl = d; /* this layer's delta (step 3 swaps d) */
        if (l == 0 && !lowrank)
            ws->pz_hi = 0; /* W_0 is written now: products made ahead go stale */
        if (fused && !lowrank) /* (terms left by other steps: none in practice) */
            FM_FN(fm_lowrank_flush)(ws, upd->params + ow[l], IN, OUT, l, n_threads);
        if (!fused) {
            /* 1. dW_l (=|+=) x^T . d */
            FM_FN(fm_gemm)(grad + ow[l], OUT, x, 1, IN, d, OUT, 1, IN, OUT, rows, 1, beta, NULL,
                           n_threads);
            /* 2. db_l (=|+=) column sums of d */
            if (beta == 0)
                for (j = 0; j < OUT; j++) db[j] = 0;
            for (i = 0; i < rows; i++)
                for (j = 0; j < OUT; j++) db[j] += d[i * OUT + j];
        }
        /* 3. d_{l-1} = (d . W_l^T) * act_{l-1}'(a_l) [* mask/(1-p) under dropout];
         *    act' reads the undropped a_l */
        if (l > 0) {
            double p = FM_FN(fm_drop_rate)(cfg, net, l);
            fm_epilogue epi = {FM_EPI_DACT, net->acts[l - 1], net->slopes[l - 1], NULL, ws->a[l],
                               IN};
            if (lowrank) {
                /* d.W_eff^T = d.W^T + (d.G^T).U: the part first, then a
                 * read-only pass over W adds the products and applies act' */
                const ptrdiff_t k = ws->lk[l];
                if (k > 0)
                    FM_FN(fm_lowrank_part)(dn, d, ws->lg[l], ws->lu[l], rows, OUT, IN, k);
                FM_FN(fm_rank1_sgd)(dn, upd->params + ow[l], d, x, ws->a[l], epi.act, epi.slope,
                                    0, 1, k > 0, rows, IN, OUT, n_threads);
            } else if (rank1)
                FM_FN(fm_rank1_sgd)(dn, upd->params + ow[l], d, x, ws->a[l], epi.act, epi.slope,
                                    (FM_T)upd->opt->lr,
                                    1 - (FM_T)upd->opt->lr * (FM_T)upd->opt->weight_decay, 0,
                                    rows, IN, OUT, n_threads);
            else
                FM_FN(fm_gemm)(dn, IN, d, OUT, 1, params + ow[l], 1, OUT, rows, IN, OUT, 1, 0,
                               &epi, n_threads);
            if (p > 0)
                FM_FN(fm_dropout_backward)(dn, p, cfg->seed, (uint64_t)step, (uint64_t)l,
                                           rows * IN, n_threads);
            tmp = d; d = dn; dn = tmp;
        }
        /* 4. fused: penalties and the optimizer step for W_l, then b_l */
        if (fused) {
            /* plain SGD: W_l = (1 - lr*wd) W_l - lr * x^T.d in the dW GEMM itself
             * (alpha = -lr, beta = 1 - lr*wd), after step 3 used the old W_l; no
             * gradient buffer is written or read again */
            const fm_optim *o = upd->opt;
            const FM_T lr = (FM_T)o->lr, wd = (FM_T)o->weight_decay;
            FM_T *b = upd->params + ob[l];
            if (lowrank) {
                /* defer: U gets -lr * x, G the delta, row by row */
                FM_T *U = ws->lu[l] + ws->lk[l] * IN, *G = ws->lg[l] + ws->lk[l] * OUT;
                for (i = 0; i < rows * IN; i++) U[i] = -lr * x[i];
                for (i = 0; i < rows * OUT; i++) G[i] = dl[i];
                ws->lk[l] += (int)rows;
                if (step % FM_TRAIN_ALIGN == 0 ||
                    ws->lk[l] + FM_RANK1_MAX_ROWS > FM_LOWRANK_MAX)
                    FM_FN(fm_lowrank_flush)(ws, upd->params + ow[l], IN, OUT, l, n_threads);
            } else if (!rank1)
                FM_FN(fm_gemm)(upd->params + ow[l], OUT, x, 1, IN, dl, OUT, 1, IN, OUT, rows,
                               -lr, 1 - lr * wd, NULL, n_threads);
            /* column sums row by row (contiguous, vectorised) into db's slot */
            for (j = 0; j < OUT; j++) db[j] = 0;
            for (i = 0; i < rows; i++)
                for (j = 0; j < OUT; j++) db[j] += dl[i * OUT + j];
            for (j = 0; j < OUT; j++) b[j] -= lr * (db[j] + (o->decay_bias ? wd * b[j] : 0));
        } else if (upd) {
            FM_FN(fm_block_update)(upd, grad, ow[l], IN * OUT, IN * OUT, 1, n_threads);
            FM_FN(fm_block_update)(upd, grad, ob[l], OUT, upd->opt->decay_bias ? OUT : 0, 0,
                                   n_threads);
        }
    }
}

/* Count rows whose prediction matches the target (metric 1: argmax,
 * metric 2: every output thresholded at 0.5). */
static ptrdiff_t FM_FN(fm_count_correct)(const FM_T *p, const FM_T *y, ptrdiff_t rows,
                                         ptrdiff_t K, int metric)
{
    ptrdiff_t i, j, correct = 0;
    for (i = 0; i < rows; i++) {
        const FM_T *pi = p + i * K, *yi = y + i * K;
        if (metric == 1) {
            ptrdiff_t bp = 0, by = 0;
            for (j = 1; j < K; j++) {
                if (pi[j] > pi[bp]) bp = j;
                if (yi[j] > yi[by]) by = j;
            }
            correct += bp == by;
        } else {
            int ok = 1;
            for (j = 0; j < K; j++) ok &= (pi[j] > (FM_T)0.5) == (yi[j] > (FM_T)0.5);
            correct += ok;
        }
    }
    return correct;
}

/* sum of squared weights (biases excluded) */
static double FM_FN(fm_wsq)(const FM_T *params, ptrdiff_t n_w)
{
    double s = 0;
    ptrdiff_t i;
    for (i = 0; i < n_w; i++) s += (double)params[i] * (double)params[i];
    return s;
}

static double FM_FN(fm_loss_scale)(const fm_train_cfg *cfg, double sw_sum, ptrdiff_t K)
{
    return cfg->loss_mult / (sw_sum * (cfg->loss_per_output ? (double)K : 1.0));
}

/* Regression sums of one batch (metric 3): see fm_train's stats. */
static void FM_FN(fm_reg_stats)(double *stats, const FM_T *p, const FM_T *y, ptrdiff_t rows,
                                ptrdiff_t K)
{
    ptrdiff_t i, j;
    for (i = 0; i < rows; i++)
        for (j = 0; j < K; j++) {
            double r = (double)p[i * K + j] - (double)y[i * K + j];
            stats[4] += fabs(r);
            stats[5] += r * r;
            stats[6 + j] += r * r;
        }
}

/* Copy batch rows into the scratch (in `order`, or lo.. in place); return x0. */
static const FM_T *FM_FN(fm_gather)(FM_FN(fm_ws) *ws, const FM_T *x, const FM_T *y,
                                    const FM_T *sw, const int64_t *order, ptrdiff_t lo,
                                    ptrdiff_t rows, ptrdiff_t s0, ptrdiff_t K, int copy_x)
{
    ptrdiff_t r, j;
    if (order) {
        for (r = 0; r < rows; r++) {
            ptrdiff_t src = (ptrdiff_t)order[lo + r];
#if defined(__GNUC__) || defined(__clang__)
            /* shuffled rows come from anywhere in x, too far apart for the
             * hardware prefetcher: fetch the row after next while copying
             * (MLP.fit of 784-128-64-10, batch 32, one shuffled epoch of 60,000
             * rows: 0.370 -> 0.330 s; unshuffled 0.316 s) */
            if (r + 2 < rows) {
                const FM_T *nx = x + (ptrdiff_t)order[lo + r + 2] * s0;
                for (j = 0; j < s0; j += (ptrdiff_t)(64 / sizeof(FM_T))) __builtin_prefetch(nx + j);
            }
#endif
            for (j = 0; j < s0; j++) ws->a[0][r * s0 + j] = x[src * s0 + j];
            for (j = 0; j < K; j++) ws->yb[r * K + j] = y[src * K + j];
            if (sw) ws->swb[r] = sw[src];
        }
        return ws->a[0];
    }
    for (r = 0; r < rows * K; r++) ws->yb[r] = y[lo * K + r];
    if (sw)
        for (r = 0; r < rows; r++) ws->swb[r] = sw[lo + r];
    if (!copy_x) return x + lo * s0;
    for (r = 0; r < rows * s0; r++) ws->a[0][r] = x[lo * s0 + r];
    return ws->a[0];
}

/* Largest batch of inputs fm_train streams into cache ahead of the GEMMs
 * when no check is asked for (see the batch loop). */
#ifndef FM_TOUCH_MAX_BYTES
#define FM_TOUCH_MAX_BYTES ((ptrdiff_t)256 << 10)
#endif

/* Prefetch slice `part` of `parts` of the rows (inputs, targets, weights) of the
 * shuffled batch at order[lo..], into L2, while the batch before it computes.
 * Shuffled rows come from anywhere in x: without this fm_gather waits on
 * memory row after row (its own prefetch runs only 2 rows ahead).  Issuing
 * the prefetches stalls once the miss buffers are full, so they come in two
 * slices, before the forward and before the backward pass; prefetcht1 (L2)
 * stalls less than prefetcht0 here.  Measured on this machine (AMD EPYC,
 * 784-128-64-10, batch 32, 1 thread, 60,000 shuffled float32 rows, interleaved
 * runs, 5th percentile of 16-step chunks): 163.2-164.8 -> 154.8-155.9 us/step
 * (fm_gather 61k -> 22-27k TSC cycles per step, issuing the prefetches 15k;
 * prefetcht0 in one burst: gather 28k, issuing 39k, no gain).  Rows in order
 * need none: the hardware prefetcher streams them (148.7 us without, 147.7-151.3
 * with).
 * Always inlined: gcc finds an out-of-line copy pure (only loads and
 * prefetches) and deletes the calls to it. */
FM_INLINE void FM_FN(fm_prefetch_rows)(const FM_T *x, const FM_T *y, const FM_T *sw,
                                    const int64_t *order, ptrdiff_t lo, ptrdiff_t n_total,
                                    ptrdiff_t batch, ptrdiff_t s0, ptrdiff_t K, int part,
                                    int parts)
{
#if defined(__GNUC__) || defined(__clang__)
    const ptrdiff_t line = 64 / (ptrdiff_t)sizeof(FM_T);
    ptrdiff_t rows, r, j;
    if (lo >= n_total) return;
    rows = FM_MIN(batch, n_total - lo);
    for (r = rows * part / parts; r < rows * (part + 1) / parts; r++) {
        const FM_T *xr = x + (ptrdiff_t)order[lo + r] * s0;
        const FM_T *yr = y + (ptrdiff_t)order[lo + r] * K;
        for (j = 0; j < s0; j += line) __builtin_prefetch(xr + j, 0, 2);
        __builtin_prefetch(xr + s0 - 1, 0, 2);
        __builtin_prefetch(yr, 0, 2);
        __builtin_prefetch(yr + K - 1, 0, 2);
        if (sw) __builtin_prefetch(sw + order[lo + r], 0, 2);
    }
#else
    (void)x; (void)y; (void)sw; (void)order; (void)lo; (void)n_total; (void)batch; (void)s0;
    (void)K; (void)part; (void)parts;
#endif
}

/* Make layer 0's products x.W_0 ahead, in one GEMM, for the rows of this
 * step (starting at row lo) and of the following steps up to the next
 * flush of layer 0's deferred terms -- the next step whose number is a
 * multiple of FM_TRAIN_ALIGN -- within the call's `left` batches and the
 * data.  Layer 0's input is the data itself, so its rows are known before
 * the steps run; while W_0 keeps its stored values (its updates deferred,
 * lowrank.h), a step's x.W_eff is then that product plus the pending
 * terms' part.  At batch 1 the steps otherwise read all of W_0 each, at
 * memory (or L3) speed, for one multiply-add per weight; made ahead, W_0
 * is read once for up to FM_TRAIN_ALIGN steps, by the packed GEMM. */
static void FM_FN(fm_ahead0_make)(FM_FN(fm_ws) *ws, const FM_T *w0, const FM_T *x,
                                  const int64_t *order, ptrdiff_t lo, ptrdiff_t n_total,
                                  ptrdiff_t batch, ptrdiff_t left, int64_t step, ptrdiff_t s0,
                                  ptrdiff_t s1, int n_threads)
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
    if (s0 * s1 * (ptrdiff_t)sizeof(FM_T) >= FM_SPARSE_FWD_MIN_BYTES) {
        /* inputs that the steps' own zero-skipping forward would take (on
         * average, sparse_fwd.h) read fewer of W_0's rows than the dense
         * product makes: MNIST's pixels, 784-512-512-10 float64 batch 1,
         * 90-91 us a step that way against 108-120 made ahead */
        ptrdiff_t nz = 0;
        FM_SIMD_SUM(nz)
        for (r = 0; r < (hi - lo) * s0; r++) nz += xb[r] != 0;
        if ((double)nz <= FM_SPARSE_FWD_MAX_FILL * (double)((hi - lo) * s0)) {
            ws->pz_hi = 0;
            return;
        }
    }
    FM_FN(fm_gemm)(ws->pz, s1, xb, s0, 1, w0, s1, 1, hi - lo, s1, s0, 1, 0, NULL, n_threads);
    ws->pz_lo = lo;
    ws->pz_hi = hi;
}

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
} FM_FN(fm_train_args);

static void FM_FN(fm_train_loop)(void *arg)
{
    FM_FN(fm_train_args) *t = (FM_FN(fm_train_args) *)arg;
    FM_T *params = t->params, *grad = t->grad, *s1 = t->s1, *s2 = t->s2;
    double *stats = t->stats;
    fm_optim *opt = t->opt;
    const fm_net *net = t->net;
    const fm_train_cfg *cfg = t->cfg;
    const FM_T *x = t->x, *y = t->y, *sw = t->sw;
    const int64_t *order = t->order;
    const ptrdiff_t n_total = t->n_total, start = t->start, n_batches = t->n_batches,
                    batch = t->batch;
    const int n_threads = t->n_threads;
    FM_FN(fm_ws) ws;
    ptrdiff_t ow[64], ob[64], bi, r0;
    int L = net->n_layers;
    const ptrdiff_t s0 = net->sizes[0], K = net->sizes[L];
    const int adam = opt->kind == FM_OPT_ADAM || opt->kind == FM_OPT_ADAMW;
    FM_FN(fm_ws_carve)(&ws, t->work, net, batch);
    FM_FN(fm_offsets)(net, ow, ob);
    /* one step per call (a Python loop over batches): deferring gains
     * nothing when the terms are flushed right after (B/1/1 one call per
     * step: 18 us with the fused update, 21 deferred) */
    if (n_batches < 2) {
        for (r0 = 0; r0 < L; r0++) ws.lu[r0] = NULL;
        ws.pz = NULL;
    }
    for (bi = 0; bi < n_batches; bi++) {
        ptrdiff_t lo = start + bi * batch, rows, r;
        const FM_T *x0, *swb = NULL;
        double sw_sum, scale, lb;
        FM_FN(fm_upd) upd;
        if (lo >= n_total) break;
        rows = FM_MIN(batch, n_total - lo);
        /* gather the batch; when asked, stop at a non-finite input before
         * anything changes.  The check streams x0's rows into cache, and the
         * GEMMs then read them faster than from memory: rows read in place (in
         * order, no copy) that fit in L2 get that pass in every epoch, its
         * answer used only when asked (B/32/1, 60,000 rows: 148.2-148.9 ->
         * 146.8-147.7 us/step, 5th percentile of 16-step chunks) */
        x0 = FM_FN(fm_gather)(&ws, x, y, sw, order, lo, rows, s0, K, cfg->input_noise > 0);
        if ((cfg->check_finite ||
             (x0 != ws.a[0] && rows * s0 * (ptrdiff_t)sizeof(FM_T) <= FM_TOUCH_MAX_BYTES)) &&
            !FM_FN(fm_all_finite)(x0, rows * s0) && cfg->check_finite) {
            t->bad_input = 1;
            break;
        }
        /* shuffled: the next batch's rows start coming from memory (2 slices) */
        if (order)
            FM_FN(fm_prefetch_rows)(x, y, sw, order, lo + batch, n_total, batch, s0, K, 0, 2);
        /* this batch's hyper-parameters and step (the step keys dropout/noise) */
        if (cfg->lr_steps) opt->lr = cfg->lr_steps[bi];
        if (cfg->mom_steps) {
            if (adam) opt->beta1 = cfg->mom_steps[bi];
            else opt->momentum = cfg->mom_steps[bi];
        }
        opt->step += 1;
        /* Gaussian input noise, stream 0 */
        if (cfg->input_noise > 0)
            FM_FN(fm_gaussian_noise)(ws.a[0], cfg->input_noise, cfg->seed, (uint64_t)opt->step,
                                     0, rows * s0, n_threads);
        sw_sum = (double)rows;
        if (sw) {
            swb = ws.swb;
            sw_sum = 0;
            for (r = 0; r < rows; r++) sw_sum += (double)swb[r];
            if (sw_sum <= 0) sw_sum = 1; /* all-zero weights: no data term */
        }
        /* layer 0's x.W_0 for this and the next steps, in one product, when
         * its updates will be deferred (lowrank.h; the condition only
         * predicts: what keeps the products right is that any write to W_0
         * drops them) */
        ws.cur_lo = lo;
        if (ws.pz && lo >= ws.pz_next && cfg->input_noise == 0 && rows <= FM_RANK1_MAX_ROWS &&
            fm_lowrank_wins(0, s0, net->sizes[1], sizeof(FM_T)) &&
            FM_FN(fm_sgd_plain)(opt, cfg->l1, cfg->l2) && opt->weight_decay == 0)
            FM_FN(fm_ahead0_make)(&ws, params + ow[0], x, order, lo, n_total, batch,
                                  n_batches - bi, opt->step, s0, net->sizes[1], n_threads);
        /* forward (+ dropout), loss, delta */
        FM_FN(fm_net_forward)(&ws, x0, params, net, ow, ob, rows, FM_ACT_IDENTITY, cfg, opt->step,
                              n_threads);
        scale = FM_FN(fm_loss_scale)(cfg, sw_sum, K);
        lb = FM_FN(fm_loss)(ws.d0, ws.a[L], ws.a[L], ws.yb, swb, cfg->loss, net->acts[L - 1],
                            net->slopes[L - 1], rows, K, scale);
        stats[0] += lb * (double)rows;
        if (cfg->metric == 1 || cfg->metric == 2)
            stats[1] += (double)FM_FN(fm_count_correct)(ws.a[L], ws.yb, rows, K, cfg->metric);
        else if (cfg->metric == 3)
            FM_FN(fm_reg_stats)(stats, ws.a[L], ws.yb, rows, K);
        stats[2] += (double)rows;
        if (order)
            FM_FN(fm_prefetch_rows)(x, y, sw, order, lo + batch, n_total, batch, s0, K, 1, 2);
        /* backward fused with penalties and the update, layer by layer */
        upd.params = params;
        upd.s1 = s1;
        upd.s2 = s2;
        upd.opt = opt;
        upd.l2 = cfg->l2_batch_scaled ? cfg->l2 / sw_sum : cfg->l2;
        upd.l1 = cfg->l1;
        upd.penalty = 0;
        FM_FN(fm_net_backward)(&ws, x0, grad, params, net, ow, ob, rows, 0, cfg, opt->step, &upd,
                               n_threads);
        stats[3] += upd.penalty * (double)rows;
    }
    /* deferred terms into the weights: the caller never sees them pending */
    for (r0 = 0; r0 < L; r0++)
        FM_FN(fm_lowrank_flush)(&ws, params + ow[r0], net->sizes[r0], net->sizes[r0 + 1],
                                (int)r0, n_threads);
    t->done = bi;
}


/* The largest product of a training step (multiply-adds): from
 * FM_TEAM_MIN_WORK on, a team of threads pays for itself. */
static ptrdiff_t FM_FN(fm_max_layer_work)(const fm_net *net, ptrdiff_t rows)
{
    ptrdiff_t w = 0;
    int l;
    for (l = 0; l < net->n_layers; l++)
        w = FM_MAX(w, rows * (ptrdiff_t)net->sizes[l] * net->sizes[l + 1]);
    return w;
}

ptrdiff_t FM_FN(fm_train)(FM_T *params, FM_T *grad, FM_T *s1, FM_T *s2, FM_T *work,
                          double *stats, fm_optim *opt, const fm_net *net, const fm_train_cfg *cfg,
                          const FM_T *x, const FM_T *y, const FM_T *sw, const int64_t *order,
                          ptrdiff_t n_total, ptrdiff_t start, ptrdiff_t n_batches, ptrdiff_t batch,
                          int n_threads)
{
    FM_FN(fm_train_args) t;
    t.params = params; t.grad = grad; t.s1 = s1; t.s2 = s2; t.work = work; t.stats = stats;
    t.opt = opt; t.net = net; t.cfg = cfg; t.x = x; t.y = y; t.sw = sw; t.order = order;
    t.n_total = n_total; t.start = start; t.n_batches = n_batches; t.batch = batch;
    t.n_threads = n_threads; t.done = 0; t.bad_input = 0;
    /* one team for the whole chunk when some product is worth splitting */
    fm_team_run(FM_FN(fm_max_layer_work)(net, batch) >= FM_TEAM_MIN_WORK ? n_threads : 1,
                FM_FN(fm_train_loop), &t);
    return t.bad_input ? -(t.done + 1) : t.done;
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
} FM_FN(fm_pass_args);

static void FM_FN(fm_forward_loop)(void *arg)
{
    FM_FN(fm_pass_args) *t = (FM_FN(fm_pass_args) *)arg;
    const fm_net *net = t->net;
    FM_FN(fm_ws) ws;
    ptrdiff_t ow[64], ob[64], lo;
    int L = net->n_layers;
    const ptrdiff_t s0 = net->sizes[0], K = net->sizes[L];
    FM_FN(fm_ws_carve)(&ws, t->work, net, t->batch);
    FM_FN(fm_offsets)(net, ow, ob);
    for (lo = 0; lo < t->n; lo += t->batch) {
        ptrdiff_t rows = FM_MIN(t->batch, t->n - lo);
        FM_FN(fm_net_forward)(&ws, t->x + lo * s0, t->params, net, ow, ob, rows,
                              net->acts[L - 1], NULL, 0, t->n_threads);
        for (ptrdiff_t r = 0; r < rows * K; r++) t->out[lo * K + r] = ws.a[L][r];
    }
}

void FM_FN(fm_forward_net)(FM_T *out, FM_T *work, const FM_T *params, const fm_net *net,
                           const FM_T *x, ptrdiff_t n, ptrdiff_t batch, int n_threads)
{
    FM_FN(fm_pass_args) t;
    memset(&t, 0, sizeof t);
    t.out = out; t.work = work; t.params = params; t.net = net; t.x = x; t.n = n;
    t.batch = batch; t.n_threads = n_threads;
    fm_team_run(FM_FN(fm_max_layer_work)(net, FM_MIN(n, batch)) >= FM_TEAM_MIN_WORK ? n_threads
                                                                                   : 1,
                FM_FN(fm_forward_loop), &t);
}

static void FM_FN(fm_loss_grad_loop)(void *arg)
{
    FM_FN(fm_pass_args) *t = (FM_FN(fm_pass_args) *)arg;
    FM_T *grad = t->grad;
    const FM_T *params = t->params, *x = t->x, *y = t->y, *sw = t->sw;
    const fm_net *net = t->net;
    const fm_train_cfg *cfg = t->cfg;
    const ptrdiff_t n = t->n, batch = t->batch;
    const int n_threads = t->n_threads;
    FM_FN(fm_ws) ws;
    ptrdiff_t ow[64], ob[64], lo, r, n_w;
    int L = net->n_layers;
    const ptrdiff_t s0 = net->sizes[0], K = net->sizes[L];
    double sw_sum = (double)n, scale, loss = 0, l2_eff;
    FM_FN(fm_ws_carve)(&ws, t->work, net, batch);
    FM_FN(fm_offsets)(net, ow, ob);
    n_w = ob[0];
    if (sw) {
        sw_sum = 0;
        for (r = 0; r < n; r++) sw_sum += (double)sw[r];
        if (sw_sum <= 0) sw_sum = 1;
    }
    scale = FM_FN(fm_loss_scale)(cfg, sw_sum, K);
    for (lo = 0; lo < n; lo += batch) {
        ptrdiff_t rows = FM_MIN(batch, n - lo);
        const FM_T *x0 = x + lo * s0;
        FM_FN(fm_net_forward)(&ws, x0, params, net, ow, ob, rows, FM_ACT_IDENTITY, NULL, 0,
                              n_threads);
        loss += FM_FN(fm_loss)(ws.d0, ws.a[L], ws.a[L], y + lo * K, sw ? sw + lo : NULL,
                               cfg->loss, net->acts[L - 1], net->slopes[L - 1], rows, K, scale);
        FM_FN(fm_net_backward)(&ws, x0, grad, params, net, ow, ob, rows, lo == 0 ? 0 : 1,
                               NULL, 0, NULL, n_threads);
    }
    l2_eff = cfg->l2_batch_scaled ? cfg->l2 / sw_sum : cfg->l2;
    if (l2_eff != 0) {
        loss += 0.5 * l2_eff * FM_FN(fm_wsq)(params, n_w);
        for (r = 0; r < n_w; r++) grad[r] += (FM_T)l2_eff * params[r];
    }
    t->loss = loss;
}

double FM_FN(fm_loss_grad)(FM_T *grad, FM_T *work, const FM_T *params, const fm_net *net,
                           const fm_train_cfg *cfg, const FM_T *x, const FM_T *y, const FM_T *sw,
                           ptrdiff_t n, ptrdiff_t batch, int n_threads)
{
    FM_FN(fm_pass_args) t;
    memset(&t, 0, sizeof t);
    t.grad = grad; t.work = work; t.params = params; t.net = net; t.cfg = cfg;
    t.x = x; t.y = y; t.sw = sw; t.n = n; t.batch = batch; t.n_threads = n_threads;
    fm_team_run(FM_FN(fm_max_layer_work)(net, FM_MIN(n, batch)) >= FM_TEAM_MIN_WORK ? n_threads
                                                                                   : 1,
                FM_FN(fm_loss_grad_loop), &t);
    return t.loss;
}
