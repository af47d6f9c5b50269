/*
 * csr_impl.h -- the input layer over CSR rows, one target's instance
 * (included per dtype by csr_generic.c, csr_avx2.c and csr_avx512.c, each
 * built with its ISA's flags; FM_CSRFN names the target's functions;
 * contract in fastmlp.h, "CSR input").
 *
 * x (rows of a CSR matrix, n_cols columns), w (n_cols, OUT) row-major,
 * b (OUT), out / dz (N, OUT) row-major, dw (n_cols, OUT).
 *   forward:  out[i, :] = act(sum_k data[k] * w[indices[k], :] + b)
 *   backward: dw[indices[k], :] (+)= data[k] * dz[i, :],  db = sum_i dz[i, :]
 * for the stored values k of row i, in their stored order.  Each stored
 * value is an axpy over a row of W (or of dW), vectorised by the compiler
 * over the OUT columns.  Every element's sum runs in the same order on every
 * target and for any thread count; targets with fma round each term once.
 */

#ifdef __FMA__
#define FM_CSR_FMA(a, b, c) _Generic((a), float: fmaf, default: fma)(a, b, c)
#else
#define FM_CSR_FMA(a, b, c) ((a) * (b) + (c))
#endif

typedef struct {
    FM_T *out, *dw;
    const FM_T *dz, *w, *b;
    const fm_csr *x;
    const int64_t *sel;
    ptrdiff_t lo, N, OUT;
    int act, acc;
    double slope;
} FM_CSRFN(job);

/* Prefetch the W row of stored value k (W rows are scattered: the hardware
 * prefetcher does not follow the indices). */
FM_INLINE void FM_CSRFN(pf_row)(const FM_CSRFN(job) *jb, ptrdiff_t k)
{
    const FM_T *r = jb->w + fm_csr_at(jb->x->indices, jb->x->index64, k) * jb->OUT;
    ptrdiff_t o;
    for (o = 0; o < jb->OUT * (ptrdiff_t)sizeof(FM_T); o += 64) FM_PREFETCH_L2((const char *)r + o);
}

/* o[0..OUT) += the stored values [k0, k1) of a row times their rows of W,
 * four at a time in registers (the same order as one at a time). */
static void FM_CSRFN(row_sum)(FM_T *FM_RESTRICT o, const FM_CSRFN(job) *jb, ptrdiff_t k0,
                              ptrdiff_t k1)
{
    const fm_csr *x = jb->x;
    const FM_T *data = (const FM_T *)x->data;
    const ptrdiff_t OUT = jb->OUT;
    ptrdiff_t j, k = k0;
    for (; k + 4 <= k1; k += 4) {
        const FM_T v0 = data[k], v1 = data[k + 1], v2 = data[k + 2], v3 = data[k + 3];
        const FM_T *FM_RESTRICT w0 = jb->w + fm_csr_at(x->indices, x->index64, k) * OUT;
        const FM_T *FM_RESTRICT w1 = jb->w + fm_csr_at(x->indices, x->index64, k + 1) * OUT;
        const FM_T *FM_RESTRICT w2 = jb->w + fm_csr_at(x->indices, x->index64, k + 2) * OUT;
        const FM_T *FM_RESTRICT w3 = jb->w + fm_csr_at(x->indices, x->index64, k + 3) * OUT;
        ptrdiff_t q;
        for (q = k + 4; q < FM_MIN(k + 8, k1); q++) FM_CSRFN(pf_row)(jb, q);
        for (j = 0; j < OUT; j++) {
            FM_T s = FM_CSR_FMA(v0, w0[j], o[j]);
            s = FM_CSR_FMA(v1, w1[j], s);
            s = FM_CSR_FMA(v2, w2[j], s);
            o[j] = FM_CSR_FMA(v3, w3[j], s);
        }
    }
    for (; k < k1; k++) {
        const FM_T v = data[k];
        const FM_T *FM_RESTRICT wr = jb->w + fm_csr_at(x->indices, x->index64, k) * OUT;
        for (j = 0; j < OUT; j++) o[j] = FM_CSR_FMA(v, wr[j], o[j]);
    }
}

/* forward, part t of nt: a share of the rows (each row's sum is independent) */
static void FM_CSRFN(fwd_task)(void *arg, int t, int nt)
{
    const FM_CSRFN(job) *jb = (const FM_CSRFN(job) *)arg;
    const fm_csr *x = jb->x;
    const ptrdiff_t OUT = jb->OUT, i0 = jb->N * t / nt, i1 = jb->N * (t + 1) / nt;
    ptrdiff_t i, j;
    for (i = i0; i < i1; i++) {
        const ptrdiff_t r = fm_csr_row(jb->sel, jb->lo, i);
        const ptrdiff_t k0 = fm_csr_at(x->indptr, x->index64, r);
        FM_T *FM_RESTRICT o = jb->out + i * OUT;
        for (j = 0; j < OUT; j++) o[j] = 0;
        FM_CSRFN(row_sum)(o, jb, k0, fm_csr_at(x->indptr, x->index64, r + 1));
        /* the GEMM's epilogue: bias after the sum, then the activation */
        if (jb->b)
            for (j = 0; j < OUT; j++) o[j] += jb->b[j];
        if (jb->act == FM_ACT_SOFTMAX) FM_FN(fm_softmax_row)(o, OUT);
        else FM_FN(fm_act_span)(o, OUT, jb->act, (FM_T)jb->slope);
    }
}

void FM_CSRFN(fwd)(FM_T *out, const fm_csr *x, const int64_t *sel, ptrdiff_t lo, const FM_T *w,
                   const FM_T *b, int act, double slope, ptrdiff_t N, ptrdiff_t OUT,
                   int n_threads)
{
    FM_CSRFN(job) jb;
    memset(&jb, 0, sizeof jb);
    jb.out = out; jb.x = x; jb.sel = sel; jb.lo = lo; jb.w = w; jb.b = b;
    jb.act = act; jb.slope = slope; jb.N = N; jb.OUT = OUT;
    if (N <= 0) return;
    fm_par_run(fm_par_threads((fm_csr_rows_nnz(x, sel, lo, N) + N) * OUT, FM_OMP_MIN_WORK,
                              n_threads),
               FM_CSRFN(fwd_task), &jb);
}

/* backward, part t of nt: dw's columns [j0, j1) in whole 64-byte lines, all
 * rows -- no two threads write one element, and each element's sum runs in
 * row order, so the result does not depend on nt */
static void FM_CSRFN(bwd_task)(void *arg, int t, int nt)
{
    const FM_CSRFN(job) *jb = (const FM_CSRFN(job) *)arg;
    const fm_csr *x = jb->x;
    const FM_T *data = (const FM_T *)x->data;
    const ptrdiff_t OUT = jb->OUT, line = 64 / (ptrdiff_t)sizeof(FM_T);
    const ptrdiff_t nl = (OUT + line - 1) / line;
    const ptrdiff_t j0 = FM_MIN(OUT, nl * t / nt * line);
    const ptrdiff_t j1 = FM_MIN(OUT, nl * (t + 1) / nt * line);
    ptrdiff_t i, j, k;
    if (j0 >= j1) return;
    if (!jb->acc) { /* = : rows of columns no selected row holds stay 0 */
        if (j0 == 0 && j1 == OUT) {
            memset(jb->dw, 0, (size_t)(x->n_cols * OUT) * sizeof(FM_T));
        } else {
            for (k = 0; k < x->n_cols; k++)
                for (j = j0; j < j1; j++) jb->dw[k * OUT + j] = 0;
        }
    }
    for (i = 0; i < jb->N; i++) {
        const ptrdiff_t r = fm_csr_row(jb->sel, jb->lo, i);
        const ptrdiff_t k1 = fm_csr_at(x->indptr, x->index64, r + 1);
        const FM_T *FM_RESTRICT dzr = jb->dz + i * OUT;
        for (k = fm_csr_at(x->indptr, x->index64, r); k < k1; k++) {
            const FM_T v = data[k];
            FM_T *FM_RESTRICT dwr = jb->dw + fm_csr_at(x->indices, x->index64, k) * OUT;
            if (k + 4 < k1) /* the dW row four values ahead (scattered rows) */
                FM_PREFETCH_L2(jb->dw + fm_csr_at(x->indices, x->index64, k + 4) * OUT + j0);
            for (j = j0; j < j1; j++) dwr[j] = FM_CSR_FMA(v, dzr[j], dwr[j]);
        }
    }
}

void FM_CSRFN(bwd)(FM_T *dw, FM_T *db, const FM_T *dz, const fm_csr *x, const int64_t *sel,
                   ptrdiff_t lo, ptrdiff_t N, ptrdiff_t OUT, int acc, int n_threads)
{
    FM_CSRFN(job) jb;
    ptrdiff_t i, j, work;
    memset(&jb, 0, sizeof jb);
    jb.dw = dw; jb.dz = dz; jb.x = x; jb.sel = sel; jb.lo = lo; jb.N = N; jb.OUT = OUT;
    jb.acc = acc;
    work = fm_csr_rows_nnz(x, sel, lo, N) * OUT + (acc ? 0 : x->n_cols * OUT / 8);
    fm_par_run(fm_par_threads(work, FM_OMP_MIN_WORK, n_threads), FM_CSRFN(bwd_task), &jb);
    /* db in row order, as the dense layer's (linear_impl.h, fm_colsum) */
    if (!acc)
        for (j = 0; j < OUT; j++) db[j] = 0;
    for (i = 0; i < N; i++)
        for (j = 0; j < OUT; j++) db[j] += dz[i * OUT + j];
}

#undef FM_CSR_FMA
