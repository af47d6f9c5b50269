/*
 * act_impl.h -- activations and their derivatives over a contiguous span,
 * as static inline functions (included per dtype; see fm_internal.h).  The
 * switch on the activation sits OUTSIDE each loop so every inner loop is a
 * plain pass (no call through a pointer per element).
 *
 * Derivatives of IDENTITY .. LEAKY_RELU use the activation OUTPUT a (as
 * scikit-learn and genann do), so a fused layer needs no copy of z:
 *   identity 1; step 0; sigmoid a(1-a); tanh 1-a^2; relu [a>0];
 *   leaky relu: 1 if a>0 else slope (valid for slope >= 0, where a>0 iff z>0).
 * Those of GELU .. SOFTPLUS cannot be had from a alone (gelu and silu are
 * not monotonic) and use z, as torch.nn.functional's backward does:
 *   gelu       Phi(z) + z phi(z)
 *   gelu_tanh  (1 + t)/2 + z/2 (1 - t^2) sqrt(2/pi) (1 + 3k z^2),
 *              t = tanh(sqrt(2/pi) (z + k z^3)), k = 0.044715
 *   silu       s (1 + z (1 - s)), s = sigmoid(z)
 *   elu        1 if z > 0 else alpha exp(z);  selu: scale times elu's, alpha fixed
 *   softplus   1 if z > 20 else e / (e + 1), e = exp(z)
 * Every form is finite for every finite z: exponentials only see
 * arguments <= 20 or <= 0, and the terms z phi(z) and z (1 - t^2) take z
 * clamped to [-40, 40], past which they are exactly 0 in both dtypes.
 * Their exponentials and gelu_tanh's tanh are vexp.h's in float, which let
 * the loops vectorise, libm's in double; erf (gelu) and log1p (softplus)
 * are libm's.  The ACT layer's gelu backward takes Phi(z) = a / z from the
 * forward's output instead of a second erf (act_layer_impl.h).
 */

#ifndef FM_ACT_ONCE
#define FM_ACT_ONCE
#include "layers/vexp.h"
#define FM_SQRT1_2 0.70710678118654752440       /* 1/sqrt(2) */
#define FM_SQRT_2_PI 0.79788456080286535588     /* sqrt(2/pi) */
#define FM_INV_SQRT_2PI 0.39894228040143267794  /* 1/sqrt(2 pi) */
#define FM_GELU_K 0.044715
#define FM_SELU_ALPHA 1.6732632423543772848170429916717
#define FM_SELU_SCALE 1.0507009873554804934193349852946
#define FM_SOFTPLUS_THRESHOLD 20.0
#define FM_ACT_TAIL 40.0 /* |z| past which z phi(z) and z (1 - t^2) are 0 */

/* 1 when act's derivative is taken from z (fastmlp.h, fm_act_needs_z). */
static inline int fm_act_z(int act)
{
    return act >= FM_ACT_GELU && act <= FM_ACT_SOFTPLUS;
}
#endif

/* Numerically safe logistic: never evaluates exp of a large positive. */
FM_INLINE FM_T FM_FN(fm_sigmoid)(FM_T z)
{
    if (z >= 0) return (FM_T)1 / ((FM_T)1 + FM_EXP(-z));
    FM_T e = FM_EXP(z);
    return e / ((FM_T)1 + e);
}

FM_INLINE FM_T FM_FN(fm_act_tail)(FM_T z)
{
    const FM_T t = (FM_T)FM_ACT_TAIL;
    return z > t ? t : z < -t ? -t : z;
}

FM_INLINE FM_T FM_FN(fm_gelu)(FM_T z)
{
    return (FM_T)0.5 * z * ((FM_T)1 + FM_ERF(z * (FM_T)FM_SQRT1_2));
}

/* z phi(z), phi the standard normal density: exactly 0 past |z| = 40 */
FM_INLINE FM_T FM_FN(fm_zpdf)(FM_T z)
{
    const FM_T c = FM_FN(fm_act_tail)(z);
    return c * FM_FN(fm_aexp)((FM_T)-0.5 * c * c) * (FM_T)FM_INV_SQRT_2PI;
}

FM_INLINE FM_T FM_FN(fm_dgelu)(FM_T z)
{
    return (FM_T)0.5 * ((FM_T)1 + FM_ERF(z * (FM_T)FM_SQRT1_2)) + FM_FN(fm_zpdf)(z);
}

/* The same from the forward's a = z Phi(z): Phi(z) = a / z (1/2 at z = 0) */
FM_INLINE FM_T FM_FN(fm_dgelu_za)(FM_T z, FM_T a)
{
    return (z != 0 ? a / z : (FM_T)0.5) + FM_FN(fm_zpdf)(z);
}

/* z^3 may overflow to +-inf for huge z: tanh then gives +-1, the limit */
FM_INLINE FM_T FM_FN(fm_gelu_tanh)(FM_T z)
{
    const FM_T t = FM_FN(fm_atanh)((FM_T)FM_SQRT_2_PI * (z + (FM_T)FM_GELU_K * z * z * z));
    return (FM_T)0.5 * z * ((FM_T)1 + t);
}

FM_INLINE FM_T FM_FN(fm_dgelu_tanh)(FM_T z)
{
    const FM_T c = FM_FN(fm_act_tail)(z); /* t(c) == t(z) exactly: |t| rounds to 1 past 40 */
    const FM_T t = FM_FN(fm_atanh)((FM_T)FM_SQRT_2_PI * (c + (FM_T)FM_GELU_K * c * c * c));
    return (FM_T)0.5 * ((FM_T)1 + t) + (FM_T)0.5 * c * ((FM_T)1 - t * t) * (FM_T)FM_SQRT_2_PI *
                                           ((FM_T)1 + (FM_T)(3 * FM_GELU_K) * c * c);
}

/* sigmoid(z) = 1 / (1 + e) or e / (1 + e) with e = exp(-|z|) <= 1 */
FM_INLINE FM_T FM_FN(fm_asigmoid)(FM_T z)
{
    const FM_T e = FM_FN(fm_aexp)(z < 0 ? z : -z), num = z < 0 ? e : (FM_T)1;
    return num / ((FM_T)1 + e);
}

FM_INLINE FM_T FM_FN(fm_dsilu)(FM_T z)
{
    const FM_T s = FM_FN(fm_asigmoid)(z);
    return s * ((FM_T)1 + z * ((FM_T)1 - s));
}

/* elu's negative side alpha (exp(z) - 1), exp's argument kept <= 0 */
FM_INLINE FM_T FM_FN(fm_elu)(FM_T z, FM_T alpha)
{
    const FM_T neg = alpha * FM_FN(fm_aexpm1)(z < 0 ? z : (FM_T)0);
    return z > 0 ? z : neg;
}

FM_INLINE FM_T FM_FN(fm_delu)(FM_T z, FM_T alpha)
{
    const FM_T neg = alpha * FM_FN(fm_aexp)(z < 0 ? z : (FM_T)0);
    return z > 0 ? (FM_T)1 : neg;
}

FM_INLINE FM_T FM_FN(fm_softplus)(FM_T z)
{
    return z > (FM_T)FM_SOFTPLUS_THRESHOLD ? z : FM_LOG1P(FM_EXP(z));
}

FM_INLINE FM_T FM_FN(fm_dsoftplus)(FM_T z)
{
    const FM_T e = FM_FN(fm_aexp)(z < (FM_T)FM_SOFTPLUS_THRESHOLD ? z
                                                                  : (FM_T)FM_SOFTPLUS_THRESHOLD);
    const FM_T s = e / (e + (FM_T)1);
    return z > (FM_T)FM_SOFTPLUS_THRESHOLD ? (FM_T)1 : s;
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
    case FM_ACT_GELU:
        for (i = 0; i < len; i++) x[i] = FM_FN(fm_gelu)(x[i]);
        break;
    case FM_ACT_GELU_TANH:
        for (i = 0; i < len; i++) x[i] = FM_FN(fm_gelu_tanh)(x[i]);
        break;
    case FM_ACT_SILU:
        for (i = 0; i < len; i++) x[i] = x[i] * FM_FN(fm_asigmoid)(x[i]);
        break;
    case FM_ACT_ELU:
        for (i = 0; i < len; i++) x[i] = FM_FN(fm_elu)(x[i], slope);
        break;
    case FM_ACT_SELU:
        for (i = 0; i < len; i++)
            x[i] = (FM_T)FM_SELU_SCALE * FM_FN(fm_elu)(x[i], (FM_T)FM_SELU_ALPHA);
        break;
    case FM_ACT_SOFTPLUS:
        for (i = 0; i < len; i++) x[i] = FM_FN(fm_softplus)(x[i]);
        break;
    default: /* identity (softmax is row-wise: fm_softmax_row) */
        break;
    }
}

/* d[i] *= act'(z[i]) for i < len, for the activations whose derivative
 * needs z (fm_act_z); the others are left to fm_dact_span. */
static inline void FM_FN(fm_dact_z_span)(FM_T *FM_RESTRICT d, const FM_T *FM_RESTRICT z,
                                         ptrdiff_t len, int act, FM_T slope)
{
    ptrdiff_t i;
    switch (act) {
    case FM_ACT_GELU:
        for (i = 0; i < len; i++) d[i] *= FM_FN(fm_dgelu)(z[i]);
        break;
    case FM_ACT_GELU_TANH:
        for (i = 0; i < len; i++) d[i] *= FM_FN(fm_dgelu_tanh)(z[i]);
        break;
    case FM_ACT_SILU:
        for (i = 0; i < len; i++) d[i] *= FM_FN(fm_dsilu)(z[i]);
        break;
    case FM_ACT_ELU:
        for (i = 0; i < len; i++) d[i] *= FM_FN(fm_delu)(z[i], slope);
        break;
    case FM_ACT_SELU:
        for (i = 0; i < len; i++)
            d[i] *= (FM_T)FM_SELU_SCALE * FM_FN(fm_delu)(z[i], (FM_T)FM_SELU_ALPHA);
        break;
    case FM_ACT_SOFTPLUS:
        for (i = 0; i < len; i++) d[i] *= FM_FN(fm_dsoftplus)(z[i]);
        break;
    default:
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
