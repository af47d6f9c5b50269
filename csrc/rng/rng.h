/*
 * rng.h -- the counter-based random numbers behind dropout and input noise.
 *
 * Not a sequential generator: value i of a stream is a pure function of
 * (seed, step, stream, i), so any element can be computed on its own, in any
 * order, by any thread, and fastmlp.reference computes the same numbers in
 * NumPy.  Training is reproducible for a seed however batches are chunked
 * and however many threads run.
 *
 *   mix(z)   = splitmix64's output function (Steele, Lea & Flood 2014;
 *              constants from Vigna's splitmix64.c):
 *              z ^= z >> 30; z *= 0xBF58476D1CE4E5B9;
 *              z ^= z >> 27; z *= 0x94D049BB133111EB; z ^= z >> 31
 *   G        = 0x9E3779B97F4A7C15 (the 64-bit golden ratio)
 *   key      = mix(mix(mix(seed + G) + step*G) + stream*G)
 *   u64(i)   = mix(key + (i + 1)*G)                 (all arithmetic mod 2^64)
 *   unif(i)  = (u64(i) >> 11) * 2^-53              in [0, 1), 53 random bits
 *
 * Dropout: unit i is dropped iff unif(i) < p (bit-exact everywhere: the
 * kernels compare u64(i) >= fm_rng_keep_bound(p), the same test in integers).
 *
 * Normals come in Box-Muller pairs, both outputs used: for j = 0, 1, ...
 *   r(j)        = sqrt(-2 ln(1 - unif(2j)))        (1 - unif > 0: r <= 8.58)
 *   t(j)        = 2 pi unif(2j+1)
 *   normal(2j)  = r(j) cos t(j)
 *   normal(2j+1)= r(j) sin t(j)
 * so normal(i) uses unif(2*(i/2)) and unif(2*(i/2)+1), one u64 per normal.
 *
 * Those are the exact values; the kernels compute them in double precision
 * for both dtypes (so float and double models see the same noise):
 *   - "generic", "avx2", "avx512" (noise_simd.h): ln(1-u) from the exponent
 *     and a degree-19 atanh series on [sqrt(1/2), sqrt(2)), and cos/sin of
 *     t from its exact quarter-turn reduction (4*unif = q + f exactly, with
 *     |f| <= 1/2) and Taylor series of degree 16/15 on |x| <= pi/4: within
 *     4e-16 of each value, relative (measured against 113-bit arithmetic);
 *   - "ref" (fm_rng_normal_pair below), like fastmlp.reference: libm log,
 *     sqrt, cos, sin of t rounded to double, so within ~2e-15 absolute
 *     (relative error up to ~5e-12 where cos t or sin t is near 0).
 * Each kernel's numbers do not depend on how n is chunked or threaded (a
 * value is computed by the same instructions whatever lane it lands in);
 * kernels differ from one another by a few ulps (FMA or not).
 *
 * fm_train uses step = the optimizer step of the update (1, 2, ...),
 * stream 0 for the input noise and stream l+1 for the dropout after hidden
 * layer l; element i = row_in_batch * width + column.
 */
#ifndef FM_RNG_H
#define FM_RNG_H

#include <stdint.h>
#include <string.h>
#include <math.h>

#define FM_RNG_G 0x9E3779B97F4A7C15ULL
#define FM_RNG_M1 0xBF58476D1CE4E5B9ULL
#define FM_RNG_M2 0x94D049BB133111EBULL

static inline uint64_t fm_mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * FM_RNG_M1;
    z = (z ^ (z >> 27)) * FM_RNG_M2;
    return z ^ (z >> 31);
}

static inline uint64_t fm_rng_key(uint64_t seed, uint64_t step, uint64_t stream)
{
    uint64_t k = fm_mix64(seed + FM_RNG_G);
    k = fm_mix64(k + step * FM_RNG_G);
    return fm_mix64(k + stream * FM_RNG_G);
}

static inline uint64_t fm_rng_u64(uint64_t key, uint64_t i)
{
    return fm_mix64(key + (i + 1) * FM_RNG_G);
}

static inline double fm_rng_unif(uint64_t key, uint64_t i)
{
    return (double)(fm_rng_u64(key, i) >> 11) * 0x1.0p-53;
}

/* The smallest B with: unif(i) >= p  <=>  u64(i) >= B, for p in [0, 1).
 * unif(i) < p <=> k < p*2^53 (k = u64 >> 11, p*2^53 exact) <=> k < ceil(p*2^53)
 * <=> u64 < ceil(p*2^53) * 2^11 (which is < 2^64 as p <= 1 - 2^-53). */
static inline uint64_t fm_rng_keep_bound(double p)
{
    return p > 0 ? (uint64_t)ceil(p * 0x1.0p53) << 11 : 0;
}

/* inv if u64 value u is kept (u >= bound), else +0.0, without a branch (the
 * mask is random: a branch mispredicts).  bound's low 11 bits are 0, so the
 * test is (u >> 11) >= (bound >> 11), and the difference of those two
 * numbers below 2^53 wraps to the top bit exactly when it is negative. */
static inline double fm_rng_keep_scale(uint64_t u, uint64_t bound, double inv)
{
    uint64_t keep = (((u >> 11) - (bound >> 11)) >> 63) - 1, bits;
    memcpy(&bits, &inv, sizeof bits);
    bits &= keep;
    memcpy(&inv, &bits, sizeof inv);
    return inv;
}

/* The pair (normal(2j), normal(2j+1)) with libm: the "ref" kernel. */
static inline void fm_rng_normal_pair(uint64_t key, uint64_t j, double *c, double *s)
{
    const double two_pi = 6.283185307179586;
    double r = sqrt(-2.0 * log(1.0 - fm_rng_unif(key, 2 * j)));
    double t = two_pi * fm_rng_unif(key, 2 * j + 1);
    *c = r * cos(t);
    *s = r * sin(t);
}

#endif /* FM_RNG_H */
