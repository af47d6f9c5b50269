/*
 * optim_impl.h -- optimizer updates over a flat parameter buffer (included
 * per dtype by optim.c).  Each rule is one flat loop (llm.c gpt2_update),
 * following torch.optim's definitions (t = opt->step, counted from 1):
 *
 *   g' = g + weight_decay*w + l1*sign(w)      (first n_decay entries only;
 *                                              AdamW: no coupled decay)
 *   SGD      b = g' (t == 1) else momentum*b + (1-dampening)*g'
 *            d = g' + momentum*b (nesterov) or b (momentum) or g' (plain)
 *            w -= lr*d                               s1 = b
 *   Adagrad  s += g'^2;  w -= lr * g' / (sqrt(s) + eps)        s1 = s
 *   RMSprop  v = alpha*v + (1-alpha)*g'^2                            s1 = v
 *            centered: a = a + (1-alpha)*(g' - a) (torch's lerp);
 *                      den = sqrt(max(v - a^2, 0)) + eps                s3 = a
 *            else      den = sqrt(v) + eps
 *            momentum > 0: b = momentum*b + g'/den; w -= lr*b          s2 = b
 *            else          w -= lr*g'/den
 *            (eps outside the root; the max(., 0) only guards rounding:
 *            v >= a^2 in exact arithmetic, where torch would give NaN)
 *   Adam     m = b1*m + (1-b1)*g';  v = b2*v + (1-b2)*g'^2
 *            amsgrad: vm = max(vm, v) (s3) and vm replaces v below
 *            w -= (lr/(1-b1^t)) * m / (sqrt(v)/sqrt(1-b2^t) + eps)
 *            (eps added AFTER the bias correction of sqrt(v), as torch)
 *   AdamW    w *= 1 - lr*weight_decay (first n_decay), then Adam with g.
 * Conventions: SGD's momentum buffer b holds gradients, not lr-scaled steps,
 * so changing lr mid-training rescales the next steps at once (torch).
 *
 * With opt->sklearn set, scikit-learn's forms (sklearn/neural_network/
 * _stochastic_optimizers.py) instead:
 *   SGD      v = momentum*v - lr*g';  w += nesterov ? momentum*v - lr*g' : v
 *            (the velocity stores lr-scaled steps; equal to torch's rule while
 *            lr is constant, different once a schedule changes lr)
 *   Adam     w -= lr*sqrt(1-b2^t)/(1-b1^t) * m / (sqrt(v) + eps)
 *            (eps added to the raw sqrt(v), not to the bias-corrected one)
 * State is updated in float64 arithmetic per element and stored in FM_T.
 */

FM_INLINE double FM_FN(fm_decayed_grad)(const FM_T *g, const FM_T *w, ptrdiff_t i,
                                        ptrdiff_t n_decay, double wd, double l1)
{
    double gi = (double)g[i];
    if (i < n_decay) {
        double wi = (double)w[i];
        gi += wd * wi;
        if (l1 != 0) gi += l1 * (double)((wi > 0) - (wi < 0));
    }
    return gi;
}

/* The common torch-form SGD cases (no L1) as flat loops the compiler
 * vectorises: scalars hoisted into locals, restrict pointers, no per-element
 * branches.  wd applies to [lo, n_decay) only.  It computes in FM_T: for
 * float that differs from the general loop's double arithmetic by rounding
 * only (covered by the float32 tolerances in fastmlp/testing.py). */
static void FM_FN(fm_sgd_span)(FM_T *FM_RESTRICT w, FM_T *FM_RESTRICT buf,
                               const FM_T *FM_RESTRICT g, ptrdiff_t lo, ptrdiff_t hi, FM_T lr,
                               FM_T wd, FM_T mu, FM_T damp, int nesterov, int first)
{
    ptrdiff_t i;
    if (mu == 0) {
        if (wd == 0)
            for (i = lo; i < hi; i++) w[i] -= lr * g[i];
        else
            for (i = lo; i < hi; i++) w[i] -= lr * (g[i] + wd * w[i]);
    } else if (first) {
        for (i = lo; i < hi; i++) {
            FM_T gi = g[i] + wd * w[i];
            buf[i] = gi;
            w[i] -= lr * (nesterov ? gi + mu * gi : gi);
        }
    } else if (nesterov) {
        for (i = lo; i < hi; i++) {
            FM_T gi = g[i] + wd * w[i], b = mu * buf[i] + damp * gi;
            buf[i] = b;
            w[i] -= lr * (gi + mu * b);
        }
    } else {
        for (i = lo; i < hi; i++) {
            FM_T gi = g[i] + wd * w[i], b = mu * buf[i] + damp * gi;
            buf[i] = b;
            w[i] -= lr * b;
        }
    }
}

/* scikit-learn's SGD form without L1 or coupled decay (its L2 `alpha` is
 * added to g by the caller), vectorised like fm_sgd_span; FM_T arithmetic is
 * scikit-learn's own for float32 (its arrays keep the input's dtype), and for
 * float64 the operations and their order are those of fm_sgd's loop. */
static void FM_FN(fm_sgd_sklearn_span)(FM_T *FM_RESTRICT w, FM_T *FM_RESTRICT v,
                                       const FM_T *FM_RESTRICT g, ptrdiff_t lo, ptrdiff_t hi,
                                       FM_T lr, FM_T mu, int nesterov)
{
    ptrdiff_t i;
    if (mu == 0) {
        for (i = lo; i < hi; i++) w[i] = w[i] + -lr * g[i]; /* v unused (may be NULL) */
    } else if (nesterov) {
        for (i = lo; i < hi; i++) {
            FM_T vi = mu * v[i] - lr * g[i];
            v[i] = vi;
            w[i] = w[i] + (mu * vi - lr * g[i]);
        }
    } else {
        for (i = lo; i < hi; i++) {
            FM_T vi = mu * v[i] - lr * g[i];
            v[i] = vi;
            w[i] = w[i] + vi;
        }
    }
}

static void FM_FN(fm_sgd)(FM_T *w, FM_T *buf, const FM_T *g, const fm_optim *o,
                          ptrdiff_t lo, ptrdiff_t hi, ptrdiff_t n_decay)
{
    ptrdiff_t i;
    if (o->sklearn && o->l1 == 0 && o->weight_decay == 0 && (buf || o->momentum == 0)) {
        FM_FN(fm_sgd_sklearn_span)(w, buf, g, lo, hi, (FM_T)o->lr, (FM_T)o->momentum,
                                   o->nesterov);
        return;
    }
    if (!o->sklearn && o->l1 == 0) {
        const ptrdiff_t mid = FM_MAX(lo, FM_MIN(hi, n_decay));
        const int first = o->step <= 1, nest = o->nesterov;
        const FM_T lr = (FM_T)o->lr, mu = (FM_T)o->momentum, damp = (FM_T)(1.0 - o->dampening);
        FM_FN(fm_sgd_span)(w, buf, g, lo, mid, lr, (FM_T)o->weight_decay, mu, damp, nest, first);
        FM_FN(fm_sgd_span)(w, buf, g, mid, hi, lr, 0, mu, damp, nest, first);
        return;
    }
    const double mu = o->momentum, damp = 1.0 - o->dampening;
    for (i = lo; i < hi; i++) {
        double gi = FM_FN(fm_decayed_grad)(g, w, i, n_decay, o->weight_decay, o->l1);
        if (o->sklearn) {
            double v = mu * (double)buf[i] - o->lr * gi;
            if (mu != 0) buf[i] = (FM_T)v;
            w[i] = (FM_T)((double)w[i] + (o->nesterov ? mu * v - o->lr * gi : v));
            continue;
        }
        if (mu != 0) {
            double b = o->step <= 1 ? gi : mu * (double)buf[i] + damp * gi;
            buf[i] = (FM_T)b;
            gi = o->nesterov ? gi + mu * b : b;
        }
        w[i] = (FM_T)((double)w[i] - o->lr * gi);
    }
}

/* Adam and AdamW without AMSGrad or L1 (the common cases) as flat loops the
 * compiler vectorises, like fm_sgd_span: FM_T arithmetic (for float, torch's
 * and scikit-learn's own precision; for double the same operations in the
 * same order as fm_adaptive's loop, so float64 results are unchanged), no
 * per-element branches.  [lo, hi) lies wholly inside or outside the decayed
 * range: wd is the coupled decay (Adam) and keep the decoupled factor
 * 1 - lr*wd (AdamW, else 1).  The step is
 *   torch:   w -= (lr/bc1) * m / (sqrt(v)/sbc2 + eps)
 *   sklearn: w -= (lr*sbc2/bc1) * m / (sqrt(v) + eps). */
static void FM_FN(fm_adam_span)(FM_T *FM_RESTRICT w, FM_T *FM_RESTRICT m, FM_T *FM_RESTRICT v,
                                const FM_T *FM_RESTRICT g, ptrdiff_t lo, ptrdiff_t hi,
                                const fm_optim *o, double wd, double keep)
{
    const double t = (double)o->step;
    const double bc1 = 1.0 - pow(o->beta1, t), sbc2 = sqrt(1.0 - pow(o->beta2, t));
    const FM_T b1 = (FM_T)o->beta1, c1 = (FM_T)(1.0 - o->beta1);
    const FM_T b2 = (FM_T)o->beta2, c2 = (FM_T)(1.0 - o->beta2), eps = (FM_T)o->eps;
    const FM_T wdt = (FM_T)wd, kp = (FM_T)keep;
    ptrdiff_t i;
    if (o->sklearn) {
        const FM_T step = (FM_T)(o->lr * sbc2 / bc1);
        for (i = lo; i < hi; i++) {
            FM_T wi = w[i] * kp, gi = g[i] + wdt * w[i];
            FM_T mi = b1 * m[i] + c1 * gi, vi = b2 * v[i] + c2 * gi * gi;
            m[i] = mi;
            v[i] = vi;
            w[i] = wi - step * mi / (FM_SQRT(vi) + eps);
        }
    } else {
        const FM_T step = (FM_T)(o->lr / bc1), s2 = (FM_T)sbc2;
        for (i = lo; i < hi; i++) {
            FM_T wi = w[i] * kp, gi = g[i] + wdt * w[i];
            FM_T mi = b1 * m[i] + c1 * gi, vi = b2 * v[i] + c2 * gi * gi;
            m[i] = mi;
            v[i] = vi;
            w[i] = wi - step * mi / (FM_SQRT(vi) / s2 + eps);
        }
    }
}

static void FM_FN(fm_adaptive)(FM_T *w, FM_T *s1, FM_T *s2, const FM_T *g, const fm_optim *o,
                               ptrdiff_t lo, ptrdiff_t hi, ptrdiff_t n_decay)
{
    FM_T *s3 = (FM_T *)o->s3;
    ptrdiff_t i;
    const double t = (double)o->step, b1 = o->beta1, b2 = o->beta2, eps = o->eps;
    const int adamw = o->kind == FM_OPT_ADAMW;
    const double wd = adamw ? 0.0 : o->weight_decay;
    const double bc1 = 1.0 - pow(b1, t), sbc2 = sqrt(1.0 - pow(b2, t));
    if ((o->kind == FM_OPT_ADAM || adamw) && !o->amsgrad && o->l1 == 0) {
        const ptrdiff_t mid = FM_MAX(lo, FM_MIN(hi, n_decay));
        const double keep = adamw ? 1.0 - o->lr * o->weight_decay : 1.0;
        FM_FN(fm_adam_span)(w, s1, s2, g, lo, mid, o, wd, keep);
        FM_FN(fm_adam_span)(w, s1, s2, g, mid, hi, o, 0.0, 1.0);
        return;
    }
    for (i = lo; i < hi; i++) {
        double gi = FM_FN(fm_decayed_grad)(g, w, i, n_decay, wd, o->l1), wi, v;
        if (adamw && i < n_decay) w[i] = (FM_T)((double)w[i] * (1.0 - o->lr * o->weight_decay));
        wi = (double)w[i];
        switch (o->kind) {
        case FM_OPT_ADAGRAD:
            v = (double)s1[i] + gi * gi;
            s1[i] = (FM_T)v;
            wi -= o->lr * gi / (sqrt(v) + eps);
            break;
        case FM_OPT_RMSPROP: {
            double den;
            v = o->alpha * (double)s1[i] + (1.0 - o->alpha) * gi * gi;
            s1[i] = (FM_T)v;
            if (o->centered) {
                double a = (double)s3[i] + (1.0 - o->alpha) * (gi - (double)s3[i]);
                s3[i] = (FM_T)a;
                den = sqrt(FM_MAX(v - a * a, 0.0)) + eps;
            } else {
                den = sqrt(v) + eps;
            }
            if (o->momentum > 0) {
                double b = o->momentum * (double)s2[i] + gi / den;
                s2[i] = (FM_T)b;
                wi -= o->lr * b;
            } else {
                wi -= o->lr * gi / den;
            }
            break;
        }
        default: { /* Adam, AdamW */
            double m = b1 * (double)s1[i] + (1.0 - b1) * gi;
            v = b2 * (double)s2[i] + (1.0 - b2) * gi * gi;
            s1[i] = (FM_T)m;
            s2[i] = (FM_T)v;
            if (o->amsgrad) {
                v = FM_MAX((double)s3[i], v);
                s3[i] = (FM_T)v;
            }
            if (o->sklearn) wi -= (o->lr * sbc2 / bc1) * m / (sqrt(v) + eps);
            else wi -= (o->lr / bc1) * m / (sqrt(v) / sbc2 + eps);
        }
        }
        w[i] = (FM_T)wi;
    }
}

/* One update as a team task (team.h): part t of nt updates a run of elements. */
typedef struct {
    FM_T *w, *s1, *s2;
    const FM_T *g;
    const fm_optim *opt;
    ptrdiff_t n, n_decay;
} FM_FN(fm_optim_job);

static void FM_FN(fm_optim_task)(void *arg, int t, int nt)
{
    const FM_FN(fm_optim_job) *j = (const FM_FN(fm_optim_job) *)arg;
    ptrdiff_t lo = j->n * t / nt, hi = j->n * (t + 1) / nt;
    if (j->opt->kind == FM_OPT_SGD) FM_FN(fm_sgd)(j->w, j->s1, j->g, j->opt, lo, hi, j->n_decay);
    else FM_FN(fm_adaptive)(j->w, j->s1, j->s2, j->g, j->opt, lo, hi, j->n_decay);
}

void FM_FN(fm_optim_update)(FM_T *w, FM_T *s1, FM_T *s2, const FM_T *g, const fm_optim *opt,
                            ptrdiff_t n, ptrdiff_t n_decay, int n_threads)
{
    FM_FN(fm_optim_job) j;
    j.w = w; j.s1 = s1; j.s2 = s2; j.g = g; j.opt = opt; j.n = n; j.n_decay = n_decay;
    /* one thread: no OpenMP region at all (fm_train calls this per layer
     * and per step) */
    fm_par_run(fm_par_threads(n * 8, 0, n_threads), FM_FN(fm_optim_task), &j);
}
