/*
 * dropout.c -- the counter RNG exposed for tests (fm_rng_uniform,
 * fm_rng_normal) and the dropout / input-noise kernels, float and double
 * (bodies in dropout_impl.h, the RNG in rng.h, the vectorised range kernels
 * in noise_*.c).
 *
 * The range kernels are the active target's (core/kernels.h, so FASTMLP_ARCH
 * and fastmlp.set_target choose them too); every target is tested against
 * fastmlp.reference.
 */
#include <string.h>
#include "core/fm_internal.h"
#include "core/kernels.h"
#include "core/team.h"
#include "rng/rng.h"
#include "rng/noise.h"

/* Elements per range-kernel call, the unit threads share out. */
#define FM_RNG_CHUNK 4096
/* Work per element in fm_par_threads' unit (a GEMM's multiply-adds): a
 * normal costs about four times a dropout unit (docs/performance.md). */
#define FM_NOISE_WORK 16
#define FM_DROP_WORK 4

void fm_rng_uniform(double *out, uint64_t seed, uint64_t step, uint64_t stream, ptrdiff_t n)
{
    const uint64_t key = fm_rng_key(seed, step, stream);
    ptrdiff_t i;
    for (i = 0; i < n; i++) out[i] = fm_rng_unif(key, (uint64_t)i);
}

#include "core/fm_dtype_f32.h"
#include "rng/dropout_impl.h"
#include "core/fm_dtype_end.h"

#include "core/fm_dtype_f64.h"
#include "rng/dropout_impl.h"
#include "core/fm_dtype_end.h"

void fm_rng_normal(double *out, uint64_t seed, uint64_t step, uint64_t stream, ptrdiff_t n,
                   int n_threads)
{
    ptrdiff_t i;
    for (i = 0; i < n; i++) out[i] = 0.0;
    fm_gaussian_noise_f64(out, 1.0, seed, step, stream, n, n_threads); /* 0 + 1*normal(i) */
}
