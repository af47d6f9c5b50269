/*
 * peak_generic.c -- the FMA-throughput probe in portable C: 32 scalar
 * chains of separate multiply and add, vectorised by the compiler as it can
 * (baseline flags).  The "generic" target's probe.
 */
#include "core/fm_internal.h"
#include "probe/peak.h"

#define PK_ISA generic
#define PK_CHAINS 32
#define PK_LANES 1
#define PK_SET1(x) (x)
#define PK_FMA(a, b, c) ((a) * (b) + (c))
#define PK_STOREU(p, v) (*(p) = (v))

#include "core/fm_dtype_f32.h"
#define PK_VEC float
#include "probe/peak_impl.h"
#undef PK_VEC
#include "core/fm_dtype_end.h"

#include "core/fm_dtype_f64.h"
#define PK_VEC double
#include "probe/peak_impl.h"
#undef PK_VEC
#include "core/fm_dtype_end.h"
