/*
 * norm_impl.h -- batch and layer normalisation, forward and backward
 * (included per dtype by layers/norm.c; declarations in fastmlp.h).
 *
 * x, y, dy, dx are (N, C) row-major; gamma, beta, dgamma, dbeta and the
 * running statistics are (C).  Batch normalisation (torch.nn.BatchNorm1d)
 * normalises each column over the N rows; layer normalisation
 * (torch.nn.LayerNorm over the last dimension) each row over its C
 * columns.  Both then scale and shift, and apply the hidden layer's
 * activation (fused, so a normalised layer costs no pass of its own for it):
 *   y = act(gamma_j * xhat + beta_j),  xhat = (x - mean) * rstd,
 *   rstd = 1 / sqrt(var + eps),  var biased (/ n).
 * The backward takes dy = dL/dy and the forward's y, and folds act'(y)
 * (output-based activations only) into its passes.
 *
 * Sums are taken in double, so float32 rounds once: batch norm's column sums
 * of x - x[0] and of its squares in one pass (shifted by the first row, the
 * variance does not cancel catastrophically), layer norm's row mean and then
 * squared deviations (a row is in cache).  The elementwise passes run in the
 * dtype.  The saved mean and rstd are what the elementwise passes used, and
 * the backward recomputes xhat from x with them instead of storing it.
 *
 * Threads: batch norm splits the columns in blocks of FM_NORM_COLS (each
 * thread owns whole columns: its sums need no reduction); layer norm
 * splits the rows for y and dx and the column blocks for dgamma and dbeta.
 * The split never changes a result.
 */

/* One normalisation pass as a team task (team.h). */
typedef struct {
    int op;                     /* FM_NORM_OP_* (norm.c) */
    FM_T *y;                    /* forward: y; backward: dx (may alias dy) */
    FM_T *mean, *rstd;          /* saved statistics: (C) batch, (N) layer */
    FM_T *run_mean, *run_var;   /* batch norm's running statistics, or NULL */
    FM_T *dgamma, *dbeta;
    const FM_T *x, *dy, *ya, *gamma, *beta; /* ya: the forward's output (backward) */
    const FM_T *cmean, *crstd;  /* statistics read by the backward */
    const FM_T *cvar;           /* batch norm at inference: the running variance */
    double eps, momentum;
    int act;                    /* the activation after the norm */
    FM_T slope;
    ptrdiff_t N, C;
    int acc;                    /* backward: dgamma/dbeta += (1) or = (0) */
} FM_FN(fm_norm_job);

/* The gradient at the norm's output u (before the activation), g = dy * act'(y),
 * at element off: with an activation the backward's first pass (fm_norm_dact_rows,
 * one vectorised pass over whole rows) wrote it into dx (which may be dy), without
 * one it is dy itself.  (Folding act' into the sums' pass instead, block by block,
 * measured slower: a call per 64-element block cost more than the pass it saves.) */
static inline const FM_T *FM_FN(fm_norm_grad)(const FM_FN(fm_norm_job) *jb, ptrdiff_t off)
{
    return jb->act == FM_ACT_IDENTITY ? jb->dy + off : jb->y + off;
}

/* Backward, first pass, the rows [i0, i1): dx = dy * act'(y). */
static void FM_FN(fm_norm_dact_rows)(const FM_FN(fm_norm_job) *jb, ptrdiff_t i0, ptrdiff_t i1)
{
    const ptrdiff_t off = i0 * jb->C, n = (i1 - i0) * jb->C;
    if (jb->y != jb->dy) memcpy(jb->y + off, jb->dy + off, (size_t)n * sizeof(FM_T));
    FM_FN(fm_dact_span)(jb->y + off, jb->ya + off, n, jb->act, jb->slope);
}

/* Batch norm, training forward, on the columns [j0, j1) (j1 - j0 <= FM_NORM_COLS). */
static void FM_FN(fm_bn_fwd_cols)(const FM_FN(fm_norm_job) *jb, ptrdiff_t j0, ptrdiff_t j1)
{
    const ptrdiff_t N = jb->N, C = jb->C, w = j1 - j0;
    double s[FM_NORM_COLS], q[FM_NORM_COLS], sh[FM_NORM_COLS];
    FM_T a[FM_NORM_COLS], c[FM_NORM_COLS];
    ptrdiff_t i, k;
    for (k = 0; k < w; k++) {
        s[k] = q[k] = 0;
        sh[k] = (double)jb->x[j0 + k];
    }
    for (i = 0; i < N; i++) { /* pass 1: sums of x - x[0] and of its squares */
        const FM_T *FM_RESTRICT xr = jb->x + i * C + j0;
        for (k = 0; k < w; k++) {
            const double d = (double)xr[k] - sh[k];
            s[k] += d;
            q[k] += d * d;
        }
    }
    for (k = 0; k < w; k++) {
        const ptrdiff_t j = j0 + k;
        const double md = s[k] / (double)N, mean = sh[k] + md;
        const double ss = FM_MAX(q[k] - s[k] * md, 0.0); /* sum of squared deviations */
        const double var = ss / (double)N, r = 1.0 / sqrt(var + jb->eps);
        jb->mean[j] = (FM_T)mean;
        jb->rstd[j] = (FM_T)r;
        a[k] = jb->gamma[j] * (FM_T)r; /* y = x * a + c, as torch's CPU kernel */
        c[k] = jb->beta[j] - (FM_T)mean * a[k];
        if (jb->run_mean) { /* the running variance takes the unbiased batch variance */
            const double m = jb->momentum;
            jb->run_mean[j] = (FM_T)((1 - m) * (double)jb->run_mean[j] + m * mean);
            jb->run_var[j] = (FM_T)((1 - m) * (double)jb->run_var[j] +
                                    m * ss / (double)(N > 1 ? N - 1 : 1));
        }
    }
    for (i = 0; i < N; i++) { /* pass 2: y, the activation on the block while in cache */
        const FM_T *FM_RESTRICT xr = jb->x + i * C + j0;
        FM_T *FM_RESTRICT yr = jb->y + i * C + j0;
        for (k = 0; k < w; k++) yr[k] = xr[k] * a[k] + c[k];
        if (jb->act != FM_ACT_IDENTITY) FM_FN(fm_act_span)(yr, w, jb->act, jb->slope);
    }
}

/* Batch norm at inference, on the columns [j0, j1): the running statistics. */
static void FM_FN(fm_bn_infer_cols)(const FM_FN(fm_norm_job) *jb, ptrdiff_t j0, ptrdiff_t j1)
{
    const ptrdiff_t N = jb->N, C = jb->C, w = j1 - j0;
    FM_T a[FM_NORM_COLS], c[FM_NORM_COLS];
    ptrdiff_t i, k;
    for (k = 0; k < w; k++) {
        const ptrdiff_t j = j0 + k;
        const FM_T r = (FM_T)(1.0 / sqrt((double)jb->cvar[j] + jb->eps));
        a[k] = jb->gamma[j] * r;
        c[k] = jb->beta[j] - jb->cmean[j] * a[k];
    }
    for (i = 0; i < N; i++) {
        const FM_T *FM_RESTRICT xr = jb->x + i * C + j0;
        FM_T *FM_RESTRICT yr = jb->y + i * C + j0;
        for (k = 0; k < w; k++) yr[k] = xr[k] * a[k] + c[k];
        if (jb->act != FM_ACT_IDENTITY) FM_FN(fm_act_span)(yr, w, jb->act, jb->slope);
    }
}

/* Batch norm backward on the columns [j0, j1).  Differentiates
 *   y = act(u),  u = gamma * xhat + beta,  xhat = (x - mean(x)) * rstd(x)
 * with g = dy * act'(y) = dL/du (fm_norm_grad):
 * pass 1: dbeta = sum_i g, dgamma = sum_i g * xhat   (= or +=)
 * pass 2: dx = gamma * rstd * (g - dbeta/N - xhat * dgamma/N)  (this batch's sums) */
static void FM_FN(fm_bn_bwd_cols)(const FM_FN(fm_norm_job) *jb, ptrdiff_t j0, ptrdiff_t j1)
{
    const ptrdiff_t N = jb->N, C = jb->C, w = j1 - j0;
    double sd[FM_NORM_COLS], sx[FM_NORM_COLS];
    FM_T m[FM_NORM_COLS], r[FM_NORM_COLS], gr[FM_NORM_COLS], u[FM_NORM_COLS], v[FM_NORM_COLS];
    ptrdiff_t i, k;
    for (k = 0; k < w; k++) {
        sd[k] = sx[k] = 0;
        m[k] = jb->cmean[j0 + k];
        r[k] = jb->crstd[j0 + k];
    }
    for (i = 0; i < N; i++) {
        const FM_T *FM_RESTRICT xr = jb->x + i * C + j0;
        const FM_T *FM_RESTRICT g = FM_FN(fm_norm_grad)(jb, i * C + j0);
        for (k = 0; k < w; k++) {
            sd[k] += (double)g[k];
            sx[k] += (double)g[k] * (double)((xr[k] - m[k]) * r[k]);
        }
    }
    for (k = 0; k < w; k++) {
        const ptrdiff_t j = j0 + k;
        jb->dbeta[j] = (FM_T)(jb->acc ? (double)jb->dbeta[j] + sd[k] : sd[k]);
        jb->dgamma[j] = (FM_T)(jb->acc ? (double)jb->dgamma[j] + sx[k] : sx[k]);
        gr[k] = jb->gamma[j] * r[k];
        u[k] = (FM_T)(sd[k] / (double)N);
        v[k] = (FM_T)(sx[k] / (double)N);
    }
    for (i = 0; i < N; i++) {
        const FM_T *xr = jb->x + i * C + j0;
        const FM_T *g = FM_FN(fm_norm_grad)(jb, i * C + j0);
        FM_T *dxr = jb->y + i * C + j0; /* may be g or dy: each element read, then written */
        for (k = 0; k < w; k++)
            dxr[k] = gr[k] * (g[k] - u[k] - (xr[k] - m[k]) * r[k] * v[k]);
    }
}

/* Layer norm forward of the rows [i0, i1). */
static void FM_FN(fm_ln_fwd_rows)(const FM_FN(fm_norm_job) *jb, ptrdiff_t i0, ptrdiff_t i1)
{
    const ptrdiff_t C = jb->C;
    const FM_T *FM_RESTRICT ga = jb->gamma, *FM_RESTRICT be = jb->beta;
    ptrdiff_t i, j;
    for (i = i0; i < i1; i++) {
        const FM_T *FM_RESTRICT xr = jb->x + i * C;
        FM_T *FM_RESTRICT yr = jb->y + i * C;
        double s = 0, q = 0;
        FM_T m, r;
        FM_SIMD_SUM(s)
        for (j = 0; j < C; j++) s += (double)xr[j];
        s /= (double)C;
        FM_SIMD_SUM(q)
        for (j = 0; j < C; j++) q += ((double)xr[j] - s) * ((double)xr[j] - s);
        m = (FM_T)s;
        r = (FM_T)(1.0 / sqrt(q / (double)C + jb->eps));
        jb->mean[i] = m;
        jb->rstd[i] = r;
        for (j = 0; j < C; j++) yr[j] = (xr[j] - m) * r * ga[j] + be[j];
        if (jb->act != FM_ACT_IDENTITY) FM_FN(fm_act_span)(yr, C, jb->act, jb->slope);
    }
}

/* Layer norm backward, part 1, on the columns [j0, j1), g = dy * act'(y)
 * (fm_norm_grad): dbeta = sum_i g, dgamma = sum_i g * xhat   (= or +=). */
static void FM_FN(fm_ln_bwd_cols)(const FM_FN(fm_norm_job) *jb, ptrdiff_t j0, ptrdiff_t j1)
{
    const ptrdiff_t N = jb->N, C = jb->C, w = j1 - j0;
    double sd[FM_NORM_COLS], sx[FM_NORM_COLS];
    ptrdiff_t i, k;
    for (k = 0; k < w; k++) sd[k] = sx[k] = 0;
    for (i = 0; i < N; i++) {
        const FM_T *FM_RESTRICT xr = jb->x + i * C + j0;
        const FM_T *FM_RESTRICT g = FM_FN(fm_norm_grad)(jb, i * C + j0);
        const FM_T m = jb->cmean[i], r = jb->crstd[i];
        for (k = 0; k < w; k++) {
            sd[k] += (double)g[k];
            sx[k] += (double)g[k] * (double)((xr[k] - m) * r);
        }
    }
    for (k = 0; k < w; k++) {
        const ptrdiff_t j = j0 + k;
        jb->dbeta[j] = (FM_T)(jb->acc ? (double)jb->dbeta[j] + sd[k] : sd[k]);
        jb->dgamma[j] = (FM_T)(jb->acc ? (double)jb->dgamma[j] + sx[k] : sx[k]);
    }
}

/* Layer norm backward, part 2, the rows [i0, i1).  With h = g * gamma:
 *   dx = rstd * (h - mean_j(h) - xhat * mean_j(h * xhat))   (dx may alias dy),
 * g = dy * act'(y) as part 1 left it (fm_norm_grad). */
static void FM_FN(fm_ln_bwd_rows)(const FM_FN(fm_norm_job) *jb, ptrdiff_t i0, ptrdiff_t i1)
{
    const ptrdiff_t C = jb->C;
    const FM_T *ga = jb->gamma;
    ptrdiff_t i, j;
    for (i = i0; i < i1; i++) {
        const FM_T *xr = jb->x + i * C;
        const FM_T *g = FM_FN(fm_norm_grad)(jb, i * C);
        FM_T *dxr = jb->y + i * C; /* may be g or dy: each element read, then written */
        const FM_T m = jb->cmean[i], r = jb->crstd[i];
        double s1 = 0, s2 = 0;
        FM_T u, v;
        FM_SIMD_SUM(s1)
        for (j = 0; j < C; j++) s1 += (double)(g[j] * ga[j]);
        FM_SIMD_SUM(s2)
        for (j = 0; j < C; j++) s2 += (double)(g[j] * ga[j]) * (double)((xr[j] - m) * r);
        u = (FM_T)(s1 / (double)C);
        v = (FM_T)(s2 / (double)C);
        for (j = 0; j < C; j++) dxr[j] = r * (g[j] * ga[j] - u - (xr[j] - m) * r * v);
    }
}

/* Part t of nt: a run of column blocks, or of rows. */
static void FM_FN(fm_norm_task)(void *arg, int t, int nt)
{
    const FM_FN(fm_norm_job) *jb = (const FM_FN(fm_norm_job) *)arg;
    const ptrdiff_t nb = (jb->C + FM_NORM_COLS - 1) / FM_NORM_COLS;
    ptrdiff_t b, b0 = nb * t / nt, b1 = nb * (t + 1) / nt;
    if (jb->op == FM_NORM_OP_LN_FWD || jb->op == FM_NORM_OP_LN_BWD_ROWS ||
        jb->op == FM_NORM_OP_DACT) {
        const ptrdiff_t i0 = jb->N * t / nt, i1 = jb->N * (t + 1) / nt;
        if (jb->op == FM_NORM_OP_LN_FWD) FM_FN(fm_ln_fwd_rows)(jb, i0, i1);
        else if (jb->op == FM_NORM_OP_DACT) FM_FN(fm_norm_dact_rows)(jb, i0, i1);
        else FM_FN(fm_ln_bwd_rows)(jb, i0, i1);
        return;
    }
    for (b = b0; b < b1; b++) {
        const ptrdiff_t j0 = b * FM_NORM_COLS, j1 = FM_MIN(jb->C, j0 + FM_NORM_COLS);
        switch (jb->op) {
        case FM_NORM_OP_BN_FWD: FM_FN(fm_bn_fwd_cols)(jb, j0, j1); break;
        case FM_NORM_OP_BN_INFER: FM_FN(fm_bn_infer_cols)(jb, j0, j1); break;
        case FM_NORM_OP_BN_BWD: FM_FN(fm_bn_bwd_cols)(jb, j0, j1); break;
        default: FM_FN(fm_ln_bwd_cols)(jb, j0, j1); break;
        }
    }
}

/* Run op on nt threads: column ops on at most one thread per column block. */
static void FM_FN(fm_norm_run)(FM_FN(fm_norm_job) *jb, int op, int n_threads)
{
    const ptrdiff_t nb = (jb->C + FM_NORM_COLS - 1) / FM_NORM_COLS;
    const int by_rows = op == FM_NORM_OP_LN_FWD || op == FM_NORM_OP_LN_BWD_ROWS ||
                        op == FM_NORM_OP_DACT;
    int nt = fm_par_threads(jb->N * jb->C * FM_NORM_WORK, 0, n_threads);
    nt = (int)FM_MAX(1, FM_MIN((ptrdiff_t)nt, by_rows ? jb->N : nb));
    jb->op = op;
    fm_par_run(nt, FM_FN(fm_norm_task), jb);
}

void FM_FN(fm_batchnorm_forward)(FM_T *y, FM_T *mean, FM_T *rstd, FM_T *run_mean, FM_T *run_var,
                                 const FM_T *x, const FM_T *gamma, const FM_T *beta, double eps,
                                 double momentum, int act, double slope, ptrdiff_t N, ptrdiff_t C,
                                 int n_threads)
{
    FM_FN(fm_norm_job) jb;
    memset(&jb, 0, sizeof jb);
    jb.y = y; jb.mean = mean; jb.rstd = rstd; jb.run_mean = run_mean; jb.run_var = run_var;
    jb.x = x; jb.gamma = gamma; jb.beta = beta; jb.eps = eps; jb.momentum = momentum;
    jb.act = act; jb.slope = (FM_T)slope; jb.N = N; jb.C = C;
    FM_FN(fm_norm_run)(&jb, FM_NORM_OP_BN_FWD, n_threads);
}

void FM_FN(fm_batchnorm_infer)(FM_T *y, const FM_T *x, const FM_T *gamma, const FM_T *beta,
                               const FM_T *run_mean, const FM_T *run_var, double eps, int act,
                               double slope, ptrdiff_t N, ptrdiff_t C, int n_threads)
{
    FM_FN(fm_norm_job) jb;
    memset(&jb, 0, sizeof jb);
    jb.y = y; jb.x = x; jb.gamma = gamma; jb.beta = beta;
    jb.cmean = run_mean; jb.cvar = run_var; jb.eps = eps; jb.act = act; jb.slope = (FM_T)slope;
    jb.N = N; jb.C = C;
    FM_FN(fm_norm_run)(&jb, FM_NORM_OP_BN_INFER, n_threads);
}

void FM_FN(fm_batchnorm_backward)(FM_T *dx, FM_T *dgamma, FM_T *dbeta, const FM_T *dy,
                                  const FM_T *y, const FM_T *x, const FM_T *mean,
                                  const FM_T *rstd, const FM_T *gamma, int act, double slope,
                                  ptrdiff_t N, ptrdiff_t C, int acc, int n_threads)
{
    FM_FN(fm_norm_job) jb;
    memset(&jb, 0, sizeof jb);
    jb.y = dx; jb.dgamma = dgamma; jb.dbeta = dbeta; jb.dy = dy; jb.ya = y; jb.x = x;
    jb.cmean = mean; jb.crstd = rstd; jb.gamma = gamma; jb.act = act; jb.slope = (FM_T)slope;
    jb.N = N; jb.C = C; jb.acc = acc;
    if (act != FM_ACT_IDENTITY) FM_FN(fm_norm_run)(&jb, FM_NORM_OP_DACT, n_threads);
    FM_FN(fm_norm_run)(&jb, FM_NORM_OP_BN_BWD, n_threads);
}

void FM_FN(fm_layernorm_forward)(FM_T *y, FM_T *mean, FM_T *rstd, const FM_T *x,
                                 const FM_T *gamma, const FM_T *beta, double eps, int act,
                                 double slope, ptrdiff_t N, ptrdiff_t C, int n_threads)
{
    FM_FN(fm_norm_job) jb;
    memset(&jb, 0, sizeof jb);
    jb.y = y; jb.mean = mean; jb.rstd = rstd; jb.x = x; jb.gamma = gamma; jb.beta = beta;
    jb.eps = eps; jb.act = act; jb.slope = (FM_T)slope; jb.N = N; jb.C = C;
    FM_FN(fm_norm_run)(&jb, FM_NORM_OP_LN_FWD, n_threads);
}

void FM_FN(fm_layernorm_backward)(FM_T *dx, FM_T *dgamma, FM_T *dbeta, const FM_T *dy,
                                  const FM_T *y, const FM_T *x, const FM_T *mean,
                                  const FM_T *rstd, const FM_T *gamma, int act, double slope,
                                  ptrdiff_t N, ptrdiff_t C, int acc, int n_threads)
{
    FM_FN(fm_norm_job) jb;
    memset(&jb, 0, sizeof jb);
    jb.y = dx; jb.dgamma = dgamma; jb.dbeta = dbeta; jb.dy = dy; jb.ya = y; jb.x = x;
    jb.cmean = mean; jb.crstd = rstd; jb.gamma = gamma; jb.act = act; jb.slope = (FM_T)slope;
    jb.N = N; jb.C = C; jb.acc = acc;
    if (act != FM_ACT_IDENTITY) FM_FN(fm_norm_run)(&jb, FM_NORM_OP_DACT, n_threads);
    FM_FN(fm_norm_run)(&jb, FM_NORM_OP_LN_BWD_COLS, n_threads); /* reads g before ... */
    FM_FN(fm_norm_run)(&jb, FM_NORM_OP_LN_BWD_ROWS, n_threads); /* ... dx overwrites it */
}
