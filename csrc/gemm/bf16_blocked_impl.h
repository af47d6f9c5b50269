/*
 * bf16_blocked_impl.h -- the packed, cache-blocked bf16 GEMM every fast
 * target shares (contract: gemm/bf16.h): packing float32 operands into bf16
 * pairs, the five loops, threads, and the target's entry fm_gemm_bf16_<tgt>.
 *
 * Loops as the float GEMM (gemm_blocked_impl.h): JC (NC) -> PC (KC) -> pack
 * B -> IC (MC) -> pack A -> JR (NR) -> IR (MR) -> micro-kernel.  Unlike it,
 * a later PC block's micro-kernel starts its chains from C (what the earlier
 * blocks left there), so blocking never changes a bit; the epilogue runs on
 * the last PC block, per row of the finished block, outside the FTZ window.
 * Threads each own a block of C (whole MR-row and NR-column panels) and pack
 * their own operands: no reduction, no barrier.
 *
 * Packed layouts (uint32 pairs, gemm/bf16.h's fm_bf16_pair):
 *   A micro-panel r: pair (A(r*MR+i, 2q), A(r*MR+i, 2q+1)) at [r*MR*kp + q*MR + i]
 *   B micro-panel s: pair (B(2q, s*NR+j), B(2q+1, s*NR+j)) at [s*NR*kp + q*NR + j]
 * kp = ceil(kc / 2); rows, columns and the odd half past the edge are +0.
 *
 * The including file defines FM_BTGT (its name), FM_BMR, FM_BNR, FM_BMC,
 * FM_BKC (even), FM_BNC, FM_BFTZ (1: its micro-kernel emulates the chain and
 * runs under fm_bf16_ftz_on; 0: vdpbf16ps, which flushes by itself) and
 *   FM_BFN(ukr)(m, n, kp, ap, bp, c, rsc, init): the m x n (<= MR x NR) tile
 *   of C = the chains over kp pairs of one A and one B micro-panel, started
 *   from 0 (init == 0; C not read) or from C with denormals flushed.
 * Optionally FM_BPACK_TR(dst, ld, b, cs, n8, kq8) and FM_BPACK_RM(dst, ld, b, rs,
 * n8, kf): vector packing of 8-multiples of columns (bf16_pack_simd.h), the same
 * bits as the scalar loops, which do the rest.
 * Compiled with the target's ISA flags (the packing vectorises with them).
 */
#include "core/team.h"
#include "gemm/gemm.h"

#define FM_BFN__(tgt, name) fm_bf16_##tgt##_##name
#define FM_BFN_(tgt, name) FM_BFN__(tgt, name)
#define FM_BFN(name) FM_BFN_(FM_BTGT, name)
#define FM_BENTRY__(tgt) fm_gemm_bf16_##tgt
#define FM_BENTRY_(tgt) FM_BENTRY__(tgt)

/* Pack the mc x kc block of A at a (= &A(i0, p0)) into MR-row micro-panels. */
static void FM_BFN(pack_a)(uint32_t *FM_RESTRICT dst, const float *FM_RESTRICT a,
                           ptrdiff_t rsa, ptrdiff_t csa, ptrdiff_t mc, ptrdiff_t kc)
{
    const ptrdiff_t kp = (kc + 1) / 2, kf = kc / 2; /* pairs; full pairs */
    ptrdiff_t ir, i, q;
    for (ir = 0; ir < mc; ir += FM_BMR, a += FM_BMR * rsa, dst += FM_BMR * kp) {
        const ptrdiff_t mr = FM_MIN(FM_BMR, mc - ir);
        ptrdiff_t i0 = 0; /* rows [0, i0) packed by the target's vector code */
        if (rsa == 1) { /* A = X^T (dW = X^T.D): pairs are two rows of X, MR columns wide */
#ifdef FM_BPACK_RM
            i0 = mr / 8 * 8;
            FM_BPACK_RM(dst, FM_BMR, a, csa, i0, kf);
#endif
            for (q = 0; q < kf; q++)
                for (i = i0; i < mr; i++)
                    dst[q * FM_BMR + i] = fm_bf16_pair(a[i + 2 * q * csa], a[i + (2 * q + 1) * csa]);
        } else { /* row-major A (csa == 1: X, D) or general: pairs along each row */
#ifdef FM_BPACK_TR
            if (csa == 1 && FM_BMR % 8 == 0) { /* 8 rows x 8 pairs through a transpose */
                const ptrdiff_t q8 = kf / 8 * 8;
                i0 = mr / 8 * 8;
                FM_BPACK_TR(dst, FM_BMR, a, rsa, i0, q8);
                for (i = 0; i < i0; i++)
                    for (q = q8; q < kf; q++)
                        dst[q * FM_BMR + i] = fm_bf16_pair(a[i * rsa + 2 * q], a[i * rsa + 2 * q + 1]);
            }
#endif
            for (i = i0; i < mr; i++)
                for (q = 0; q < kf; q++)
                    dst[q * FM_BMR + i] = fm_bf16_pair(a[i * rsa + 2 * q * csa],
                                                       a[i * rsa + (2 * q + 1) * csa]);
        }
        if (kf < kp) /* odd kc: the last pair's high half is +0 */
            for (i = 0; i < mr; i++)
                dst[kf * FM_BMR + i] = fm_bf16_pair(a[i * rsa + 2 * kf * csa], 0.0f);
        for (q = 0; q < kp; q++)
            for (i = mr; i < FM_BMR; i++) dst[q * FM_BMR + i] = 0;
    }
}

/* Pack the kc x nc block of B at b (= &B(p0, j0)) into NR-column micro-panels. */
static void FM_BFN(pack_b)(uint32_t *FM_RESTRICT dst, const float *FM_RESTRICT b,
                           ptrdiff_t rsb, ptrdiff_t csb, ptrdiff_t nc, ptrdiff_t kc)
{
    const ptrdiff_t kp = (kc + 1) / 2, kf = kc / 2;
    ptrdiff_t s, j, q;
    for (s = 0; s < nc; s += FM_BNR, dst += FM_BNR * kp) {
        const ptrdiff_t nr = FM_MIN(FM_BNR, nc - s);
        const float *bs = b + s * csb;
        if (csb == 1) { /* row-major B (W, D): pairs are two rows, NR columns wide */
            ptrdiff_t j0 = 0;
#ifdef FM_BPACK_RM
            j0 = nr / 8 * 8;
            FM_BPACK_RM(dst, FM_BNR, bs, rsb, j0, kf);
#endif
            for (q = 0; q < kf; q++)
                for (j = j0; j < nr; j++)
                    dst[q * FM_BNR + j] = fm_bf16_pair(bs[2 * q * rsb + j], bs[(2 * q + 1) * rsb + j]);
        } else { /* B = W^T (D.W^T, rsb == 1) or general: pairs along each column */
            ptrdiff_t j8 = 0;
#ifdef FM_BPACK_TR
            if (rsb == 1) { /* the target's register transpose, then the edges */
                const ptrdiff_t q8 = kf / 8 * 8;
                j8 = nr / 8 * 8;
                FM_BPACK_TR(dst, FM_BNR, bs, csb, j8, q8);
                for (j = 0; j < j8; j++)
                    for (q = q8; q < kf; q++)
                        dst[q * FM_BNR + j] = fm_bf16_pair(bs[j * csb + 2 * q], bs[j * csb + 2 * q + 1]);
            }
#endif
            for (j = j8; j < nr; j++)
                for (q = 0; q < kf; q++)
                    dst[q * FM_BNR + j] = fm_bf16_pair(bs[j * csb + 2 * q * rsb],
                                                       bs[j * csb + (2 * q + 1) * rsb]);
        }
        if (kf < kp)
            for (j = 0; j < nr; j++) dst[kf * FM_BNR + j] = fm_bf16_pair(bs[2 * kf * rsb + j * csb], 0.0f);
        for (q = 0; q < kp; q++)
            for (j = nr; j < FM_BNR; j++) dst[q * FM_BNR + j] = 0;
    }
}

/* JR and IR over one packed block; c = &C(i0, j0); epi only on the last PC block. */
static void FM_BFN(macro)(float *c, ptrdiff_t rsc, const uint32_t *ap, const uint32_t *bp,
                          ptrdiff_t mc, ptrdiff_t nc, ptrdiff_t kc, int init,
                          const fm_epilogue *epi, ptrdiff_t i0, ptrdiff_t j0)
{
    const ptrdiff_t kp = (kc + 1) / 2;
    ptrdiff_t s, ir, r;
#if FM_BFTZ
    unsigned csr = fm_bf16_ftz_on();
#endif
    for (s = 0; s < nc; s += FM_BNR)
        for (ir = 0; ir < mc; ir += FM_BMR)
            FM_BFN(ukr)(FM_MIN(FM_BMR, mc - ir), FM_MIN(FM_BNR, nc - s), kp, ap + ir * kp,
                        bp + s * kp, c + ir * rsc + s, rsc, init);
#if FM_BFTZ
    fm_bf16_ftz_off(csr);
#endif
    if (epi)
        for (r = 0; r < mc; r++) fm_epi_row_f32(c + r * rsc, i0 + r, j0, nc, epi);
}

static ptrdiff_t FM_BFN(balance)(ptrdiff_t total, ptrdiff_t max, ptrdiff_t unit)
{
    ptrdiff_t nb = (total + max - 1) / max, b = (total + nb - 1) / nb;
    return FM_MIN(max, (b + unit - 1) / unit * unit);
}

/* The loop nest on one thread over the block it is given; -1 (nothing
 * written) when its pack buffers cannot be allocated. */
static int FM_BFN(blocked)(float *c, ptrdiff_t rsc, const float *a, ptrdiff_t rsa,
                           ptrdiff_t csa, const float *b, ptrdiff_t rsb, ptrdiff_t csb,
                           ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float beta,
                           const fm_epilogue *epi)
{
    const ptrdiff_t NCb = FM_BFN(balance)(n, FM_BNC, FM_BNR), KCb = FM_BFN(balance)(k, FM_BKC, 4);
    const ptrdiff_t MCb = FM_BFN(balance)(m, FM_BMC, FM_BMR), KPb = (KCb + 1) / 2;
    const ptrdiff_t b_elems = (KPb * ((NCb + FM_BNR - 1) / FM_BNR * FM_BNR) + 15) / 16 * 16;
    const ptrdiff_t a_elems = (KPb * ((MCb + FM_BMR - 1) / FM_BMR * FM_BMR) + 15) / 16 * 16;
    fm_scratch buf = fm_gemm_scratch_get((size_t)(b_elems + a_elems) * sizeof(uint32_t));
    uint32_t *bp = (uint32_t *)buf.ptr, *ap;
    ptrdiff_t jc, pc, ic;
    if (!bp) return -1;
    ap = bp + b_elems;
    for (jc = 0; jc < n; jc += NCb) {
        const ptrdiff_t nc = FM_MIN(NCb, n - jc);
        for (pc = 0; pc < k; pc += KCb) {
            const ptrdiff_t kc = FM_MIN(KCb, k - pc);
            const int init = pc > 0 || beta != 0;
            FM_BFN(pack_b)(bp, b + pc * rsb + jc * csb, rsb, csb, nc, kc);
            for (ic = 0; ic < m; ic += MCb) {
                const ptrdiff_t mc = FM_MIN(MCb, m - ic);
                FM_BFN(pack_a)(ap, a + ic * rsa + pc * csa, rsa, csa, mc, kc);
                FM_BFN(macro)(c + ic * rsc + jc, rsc, ap, bp, mc, nc, kc, init,
                              pc + kc == k ? epi : NULL, ic, jc);
            }
        }
    }
    fm_gemm_scratch_put(buf);
    return 0;
}

/* The epilogue of the block of C at (i0, j0): bias and z shifted along. */
static fm_epilogue FM_BFN(epi_at)(const fm_epilogue *epi, ptrdiff_t i0, ptrdiff_t j0)
{
    fm_epilogue e = *epi;
    if (e.bias) e.bias = (const float *)e.bias + j0;
    if (e.z) e.z = (const float *)e.z + i0 * e.rsz + j0;
    return e;
}

typedef struct {
    float *c;
    const float *a, *b;
    const fm_epilogue *epi;
    ptrdiff_t rsc, rsa, csa, rsb, csb, m, n, k;
    float beta;
    int tr, tc;
} FM_BFN(job);

/* Rows [i0,i1) x columns [j0,j1) of C on this thread. */
static void FM_BFN(part)(const FM_BFN(job) *j, ptrdiff_t i0, ptrdiff_t i1, ptrdiff_t j0,
                         ptrdiff_t j1)
{
    fm_epilogue e;
    float *c = j->c + i0 * j->rsc + j0;
    const float *a = j->a + i0 * j->rsa, *b = j->b + j0 * j->csb;
    if (i1 <= i0 || j1 <= j0) return;
    if (j->epi) e = FM_BFN(epi_at)(j->epi, i0, j0);
    if (FM_BFN(blocked)(c, j->rsc, a, j->rsa, j->csa, b, j->rsb, j->csb, i1 - i0, j1 - j0, j->k,
                        j->beta, j->epi ? &e : NULL) != 0) /* no memory: the same bits, slower */
        fm_gemm_bf16_ref(c, j->rsc, a, j->rsa, j->csa, b, j->rsb, j->csb, i1 - i0, j1 - j0, j->k,
                         j->beta, j->epi ? &e : NULL, 1);
}

static void FM_BFN(task)(void *arg, int t, int nt)
{
    const FM_BFN(job) *j = (const FM_BFN(job) *)arg;
    const ptrdiff_t P = (j->m + FM_BMR - 1) / FM_BMR, Q = (j->n + FM_BNR - 1) / FM_BNR;
    (void)nt;
    FM_BFN(part)(j, FM_MIN(j->m, P * (t / j->tc) / j->tr * FM_BMR),
                 FM_MIN(j->m, P * (t / j->tc + 1) / j->tr * FM_BMR),
                 FM_MIN(j->n, Q * (t % j->tc) / j->tc * FM_BNR),
                 FM_MIN(j->n, Q * (t % j->tc + 1) / j->tc * FM_BNR));
}

/* Threads: C cut into tr x tc blocks, the split whose busiest thread has the
 * fewest padded products plus packing (as the float GEMM's FM_TFN(packed)). */
void FM_BENTRY_(FM_BTGT)(float *c, ptrdiff_t rsc, const float *a, ptrdiff_t rsa, ptrdiff_t csa,
                         const float *b, ptrdiff_t rsb, ptrdiff_t csb, ptrdiff_t m, ptrdiff_t n,
                         ptrdiff_t k, float beta, const fm_epilogue *epi, int n_threads)
{
    const ptrdiff_t P = (m + FM_BMR - 1) / FM_BMR, Q = (n + FM_BNR - 1) / FM_BNR;
    int nt, tr = 1, tc = 1, d;
    double best = 0;
    FM_BFN(job) job;
    if (m <= 0 || n <= 0) return;
    if (epi && epi->kind == FM_EPI_NONE) epi = NULL;
    if (k <= 0) { /* the chains are their start: 0 or C */
        fm_gemm_bf16_ref(c, rsc, a, rsa, csa, b, rsb, csb, m, n, k, beta, epi, 1);
        return;
    }
    nt = fm_par_threads(m * n * k, FM_GEMM_MT_WORK, n_threads);
    for (d = 1; d <= nt; d++)
        if (nt % d == 0 && d <= P && nt / d <= Q) {
            const double rows = (double)((P + d - 1) / d * FM_BMR);
            const double cols = (double)((Q + nt / d - 1) / (nt / d) * FM_BNR);
            const double cost = rows * cols * (double)k / 32.0 + (rows + cols) * (double)k;
            if (tr * tc == 1 || cost < best) { best = cost; tr = d; tc = nt / d; }
        }
    job.c = c; job.a = a; job.b = b; job.epi = epi;
    job.rsc = rsc; job.rsa = rsa; job.csa = csa; job.rsb = rsb; job.csb = csb;
    job.m = m; job.n = n; job.k = k; job.beta = beta; job.tr = tr; job.tc = tc;
    if (tr * tc == 1) {
        FM_BFN(part)(&job, 0, m, 0, n);
        return;
    }
    fm_par_run(tr * tc, FM_BFN(task), &job);
}
