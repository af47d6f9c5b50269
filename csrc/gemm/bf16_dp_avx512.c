/*
 * bf16_dp_avx512.c -- the bf16 GEMM on AVX512_BF16 (contract: gemm/bf16.h):
 * the shared packed loop nest around an 8x32 micro-kernel of vdpbf16ps,
 * which does a pair step of the chain in each of its 16 lanes.  8 rows x 2
 * vectors: 16 accumulators of the 32 zmm registers, one broadcast pair of A
 * per row and two vectors of B pairs per step (the float GEMM's 8x32 tile,
 * each instruction now two products deep).  Edge tiles go through lane
 * masks and row guards.
 *
 * Built with the AVX-512 flags (setup.py) and, for this file only, the
 * AVX512_BF16 target below; the kernel table's gemm_bf16_dp slot (core/
 * dispatch.c) calls it only after fm_cpu_has_avx512_bf16().
 */
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512bf16"))), apply_to = function)
#elif defined(__GNUC__)
#pragma GCC target("avx512bf16")
#endif
#include <float.h>
#include <immintrin.h>
#include "core/fm_internal.h"
#include "gemm/gemm_config.h"
#include "gemm/bf16.h"

#include "core/fm_dtype_f32.h"
#include "layers/act_impl.h"

#define FM_BTGT dp_avx512
#define FM_BMR 8
#define FM_BNR 32
#define FM_BMC 128
#define FM_BKC 512
#define FM_BNC 4096
#define FM_BFTZ 0

/* C's start under mask mk, a denormal flushed to its signed zero */
FM_INLINE __m512 fm_bf16_dp_start(const float *p, __mmask16 mk)
{
    const __m512 v = _mm512_maskz_loadu_ps(mk, p);
    const __mmask16 tiny =
        _mm512_cmp_ps_mask(_mm512_abs_ps(v), _mm512_set1_ps(FLT_MIN), _CMP_LT_OQ);
    return _mm512_mask_mov_ps(v, tiny, _mm512_and_ps(v, _mm512_set1_ps(-0.0f)));
}

#define FM_BD_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define FM_BD_ZERO(I) __m512 c##I##l = _mm512_setzero_ps(), c##I##h = _mm512_setzero_ps();
#define FM_BD_INIT(I)                                                                        \
    if ((I) < m) {                                                                           \
        c##I##l = fm_bf16_dp_start(c + (I) * rsc, ml);                                       \
        c##I##h = fm_bf16_dp_start(c + (I) * rsc + 16, mh);                                  \
    }
#define FM_BD_DP(I)                                                                          \
    {                                                                                        \
        const __m512bh av = (__m512bh)_mm512_set1_epi32((int)a[I]);                          \
        c##I##l = _mm512_dpbf16_ps(c##I##l, bl, av);                                         \
        c##I##h = _mm512_dpbf16_ps(c##I##h, bh, av);                                         \
    }
#define FM_BD_STEP()                                                                         \
    bl = (__m512bh)_mm512_loadu_si512(b);                                                    \
    bh = (__m512bh)_mm512_loadu_si512(b + 16);                                               \
    FM_BD_ROWS(FM_BD_DP)                                                                     \
    a += FM_BMR;                                                                             \
    b += FM_BNR;
#define FM_BD_PUT(I)                                                                         \
    if ((I) < m) {                                                                           \
        _mm512_mask_storeu_ps(c + (I) * rsc, ml, c##I##l);                                   \
        _mm512_mask_storeu_ps(c + (I) * rsc + 16, mh, c##I##h);                              \
    }
/* the half tile (n <= 16): the low vectors only */
#define FM_BDH_ZERO(I) __m512 c##I##l = _mm512_setzero_ps();
#define FM_BDH_INIT(I)                                                                       \
    if ((I) < m) c##I##l = fm_bf16_dp_start(c + (I) * rsc, ml);
#define FM_BDH_DP(I)                                                                         \
    c##I##l = _mm512_dpbf16_ps(c##I##l, bl, (__m512bh)_mm512_set1_epi32((int)a[I]));
#define FM_BDH_STEP()                                                                        \
    bl = (__m512bh)_mm512_loadu_si512(b);                                                    \
    FM_BD_ROWS(FM_BDH_DP)                                                                    \
    a += FM_BMR;                                                                             \
    b += FM_BNR;
#define FM_BDH_PUT(I)                                                                        \
    if ((I) < m) _mm512_mask_storeu_ps(c + (I) * rsc, ml, c##I##l);

FM_NOINLINE static void fm_bf16_dp_avx512_half(ptrdiff_t m, ptrdiff_t n, ptrdiff_t kp,
                                               const uint32_t *FM_RESTRICT a,
                                               const uint32_t *FM_RESTRICT b,
                                               float *FM_RESTRICT c, ptrdiff_t rsc, int init)
{
    const __mmask16 ml = (__mmask16)((1u << n) - 1u);
    __m512bh bl;
    ptrdiff_t q;
    FM_BD_ROWS(FM_BDH_ZERO)
    if (init) {
        FM_BD_ROWS(FM_BDH_INIT)
    }
    for (q = 0; q + 4 <= kp; q += 4) {
        FM_BDH_STEP()
        FM_BDH_STEP()
        FM_BDH_STEP()
        FM_BDH_STEP()
    }
    for (; q < kp; q++) {
        FM_BDH_STEP()
    }
    FM_BD_ROWS(FM_BDH_PUT)
}

FM_NOINLINE static void fm_bf16_dp_avx512_ukr(ptrdiff_t m, ptrdiff_t n, ptrdiff_t kp,
                                              const uint32_t *FM_RESTRICT a,
                                              const uint32_t *FM_RESTRICT b,
                                              float *FM_RESTRICT c, ptrdiff_t rsc, int init)
{
    __mmask16 ml, mh;
    __m512bh bl, bh;
    ptrdiff_t q;
    if (n <= 16) {
        fm_bf16_dp_avx512_half(m, n, kp, a, b, c, rsc, init);
        return;
    }
    ml = (__mmask16)0xFFFFu;
    mh = (__mmask16)((1u << (n - 16)) - 1u);
    {
        FM_BD_ROWS(FM_BD_ZERO)
        if (init) {
            FM_BD_ROWS(FM_BD_INIT)
        }
        for (q = 0; q + 4 <= kp; q += 4) {
            FM_BD_STEP()
            FM_BD_STEP()
            FM_BD_STEP()
            FM_BD_STEP()
        }
        for (; q < kp; q++) {
            FM_BD_STEP()
        }
        FM_BD_ROWS(FM_BD_PUT)
    }
}

#include "gemm/bf16_pack_simd.h"
#include "gemm/bf16_blocked_impl.h"
#include "core/fm_dtype_end.h"

#if defined(__clang__)
#pragma clang attribute pop
#endif
