/*
 * csr_avx2.c -- csr_impl.h built with the avx2 flags (setup.py, by file suffix);
 * x86-64 only; reached only through the kernel table once core/cpu.c found avx2.
 */
#include "core/fm_internal.h"
#include "core/team.h"
#include "layers/csr.h"

#define FM_CSRFN(name) FM_CAT(FM_CAT(fm_csr_avx2, name), FM_SFX)

#include "core/fm_dtype_f32.h"
#include "layers/act_impl.h"
#include "layers/csr_impl.h"
#include "core/fm_dtype_end.h"

#include "core/fm_dtype_f64.h"
#include "layers/act_impl.h"
#include "layers/csr_impl.h"
#include "core/fm_dtype_end.h"
