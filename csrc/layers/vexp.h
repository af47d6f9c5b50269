/*
 * vexp.h -- exp, expm1 and tanh in float for the activations' elementwise
 * loops, written without calls or branches, so that the compiler can
 * vectorise a loop that uses them (a libm call per element keeps it scalar),
 * and the choice per dtype of these or libm's (fm_aexp_f32/_f64, ...).
 *
 * x = k ln2 + r, k = round(x / ln2), |r| <= ln2/2, with ln2 split in a short
 * head and a tail (Cody and Waite: k * head is exact, so r is exact to the
 * last bits); expm1(r) by its Taylor polynomial r + r^2/2! + ... + r^7/7!
 * (the first term left out is below 1e-8 of the result); 2^k as 2^k1 * 2^k2
 * with k1 = round(k/2), k2 = k - k1, each written into the exponent bits (k
 * read from the low mantissa bits of x / ln2 + 1.5 2^23, which that addition
 * rounds to an integer),
 * so that no step leaves the normal range: results underflow gradually to
 * subnormals and 0 and overflow to +inf as libm's do.  NaN stays NaN.
 *   exp(x)   = 2^k1 (2^k2 + 2^k2 expm1(r))
 *   expm1(x) = 2^k expm1(r) + (2^k - 1) for k <= 0 (k = 0: expm1(r) itself,
 *              accurate near 0), exp(x) - 1 for k > 0
 * Accuracy: a few ulp (held to the reference by tests/test_activations.py).
 */
#ifndef FM_VEXP_H
#define FM_VEXP_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* expm1(r) with x = k ln2 + r; *s1, *s2 get 2^k1, 2^k2 (k1 + k2 = k) */
static inline float fm_vexp_parts_f32(float x, float *s1, float *s2)
{
    const float shift = 12582912.0f; /* 1.5 * 2^23 */
    const float xc = x < -104.0f ? -104.0f : x > 89.0f ? 89.0f : x;
    const float kf = (xc * 1.44269504088896341f + shift) - shift;
    const float k1f = (kf * 0.5f + shift) - shift, k2f = kf - k1f;
    const float r = (xc - kf * 0.693359375f) - kf * -2.12194440054690583e-4f;
    float b1 = k1f + shift, b2 = k2f + shift;
    uint32_t i1, i2;
    memcpy(&i1, &b1, 4);
    memcpy(&i2, &b2, 4);
    i1 = (i1 - 0x4B400000u + 127u) << 23;
    i2 = (i2 - 0x4B400000u + 127u) << 23;
    memcpy(s1, &i1, 4);
    memcpy(s2, &i2, 4);
    return r * (1.0f + r * (0.5f + r * ((float)(1.0 / 6) + r * ((float)(1.0 / 24) +
           r * ((float)(1.0 / 120) + r * ((float)(1.0 / 720) + r * (float)(1.0 / 5040)))))));
}

static inline float fm_vexp_f32(float x)
{
    float s1, s2, q = fm_vexp_parts_f32(x, &s1, &s2);
    return s1 * (s2 + s2 * q);
}

static inline float fm_vexpm1_f32(float x)
{
    float s1, s2, q = fm_vexp_parts_f32(x, &s1, &s2), s = s1 * s2;
    return x > 0.34657359f ? s1 * (s2 + s2 * q) - 1.0f : s * q + (s - 1.0f);
}

/* tanh(u) = -sign(u) e / (2 + e), e = expm1(-2|u|) in (-1, 0]: accurate near 0 */
static inline float fm_vtanh_f32(float u)
{
    const float e = fm_vexpm1_f32(-2.0f * (u < 0 ? -u : u)), t = -e / (2.0f + e), nt = -t;
    return u < 0 ? nt : t;
}

/* The exponentials of the activations that need z, per dtype: these in float
 * (their loops vectorise, 4 lanes in SSE2, and beat libm's calls), libm's in
 * double (this polynomial two lanes wide measured slower than libm's exp;
 * docs/performance.md, "Activations"). */
static inline float fm_aexp_f32(float x) { return fm_vexp_f32(x); }
static inline double fm_aexp_f64(double x) { return exp(x); }
static inline float fm_aexpm1_f32(float x) { return fm_vexpm1_f32(x); }
static inline double fm_aexpm1_f64(double x) { return expm1(x); }
static inline float fm_atanh_f32(float x) { return fm_vtanh_f32(x); }
static inline double fm_atanh_f64(double x) { return tanh(x); }

#endif /* FM_VEXP_H */
