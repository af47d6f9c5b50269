/*
 * sgd_linear_impl.h -- one epoch of scikit-learn's _plain_sgd for the
 * Perceptron (included per dtype by sgd_linear.c).
 *
 * Follows sklearn/linear_model/_sgd_fast.pyx.tp (1.9.1) operation by
 * operation, including its mixed float/double arithmetic, so float64 and
 * float32 runs reproduce scikit-learn's weights:
 *   p = wscale * sum_j w_j x_j + b          (dot in FM_T products, double sum)
 *   loss = max(0, -y p)  (z = y p <= 0 is a mistake, the boundary included)
 *   update = eta * y * class_weight * sample_weight   when y p <= 0, else 0
 *   L2/elastic-net: w *= max(0, 1 - (1 - l1_ratio) eta alpha) via wscale
 *   w += update * x;  b += update * intercept_decay
 *   L1/elastic-net: truncated cumulative penalty (u, q) on the row's features
 * The weight vector is represented as wscale * w (scikit-learn's
 * WeightVector; wscale and the norms are doubles there, as here), folded back into w when wscale drops below FM_WSCALE_MIN
 * and by the caller after the last epoch.
 *
 * Rows: dense x (n, d) row-major when ind == NULL, else CSR (ptr, ind).
 */

/* sum_j w_j x_j for one row, one sequential double sum of FM_T products
 * (WeightVector.dot before its wscale factor, which fm_sgd_step applies) */
FM_INLINE double FM_FN(fm_wdot)(const FM_T *w, const FM_T *xv, const int32_t *xi, ptrdiff_t nnz)
{
    double ip = 0.0;
    ptrdiff_t j;
    if (xi)
        for (j = 0; j < nnz; j++) ip += (double)(FM_T)(w[xi[j]] * xv[j]);
    else
        for (j = 0; j < nnz; j++) ip += (double)(FM_T)(w[j] * xv[j]);
    return ip;
}

/* w += c * x (WeightVector.add); returns the new squared norm and L1 norm
 * over the row's features, as scikit-learn recomputes them.  The scale
 * (double in WeightVector) is rounded to FM_T here, as in scikit-learn. */
static void FM_FN(fm_wadd)(FM_T *w, const FM_T *xv, const int32_t *xi, ptrdiff_t nnz, FM_T c,
                           double wscale_d, double *sq_norm, double *l1_norm)
{
    double l2 = 0.0, l1 = 0.0;
    const FM_T wscale = (FM_T)wscale_d, step = c / wscale;
    ptrdiff_t j;
    if (!sq_norm) { /* norms unused (no penalty): a plain, vectorisable axpy */
        if (xi)
            for (j = 0; j < nnz; j++)
                w[xi[j]] = (FM_T)((double)w[xi[j]] + (double)xv[j] * (double)step);
        else
            for (j = 0; j < nnz; j++) w[j] = (FM_T)((double)w[j] + (double)xv[j] * (double)step);
        return;
    }
    for (j = 0; j < nnz; j++) {
        ptrdiff_t k = xi ? xi[j] : j;
        w[k] = (FM_T)((double)w[k] + (double)xv[j] * (double)step);
        l2 += (double)(FM_T)(w[k] * w[k]);
        l1 += fabs((double)w[k]);
    }
    *sq_norm = l2 * (double)(FM_T)(wscale * wscale);
    *l1_norm = l1 * (double)wscale;
}

/* fm_wadd for a packed dense row: x is a dense row given by its entries
 * other than +0.0 (xv at increasing columns xi), and scikit-learn's dense
 * add touches every column: w_k + 0 * step on a +0.0 column changes nothing
 * except -0.0 -> +0.0 (when 0 * step is +0.0) and anything -> NaN (when
 * step is not finite), and the norms run over all d columns.  *negzero
 * says whether w may hold a -0.0; the full pass over the columns is made
 * only when it can change something or the norms are needed. */
static void FM_FN(fm_wadd_packed)(FM_T *w, const FM_T *xv, const int32_t *xi, ptrdiff_t nnz,
                                  FM_T c, double wscale_d, double *sq_norm, double *l1_norm,
                                  ptrdiff_t d, int *negzero)
{
    const FM_T wscale = (FM_T)wscale_d, step = c / wscale;
    const double zstep = 0.0 * (double)step; /* what a +0.0 column adds */
    double l2 = 0.0, l1 = 0.0;
    ptrdiff_t j, k = 0;
    int nz = 0;
    if (!sq_norm && zstep == 0.0 && (signbit(zstep) || !*negzero)) { /* the gaps stay as they are */
        for (j = 0; j < nnz; j++) {
            const ptrdiff_t col = xi[j];
            w[col] = (FM_T)((double)w[col] + (double)xv[j] * (double)step);
            nz |= w[col] == 0 && signbit(w[col]);
        }
        *negzero |= nz;
        return;
    }
    for (j = 0; j <= nnz; j++) { /* every column in order, as the dense loop */
        const ptrdiff_t end = j < nnz ? (ptrdiff_t)xi[j] : d;
        for (; k <= end && k < d; k++) {
            const double add = k == end ? (double)xv[j] * (double)step : zstep;
            w[k] = (FM_T)((double)w[k] + add);
            nz |= w[k] == 0 && signbit(w[k]);
            l2 += (double)(FM_T)(w[k] * w[k]);
            l1 += fabs((double)w[k]);
        }
    }
    *negzero = nz;
    if (sq_norm) {
        *sq_norm = l2 * (double)(FM_T)(wscale * wscale);
        *l1_norm = l1 * (double)wscale;
    }
}

/* truncated-gradient L1 step on the row's features (scikit-learn l1penalty) */
static void FM_FN(fm_l1penalty)(FM_T *w, FM_T *q, const int32_t *xi, ptrdiff_t nnz,
                                double wscale, double u)
{
    ptrdiff_t j;
    for (j = 0; j < nnz; j++) {
        ptrdiff_t k = xi ? xi[j] : j;
        double z = (double)w[k];
        if (wscale * z > 0.0) {
            double v = (double)w[k] - (u + (double)q[k]) / wscale;
            w[k] = (FM_T)(v > 0.0 ? v : 0.0);
        } else if (wscale * z < 0.0) {
            double v = (double)w[k] + (u - (double)q[k]) / wscale;
            w[k] = (FM_T)(v < 0.0 ? v : 0.0);
        }
        q[k] = (FM_T)((double)q[k] + wscale * ((double)w[k] - z));
    }
}

/* One training step on a row whose raw dot product ip = sum_j w_j x_j
 * (before the wscale factor) is known: the loss, the update and the
 * penalties, on the state *s (sumloss and objective accumulate).  Returns
 * nonzero when the array w was written (an update, a wscale reset or an L1
 * step): a dot product of w computed before this step is stale after it.
 * negzero != NULL: the row is a packed dense row (fm_wadd_packed; no L1). */
FM_INLINE int FM_FN(fm_sgd_step)(FM_T *w, FM_T *q, fm_sgd_state *s, double ip, const FM_T *xv,
                                 const int32_t *xi, ptrdiff_t nnz, double yi, FM_T swi,
                                 const fm_sgd_cfg *cfg, ptrdiff_t d, int *negzero)
{
    const double eta = cfg->eta, alpha = cfg->alpha;
    const int pen = cfg->penalty;
    const double l1_ratio = pen == FM_PENALTY_L2 ? 0.0 : (pen == FM_PENALTY_L1 ? 1.0 : cfg->l1_ratio);
    const double p = (double)(FM_T)(ip * s->wscale) + s->intercept; /* WeightVector.dot + b */
    double update;
    FM_T class_weight;
    int wrote = 0;
    if (cfg->compute_loss) {
        double loss = p * yi <= 0.0 ? 0.0 - p * yi : 0.0;
        s->sumloss += loss;
        s->objective += loss;
        if (pen > 0) {
            double nrm = (double)(FM_T)sqrt((double)s->sq_norm);
            s->objective += alpha * ((1.0 - l1_ratio) * 0.5 * nrm * nrm
                                     + l1_ratio * (double)s->l1_norm);
        }
    }
    class_weight = yi > 0.0 ? (FM_T)cfg->weight_pos : (FM_T)cfg->weight_neg;
    update = p * yi <= 0.0 ? eta * yi : 0.0; /* -eta * dloss, dloss = -y */
    update *= (double)(FM_T)(class_weight * swi);
    if (pen >= FM_PENALTY_L2) {
        double f = 1.0 - (1.0 - l1_ratio) * eta * alpha;
        FM_T c = (FM_T)(f > 0.0 ? f : 0.0);
        s->wscale *= (double)c;
        s->sq_norm *= (double)(FM_T)(c * c);
        s->l1_norm *= fabs((double)c);
        if (s->wscale < FM_WSCALE_MIN) { /* reset_wscale: BLAS scal with an FM_T alpha */
            const FM_T a = (FM_T)s->wscale;
            ptrdiff_t k;
            for (k = 0; k < d; k++) w[k] = w[k] * a;
            s->wscale = 1.0;
            wrote = 1;
            if (negzero) *negzero = 1; /* (a product may underflow to -0.0) */
        }
    }
    if (update != 0.0) { /* the norms only enter the objective's penalty term */
        if (negzero)
            FM_FN(fm_wadd_packed)(w, xv, xi, nnz, (FM_T)update, s->wscale,
                                  pen > 0 ? &s->sq_norm : NULL, &s->l1_norm, d, negzero);
        else
            FM_FN(fm_wadd)(w, xv, xi, nnz, (FM_T)update, s->wscale,
                           pen > 0 ? &s->sq_norm : NULL, &s->l1_norm);
        wrote = 1;
    }
    if (cfg->fit_intercept && update != 0.0) s->intercept += update * cfg->intercept_decay;
    if (pen == FM_PENALTY_L1 || pen == FM_PENALTY_ELASTICNET) {
        s->u += l1_ratio * eta * alpha;
        FM_FN(fm_l1penalty)(w, q, xi, nnz, s->wscale, s->u);
        wrote = 1;
    }
    return wrote;
}

/* The per-class kernel: rows one after another, each dot product one
 * sequential sum (the order scikit-learn sums in).  The interleaved kernel
 * (sgd_lanes_impl.h) must give bit-identical results; this one is its
 * reference and serves verbose fits. */
ptrdiff_t FM_FN(fm_sgd_perceptron_epoch)(FM_T *w, FM_T *q, fm_sgd_state *st, const FM_T *x,
                                         const int64_t *ptr, const int32_t *ind, const FM_T *y,
                                         const FM_T *sw, const int64_t *order,
                                         const uint8_t *skip, const fm_sgd_cfg *cfg,
                                         ptrdiff_t n, ptrdiff_t d)
{
    fm_sgd_state s = *st;
    ptrdiff_t r, seen = 0;
    s.sumloss = 0.0;
    s.objective = 0.0;
    for (r = 0; r < n; r++) {
        const ptrdiff_t i = (ptrdiff_t)order[r];
        const FM_T *xv;
        const int32_t *xi = NULL;
        ptrdiff_t nnz;
        if (skip && skip[i]) continue; /* validation row */
        if (ind) {
            xv = x + ptr[i];
            xi = ind + ptr[i];
            nnz = (ptrdiff_t)(ptr[i + 1] - ptr[i]);
        } else {
            xv = x + i * d;
            nnz = d;
        }
        FM_FN(fm_sgd_step)(w, q, &s, FM_FN(fm_wdot)(w, xv, xi, nnz), xv, xi, nnz, (double)y[i],
                           sw ? sw[i] : (FM_T)1, cfg, d, NULL);
        seen++;
    }
    *st = s;
    return seen;
}
