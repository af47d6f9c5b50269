/*
 * noise_ref.c -- the "ref" dropout and input-noise range kernels (noise.h):
 * rng.h's scalar definitions with libm, one element at a time; the
 * specification the vectorised kernels are tested against.
 */
#include "core/fm_internal.h"
#include "rng/rng.h"
#include "rng/noise.h"

/* x[i] += sigma * normal(i), lo <= i < hi (in double, rounded once) */
#define FM_NOISE_REF(T, sfx)                                                                  \
    void fm_noise_range_ref_##sfx(T *x, double sigma, uint64_t key, ptrdiff_t lo, ptrdiff_t hi) \
    {                                                                                         \
        ptrdiff_t i;                                                                          \
        for (i = lo; i < hi; i++) {                                                           \
            double c, s;                                                                      \
            fm_rng_normal_pair(key, (uint64_t)i / 2, &c, &s);                                 \
            x[i] = (T)((double)x[i] + sigma * (i % 2 ? s : c));                               \
        }                                                                                     \
    }

/* out[i] = h[i] * (u64(i) >= bound ? inv : 0), lo <= i < hi */
#define FM_DROPOUT_REF(T, sfx)                                                                \
    void fm_dropout_range_ref_##sfx(T *out, const T *h, double inv, uint64_t bound,           \
                                    uint64_t key, ptrdiff_t lo, ptrdiff_t hi)                 \
    {                                                                                         \
        ptrdiff_t i;                                                                          \
        for (i = lo; i < hi; i++)                                                             \
            out[i] = (T)((double)h[i] *                                                       \
                         fm_rng_keep_scale(fm_rng_u64(key, (uint64_t)i), bound, inv));        \
    }

FM_NOISE_REF(float, f32)
FM_NOISE_REF(double, f64)
FM_DROPOUT_REF(float, f32)
FM_DROPOUT_REF(double, f64)
