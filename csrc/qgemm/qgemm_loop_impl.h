/*
 * qgemm_loop_impl.h -- the loop nest and threading every int8 path shares,
 * and the path's entry fm_qgemm_<path> (contract: fm_qgemm, fastmlp.h).
 *
 * The includer defines
 *   FM_QP          the path's name (avx512vnni, avx2vnni, avx2_madd, generic)
 *   FM_QMR         rows of its micro-tile
 *   FM_QUKR        its micro-kernel:
 *       FM_QUKR(m, n, kq, a, lda, b, c, rsc, i0, j0, e)
 *       rows i0..i0+m (m <= FM_QMR) of q at a (stride lda) times one packed
 *       weight panel b (kq groups of 4 inputs x FM_Q_NR columns), columns
 *       j0..j0+n (n <= FM_Q_NR) of C at c; writes acc to e->out_i32 when set,
 *       else y = (float)acc * (xscale * wscale) + bias, with identity, relu
 *       and leaky relu applied (other activations: fm_act_span_f32 here).
 * and includes core/fm_dtype_f32.h + layers/act_impl.h before this file.
 *
 * Loops: IC (blocks of rows whose q stays in L2) -> JR (weight panels,
 * packed once at quantisation, so nothing is packed here) -> IR (MR rows).
 * The weights are never blocked in k: a panel (k/4 groups of 128 bytes,
 * 64 KiB at k = 2048) streams from L2 as the micro-kernel reads it once.
 */
#define FM_QCAT__(a, b) fm_q_##a##_##b
#define FM_QCAT_(a, b) FM_QCAT__(a, b)
#define FM_QNAME(x) FM_QCAT_(FM_QP, x)
#define FM_QENTRY__(p) fm_qgemm_##p
#define FM_QENTRY_(p) FM_QENTRY__(p)

/* Rows [i0,i1) x panels [q0,q1) of the product on this thread. */
static void FM_QNAME(part)(const fm_qjob *j, ptrdiff_t i0, ptrdiff_t i1, ptrdiff_t q0,
                           ptrdiff_t q1)
{
    const fm_qepilogue *e = j->e;
    const ptrdiff_t kq = (j->k + 3) / 4, panel = kq * FM_Q_GROUP;
    ptrdiff_t mcb = FM_Q_L2 / (kq * 4 + 1), ic, q, ir, r;
    int act_after = !e->out_i32 && e->act != FM_ACT_IDENTITY && e->act != FM_ACT_RELU &&
                    e->act != FM_ACT_LEAKY_RELU;
    mcb = FM_MAX(FM_QMR, FM_MIN(FM_Q_MC, mcb) / FM_QMR * FM_QMR);
    for (ic = i0; ic < i1; ic += mcb) {
        ptrdiff_t mc = FM_MIN(mcb, i1 - ic);
        for (q = q0; q < q1; q++) {
            ptrdiff_t j0 = q * FM_Q_NR, nr = FM_MIN(FM_Q_NR, j->n - j0);
            for (ir = 0; ir < mc; ir += FM_QMR)
                FM_QUKR(FM_MIN(FM_QMR, mc - ir), nr, kq, j->a + (ic + ir) * j->lda, j->lda,
                        j->wp + q * panel, j->c + (ic + ir) * j->rsc + j0, j->rsc, ic + ir, j0,
                        e);
        }
        if (act_after) {
            ptrdiff_t j0 = q0 * FM_Q_NR, len = FM_MIN(j->n, q1 * FM_Q_NR) - j0;
            for (r = ic; r < ic + mc; r++)
                fm_act_span_f32(j->c + r * j->rsc + j0, len, e->act, (float)e->slope);
        }
    }
}

/* Part t of nt: rows in whole MR panels, columns in whole NR panels. */
static void FM_QNAME(task)(void *arg, int t, int nt)
{
    const fm_qjob *j = (const fm_qjob *)arg;
    ptrdiff_t P = (j->m + FM_QMR - 1) / FM_QMR, Q = (j->n + FM_Q_NR - 1) / FM_Q_NR;
    ptrdiff_t i0 = FM_MIN(j->m, P * (t / j->tc) / j->tr * FM_QMR);
    ptrdiff_t i1 = FM_MIN(j->m, P * (t / j->tc + 1) / j->tr * FM_QMR);
    ptrdiff_t q0 = Q * (t % j->tc) / j->tc, q1 = Q * (t % j->tc + 1) / j->tc;
    (void)nt;
    if (i1 > i0 && q1 > q0) FM_QNAME(part)(j, i0, i1, q0, q1);
}

/* Threads: C cut into tr x tc blocks, the split whose busiest thread has
 * the fewest padded multiply-adds (rows first on a tie: every thread then
 * streams the same weights, which stay shared in L3). */
void FM_QENTRY_(FM_QP)(float *c, ptrdiff_t rsc, const uint8_t *a, ptrdiff_t lda,
                       const int8_t *wp, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                       const fm_qepilogue *e, int n_threads)
{
    /* an int8 multiply-add costs a quarter of a float one */
    int nt = fm_par_threads(m * n * k / 4, FM_GEMM_MT_WORK, n_threads), d, tr = 1, tc = 1;
    ptrdiff_t P = (m + FM_QMR - 1) / FM_QMR, Q = (n + FM_Q_NR - 1) / FM_Q_NR, best = -1;
    fm_qjob job;
    if (m <= 0 || n <= 0) return;
    for (d = nt; d >= 1; d--)
        if (nt % d == 0 && d <= P && nt / d <= Q) {
            ptrdiff_t cost = (P + d - 1) / d * FM_QMR * ((Q + nt / d - 1) / (nt / d));
            if (best < 0 || cost < best) { best = cost; tr = d; tc = nt / d; }
        }
    job.c = c; job.a = a; job.wp = wp; job.e = e;
    job.rsc = rsc; job.lda = lda; job.m = m; job.n = n; job.k = k;
    job.tr = tr; job.tc = tc;
    if (tr * tc == 1)
        FM_QNAME(part)(&job, 0, m, 0, Q);
    else
        fm_par_run(tr * tc, FM_QNAME(task), &job);
}

#undef FM_QCAT__
#undef FM_QCAT_
#undef FM_QNAME
#undef FM_QENTRY__
#undef FM_QENTRY_
