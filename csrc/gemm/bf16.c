/*
 * bf16.c -- fm_gemm_bf16 (fastmlp.h): the active target's bf16 GEMM, one
 * table lookup per call (core/kernels.h): its vdpbf16ps instance (the
 * gemm_bf16_dp slot) where the CPU has AVX512_BF16 and it is not switched
 * off, else its emulation (gemm_bf16); both give the same bits (gemm/bf16.h).
 * Also the operand rounding as an array function, for tests and callers that
 * store bf16 values.
 */
#include "core/kernels.h"
#include "gemm/bf16.h"

void fm_gemm_bf16(float *c, ptrdiff_t rsc, const float *a, ptrdiff_t rsa, ptrdiff_t csa,
                  const float *b, ptrdiff_t rsb, ptrdiff_t csb, ptrdiff_t m, ptrdiff_t n,
                  ptrdiff_t k, float beta, const fm_epilogue *epi, int n_threads)
{
    fm_kernels_bf16()(c, rsc, a, rsa, csa, b, rsb, csb, m, n, k, beta, epi, n_threads);
}

void fm_bf16_round(float *out, const float *x, ptrdiff_t n)
{
    ptrdiff_t i;
    for (i = 0; i < n; i++) {
        uint32_t u = fm_bf16_hi(x[i]);
        memcpy(out + i, &u, sizeof u);
    }
}
