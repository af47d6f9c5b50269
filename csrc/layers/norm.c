/*
 * norm.c -- batch and layer normalisation kernels, float and double
 * (bodies in norm_impl.h, the fused activations from act_impl.h): the NORM
 * layers of fm_train (train/net.h) and their tests.  Portable C; the inner loops are plain passes over a block
 * of columns or a row, left to the compiler to vectorise.
 */
#include "core/fm_internal.h"
#include "core/team.h"

/* Columns a batch-norm task handles at once: its sums live in registers or
 * on the stack, and a row's block of them is a few cache lines. */
#define FM_NORM_COLS 64
/* Work per element in fm_par_threads' unit (a GEMM's multiply-adds): a
 * normalisation reads each element two or three times, a few flops each. */
#define FM_NORM_WORK 8

/* The passes a task runs (norm_impl.h's fm_norm_task). */
enum { FM_NORM_OP_BN_FWD, FM_NORM_OP_BN_INFER, FM_NORM_OP_BN_BWD, FM_NORM_OP_LN_FWD,
       FM_NORM_OP_LN_BWD_COLS, FM_NORM_OP_LN_BWD_ROWS, FM_NORM_OP_DACT };

#include "core/fm_dtype_f32.h"
#include "layers/act_impl.h"
#include "layers/norm_impl.h"
#include "core/fm_dtype_end.h"

#include "core/fm_dtype_f64.h"
#include "layers/act_impl.h"
#include "layers/norm_impl.h"
#include "core/fm_dtype_end.h"
