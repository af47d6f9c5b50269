/*
 * qgemm_avx2.c -- the int8 paths of the avx2 target (qgemm.h): "avx2vnni"
 * (VEX vpdpbusd on ymm, for CPUs with AVX-VNNI; the function carries the
 * target attribute, the file only AVX2 flags) and "avx2" (no VNNI: bytes
 * widened to int16, vpmaddwd sums pairs exactly into int32; vpmaddubsw
 * would saturate its int16 pair sums at 255 * 127 * 2), each in the shared
 * loop nest; and the row quantiser compiled for AVX2.
 *
 * Compiled with -mavx2 -mfma (setup.py, *_avx2.c); x86-64 builds only; run
 * only once the kernel table found AVX2 (and AVX-VNNI for "avx2vnni").
 */
#include <immintrin.h>
#include "core/fm_internal.h"
#include "core/team.h"
#include "gemm/gemm_config.h"
#include "qgemm/qgemm.h"

#include "core/fm_dtype_f32.h"
#include "layers/act_impl.h"
#include "core/fm_dtype_end.h"

FM_INLINE __m256i fm_qmask8(ptrdiff_t nv)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)nv),
                              _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* The epilogue (qepi.h's, on 8 lanes) of columns j.. (nv <= 8 of them) of
 * row i; c and ci point at (i, j). */
FM_INLINE void fm_qput8(float *c, int32_t *ci, __m256i acc, ptrdiff_t nv, ptrdiff_t i,
                        ptrdiff_t j, const fm_qepilogue *e)
{
    __m256i mk = fm_qmask8(nv);
    __m256i cs = _mm256_maskload_epi32((const int *)e->colsum + j, mk);
    __m256i v = _mm256_sub_epi32(acc, _mm256_mullo_epi32(_mm256_set1_epi32(e->zp[i]), cs));
    __m256 s, y;
    if (ci) {
        _mm256_maskstore_epi32((int *)ci, mk, v);
        return;
    }
    s = _mm256_mul_ps(_mm256_set1_ps(e->xscale[i]), _mm256_maskload_ps(e->wscale + j, mk));
    y = _mm256_add_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(v), s), _mm256_maskload_ps(e->bias + j, mk));
    if (e->act == FM_ACT_RELU) {
        y = _mm256_max_ps(y, _mm256_setzero_ps()); /* y > 0 ? y : +0 */
    } else if (e->act == FM_ACT_LEAKY_RELU) {
        __m256 pos = _mm256_cmp_ps(y, _mm256_setzero_ps(), _CMP_GT_OQ);
        y = _mm256_blendv_ps(_mm256_mul_ps(_mm256_set1_ps((float)e->slope), y), y, pos);
    }
    _mm256_maskstore_ps(c, mk, y);
}

/* 4 bytes of q (inputs 4p..4p+3 of a row) as int16, repeated 4 times. */
FM_INLINE __m256i fm_qbcast16(const uint8_t *p)
{
    int32_t w;
    memcpy(&w, p, 4);
    return _mm256_broadcastq_epi64(_mm_cvtepu8_epi16(_mm_cvtsi32_si128(w)));
}

#define FM_QROWS4(X) X(0) X(1) X(2) X(3)
#define FM_QAPTR(I) const uint8_t *a##I = a + FM_MIN(I, m - 1) * lda;

/* ---- "avx2": 4 rows x 8 columns per pass, a panel in 4 passes ------------
 * Weights of 4 columns x 4 inputs (16 bytes) widen to 16 int16; vpmaddwd
 * with the row's 4 inputs (repeated) gives 2 partial sums per column,
 * added pairwise (hadd) at the end. */
#define FM_QMADD_ZERO(I) __m256i l##I = _mm256_setzero_si256(), h##I = _mm256_setzero_si256();
#define FM_QMADD_STEP(I)                                                                     \
    av = fm_qbcast16(a##I + 4 * p);                                                          \
    l##I = _mm256_add_epi32(l##I, _mm256_madd_epi16(av, wl));                                \
    h##I = _mm256_add_epi32(h##I, _mm256_madd_epi16(av, wh));
#define FM_QMADD_PUT(I)                                                                      \
    if ((I) < m)                                                                             \
        fm_qput8(c + (I) * rsc + 8 * s, e->out_i32 ? e->out_i32 + (i0 + (I)) * rsc + j0 + 8 * s \
                                                 : NULL,                                    \
                 _mm256_permute4x64_epi64(_mm256_hadd_epi32(l##I, h##I), 0xD8),             \
                 FM_MIN(8, n - 8 * s), i0 + (I), j0 + 8 * s, e);

static void fm_qukr_avx2_madd(ptrdiff_t m, ptrdiff_t n, ptrdiff_t kq, const uint8_t *a,
                              ptrdiff_t lda, const int8_t *b, float *c, ptrdiff_t rsc,
                              ptrdiff_t i0, ptrdiff_t j0, const fm_qepilogue *e)
{
    FM_QROWS4(FM_QAPTR)
    ptrdiff_t s, p;
    for (s = 0; 8 * s < n; s++) {
        const int8_t *bs = b + 32 * s;
        FM_QROWS4(FM_QMADD_ZERO)
        for (p = 0; p < kq; p++, bs += FM_Q_GROUP) {
            __m256i wl = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)bs));
            __m256i wh = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(bs + 16)));
            __m256i av;
            FM_QROWS4(FM_QMADD_STEP)
        }
        FM_QROWS4(FM_QMADD_PUT)
    }
}

#define FM_QP avx2_madd
#define FM_QMR 4
#define FM_QUKR fm_qukr_avx2_madd
#include "qgemm/qgemm_loop_impl.h"
#undef FM_QP
#undef FM_QMR
#undef FM_QUKR

/* ---- "avx2vnni": 4 rows x 16 columns per pass, a panel in 2 passes -------- */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11 || \
    defined(__clang__) && __clang_major__ >= 12
#define FM_HAVE_AVXVNNI 1
#define FM_QV_ZERO(I) __m256i c##I##a = _mm256_setzero_si256(), c##I##b = _mm256_setzero_si256();
#define FM_QV_STEP(I)                                                                        \
    memcpy(&w4, a##I + 4 * p, 4);                                                            \
    av = _mm256_set1_epi32(w4);                                                              \
    c##I##a = _mm256_dpbusd_avx_epi32(c##I##a, av, b0);                                      \
    c##I##b = _mm256_dpbusd_avx_epi32(c##I##b, av, b1);
#define FM_QV_PUT(I)                                                                         \
    if ((I) < m) {                                                                           \
        int32_t *ci = e->out_i32 ? e->out_i32 + (i0 + (I)) * rsc + j0 + 16 * h : NULL;       \
        fm_qput8(c + (I) * rsc + 16 * h, ci, c##I##a, FM_MIN(8, n - 16 * h), i0 + (I),       \
                 j0 + 16 * h, e);                                                            \
        if (n - 16 * h > 8)                                                                  \
            fm_qput8(c + (I) * rsc + 16 * h + 8, ci ? ci + 8 : NULL, c##I##b,               \
                     FM_MIN(8, n - 16 * h - 8), i0 + (I), j0 + 16 * h + 8, e);               \
    }

__attribute__((target("avxvnni"))) static void
fm_qukr_avxvnni(ptrdiff_t m, ptrdiff_t n, ptrdiff_t kq, const uint8_t *a, ptrdiff_t lda,
                const int8_t *b, float *c, ptrdiff_t rsc, ptrdiff_t i0, ptrdiff_t j0,
                const fm_qepilogue *e)
{
    FM_QROWS4(FM_QAPTR)
    ptrdiff_t h, p;
    for (h = 0; 16 * h < n; h++) {
        const int8_t *bh = b + 64 * h;
        FM_QROWS4(FM_QV_ZERO)
        for (p = 0; p < kq; p++, bh += FM_Q_GROUP) {
            __m256i b0 = _mm256_loadu_si256((const __m256i *)bh);
            __m256i b1 = _mm256_loadu_si256((const __m256i *)(bh + 32));
            __m256i av;
            int32_t w4;
            FM_QROWS4(FM_QV_STEP)
        }
        FM_QROWS4(FM_QV_PUT)
    }
}

#define FM_QP avx2vnni
#define FM_QMR 4
#define FM_QUKR fm_qukr_avxvnni
#include "qgemm/qgemm_loop_impl.h"
#undef FM_QP
#undef FM_QMR
#undef FM_QUKR
#endif

#ifndef FM_HAVE_AVXVNNI
/* a compiler without AVX-VNNI intrinsics: the path exists and runs vpmaddwd */
void fm_qgemm_avx2vnni(float *c, ptrdiff_t rsc, const uint8_t *a, ptrdiff_t lda,
                       const int8_t *wp, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                       const fm_qepilogue *e, int n_threads)
{
    fm_qgemm_avx2_madd(c, rsc, a, lda, wp, m, n, k, e, n_threads);
}
#endif

#define FM_QT avx2
#include "qgemm/qquant_impl.h"
#undef FM_QT
