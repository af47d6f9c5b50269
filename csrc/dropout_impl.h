/*
 * dropout_impl.h -- inverted dropout and Gaussian input noise, driven by the
 * counter RNG of rng.h (included per dtype by dropout.c).
 *
 * Inverted dropout keeps unit i with probability 1-p and scales it by
 * 1/(1-p), so a layer's expected output is unchanged and inference needs no
 * rescaling (and applies no dropout).  Unit i is dropped iff unif(i) < p,
 * a comparison of exact doubles, so C and fastmlp.reference draw the same
 * mask bit for bit.  The backward pass redraws the mask from the same key
 * instead of storing it.
 */

/* out = h * mask / (1-p); h (n), out (n) may alias. */
void FM_FN(fm_dropout_forward)(FM_T *out, const FM_T *h, double p, uint64_t seed, uint64_t step,
                               uint64_t stream, ptrdiff_t n, int n_threads)
{
    const uint64_t key = fm_rng_key(seed, step, stream);
    const double inv = 1.0 / (1.0 - p);
    ptrdiff_t i;
    int nt = fm_threads_for(n * 16, n_threads);
    (void)nt;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
#endif
    for (i = 0; i < n; i++)
        out[i] = fm_rng_unif(key, (uint64_t)i) < p ? (FM_T)0 : (FM_T)((double)h[i] * inv);
}

/* d = d * mask / (1-p) in place: dL/dh from dL/d(dropout(h)) -- the forward
 * rule applied to the gradient with the same key. */
void FM_FN(fm_dropout_backward)(FM_T *d, double p, uint64_t seed, uint64_t step, uint64_t stream,
                                ptrdiff_t n, int n_threads)
{
    FM_FN(fm_dropout_forward)(d, d, p, seed, step, stream, n, n_threads);
}

/* x += sigma * N(0, 1) in place, the normals from rng.h's Box-Muller. */
void FM_FN(fm_gaussian_noise)(FM_T *x, double sigma, uint64_t seed, uint64_t step,
                              uint64_t stream, ptrdiff_t n, int n_threads)
{
    const uint64_t key = fm_rng_key(seed, step, stream);
    ptrdiff_t i;
    int nt = fm_threads_for(n * 64, n_threads);
    (void)nt;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
#endif
    for (i = 0; i < n; i++)
        x[i] = (FM_T)((double)x[i] + sigma * fm_rng_normal(key, (uint64_t)i));
}
