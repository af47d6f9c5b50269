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
 * the epilogue on the last, once per row of each finished MC x NC block
 * (see FM_TFN(macro) for why not per micro-tile).  Threads each own a block of C: whole MR-row panels (the IC
 * loop) and/or whole NR-column panels (the JC loop), never a slice of PC
 * (that would need a reduction); see FM_TFN(packed).  Small, narrow and
 * GEMV-shaped products skip packing (FM_TFN(direct)).
 *
 * Included once per dtype by gemm_generic.c, gemm_avx2.c and gemm_avx512.c,
 * after act_impl.h, with FM_TGT defined (gemm_config.h gives FM_MR..FM_NC)
 * and these kernels of the target already defined for FM_T:
 *   (optional, with FM_PACK_TR defined) FM_TFN(pack_tr)(dst, ld, src, rs, r, rpad, kc):
 *       dst[p*ld + i] = src[i*rs + p] for i < r, zeros for r <= i < rpad,
 *       p < kc; may write up to 15 elements past the last row (see pack_a).
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
            if (p + 16 < kc) /* rows 16 ahead: the hardware misses this pattern */
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
#ifdef FM_PACK_TR
        if (csa == 1) { /* the target's register transpose */
            FM_TFN(pack_tr)(dst, FM_MR, a, rsa, mr, FM_MR, kc);
            continue;
        }
#endif
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

/* Pack the kc x nc block of B at `b` (= &B(p0,j0)) into NR-column
 * micro-panels: panel q holds B(p, q*NR + j) at dst[q*NR*kc + p*NR + j],
 * columns past nc = 0. */
static void FM_TFN(pack_b)(FM_T *FM_RESTRICT dst, const FM_T *FM_RESTRICT b, ptrdiff_t rsb,
                           ptrdiff_t csb, ptrdiff_t nc, ptrdiff_t kc)
{
    ptrdiff_t q, j, p, Q = (nc + FM_NR - 1) / FM_NR;
    if (csb == 1) { /* row-major B (w in x.w, dz in x^T.dz): each source row is
                       read once, front to back, and dealt out to the panels */
        ptrdiff_t qf = nc / FM_NR; /* panels 0..qf-1 are full */
        for (p = 0; p < kc; p++) {
            const FM_T *s = b + p * rsb;
            FM_T *d = dst + p * FM_NR;
            for (q = 0; q < qf; q++) /* constant length: inline moves, no memcpy */
                for (j = 0; j < FM_NR; j++) d[q * FM_NR * kc + j] = s[q * FM_NR + j];
            if (qf < Q) {
                ptrdiff_t nr = nc - qf * FM_NR;
                for (j = 0; j < nr; j++) d[qf * FM_NR * kc + j] = s[qf * FM_NR + j];
                for (; j < FM_NR; j++) d[qf * FM_NR * kc + j] = 0;
            }
        }
        return;
    }
    for (q = 0; q < Q; q++) { /* B = W^T (rsb == 1, dz.w^T) or general */
        FM_T *d = dst + q * FM_NR * kc;
        const FM_T *s = b + q * FM_NR * csb;
        ptrdiff_t nr = FM_MIN(FM_NR, nc - q * FM_NR);
        if (rsb == 1 && q + 1 < Q) /* fetch the next panel's columns meanwhile */
            for (j = 0; j < FM_MIN(FM_NR, nc - (q + 1) * FM_NR); j++)
                for (p = 0; p < kc; p += FM_LINE) FM_PREFETCH_R(s + (FM_NR + j) * csb + p);
#ifdef FM_PACK_TR
        if (rsb == 1) { /* W's rows through the target's register transpose */
            FM_TFN(pack_tr)(d, FM_NR, s, csb, nr, FM_NR, kc);
            continue;
        }
#endif
        for (j = 0; j < nr; j++)
            for (p = 0; p < kc; p++) d[p * FM_NR + j] = s[j * csb + p * rsb];
        for (; j < FM_NR; j++)
            for (p = 0; p < kc; p++) d[p * FM_NR + j] = 0;
    }
}

/* JR and IR loops over one packed A block (mc x kc) and packed B block
 * (kc x nc); c = &C(i0, j0).  epi != NULL only on the last PC iteration.
 * The epilogue runs per row over the finished block (fm_epi_row on rows of
 * nc elements) rather than per micro-tile: reading a tile back right after
 * its vector stores stalls on store forwarding (the masked loads of the
 * compiled relu' cannot forward), and 8- or 32-element calls cost more in
 * call overhead (docs/performance.md, "GEMM").
 * A shallow product (kc <= 64: dX of a 10-wide layer) is all C traffic, so
 * it walks C row block by row block instead (IR outside JR). */
static void FM_TFN(macro)(FM_T *c, ptrdiff_t rsc, const FM_T *ap, const FM_T *bp, ptrdiff_t mc,
                          ptrdiff_t nc, ptrdiff_t kc, FM_T alpha, FM_T beta,
                          const fm_epilogue *epi, ptrdiff_t i0, ptrdiff_t j0)
{
    ptrdiff_t q, ir, r, Q = (nc + FM_NR - 1) / FM_NR;
    if (kc <= 64) {
        for (ir = 0; ir < mc; ir += FM_MR) {
            ptrdiff_t mr = FM_MIN(FM_MR, mc - ir);
            for (q = 0; q < Q; q++)
                FM_UKR(mr, FM_MIN(FM_NR, nc - q * FM_NR), kc, ap + ir * kc, bp + q * FM_NR * kc,
                       c + ir * rsc + q * FM_NR, rsc, alpha, beta);
            if (epi)
                for (r = 0; r < mr; r++)
                    FM_FN(fm_epi_row)(c + (ir + r) * rsc, i0 + ir + r, j0, nc, epi);
        }
        return;
    }
    for (q = 0; q < Q; q++)
        for (ir = 0; ir < mc; ir += FM_MR)
            FM_UKR(FM_MIN(FM_MR, mc - ir), FM_MIN(FM_NR, nc - q * FM_NR), kc, ap + ir * kc,
                   bp + q * FM_NR * kc, c + ir * rsc + q * FM_NR, rsc, alpha, beta);
    if (epi)
        for (r = 0; r < mc; r++) FM_FN(fm_epi_row)(c + r * rsc, i0 + r, j0, nc, epi);
}

/* Block size for splitting `total` into the fewest blocks of at most `max`,
 * as equal as possible (rounded up to `unit`): 784 = 2 x 392, not
 * 512 + 272, so no block is left with a sliver of work. */
static ptrdiff_t FM_TFN(balance)(ptrdiff_t total, ptrdiff_t max, ptrdiff_t unit)
{
    ptrdiff_t nb = (total + max - 1) / max, b = (total + nb - 1) / nb;
    return FM_MIN(max, (b + unit - 1) / unit * unit);
}

/* The epilogue of the block of C at (i0, j0): bias and z shifted along. */
static fm_epilogue FM_TFN(epi_at)(const fm_epilogue *epi, ptrdiff_t i0, ptrdiff_t j0)
{
    fm_epilogue e = *epi;
    if (e.bias) e.bias = (const FM_T *)e.bias + j0;
    if (e.z) e.z = (const FM_T *)e.z + i0 * e.rsz + j0;
    return e;
}

/* The loop nest on one thread, over the whole (sub-)problem it is given,
 * with this thread's own pack buffers.  Returns -1 (nothing written) when
 * they cannot be allocated. */
static int FM_TFN(blocked)(FM_T *c, ptrdiff_t rsc, const FM_T *a, ptrdiff_t rsa, ptrdiff_t csa,
                           const FM_T *b, ptrdiff_t rsb, ptrdiff_t csb, ptrdiff_t m, ptrdiff_t n,
                           ptrdiff_t k, FM_T alpha, FM_T beta, const fm_epilogue *epi)
{
    ptrdiff_t NCb = FM_TFN(balance)(n, FM_NC, FM_NR), KCb = FM_TFN(balance)(k, FM_KC, 4);
    ptrdiff_t MCb = FM_TFN(balance)(m, FM_MC, FM_MR), jc, pc, ic;
    /* + 16: pack_tr may write a few elements past a panel (then overwritten) */
    ptrdiff_t b_elems = (KCb * NCb + 31) / 16 * 16, a_elems = (KCb * MCb + 31) / 16 * 16;
    fm_scratch buf = fm_gemm_scratch_get((size_t)(b_elems + a_elems) * sizeof(FM_T));
    FM_T *bp = (FM_T *)buf.ptr, *ap;
    if (!bp) return -1;
    ap = bp + b_elems;
    for (jc = 0; jc < n; jc += NCb) {
        ptrdiff_t nc = FM_MIN(NCb, n - jc);
        for (pc = 0; pc < k; pc += KCb) {
            ptrdiff_t kc = FM_MIN(KCb, k - pc);
            FM_T beta_pc = pc == 0 ? beta : (FM_T)1;
            const fm_epilogue *epi_pc = pc + kc == k ? epi : NULL;
            FM_TFN(pack_b)(bp, b + pc * rsb + jc * csb, rsb, csb, nc, kc);
            for (ic = 0; ic < m; ic += MCb) {
                ptrdiff_t mc = FM_MIN(MCb, m - ic);
                FM_TFN(pack_a)(ap, a + ic * rsa + pc * csa, rsa, csa, mc, kc);
                FM_TFN(macro)(c + ic * rsc + jc, rsc, ap, bp, mc, nc, kc, alpha, beta_pc, epi_pc,
                              ic, jc);
            }
        }
    }
    fm_gemm_scratch_put(buf);
    return 0;
}

/* Estimated cycles of the busiest thread when C is cut into tr x tc
 * blocks: its padded multiply-adds at the FMA peak (64 bytes of operands a
 * cycle: 16 f32 or 8 f64) plus its packing at ~1 cycle per element (every
 * thread packs all of A for its rows and all of B for its columns). */
static double FM_TFN(split_cost)(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, int tr, int tc)
{
    ptrdiff_t P = (m + FM_MR - 1) / FM_MR, Q = (n + FM_NR - 1) / FM_NR;
    double rows = (double)((P + tr - 1) / tr * FM_MR), cols = (double)((Q + tc - 1) / tc * FM_NR);
    return rows * cols * (double)k * sizeof(FM_T) / 64.0 + (rows + cols) * (double)k;
}

/* Rows [i0,i1) x columns [j0,j1) of C by the loop nest on this thread. */
static void FM_TFN(packed_part)(FM_T *c, ptrdiff_t rsc, const FM_T *a, ptrdiff_t rsa,
                                ptrdiff_t csa, const FM_T *b, ptrdiff_t rsb, ptrdiff_t csb,
                                ptrdiff_t k, FM_T alpha, FM_T beta, const fm_epilogue *epi,
                                ptrdiff_t i0, ptrdiff_t i1, ptrdiff_t j0, ptrdiff_t j1)
{
    fm_epilogue e;
    if (i1 <= i0 || j1 <= j0) return;
    if (epi) e = FM_TFN(epi_at)(epi, i0, j0);
    c += i0 * rsc + j0; a += i0 * rsa; b += j0 * csb;
    if (FM_TFN(blocked)(c, rsc, a, rsa, csa, b, rsb, csb, i1 - i0, j1 - j0, k, alpha, beta,
                        epi ? &e : NULL) != 0)
        /* out of memory for this thread's pack buffers: the unpacked
         * reference, on this block only */
        FM_FN(fm_gemm_ref)(c, rsc, a, rsa, csa, b, rsb, csb, i1 - i0, j1 - j0, k, alpha, beta,
                           epi ? &e : NULL, 1);
}

/* One product as a team task (team.h): part t of nt computes a block of C. */
typedef struct {
    FM_T *c;
    const FM_T *a, *b;
    const fm_epilogue *epi;
    ptrdiff_t rsc, rsa, csa, rsb, csb, m, n, k;
    FM_T alpha, beta;
    int tr, tc;     /* packed: C cut into tr x tc blocks of whole panels */
    int by_rows;    /* direct: split rows, else columns */
} FM_TFN(job);

/* Packed part t: rows in whole MR panels, columns in whole NR panels. */
static void FM_TFN(packed_task)(void *arg, int t, int nt)
{
    const FM_TFN(job) *j = (const FM_TFN(job) *)arg;
    ptrdiff_t P = (j->m + FM_MR - 1) / FM_MR, Q = (j->n + FM_NR - 1) / FM_NR;
    ptrdiff_t i0 = FM_MIN(j->m, P * (t / j->tc) / j->tr * FM_MR);
    ptrdiff_t i1 = FM_MIN(j->m, P * (t / j->tc + 1) / j->tr * FM_MR);
    ptrdiff_t j0 = FM_MIN(j->n, Q * (t % j->tc) / j->tc * FM_NR);
    ptrdiff_t j1 = FM_MIN(j->n, Q * (t % j->tc + 1) / j->tc * FM_NR);
    (void)nt;
    FM_TFN(packed_part)(j->c, j->rsc, j->a, j->rsa, j->csa, j->b, j->rsb, j->csb, j->k, j->alpha,
                        j->beta, j->epi, i0, i1, j0, j1);
}

/* Threads: C is cut into nt = tr x tc independent blocks, rows in whole
 * MR panels (the IC loop) and columns in whole NR panels (the JC loop),
 * each computed by one thread start to end with its own pack buffers.
 * Packing is repeated across threads (B for a row split, A for a column
 * split: 1-3% of the work at these shapes) but no thread ever waits for
 * another inside the product: on a busy machine each barrier can cost a
 * whole scheduler time slice when a peer thread is preempted. */
static void FM_TFN(packed)(FM_T *c, ptrdiff_t rsc, const FM_T *a, ptrdiff_t rsa, ptrdiff_t csa,
                           const FM_T *b, ptrdiff_t rsb, ptrdiff_t csb, ptrdiff_t m, ptrdiff_t n,
                           ptrdiff_t k, FM_T alpha, FM_T beta, const fm_epilogue *epi,
                           int n_threads)
{
    int nt = fm_par_threads(m * n * k, FM_GEMM_MT_WORK, n_threads);
    int tr = 1, tc = 1, d;
    ptrdiff_t P = (m + FM_MR - 1) / FM_MR, Q = (n + FM_NR - 1) / FM_NR;
    double best = 0;
    FM_TFN(job) job;
    for (d = 1; d <= nt; d++) /* every factorisation nt = d x (nt/d) */
        if (nt % d == 0 && d <= P && nt / d <= Q) {
            double cost = FM_TFN(split_cost)(m, n, k, d, nt / d);
            if (tr * tc == 1 || cost < best) { best = cost; tr = d; tc = nt / d; }
        }
    nt = tr * tc;
    if (nt == 1) { /* no OpenMP construct at all: even a false if() has a cost */
        FM_TFN(packed_part)(c, rsc, a, rsa, csa, b, rsb, csb, k, alpha, beta, epi, 0, m, 0, n);
        return;
    }
    job.c = c; job.a = a; job.b = b; job.epi = epi;
    job.rsc = rsc; job.rsa = rsa; job.csa = csa; job.rsb = rsb; job.csb = csb;
    job.m = m; job.n = n; job.k = k; job.alpha = alpha; job.beta = beta;
    job.tr = tr; job.tc = tc; job.by_rows = 0;
    fm_par_run(nt, FM_TFN(packed_task), &job);
}

/* Rows [i0,i1) x columns [j0,j1) of C by the direct kernel that fits B. */
static void FM_TFN(direct_part)(FM_T *c, ptrdiff_t rsc, const FM_T *a, ptrdiff_t rsa,
                                ptrdiff_t csa, const FM_T *b, ptrdiff_t rsb, ptrdiff_t csb,
                                ptrdiff_t k, FM_T alpha, FM_T beta, const fm_epilogue *epi,
                                ptrdiff_t i0, ptrdiff_t i1, ptrdiff_t j0, ptrdiff_t j1)
{
    if (i1 <= i0 || j1 <= j0) return;
    if (csb == 1)
        FM_TFN(direct_rm)(c + i0 * rsc + j0, rsc, a + i0 * rsa, rsa, csa, b + j0, rsb, i1 - i0,
                          j1 - j0, k, alpha, beta, epi, i0, j0);
    else
        FM_TFN(direct_dot)(c + i0 * rsc + j0, rsc, a + i0 * rsa, rsa, b + j0 * csb, csb, i1 - i0,
                           j1 - j0, k, alpha, beta, epi, i0, j0);
}

/* Direct part t: a row block, or a column block in whole cache lines. */
static void FM_TFN(direct_task)(void *arg, int t, int nt)
{
    const FM_TFN(job) *j = (const FM_TFN(job) *)arg;
    ptrdiff_t i0 = 0, i1 = j->m, j0 = 0, j1 = j->n;
    if (j->by_rows) {
        i0 = j->m * t / nt; i1 = j->m * (t + 1) / nt;
    } else {
        ptrdiff_t u = (j->n + 15) / 16;
        j0 = FM_MIN(j->n, u * t / nt * 16); j1 = FM_MIN(j->n, u * (t + 1) / nt * 16);
    }
    FM_TFN(direct_part)(j->c, j->rsc, j->a, j->rsa, j->csa, j->b, j->rsb, j->csb, j->k, j->alpha,
                        j->beta, j->epi, i0, i1, j0, j1);
}

/* Small problems: the direct kernels, threads only past FM_GEMM_MT_WORK
 * (in a team from FM_TEAM_MIN_WORK), splitting rows when there are
 * enough, else columns. */
static void FM_TFN(direct)(FM_T *c, ptrdiff_t rsc, const FM_T *a, ptrdiff_t rsa, ptrdiff_t csa,
                           const FM_T *b, ptrdiff_t rsb, ptrdiff_t csb, ptrdiff_t m, ptrdiff_t n,
                           ptrdiff_t k, FM_T alpha, FM_T beta, const fm_epilogue *epi,
                           int n_threads)
{
    int nt = fm_par_threads(m * n * k, FM_GEMM_MT_WORK, n_threads);
    FM_TFN(job) job;
    if (nt == 1) { /* no OpenMP construct at all: even a false if() has a cost */
        FM_TFN(direct_part)(c, rsc, a, rsa, csa, b, rsb, csb, k, alpha, beta, epi, 0, m, 0, n);
        return;
    }
    job.c = c; job.a = a; job.b = b; job.epi = epi;
    job.rsc = rsc; job.rsa = rsa; job.csa = csa; job.rsb = rsb; job.csb = csb;
    job.m = m; job.n = n; job.k = k; job.alpha = alpha; job.beta = beta;
    job.tr = job.tc = 1; job.by_rows = m >= 8 * nt;
    fm_par_run(nt, FM_TFN(direct_task), &job);
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
    /* x.W at batch <= 32 with a W that stays in cache: W read in place */
    int few_rows = m <= FM_DIRECT_M_RM && n * k * (ptrdiff_t)sizeof(FM_T) <= FM_DIRECT_RM_BYTES;
    /* x^T.dz of a small batch into a C that stays in L2: A read in place */
    int shallow_dw = rsa == 1 && k <= FM_DIRECT_DW_K &&
                     m * n * (ptrdiff_t)sizeof(FM_T) <= FM_DIRECT_DW_BYTES;
    if (m <= 0 || n <= 0) return;
    if (epi && epi->kind == FM_EPI_NONE) epi = NULL;
    if (dot_ok && !rm_ok && k <= FM_DIRECT_TK && n * k <= FM_DIRECT_TK_ELEMS && m > 1) {
        /* d.W^T through a layer of few outputs (k = 10 classes): W^T copied
         * row-major on the stack, then broadcast-FMAs over its rows instead
         * of one horizontal sum per output element */
        FM_T bt[FM_DIRECT_TK_ELEMS];
        ptrdiff_t j, p;
        for (j = 0; j < n; j++)
            for (p = 0; p < k; p++) bt[p * n + j] = b[j * csb + p * rsb];
        FM_TFN(direct)(c, rsc, a, rsa, csa, bt, n, 1, m, n, k, alpha, beta, epi, n_threads);
        return;
    }
    if (k <= 0)
        FM_TFN(scale)(c, rsc, m, n, beta, epi);
    else if ((rm_ok && (small || narrow || few_rows || shallow_dw)) || (dot_ok && small))
        FM_TFN(direct)(c, rsc, a, rsa, csa, b, rsb, csb, m, n, k, alpha, beta, epi, n_threads);
    else
        FM_TFN(packed)(c, rsc, a, rsa, csa, b, rsb, csb, m, n, k, alpha, beta, epi, n_threads);
}
