/*
 * qgemm_avx512.c -- the int8 path of the avx512 target, "avx512vnni":
 * vpdpbusd on zmm (64 u8 x s8 products summed by 4 into 16 int32 lanes),
 * 8 rows x 32 columns (16 accumulators of the 32 registers) in the shared
 * loop nest, and the row quantiser compiled for AVX-512 (on AVX-512 CPUs
 * without VNNI the table runs the avx2 product, core/dispatch.c).
 *
 * Compiled with the AVX-512 flags setup.py gives *_avx512.c; the VNNI
 * micro-kernel carries target("avx512vnni") itself, so nothing else here
 * needs VNNI.  Run only once the kernel table found AVX-512 (and VNNI for
 * the VNNI path).  Masked loads and stores handle partial panels.
 */
#include <immintrin.h>
#include "core/fm_internal.h"
#include "core/team.h"
#include "gemm/gemm_config.h"
#include "qgemm/qgemm.h"

#include "core/fm_dtype_f32.h"
#include "layers/act_impl.h"
#include "core/fm_dtype_end.h"

/* The epilogue (qepi.h's, on 16 lanes) of the columns of mask mk from j on,
 * row i; c and ci point at (i, j). */
FM_INLINE void fm_qput16(float *c, int32_t *ci, __m512i acc, __mmask16 mk, ptrdiff_t i,
                         ptrdiff_t j, const fm_qepilogue *e)
{
    __m512i cs = _mm512_maskz_loadu_epi32(mk, e->colsum + j);
    __m512i v = _mm512_sub_epi32(acc, _mm512_mullo_epi32(_mm512_set1_epi32(e->zp[i]), cs));
    __m512 s, y;
    if (ci) {
        _mm512_mask_storeu_epi32(ci, mk, v);
        return;
    }
    s = _mm512_mul_ps(_mm512_set1_ps(e->xscale[i]), _mm512_maskz_loadu_ps(mk, e->wscale + j));
    y = _mm512_add_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(v), s),
                      _mm512_maskz_loadu_ps(mk, e->bias + j));
    if (e->act == FM_ACT_RELU) {
        y = _mm512_max_ps(y, _mm512_setzero_ps()); /* y > 0 ? y : +0 */
    } else if (e->act == FM_ACT_LEAKY_RELU) {
        __mmask16 neg = _mm512_cmp_ps_mask(y, _mm512_setzero_ps(), _CMP_LE_OQ);
        y = _mm512_mask_mul_ps(y, neg, y, _mm512_set1_ps((float)e->slope));
    }
    _mm512_mask_storeu_ps(c, mk, y);
}

#define FM_QROWS8(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define FM_QAPTR(I) const uint8_t *a##I = a + FM_MIN(I, m - 1) * lda;
#define FM_QZ_ZERO(I) __m512i c##I##a = _mm512_setzero_si512(), c##I##b = _mm512_setzero_si512();
#define FM_QZ_STEP(I)                                                                        \
    memcpy(&w4, a##I + 4 * p, 4);                                                            \
    av = _mm512_set1_epi32(w4);                                                              \
    c##I##a = _mm512_dpbusd_epi32(c##I##a, av, b0);                                          \
    c##I##b = _mm512_dpbusd_epi32(c##I##b, av, b1);
#define FM_QZ_PUT(I)                                                                         \
    if ((I) < m) {                                                                           \
        int32_t *ci = e->out_i32 ? e->out_i32 + (i0 + (I)) * rsc + j0 : NULL;                \
        fm_qput16(c + (I) * rsc, ci, c##I##a, m_a, i0 + (I), j0, e);                         \
        if (m_b) fm_qput16(c + (I) * rsc + 16, ci ? ci + 16 : NULL, c##I##b, m_b, i0 + (I),  \
                           j0 + 16, e);                                                      \
    }

/* One row (batch 1): four k groups in flight in separate accumulators (a
 * lone chain would wait on vpdpbusd's latency), summed at the end: integer
 * adds in any order give the same sums. */
__attribute__((target("avx512vnni"))) static void
fm_qukr_avx512vnni_row(ptrdiff_t n, ptrdiff_t kq, const uint8_t *a, const int8_t *b, float *c,
                       ptrdiff_t rsc, ptrdiff_t i0, ptrdiff_t j0, const fm_qepilogue *e)
{
    __m512i s0a = _mm512_setzero_si512(), s0b = _mm512_setzero_si512();
    __m512i s1a = _mm512_setzero_si512(), s1b = _mm512_setzero_si512();
    __m512i s2a = _mm512_setzero_si512(), s2b = _mm512_setzero_si512();
    __m512i s3a = _mm512_setzero_si512(), s3b = _mm512_setzero_si512();
    __mmask16 m_a = (__mmask16)((1u << FM_MIN(n, 16)) - 1u);
    __mmask16 m_b = (__mmask16)((1u << FM_MAX(n - 16, 0)) - 1u);
    int32_t *ci = e->out_i32 ? e->out_i32 + i0 * rsc + j0 : NULL;
    ptrdiff_t p;
    int32_t w4;
#define FM_QROW_STEP(U)                                                                      \
    memcpy(&w4, a + 4 * (p + U), 4);                                                         \
    s##U##a = _mm512_dpbusd_epi32(s##U##a, _mm512_set1_epi32(w4),                            \
                                  _mm512_loadu_si512((const void *)(b + (p + U) * FM_Q_GROUP))); \
    s##U##b = _mm512_dpbusd_epi32(                                                           \
        s##U##b, _mm512_set1_epi32(w4),                                                      \
        _mm512_loadu_si512((const void *)(b + (p + U) * FM_Q_GROUP + 64)));
    for (p = 0; p + 4 <= kq; p += 4) {
        FM_QROW_STEP(0) FM_QROW_STEP(1) FM_QROW_STEP(2) FM_QROW_STEP(3)
    }
    for (; p < kq; p++) {
        FM_QROW_STEP(0)
    }
#undef FM_QROW_STEP
    s0a = _mm512_add_epi32(_mm512_add_epi32(s0a, s1a), _mm512_add_epi32(s2a, s3a));
    s0b = _mm512_add_epi32(_mm512_add_epi32(s0b, s1b), _mm512_add_epi32(s2b, s3b));
    fm_qput16(c, ci, s0a, m_a, i0, j0, e);
    if (m_b) fm_qput16(c + 16, ci ? ci + 16 : NULL, s0b, m_b, i0, j0 + 16, e);
}

/* m <= 8 rows of q times one weight panel (kq groups x 32 columns); the
 * rows past m read row m-1 again (never stored), so no row is read past q. */
__attribute__((target("avx512vnni"))) static void
fm_qukr_avx512vnni(ptrdiff_t m, ptrdiff_t n, ptrdiff_t kq, const uint8_t *a, ptrdiff_t lda,
                   const int8_t *b, float *c, ptrdiff_t rsc, ptrdiff_t i0, ptrdiff_t j0,
                   const fm_qepilogue *e)
{
    FM_QROWS8(FM_QAPTR)
    FM_QROWS8(FM_QZ_ZERO)
    __mmask16 m_a = (__mmask16)((1u << FM_MIN(n, 16)) - 1u);
    __mmask16 m_b = (__mmask16)((1u << FM_MAX(n - 16, 0)) - 1u);
    ptrdiff_t p;
    if (m == 1) {
        fm_qukr_avx512vnni_row(n, kq, a, b, c, rsc, i0, j0, e);
        return;
    }
    for (p = 0; p < kq; p++, b += FM_Q_GROUP) {
        __m512i b0, b1, av;
        int32_t w4;
        b0 = _mm512_loadu_si512((const void *)b);
        b1 = _mm512_loadu_si512((const void *)(b + 64));
        FM_QROWS8(FM_QZ_STEP)
    }
    FM_QROWS8(FM_QZ_PUT)
}

#define FM_QP avx512vnni
#define FM_QMR 8
#define FM_QUKR fm_qukr_avx512vnni
#include "qgemm/qgemm_loop_impl.h"
#undef FM_QP
#undef FM_QMR
#undef FM_QUKR

/* ---- the row quantiser's loops (qquant_impl.h's hooks) on zmm ------------
 * The same operations as its portable loops: min/max are exact, and
 * vcvtps2dq rounds half to even (the default MXCSR) as the portable magic
 * constant does; max(., 0) then vpmovusdb (unsigned saturation) clamps to
 * [0, 255]. */
static void fm_qrow_minmax_512(const float *x, ptrdiff_t k, float *plo, float *phi)
{
    __m512 lo = _mm512_setzero_ps(), hi = _mm512_setzero_ps();
    ptrdiff_t p;
    for (p = 0; p + 16 <= k; p += 16) {
        __m512 v = _mm512_loadu_ps(x + p);
        lo = _mm512_min_ps(lo, v);
        hi = _mm512_max_ps(hi, v);
    }
    if (p < k) {
        __mmask16 m = (__mmask16)((1u << (k - p)) - 1u);
        __m512 v = _mm512_maskz_loadu_ps(m, x + p); /* zeros off the mask: lo <= 0 <= hi */
        lo = _mm512_min_ps(lo, v);
        hi = _mm512_max_ps(hi, v);
    }
    *plo = _mm512_reduce_min_ps(lo);
    *phi = _mm512_reduce_max_ps(hi);
}

FM_INLINE __m128i fm_qrow_16(const float *x, __mmask16 m, __m512 inv, __m512i z)
{
    __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x), inv);
    __m512i r;
    v = _mm512_min_ps(_mm512_max_ps(v, _mm512_set1_ps(-1024.0f)), _mm512_set1_ps(1024.0f));
    r = _mm512_add_epi32(_mm512_cvtps_epi32(v), z);
    return _mm512_cvtusepi32_epi8(_mm512_max_epi32(r, _mm512_setzero_si512()));
}

static void fm_qrow_put_512(uint8_t *q, const float *x, ptrdiff_t k, float inv, int32_t z)
{
    const __m512 vinv = _mm512_set1_ps(inv);
    const __m512i vz = _mm512_set1_epi32(z);
    ptrdiff_t p;
    for (p = 0; p + 16 <= k; p += 16)
        _mm_storeu_si128((__m128i *)(q + p), fm_qrow_16(x + p, (__mmask16)0xFFFF, vinv, vz));
    if (p < k) {
        __mmask16 m = (__mmask16)((1u << (k - p)) - 1u);
        _mm_mask_storeu_epi8(q + p, m, fm_qrow_16(x + p, m, vinv, vz));
    }
}

#define FM_QROW_MINMAX fm_qrow_minmax_512
#define FM_QROW_PUT fm_qrow_put_512
#define FM_QT avx512
#include "qgemm/qquant_impl.h"
#undef FM_QT
