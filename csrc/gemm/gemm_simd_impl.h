/*
 * gemm_simd_impl.h -- the intrinsic kernels of the avx2 and avx512 targets,
 * written once over a small vector vocabulary that the including file
 * (gemm_avx2.c, gemm_avx512.c) defines per dtype as always-inline wrappers:
 *   FM_V (vector), FM_VM (lane mask), FM_VL (lanes), FM_VZERO, FM_VSET1,
 *   FM_VLOAD/FM_VSTORE (unaligned), FM_VLOADM/FM_VSTOREM (masked: lanes off
 *   the mask are neither read nor written), FM_VMASK(cnt) (first cnt lanes,
 *   0 <= cnt <= VL), FM_VFMA(a, b, c) = a*b + c, FM_VMUL, FM_VHSUM (sum of
 *   lanes), and FM_ROWS(X) = X(0) X(1) ... X(MR-1).
 * Included per dtype before gemm_direct_impl.h and gemm_blocked_impl.h;
 * only ever compiled with the ISA flags of its file, and only called after
 * the CPU check.
 */

/* ---- micro-kernel: MR rows x 2 vectors (NR = 2*VL) -----------------------
 * avx512: 8x32 f32 / 8x16 f64; avx2: 6x16 f32 / 6x8 f64.  cI_lo and cI_hi
 * hold row I of the tile, columns [0, VL) and [VL, 2VL).  Each k step loads
 * one B row (b_lo, b_hi) and broadcasts the MR entries of one A column.
 * Edge tiles (m < MR or n < NR) store through lane masks and row guards, so
 * no stack tile is needed. */
#define FM_UKR_ZERO(I) FM_V c##I##_lo = FM_VZERO(), c##I##_hi = FM_VZERO();
#define FM_UKR_FMA(I)                                                                        \
    a_i = FM_VSET1(a[I]);                                                                    \
    c##I##_lo = FM_VFMA(a_i, b_lo, c##I##_lo);                                               \
    c##I##_hi = FM_VFMA(a_i, b_hi, c##I##_hi);
#define FM_UKR_STEP()                                                                        \
    b_lo = FM_VLOAD(b);                                                                      \
    b_hi = FM_VLOAD(b + FM_VL);                                                              \
    FM_ROWS(FM_UKR_FMA)                                                                      \
    a += FM_MR;                                                                              \
    b += FM_NR;
#define FM_UKR_PF(I) FM_PREFETCH(c + (I) * rsc); FM_PREFETCH(c + (I) * rsc + FM_NR - 1);
/* write-back of row I: beta == 0 (C not read), general beta, masked edge */
#define FM_UKR_PUT0(I)                                                                       \
    FM_VSTORE(c + (I) * rsc, FM_VMUL(va, c##I##_lo));                                        \
    FM_VSTORE(c + (I) * rsc + FM_VL, FM_VMUL(va, c##I##_hi));
#define FM_UKR_PUT(I)                                                                        \
    FM_VSTORE(c + (I) * rsc, FM_VFMA(vb, FM_VLOAD(c + (I) * rsc), FM_VMUL(va, c##I##_lo)));  \
    FM_VSTORE(c + (I) * rsc + FM_VL,                                                         \
              FM_VFMA(vb, FM_VLOAD(c + (I) * rsc + FM_VL), FM_VMUL(va, c##I##_hi)));
#define FM_UKR_PUTM(I)                                                                       \
    if ((I) < m) {                                                                           \
        FM_V lo = FM_VMUL(va, c##I##_lo), hi = FM_VMUL(va, c##I##_hi);                       \
        if (beta != 0) {                                                                     \
            lo = FM_VFMA(vb, FM_VLOADM(c + (I) * rsc, m_lo), lo);                            \
            hi = FM_VFMA(vb, FM_VLOADM(c + (I) * rsc + FM_VL, m_hi), hi);                    \
        }                                                                                    \
        FM_VSTOREM(c + (I) * rsc, m_lo, lo);                                                 \
        FM_VSTOREM(c + (I) * rsc + FM_VL, m_hi, hi);                                         \
    }

/* The half tile: an edge panel of at most VL columns (a layer width that
 * is not a multiple of NR, e.g. 100 = 3 x 32 + 4) needs only the low vector,
 * so half the multiply-adds of a full tile: 784x100 products run on 112
 * padded columns instead of 128.  B's panel keeps its NR stride. */
#define FM_UKRH_ZERO(I) FM_V c##I##_lo = FM_VZERO();
#define FM_UKRH_FMA(I) c##I##_lo = FM_VFMA(FM_VSET1(a[I]), b_lo, c##I##_lo);
#define FM_UKRH_PUTM(I)                                                                      \
    if ((I) < m) {                                                                           \
        FM_V lo = FM_VMUL(va, c##I##_lo);                                                    \
        if (beta != 0) lo = FM_VFMA(vb, FM_VLOADM(c + (I) * rsc, m_lo), lo);                 \
        FM_VSTOREM(c + (I) * rsc, m_lo, lo);                                                 \
    }
#define FM_UKRH_STEP()                                                                       \
    b_lo = FM_VLOAD(b);                                                                      \
    FM_ROWS(FM_UKRH_FMA)                                                                     \
    a += FM_MR;                                                                              \
    b += FM_NR;

FM_NOINLINE static void FM_TFN(ukr_half)(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                                         const FM_T *FM_RESTRICT a, const FM_T *FM_RESTRICT b,
                                         FM_T *FM_RESTRICT c, ptrdiff_t rsc, FM_T alpha,
                                         FM_T beta)
{
    FM_ROWS(FM_UKRH_ZERO)
    FM_V b_lo, va, vb;
    FM_VM m_lo = FM_VMASK(n);
    ptrdiff_t p;
    for (p = 0; p + 4 <= k; p += 4) {
        FM_UKRH_STEP()
        FM_UKRH_STEP()
        FM_UKRH_STEP()
        FM_UKRH_STEP()
    }
    for (; p < k; p++) {
        FM_UKRH_STEP()
    }
    va = FM_VSET1(alpha);
    vb = FM_VSET1(beta);
    FM_ROWS(FM_UKRH_PUTM)
}

/* Kept out of line: inlined into the loop nest, gcc spills avx2's 12
 * accumulators (of 16 ymm registers) to the stack inside the k loop. */
FM_NOINLINE static void FM_UKR(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const FM_T *FM_RESTRICT a,
                               const FM_T *FM_RESTRICT b, FM_T *FM_RESTRICT c, ptrdiff_t rsc,
                               FM_T alpha, FM_T beta)
{
    if (n <= FM_VL) {
        FM_TFN(ukr_half)(m, n, k, a, b, c, rsc, alpha, beta);
        return;
    }
    FM_ROWS(FM_UKR_ZERO)
    FM_V a_i, b_lo, b_hi, va, vb;
    ptrdiff_t p;
    FM_ROWS(FM_UKR_PF)
    for (p = 0; p + 4 <= k; p += 4) {
        FM_UKR_STEP()
        FM_UKR_STEP()
        FM_UKR_STEP()
        FM_UKR_STEP()
    }
    for (; p < k; p++) {
        FM_UKR_STEP()
    }
    va = FM_VSET1(alpha);
    vb = FM_VSET1(beta);
    if (m == FM_MR && n == FM_NR) {
        if (beta == 0) {
            FM_ROWS(FM_UKR_PUT0)
        } else {
            FM_ROWS(FM_UKR_PUT)
        }
    } else {
        FM_VM m_lo = FM_VMASK(FM_MIN(n, FM_VL)), m_hi = FM_VMASK(FM_MAX(n - FM_VL, 0));
        FM_ROWS(FM_UKR_PUTM)
    }
}

/* ---- transposing pack (gemm_blocked_impl.h's FM_PACK_TR hook) -----------
 * dst[p*ld + i] = src[i*rs + p] for i < r (zeros up to rpad), p < kc: row
 * i of the source becomes lane i of the packed rows.  Tiles of TW rows x TW
 * columns go through a register transpose.  A group's TW-lane stores may
 * run past lane rpad into the next packed row; the groups are stored last
 * one first, so group 0 then rewrites those lanes (past the last row they
 * land in the caller's slack). */
static void FM_TFN(pack_tr)(FM_T *FM_RESTRICT dst, ptrdiff_t ld, const FM_T *FM_RESTRICT src,
                            ptrdiff_t rs, ptrdiff_t r, ptrdiff_t rpad, ptrdiff_t kc)
{
    FM_TV v[FM_TW];
    ptrdiff_t p, g, i;
    for (p = 0; p + FM_TW <= kc; p += FM_TW)
        for (g = (rpad - 1) / FM_TW * FM_TW; g >= 0; g -= FM_TW) {
            for (i = 0; i < FM_TW; i++)
                v[i] = g + i < r ? FM_TLOAD(src + (g + i) * rs + p) : FM_TZERO();
            FM_TTRANS(v);
            for (i = 0; i < FM_TW; i++) FM_TSTORE(dst + (p + i) * ld + g, v[i]);
        }
    for (; p < kc; p++) {
        for (i = 0; i < r; i++) dst[p * ld + i] = src[i * rs + p];
        for (; i < rpad; i++) dst[p * ld + i] = 0;
    }
}
