/*
 * noise_avx2.c -- the "avx2" dropout and input-noise kernels: noise_simd.h
 * on 4 lanes of AVX2 + FMA.  Built with -mavx2 -mfma (setup.py adds them to
 * every *_avx2.c); x86-64 only; nothing here may run before
 * fm_cpu_has_avx2() said yes.  AVX2 has no 64-bit multiply or unsigned
 * 64-bit compare: they are made from 32x32->64 multiplies and a signed
 * compare of sign-flipped lanes.
 */
#include <immintrin.h>
#include "core/fm_internal.h"
#include "rng/rng.h"
#include "rng/noise.h"

#define FM_ISA avx2
#define FM_NW 4
typedef __m256i fm_nu;
typedef __m256d fm_nd;
FM_INLINE fm_nu fm_nu_set1(uint64_t a) { return _mm256_set1_epi64x((long long)a); }
FM_INLINE fm_nu fm_nu_lanes(uint64_t s)
{
    return _mm256_set_epi64x((long long)(3 * s), (long long)(2 * s), (long long)s, 0);
}
FM_INLINE fm_nu fm_nu_add(fm_nu a, fm_nu b) { return _mm256_add_epi64(a, b); }
FM_INLINE fm_nu fm_nu_sub(fm_nu a, fm_nu b) { return _mm256_sub_epi64(a, b); }
FM_INLINE fm_nu fm_nu_xor(fm_nu a, fm_nu b) { return _mm256_xor_si256(a, b); }
FM_INLINE fm_nu fm_nu_and(fm_nu a, fm_nu b) { return _mm256_and_si256(a, b); }
#define fm_nu_srl(a, n) _mm256_srli_epi64((a), (n))
#define fm_nu_sll(a, n) _mm256_slli_epi64((a), (n))
/* a*c mod 2^64 = lo(a)lo(c) + ((hi(a)lo(c) + lo(a)hi(c)) << 32) */
FM_INLINE fm_nu fm_nu_mul(fm_nu a, uint64_t c)
{
    const fm_nu cl = _mm256_set1_epi64x((long long)(c & 0xffffffffu));
    const fm_nu ch = _mm256_set1_epi64x((long long)(c >> 32));
    fm_nu cross = _mm256_add_epi64(_mm256_mul_epu32(_mm256_srli_epi64(a, 32), cl),
                                   _mm256_mul_epu32(a, ch));
    return _mm256_add_epi64(_mm256_mul_epu32(a, cl), _mm256_slli_epi64(cross, 32));
}
FM_INLINE fm_nd fm_nd_set1(double a) { return _mm256_set1_pd(a); }
FM_INLINE fm_nd fm_nd_add(fm_nd a, fm_nd b) { return _mm256_add_pd(a, b); }
FM_INLINE fm_nd fm_nd_sub(fm_nd a, fm_nd b) { return _mm256_sub_pd(a, b); }
FM_INLINE fm_nd fm_nd_mul(fm_nd a, fm_nd b) { return _mm256_mul_pd(a, b); }
FM_INLINE fm_nd fm_nd_div(fm_nd a, fm_nd b) { return _mm256_div_pd(a, b); }
FM_INLINE fm_nd fm_nd_sqrt(fm_nd a) { return _mm256_sqrt_pd(a); }
FM_INLINE fm_nd fm_nd_fma(fm_nd a, fm_nd b, fm_nd c) { return _mm256_fmadd_pd(a, b, c); }
FM_INLINE fm_nd fm_nd_cast(fm_nu a) { return _mm256_castsi256_pd(a); }
FM_INLINE fm_nu fm_nu_cast(fm_nd a) { return _mm256_castpd_si256(a); }
FM_INLINE fm_nd fm_nd_keep(fm_nu z, fm_nu b, fm_nd a)
{
    const fm_nu sign = _mm256_set1_epi64x((long long)0x8000000000000000ULL);
    fm_nu drop = _mm256_cmpgt_epi64(_mm256_xor_si256(b, sign), _mm256_xor_si256(z, sign));
    return _mm256_andnot_pd(_mm256_castsi256_pd(drop), a);
}
FM_INLINE void fm_nd_store2(double *p, fm_nd c, fm_nd s)
{
    fm_nd lo = _mm256_unpacklo_pd(c, s), hi = _mm256_unpackhi_pd(c, s); /* c0 s0 c2 s2 | c1 s1 c3 s3 */
    _mm256_storeu_pd(p, _mm256_permute2f128_pd(lo, hi, 0x20));
    _mm256_storeu_pd(p + 4, _mm256_permute2f128_pd(lo, hi, 0x31));
}
FM_INLINE void fm_nd_store(double *p, fm_nd a) { _mm256_storeu_pd(p, a); }
FM_INLINE fm_nu fm_nu_load(const uint64_t *p) { return _mm256_loadu_si256((const __m256i *)p); }
FM_INLINE void fm_nu_store(uint64_t *p, fm_nu a) { _mm256_storeu_si256((__m256i *)p, a); }

#include "rng/noise_simd.h"
