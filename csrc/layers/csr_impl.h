/*
 * csr_impl.h -- the input layer over CSR rows (included per dtype by
 * csr.c; contract in fastmlp.h, "CSR input").
 *
 * x (rows of a CSR matrix, n_cols columns), w (n_cols, OUT) row-major,
 * b (OUT), out / dz (N, OUT) row-major, dw (n_cols, OUT).
 *   forward:  out[i, :] = act(sum_k data[k] * w[indices[k], :] + b)
 *   backward: dw[indices[k], :] (+)= data[k] * dz[i, :],  db = sum_i dz[i, :]
 * for the stored values k of row i, in their stored order.
 */

typedef struct {
    FM_T *out, *dw;
    const FM_T *dz, *w, *b;
    const fm_csr *x;
    const int64_t *sel;
    ptrdiff_t lo, N, OUT;
    int act, acc;
    double slope;
} FM_FN(fm_csr_job);

/* forward, part t of nt: a share of the rows (each row's sum is independent) */
static void FM_FN(fm_csr_fwd_task)(void *arg, int t, int nt)
{
    const FM_FN(fm_csr_job) *jb = (const FM_FN(fm_csr_job) *)arg;
    const fm_csr *x = jb->x;
    const FM_T *data = (const FM_T *)x->data;
    const ptrdiff_t OUT = jb->OUT, i0 = jb->N * t / nt, i1 = jb->N * (t + 1) / nt;
    ptrdiff_t i, j, k;
    for (i = i0; i < i1; i++) {
        const ptrdiff_t r = fm_csr_row(jb->sel, jb->lo, i);
        const ptrdiff_t k1 = fm_csr_at(x->indptr, x->index64, r + 1);
        FM_T *FM_RESTRICT o = jb->out + i * OUT;
        for (j = 0; j < OUT; j++) o[j] = 0;
        for (k = fm_csr_at(x->indptr, x->index64, r); k < k1; k++) {
            const FM_T v = data[k];
            const FM_T *FM_RESTRICT wr = jb->w + fm_csr_at(x->indices, x->index64, k) * OUT;
            for (j = 0; j < OUT; j++) o[j] += v * wr[j];
        }
        /* the GEMM's epilogue: bias after the sum, then the activation */
        if (jb->b)
            for (j = 0; j < OUT; j++) o[j] += jb->b[j];
        if (jb->act == FM_ACT_SOFTMAX) FM_FN(fm_softmax_row)(o, OUT);
        else FM_FN(fm_act_span)(o, OUT, jb->act, (FM_T)jb->slope);
    }
}

void FM_FN(fm_csr_linear_forward)(FM_T *out, const fm_csr *x, const int64_t *sel, ptrdiff_t lo,
                                  const FM_T *w, const FM_T *b, int act, double slope,
                                  ptrdiff_t N, ptrdiff_t OUT, int n_threads)
{
    FM_FN(fm_csr_job) jb;
    memset(&jb, 0, sizeof jb);
    jb.out = out; jb.x = x; jb.sel = sel; jb.lo = lo; jb.w = w; jb.b = b;
    jb.act = act; jb.slope = slope; jb.N = N; jb.OUT = OUT;
    if (N <= 0) return;
    fm_par_run(fm_par_threads((fm_csr_rows_nnz(x, sel, lo, N) + N) * OUT, FM_OMP_MIN_WORK,
                              n_threads),
               FM_FN(fm_csr_fwd_task), &jb);
}

/* backward, part t of nt: dw's columns [j0, j1) in whole 64-byte lines, all
 * rows -- no two threads write one element, and each element's sum runs in
 * row order, so the result does not depend on nt */
static void FM_FN(fm_csr_bwd_task)(void *arg, int t, int nt)
{
    const FM_FN(fm_csr_job) *jb = (const FM_FN(fm_csr_job) *)arg;
    const fm_csr *x = jb->x;
    const FM_T *data = (const FM_T *)x->data;
    const ptrdiff_t OUT = jb->OUT, line = 64 / (ptrdiff_t)sizeof(FM_T);
    const ptrdiff_t nl = (OUT + line - 1) / line;
    const ptrdiff_t j0 = FM_MIN(OUT, nl * t / nt * line), j1 = FM_MIN(OUT, nl * (t + 1) / nt * line);
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
            for (j = j0; j < j1; j++) dwr[j] += v * dzr[j];
        }
    }
}

void FM_FN(fm_csr_linear_backward)(FM_T *dw, FM_T *db, const FM_T *dz, const fm_csr *x,
                                   const int64_t *sel, ptrdiff_t lo, ptrdiff_t N, ptrdiff_t OUT,
                                   int acc, int n_threads)
{
    FM_FN(fm_csr_job) jb;
    ptrdiff_t i, j, work;
    memset(&jb, 0, sizeof jb);
    jb.dw = dw; jb.dz = dz; jb.x = x; jb.sel = sel; jb.lo = lo; jb.N = N; jb.OUT = OUT;
    jb.acc = acc;
    work = fm_csr_rows_nnz(x, sel, lo, N) * OUT + (acc ? 0 : x->n_cols * OUT / 8);
    fm_par_run(fm_par_threads(work, FM_OMP_MIN_WORK, n_threads), FM_FN(fm_csr_bwd_task), &jb);
    /* db in row order, as the dense layer's (linear_impl.h, fm_colsum) */
    if (!acc)
        for (j = 0; j < OUT; j++) db[j] = 0;
    for (i = 0; i < N; i++)
        for (j = 0; j < OUT; j++) db[j] += dz[i * OUT + j];
}

int FM_FN(fm_csr_rows_finite)(const fm_csr *x, const int64_t *sel, ptrdiff_t lo, ptrdiff_t N)
{
    const FM_T *data = (const FM_T *)x->data;
    ptrdiff_t i;
    for (i = 0; i < N; i++) {
        const ptrdiff_t r = fm_csr_row(sel, lo, i);
        const ptrdiff_t k0 = fm_csr_at(x->indptr, x->index64, r);
        if (!FM_FN(fm_all_finite)(data + k0, fm_csr_at(x->indptr, x->index64, r + 1) - k0))
            return 0;
    }
    return 1;
}
