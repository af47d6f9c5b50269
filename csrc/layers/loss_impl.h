/*
 * loss_impl.h -- losses with their output deltas (included per dtype by
 * loss.c).  z (N,K) is the output layer's pre-activation; p receives
 * act(z); dz receives dL/dz.  p may alias z (in place); dz must not.
 *
 * Element losses l and dl/dz, with s_i = scale * sw_i:
 *   MSE  l = (p-y)^2                      dz = s_i * 2(p-y) * act'(p)
 *   MAE  l = |p-y|                        dz = s_i * sign(p-y) * act'(p)
 *        (act'(z) for the activations that need z: it is taken before p
 *        overwrites z)
 *   BCE  l = max(z,0) - z*y + log1p(exp(-|z|))   (= -(y log p + (1-y) log(1-p))
 *        with p = sigmoid(z), but evaluated from z: finite for any logit)
 *                                         dz = s_i * (p - y)
 *   CCE  l = sum_j y_j (lse(z) - z_j),  p = softmax(z)
 *                                         dz_j = s_i * (p_j sum_k y_k - y_j)
 *   POISSON  l = y log(y/p) - y + p,  p = exp(z)   (half Poisson deviance with
 *        its constant term, as scikit-learn's MLPRegressor(loss='poisson');
 *        y log(y/p) = y (log y - z), taken as 0 when y == 0; needs y >= 0)
 *                                         dz = s_i * (p - y)
 *   HUBER  l = r^2/2 if |r| < delta, else delta (|r| - delta/2),  r = p - y
 *        (torch.nn.HuberLoss's element)   dz = s_i * clamp(r, -delta, delta) * act'(p)
 *   QUANTILE  l = max(q_j (y-p), (q_j - 1)(y-p)), the pinball loss of level q_j
 *        of output j                      dz = s_i * g * act'(p), g = 1 - q_j where
 *        p > y, -q_j where p < y, and 1/2 - q_j (the middle of the subgradients) at p == y
 * BCE, CCE and POISSON use the canonical-link shortcut dz = p - y (CCE: for targets
 * summing to 1) -- that is why they require sigmoid / softmax / exp outputs;
 * POISSON ignores out_act and always applies exp.
 */

/* The elementwise regression losses' l and dl/dp of r = p - y at output j
 * (MSE, MAE, HUBER, QUANTILE). */
FM_INLINE double FM_FN(fm_reg_elem)(FM_T *dl, FM_T r, int loss, const fm_loss_par *par,
                                    ptrdiff_t j)
{
    const FM_T ar = FM_FABS(r);
    switch (loss) {
    case FM_LOSS_MSE:
        *dl = 2 * r;
        return (double)(r * r);
    case FM_LOSS_HUBER: {
        const FM_T d = par ? (FM_T)par->delta : (FM_T)1;
        if (ar < d) {
            *dl = r;
            return 0.5 * (double)r * (double)r;
        }
        *dl = r > 0 ? d : -d;
        return (double)d * ((double)ar - 0.5 * (double)d);
    }
    case FM_LOSS_QUANTILE: {
        const FM_T q = par && par->quantiles ? (FM_T)par->quantiles[j] : (FM_T)0.5;
        *dl = r > 0 ? 1 - q : (r < 0 ? -q : (FM_T)0.5 - q);
        return r > 0 ? (double)(1 - q) * (double)r : -(double)q * (double)r;
    }
    default: /* MAE */
        *dl = (FM_T)(r > 0 ? 1 : (r < 0 ? -1 : 0));
        return (double)ar;
    }
}

static double FM_FN(fm_loss_row)(FM_T *FM_RESTRICT dz, FM_T *p, const FM_T *z,
                                 const FM_T *FM_RESTRICT y, int loss, int out_act,
                                 FM_T slope, const fm_loss_par *par, ptrdiff_t K, FM_T s)
{
    double l = 0;
    ptrdiff_t j;
    if (loss == FM_LOSS_BCE) {
        for (j = 0; j < K; j++) {
            FM_T zz = z[j], pj = FM_FN(fm_sigmoid)(zz);
            if (zz - zz != 0 && zz == zz) /* +-inf: the limit, y-weighted (0 * inf is 0) */
                l += (double)((zz > 0 ? (FM_T)1 - y[j] : y[j]) != 0 ? FM_FABS(zz) : (FM_T)0);
            else
                l += (double)(FM_MAX(zz, (FM_T)0) - zz * y[j] + FM_LOG1P(FM_EXP(-FM_FABS(zz))));
            p[j] = pj;
            if (dz) dz[j] = s * (pj - y[j]);
        }
    } else if (loss == FM_LOSS_POISSON) {
        for (j = 0; j < K; j++) {
            FM_T zz = z[j], pj = FM_EXP(zz);
            double lj = (double)pj - (double)y[j];
            if (y[j] != 0) lj += (double)y[j] * ((double)FM_LOG(y[j]) - (double)zz);
            l += lj;
            p[j] = pj;
            if (dz) dz[j] = s * (pj - y[j]);
        }
    } else if (loss == FM_LOSS_CCE) {
        /* one exp per element: p_j = exp(z_j - m) / se (p may alias z, so
         * lse is taken before p is written) */
        FM_T m = z[0], se = 0, lse, ysum = 0, inv;
        for (j = 1; j < K; j++) m = z[j] > m ? z[j] : m;
        if (!(m - m == 0)) { /* +-inf or NaN logits: softmax's limit; the loss is
                              * log(#max) on the max entries, +inf off them */
            double cnt = 0;
            for (j = 0; j < K; j++) cnt += z[j] == m;
            for (j = 0; j < K; j++) {
                if (y[j] != 0) l += z[j] == m ? (double)y[j] * log(cnt) : (double)y[j] * HUGE_VAL;
                ysum += y[j];
                if (p != z) p[j] = z[j];
            }
            if (m != m) l = NAN;
            FM_FN(fm_softmax_row_inf)(p, K, m);
            if (dz)
                for (j = 0; j < K; j++) dz[j] = s * (p[j] * ysum - y[j]);
            return l;
        }
        for (j = 0; j < K; j++) {
            /* in double: z_j - m of huge finite float logits overflows float */
            if (y[j] != 0) l -= (double)y[j] * ((double)z[j] - (double)m);
            ysum += y[j];
            p[j] = FM_EXP(z[j] - m);
            se += p[j];
        }
        lse = FM_LOG(se);
        l += (double)(ysum * lse);
        inv = 1 / se;
        for (j = 0; j < K; j++) p[j] *= inv;
        if (dz)
            for (j = 0; j < K; j++) dz[j] = s * (p[j] * ysum - y[j]);
    } else {
        const int zd = dz && fm_act_z(out_act); /* dz first holds act'(z) */
        if (zd) {
            for (j = 0; j < K; j++) dz[j] = 1;
            FM_FN(fm_dact_z_span)(dz, z, K, out_act, slope);
        }
        if (p != z)
            for (j = 0; j < K; j++) p[j] = z[j];
        if (out_act == FM_ACT_SOFTMAX) FM_FN(fm_softmax_row)(p, K);
        else FM_FN(fm_act_span)(p, K, out_act, slope);
        for (j = 0; j < K; j++) {
            FM_T dl;
            l += FM_FN(fm_reg_elem)(&dl, p[j] - y[j], loss, par, j);
            if (dz) dz[j] = (zd ? dz[j] : (FM_T)1) * (s * dl);
        }
        if (dz && out_act == FM_ACT_SOFTMAX) {
            /* softmax Jacobian: dz_j = p_j (g_j - sum_k g_k p_k) */
            FM_T dot = 0;
            for (j = 0; j < K; j++) dot += dz[j] * p[j];
            for (j = 0; j < K; j++) dz[j] = p[j] * (dz[j] - dot);
        } else if (dz && !zd) {
            FM_FN(fm_dact_span)(dz, p, K, out_act, slope);
        }
    }
    return l;
}

double FM_FN(fm_loss_p)(FM_T *dz, FM_T *p, const FM_T *z, const FM_T *y, const FM_T *sw,
                        int loss, int out_act, double slope, const fm_loss_par *par, ptrdiff_t N,
                        ptrdiff_t K, double scale)
{
    double total = 0;
    ptrdiff_t i;
    for (i = 0; i < N; i++) {
        double wi = sw ? (double)sw[i] : 1.0;
        double li = FM_FN(fm_loss_row)(dz ? dz + i * K : NULL, p + i * K, z + i * K, y + i * K,
                                       loss, out_act, (FM_T)slope, par, K, (FM_T)(scale * wi));
        total += wi * li;
    }
    return scale * total;
}

double FM_FN(fm_loss)(FM_T *dz, FM_T *p, const FM_T *z, const FM_T *y, const FM_T *sw,
                      int loss, int out_act, double slope, ptrdiff_t N, ptrdiff_t K, double scale)
{
    return FM_FN(fm_loss_p)(dz, p, z, y, sw, loss, out_act, slope, NULL, N, K, scale);
}
