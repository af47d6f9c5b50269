/*
 * peak_avx512.c -- FMA-throughput probe on 512-bit AVX-512F vectors (see
 * peak.c).  Compiled with the AVX-512 flags setup.py gives *_avx512.c;
 * reached only through the kernel table (core/dispatch.c) once core/cpu.c
 * found the CPU and OS support AVX-512.  16 zmm accumulators (of 32 registers) cover 2 FMA ports x 4
 * cycles of latency on every AVX-512 core, including those that split a
 * zmm FMA into two 256-bit halves.
 */
#include <immintrin.h>
#include "core/fm_internal.h"
#include "probe/peak.h"

#define PK_ISA avx512
#define PK_CHAINS 16

#include "core/fm_dtype_f32.h"
#define PK_VEC __m512
#define PK_LANES 16
#define PK_SET1 _mm512_set1_ps
#define PK_FMA _mm512_fmadd_ps
#define PK_STOREU _mm512_storeu_ps
#include "probe/peak_impl.h"
#undef PK_VEC
#undef PK_LANES
#undef PK_SET1
#undef PK_FMA
#undef PK_STOREU
#include "core/fm_dtype_end.h"

#include "core/fm_dtype_f64.h"
#define PK_VEC __m512d
#define PK_LANES 8
#define PK_SET1 _mm512_set1_pd
#define PK_FMA _mm512_fmadd_pd
#define PK_STOREU _mm512_storeu_pd
#include "probe/peak_impl.h"
#undef PK_VEC
#undef PK_LANES
#undef PK_SET1
#undef PK_FMA
#undef PK_STOREU
#include "core/fm_dtype_end.h"
