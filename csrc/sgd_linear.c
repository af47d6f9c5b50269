/*
 * sgd_linear.c -- scikit-learn's plain SGD for a linear model with the
 * Perceptron loss (Hinge, threshold 0) and a constant learning rate: one
 * epoch per call, float and double (body in sgd_linear_impl.h), plus the
 * xorshift Fisher-Yates shuffle scikit-learn's SequentialDataset uses.
 * Sequential by nature (each sample sees the previous update): no OpenMP
 * here; one-vs-rest classes run in parallel one level up, in Python threads.
 */
#include "fm_internal.h"

/* scikit-learn's our_rand_r (sklearn/utils/_random.pxd): xorshift32, a zero
 * state replaced by 1, the result taken modulo 2^31. */
static uint32_t fm_rand_r(uint32_t *seed)
{
    if (*seed == 0) *seed = 1;
    *seed ^= (uint32_t)(*seed << 13);
    *seed ^= (uint32_t)(*seed >> 17);
    *seed ^= (uint32_t)(*seed << 5);
    return *seed % ((uint32_t)2147483647 + 1);
}

void fm_sgd_shuffle(int64_t *ind, ptrdiff_t n, uint32_t seed)
{
    unsigned i, j;
    for (i = 0; i + 1 < (unsigned)n; i++) {
        int64_t tmp;
        j = i + fm_rand_r(&seed) % ((unsigned)n - i);
        tmp = ind[i];
        ind[i] = ind[j];
        ind[j] = tmp;
    }
}

#include "fm_dtype_f32.h"
#define FM_WSCALE_MIN 1e-6
#include "sgd_linear_impl.h"
#undef FM_WSCALE_MIN
#include "fm_dtype_end.h"

#include "fm_dtype_f64.h"
#define FM_WSCALE_MIN 1e-9
#include "sgd_linear_impl.h"
#undef FM_WSCALE_MIN
#include "fm_dtype_end.h"
