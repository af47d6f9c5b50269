/*
 * act_impl.h -- activations and their output-based derivatives over a
 * contiguous span, as static inline functions (included per dtype; see
 * fm_internal.h).  The switch on the activation sits OUTSIDE each loop so
 * every inner loop is a plain, vectorisable pass (no call per element).
 *
 * Derivatives use the activation OUTPUT a (as scikit-learn and genann do):
 *   identity 1; step 0; sigmoid a(1-a); tanh 1-a^2; relu [a>0];
 *   leaky relu: 1 if a>0 else slope (valid for slope >= 0, where a>0 iff z>0).
 */

/* Numerically safe logistic: never evaluates exp of a large positive. */
FM_INLINE FM_T FM_FN(fm_sigmoid)(FM_T z)
{
    if (z >= 0) return (FM_T)1 / ((FM_T)1 + FM_EXP(-z));
    FM_T e = FM_EXP(z);
    return e / ((FM_T)1 + e);
}

/* x[i] = act(x[i]) for i < len (elementwise activations only). */
static inline void FM_FN(fm_act_span)(FM_T *FM_RESTRICT x, ptrdiff_t len, int act, FM_T slope)
{
    ptrdiff_t i;
    switch (act) {
    case FM_ACT_STEP:
        for (i = 0; i < len; i++) x[i] = x[i] > 0 ? (FM_T)1 : (FM_T)0;
        break;
    case FM_ACT_SIGMOID:
        for (i = 0; i < len; i++) x[i] = FM_FN(fm_sigmoid)(x[i]);
        break;
    case FM_ACT_TANH:
        for (i = 0; i < len; i++) x[i] = FM_TANH(x[i]);
        break;
    case FM_ACT_RELU:
        for (i = 0; i < len; i++) x[i] = x[i] > 0 ? x[i] : (FM_T)0;
        break;
    case FM_ACT_LEAKY_RELU:
        for (i = 0; i < len; i++) x[i] = x[i] > 0 ? x[i] : slope * x[i];
        break;
    default: /* identity (softmax is row-wise: fm_softmax_row) */
        break;
    }
}

/* d[i] *= act'(a[i]) for i < len, with a the activation output. */
static inline void FM_FN(fm_dact_span)(FM_T *FM_RESTRICT d, const FM_T *FM_RESTRICT a,
                                       ptrdiff_t len, int act, FM_T slope)
{
    ptrdiff_t i;
    switch (act) {
    case FM_ACT_STEP:
        for (i = 0; i < len; i++) d[i] = 0;
        break;
    case FM_ACT_SIGMOID:
        for (i = 0; i < len; i++) d[i] *= a[i] * ((FM_T)1 - a[i]);
        break;
    case FM_ACT_TANH:
        for (i = 0; i < len; i++) d[i] *= (FM_T)1 - a[i] * a[i];
        break;
    case FM_ACT_RELU:
        for (i = 0; i < len; i++) d[i] = a[i] > 0 ? d[i] : (FM_T)0;
        break;
    case FM_ACT_LEAKY_RELU:
        for (i = 0; i < len; i++) d[i] = a[i] > 0 ? d[i] : slope * d[i];
        break;
    default: /* identity */
        break;
    }
}

/* Softmax of a row whose max m is +-inf or NaN: its limit, the mass shared by
 * the entries equal to m (+inf: those; -inf: all, uniform); a NaN gives NaNs. */
static inline void FM_FN(fm_softmax_row_inf)(FM_T *x, ptrdiff_t k, FM_T m)
{
    FM_T s = 0;
    ptrdiff_t j;
    for (j = 0; j < k; j++) { x[j] = x[j] == m ? (FM_T)1 : (FM_T)0; s += x[j]; }
    for (j = 0; j < k; j++) x[j] /= s; /* s == 0 only for NaN: 0/0 keeps it NaN */
}

/* Stable softmax of one row in place: exp(x - max) / sum; finite for any
 * finite row, and the limit for infinite logits (fm_softmax_row_inf). */
static inline void FM_FN(fm_softmax_row)(FM_T *x, ptrdiff_t k)
{
    FM_T m = x[0], s = 0;
    ptrdiff_t j;
    for (j = 1; j < k; j++) m = x[j] > m ? x[j] : m;
    if (!(m - m == 0)) { /* m is +-inf (inf - inf is NaN) or NaN */
        FM_FN(fm_softmax_row_inf)(x, k, m);
        return;
    }
    for (j = 0; j < k; j++) { x[j] = FM_EXP(x[j] - m); s += x[j]; }
    for (j = 0; j < k; j++) x[j] /= s;
}

/* Epilogue on one finished row segment of C: c[0..len) holds row i,
 * columns j0..j0+len of the product (see enum fm_epi_kind). */
static inline void FM_FN(fm_epi_row)(FM_T *FM_RESTRICT c, ptrdiff_t i, ptrdiff_t j0,
                                     ptrdiff_t len, const fm_epilogue *epi)
{
    if (epi == NULL || epi->kind == FM_EPI_NONE) return;
    if (epi->kind == FM_EPI_BIAS_ACT) {
        const FM_T *b = (const FM_T *)epi->bias;
        ptrdiff_t j;
        if (b)
            for (j = 0; j < len; j++) c[j] += b[j0 + j];
        FM_FN(fm_act_span)(c, len, epi->act, (FM_T)epi->slope);
    } else if (epi->kind == FM_EPI_DACT) {
        const FM_T *z = (const FM_T *)epi->z + i * epi->rsz + j0;
        FM_FN(fm_dact_span)(c, z, len, epi->act, (FM_T)epi->slope);
    }
}
