/*
 * clip_impl.h -- gradient clipping over a flat gradient buffer, with
 * torch.nn.utils.clip_grad_norm_'s and clip_grad_value_'s semantics
 * (included per dtype by clip.c):
 *
 *   norm:   t = ||g||_2 over all n entries (every weight and bias: one global
 *           norm), summed in double; c = max_norm / (t + 1e-6); when c < 1,
 *           g *= c.  torch multiplies by min(c, 1) always; skipping the
 *           multiplication by exactly 1 changes nothing, so a clip that never
 *           triggers leaves training bitwise as without it.
 *   value:  g = clamp(g, -v, v) elementwise; NaN stays NaN (torch.clamp).
 *
 * Serial, one pass each: a step's gradient is O(params), its GEMMs
 * O(rows * params); the order of the norm's sum is fixed, so the result does
 * not depend on n_threads.
 */

double FM_FN(fm_clip_grad_norm)(FM_T *g, ptrdiff_t n, double max_norm)
{
    double sq = 0, t, c;
    ptrdiff_t i;
    FM_SIMD_SUM(sq)
    for (i = 0; i < n; i++) sq += (double)g[i] * (double)g[i];
    t = sqrt(sq);
    c = max_norm / (t + 1e-6);
    if (c < 1) { /* NaN t: c is NaN, no scaling; the NaN reaches the weights as in torch */
        const FM_T cf = (FM_T)c;
        for (i = 0; i < n; i++) g[i] *= cf;
    }
    return t;
}

void FM_FN(fm_clip_grad_value)(FM_T *g, ptrdiff_t n, double v)
{
    const FM_T hi = (FM_T)v, lo = -(FM_T)v;
    ptrdiff_t i;
    for (i = 0; i < n; i++) {
        const FM_T gi = g[i];
        g[i] = gi > hi ? hi : (gi < lo ? lo : gi);
    }
}
