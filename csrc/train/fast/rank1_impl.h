/*
 * rank1_impl.h -- one pass over W for a small-batch plain-SGD step of a
 * layer l > 0: its delta for the layer below and its weight update
 * (included per dtype and per target by rank1.c, rank1_avx2.c and
 * rank1_avx512.c; FM_R1FN names this target's function).
 *
 * The forward was  a_{l+1} = act_l(x . W + b),  x = dropout(a_l) or a_l.
 * Shapes: w is (IN, OUT) row-major; d (rows, OUT) is this layer's delta;
 * x (rows, IN) the layer's input; a (rows, IN) the undropped a_l, which
 * act' reads; 1 <= rows <= 2.  For every row i of W, with the OLD row:
 *   1. dn[r, i] = act'(a[r, i]) * ([dn[r, i] +] W[i, :] . d[r, :])
 *                 (the bracket with acc: the deferred updates' part, lowrank.h)
 *   2. W[i, :]  = s * W[i, :] - lr * sum_r x[r, i] d[r, :]      (s = 1 - lr*wd)
 * lr = 0 and s = 1 make it a read-only pass: step 1 alone.
 * The GEMM path streams W three times per step at batch 1 (x.W, d.W^T, the
 * update); this streams it twice (the forward and this pass), each element
 * of W loaded once, meeting every row of d, stored updated.  A row whose inputs x[:, i] are all zero is
 * left unwritten when s == 1 (ReLU zeros, dropped units, blank pixels):
 * W + 0*d is W for finite d, and a non-finite d shows in dn and the biases.
 * Under ReLU such a row whose unit is dead in every row of a (act' = 0) is
 * not read at all: dn is 0 there, as fm_dact_span's select makes it.  From
 * memory, the prefetch running ahead of a row hands over at its end to the
 * next row read, not to the (maybe skipped) row after it in memory.
 *
 * Sums run in the dtype, in lanes like the GEMM's vectors; fma where the
 * target has it (under -std=c11 gcc does not contract a*b+c by itself).
 */

/* 256 bytes of lanes: 4 zmm / 8 ymm; 128 for SSE2's 16 xmm registers */
#ifdef __AVX__
#define FM_R1_LANES (256 / (int)sizeof(FM_T))
#else
#define FM_R1_LANES (128 / (int)sizeof(FM_T))
#endif
#ifdef __FMA__
#define FM_R1_FMA(a, b, c) _Generic((a), float: fmaf, default: fma)(a, b, c)
#else
#define FM_R1_FMA(a, b, c) ((a) * (b) + (c))
#endif

/* One row w = W[i, :] (n long) against R = 1 or 2 rows of d (rows d + r*ldd),
 * in one loop: each element of w is loaded once, meets the R rows of d for
 * the dot products, and is written back updated (write != 0):
 *   dot[r] = sum_j w[j] d_r[j] (old w);  w[j] = s w[j] + sum_r c[r] d_r[j].
 * The dot products run in LN lanes each (elementwise: the compiler keeps
 * them in vector registers, several chains of FMAs in flight where one
 * reduction variable would wait on each FMA's latency), summed at the end.
 * R is a constant at every call (FM_R1FN(rows)). */
FM_INLINE void FM_R1FN(row)(const int R, FM_T *dot, FM_T *FM_RESTRICT w,
                            const FM_T *FM_RESTRICT d, ptrdiff_t ldd, const FM_T *c, FM_T s,
                            int write, int pf, const FM_T *nw, const FM_T *nw2, ptrdiff_t n)
{
    const ptrdiff_t nb = n * (ptrdiff_t)sizeof(FM_T);
    enum { LN = FM_R1_LANES };
    FM_T part[2][LN], cr[2];
    const int ln = R == 1 ? LN : LN / 2;
    ptrdiff_t j, v;
    int r;
    for (r = 0; r < R; r++) {
        cr[r] = c[r]; /* a local copy: no aliasing with w for the compiler to check */
        for (v = 0; v < LN; v++) part[r][v] = 0;
    }
#define FM_R1_BODY(jv)                                                                        \
    do {                                                                                      \
        const FM_T wj = w[jv];                                                                \
        FM_T u = s * wj;                                                                      \
        for (r = 0; r < R; r++) {                                                             \
            part[r][v] = FM_R1_FMA(wj, d[r * ldd + (jv)], part[r][v]);                        \
            u = FM_R1_FMA(cr[r], d[r * ldd + (jv)], u);                                       \
        }                                                                                     \
        if (write) w[jv] = u;                                                                 \
    } while (0)
    for (j = 0; j + ln <= n; j += ln) {
        if (pf) /* W from memory (fm_internal.h); past the row's end, the next row read */
            for (v = 0; v < ln * (ptrdiff_t)sizeof(FM_T); v += 64) {
                const ptrdiff_t o = j * (ptrdiff_t)sizeof(FM_T) + v + FM_PF_ROW_BYTES;
                if (o < nb)
                    FM_PREFETCH_L2((const char *)w + o);
                else if (nw && o - nb < nb)
                    FM_PREFETCH_L2((const char *)nw + (o - nb));
                else if (nw2 && o - 2 * nb < nb)
                    FM_PREFETCH_L2((const char *)nw2 + (o - 2 * nb));
            }
        for (v = 0; v < ln; v++) FM_R1_BODY(j + v);
    }
    for (v = 0; v < n - j; v++) FM_R1_BODY(j + v);
#undef FM_R1_BODY
    for (r = 0; r < R; r++) {
        FM_T acc = 0;
        FM_SIMD_SUM(acc)
        for (v = 0; v < ln; v++) acc += part[r][v];
        dot[r] = acc;
    }
}

/* 1 when row i of W is not read: a dead ReLU unit in every row of a, and
 * the row unchanged (s == 1, every -lr * x[r, i] zero); its dn is set to 0. */
FM_INLINE int FM_R1FN(skip)(const int R, FM_T *FM_RESTRICT dn, const FM_T *FM_RESTRICT x,
                            const FM_T *relu_a, FM_T lr, FM_T s, ptrdiff_t IN, ptrdiff_t i)
{
    int r, keep = s != 1 || !relu_a;
    for (r = 0; r < R && !keep; r++) keep = -lr * x[r * IN + i] != 0 || relu_a[r * IN + i] > 0;
    if (keep) return 0;
    for (r = 0; r < R; r++) dn[r * IN + i] = 0;
    return 1;
}

/* Rows [i0, i1) of W: the pass described at the top, R rows of d at a time
 * (acc: dn already holds a term the dot products are added to). */
FM_INLINE void FM_R1FN(rows_r)(const int R, FM_T *FM_RESTRICT dn, FM_T *FM_RESTRICT w,
                               const FM_T *FM_RESTRICT d, const FM_T *FM_RESTRICT x,
                               const FM_T *relu_a, FM_T lr, FM_T s, int acc, ptrdiff_t IN,
                               ptrdiff_t OUT, ptrdiff_t i0, ptrdiff_t i1)
{
    const int pf = IN * OUT * (ptrdiff_t)sizeof(FM_T) >= FM_PF_MIN_BYTES;
    ptrdiff_t i, nx, nx2;
    int r;
    /* the first two rows read; the skipped ones get dn = 0 */
    for (i = i0; i < i1 && FM_R1FN(skip)(R, dn, x, relu_a, lr, s, IN, i); i++) {}
    for (nx = i + 1; nx < i1 && FM_R1FN(skip)(R, dn, x, relu_a, lr, s, IN, nx); nx++) {}
    for (; i < i1; i = nx, nx = nx2) {
        FM_T c[2], dot[2];
        int any = s != 1;
        for (r = 0; r < R; r++) {
            c[r] = -lr * x[r * IN + i];
            any |= c[r] != 0;
        }
        /* the two next rows read, where the prefetch goes past this row's end */
        const FM_T *nw = nx < i1 ? w + nx * OUT : NULL, *nw2;
        for (nx2 = nx + 1; nx2 < i1 && FM_R1FN(skip)(R, dn, x, relu_a, lr, s, IN, nx2); nx2++) {}
        nw2 = nx2 < i1 ? w + nx2 * OUT : NULL;
        /* two inlined copies: the read-only one drops the update's FMAs */
        if (any)
            FM_R1FN(row)(R, dot, w + i * OUT, d, OUT, c, s, 1, pf, nw, nw2, OUT);
        else
            FM_R1FN(row)(R, dot, w + i * OUT, d, OUT, c, s, 0, pf, nw, nw2, OUT);
        for (r = 0; r < R; r++) dn[r * IN + i] = acc ? dn[r * IN + i] + dot[r] : dot[r];
    }
}

static void FM_R1FN(rows)(FM_T *dn, FM_T *w, const FM_T *d, const FM_T *x, const FM_T *relu_a,
                          FM_T lr, FM_T s, int acc, ptrdiff_t rows, ptrdiff_t IN, ptrdiff_t OUT,
                          ptrdiff_t i0, ptrdiff_t i1)
{
    if (rows == 1)
        FM_R1FN(rows_r)(1, dn, w, d, x, relu_a, lr, s, acc, IN, OUT, i0, i1);
    else
        FM_R1FN(rows_r)(2, dn, w, d, x, relu_a, lr, s, acc, IN, OUT, i0, i1);
}

typedef struct {
    FM_T *dn, *w;
    const FM_T *d, *x, *relu_a;
    FM_T lr, s;
    int acc;
    ptrdiff_t rows, IN, OUT;
} FM_R1FN(job);

/* part t of nt: a contiguous share of W's rows (fm_par_run's task) */
static void FM_R1FN(task)(void *arg, int t, int nt)
{
    const FM_R1FN(job) *j = (const FM_R1FN(job) *)arg;
    FM_R1FN(rows)(j->dn, j->w, j->d, j->x, j->relu_a, j->lr, j->s, j->acc, j->rows, j->IN,
                  j->OUT, j->IN * t / nt, j->IN * (t + 1) / nt);
}

void FM_R1FN(sgd)(FM_T *dn, FM_T *w, const FM_T *d, const FM_T *x, const FM_T *a, int act,
                  double slope, FM_T lr, FM_T s, int acc, ptrdiff_t rows, ptrdiff_t IN,
                  ptrdiff_t OUT, int n_threads)
{
    FM_R1FN(job) j;
    ptrdiff_t r;
    j.dn = dn; j.w = w; j.d = d; j.x = x; j.lr = lr; j.s = s; j.acc = acc;
    j.relu_a = act == FM_ACT_RELU ? a : NULL;
    j.rows = rows; j.IN = IN; j.OUT = OUT;
    /* threads as for the two GEMMs it replaces (rows x IN x OUT multiply-adds each) */
    fm_par_run(fm_par_threads(rows * IN * OUT, FM_GEMM_MT_WORK, n_threads), FM_R1FN(task), &j);
    for (r = 0; r < rows; r++)
        FM_FN(fm_dact_span)(dn + r * IN, a + r * IN, IN, act, (FM_T)slope);
}

#undef FM_R1_FMA
#undef FM_R1_LANES
