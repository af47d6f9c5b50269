/*
 * gemm_ref.c -- the reference GEMM (triple loop), float and double.
 * It is the specification: every faster GEMM target is tested against it,
 * and it is the fallback target "ref" (FASTMLP_ARCH=ref).
 */
#include "core/fm_internal.h"

#include "core/fm_dtype_f32.h"
#include "layers/act_impl.h"
#include "gemm/gemm_ref_impl.h"
#include "core/fm_dtype_end.h"

#include "core/fm_dtype_f64.h"
#include "layers/act_impl.h"
#include "gemm/gemm_ref_impl.h"
#include "core/fm_dtype_end.h"
