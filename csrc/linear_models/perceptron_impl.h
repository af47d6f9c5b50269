/*
 * perceptron_impl.h -- Rosenblatt's learning rule, one epoch (included per
 * dtype by perceptron.c).  x (n, d) row-major, y (n) in {-1, +1}.
 * A row counts as a mistake when y_i * (w.x_i + b) <= 0 -- a point exactly
 * on the boundary updates too, which is how zero weights start learning
 * (the same condition as scikit-learn's Perceptron hinge with threshold 0).
 */
ptrdiff_t FM_FN(fm_perceptron_epoch)(FM_T *w, FM_T *b, const FM_T *x, const FM_T *y,
                                     const int64_t *order, ptrdiff_t n, ptrdiff_t d, double eta)
{
    ptrdiff_t r, j, mistakes = 0;
    for (r = 0; r < n; r++) {
        ptrdiff_t i = order ? (ptrdiff_t)order[r] : r;
        const FM_T *xi = x + i * d;
        FM_T s = *b;
        for (j = 0; j < d; j++) s += w[j] * xi[j];
        if (y[i] * s <= 0) {
            FM_T step = (FM_T)eta * y[i];
            for (j = 0; j < d; j++) w[j] += step * xi[j];
            *b += step;
            mistakes++;
        }
    }
    return mistakes;
}
