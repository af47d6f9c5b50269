/*
 * noise_impl.h -- one kernel file's range kernels for one dtype (included by
 * noise_simd.h twice, after the vector vocabulary and the block generators).
 *
 * Each range kernel covers elements lo <= i < hi of a stream: the values are
 * generated a block at a time into a stack buffer by the vector code (whole
 * vectors, past hi if need be -- every value is a pure function of its
 * index), then applied by a plain loop.  So element i gets the same number
 * whatever range, chunk or thread computes it.
 */

/* x[i] = x[i] + sigma * normal(i) for lo <= i < hi (in double, rounded once). */
void FM_FN(FM_NFN(fm_noise_range))(FM_T *x, double sigma, uint64_t key, ptrdiff_t lo,
                                   ptrdiff_t hi)
{
    double buf[2 * FM_NBLK];
    ptrdiff_t j, jend = (hi + 1) / 2;
    for (j = lo / 2; j < jend; j += FM_NBLK) {
        ptrdiff_t np = FM_MIN(FM_NBLK, jend - j), a = FM_MAX(lo, 2 * j);
        ptrdiff_t b = FM_MIN(hi, 2 * (j + np)), i;
        FM_T *xa = x + a;
        const double *na = buf + (a - 2 * j);
        FM_NFN(fm_normal_pairs)(buf, key, (uint64_t)j, (np + FM_NW - 1) / FM_NW * FM_NW);
        for (i = 0; i < b - a; i++) xa[i] = (FM_T)((double)xa[i] + sigma * na[i]);
    }
}

/* out[i] = h[i] * (u64(i) >= bound ? inv : 0) for lo <= i < hi (in double,
 * rounded once); out may alias h. */
void FM_FN(FM_NFN(fm_dropout_range))(FM_T *out, const FM_T *h, double inv, uint64_t bound,
                                     uint64_t key, ptrdiff_t lo, ptrdiff_t hi)
{
    double sc[FM_NBLK];
    ptrdiff_t i0;
    for (i0 = lo; i0 < hi; i0 += FM_NBLK) {
        ptrdiff_t n = FM_MIN(FM_NBLK, hi - i0), i;
        FM_T *o = out + i0;
        const FM_T *hh = h + i0;
        FM_NFN(fm_keep_scales)(sc, key, (uint64_t)i0, bound, inv,
                               (n + FM_NW - 1) / FM_NW * FM_NW);
        for (i = 0; i < n; i++) o[i] = (FM_T)((double)hh[i] * sc[i]);
    }
}
