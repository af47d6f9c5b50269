/*
 * gemm_generic.c -- the "generic" GEMM target: BLIS-shaped packed and
 * cache-blocked GEMM in portable C (no intrinsics; see gemm_avx2.c and
 * gemm_avx512.c for the SIMD micro-kernels), float and double.
 * Compiled with the baseline flags only, so it runs on any CPU.
 *
 * Also home of fm_gemm_scratch, the per-thread pack-buffer cache every
 * target shares (one buffer per calling thread, whatever the target/dtype).
 */
#include <stdlib.h>
#include "../fm_internal.h"
#include "gemm.h"
#include "gemm_config.h"

#if defined(_MSC_VER)
#define FM_TLS __declspec(thread)
#else
#define FM_TLS _Thread_local
#endif

/* The buffer is kept for the thread's lifetime and reused by every GEMM it
 * runs (malloc'ing a few MiB per call would page-fault it in each time).
 * It is never freed: OpenMP pool threads live as long as the process. */
static FM_TLS void *fm_scratch_raw = NULL;
static FM_TLS size_t fm_scratch_size = 0;

void *fm_gemm_scratch(size_t bytes)
{
    if (bytes > fm_scratch_size) {
        size_t want = bytes + bytes / 4 + 4096; /* headroom: grow rarely */
        void *raw = malloc(want + 64);
        if (!raw) return NULL;
        free(fm_scratch_raw);
        fm_scratch_raw = raw;
        fm_scratch_size = want;
    }
    return (void *)(((uintptr_t)fm_scratch_raw + 64) & ~(uintptr_t)63);
}

#define FM_TGT generic
/* narrow C skips packing: see gemm_config.h */
#define FM_DIRECT_N 16

#include "../fm_dtype_f32.h"
#include "../act_impl.h"
#include "gemm_generic_impl.h"
#include "gemm_blocked_impl.h"
#include "../fm_dtype_end.h"

#include "../fm_dtype_f64.h"
#include "../act_impl.h"
#include "gemm_generic_impl.h"
#include "gemm_blocked_impl.h"
#include "../fm_dtype_end.h"
