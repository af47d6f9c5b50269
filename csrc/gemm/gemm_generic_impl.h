/*
 * gemm_generic_impl.h -- the portable-C kernels of the "generic" target
 * (included per dtype by gemm_generic.c, before gemm_blocked_impl.h).
 * Plain loops over fixed-size arrays that the compiler keeps in registers
 * and vectorises with the baseline ISA (SSE2 on x86-64): no intrinsics.
 */

/* Micro-kernel: MR x NR tile (4x8 f32, 4x4 f64).
 * a: packed A micro-panel (k x MR), b: packed B micro-panel (k x NR).
 * ab is the stack tile: an edge tile (m < MR or n < NR) is computed whole
 * (the packs are zero-padded) and only its m x n part copied out. */
FM_NOINLINE static void FM_UKR(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const FM_T *FM_RESTRICT a,
                               const FM_T *FM_RESTRICT b, FM_T *FM_RESTRICT c, ptrdiff_t rsc,
                               FM_T alpha, FM_T beta)
{
    FM_T ab[FM_MR][FM_NR];
    ptrdiff_t i, j, p;
    for (i = 0; i < FM_MR; i++)
        for (j = 0; j < FM_NR; j++) ab[i][j] = 0;
    for (p = 0; p < k; p++, a += FM_MR, b += FM_NR)
        for (i = 0; i < FM_MR; i++)
            for (j = 0; j < FM_NR; j++) ab[i][j] += a[i] * b[j];
    if (m == FM_MR && n == FM_NR) {
        for (i = 0; i < FM_MR; i++)
            for (j = 0; j < FM_NR; j++)
                c[i * rsc + j] = beta == 0 ? alpha * ab[i][j]
                                           : alpha * ab[i][j] + beta * c[i * rsc + j];
        return;
    }
    for (i = 0; i < m; i++)
        for (j = 0; j < n; j++)
            c[i * rsc + j] = beta == 0 ? alpha * ab[i][j] : alpha * ab[i][j] + beta * c[i * rsc + j];
}

/* c[0..w) = alpha*acc (+ beta*c) */
static void FM_TFN(put)(FM_T *FM_RESTRICT c, const FM_T *FM_RESTRICT acc, ptrdiff_t w,
                        FM_T alpha, FM_T beta)
{
    ptrdiff_t j;
    if (beta == 0)
        for (j = 0; j < w; j++) c[j] = alpha * acc[j];
    else
        for (j = 0; j < w; j++) c[j] = alpha * acc[j] + beta * c[j];
}

/* Direct product, B row-major (csb == 1): each row of C in chunks of
 * FM_GEN_W columns, C_chunk += A(i,p) * B(p, chunk) over p (axpy form). */
#define FM_GEN_W 128
static void FM_TFN(direct_rm)(FM_T *c, ptrdiff_t rsc, const FM_T *a, ptrdiff_t rsa, ptrdiff_t csa,
                              const FM_T *b, ptrdiff_t rsb, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                              FM_T alpha, FM_T beta, const fm_epilogue *epi, ptrdiff_t i0,
                              ptrdiff_t j0)
{
    FM_T acc[FM_GEN_W];
    ptrdiff_t i, jj, j, p;
    for (i = 0; i < m; i++) {
        FM_T *ci = c + i * rsc;
        for (jj = 0; jj < n; jj += FM_GEN_W) {
            ptrdiff_t w = FM_MIN(FM_GEN_W, n - jj);
            for (j = 0; j < w; j++) acc[j] = 0;
            for (p = 0; p < k; p++) {
                const FM_T aip = a[i * rsa + p * csa], *bp = b + p * rsb + jj;
                for (j = 0; j < w; j++) acc[j] += aip * bp[j];
            }
            FM_TFN(put)(ci + jj, acc, w, alpha, beta);
        }
        if (epi) FM_FN(fm_epi_row)(ci, i0 + i, j0, n, epi);
    }
}

/* Direct product, B = W^T (rsb == 1) and A row-major (csa == 1): each C
 * element a dot product of two contiguous rows, in four partial sums. */
static void FM_TFN(direct_dot)(FM_T *c, ptrdiff_t rsc, const FM_T *a, ptrdiff_t rsa,
                               const FM_T *b, ptrdiff_t csb, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                               FM_T alpha, FM_T beta, const fm_epilogue *epi, ptrdiff_t i0,
                               ptrdiff_t j0)
{
    ptrdiff_t i, j, p;
    for (i = 0; i < m; i++) {
        const FM_T *ai = a + i * rsa;
        FM_T *ci = c + i * rsc;
        for (j = 0; j < n; j++) {
            const FM_T *bj = b + j * csb;
            FM_T s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            for (p = 0; p + 4 <= k; p += 4) {
                s0 += ai[p] * bj[p];
                s1 += ai[p + 1] * bj[p + 1];
                s2 += ai[p + 2] * bj[p + 2];
                s3 += ai[p + 3] * bj[p + 3];
            }
            for (; p < k; p++) s0 += ai[p] * bj[p];
            s0 = (s0 + s1) + (s2 + s3);
            ci[j] = beta == 0 ? alpha * s0 : alpha * s0 + beta * ci[j];
        }
        if (epi) FM_FN(fm_epi_row)(ci, i0 + i, j0, n, epi);
    }
}
