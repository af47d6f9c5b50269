/*
 * bf16_avx2.c -- the "avx2" target's bf16 GEMM (contract: gemm/bf16.h): the
 * shared packed loop nest around a 4x16 micro-kernel that emulates
 * vdpbf16ps with AVX2 FMAs: a packed pair's halves become float32 by a
 * shift (even) and a mask (odd), then acc = fma(odd, odd, acc) and
 * acc = fma(even, even, acc), under MXCSR FTZ/DAZ.  4 rows x 2 vectors: 8
 * accumulators, 4 B halves and 2 A halves of the 16 ymm registers.
 * Built with the AVX2 flags (setup.py); runs only after fm_cpu_has_avx2().
 */
#include <immintrin.h>
#include "core/fm_internal.h"
#include "gemm/gemm_config.h"
#include "gemm/bf16.h"

#include "core/fm_dtype_f32.h"
#include "layers/act_impl.h"

#define FM_BTGT avx2
#define FM_BMR 4
#define FM_BNR 16
#define FM_BMC 96
#define FM_BKC 512
#define FM_BNC 4096
#define FM_BFTZ 1

#define FM_B2_ROWS(X) X(0) X(1) X(2) X(3)
#define FM_B2_LOAD(I)                                                                        \
    __m256 c##I##l = _mm256_loadu_ps(t[I]), c##I##h = _mm256_loadu_ps(t[I] + 8);
#define FM_B2_FMA(I)                                                                         \
    {                                                                                        \
        const __m256i av = _mm256_set1_epi32((int)a[I]);                                     \
        const __m256 ae = _mm256_castsi256_ps(_mm256_slli_epi32(av, 16));                    \
        const __m256 ao = _mm256_castsi256_ps(_mm256_and_si256(av, hi));                     \
        c##I##l = _mm256_fmadd_ps(ae, ble, _mm256_fmadd_ps(ao, blo, c##I##l));               \
        c##I##h = _mm256_fmadd_ps(ae, bhe, _mm256_fmadd_ps(ao, bho, c##I##h));               \
    }
#define FM_B2_STORE(I) _mm256_storeu_ps(t[I], c##I##l); _mm256_storeu_ps(t[I] + 8, c##I##h);

FM_NOINLINE static void fm_bf16_avx2_ukr(ptrdiff_t m, ptrdiff_t n, ptrdiff_t kp,
                                         const uint32_t *FM_RESTRICT a,
                                         const uint32_t *FM_RESTRICT b, float *FM_RESTRICT c,
                                         ptrdiff_t rsc, int init)
{
    const __m256i hi = _mm256_set1_epi32((int)0xFFFF0000u);
    float t[FM_BMR][FM_BNR]; /* the tile through the stack: edges and the flushed start */
    ptrdiff_t i, j, q;
    for (i = 0; i < FM_BMR; i++)
        for (j = 0; j < FM_BNR; j++)
            t[i][j] = init && i < m && j < n ? fm_bf16_ftz(c[i * rsc + j]) : 0.0f;
    {
        FM_B2_ROWS(FM_B2_LOAD)
        for (q = 0; q < kp; q++, a += FM_BMR, b += FM_BNR) {
            const __m256i bl = _mm256_loadu_si256((const __m256i *)b);
            const __m256i bh = _mm256_loadu_si256((const __m256i *)(b + 8));
            const __m256 ble = _mm256_castsi256_ps(_mm256_slli_epi32(bl, 16));
            const __m256 blo = _mm256_castsi256_ps(_mm256_and_si256(bl, hi));
            const __m256 bhe = _mm256_castsi256_ps(_mm256_slli_epi32(bh, 16));
            const __m256 bho = _mm256_castsi256_ps(_mm256_and_si256(bh, hi));
            FM_B2_ROWS(FM_B2_FMA)
        }
        FM_B2_ROWS(FM_B2_STORE)
    }
    for (i = 0; i < m; i++)
        for (j = 0; j < n; j++) c[i * rsc + j] = t[i][j];
}

#include "gemm/bf16_pack_simd.h"
#include "gemm/bf16_blocked_impl.h"
#include "core/fm_dtype_end.h"
