/*
 * linear.c -- dense-layer forward/backward and elementwise activation
 * kernels, float and double (bodies in linear_impl.h and act_impl.h).
 * All matrix products go through the dispatched fm_gemm_* (dispatch.c).
 */
#include "fm_internal.h"

#include "fm_dtype_f32.h"
#include "act_impl.h"
#include "linear_impl.h"
#include "fm_dtype_end.h"

#include "fm_dtype_f64.h"
#include "act_impl.h"
#include "linear_impl.h"
#include "fm_dtype_end.h"
