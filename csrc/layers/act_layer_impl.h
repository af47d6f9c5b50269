/*
 * act_layer_impl.h -- an activation as a layer of its own (the ACT layer of
 * train/net.h), forward and backward over a contiguous span of n items,
 * split into runs of whole FM_ACT_CHUNKs over the threads (included per
 * dtype by act.c).  Every element is a pure function of its own inputs,
 * so the split changes nothing.
 *
 *   forward   a = act(z)
 *   backward  dz = da * act'(z): output-based activations read a = act(z)
 *             (fm_dact_span), those that need z read z (fm_dact_z_span), and
 *             gelu both (fm_dgelu_za)
 */

typedef struct {
    FM_T *out;              /* a (forward) or dz (backward) */
    const FM_T *da, *z, *a; /* backward: da; both: z; backward: a */
    ptrdiff_t n, nc;
    int act, backward;
    FM_T slope;
} FM_FN(fm_act_job);

static void FM_FN(fm_act_task)(void *arg, int t, int nt)
{
    const FM_FN(fm_act_job) *j = (const FM_FN(fm_act_job) *)arg;
    const ptrdiff_t lo = FM_MIN(j->n, j->nc * t / nt * FM_ACT_CHUNK);
    const ptrdiff_t hi = FM_MIN(j->n, j->nc * (t + 1) / nt * FM_ACT_CHUNK), len = hi - lo;
    ptrdiff_t i;
    if (len <= 0) return;
    if (!j->backward) {
        if (j->out != j->z)
            for (i = 0; i < len; i++) j->out[lo + i] = j->z[lo + i];
        FM_FN(fm_act_span)(j->out + lo, len, j->act, j->slope);
        return;
    }
    if (j->out != j->da)
        for (i = 0; i < len; i++) j->out[lo + i] = j->da[lo + i];
    if (j->act == FM_ACT_GELU) { /* Phi from a: no second erf (act_impl.h's fm_dgelu_za) */
        FM_T *FM_RESTRICT d = j->out + lo;
        const FM_T *FM_RESTRICT z = j->z + lo, *FM_RESTRICT a = j->a + lo;
        for (i = 0; i < len; i++) d[i] *= FM_FN(fm_dgelu_za)(z[i], a[i]);
    } else if (fm_act_z(j->act)) {
        FM_FN(fm_dact_z_span)(j->out + lo, j->z + lo, len, j->act, j->slope);
    } else {
        FM_FN(fm_dact_span)(j->out + lo, j->a + lo, len, j->act, j->slope);
    }
}

static void FM_FN(fm_act_run)(FM_FN(fm_act_job) *j, int n_threads)
{
    const ptrdiff_t cost = fm_act_z(j->act) ? FM_ACT_WORK_Z : FM_ACT_WORK;
    j->nc = (j->n + FM_ACT_CHUNK - 1) / FM_ACT_CHUNK;
    fm_par_run((int)FM_MAX(1, FM_MIN(fm_par_threads(j->n * cost, 0, n_threads), j->nc)),
               FM_FN(fm_act_task), j);
}

void FM_FN(fm_act_layer_forward)(FM_T *a, const FM_T *z, ptrdiff_t n, int act, double slope,
                                 int n_threads)
{
    FM_FN(fm_act_job) j = {a, NULL, z, NULL, n, 0, act, 0, (FM_T)slope};
    FM_FN(fm_act_run)(&j, n_threads);
}

void FM_FN(fm_act_layer_backward)(FM_T *dz, const FM_T *da, const FM_T *z, const FM_T *a,
                                  ptrdiff_t n, int act, double slope, int n_threads)
{
    FM_FN(fm_act_job) j = {dz, da, z, a, n, 0, act, 1, (FM_T)slope};
    FM_FN(fm_act_run)(&j, n_threads);
}
