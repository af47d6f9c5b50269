/*
 * finite.c -- whether a block of values is all finite, float and double
 * (body in finite_impl.h): fm_train's check of each batch's inputs in the
 * first epoch of a fit (cfg->check_finite), instead of a pass over all of x
 * before training.
 */
#include "core/fm_internal.h"

/* Independent partial sums per pass: 4 SSE / 2 AVX-512 registers of float. */
#define FM_FIN_LANES 32

#include "core/fm_dtype_f32.h"
#include "layers/finite_impl.h"
#include "core/fm_dtype_end.h"

#include "core/fm_dtype_f64.h"
#include "layers/finite_impl.h"
#include "core/fm_dtype_end.h"
