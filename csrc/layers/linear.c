/*
 * linear.c -- dense-layer forward/backward and elementwise activation
 * kernels, float and double (bodies in linear_impl.h and act_impl.h).
 * All matrix products go through the dispatched fm_gemm_* (dispatch.c).
 */
#include "core/fm_internal.h"

#include "core/fm_dtype_f32.h"
#include "layers/act_impl.h"
#include "layers/linear_impl.h"
#include "core/fm_dtype_end.h"

#include "core/fm_dtype_f64.h"
#include "layers/act_impl.h"
#include "layers/linear_impl.h"
#include "core/fm_dtype_end.h"
