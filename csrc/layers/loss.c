/*
 * loss.c -- MSE, MAE, Huber, pinball (quantile), Poisson, binary and
 * categorical cross-entropy with their output deltas, float and double
 * (bodies in loss_impl.h).  Not threaded:
 * a loss pass is O(N*K), negligible next to the layers' GEMMs.
 */
#include "core/fm_internal.h"

#include "core/fm_dtype_f32.h"
#include "layers/act_impl.h"
#include "layers/loss_impl.h"
#include "core/fm_dtype_end.h"

#include "core/fm_dtype_f64.h"
#include "layers/act_impl.h"
#include "layers/loss_impl.h"
#include "core/fm_dtype_end.h"
