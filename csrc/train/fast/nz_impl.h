/*
 * nz_impl.h -- the fill tests of SPARSE (sparse_fwd.h): how many inputs are
 * nonzero, vectorised (dense inputs, which then take the GEMM, pay ~IN/16
 * vector compares for the test).  Included per dtype by train/train.c.
 */

/* Nonzero values of x[0..n). */
static ptrdiff_t FM_FN(fm_count_nz)(const FM_T *x, ptrdiff_t n)
{
    ptrdiff_t i, nz = 0;
    FM_SIMD_SUM(nz)
    for (i = 0; i < n; i++) nz += x[i] != 0;
    return nz;
}

/* Columns of x (rows, IN; rows 1 or 2) that hold a nonzero. */
static ptrdiff_t FM_FN(fm_nz_cols)(const FM_T *x, ptrdiff_t rows, ptrdiff_t IN)
{
    ptrdiff_t i, n = 0;
    if (rows == 1) return FM_FN(fm_count_nz)(x, IN);
    FM_SIMD_SUM(n)
    for (i = 0; i < IN; i++) n += (x[i] != 0) | (x[IN + i] != 0);
    return n;
}
