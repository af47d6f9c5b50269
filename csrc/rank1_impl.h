/*
 * rank1_impl.h -- one pass over W for a small-batch plain-SGD step of a
 * layer l > 0: its delta for the layer below and its weight update
 * (included per dtype and per target by rank1.c, rank1_avx2.c and
 * rank1_avx512.c; FM_R1FN names this target's function).
 *
 * The forward was  a_{l+1} = act_l(x . W + b),  x = dropout(a_l) or a_l.
 * Shapes: w is (IN, OUT) row-major; d (rows, OUT) is this layer's delta;
 * x (rows, IN) the layer's input; a (rows, IN) the undropped a_l, which
 * act' reads.  For every row i of W, with the OLD row:
 *   1. dn[r, i] = act'(a[r, i]) * (W[i, :] . d[r, :])          (= , r < rows)
 *   2. W[i, :]  = s * W[i, :] - lr * sum_r x[r, i] d[r, :]      (s = 1 - lr*wd)
 * dn == NULL skips 1 (an update-only pass).  The GEMM path streams W three
 * times per step at batch 1 (x.W, d.W^T, the update); this streams it twice
 * (the forward and this pass), reading each row of W once from wherever it
 * lives and finishing it in L1.  A row whose inputs x[:, i] are all zero is
 * left unwritten when s == 1 (ReLU zeros, dropped units, blank pixels):
 * W + 0*d is W for finite d, and a non-finite d shows in dn and the biases.
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

/* sum_j w[j] d[j], j < n, in FM_R1_LANES independent lanes (elementwise:
 * the compiler keeps them in vector registers, FM_R1_LANES / VL chains of
 * FMAs in flight where one reduction variable would wait on each FMA's
 * latency), then summed pairwise. */
FM_INLINE FM_T FM_R1FN(dot)(const FM_T *FM_RESTRICT w, const FM_T *FM_RESTRICT d, ptrdiff_t n)
{
    FM_T part[FM_R1_LANES] = {0}, acc = 0;
    ptrdiff_t j, v;
    for (j = 0; j + FM_R1_LANES <= n; j += FM_R1_LANES)
        for (v = 0; v < FM_R1_LANES; v++) part[v] = FM_R1_FMA(w[j + v], d[j + v], part[v]);
    for (v = 0; v < n - j; v++) part[v] = FM_R1_FMA(w[j + v], d[j + v], part[v]);
    FM_SIMD_SUM(acc)
    for (v = 0; v < FM_R1_LANES; v++) acc += part[v];
    return acc;
}

/* Rows [i0, i1) of W: the pass described at the top. */
static void FM_R1FN(rows)(FM_T *FM_RESTRICT dn, FM_T *FM_RESTRICT w, const FM_T *FM_RESTRICT d,
                          const FM_T *FM_RESTRICT x, FM_T lr, FM_T s, ptrdiff_t rows,
                          ptrdiff_t IN, ptrdiff_t OUT, ptrdiff_t i0, ptrdiff_t i1)
{
    ptrdiff_t i, j, r;
    for (i = i0; i < i1; i++) {
        FM_T *FM_RESTRICT wi = w + i * OUT;
        int any = s != 1;
        if (dn) /* 1. the dot products, before the update */
            for (r = 0; r < rows; r++) dn[r * IN + i] = FM_R1FN(dot)(wi, d + r * OUT, OUT);
        for (r = 0; r < rows; r++) any |= x[r * IN + i] != 0;
        if (!any) continue;
        { /* 2. the update: row 0 with the decay, then the other rows */
            const FM_T c0 = -lr * x[i];
            for (j = 0; j < OUT; j++) wi[j] = FM_R1_FMA(c0, d[j], s * wi[j]);
        }
        for (r = 1; r < rows; r++) {
            const FM_T *FM_RESTRICT dr = d + r * OUT;
            const FM_T cr = -lr * x[r * IN + i];
            if (cr == 0) continue;
            for (j = 0; j < OUT; j++) wi[j] = FM_R1_FMA(cr, dr[j], wi[j]);
        }
    }
}

void FM_R1FN(sgd)(FM_T *dn, FM_T *w, const FM_T *d, const FM_T *x, const FM_T *a, int act,
                  double slope, FM_T lr, FM_T s, ptrdiff_t rows, ptrdiff_t IN, ptrdiff_t OUT,
                  int n_threads)
{
    ptrdiff_t r;
    const int nt = rows * IN * OUT < FM_GEMM_MT_WORK ? 1 : fm_threads_for(rows * IN * OUT,
                                                                          n_threads);
#ifdef _OPENMP
    if (nt > 1) {
#pragma omp parallel num_threads(nt)
        {
            const int t = omp_get_thread_num(), T = omp_get_num_threads();
            FM_R1FN(rows)(dn, w, d, x, lr, s, rows, IN, OUT, IN * t / T, IN * (t + 1) / T);
        }
    } else
#endif
        FM_R1FN(rows)(dn, w, d, x, lr, s, rows, IN, OUT, 0, IN);
    (void)nt;
    if (dn)
        for (r = 0; r < rows; r++)
            FM_FN(fm_dact_span)(dn + r * IN, a + r * IN, IN, act, (FM_T)slope);
}

#undef FM_R1_FMA
#undef FM_R1_LANES
