/*
 * batch_impl.h -- a training call's data and what is done per batch around
 * the step: gathering the rows, prefetching the next shuffled ones, the
 * loss scale and the metrics.  Included per dtype by train/train.c.
 */

typedef struct {
    const FM_T *x, *y, *sw;   /* x (n_total, s0), y (n_total, K), sw (n_total) or NULL */
    const int64_t *order;     /* the rows' order, or NULL for 0..n_total-1 */
    ptrdiff_t n_total, batch, s0, K;
    ptrdiff_t next;           /* first position of the next batch (prefetch) */
    const fm_csr *xs;         /* CSR input rows (x is then NULL), or NULL */
} FM_FN(fm_data);

/* Copy the batch's rows at positions [lo, lo+rows) into ws (in `order`, or
 * in place when in order and copy_x is 0); set ws->x0 to its inputs. */
static void FM_FN(fm_gather)(FM_FN(fm_ws) *ws, const FM_FN(fm_data) *dt, ptrdiff_t lo,
                             ptrdiff_t rows, int copy_x)
{
    const ptrdiff_t s0 = dt->s0, K = dt->K;
    ptrdiff_t r, j;
    if (dt->xs) { /* CSR rows are read in place by layer 0: only targets and weights move */
        for (r = 0; r < rows; r++) {
            const ptrdiff_t src = dt->order ? (ptrdiff_t)dt->order[lo + r] : lo + r;
            for (j = 0; j < K; j++) ws->yb[r * K + j] = dt->y[src * K + j];
            if (dt->sw) ws->swb[r] = dt->sw[src];
        }
        ws->x0 = NULL;
        ws->xs = dt->xs;
        ws->xs_sel = dt->order;
        ws->xs_lo = lo;
        (void)copy_x; /* no input noise on CSR input (fastmlp.h) */
        return;
    }
    if (dt->order) {
        for (r = 0; r < rows; r++) {
            const ptrdiff_t src = (ptrdiff_t)dt->order[lo + r];
#if defined(__GNUC__) || defined(__clang__)
            /* shuffled rows are too far apart for the hardware prefetcher:
             * fetch the row after next while copying */
            if (r + 2 < rows) {
                const FM_T *nx = dt->x + (ptrdiff_t)dt->order[lo + r + 2] * s0;
                for (j = 0; j < s0; j += (ptrdiff_t)(64 / sizeof(FM_T))) __builtin_prefetch(nx + j);
            }
#endif
            for (j = 0; j < s0; j++) ws->a[0][r * s0 + j] = dt->x[src * s0 + j];
            for (j = 0; j < K; j++) ws->yb[r * K + j] = dt->y[src * K + j];
            if (dt->sw) ws->swb[r] = dt->sw[src];
        }
        ws->x0 = ws->a[0];
        return;
    }
    for (r = 0; r < rows * K; r++) ws->yb[r] = dt->y[lo * K + r];
    if (dt->sw)
        for (r = 0; r < rows; r++) ws->swb[r] = dt->sw[lo + r];
    ws->x0 = dt->x + lo * s0;
    if (!copy_x) return;
    for (r = 0; r < rows * s0; r++) ws->a[0][r] = dt->x[lo * s0 + r];
    ws->x0 = ws->a[0];
}

/* Largest batch of inputs read in place that fm_train streams into cache
 * (its finite check) ahead of the GEMMs when no check is asked for. */
#ifndef FM_TOUCH_MAX_BYTES
#define FM_TOUCH_MAX_BYTES ((ptrdiff_t)256 << 10)
#endif

/* Prefetch slice `part` of `parts` of the next shuffled batch's rows
 * (inputs, targets, weights) into L2 while this one computes: issuing them
 * stalls once the miss buffers are full, so they come in two slices,
 * before the forward and before the backward.  Rows in order need none.
 * Always inlined: gcc finds an out-of-line copy pure and deletes the calls. */
FM_INLINE void FM_FN(fm_data_prefetch)(const FM_FN(fm_data) *dt, int part, int parts)
{
#if defined(__GNUC__) || defined(__clang__)
    const ptrdiff_t line = 64 / (ptrdiff_t)sizeof(FM_T), s0 = dt->s0, K = dt->K;
    ptrdiff_t rows, r, j;
    if (!dt->order || dt->next >= dt->n_total) return;
    rows = FM_MIN(dt->batch, dt->n_total - dt->next);
    for (r = rows * part / parts; r < rows * (part + 1) / parts; r++) {
        const ptrdiff_t src = (ptrdiff_t)dt->order[dt->next + r];
        const FM_T *yr = dt->y + src * K;
        if (!dt->xs) { /* CSR rows are small and read once: not worth it */
            const FM_T *xr = dt->x + src * s0;
            for (j = 0; j < s0; j += line) __builtin_prefetch(xr + j, 0, 2);
            __builtin_prefetch(xr + s0 - 1, 0, 2);
        }
        __builtin_prefetch(yr, 0, 2);
        __builtin_prefetch(yr + K - 1, 0, 2);
        if (dt->sw) __builtin_prefetch(dt->sw + src, 0, 2);
    }
#else
    (void)dt; (void)part; (void)parts;
#endif
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

/* One batch's statistics (fm_train's stats): loss, metric, rows, penalty. */
static void FM_FN(fm_batch_stats)(double *stats, const FM_FN(fm_ws) *ws, const fm_train_cfg *cfg,
                                  ptrdiff_t rows, ptrdiff_t K, double loss, double penalty)
{
    const FM_T *p = ws->a[ws->L];
    stats[0] += loss * (double)rows;
    if (cfg->metric == 1 || cfg->metric == 2)
        stats[1] += (double)FM_FN(fm_count_correct)(p, ws->yb, rows, K, cfg->metric);
    else if (cfg->metric == 3)
        FM_FN(fm_reg_stats)(stats, p, ws->yb, rows, K);
    stats[2] += (double)rows;
    stats[3] += penalty * (double)rows;
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
