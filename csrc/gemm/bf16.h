/*
 * bf16.h -- the bf16 GEMM: its contract, the operand rounding and the
 * accumulation step every path shares (internal; API in fastmlp.h).
 *
 *   C(m,n) = epi(acc),  acc(i,j) = the chain below over A(i,.) and B(.,j)
 *   A(i,p) = a[i*rsa + p*csa], B(p,j) = b[p*rsb + j*csb], C(i,j) = c[i*rsc + j]
 *
 * Operands are float32, rounded to bf16 on the way in (fm_bf16_hi: round to
 * nearest even; zero and denormals -> signed zero, as the hardware's DAZ;
 * NaN -> a quiet NaN; overflow -> infinity).  Products accumulate in
 * float32, along k in PAIRS q = 0, 1, ... (p = 2q, 2q+1; an odd k pads the
 * last pair with +0 * +0), exactly as AVX512_BF16's vdpbf16ps does in one
 * lane (Intel SDM, VDPBF16PS; checked bit for bit on this machine by
 * tests/test_bf16.py):
 *     acc = ftz(fma(A(i,2q+1), B(2q+1,j), acc))      the odd (high) half first
 *     acc = ftz(fma(A(i,2q),   B(2q,j),   acc))      then the even (low) half
 * each a float32 fused multiply-add rounded to nearest even (the product of
 * two bf16 is exact, so this is one rounded addition), ftz() flushing a tiny
 * result to a signed zero: tiny AFTER rounding to 24 bits with an unbounded
 * exponent, as x86's FTZ (a sum that rounds up to FLT_MIN is kept); MXCSR
 * is ignored.  Measured on this machine (AMD Zen 4): 0 differences from this
 * in 5e7 random steps, half of them near the denormal range.
 * acc starts at 0 (beta == 0: C not read) or at C (beta == 1, denormals
 * flushed): a deep product split into k blocks continues one chain through
 * C, so the result does not depend on blocking, threads or the path.  The
 * epilogue (bias + activation, or act') runs in float32 under the caller's
 * floating-point environment, as fm_gemm_f32's does.
 *
 * Paths: "ref" the scalar loop (the specification, bf16_ref.c); "generic",
 * "avx2", "avx512" packed loop nests whose micro-kernels emulate the chain
 * with float32 FMAs (bf16_blocked_impl.h), and on a CPU with AVX512_BF16
 * the vdpbf16ps micro-kernel (bf16_dp_avx512.c).  All give the same bits.
 */
#ifndef FM_BF16_H
#define FM_BF16_H

#include <stddef.h>
#include <stdint.h>
#include <float.h>
#include <math.h>
#include <string.h>
#include "fastmlp.h"

/* The bf16 rounding of f as a float32 bit pattern (low 16 bits zero).
 * Branch-free selects, so the packing loops vectorise. */
static inline uint32_t fm_bf16_hi(float f)
{
    uint32_t u, r;
    memcpy(&u, &f, sizeof u);
    r = (u + 0x7FFFu + ((u >> 16) & 1u)) & 0xFFFF0000u;                     /* RNE */
    r = (u & 0x7FFFFFFFu) > 0x7F800000u ? (u | 0x00400000u) & 0xFFFF0000u : r; /* NaN */
    return (u & 0x7F800000u) == 0 ? u & 0x80000000u : r;                     /* 0, denormal */
}

/* Two k-neighbours as one packed pair: the even one low, the odd one high
 * (vdpbf16ps's dword layout). */
static inline uint32_t fm_bf16_pair(float even, float odd)
{
    return (fm_bf16_hi(even) >> 16) | fm_bf16_hi(odd);
}

static inline float fm_bf16_lo_f32(uint32_t pair)
{
    uint32_t u = pair << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static inline float fm_bf16_hi_f32(uint32_t pair)
{
    uint32_t u = pair & 0xFFFF0000u;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* The SIMD emulations (x86-64 only) run their chains as float32 FMAs with
 * MXCSR.FTZ and DAZ set (fm_bf16_ftz_on/off, around the products only, never
 * the epilogue): x86's FTZ is the instruction's. */
#if defined(__x86_64__) || defined(_M_X64)
#include <xmmintrin.h>
static inline unsigned fm_bf16_ftz_on(void)
{
    unsigned csr = _mm_getcsr();
    _mm_setcsr(csr | 0x8040u); /* FTZ (bit 15) and DAZ (bit 6) */
    return csr;
}
static inline void fm_bf16_ftz_off(unsigned csr) { _mm_setcsr(csr); }
#else
static inline unsigned fm_bf16_ftz_on(void) { return 0; }
static inline void fm_bf16_ftz_off(unsigned csr) { (void)csr; }
#endif

/* A denormal as its signed zero (DAZ on a chain's start). */
static inline float fm_bf16_ftz(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    if ((u & 0x7F800000u) == 0) u &= 0x80000000u;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* acc + a*b (a, b bf16 values) rounded once, tiny results flushed: portable
 * scalar C, independent of the FPU's modes.  In double the product is exact
 * and the sum exact unless one term lies 2^-13 of a float32 ulp below the
 * other, where it cannot move the float32 rounding, so (float) rounds it
 * right; tininess is decided on the 24-bit rounding with unbounded exponent. */
static inline float fm_bf16_add(float acc, float a, float b)
{
    const double e = (double)acc + (double)a * (double)b;
    float r = (float)e;
    if (fabs(e) < (double)FLT_MIN) {
        int ex;
        const double m = nearbyint(frexp(e, &ex) * 16777216.0) / 16777216.0;
        if (fabs(ldexp(m, ex)) < (double)FLT_MIN) r = copysignf(0.0f, r);
    }
    return fm_bf16_ftz(r); /* (float) of a tiny e under a caller's FTZ: still zero */
}

/* One pair step of the chain (the contract above), scalar. */
static inline float fm_bf16_step(float acc, uint32_t a, uint32_t b)
{
    acc = fm_bf16_add(acc, fm_bf16_hi_f32(a), fm_bf16_hi_f32(b));
    return fm_bf16_add(acc, fm_bf16_lo_f32(a), fm_bf16_lo_f32(b));
}

/* ---- targets (core/kernels.h's gemm_bf16 / gemm_bf16_dp slots) ---------- */
#define FM_BF16_DECLARE(tgt)                                                                 \
    void fm_gemm_bf16_##tgt(float *, ptrdiff_t, const float *, ptrdiff_t, ptrdiff_t,         \
                            const float *, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t,       \
                            ptrdiff_t, float, const fm_epilogue *, int);
FM_BF16_DECLARE(generic)
FM_BF16_DECLARE(avx2)
FM_BF16_DECLARE(avx512)
FM_BF16_DECLARE(dp_avx512) /* vdpbf16ps: only where fm_cpu_has_avx512_bf16() */

#endif /* FM_BF16_H */
