/*
 * sparse_fwd.c -- the zero-skipping small-batch forward (sparse_fwd_impl.h)
 * in portable C, and the entry that runs the instance of the active GEMM
 * target (AVX2/AVX-512 + FMA builds in sparse_fwd_avx2.c / _avx512.c).
 */
#include "core/fm_internal.h"
#include "gemm/gemm_config.h"
#include "train/fast/sparse_fwd.h"

#define FM_SFFN(name) FM_CAT(FM_CAT(fm_sparse_generic, name), FM_SFX)

#include "core/fm_dtype_f32.h"
#include "train/fast/sparse_fwd_impl.h"
#include "core/fm_dtype_end.h"

#include "core/fm_dtype_f64.h"
#include "train/fast/sparse_fwd_impl.h"
#include "core/fm_dtype_end.h"

#if defined(__x86_64__) || defined(_M_X64)
#define FM_SPARSE_FWD_ENTRY(T, sfx)                                                           \
    void fm_sparse_fwd_##sfx(T *c, const T *x, const T *w, T beta, ptrdiff_t rows,            \
                             ptrdiff_t IN, ptrdiff_t OUT, int n_threads)                      \
    {                                                                                         \
        switch (fm_target_isa()) {                                                            \
        case 2: fm_sparse_avx512_fwd_##sfx(c, x, w, beta, rows, IN, OUT, n_threads); break;   \
        case 1: fm_sparse_avx2_fwd_##sfx(c, x, w, beta, rows, IN, OUT, n_threads); break;     \
        default: fm_sparse_generic_fwd_##sfx(c, x, w, beta, rows, IN, OUT, n_threads);        \
        }                                                                                     \
    }
#else
#define FM_SPARSE_FWD_ENTRY(T, sfx)                                                           \
    void fm_sparse_fwd_##sfx(T *c, const T *x, const T *w, T beta, ptrdiff_t rows,            \
                             ptrdiff_t IN, ptrdiff_t OUT, int n_threads)                      \
    {                                                                                         \
        fm_sparse_generic_fwd_##sfx(c, x, w, beta, rows, IN, OUT, n_threads);                 \
    }
#endif
FM_SPARSE_FWD_ENTRY(float, f32)
FM_SPARSE_FWD_ENTRY(double, f64)
