/*
 * sparse_fwd_avx2.c -- sparse_fwd_impl.h built with the avx2 ISA flags (setup.py
 * adds them to every *_avx2.c); x86-64 only, called only once the CPU check of
 * the avx2 GEMM target said yes.
 */
#include "core/fm_internal.h"
#include "gemm/gemm_config.h"
#include "train/fast/sparse_fwd.h"

#define FM_SFFN(name) FM_CAT(FM_CAT(fm_sparse_avx2, name), FM_SFX)

#include "core/fm_dtype_f32.h"
#include "train/fast/sparse_fwd_impl.h"
#include "core/fm_dtype_end.h"

#include "core/fm_dtype_f64.h"
#include "train/fast/sparse_fwd_impl.h"
#include "core/fm_dtype_end.h"
