/*
 * dropout.c -- the counter RNG exposed for tests (fm_rng_uniform) and the
 * dropout / input-noise kernels, float and double (bodies in dropout_impl.h,
 * the RNG in rng.h).
 */
#include "fm_internal.h"
#include "rng.h"

void fm_rng_uniform(double *out, uint64_t seed, uint64_t step, uint64_t stream, ptrdiff_t n)
{
    const uint64_t key = fm_rng_key(seed, step, stream);
    ptrdiff_t i;
    for (i = 0; i < n; i++) out[i] = fm_rng_unif(key, (uint64_t)i);
}

#include "fm_dtype_f32.h"
#include "dropout_impl.h"
#include "fm_dtype_end.h"

#include "fm_dtype_f64.h"
#include "dropout_impl.h"
#include "fm_dtype_end.h"
