/*
 * csr_generic.c -- csr_impl.h in portable C (baseline flags, SSE2 on x86-64): the
 * instance of the "generic" and "ref" targets of the kernel table.
 */
#include "core/fm_internal.h"
#include "core/team.h"
#include "layers/csr.h"

#define FM_CSRFN(name) FM_CAT(FM_CAT(fm_csr_generic, name), FM_SFX)

#include "core/fm_dtype_f32.h"
#include "layers/act_impl.h"
#include "layers/csr_impl.h"
#include "core/fm_dtype_end.h"

#include "core/fm_dtype_f64.h"
#include "layers/act_impl.h"
#include "layers/csr_impl.h"
#include "core/fm_dtype_end.h"
