/*
 * gemm.h -- internal declarations of the GEMM targets and their pack
 * buffers.  Each target provides an f32 and an f64 function with the
 * signature and contract of fm_gemm_f32/fm_gemm_f64 (fastmlp.h); the
 * kernel table (core/dispatch.c) holds them and gemm.c calls the active one.
 */
#ifndef FM_GEMM_H
#define FM_GEMM_H

#include "fastmlp.h"

/* ---- GEMM targets (gemm_generic.c, gemm_avx2.c, gemm_avx512.c) ----------
 * Same signature and contract as fm_gemm_f32/f64.  The avx2/avx512 ones
 * exist only in x86-64 builds and may only be called once the matching
 * fm_cpu_has_* (core/cpu.h) returned 1.  "ref" is in fastmlp.h. */
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
