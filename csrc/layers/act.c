/*
 * act.c -- the activation layer's kernels (fm_act_layer_forward/backward),
 * float and double (bodies in act_layer_impl.h over act_impl.h's spans),
 * and fm_act_needs_z.  The training step runs them for its ACT layers
 * (train/layers_impl.h); fused activations live in the GEMM epilogue
 * (act_impl.h's fm_epi_row) instead.
 */
/* The activations' loops select between values computed on both sides (act_impl.h,
 * vexp.h): IEEE results are the same, but gcc vectorises such a loop only when FP
 * operations may be assumed not to trap (we never read the exception flags).
 * Here only: the fused forms in the GEMM epilogue keep the build's flags. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math")
#elif defined(__clang__)
#pragma clang fp exceptions(ignore)
#endif

#include "core/fm_internal.h"
#include "core/team.h"

/* Elements per task of the split, and the work fm_par_threads counts per
 * element (in a GEMM's multiply-adds): about one for a compare or a
 * multiply, more for the exp/erf/tanh of the activations that need z. */
#define FM_ACT_CHUNK 1024
#define FM_ACT_WORK 1
#define FM_ACT_WORK_Z 16

#include "core/fm_dtype_f32.h"
#include "layers/act_impl.h"
#include "layers/act_layer_impl.h"
#include "core/fm_dtype_end.h"

#include "core/fm_dtype_f64.h"
#include "layers/act_impl.h"
#include "layers/act_layer_impl.h"
#include "core/fm_dtype_end.h"

int fm_act_needs_z(int act)
{
    return fm_act_z(act);
}
