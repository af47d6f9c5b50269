/*
 * peak_i8_avx512.c -- the chain loop of the int8 peak probe (peak_i8.h):
 * 16 independent zmm chains acc = vpdpbusd(acc, a, b), no memory traffic.
 * Compiled with the AVX-512 flags; the loop carries target("avx512vnni")
 * and runs only once the kernel table found AVX512_VNNI (fm_peak_i8).
 */
#include <immintrin.h>
#include "core/fm_internal.h"
#include "probe/peak_i8.h"

#define PK_I8_CHAINS 16

__attribute__((target("avx512vnni"))) double fm_peak_chains_i8_avx512(ptrdiff_t reps,
                                                                      double *ops)
{
    __m512i acc[PK_I8_CHAINS];
    const __m512i a = _mm512_set1_epi32(0x01010101), b = _mm512_set1_epi32(0x01010101);
    int32_t lanes[16];
    ptrdiff_t r;
    double s = 0;
    int c, l;
    for (c = 0; c < PK_I8_CHAINS; c++) acc[c] = _mm512_setzero_si512();
    for (r = 0; r < reps; r++)
        for (c = 0; c < PK_I8_CHAINS; c++) acc[c] = _mm512_dpbusd_epi32(acc[c], a, b);
    for (c = 0; c < PK_I8_CHAINS; c++) {
        _mm512_storeu_si512((void *)lanes, acc[c]);
        for (l = 0; l < 16; l++) s += (double)lanes[l];
    }
    *ops = 2.0 * 64 * PK_I8_CHAINS * (double)reps;
    return s;
}
