/*
 * dropout_impl.h -- inverted dropout and Gaussian input noise, driven by the
 * counter RNG of rng.h (included per dtype by dropout.c).
 *
 * Inverted dropout keeps unit i with probability 1-p and scales it by
 * 1/(1-p), so a layer's expected output is unchanged and inference needs no
 * rescaling (and applies no dropout).  Unit i is dropped iff unif(i) < p,
 * tested exactly (u64(i) < fm_rng_keep_bound(p)), so C and
 * fastmlp.reference draw the same mask bit for bit; out = h * (1/(1-p) or
 * 0), as the reference.  The backward pass redraws the mask from the same
 * key instead of storing it.
 *
 * The work is done by the active target's range kernels (noise.h, looked up
 * once per call in core/kernels.h), on chunks of FM_RNG_CHUNK elements spread
 * over the threads: every element's value is a pure function of its index,
 * so chunking and thread count change nothing.
 */

/* One dropout or noise pass as a team task (team.h): part t of nt takes a
 * run of whole FM_RNG_CHUNKs (the values do not depend on the split). */
typedef struct {
    FM_T *out;
    const FM_T *h;
    FM_FN(fm_dropout_range_fn) drop;
    FM_FN(fm_noise_range_fn) noise;
    double inv, sigma;
    uint64_t bound, key;
    ptrdiff_t n, nc;
} FM_FN(fm_rng_job);

static void FM_FN(fm_rng_task)(void *arg, int t, int nt)
{
    const FM_FN(fm_rng_job) *j = (const FM_FN(fm_rng_job) *)arg;
    ptrdiff_t c, c0 = j->nc * t / nt, c1 = j->nc * (t + 1) / nt;
    for (c = c0; c < c1; c++) {
        ptrdiff_t lo = c * FM_RNG_CHUNK, hi = FM_MIN(j->n, (c + 1) * FM_RNG_CHUNK);
        if (j->drop) j->drop(j->out, j->h, j->inv, j->bound, j->key, lo, hi);
        else j->noise(j->out, j->sigma, j->key, lo, hi);
    }
}

/* out = h * mask / (1-p); h (n), out (n) may alias. */
void FM_FN(fm_dropout_forward)(FM_T *out, const FM_T *h, double p, uint64_t seed, uint64_t step,
                               uint64_t stream, ptrdiff_t n, int n_threads)
{
    FM_FN(fm_rng_job) j;
    j.out = out; j.h = h; j.n = n;
    j.key = fm_rng_key(seed, step, stream);
    j.bound = fm_rng_keep_bound(p);
    j.inv = 1.0 / (1.0 - p);
    j.sigma = 0;
    j.drop = fm_kernels_active()->FM_FN(dropout_range);
    j.noise = NULL;
    j.nc = (n + FM_RNG_CHUNK - 1) / FM_RNG_CHUNK;
    fm_par_run((int)FM_MAX(1, FM_MIN(fm_par_threads(n * FM_DROP_WORK, 0, n_threads), j.nc)),
               FM_FN(fm_rng_task), &j);
}

/* d = d * mask / (1-p) in place: dL/dh from dL/d(dropout(h)) -- the forward
 * rule applied to the gradient with the same key. */
void FM_FN(fm_dropout_backward)(FM_T *d, double p, uint64_t seed, uint64_t step, uint64_t stream,
                                ptrdiff_t n, int n_threads)
{
    FM_FN(fm_dropout_forward)(d, d, p, seed, step, stream, n, n_threads);
}

/* x = x + sigma * normal(i) in place (in double, rounded once), the normals
 * from rng.h's Box-Muller pairs. */
void FM_FN(fm_gaussian_noise)(FM_T *x, double sigma, uint64_t seed, uint64_t step,
                              uint64_t stream, ptrdiff_t n, int n_threads)
{
    FM_FN(fm_rng_job) j;
    j.out = x; j.h = x; j.n = n;
    j.key = fm_rng_key(seed, step, stream);
    j.bound = 0; j.inv = 0;
    j.sigma = sigma;
    j.drop = NULL;
    j.noise = fm_kernels_active()->FM_FN(noise_range);
    j.nc = (n + FM_RNG_CHUNK - 1) / FM_RNG_CHUNK;
    fm_par_run((int)FM_MAX(1, FM_MIN(fm_par_threads(n * FM_NOISE_WORK, 0, n_threads), j.nc)),
               FM_FN(fm_rng_task), &j);
}
