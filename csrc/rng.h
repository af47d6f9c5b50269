/*
 * rng.h -- the counter-based random numbers behind dropout and input noise.
 *
 * Not a sequential generator: value i of a stream is a pure function of
 * (seed, step, stream, i), so any element can be computed on its own, in any
 * order, by any thread, and fastmlp.reference computes the very same bits in
 * NumPy.  Training is reproducible for a seed however batches are chunked.
 *
 *   mix(z)   = splitmix64's output function (Steele, Lea & Flood 2014;
 *              constants from Vigna's splitmix64.c):
 *              z ^= z >> 30; z *= 0xBF58476D1CE4E5B9;
 *              z ^= z >> 27; z *= 0x94D049BB133111EB; z ^= z >> 31
 *   G        = 0x9E3779B97F4A7C15 (the 64-bit golden ratio)
 *   key      = mix(mix(mix(seed + G) + step*G) + stream*G)
 *   u64(i)   = mix(key + (i + 1)*G)                 (all arithmetic mod 2^64)
 *   unif(i)  = (u64(i) >> 11) * 2^-53              in [0, 1), 53 random bits
 *   normal(i)= sqrt(-2 ln(1 - unif(2i))) * cos(2 pi unif(2i+1))   (Box-Muller)
 *
 * fm_train uses step = the optimizer step of the update (1, 2, ...),
 * stream 0 for the input noise and stream l+1 for the dropout after hidden
 * layer l; element i = row_in_batch * width + column.
 */
#ifndef FM_RNG_H
#define FM_RNG_H

#include <stdint.h>
#include <math.h>

#define FM_RNG_G 0x9E3779B97F4A7C15ULL

static inline uint64_t fm_mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static inline uint64_t fm_rng_key(uint64_t seed, uint64_t step, uint64_t stream)
{
    uint64_t k = fm_mix64(seed + FM_RNG_G);
    k = fm_mix64(k + step * FM_RNG_G);
    return fm_mix64(k + stream * FM_RNG_G);
}

static inline double fm_rng_unif(uint64_t key, uint64_t i)
{
    return (double)(fm_mix64(key + (i + 1) * FM_RNG_G) >> 11) * 0x1.0p-53;
}

static inline double fm_rng_normal(uint64_t key, uint64_t i)
{
    const double two_pi = 6.283185307179586;
    double u1 = fm_rng_unif(key, 2 * i), u2 = fm_rng_unif(key, 2 * i + 1);
    return sqrt(-2.0 * log(1.0 - u1)) * cos(two_pi * u2);
}

#endif /* FM_RNG_H */
