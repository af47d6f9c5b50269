/*
 * noise_avx512.c -- the "avx512" dropout and input-noise kernels:
 * noise_simd.h on 8 lanes of AVX-512 (F + DQ: 64-bit multiply and
 * int64 <-> double conversions; unsigned compares into mask registers).
 * Built with the AVX-512 flags setup.py gives every *_avx512.c; x86-64
 * only; nothing here may run before fm_cpu_has_avx512() said yes.
 */
#include <immintrin.h>
#include "core/fm_internal.h"
#include "rng/rng.h"
#include "rng/noise.h"

#define FM_ISA avx512
#define FM_NW 8
#define FM_N_NATIVE_CVT 1
typedef __m512i fm_nu;
typedef __m512d fm_nd;
FM_INLINE fm_nu fm_nu_set1(uint64_t a) { return _mm512_set1_epi64((long long)a); }
FM_INLINE fm_nu fm_nu_lanes(uint64_t s)
{
    return _mm512_mullo_epi64(_mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0),
                              _mm512_set1_epi64((long long)s));
}
FM_INLINE fm_nu fm_nu_add(fm_nu a, fm_nu b) { return _mm512_add_epi64(a, b); }
FM_INLINE fm_nu fm_nu_sub(fm_nu a, fm_nu b) { return _mm512_sub_epi64(a, b); }
FM_INLINE fm_nu fm_nu_xor(fm_nu a, fm_nu b) { return _mm512_xor_si512(a, b); }
FM_INLINE fm_nu fm_nu_and(fm_nu a, fm_nu b) { return _mm512_and_si512(a, b); }
#define fm_nu_srl(a, n) _mm512_srli_epi64((a), (n))
#define fm_nu_sll(a, n) _mm512_slli_epi64((a), (n))
FM_INLINE fm_nu fm_nu_mul(fm_nu a, uint64_t c)
{
    return _mm512_mullo_epi64(a, _mm512_set1_epi64((long long)c));
}
FM_INLINE fm_nd fm_nd_set1(double a) { return _mm512_set1_pd(a); }
FM_INLINE fm_nd fm_nd_add(fm_nd a, fm_nd b) { return _mm512_add_pd(a, b); }
FM_INLINE fm_nd fm_nd_sub(fm_nd a, fm_nd b) { return _mm512_sub_pd(a, b); }
FM_INLINE fm_nd fm_nd_mul(fm_nd a, fm_nd b) { return _mm512_mul_pd(a, b); }
FM_INLINE fm_nd fm_nd_div(fm_nd a, fm_nd b) { return _mm512_div_pd(a, b); }
FM_INLINE fm_nd fm_nd_sqrt(fm_nd a) { return _mm512_sqrt_pd(a); }
FM_INLINE fm_nd fm_nd_fma(fm_nd a, fm_nd b, fm_nd c) { return _mm512_fmadd_pd(a, b, c); }
FM_INLINE fm_nd fm_nd_cast(fm_nu a) { return _mm512_castsi512_pd(a); }
FM_INLINE fm_nu fm_nu_cast(fm_nd a) { return _mm512_castpd_si512(a); }
FM_INLINE fm_nd fm_nd_u53(fm_nu a) { return _mm512_cvtepu64_pd(a); }
FM_INLINE fm_nd fm_nd_s51(fm_nu a) { return _mm512_cvtepi64_pd(a); }
FM_INLINE fm_nd fm_nd_keep(fm_nu z, fm_nu b, fm_nd a)
{
    return _mm512_maskz_mov_pd(_mm512_cmpge_epu64_mask(z, b), a);
}
FM_INLINE void fm_nd_store2(double *p, fm_nd c, fm_nd s)
{
    const fm_nu lo = _mm512_set_epi64(11, 3, 10, 2, 9, 1, 8, 0);
    const fm_nu hi = _mm512_set_epi64(15, 7, 14, 6, 13, 5, 12, 4);
    _mm512_storeu_pd(p, _mm512_permutex2var_pd(c, lo, s));
    _mm512_storeu_pd(p + 8, _mm512_permutex2var_pd(c, hi, s));
}
FM_INLINE void fm_nd_store(double *p, fm_nd a) { _mm512_storeu_pd(p, a); }
FM_INLINE fm_nu fm_nu_load(const uint64_t *p) { return _mm512_loadu_si512(p); }
FM_INLINE void fm_nu_store(uint64_t *p, fm_nu a) { _mm512_storeu_si512(p, a); }

#include "rng/noise_simd.h"
