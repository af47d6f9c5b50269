/*
 * gemm_ref_impl.h -- the reference GEMM: C = epi(alpha*A.B + beta*C).
 * The obviously-correct triple loop with general strides (see fastmlp.h).
 * Each C element is a dot product summed in order p = 0..k-1 in FM_T.
 * It threads over rows of C (each row written by one thread).
 */
void FM_FN(fm_gemm_ref)(FM_T *c, ptrdiff_t rsc,
                        const FM_T *a, ptrdiff_t rsa, ptrdiff_t csa,
                        const FM_T *b, ptrdiff_t rsb, ptrdiff_t csb,
                        ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                        FM_T alpha, FM_T beta, const fm_epilogue *epi, int n_threads)
{
    ptrdiff_t i;
    int nt = fm_threads_for(m * n * k, n_threads);
    (void)nt;
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
#endif
    for (i = 0; i < m; i++) {
        FM_T *ci = c + i * rsc;
        ptrdiff_t j, p;
        for (j = 0; j < n; j++) {
            FM_T acc = 0;
            for (p = 0; p < k; p++) acc += a[i * rsa + p * csa] * b[p * rsb + j * csb];
            ci[j] = beta == 0 ? alpha * acc : alpha * acc + beta * ci[j];
        }
        FM_FN(fm_epi_row)(ci, i, 0, n, epi);
    }
}
