/*
 * gemm_generic.c -- the "generic" GEMM target: BLIS-shaped packed and
 * cache-blocked GEMM in portable C (no intrinsics; see gemm_avx2.c and
 * gemm_avx512.c for the SIMD micro-kernels), float and double.
 * Compiled with the baseline flags only, so it runs on any CPU.
 *
 * Also home of fm_gemm_scratch_get/put, the pool of pack buffers every
 * target shares.
 */
#include <stdlib.h>
#include "core/fm_internal.h"
#include "core/team.h"
#include "gemm/gemm.h"
#include "gemm/gemm_config.h"

/* A pool of pack buffers kept between calls (malloc'ing a few MiB per call
 * would page-fault them in every time: glibc serves such sizes by mmap).
 * Each GEMM thread takes a free slot for the length of its block and gives
 * it back; buffers grow on demand and stay allocated, owned by the pool, so
 * nothing is lost when OpenMP retires a thread.  With every slot busy
 * (more than FM_SCRATCH_SLOTS threads at once) a one-off buffer is used. */
#define FM_SCRATCH_SLOTS 64
static void *fm_scratch_raw[FM_SCRATCH_SLOTS];
static size_t fm_scratch_size[FM_SCRATCH_SLOTS];
static int fm_scratch_busy[FM_SCRATCH_SLOTS];

static void *fm_align64(void *raw) { return (void *)(((uintptr_t)raw + 64) & ~(uintptr_t)63); }

static void fm_scratch_release(int slot)
{
#ifdef _OPENMP
#pragma omp critical(fm_gemm_scratch)
#endif
    fm_scratch_busy[slot] = 0;
}

fm_scratch fm_gemm_scratch_get(size_t bytes)
{
    fm_scratch s = {NULL, -1, NULL};
    int i;
#ifdef _OPENMP
#pragma omp critical(fm_gemm_scratch)
#endif
    for (i = 0; i < FM_SCRATCH_SLOTS && s.slot < 0; i++)
        if (!fm_scratch_busy[i]) { fm_scratch_busy[i] = 1; s.slot = i; }
    if (s.slot < 0) { /* pool exhausted: a buffer for this call only */
        s.raw = malloc(bytes + 64);
        s.ptr = s.raw ? fm_align64(s.raw) : NULL;
        return s;
    }
    if (bytes > fm_scratch_size[s.slot]) { /* grow, with headroom to grow rarely */
        size_t want = bytes + bytes / 4 + 4096;
        free(fm_scratch_raw[s.slot]);
        fm_scratch_raw[s.slot] = malloc(want + 64);
        fm_scratch_size[s.slot] = fm_scratch_raw[s.slot] ? want : 0;
        if (!fm_scratch_raw[s.slot]) {
            fm_scratch_release(s.slot);
            s.slot = -1;
            return s;
        }
    }
    s.ptr = fm_align64(fm_scratch_raw[s.slot]);
    return s;
}

void fm_gemm_scratch_put(fm_scratch s)
{
    if (s.slot >= 0)
        fm_scratch_release(s.slot);
    else
        free(s.raw);
}

#define FM_TGT generic
/* narrow C skips packing: see gemm_config.h */
#define FM_DIRECT_N 16

#include "core/fm_dtype_f32.h"
#include "layers/act_impl.h"
#include "gemm/gemm_generic_impl.h"
#include "gemm/gemm_blocked_impl.h"
#include "core/fm_dtype_end.h"

#include "core/fm_dtype_f64.h"
#include "layers/act_impl.h"
#include "gemm/gemm_generic_impl.h"
#include "gemm/gemm_blocked_impl.h"
#include "core/fm_dtype_end.h"
