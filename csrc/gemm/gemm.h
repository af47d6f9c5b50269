/*
 * gemm.h -- internal declarations of the GEMM targets and the dispatch
 * table.  Each target provides an f32 and an f64 function with the
 * signature of fm_gemm_f32/fm_gemm_f64 in fastmlp.h.
 */
#ifndef FM_GEMM_H
#define FM_GEMM_H

#include "fastmlp.h"

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

/* ---- CPU features (cpu.c): 1 when the CPU and the OS support the set --- */
int fm_cpu_has_avx2(void);   /* AVX2 + FMA, YMM state saved by the OS */
int fm_cpu_has_avx512(void); /* AVX-512 F/DQ/BW/VL, ZMM + opmask state saved */

/* ---- GEMM targets (gemm_generic.c, gemm_avx2.c, gemm_avx512.c) ----------
 * Same signature and contract as fm_gemm_f32/f64.  The avx2/avx512 ones
 * exist only in x86-64 builds and may only be called once the matching
 * fm_cpu_has_* returned 1. */
#define FM_GEMM_DECLARE(tgt)                                                          \
    void fm_gemm_##tgt##_f32(float *, ptrdiff_t, const float *, ptrdiff_t, ptrdiff_t,    \
                             const float *, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t,  \
                             ptrdiff_t, float, float, const fm_epilogue *, int);         \
    void fm_gemm_##tgt##_f64(double *, ptrdiff_t, const double *, ptrdiff_t, ptrdiff_t,  \
                             const double *, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, \
                             ptrdiff_t, double, double, const fm_epilogue *, int);
FM_GEMM_DECLARE(generic)
FM_GEMM_DECLARE(avx2)
FM_GEMM_DECLARE(avx512)

/* Pack buffers (gemm_generic.c): a 64-byte aligned block of at least
 * `bytes` at .ptr, from a pool shared by all targets and threads (buffers
 * are reused by later calls, grown on demand, never shrunk).  .ptr is NULL
 * when malloc fails; callers then fall back to the reference kernel.
 * Every get is paired with a put once the buffer is no longer used. */
typedef struct fm_scratch {
    void *ptr;
    int slot;  /* pool slot, or -1 for a one-off buffer */
    void *raw; /* one-off buffer to free */
} fm_scratch;
fm_scratch fm_gemm_scratch_get(size_t bytes);
void fm_gemm_scratch_put(fm_scratch s);

#endif /* FM_GEMM_H */
