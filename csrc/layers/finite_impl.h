/*
 * finite_impl.h -- the finite check of a block of values (included per
 * dtype by finite.c).
 *
 * x * 0 is +-0 for a finite x and NaN for a NaN or an infinity (IEEE; the
 * build never passes -ffast-math, so the product is not folded away), so
 * the sum of the products is 0 exactly when every value is finite.  The
 * FM_FIN_LANES partial sums are independent, so the compiler keeps them in
 * vector registers and the adds' latency stays off the critical path
 * (a few times faster than one reduction chain: docs/performance.md).
 */

int FM_FN(fm_all_finite)(const FM_T *x, ptrdiff_t n)
{
    FM_T acc[FM_FIN_LANES] = {0}, s = 0;
    ptrdiff_t i = 0, j;
    for (; i + FM_FIN_LANES <= n; i += FM_FIN_LANES)
        for (j = 0; j < FM_FIN_LANES; j++) acc[j] += x[i + j] * (FM_T)0;
    for (; i < n; i++) s += x[i] * (FM_T)0;
    for (j = 0; j < FM_FIN_LANES; j++) s += acc[j];
    return s == 0;
}
