/*
 * peak_avx2.c -- FMA-throughput probe on 256-bit AVX2/FMA vectors (see
 * peak.c).  Compiled with -mavx2 -mfma (setup.py adds them to *_avx2.c);
 * reached only through the kernel table (core/dispatch.c) once core/cpu.c
 * found the CPU and OS support AVX2+FMA.
 * 12 ymm accumulators + 2 constants fit the 16 ymm registers and cover
 * 2 FMA ports x 4-5 cycles of latency.
 */
#include <immintrin.h>
#include "core/fm_internal.h"
#include "probe/peak.h"

#define PK_ISA avx2
#define PK_CHAINS 12

#include "core/fm_dtype_f32.h"
#define PK_VEC __m256
#define PK_LANES 8
#define PK_SET1 _mm256_set1_ps
#define PK_FMA _mm256_fmadd_ps
#define PK_STOREU _mm256_storeu_ps
#include "probe/peak_impl.h"
#undef PK_VEC
#undef PK_LANES
#undef PK_SET1
#undef PK_FMA
#undef PK_STOREU
#include "core/fm_dtype_end.h"

#include "core/fm_dtype_f64.h"
#define PK_VEC __m256d
#define PK_LANES 4
#define PK_SET1 _mm256_set1_pd
#define PK_FMA _mm256_fmadd_pd
#define PK_STOREU _mm256_storeu_pd
#include "probe/peak_impl.h"
#undef PK_VEC
#undef PK_LANES
#undef PK_SET1
#undef PK_FMA
#undef PK_STOREU
#include "core/fm_dtype_end.h"
