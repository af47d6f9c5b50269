/*
 * peak_bf16_avx512.c -- the vdpbf16ps-throughput probe (fm_peak_bf16 in
 * peak.c): 16 independent zmm chains acc = vdpbf16ps(acc, ones, ones), no
 * memory traffic, so the loop is bound by the instruction's issue rate
 * alone; the bf16 GEMM's speed is reported against it.  Built with the
 * AVX-512 flags and, for this file, the AVX512_BF16 target; called only
 * after fm_cpu_has_avx512_bf16().
 */
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512bf16"))), apply_to = function)
#elif defined(__GNUC__)
#pragma GCC target("avx512bf16")
#endif
#include <immintrin.h>
#include "core/fm_internal.h"
#include "probe/peak.h"

#define PK_BF16_CHAINS 16

double fm_peak_chains_bf16(ptrdiff_t reps, double *flops)
{
    const __m512bh one = (__m512bh)_mm512_set1_epi32(0x3F803F80); /* two bf16 ones */
    __m512 acc[PK_BF16_CHAINS];
    float lanes[16];
    ptrdiff_t r;
    double s = 0;
    int c, l;
    for (c = 0; c < PK_BF16_CHAINS; c++) acc[c] = _mm512_setzero_ps();
    for (r = 0; r < reps; r++)
        for (c = 0; c < PK_BF16_CHAINS; c++) acc[c] = _mm512_dpbf16_ps(acc[c], one, one);
    for (c = 0; c < PK_BF16_CHAINS; c++) {
        _mm512_storeu_ps(lanes, acc[c]);
        for (l = 0; l < 16; l++) s += (double)lanes[l];
    }
    *flops = 4.0 * 16 * PK_BF16_CHAINS * (double)reps; /* 2 products + 2 sums per lane */
    return s;
}

#if defined(__clang__)
#pragma clang attribute pop
#endif
