/*
 * rank1.c -- the fused small-batch SGD pass (rank1_impl.h) in portable C,
 * and the entry that runs the instance of the active GEMM target: the
 * compiler vectorises the pass with the target's ISA (AVX2/AVX-512 + FMA
 * in rank1_avx2.c / rank1_avx512.c; here the baseline, SSE2 on x86-64).
 */
#include "core/fm_internal.h"
#include "gemm/gemm_config.h"
#include "train/fast/rank1.h"

#define FM_R1FN(name) FM_CAT(FM_CAT(fm_rank1_generic, name), FM_SFX)

#include "core/fm_dtype_f32.h"
#include "layers/act_impl.h"
#include "train/fast/rank1_impl.h"
#include "core/fm_dtype_end.h"

#include "core/fm_dtype_f64.h"
#include "layers/act_impl.h"
#include "train/fast/rank1_impl.h"
#include "core/fm_dtype_end.h"

#if defined(__x86_64__) || defined(_M_X64)
#define FM_RANK1_ENTRY(T, sfx)                                                                \
    void fm_rank1_sgd_##sfx(T *dn, T *w, const T *d, const T *x, const T *a, int act,        \
                            double slope, T lr, T s, int acc, ptrdiff_t rows, ptrdiff_t IN,  \
                            ptrdiff_t OUT, int n_threads)                                    \
    {                                                                                        \
        switch (fm_target_isa()) {                                                            \
        case 2:                                                                              \
            fm_rank1_avx512_sgd_##sfx(dn, w, d, x, a, act, slope, lr, s, acc, rows, IN, OUT,      \
                                      n_threads);                                            \
            break;                                                                           \
        case 1:                                                                              \
            fm_rank1_avx2_sgd_##sfx(dn, w, d, x, a, act, slope, lr, s, acc, rows, IN, OUT,        \
                                    n_threads);                                              \
            break;                                                                           \
        default:                                                                             \
            fm_rank1_generic_sgd_##sfx(dn, w, d, x, a, act, slope, lr, s, acc, rows, IN, OUT,     \
                                       n_threads);                                           \
        }                                                                                    \
    }
#else
#define FM_RANK1_ENTRY(T, sfx)                                                                \
    void fm_rank1_sgd_##sfx(T *dn, T *w, const T *d, const T *x, const T *a, int act,        \
                            double slope, T lr, T s, int acc, ptrdiff_t rows, ptrdiff_t IN,  \
                            ptrdiff_t OUT, int n_threads)                                    \
    {                                                                                        \
        fm_rank1_generic_sgd_##sfx(dn, w, d, x, a, act, slope, lr, s, acc, rows, IN, OUT,         \
                                   n_threads);                                               \
    }
#endif
FM_RANK1_ENTRY(float, f32)
FM_RANK1_ENTRY(double, f64)
