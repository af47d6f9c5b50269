/*
 * gemm_blocked_impl.h -- the packed, cache-blocked GEMM every fast target
 * shares: packing, the five loops, threading, the small-problem switch, and
 * the target's entry FM_TENTRY (fm_gemm_<target>_<dtype>, see gemm.h).
 *
 *   C(m,n) = epi(alpha * A(m,k) . B(k,n) + beta * C)       (fastmlp.h)
 *   A(i,p) = a[i*rsa + p*csa], B(p,j) = b[p*rsb + j*csb], C(i,j) = c[i*rsc + j]
 *
 * Loops (BLIS): JC (NC cols) -> PC (KC) -> pack B -> IC (MC rows) -> pack A
 *               -> JR (NR) -> IR (MR) -> micro-kernel.
 * beta applies on the first PC iteration only (later ones accumulate) and
 * the epilogue on the last, right after each tile is written, while it is
 * still in L1.  Threads split the IC rows (or, when m is too small to feed
 * them, the JR panels) and pack B together; never PC (that would need a
 * reduction).
 *
 * Included once per dtype by gemm_generic.c, gemm_avx2.c and gemm_avx512.c,
 * after act_impl.h, with FM_TGT defined (gemm_config.h gives FM_MR..FM_NC)
 * and these kernels of the target already defined for FM_T:
 *   FM_UKR(m, n, k, a, b, c, rsc, alpha, beta)
 *       C tile (m <= MR, n <= NR) = alpha * Apanel . Bpanel + beta * C, from
 *       an MR x k packed A micro-panel and a k x NR packed B micro-panel; C is
 *       never read when beta == 0; only the m x n part is written.
 *   FM_TFN(direct_rm)(c, rsc, a, rsa, csa, b, rsb, m, n, k, alpha, beta, epi, i0, j0)
 *       unpacked product for a row-major B (csb == 1), epilogue included;
 *       i0, j0: where this block sits in the whole C (for bias and z).
 *   FM_TFN(direct_dot)(c, rsc, a, rsa, b, csb, m, n, k, alpha, beta, epi, i0, j0)
 *       unpacked product for B = W^T (rsb == 1) and a row-major A (csa == 1).
 * The packing routines are compiled with the including file's ISA flags.
 */

#if defined(__GNUC__) || defined(__clang__)
#define FM_PREFETCH_R(p) __builtin_prefetch(p)
#else
#define FM_PREFETCH_R(p) ((void)0)
#endif
#define FM_LINE ((ptrdiff_t)(64 / sizeof(FM_T))) /* elements per cache line */

/* Pack the mc x kc block of A at `a` (= &A(i0,p0)) into MR-row micro-panels:
 * panel r holds A(r*MR + i, p) at dst[r*MR*kc + p*MR + i], rows past mc = 0.
 * A is read once from memory in rows of only kc elements, too short for the
 * hardware prefetcher to follow, so the next panel is prefetched by hand. */
static void FM_TFN(pack_a)(FM_T *FM_RESTRICT dst, const FM_T *FM_RESTRICT a, ptrdiff_t rsa,
                           ptrdiff_t csa, ptrdiff_t mc, ptrdiff_t kc)
{
    ptrdiff_t ir, i, p;
    if (rsa == 1) { /* A^T stored row-major (x^T in dW = x^T.dz): each source row
                       p holds column p of the block, copied in runs of MR */
        for (p = 0; p < kc; p++) {
            const FM_T *s = a + p * csa;
            FM_T *d = dst + p * FM_MR;
            for (i = 0; i < mc; i += FM_LINE) FM_PREFETCH_R(s + 16 * csa + i);
            for (ir = 0; ir + FM_MR <= mc; ir += FM_MR, d += FM_MR * kc)
                for (i = 0; i < FM_MR; i++) d[i] = s[ir + i];
            if (ir < mc) {
                for (i = 0; i < mc - ir; i++) d[i] = s[ir + i];
                for (; i < FM_MR; i++) d[i] = 0;
            }
        }
        return;
    }
    for (ir = 0; ir < mc; ir += FM_MR, a += FM_MR * rsa, dst += FM_MR * kc) {
        ptrdiff_t mr = FM_MIN(FM_MR, mc - ir), mnext = FM_MIN(FM_MR, mc - ir - mr);
        if (csa == 1) /* row-major A: fetch the next panel's rows meanwhile */
            for (i = 0; i < mnext; i++)
                for (p = 0; p < kc; p += FM_LINE) FM_PREFETCH_R(a + (FM_MR + i) * rsa + p);
        if (mr == FM_MR) { /* MR rows in step, a constant-length inner loop */
            for (p = 0; p < kc; p++)
                for (i = 0; i < FM_MR; i++) dst[p * FM_MR + i] = a[i * rsa + p * csa];
        } else {
            for (p = 0; p < kc; p++) {
                for (i = 0; i < mr; i++) dst[p * FM_MR + i] = a[i * rsa + p * csa];
                for (; i < FM_MR; i++) dst[p * FM_MR + i] = 0;
            }
        }
    }
}

/* Pack NR-column micro-panels q0..q1-1 of the kc x nc block of B at `b`
 * (= &B(p0,j0)): panel q holds B(p, q*NR + j) at dst[q*NR*kc + p*NR + j],
 * columns past nc = 0. */
static void FM_TFN(pack_b)(FM_T *FM_RESTRICT dst, const FM_T *FM_RESTRICT b, ptrdiff_t rsb,
                           ptrdiff_t csb, ptrdiff_t nc, ptrdiff_t kc, ptrdiff_t q0, ptrdiff_t q1)
{
    ptrdiff_t q, j, p;
    for (q = q0; q < q1; q++) {
        FM_T *d = dst + q * FM_NR * kc;
        const FM_T *s = b + q * FM_NR * csb;
        ptrdiff_t nr = FM_MIN(FM_NR, nc - q * FM_NR);
        if (csb == 1) { /* row-major B (w in x.w, dz in x^T.dz): copy runs */
            for (p = 0; p < kc; p++) {
                for (j = 0; j < nr; j++) d[p * FM_NR + j] = s[p * rsb + j];
                for (; j < FM_NR; j++) d[p * FM_NR + j] = 0;
            }
        } else { /* B = W^T (rsb == 1, dz.w^T) or general: read along columns */
            if (rsb == 1 && q + 1 < q1) /* fetch the next panel's columns meanwhile */
                for (j = 0; j < FM_MIN(FM_NR, nc - (q + 1) * FM_NR); j++)
                    for (p = 0; p < kc; p += FM_LINE) FM_PREFETCH_R(s + (FM_NR + j) * csb + p);
            for (j = 0; j < nr; j++)
                for (p = 0; p < kc; p++) d[p * FM_NR + j] = s[j * csb + p * rsb];
            for (; j < FM_NR; j++)
                for (p = 0; p < kc; p++) d[p * FM_NR + j] = 0;
        }
    }
}

/* JR and IR loops over one packed A block (mc x kc) and the B micro-panels
 * q0..q1-1; c = &C(i0, j0).  epi != NULL only on the last PC iteration. */
static void FM_TFN(macro)(FM_T *c, ptrdiff_t rsc, const FM_T *ap, const FM_T *bp, ptrdiff_t mc,
                          ptrdiff_t nc, ptrdiff_t kc, ptrdiff_t q0, ptrdiff_t q1, FM_T alpha,
                          FM_T beta, const fm_epilogue *epi, ptrdiff_t i0, ptrdiff_t j0)
{
    ptrdiff_t q, ir, r;
    for (q = q0; q < q1; q++) {
        ptrdiff_t jr = q * FM_NR, nr = FM_MIN(FM_NR, nc - jr);
        const FM_T *bq = bp + q * FM_NR * kc;
        for (ir = 0; ir < mc; ir += FM_MR) {
            ptrdiff_t mr = FM_MIN(FM_MR, mc - ir);
            FM_T *ct = c + ir * rsc + jr;
            FM_UKR(mr, nr, kc, ap + ir * kc, bq, ct, rsc, alpha, beta);
            if (epi)
                for (r = 0; r < mr; r++)
                    FM_FN(fm_epi_row)(ct + r * rsc, i0 + ir + r, j0 + jr, nr, epi);
        }
    }
}

/* Everything one thread of the packed path needs. */
typedef struct {
    FM_T *c;
    const FM_T *a, *b;
    ptrdiff_t rsc, rsa, csa, rsb, csb, m, n, k;
    FM_T alpha, beta;
    const fm_epilogue *epi;
    FM_T *bbuf, *abuf;  /* shared packed B (KC x NC); nt private A blocks */
    ptrdiff_t a_stride; /* elements between two threads' A blocks */
    int split_cols;     /* 0: threads own rows (IC); 1: threads own NR panels */
} FM_TFN(job);

static void FM_TFN(barrier)(int nth)
{
    (void)nth;
#ifdef _OPENMP
    if (nth > 1) {
#pragma omp barrier
    }
#endif
}

/* Block size for splitting `total` into the fewest blocks of at most `max`,
 * as equal as possible (rounded up to `unit`): 784 = 4 x 196, not
 * 3 x 256 + 16, so no block is left with a sliver of work. */
static ptrdiff_t FM_TFN(balance)(ptrdiff_t total, ptrdiff_t max, ptrdiff_t unit)
{
    ptrdiff_t nb = (total + max - 1) / max, b = (total + nb - 1) / nb;
    return FM_MIN(max, (b + unit - 1) / unit * unit);
}

/* The loop nest as run by thread tid of nth (all threads run JC and PC;
 * barriers around each packing of the shared B; the parallel region's own
 * closing barrier ends the last step). */
static void FM_TFN(run)(const FM_TFN(job) *g, int tid, int nth)
{
    FM_T *ap = g->abuf + tid * g->a_stride;
    ptrdiff_t P = (g->m + FM_MR - 1) / FM_MR, r0 = 0, r1 = g->m, jc, pc, ic;
    if (!g->split_cols) {
        r0 = FM_MIN(g->m, P * tid / nth * FM_MR);
        r1 = FM_MIN(g->m, P * (tid + 1) / nth * FM_MR);
    }
    ptrdiff_t NCb = FM_TFN(balance)(g->n, FM_NC, FM_NR), KCb = FM_TFN(balance)(g->k, FM_KC, 4);
    ptrdiff_t MCb = FM_TFN(balance)(FM_MAX(r1 - r0, 1), FM_MC, FM_MR);
    for (jc = 0; jc < g->n; jc += NCb) {
        ptrdiff_t nc = FM_MIN(NCb, g->n - jc), Q = (nc + FM_NR - 1) / FM_NR;
        ptrdiff_t q0 = g->split_cols ? Q * tid / nth : 0;
        ptrdiff_t q1 = g->split_cols ? Q * (tid + 1) / nth : Q;
        for (pc = 0; pc < g->k; pc += KCb) {
            ptrdiff_t kc = FM_MIN(KCb, g->k - pc);
            FM_T beta = pc == 0 ? g->beta : (FM_T)1;
            const fm_epilogue *epi = pc + kc == g->k ? g->epi : NULL;
            FM_TFN(pack_b)(g->bbuf, g->b + pc * g->rsb + jc * g->csb, g->rsb, g->csb, nc, kc,
                           Q * tid / nth, Q * (tid + 1) / nth);
            FM_TFN(barrier)(nth);
            for (ic = r0; ic < r1 && q0 < q1; ic += MCb) {
                ptrdiff_t mc = FM_MIN(MCb, r1 - ic);
                FM_TFN(pack_a)(ap, g->a + ic * g->rsa + pc * g->csa, g->rsa, g->csa, mc, kc);
                FM_TFN(macro)(g->c + ic * g->rsc + jc, g->rsc, ap, g->bbuf, mc, nc, kc, q0, q1,
                              g->alpha, beta, epi, ic, jc);
            }
            if (pc + kc < g->k || jc + nc < g->n) /* B is packed again: wait for all */
                FM_TFN(barrier)(nth);
        }
    }
}

/* Split rows or panels?  Whichever gives the busiest thread fewer padded
 * multiply-adds (rows: it also shares B and does not repeat A packing). */
static int FM_TFN(split_cols)(ptrdiff_t m, ptrdiff_t n, int nt)
{
    ptrdiff_t P = (m + FM_MR - 1) / FM_MR, Q = (FM_MIN(n, FM_NC) + FM_NR - 1) / FM_NR;
    ptrdiff_t by_rows = (P + nt - 1) / nt * Q, by_cols = P * ((Q + nt - 1) / nt);
    return nt > 1 && by_cols < by_rows;
}

static void FM_TFN(packed)(FM_T *c, ptrdiff_t rsc, const FM_T *a, ptrdiff_t rsa, ptrdiff_t csa,
                           const FM_T *b, ptrdiff_t rsb, ptrdiff_t csb, ptrdiff_t m, ptrdiff_t n,
                           ptrdiff_t k, FM_T alpha, FM_T beta, const fm_epilogue *epi,
                           int n_threads)
{
    FM_TFN(job) g;
    int nt = fm_threads_for(m * n * k, n_threads);
    ptrdiff_t kc = FM_MIN(FM_KC, k), nc = FM_MIN(FM_NC, (n + FM_NR - 1) / FM_NR * FM_NR);
    ptrdiff_t mc = FM_MIN(FM_MC, (m + FM_MR - 1) / FM_MR * FM_MR);
    ptrdiff_t b_elems = (kc * nc + 15) / 16 * 16, a_elems = (kc * mc + 15) / 16 * 16;
    FM_T *buf = (FM_T *)fm_gemm_scratch((size_t)(b_elems + nt * a_elems) * sizeof(FM_T));
    if (!buf) { /* out of memory for pack buffers: the unpacked reference */
        FM_FN(fm_gemm_ref)(c, rsc, a, rsa, csa, b, rsb, csb, m, n, k, alpha, beta, epi,
                           n_threads);
        return;
    }
    g.c = c; g.a = a; g.b = b;
    g.rsc = rsc; g.rsa = rsa; g.csa = csa; g.rsb = rsb; g.csb = csb;
    g.m = m; g.n = n; g.k = k; g.alpha = alpha; g.beta = beta; g.epi = epi;
    g.bbuf = buf; g.abuf = buf + b_elems; g.a_stride = a_elems;
    g.split_cols = FM_TFN(split_cols)(m, n, nt);
#ifdef _OPENMP
    if (nt > 1) {
#pragma omp parallel num_threads(nt)
        FM_TFN(run)(&g, omp_get_thread_num(), omp_get_num_threads());
        return;
    }
#endif
    FM_TFN(run)(&g, 0, 1);
}

/* Rows [i0,i1) x columns [j0,j1) of C by the direct kernel that fits B. */
static void FM_TFN(direct_part)(FM_T *c, ptrdiff_t rsc, const FM_T *a, ptrdiff_t rsa,
                                ptrdiff_t csa, const FM_T *b, ptrdiff_t rsb, ptrdiff_t csb,
                                ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, FM_T alpha, FM_T beta,
                                const fm_epilogue *epi, ptrdiff_t i0, ptrdiff_t i1, ptrdiff_t j0,
                                ptrdiff_t j1)
{
    (void)m; (void)n;
    if (i1 <= i0 || j1 <= j0) return;
    if (csb == 1)
        FM_TFN(direct_rm)(c + i0 * rsc + j0, rsc, a + i0 * rsa, rsa, csa, b + j0, rsb, i1 - i0,
                          j1 - j0, k, alpha, beta, epi, i0, j0);
    else
        FM_TFN(direct_dot)(c + i0 * rsc + j0, rsc, a + i0 * rsa, rsa, b + j0 * csb, csb, i1 - i0,
                           j1 - j0, k, alpha, beta, epi, i0, j0);
}

/* Small problems: the direct kernels, threads only past FM_OMP_MIN_WORK
 * (splitting rows when there are enough, else columns). */
static void FM_TFN(direct)(FM_T *c, ptrdiff_t rsc, const FM_T *a, ptrdiff_t rsa, ptrdiff_t csa,
                           const FM_T *b, ptrdiff_t rsb, ptrdiff_t csb, ptrdiff_t m, ptrdiff_t n,
                           ptrdiff_t k, FM_T alpha, FM_T beta, const fm_epilogue *epi,
                           int n_threads)
{
    int nt = fm_threads_for(m * n * k, n_threads), t;
    int by_rows = m >= 8 * nt;
    if (nt == 1) { /* no OpenMP construct at all: even if(0) costs ~0.3 us */
        FM_TFN(direct_part)(c, rsc, a, rsa, csa, b, rsb, csb, m, n, k, alpha, beta, epi, 0, m, 0, n);
        return;
    }
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static)
#endif
    for (t = 0; t < nt; t++) {
        ptrdiff_t i0 = 0, i1 = m, j0 = 0, j1 = n;
        if (by_rows) {
            i0 = m * t / nt; i1 = m * (t + 1) / nt;
        } else { /* column blocks in whole cache lines */
            ptrdiff_t u = (n + 15) / 16;
            j0 = FM_MIN(n, u * t / nt * 16); j1 = FM_MIN(n, u * (t + 1) / nt * 16);
        }
        FM_TFN(direct_part)(c, rsc, a, rsa, csa, b, rsb, csb, m, n, k, alpha, beta, epi, i0, i1,
                            j0, j1);
    }
}

/* k == 0: C = epi(beta * C), the product being empty. */
static void FM_TFN(scale)(FM_T *c, ptrdiff_t rsc, ptrdiff_t m, ptrdiff_t n, FM_T beta,
                          const fm_epilogue *epi)
{
    ptrdiff_t i, j;
    for (i = 0; i < m; i++) {
        FM_T *ci = c + i * rsc;
        for (j = 0; j < n; j++) ci[j] = beta == 0 ? (FM_T)0 : beta * ci[j];
        if (epi) FM_FN(fm_epi_row)(ci, i, 0, n, epi);
    }
}

void FM_TENTRY(FM_T *c, ptrdiff_t rsc, const FM_T *a, ptrdiff_t rsa, ptrdiff_t csa,
               const FM_T *b, ptrdiff_t rsb, ptrdiff_t csb, ptrdiff_t m, ptrdiff_t n,
               ptrdiff_t k, FM_T alpha, FM_T beta, const fm_epilogue *epi, int n_threads)
{
    int rm_ok = csb == 1, dot_ok = rsb == 1 && csa == 1;
    int small = m < FM_DIRECT_M || m * n * k <= FM_DIRECT_WORK;
    int narrow = n <= FM_DIRECT_N || k <= FM_DIRECT_K;
    if (m <= 0 || n <= 0) return;
    if (epi && epi->kind == FM_EPI_NONE) epi = NULL;
    if (k <= 0)
        FM_TFN(scale)(c, rsc, m, n, beta, epi);
    else if ((rm_ok && (small || narrow)) || (dot_ok && small))
        FM_TFN(direct)(c, rsc, a, rsa, csa, b, rsb, csb, m, n, k, alpha, beta, epi, n_threads);
    else
        FM_TFN(packed)(c, rsc, a, rsa, csa, b, rsb, csb, m, n, k, alpha, beta, epi, n_threads);
}
