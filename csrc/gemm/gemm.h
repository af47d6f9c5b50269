/*
 * gemm.h -- internal declarations of the GEMM targets and the dispatch
 * table.  Each target provides an f32 and an f64 function with the
 * signature of fm_gemm_f32/fm_gemm_f64 in fastmlp.h.
 */
#ifndef FM_GEMM_H
#define FM_GEMM_H

#include "../fastmlp.h"

typedef void (*fm_gemm_f32_fn)(float *, ptrdiff_t, const float *, ptrdiff_t, ptrdiff_t,
                               const float *, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t,
                               ptrdiff_t, float, float, const fm_epilogue *, int);
typedef void (*fm_gemm_f64_fn)(double *, ptrdiff_t, const double *, ptrdiff_t, ptrdiff_t,
                               const double *, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t,
                               ptrdiff_t, double, double, const fm_epilogue *, int);

/* One entry per target, best first; `supported` says whether this CPU (and
 * OS) can run it. */
typedef struct fm_target {
    const char *name;
    int (*supported)(void);
    fm_gemm_f32_fn gemm_f32;
    fm_gemm_f64_fn gemm_f64;
} fm_target;

#endif /* FM_GEMM_H */
