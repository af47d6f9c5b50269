/*
 * sparse_fwd_generic.c -- sparse_fwd_impl.h in portable C (baseline flags, SSE2 on x86-64):
 * the instance of the "generic" and "ref" targets of the kernel table.
 */
#include "core/fm_internal.h"
#include "core/team.h"
#include "gemm/gemm_config.h"
#include "train/fast/sparse_fwd.h"

#define FM_SFFN(name) FM_CAT(FM_CAT(fm_sparse_generic, name), FM_SFX)

#include "core/fm_dtype_f32.h"
#include "train/fast/sparse_fwd_impl.h"
#include "core/fm_dtype_end.h"

#include "core/fm_dtype_f64.h"
#include "train/fast/sparse_fwd_impl.h"
#include "core/fm_dtype_end.h"
