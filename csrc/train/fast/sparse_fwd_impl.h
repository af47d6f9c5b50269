/*
 * sparse_fwd_impl.h -- the forward product of a training step at batch 1-2
 * that reads only the rows of W whose inputs are not all zero (included per
 * dtype and per target by sparse_fwd.c, sparse_fwd_avx2.c and
 * sparse_fwd_avx512.c; FM_SFFN names this target's function).
 *
 *   c[r, j] = beta * c[r, j] + sum over i with x[:, i] != 0 of x[r, i] W[i, j]
 *
 * x (rows, IN), W (IN, OUT) and c (rows, OUT) row-major, 1 <= rows <= 2.
 * ReLU hidden layers leave about half of their outputs at exactly zero, and
 * a blank pixel is a zero input: those rows of W are not read at all.  A
 * skipped term is 0 * W[i, j], which adds nothing for a finite W (fm_train
 * checks the weights after every epoch; the terms taken are added in the
 * order of i, as the dense pass does).  The rows taken go 4 at a time over
 * column panels of c that stay in L1; from memory (pf) each row is
 * prefetched FM_PF_AXPY_BYTES ahead, and a row's last lines hand the
 * prefetch over to the next group's rows, not to the (maybe skipped) rows
 * after it in memory.
 *
 * Sums run in the dtype; fma where the target has it.
 */

#ifdef __AVX__
#define FM_SF_LANES (256 / (int)sizeof(FM_T))
#else
#define FM_SF_LANES (128 / (int)sizeof(FM_T))
#endif
#ifdef __FMA__
#define FM_SF_FMA(a, b, c) _Generic((a), float: fmaf, default: fma)(a, b, c)
#else
#define FM_SF_FMA(a, b, c) ((a) * (b) + (c))
#endif
#define FM_SF_CHUNK 64 /* row indices gathered at a time (a multiple of 4) */

/* Prefetch byte o of a group's row q: inside the panel (w bytes wide) from
 * the row itself, past it from the next group's row q at o - w. */
FM_INLINE void FM_SFFN(pf_line)(const FM_T *b, const FM_T *nb, ptrdiff_t o, ptrdiff_t w)
{
    if (o < w)
        FM_PREFETCH_L2((const char *)b + o);
    else if (nb && o - w < w)
        FM_PREFETCH_L2((const char *)nb + (o - w));
}

/* c[r, 0..w) += sum_q a[r][q] * b_q[0..w) for R rows of c and 4 rows b_q
 * (a group short of 4 rows pads with a zero coefficient on b_0). */
FM_INLINE void FM_SFFN(group)(const int R, FM_T *FM_RESTRICT c, ptrdiff_t ldc, FM_T a[2][4],
                              const FM_T *FM_RESTRICT b0, const FM_T *FM_RESTRICT b1,
                              const FM_T *FM_RESTRICT b2, const FM_T *FM_RESTRICT b3,
                              const FM_T *const *nb, ptrdiff_t w, int pf)
{
    enum { LN = FM_SF_LANES };
    const FM_T *b[4];
    ptrdiff_t j, v;
    int r, q;
    b[0] = b0; b[1] = b1; b[2] = b2; b[3] = b3;
#define FM_SF_BODY(jj)                                                                        \
    do {                                                                                      \
        const FM_T v0 = b0[jj], v1 = b1[jj], v2 = b2[jj], v3 = b3[jj];                        \
        for (r = 0; r < R; r++) {                                                             \
            FM_T s = FM_SF_FMA(a[r][0], v0, c[r * ldc + (jj)]);                               \
            s = FM_SF_FMA(a[r][1], v1, s);                                                    \
            s = FM_SF_FMA(a[r][2], v2, s);                                                    \
            c[r * ldc + (jj)] = FM_SF_FMA(a[r][3], v3, s);                                    \
        }                                                                                     \
    } while (0)
    for (j = 0; j + LN <= w; j += LN) {
        if (pf) /* W from memory (fm_internal.h) */
            for (v = 0; v < LN * (ptrdiff_t)sizeof(FM_T); v += 64)
                for (q = 0; q < 4; q++)
                    FM_SFFN(pf_line)(b[q], nb ? nb[q] : NULL,
                                     j * (ptrdiff_t)sizeof(FM_T) + v + FM_PF_AXPY_BYTES,
                                     w * (ptrdiff_t)sizeof(FM_T));
        for (v = 0; v < LN; v++) FM_SF_BODY(j + v);
    }
    for (; j < w; j++) FM_SF_BODY(j);
#undef FM_SF_BODY
}

/* Columns [j0, j1) of c (see the top), R rows of x. */
FM_INLINE void FM_SFFN(cols_r)(const int R, FM_T *c, const FM_T *x, const FM_T *w, FM_T beta,
                               ptrdiff_t IN, ptrdiff_t OUT, ptrdiff_t j0, ptrdiff_t j1)
{
    /* a panel of at most 16 KiB of c stays in L1 while the rows stream by */
    const ptrdiff_t np = FM_MAX(64, (ptrdiff_t)16384 / (ptrdiff_t)sizeof(FM_T) / R / 16 * 16);
    const int pf = IN * OUT * (ptrdiff_t)sizeof(FM_T) >= FM_PF_MIN_BYTES;
    ptrdiff_t idx[FM_SF_CHUNK], p0, i, j, g, n;
    int r, q;
    for (p0 = j0; p0 < j1; p0 += np) {
        const ptrdiff_t pw = FM_MIN(np, j1 - p0);
        FM_T *cp = c + p0;
        const FM_T *wp = w + p0;
        for (r = 0; r < R; r++)
            for (j = 0; j < pw; j++)
                cp[r * OUT + j] = beta == 0 ? (FM_T)0 : beta * cp[r * OUT + j];
        for (i = 0; i < IN;) {
            for (n = 0; i < IN && n < FM_SF_CHUNK; i++) {
                int nz = x[i] != 0;
                if (R == 2) nz |= x[IN + i] != 0;
                if (nz) idx[n++] = i;
            }
            for (g = 0; g < n; g += 4) {
                const ptrdiff_t k = FM_MIN(4, n - g), nk = FM_MIN(4, n - g - 4);
                const FM_T *b[4], *nbq[4];
                FM_T a[2][4];
                for (q = 0; q < 4; q++) {
                    b[q] = wp + idx[g + (q < k ? q : 0)] * OUT;
                    nbq[q] = nk > 0 ? wp + idx[g + 4 + (q < nk ? q : 0)] * OUT : NULL;
                    for (r = 0; r < R; r++) a[r][q] = q < k ? x[r * IN + idx[g + q]] : (FM_T)0;
                }
                FM_SFFN(group)(R, cp, OUT, a, b[0], b[1], b[2], b[3], nk > 0 ? nbq : NULL, pw,
                               pf);
            }
        }
    }
}

typedef struct {
    FM_T *c;
    const FM_T *x, *w;
    FM_T beta;
    ptrdiff_t rows, IN, OUT;
} FM_SFFN(job);

/* part t of nt: a share of c's columns, in whole 64-byte lines */
static void FM_SFFN(task)(void *arg, int t, int nt)
{
    const FM_SFFN(job) *jb = (const FM_SFFN(job) *)arg;
    const ptrdiff_t line = 64 / (ptrdiff_t)sizeof(FM_T), nl = (jb->OUT + line - 1) / line;
    const ptrdiff_t j0 = FM_MIN(jb->OUT, nl * t / nt * line);
    const ptrdiff_t j1 = FM_MIN(jb->OUT, nl * (t + 1) / nt * line);
    if (jb->rows == 1)
        FM_SFFN(cols_r)(1, jb->c, jb->x, jb->w, jb->beta, jb->IN, jb->OUT, j0, j1);
    else
        FM_SFFN(cols_r)(2, jb->c, jb->x, jb->w, jb->beta, jb->IN, jb->OUT, j0, j1);
}

void FM_SFFN(fwd)(FM_T *c, const FM_T *x, const FM_T *w, FM_T beta, ptrdiff_t rows,
                  ptrdiff_t IN, ptrdiff_t OUT, int n_threads)
{
    FM_SFFN(job) jb;
    jb.c = c; jb.x = x; jb.w = w; jb.beta = beta;
    jb.rows = rows; jb.IN = IN; jb.OUT = OUT;
    fm_par_run(fm_par_threads(rows * IN * OUT, FM_GEMM_MT_WORK, n_threads), FM_SFFN(task), &jb);
}

#undef FM_SF_FMA
#undef FM_SF_LANES
#undef FM_SF_CHUNK
