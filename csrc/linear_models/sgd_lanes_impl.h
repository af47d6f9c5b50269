/*
 * sgd_lanes_impl.h -- the interleaved Perceptron epoch: several one-vs-rest
 * classes (and, when few are left, several rows of one class) per thread,
 * their dot products computed side by side (included per dtype by
 * sgd_linear.c, after sgd_linear_impl.h).
 *
 * Why: a dot product as scikit-learn sums it (one double accumulator,
 * features in order) is a chain of dependent additions, one add latency per
 * feature.  Parity forbids reordering one sum, but independent sums can run
 * side by side: a "lane" is one (class, row) dot product, and a batch of L
 * lanes advances L accumulators together, so the additions of different
 * lanes overlap while each lane still adds its products in scikit-learn's
 * order, bit for bit.
 *
 * Lanes.  Each class c has its own cursor into its own row order; a batch
 * gives every class still inside the epoch S consecutive (non-skipped) rows
 * of its order.  S > 1 is speculation: the S dot products use w as it is
 * now, which is exact for the first row, and exact for each next one as
 * long as the steps before it left the array w untouched (no mistake, no
 * wscale reset, no L1 step; see fm_sgd_step's return).  The class consumes
 * its rows up to and including the first step that writes w and drops the
 * rest, which are recomputed in the next batch.  L1/elastic-net write w at
 * every step, so they get S = 1.  S = lanes / (classes in the group) lets a
 * lone class (binary problems, the last classes to converge) still fill the
 * lanes.
 *
 * Dot products of a batch, in blocks of FM_SGD_BLOCK features:
 *   A. prod[jj][l] = (double)(FM_T)(w_c[j] x_row[j])   (each lane alone,
 *      vectorisable; lanes shorter than the block -- sparse rows -- are
 *      padded with +0.0, which leaves a sum exactly unchanged since a sum
 *      started at +0.0 is never -0.0 in round-to-nearest)
 *   B. acc[l] += prod[jj][l] for jj in order      (fm_lanes_sum: all lanes
 *      together, elementwise vector adds, no reassociation)
 *
 * Packed rows (packed != 0): a dense matrix stored as CSR of its entries
 * other than +0.0 (fm_sgd_pack_rows), with scikit-learn's dense semantics.
 * Skipping a +0.0 column's product w_k * 0 = +-0 leaves a dot product
 * exactly unchanged while w is finite (a non-finite w stays non-finite to
 * the end of the epoch, where the caller raises, as scikit-learn does);
 * the update and the norms still cover every column (fm_wadd_packed).  Not
 * for L1/elastic-net, whose dense penalty step touches every column.
 *
 * Threads: the classes are split into n_threads contiguous parts; a part
 * larger than FM_SGD_MAX_LANES runs as several groups, one after another.
 * Each class sees only its own data, so results never depend on the split.
 *
 * Every case of the Perceptron runs here: dense, CSR and packed rows, each
 * penalty (L1/elastic-net without speculation and unpacked), wscale resets,
 * sample and class weights, skipped (validation) rows.  The per-class
 * kernel (sgd_linear_impl.h, sharing fm_sgd_step) is the reference the
 * tests hold this one to, bit for bit.
 */

typedef struct FM_FN(fm_sgd_lane_s) {
    const FM_T *xv;      /* row values */
    const int32_t *xi;   /* CSR column indices or NULL (dense) */
    ptrdiff_t nnz;       /* row length */
    ptrdiff_t pos;       /* position of the row in the class's order */
} FM_FN(fm_sgd_lane);

/* acc[l] = the sequential sum of w_l[j] x_l[j] over lane l's row, for L lanes */
static void FM_FN(fm_lanes_dot)(double *acc, double *prod, const FM_FN(fm_sgd_lane) *lane,
                                FM_T *const *wl, int L)
{
    ptrdiff_t maxlen = 0, j0;
    int l;
    for (l = 0; l < L; l++) {
        acc[l] = 0.0;
        maxlen = FM_MAX(maxlen, lane[l].nnz);
    }
    for (j0 = 0; j0 < maxlen; j0 += FM_SGD_BLOCK) {
        const ptrdiff_t bl = FM_MIN((ptrdiff_t)FM_SGD_BLOCK, maxlen - j0);
        for (l = 0; l < L && lane[l].nnz - j0 >= bl; l++) continue;
        if (l < L) /* a lane ends in this block: its padding, +0.0 (all bits 0) */
            memset(prod, 0, sizeof(double) * (size_t)(bl * L));
        for (l = 0; l < L; l++) { /* A: this lane's products, at stride L */
            const FM_T *FM_RESTRICT w = wl[l];
            const FM_T *FM_RESTRICT xv = lane[l].xv + j0;
            const ptrdiff_t nb = FM_MAX((ptrdiff_t)0, FM_MIN(bl, lane[l].nnz - j0));
            double *FM_RESTRICT p = prod + l;
            ptrdiff_t jj;
            if (lane[l].xi) {
                const int32_t *xi = lane[l].xi + j0;
                for (jj = 0; jj < nb; jj++) p[jj * L] = (double)(FM_T)(w[xi[jj]] * xv[jj]);
            } else {
                for (jj = 0; jj < nb; jj++) p[jj * L] = (double)(FM_T)(w[j0 + jj] * xv[jj]);
            }
        }
        fm_lanes_sum(acc, prod, bl, L); /* B */
    }
}

/* Prefetching.  The rows come in a random order the hardware prefetchers
 * cannot guess, each class reading a different one, and a row's data is
 * found through its CSR offsets and its target: so a position
 * FM_SGD_AHEAD_META windows ahead has its offsets, target and weight
 * fetched, and one FM_SGD_AHEAD_ROW windows ahead (offsets in cache by
 * then) its values and column indices. */
FM_INLINE void FM_FN(fm_prefetch_ahead)(const FM_T *x, const int64_t *ptr, const int32_t *ind,
                                        const FM_T *y, const FM_T *sw, const int64_t *order,
                                        ptrdiff_t pos, int S, ptrdiff_t n, ptrdiff_t d)
{
    const ptrdiff_t pm = pos + (ptrdiff_t)S * FM_SGD_AHEAD_META;
    const ptrdiff_t pr = pos + (ptrdiff_t)S * FM_SGD_AHEAD_ROW;
    if (pm < n) {
        const ptrdiff_t i = (ptrdiff_t)order[pm];
        fm_prefetch_range(y + i, y + i + 1);
        if (sw) fm_prefetch_range(sw + i, sw + i + 1);
        if (ind) fm_prefetch_range(ptr + i, ptr + i + 2);
    }
    if (pr < n) {
        const ptrdiff_t i = (ptrdiff_t)order[pr];
        if (ind) {
            fm_prefetch_range(x + ptr[i], x + ptr[i + 1]);
            fm_prefetch_range(ind + ptr[i], ind + ptr[i + 1]);
        } else {
            fm_prefetch_range(x + i * d, x + (i + 1) * d);
        }
    }
}

/* Fill up to S lanes of class m from its cursor *r (skipping validation
 * rows; y and order are the class's); returns how many.  *r moves to n when
 * only skipped rows are left. */
static int FM_FN(fm_lanes_fill)(FM_FN(fm_sgd_lane) *lane, ptrdiff_t *r, int S, const FM_T *x,
                                const int64_t *ptr, const int32_t *ind, const FM_T *y,
                                const FM_T *sw, const int64_t *order, const uint8_t *skip,
                                ptrdiff_t n, ptrdiff_t d)
{
    ptrdiff_t pos = *r;
    int cnt = 0;
    for (; cnt < S && pos < n; pos++) {
        const ptrdiff_t i = (ptrdiff_t)order[pos];
        FM_FN(fm_prefetch_ahead)(x, ptr, ind, y, sw, order, pos, S, n, d);
        if (skip && skip[i]) continue; /* validation row */
        if (ind) {
            lane[cnt].xv = x + ptr[i];
            lane[cnt].xi = ind + ptr[i];
            lane[cnt].nnz = (ptrdiff_t)(ptr[i + 1] - ptr[i]);
        } else {
            lane[cnt].xv = x + i * d;
            lane[cnt].xi = NULL;
            lane[cnt].nnz = d;
        }
        lane[cnt].pos = pos;
        cnt++;
    }
    if (cnt == 0) *r = n;
    return cnt;
}

/* One epoch for the g (<= FM_SGD_MAX_LANES) classes cls[0..g); returns the
 * number of batches.  Per-class arrays are indexed by the class c = cls[m]. */
static ptrdiff_t FM_FN(fm_lanes_group)(FM_T *w, FM_T *q, fm_sgd_state *st, int64_t *counts,
                                       const FM_T *x, const int64_t *ptr, const int32_t *ind,
                                       const FM_T *y, const FM_T *sw, const int64_t *order,
                                       const uint8_t *skip, const fm_sgd_cfg *cfg,
                                       const int32_t *cls, int g, int packed, int lanes,
                                       ptrdiff_t n, ptrdiff_t d)
{
    FM_FN(fm_sgd_lane) lane[FM_SGD_MAX_LANES];
    FM_T *wl[FM_SGD_MAX_LANES];
    double acc[FM_SGD_MAX_LANES], prod[FM_SGD_MAX_LANES * FM_SGD_BLOCK];
    ptrdiff_t cur[FM_SGD_MAX_LANES], batches = 0;
    int first[FM_SGD_MAX_LANES + 1], negzero[FM_SGD_MAX_LANES], m;
    int spec = FM_MAX(1, FM_MIN(lanes, FM_SGD_MAX_LANES) / g);
    for (m = 0; m < g; m++) {
        const int c = cls[m];
        ptrdiff_t k;
        cur[m] = 0;
        negzero[m] = 0; /* (packed rows: does w hold a -0.0?) */
        for (k = 0; packed && k < d; k++) negzero[m] |= w[c * d + k] == 0 && signbit(w[c * d + k]);
        st[c].sumloss = 0.0;
        st[c].objective = 0.0;
        if (cfg[c].penalty == FM_PENALTY_L1 || cfg[c].penalty == FM_PENALTY_ELASTICNET)
            spec = 1; /* (an L1 step writes w every row: nothing to speculate on) */
    }
    for (;;) {
        int L = 0;
        for (m = 0; m < g; m++) {
            const int c = cls[m];
            const int got = cur[m] < n ? FM_FN(fm_lanes_fill)(lane + L, &cur[m], spec, x, ptr,
                                                              ind, y + c * n, sw, order + c * n,
                                                              skip, n, d)
                                       : 0;
            first[m] = L;
            for (; got > 0 && L < first[m] + got; L++) wl[L] = w + c * d;
        }
        first[g] = L;
        if (L == 0) break;
        batches++;
        FM_FN(fm_lanes_dot)(acc, prod, lane, wl, L);
        for (m = 0; m < g; m++) { /* each class consumes its lanes until w changes */
            const int c = cls[m];
            int l;
            counts[2 * c + 1] += first[m + 1] - first[m];
            for (l = first[m]; l < first[m + 1]; l++) {
                const ptrdiff_t i = (ptrdiff_t)order[c * n + lane[l].pos];
                const int wrote = FM_FN(fm_sgd_step)(
                    w + c * d, q + c * d, &st[c], acc[l], lane[l].xv, lane[l].xi, lane[l].nnz,
                    (double)y[c * n + i], sw ? sw[i] : (FM_T)1, &cfg[c], d,
                    packed ? &negzero[m] : NULL);
                counts[2 * c] += 1;
                cur[m] = lane[l].pos + 1;
                if (wrote) break;
            }
        }
    }
    return batches;
}

ptrdiff_t FM_FN(fm_sgd_perceptron_epoch_multi)(FM_T *w, FM_T *q, fm_sgd_state *st,
                                               int64_t *counts, const FM_T *x,
                                               const int64_t *ptr, const int32_t *ind,
                                               const FM_T *y, const FM_T *sw,
                                               const int64_t *order, const uint8_t *skip,
                                               const fm_sgd_cfg *cfg, const int32_t *cls,
                                               ptrdiff_t k, ptrdiff_t n, ptrdiff_t d, int packed,
                                               int lanes, int n_threads)
{
    ptrdiff_t batches = 0;
    int nt = n_threads < 1 ? 1 : n_threads;
    if (nt > k) nt = (int)k;
#ifdef _OPENMP
#pragma omp parallel num_threads(nt) if (nt > 1) reduction(+ : batches)
#endif
    {
        int t = 0, nth = 1;
#ifdef _OPENMP
        t = omp_get_thread_num();
        nth = omp_get_num_threads();
#endif
        {
            const ptrdiff_t lo = k * t / nth, hi = k * (t + 1) / nth;
            const ptrdiff_t ngroups = (hi - lo + FM_SGD_MAX_LANES - 1) / FM_SGD_MAX_LANES;
            ptrdiff_t gi;
            for (gi = 0; gi < ngroups; gi++) { /* balanced groups of <= FM_SGD_MAX_LANES */
                const ptrdiff_t a = lo + (hi - lo) * gi / ngroups;
                const ptrdiff_t b = lo + (hi - lo) * (gi + 1) / ngroups;
                batches += FM_FN(fm_lanes_group)(w, q, st, counts, x, ptr, ind, y, sw, order,
                                                 skip, cfg, cls + a, (int)(b - a), packed,
                                                 lanes, n, d);
            }
        }
    }
    return batches;
}

ptrdiff_t FM_FN(fm_sgd_pack_rows)(FM_T *val, int32_t *ind, int64_t *ptr, const FM_T *x,
                                  ptrdiff_t n, ptrdiff_t d)
{
    ptrdiff_t i, j, nnz = 0;
    ptr[0] = 0;
    for (i = 0; i < n; i++) {
        const FM_T *row = x + i * d;
        if (val) {
            for (j = 0; j < d; j++)
                if (row[j] != 0 || signbit(row[j])) {
                    val[nnz] = row[j];
                    ind[nnz++] = (int32_t)j;
                }
        } else {
            for (j = 0; j < d; j++) nnz += row[j] != 0 || signbit(row[j]);
        }
        ptr[i + 1] = (int64_t)nnz;
    }
    return nnz;
}
