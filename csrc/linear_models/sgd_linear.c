/*
 * sgd_linear.c -- scikit-learn's plain SGD for a linear model with the
 * Perceptron loss (Hinge, threshold 0) and a constant learning rate: one
 * epoch per call, float and double, plus the xorshift Fisher-Yates shuffle
 * scikit-learn's SequentialDataset uses.  Two kernels with identical
 * results: the per-class one (sgd_linear_impl.h; each sample sees the
 * previous update, so one class is sequential by nature) and the
 * interleaved one for several one-vs-rest classes (sgd_lanes_impl.h), which
 * overlaps independent dot products and spreads the classes over OpenMP
 * threads.
 */
#include <string.h>

#include "core/fm_internal.h"

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

/* Interleaved kernel: at most this many dot products side by side per
 * thread (phase B below keeps them in registers), over blocks of this many
 * features (the product buffer, MAX_LANES * BLOCK doubles, stays in L1). */
#define FM_SGD_MAX_LANES 16
#ifndef FM_SGD_BLOCK
#define FM_SGD_BLOCK 64
#endif
/* Prefetch (sgd_lanes_impl.h): a row this many lane windows ahead, its CSR
 * offsets and target twice as far, into L2 (__builtin_prefetch locality 1):
 * into L1 (locality 3) they evict the lanes' weights and the product
 * buffer (docs/performance.md, "Linear models"). */
#ifndef FM_SGD_AHEAD_ROW
#define FM_SGD_AHEAD_ROW 2
#endif
#define FM_SGD_AHEAD_META (2 * FM_SGD_AHEAD_ROW)
#ifndef FM_SGD_PF_LOC
#define FM_SGD_PF_LOC 1
#endif

/* acc[l] += p[jj * L + l] for jj < bl, l < L: L independent sums, each in
 * jj order (elementwise adds the compiler may vectorise across lanes; no
 * sum is reassociated).  L is a constant in each case of fm_lanes_sum, so
 * the accumulators live in registers. */
FM_INLINE void fm_lanes_sum_n(double *FM_RESTRICT acc, const double *FM_RESTRICT p,
                              ptrdiff_t bl, const int L)
{
    double a[FM_SGD_MAX_LANES];
    ptrdiff_t jj;
    int l;
    for (l = 0; l < L; l++) a[l] = acc[l];
    for (jj = 0; jj < bl; jj++, p += L)
        for (l = 0; l < L; l++) a[l] += p[l];
    for (l = 0; l < L; l++) acc[l] = a[l];
}

static void fm_lanes_sum(double *acc, const double *p, ptrdiff_t bl, int L)
{
    switch (L) {
    case 1: fm_lanes_sum_n(acc, p, bl, 1); break;
    case 2: fm_lanes_sum_n(acc, p, bl, 2); break;
    case 3: fm_lanes_sum_n(acc, p, bl, 3); break;
    case 4: fm_lanes_sum_n(acc, p, bl, 4); break;
    case 5: fm_lanes_sum_n(acc, p, bl, 5); break;
    case 6: fm_lanes_sum_n(acc, p, bl, 6); break;
    case 7: fm_lanes_sum_n(acc, p, bl, 7); break;
    case 8: fm_lanes_sum_n(acc, p, bl, 8); break;
    case 9: fm_lanes_sum_n(acc, p, bl, 9); break;
    case 10: fm_lanes_sum_n(acc, p, bl, 10); break;
    case 11: fm_lanes_sum_n(acc, p, bl, 11); break;
    case 12: fm_lanes_sum_n(acc, p, bl, 12); break;
    case 13: fm_lanes_sum_n(acc, p, bl, 13); break;
    case 14: fm_lanes_sum_n(acc, p, bl, 14); break;
    case 15: fm_lanes_sum_n(acc, p, bl, 15); break;
    default: fm_lanes_sum_n(acc, p, bl, 16); break;
    }
}

/* ask for the cache lines of [a, e) (a hint; nothing without GCC/clang) */
FM_INLINE void fm_prefetch_range(const void *a, const void *e)
{
#if defined(__GNUC__) || defined(__clang__)
    const char *p = (const char *)a;
    for (; p < (const char *)e; p += 64) __builtin_prefetch(p, 0, FM_SGD_PF_LOC);
#else
    (void)a; (void)e;
#endif
}

#include "core/fm_dtype_f32.h"
#define FM_WSCALE_MIN 1e-6
#include "linear_models/sgd_linear_impl.h"
#include "linear_models/sgd_lanes_impl.h"
#undef FM_WSCALE_MIN
#include "core/fm_dtype_end.h"

#include "core/fm_dtype_f64.h"
#define FM_WSCALE_MIN 1e-9
#include "linear_models/sgd_linear_impl.h"
#include "linear_models/sgd_lanes_impl.h"
#undef FM_WSCALE_MIN
#include "core/fm_dtype_end.h"
