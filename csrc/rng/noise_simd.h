/*
 * noise_simd.h -- rng.h's normals and dropout scales, FM_NW lanes at a time,
 * written once over a small vector vocabulary that each kernel file
 * (noise_generic.c, noise_avx2.c, noise_avx512.c) defines before including
 * this header:
 *
 *   FM_ISA              suffix of the kernel names (generic, avx2, avx512)
 *   FM_NW               lanes per vector (1 in the generic file, which the
 *                       compiler vectorises)
 *   fm_nu, fm_nd        vectors of uint64_t / double
 *   fm_nu_set1 fm_nu_lanes(s) = {0, s, 2s, ...}
 *   fm_nu_add fm_nu_sub fm_nu_xor fm_nu_and fm_nu_srl(a, n) fm_nu_sll(a, n)
 *   fm_nu_mul(a, c)     a * c mod 2^64, c a constant
 *   fm_nd_set1 fm_nd_add fm_nd_sub fm_nd_mul fm_nd_div fm_nd_sqrt
 *   fm_nd_fma(a, b, c)  a*b + c (fused where the ISA has FMA)
 *   fm_nd_cast(u) / fm_nu_cast(d)   reinterpret the bits
 *   fm_nd_keep(z, b, a) a where z >= b (unsigned), else +0.0
 *   fm_nd_store2(p, c, s)           p[2k] = c[k], p[2k+1] = s[k]
 *   fm_nd_store(p, a)  fm_nu_load(p)  fm_nu_store(p, a)
 * and optionally FM_N_NATIVE_CVT with fm_nd_u53 / fm_nd_s51 (else the
 * exponent-field conversions below are used; both are exact).
 *
 * The math (rng.h states the definitions; all steps below are exact unless
 * marked "rounds"):
 *   radius: k = u64 >> 11, m = 2^53 - k in [1, 2^53], 1 - unif = m 2^-53.
 *     m = 2^e * a with a in [sqrt(1/2), sqrt(2)) by integer arithmetic on the
 *     bits of (double)m; ln(1 - unif) = (e - 53) ln 2 + ln a, where
 *     ln a = 2 atanh(s), s = (a-1)/(a+1) (rounds), |s| <= 0.1716, summed to
 *     s^19 (truncation < 3e-17 relative); ln 2 = LN2_HI + LN2_LO with
 *     LN2_HI holding 41 bits so (e-53)*LN2_HI is exact.
 *   angle: 4*unif = k 2^-51 = q + f with q = round(4 unif) in 0..4 and
 *     f in [-1/2, 1/2) computed in integers, so t = q pi/2 + x with
 *     x = f pi/2 (rounds); cos x and sin x by Taylor series to x^16 / x^15
 *     (truncation < 1e-16 on |x| <= pi/4), then swapped and negated by q.
 */
#define FM_NFN(name) FM_CAT(name, FM_ISA)

#define FM_LN2_HI 0x1.62e42fefa3000p-1
#define FM_LN2_LO 0x1.3de6af278ece6p-42
#define FM_SQRT_HALF_BITS 0x3fe6a09e667f3bcdULL /* bits of sqrt(1/2), rounded */
#define FM_EXP_MAGIC 0x4330000000000000ULL      /* bits of 2^52 */
#define FM_SEXP_MAGIC 0x4338000000000000ULL     /* bits of 1.5 * 2^52 */

#ifndef FM_N_NATIVE_CVT
/* (double)a for 0 <= a <= 2^53: the two halves through the exponent field
 * (a < 2^52 | bits(2^52) is the double 2^52 + a), summed exactly. */
FM_INLINE fm_nd fm_nd_u53(fm_nu a)
{
    const fm_nu magic = fm_nu_set1(FM_EXP_MAGIC);
    const fm_nd two52 = fm_nd_set1(0x1.0p52);
    fm_nd hi = fm_nd_sub(fm_nd_cast(fm_nu_add(fm_nu_srl(a, 26), magic)), two52);
    fm_nd lo = fm_nd_sub(fm_nd_cast(fm_nu_add(fm_nu_and(a, fm_nu_set1((1ULL << 26) - 1)), magic)),
                         two52);
    return fm_nd_fma(hi, fm_nd_set1(0x1.0p26), lo);
}

/* (double)a for a two's-complement |a| < 2^51. */
FM_INLINE fm_nd fm_nd_s51(fm_nu a)
{
    return fm_nd_sub(fm_nd_cast(fm_nu_add(a, fm_nu_set1(FM_SEXP_MAGIC))), fm_nd_set1(0x1.8p52));
}
#endif

FM_INLINE fm_nu fm_nmix(fm_nu z)
{
    z = fm_nu_mul(fm_nu_xor(z, fm_nu_srl(z, 30)), FM_RNG_M1);
    z = fm_nu_mul(fm_nu_xor(z, fm_nu_srl(z, 27)), FM_RNG_M2);
    return fm_nu_xor(z, fm_nu_srl(z, 31));
}

/* r = sqrt(-2 ln(1 - unif)) from the u64 z of unif. */
FM_INLINE fm_nd fm_nradius(fm_nu z)
{
    fm_nu m = fm_nu_sub(fm_nu_set1(1ULL << 53), fm_nu_srl(z, 11));
    fm_nu b = fm_nu_cast(fm_nd_u53(m));
    fm_nu e = fm_nu_srl(fm_nu_sub(b, fm_nu_set1(FM_SQRT_HALF_BITS)), 52);   /* 0..53 */
    fm_nd a = fm_nd_cast(fm_nu_sub(b, fm_nu_sll(e, 52)));
    fm_nd f = fm_nd_sub(a, fm_nd_set1(1.0));
    fm_nd s = fm_nd_div(f, fm_nd_add(f, fm_nd_set1(2.0)));
    fm_nd z2 = fm_nd_mul(s, s), s2 = fm_nd_add(s, s), p, ln_a, ek, ln_v;
    p = fm_nd_fma(z2, fm_nd_set1(1.0 / 19), fm_nd_set1(1.0 / 17));
    p = fm_nd_fma(z2, p, fm_nd_set1(1.0 / 15));
    p = fm_nd_fma(z2, p, fm_nd_set1(1.0 / 13));
    p = fm_nd_fma(z2, p, fm_nd_set1(1.0 / 11));
    p = fm_nd_fma(z2, p, fm_nd_set1(1.0 / 9));
    p = fm_nd_fma(z2, p, fm_nd_set1(1.0 / 7));
    p = fm_nd_fma(z2, p, fm_nd_set1(1.0 / 5));
    p = fm_nd_fma(z2, p, fm_nd_set1(1.0 / 3));
    ln_a = fm_nd_fma(fm_nd_mul(s2, z2), p, s2);                  /* 2 atanh(s) */
    ek = fm_nd_s51(fm_nu_sub(e, fm_nu_set1(53)));                  /* e - 53 */
    ln_v = fm_nd_fma(ek, fm_nd_set1(FM_LN2_HI), fm_nd_fma(ek, fm_nd_set1(FM_LN2_LO), ln_a));
    return fm_nd_sqrt(fm_nd_mul(ln_v, fm_nd_set1(-2.0)));
}

/* (cos t, sin t) for t = 2 pi unif, from the u64 z of unif. */
FM_INLINE void fm_nsincos(fm_nu z, fm_nd *c, fm_nd *s)
{
    fm_nu k = fm_nu_srl(z, 11);
    fm_nu q = fm_nu_srl(fm_nu_add(k, fm_nu_set1(1ULL << 50)), 51);            /* 0..4 */
    fm_nd x = fm_nd_mul(fm_nd_s51(fm_nu_sub(k, fm_nu_sll(q, 51))),
                        fm_nd_set1(0x1.921fb54442d18p-51));                     /* f pi/2 */
    fm_nd x2 = fm_nd_mul(x, x), ps, pc;
    fm_nu cb, sb, d;
    ps = fm_nd_fma(x2, fm_nd_set1(-1.0 / 1307674368000.0), fm_nd_set1(1.0 / 6227020800.0));
    ps = fm_nd_fma(x2, ps, fm_nd_set1(-1.0 / 39916800.0));
    ps = fm_nd_fma(x2, ps, fm_nd_set1(1.0 / 362880.0));
    ps = fm_nd_fma(x2, ps, fm_nd_set1(-1.0 / 5040.0));
    ps = fm_nd_fma(x2, ps, fm_nd_set1(1.0 / 120.0));
    ps = fm_nd_fma(x2, ps, fm_nd_set1(-1.0 / 6.0));
    pc = fm_nd_fma(x2, fm_nd_set1(1.0 / 20922789888000.0), fm_nd_set1(-1.0 / 87178291200.0));
    pc = fm_nd_fma(x2, pc, fm_nd_set1(1.0 / 479001600.0));
    pc = fm_nd_fma(x2, pc, fm_nd_set1(-1.0 / 3628800.0));
    pc = fm_nd_fma(x2, pc, fm_nd_set1(1.0 / 40320.0));
    pc = fm_nd_fma(x2, pc, fm_nd_set1(-1.0 / 720.0));
    pc = fm_nd_fma(x2, pc, fm_nd_set1(1.0 / 24.0));
    pc = fm_nd_fma(x2, pc, fm_nd_set1(-0.5));
    sb = fm_nu_cast(fm_nd_fma(fm_nd_mul(x, x2), ps, x));
    cb = fm_nu_cast(fm_nd_fma(x2, pc, fm_nd_set1(1.0)));
    /* q odd swaps cos and sin; cos t < 0 for q = 1, 2 and sin t < 0 for q = 2, 3 */
    d = fm_nu_and(fm_nu_sub(fm_nu_set1(0), fm_nu_and(q, fm_nu_set1(1))), fm_nu_xor(cb, sb));
    *c = fm_nd_cast(fm_nu_xor(fm_nu_xor(cb, d),
                              fm_nu_sll(fm_nu_and(fm_nu_add(q, fm_nu_set1(1)), fm_nu_set1(2)), 62)));
    *s = fm_nd_cast(fm_nu_xor(fm_nu_xor(sb, d), fm_nu_sll(fm_nu_and(q, fm_nu_set1(2)), 62)));
}

/* Pairs / units per staging block (a multiple of every FM_NW). */
#define FM_NBLK 128

/* z[k] = u64(i0 + d*k) for k < n, n a multiple of FM_NW. */
static void FM_NFN(fm_mix_block)(uint64_t *FM_RESTRICT z, uint64_t key, uint64_t i0, uint64_t d,
                                 ptrdiff_t n)
{
    const fm_nu stride = fm_nu_set1(FM_NW * d * FM_RNG_G);
    fm_nu ctr = fm_nu_add(fm_nu_set1(key + (i0 + 1) * FM_RNG_G), fm_nu_lanes(d * FM_RNG_G));
    ptrdiff_t k;
    for (k = 0; k < n; k += FM_NW) {
        fm_nu_store(z + k, fm_nmix(ctr));
        ctr = fm_nu_add(ctr, stride);
    }
}

/* out[2k], out[2k+1] = normal(2(j0+k)), normal(2(j0+k)+1) for k < np <= FM_NBLK,
 * np a multiple of FM_NW.  Two passes: the integer mixing (which the
 * generic file leaves scalar: SSE2 has no 64-bit multiply), then the
 * floating-point transform. */
static void FM_NFN(fm_normal_pairs)(double *FM_RESTRICT out, uint64_t key, uint64_t j0,
                                    ptrdiff_t np)
{
    uint64_t zr[FM_NBLK], za[FM_NBLK];
    ptrdiff_t k;
    FM_NFN(fm_mix_block)(zr, key, 2 * j0, 2, np);     /* u64(2j): the radius */
    FM_NFN(fm_mix_block)(za, key, 2 * j0 + 1, 2, np); /* u64(2j+1): the angle */
    for (k = 0; k < np; k += FM_NW) {
        fm_nd c, s, r = fm_nradius(fm_nu_load(zr + k));
        fm_nsincos(fm_nu_load(za + k), &c, &s);
        fm_nd_store2(out + 2 * k, fm_nd_mul(r, c), fm_nd_mul(r, s));
    }
}

/* out[k] = inv if unit i0+k is kept (u64 >= bound) else 0, for k < n <= FM_NBLK,
 * n a multiple of FM_NW. */
static void FM_NFN(fm_keep_scales)(double *FM_RESTRICT out, uint64_t key, uint64_t i0,
                                   uint64_t bound, double inv, ptrdiff_t n)
{
    const fm_nu stride = fm_nu_set1(FM_NW * FM_RNG_G), b = fm_nu_set1(bound);
    const fm_nd v = fm_nd_set1(inv);
    fm_nu ctr = fm_nu_add(fm_nu_set1(key + (i0 + 1) * FM_RNG_G), fm_nu_lanes(FM_RNG_G));
    ptrdiff_t k;
    for (k = 0; k < n; k += FM_NW) {
        fm_nd_store(out + k, fm_nd_keep(fm_nmix(ctr), b, v));
        ctr = fm_nu_add(ctr, stride);
    }
}

#include "core/fm_dtype_f32.h"
#include "rng/noise_impl.h"
#include "core/fm_dtype_end.h"

#include "core/fm_dtype_f64.h"
#include "rng/noise_impl.h"
#include "core/fm_dtype_end.h"
