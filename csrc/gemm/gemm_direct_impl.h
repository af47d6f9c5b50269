/*
 * gemm_direct_impl.h -- the direct (unpacked) kernels of the avx2 and avx512
 * targets for small and GEMV-shaped products, over the vector vocabulary of
 * gemm_simd_impl.h (included per dtype after it, before gemm_blocked_impl.h,
 * which picks them by the FM_DIRECT_* rules of gemm_config.h).
 * C (m,n) with row stride rsc; A (m,k) and B (k,n) with general strides.
 */

/* ---- direct kernels (no packing) for small and GEMV-shaped products ---- */

/* c[0..) = alpha*acc + beta*c over the lanes of mask mk (beta == 0: C not read) */
FM_INLINE void FM_TFN(vput)(FM_T *c, FM_V acc, FM_VM mk, int masked, FM_T alpha, FM_T beta)
{
    FM_V r = FM_VMUL(FM_VSET1(alpha), acc);
    if (masked) {
        if (beta != 0) r = FM_VFMA(FM_VSET1(beta), FM_VLOADM(c, mk), r);
        FM_VSTOREM(c, mk, r);
    } else {
        if (beta != 0) r = FM_VFMA(FM_VSET1(beta), FM_VLOAD(c), r);
        FM_VSTORE(c, r);
    }
}

/* One R x V-vector tile (R <= 8, V <= 2, R*V <= 8) of the row-major-B product over
 * the full depth k; when `masked`, the last vector holds only the lanes of
 * mk.  R, V and masked are constants at every call, so acc[][] lives in
 * registers.  A may have any strides. */
FM_INLINE void FM_TFN(drm_tile)(const int R, const int V, const int masked, FM_T *c,
                                ptrdiff_t rsc, const FM_T *a, ptrdiff_t rsa, ptrdiff_t csa,
                                const FM_T *b, ptrdiff_t rsb, FM_VM mk, ptrdiff_t k, FM_T alpha,
                                FM_T beta)
{
    FM_V acc[8][2], bv[2];
    ptrdiff_t p;
    int r, v;
    for (r = 0; r < R; r++)
        for (v = 0; v < V; v++) acc[r][v] = FM_VZERO();
    for (p = 0; p < k; p++, b += rsb, a += csa) {
        for (v = 0; v < V; v++)
            bv[v] = masked && v == V - 1 ? FM_VLOADM(b + v * FM_VL, mk) : FM_VLOAD(b + v * FM_VL);
        for (r = 0; r < R; r++) {
            FM_V ar = FM_VSET1(a[r * rsa]);
            for (v = 0; v < V; v++) acc[r][v] = FM_VFMA(ar, bv[v], acc[r][v]);
        }
    }
    for (r = 0; r < R; r++)
        for (v = 0; v < V; v++)
            FM_TFN(vput)(c + r * rsc + v * FM_VL, acc[r][v], mk, masked && v == V - 1, alpha,
                         beta);
}

/* All columns of R rows (R <= 4): tiles of 2 vectors, then the tail. */
FM_INLINE void FM_TFN(drm_rows)(const int R, FM_T *c, ptrdiff_t rsc, const FM_T *a,
                                ptrdiff_t rsa, ptrdiff_t csa, const FM_T *b, ptrdiff_t rsb,
                                ptrdiff_t n, ptrdiff_t k, FM_T alpha, FM_T beta)
{
    const FM_VM all = FM_VMASK(FM_VL);
    ptrdiff_t j = 0;
    for (; j + 2 * FM_VL <= n; j += 2 * FM_VL)
        FM_TFN(drm_tile)(R, 2, 0, c + j, rsc, a, rsa, csa, b + j, rsb, all, k, alpha, beta);
    if (n - j > FM_VL)
        FM_TFN(drm_tile)(R, 2, 1, c + j, rsc, a, rsa, csa, b + j, rsb, FM_VMASK(n - j - FM_VL),
                         k, alpha, beta);
    else if (n - j == FM_VL)
        FM_TFN(drm_tile)(R, 1, 0, c + j, rsc, a, rsa, csa, b + j, rsb, all, k, alpha, beta);
    else if (n > j)
        FM_TFN(drm_tile)(R, 1, 1, c + j, rsc, a, rsa, csa, b + j, rsb, FM_VMASK(n - j), k,
                         alpha, beta);
}

/* A narrow C (n <= VL): one vector per row, 8 rows per tile so that 8 FMA
 * chains are in flight. */
FM_INLINE void FM_TFN(drm_narrow)(const int R, FM_T *c, ptrdiff_t rsc, const FM_T *a,
                                  ptrdiff_t rsa, ptrdiff_t csa, const FM_T *b, ptrdiff_t rsb,
                                  ptrdiff_t n, ptrdiff_t k, FM_T alpha, FM_T beta)
{
    if (n == FM_VL)
        FM_TFN(drm_tile)(R, 1, 0, c, rsc, a, rsa, csa, b, rsb, FM_VMASK(FM_VL), k, alpha, beta);
    else
        FM_TFN(drm_tile)(R, 1, 1, c, rsc, a, rsa, csa, b, rsb, FM_VMASK(n), k, alpha, beta);
}

/* GEMV, m == 1: c = alpha * a.B + beta*c with B row-major.  4 vectors of
 * columns at a time, even and odd p in separate sums: 8 independent FMA
 * chains (AVX2 needs 2 pipes x 4 cycles of latency in flight). */
static void FM_TFN(gemv_rm)(FM_T *c, const FM_T *a, ptrdiff_t csa, const FM_T *b, ptrdiff_t rsb,
                            ptrdiff_t n, ptrdiff_t k, FM_T alpha, FM_T beta)
{
    ptrdiff_t j = 0, p;
    int v;
    for (; j + 4 * FM_VL <= n; j += 4 * FM_VL) {
        FM_V s0[4], s1[4];
        const FM_T *bj = b + j;
        for (v = 0; v < 4; v++) s0[v] = s1[v] = FM_VZERO();
        for (p = 0; p + 2 <= k; p += 2) {
            FM_V a0 = FM_VSET1(a[p * csa]), a1 = FM_VSET1(a[(p + 1) * csa]);
            for (v = 0; v < 4; v++) {
                s0[v] = FM_VFMA(a0, FM_VLOAD(bj + p * rsb + v * FM_VL), s0[v]);
                s1[v] = FM_VFMA(a1, FM_VLOAD(bj + (p + 1) * rsb + v * FM_VL), s1[v]);
            }
        }
        if (p < k) {
            FM_V a0 = FM_VSET1(a[p * csa]);
            for (v = 0; v < 4; v++) s0[v] = FM_VFMA(a0, FM_VLOAD(bj + p * rsb + v * FM_VL), s0[v]);
        }
        for (v = 0; v < 4; v++)
            FM_TFN(vput)(c + j + v * FM_VL, FM_VADD(s0[v], s1[v]), FM_VMASK(FM_VL), 0, alpha, beta);
    }
    for (; j < n; j += FM_VL) { /* < 4 vectors left: 4 sums over p mod 4 each */
        ptrdiff_t w = FM_MIN(FM_VL, n - j);
        FM_VM mk = FM_VMASK(w);
        FM_V s[4];
        const FM_T *bj = b + j;
        for (v = 0; v < 4; v++) s[v] = FM_VZERO();
        for (p = 0; p + 4 <= k; p += 4)
            for (v = 0; v < 4; v++)
                s[v] = FM_VFMA(FM_VSET1(a[(p + v) * csa]), FM_VLOADM(bj + (p + v) * rsb, mk), s[v]);
        for (; p < k; p++)
            s[0] = FM_VFMA(FM_VSET1(a[p * csa]), FM_VLOADM(bj + p * rsb, mk), s[0]);
        FM_TFN(vput)(c + j, FM_VADD(FM_VADD(s[0], s[1]), FM_VADD(s[2], s[3])), mk, w < FM_VL,
                     alpha, beta);
    }
}

/* c[0..n) += a0 b0 + a1 b1 + a2 b2 + a3 b3 over full vectors, then the
 * masked tail (mk: the n - nv lanes past the last full vector) */
FM_INLINE void FM_TFN(axpy4)(FM_T *c, FM_V a0, const FM_T *b0, FM_V a1, const FM_T *b1,
                             FM_V a2, const FM_T *b2, FM_V a3, const FM_T *b3, ptrdiff_t nv,
                             ptrdiff_t n, FM_VM mk, int pf)
{
    ptrdiff_t j;
    for (j = 0; j < nv; j += FM_VL) {
        FM_V s;
        if (pf) { /* B from memory (fm_internal.h) */
            FM_PREFETCH_L2((const char *)(b0 + j) + FM_PF_AXPY_BYTES);
            FM_PREFETCH_L2((const char *)(b1 + j) + FM_PF_AXPY_BYTES);
            FM_PREFETCH_L2((const char *)(b2 + j) + FM_PF_AXPY_BYTES);
            FM_PREFETCH_L2((const char *)(b3 + j) + FM_PF_AXPY_BYTES);
        }
        s = FM_VFMA(a0, FM_VLOAD(b0 + j), FM_VLOAD(c + j));
        s = FM_VFMA(a1, FM_VLOAD(b1 + j), s);
        s = FM_VFMA(a2, FM_VLOAD(b2 + j), s);
        FM_VSTORE(c + j, FM_VFMA(a3, FM_VLOAD(b3 + j), s));
    }
    if (nv < n) {
        FM_V s = FM_VFMA(a0, FM_VLOADM(b0 + j, mk), FM_VLOADM(c + j, mk));
        s = FM_VFMA(a1, FM_VLOADM(b1 + j, mk), s);
        s = FM_VFMA(a2, FM_VLOADM(b2 + j, mk), s);
        FM_VSTOREM(c + j, mk, FM_VFMA(a3, FM_VLOADM(b3 + j, mk), s));
    }
}

/* A few rows (m <= 3) times a B too big for L2, B row-major:
 * c = alpha * a.B + beta*c with B's rows streamed in order, four at a time,
 * over column panels of at most 16 KiB of C (which stays in L1), so each
 * visit of a row of B reads >= 4 KiB in a line.  gemv_rm / drm_rows keep C
 * in registers but visit each row of B for only 2-4 vectors before jumping
 * a row ahead: once B comes from L3 or memory the prefetchers lose that
 * pattern.  1 thread, x.W (C workbench), us: 512x512 f64 at 1 row 70 -> 24;
 * 2048x2048 at 1 row f32 774 -> 322, f64 2123 -> 1083; 784x512 at 2 rows
 * f32 46 -> 37, f64 210 -> 73, at 3 rows f32 86 -> 52, f64 411 -> 104.  At 4
 * rows drm_rows' 8 accumulators win (784x512 f32 38 against 66 streamed). */
static void FM_TFN(rows_stream)(FM_T *c, ptrdiff_t rsc, const FM_T *a, ptrdiff_t rsa,
                                ptrdiff_t csa, const FM_T *b, ptrdiff_t rsb, ptrdiff_t m,
                                ptrdiff_t n, ptrdiff_t k, FM_T alpha, FM_T beta)
{
    const ptrdiff_t np =
        FM_MAX(FM_VL, (ptrdiff_t)16384 / (ptrdiff_t)sizeof(FM_T) / m / FM_VL * FM_VL);
    const int pf = k * n * (ptrdiff_t)sizeof(FM_T) >= FM_PF_MIN_BYTES;
    ptrdiff_t j0, j, p, r;
    for (j0 = 0; j0 < n; j0 += np) {
        const ptrdiff_t w = FM_MIN(np, n - j0), nv = w / FM_VL * FM_VL;
        const FM_VM mk = FM_VMASK(w - nv);
        for (r = 0; r < m; r++)
            for (j = 0; j < w; j++)
                c[r * rsc + j0 + j] = beta == 0 ? (FM_T)0 : beta * c[r * rsc + j0 + j];
        for (p = 0; p + 4 <= k; p += 4) {
            const FM_T *b0 = b + p * rsb + j0;
            for (r = 0; r < m; r++) {
                const FM_T *ar = a + r * rsa + p * csa;
                FM_TFN(axpy4)(c + r * rsc + j0, FM_VSET1(alpha * ar[0]), b0,
                              FM_VSET1(alpha * ar[csa]), b0 + rsb,
                              FM_VSET1(alpha * ar[2 * csa]), b0 + 2 * rsb,
                              FM_VSET1(alpha * ar[3 * csa]), b0 + 3 * rsb, nv, w, mk, pf);
            }
        }
        for (; p < k; p++) /* the last k % 4 rows of B, one at a time */
            for (r = 0; r < m; r++) {
                const FM_V ap = FM_VSET1(alpha * a[r * rsa + p * csa]);
                const FM_T *bp = b + p * rsb + j0;
                FM_T *cr = c + r * rsc + j0;
                for (j = 0; j < nv; j += FM_VL)
                    FM_VSTORE(cr + j, FM_VFMA(ap, FM_VLOAD(bp + j), FM_VLOAD(cr + j)));
                if (nv < w)
                    FM_VSTOREM(cr + j, mk,
                               FM_VFMA(ap, FM_VLOADM(bp + j, mk), FM_VLOADM(cr + j, mk)));
            }
    }
}

/* Rows [0, m) for depth k: the tallest row block that fits, then smaller. */
static void FM_TFN(drm_block)(FM_T *c, ptrdiff_t rsc, const FM_T *a, ptrdiff_t rsa, ptrdiff_t csa,
                              const FM_T *b, ptrdiff_t rsb, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                              FM_T alpha, FM_T beta, const fm_epilogue *epi, ptrdiff_t i0,
                              ptrdiff_t j0)
{
    ptrdiff_t i = 0, r, R;
    while (i < m) {
        FM_T *ci = c + i * rsc;
        const FM_T *ai = a + i * rsa;
        R = m - i >= 8 && n <= FM_VL ? 8 : m - i >= 4 ? 4 : m - i >= 2 ? 2 : 1;
        switch (R) {
        case 8: FM_TFN(drm_narrow)(8, ci, rsc, ai, rsa, csa, b, rsb, n, k, alpha, beta); break;
        case 4: FM_TFN(drm_rows)(4, ci, rsc, ai, rsa, csa, b, rsb, n, k, alpha, beta); break;
        case 2: FM_TFN(drm_rows)(2, ci, rsc, ai, rsa, csa, b, rsb, n, k, alpha, beta); break;
        default:
            if (m == 1)
                FM_TFN(gemv_rm)(ci, ai, csa, b, rsb, n, k, alpha, beta);
            else
                FM_TFN(drm_rows)(1, ci, rsc, ai, rsa, csa, b, rsb, n, k, alpha, beta);
        }
        if (epi)
            for (r = 0; r < R; r++) FM_FN(fm_epi_row)(ci + r * rsc, i0 + i + r, j0, n, epi);
        i += R;
    }
}

/* Direct product, B row-major (csb == 1), A any strides.  Deep products run
 * in k slices (beta first, then accumulate) so that the slice of B stays in
 * L1; for A = X^T (rsa == 1), where neighbouring row blocks share A's cache
 * lines, the slice is also cut so that its kb x m part of A fits L2. */
static void FM_TFN(direct_rm)(FM_T *c, ptrdiff_t rsc, const FM_T *a, ptrdiff_t rsa, ptrdiff_t csa,
                              const FM_T *b, ptrdiff_t rsb, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                              FM_T alpha, FM_T beta, const fm_epilogue *epi, ptrdiff_t i0,
                              ptrdiff_t j0)
{
    ptrdiff_t pc, kb = FM_DIRECT_KB;
    if (m <= 3 && k * n * (ptrdiff_t)sizeof(FM_T) > FM_STREAM_B_BYTES) {
        ptrdiff_t r;
        FM_TFN(rows_stream)(c, rsc, a, rsa, csa, b, rsb, m, n, k, alpha, beta);
        if (epi)
            for (r = 0; r < m; r++) FM_FN(fm_epi_row)(c + r * rsc, i0 + r, j0, n, epi);
        return;
    }
    if (rsa == 1 && csa != 1)
        kb = FM_MAX(16, FM_MIN(kb, FM_DIRECT_L2 / (ptrdiff_t)sizeof(FM_T) / m / 4 * 4));
    for (pc = 0; pc < k; pc += kb) {
        ptrdiff_t kc = FM_MIN(kb, k - pc);
        FM_TFN(drm_block)(c, rsc, a + pc * csa, rsa, csa, b + pc * rsb, rsb, m, n, kc, alpha,
                          pc == 0 ? beta : (FM_T)1, pc + kc == k ? epi : NULL, i0, j0);
    }
}

/* One R x J block (R <= 2, J <= 4) of dot products C(i,j) = A_i . Bt_j over
 * contiguous rows A_i = a + i*rsa, Bt_j = b + j*csb; VL lanes per step, the
 * last step masked, then one horizontal sum per element. */
FM_INLINE void FM_TFN(ddot_tile)(const int R, const int J, FM_T *c, ptrdiff_t rsc, const FM_T *a,
                                 ptrdiff_t rsa, const FM_T *b, ptrdiff_t csb, ptrdiff_t k,
                                 FM_T alpha, FM_T beta)
{
    FM_V acc[2][4], av[2], bv;
    ptrdiff_t p;
    int r, j;
    for (r = 0; r < R; r++)
        for (j = 0; j < J; j++) acc[r][j] = FM_VZERO();
    for (p = 0; p + FM_VL <= k; p += FM_VL)
        for (j = 0; j < J; j++) {
            bv = FM_VLOAD(b + j * csb + p);
            for (r = 0; r < R; r++) {
                if (j == 0) av[r] = FM_VLOAD(a + r * rsa + p);
                acc[r][j] = FM_VFMA(av[r], bv, acc[r][j]);
            }
        }
    if (p < k) {
        FM_VM mk = FM_VMASK(k - p);
        for (j = 0; j < J; j++) {
            bv = FM_VLOADM(b + j * csb + p, mk);
            for (r = 0; r < R; r++) {
                if (j == 0) av[r] = FM_VLOADM(a + r * rsa + p, mk);
                acc[r][j] = FM_VFMA(av[r], bv, acc[r][j]);
            }
        }
    }
    for (r = 0; r < R; r++)
        for (j = 0; j < J; j++) {
            FM_T s = FM_VHSUM(acc[r][j]), *cij = c + r * rsc + j;
            *cij = beta == 0 ? alpha * s : alpha * s + beta * *cij;
        }
}

/* J columns of R rows, J = 1..4 chosen at run time. */
FM_INLINE void FM_TFN(ddot_cols)(const int R, ptrdiff_t J, FM_T *c, ptrdiff_t rsc, const FM_T *a,
                                 ptrdiff_t rsa, const FM_T *b, ptrdiff_t csb, ptrdiff_t k,
                                 FM_T alpha, FM_T beta)
{
    switch (J) {
    case 4: FM_TFN(ddot_tile)(R, 4, c, rsc, a, rsa, b, csb, k, alpha, beta); break;
    case 3: FM_TFN(ddot_tile)(R, 3, c, rsc, a, rsa, b, csb, k, alpha, beta); break;
    case 2: FM_TFN(ddot_tile)(R, 2, c, rsc, a, rsa, b, csb, k, alpha, beta); break;
    default: FM_TFN(ddot_tile)(R, 1, c, rsc, a, rsa, b, csb, k, alpha, beta);
    }
}

/* Direct product, B = W^T (rsb == 1) and A row-major (csa == 1). */
static void FM_TFN(direct_dot)(FM_T *c, ptrdiff_t rsc, const FM_T *a, ptrdiff_t rsa,
                               const FM_T *b, ptrdiff_t csb, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                               FM_T alpha, FM_T beta, const fm_epilogue *epi, ptrdiff_t i0,
                               ptrdiff_t j0)
{
    ptrdiff_t i, j, r;
    for (i = 0; i < m; i += 2) {
        ptrdiff_t R = FM_MIN(2, m - i);
        FM_T *ci = c + i * rsc;
        const FM_T *ai = a + i * rsa;
        for (j = 0; j < n; j += 4) {
            if (R == 2)
                FM_TFN(ddot_cols)(2, FM_MIN(4, n - j), ci + j, rsc, ai, rsa, b + j * csb, csb, k,
                                  alpha, beta);
            else
                FM_TFN(ddot_cols)(1, FM_MIN(4, n - j), ci + j, rsc, ai, rsa, b + j * csb, csb, k,
                                  alpha, beta);
        }
        if (epi)
            for (r = 0; r < R; r++) FM_FN(fm_epi_row)(ci + r * rsc, i0 + i + r, j0, n, epi);
    }
}
