/*
 * bf16_avx512.c -- the "avx512" target's bf16 GEMM on a CPU without
 * AVX512_BF16 (contract: gemm/bf16.h): the shared packed loop nest around an
 * 8x32 micro-kernel that emulates vdpbf16ps with AVX-512F FMAs, as
 * bf16_avx2.c does on 256 bits: acc = fma(odd, odd, acc), then
 * acc = fma(even, even, acc), under MXCSR FTZ/DAZ.  Where the CPU has
 * AVX512_BF16 the table's dp slot (bf16_dp_avx512.c) runs instead, with the
 * same results.  Built with the AVX-512 flags; runs only after
 * fm_cpu_has_avx512().
 */
#include <immintrin.h>
#include "core/fm_internal.h"
#include "gemm/gemm_config.h"
#include "gemm/bf16.h"

#include "core/fm_dtype_f32.h"
#include "layers/act_impl.h"

#define FM_BTGT avx512
#define FM_BMR 8
#define FM_BNR 32
#define FM_BMC 128
#define FM_BKC 512
#define FM_BNC 4096
#define FM_BFTZ 1

#define FM_B5_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define FM_B5_LOAD(I)                                                                        \
    __m512 c##I##l = _mm512_loadu_ps(t[I]), c##I##h = _mm512_loadu_ps(t[I] + 16);
#define FM_B5_FMA(I)                                                                         \
    {                                                                                        \
        const __m512i av = _mm512_set1_epi32((int)a[I]);                                     \
        const __m512 ae = _mm512_castsi512_ps(_mm512_slli_epi32(av, 16));                    \
        const __m512 ao = _mm512_castsi512_ps(_mm512_and_si512(av, hi));                     \
        c##I##l = _mm512_fmadd_ps(ae, ble, _mm512_fmadd_ps(ao, blo, c##I##l));               \
        c##I##h = _mm512_fmadd_ps(ae, bhe, _mm512_fmadd_ps(ao, bho, c##I##h));               \
    }
#define FM_B5_STORE(I) _mm512_storeu_ps(t[I], c##I##l); _mm512_storeu_ps(t[I] + 16, c##I##h);

FM_NOINLINE static void fm_bf16_avx512_ukr(ptrdiff_t m, ptrdiff_t n, ptrdiff_t kp,
                                           const uint32_t *FM_RESTRICT a,
                                           const uint32_t *FM_RESTRICT b, float *FM_RESTRICT c,
                                           ptrdiff_t rsc, int init)
{
    const __m512i hi = _mm512_set1_epi32((int)0xFFFF0000u);
    float t[FM_BMR][FM_BNR];
    ptrdiff_t i, j, q;
    for (i = 0; i < FM_BMR; i++)
        for (j = 0; j < FM_BNR; j++)
            t[i][j] = init && i < m && j < n ? fm_bf16_ftz(c[i * rsc + j]) : 0.0f;
    {
        FM_B5_ROWS(FM_B5_LOAD)
        for (q = 0; q < kp; q++, a += FM_BMR, b += FM_BNR) {
            const __m512i bl = _mm512_loadu_si512(b), bh = _mm512_loadu_si512(b + 16);
            const __m512 ble = _mm512_castsi512_ps(_mm512_slli_epi32(bl, 16));
            const __m512 blo = _mm512_castsi512_ps(_mm512_and_si512(bl, hi));
            const __m512 bhe = _mm512_castsi512_ps(_mm512_slli_epi32(bh, 16));
            const __m512 bho = _mm512_castsi512_ps(_mm512_and_si512(bh, hi));
            FM_B5_ROWS(FM_B5_FMA)
        }
        FM_B5_ROWS(FM_B5_STORE)
    }
    for (i = 0; i < m; i++)
        for (j = 0; j < n; j++) c[i * rsc + j] = t[i][j];
}

#include "gemm/bf16_pack_simd.h"
#include "gemm/bf16_blocked_impl.h"
#include "core/fm_dtype_end.h"
