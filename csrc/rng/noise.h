/*
 * noise.h -- the range kernels behind dropout and input noise, one set per
 * kernel file (noise_simd.h has the math, rng.h the definitions); dropout.c
 * runs the active target's set.  Internal: not part of the API.
 *
 *   fm_noise_range_<isa>_<t>(x, sigma, key, lo, hi):
 *       x[i] = x[i] + sigma * normal(i),            lo <= i < hi
 *   fm_dropout_range_<isa>_<t>(out, h, inv, bound, key, lo, hi):
 *       out[i] = h[i] * (u64(i) >= bound ? inv : 0), lo <= i < hi
 *
 * <isa> is ref (rng.h's scalar definitions, noise_ref.c), generic (portable
 * C, vectorised by the compiler), avx2 or avx512 (x86-64 only; reached only
 * through the kernel table, core/kernels.h, once core/cpu.c found the ISA).
 */
#ifndef FM_NOISE_H
#define FM_NOISE_H

#include "core/fm_internal.h"

#define FM_NOISE_DECLARE(isa)                                                                   \
    void fm_noise_range_##isa##_f32(float *x, double sigma, uint64_t key, ptrdiff_t lo,          \
                                    ptrdiff_t hi);                                               \
    void fm_noise_range_##isa##_f64(double *x, double sigma, uint64_t key, ptrdiff_t lo,         \
                                    ptrdiff_t hi);                                               \
    void fm_dropout_range_##isa##_f32(float *out, const float *h, double inv, uint64_t bound,    \
                                      uint64_t key, ptrdiff_t lo, ptrdiff_t hi);                 \
    void fm_dropout_range_##isa##_f64(double *out, const double *h, double inv, uint64_t bound,  \
                                      uint64_t key, ptrdiff_t lo, ptrdiff_t hi);

FM_NOISE_DECLARE(ref)
FM_NOISE_DECLARE(generic)
#if defined(__x86_64__) || defined(_M_X64)
FM_NOISE_DECLARE(avx2)
FM_NOISE_DECLARE(avx512)
#endif

#endif /* FM_NOISE_H */
