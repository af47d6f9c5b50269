/*
 * sparse_fwd_avx2.c -- sparse_fwd_impl.h built with the avx2 flags (setup.py, by file suffix);
 * x86-64 only; reached only through the kernel table once core/cpu.c found avx2.
 */
#include "core/fm_internal.h"
#include "core/team.h"
#include "gemm/gemm_config.h"
#include "train/fast/sparse_fwd.h"

#define FM_SFFN(name) FM_CAT(FM_CAT(fm_sparse_avx2, name), FM_SFX)

#include "core/fm_dtype_f32.h"
#include "train/fast/sparse_fwd_impl.h"
#include "core/fm_dtype_end.h"

#include "core/fm_dtype_f64.h"
#include "train/fast/sparse_fwd_impl.h"
#include "core/fm_dtype_end.h"
