/*
 * fm_internal.h -- helpers shared by the C sources; not part of the API.
 *
 * Dtype templating: a kernel body is written once in a *_impl.h file that
 * uses FM_T (the element type) and FM_FN(name) (name suffixed _f32/_f64),
 * and is included twice by its .c file, between fm_dtype_f32.h /
 * fm_dtype_f64.h and fm_dtype_end.h.
 */
#ifndef FM_INTERNAL_H
#define FM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <string.h>
#include "fastmlp.h"

#ifdef _OPENMP
#include <omp.h>
#endif

#define FM_CAT_(a, b) a##_##b
#define FM_CAT(a, b) FM_CAT_(a, b)
#define FM_FN(name) FM_CAT(name, FM_SFX)

#if defined(__GNUC__) || defined(__clang__)
#define FM_RESTRICT __restrict__
#define FM_INLINE static inline __attribute__((always_inline))
#else
#define FM_RESTRICT
#define FM_INLINE static inline
#endif

/* Weights streamed from memory once per pass (batch 1-3: rows_stream's
 * x.W, the rank1 pass over W's rows): the hardware prefetchers alone keep
 * too few lines in flight for one core to reach the memory's bandwidth, so
 * these passes prefetch into L2 FM_PF_ROW_BYTES ahead of the stream
 * (rows_stream reads 4 rows side by side, each prefetched a quarter as far).
 * A prefetch past the end of the data is harmless (no fault, at most a
 * wasted line).  Building with a huge FM_PF_MIN_BYTES turns it off.
 * Measurements: docs/performance.md, "Memory streaming". */
/* ... for weights of at least this many bytes: smaller ones come from the
 * caches, where the extra instructions cost more than they save */
#ifndef FM_PF_MIN_BYTES
#define FM_PF_MIN_BYTES ((ptrdiff_t)4 << 20)
#endif
#ifndef FM_PF_ROW_BYTES
#define FM_PF_ROW_BYTES 12288
#endif
#ifndef FM_PF_AXPY_BYTES
#define FM_PF_AXPY_BYTES 3072
#endif
#if defined(__GNUC__) || defined(__clang__)
#define FM_PREFETCH_L2(p) __builtin_prefetch((p), 0, 2)
#else
#define FM_PREFETCH_L2(p) ((void)(p))
#endif

/* A sum over a loop that the compiler may vectorise (reassociate): the
 * build passes -fopenmp-simd (gcc, clang), which honours this pragma even
 * without OpenMP; without -ffast-math nothing else lets gcc vectorise a
 * floating-point reduction.  Used only where the order of a sum does not
 * matter beyond rounding (covered by fastmlp/testing.py's tolerances). */
#if defined(__GNUC__) || defined(__clang__)
#define FM_SIMD_SUM(var) _Pragma(FM_STR_(omp simd reduction(+ : var)))
#define FM_STR_(x) #x
#else
#define FM_SIMD_SUM(var)
#endif

/* Below this many multiply-adds a GEMM or elementwise pass runs on one
 * thread: waking passive OpenMP workers costs more than a small layer's
 * whole forward pass or the optimizer update of 64k parameters (see
 * FM_GEMM_MT_WORK in gemm/gemm_config.h). */
#define FM_OMP_MIN_WORK ((ptrdiff_t)1 << 19)

static inline int fm_threads_for(ptrdiff_t work, int n_threads)
{
    if (n_threads < 1 || work < FM_OMP_MIN_WORK) return 1;
    return n_threads;
}

#define FM_MAX(a, b) ((a) > (b) ? (a) : (b))
#define FM_MIN(a, b) ((a) < (b) ? (a) : (b))

#endif /* FM_INTERNAL_H */
