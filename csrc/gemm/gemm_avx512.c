/*
 * gemm_avx512.c -- the "avx512" GEMM target: the shared packed loop nest
 * (gemm_blocked_impl.h) around 8x32 f32 / 8x16 f64 micro-kernels and
 * direct small-problem kernels (gemm_simd_impl.h), here instantiated with
 * AVX-512 intrinsics.
 *
 * Built with -mavx512f -mavx512dq -mavx512vl -mavx512bw -mfma (setup.py
 * adds them to every *_avx512.c); x86-64 builds only.  Nothing here may run
 * before fm_cpu_has_avx512() said yes (core/cpu.h, core/dispatch.c).
 *
 * Masked loads/stores handle every edge: lanes off the mask are neither
 * read nor written, so no stack tile or scalar tail loop is needed.
 */
#include <immintrin.h>
#include "core/fm_internal.h"
#include "core/team.h"
#include "gemm/gemm.h"
#include "gemm/gemm_config.h"

#define FM_TGT avx512
/* 8 rows x 2 vectors: 16 of the 32 zmm registers hold accumulators (why
 * not a 14-row tile: docs/performance.md, "GEMM") */
#define FM_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define FM_PREFETCH(p) _mm_prefetch((const char *)(p), _MM_HINT_T0)

/* ---- the vector vocabulary of gemm_simd_impl.h, per dtype -------------- */
typedef __m512 fm_v_f32;
typedef __m512d fm_v_f64;
typedef __mmask16 fm_vm_f32;
typedef __mmask8 fm_vm_f64;
enum { fm_vl_f32 = 16, fm_vl_f64 = 8 };
FM_INLINE __m512 fm_vzero_f32(void) { return _mm512_setzero_ps(); }
FM_INLINE __m512d fm_vzero_f64(void) { return _mm512_setzero_pd(); }
FM_INLINE __m512 fm_vset1_f32(float x) { return _mm512_set1_ps(x); }
FM_INLINE __m512d fm_vset1_f64(double x) { return _mm512_set1_pd(x); }
FM_INLINE __m512 fm_vload_f32(const float *p) { return _mm512_loadu_ps(p); }
FM_INLINE __m512d fm_vload_f64(const double *p) { return _mm512_loadu_pd(p); }
FM_INLINE void fm_vstore_f32(float *p, __m512 v) { _mm512_storeu_ps(p, v); }
FM_INLINE void fm_vstore_f64(double *p, __m512d v) { _mm512_storeu_pd(p, v); }
FM_INLINE __mmask16 fm_vmask_f32(ptrdiff_t cnt) { return (__mmask16)((1u << cnt) - 1u); }
FM_INLINE __mmask8 fm_vmask_f64(ptrdiff_t cnt) { return (__mmask8)((1u << cnt) - 1u); }
FM_INLINE __m512 fm_vloadm_f32(const float *p, __mmask16 m) { return _mm512_maskz_loadu_ps(m, p); }
FM_INLINE __m512d fm_vloadm_f64(const double *p, __mmask8 m) { return _mm512_maskz_loadu_pd(m, p); }
FM_INLINE void fm_vstorem_f32(float *p, __mmask16 m, __m512 v) { _mm512_mask_storeu_ps(p, m, v); }
FM_INLINE void fm_vstorem_f64(double *p, __mmask8 m, __m512d v) { _mm512_mask_storeu_pd(p, m, v); }
FM_INLINE __m512 fm_vfma_f32(__m512 a, __m512 b, __m512 c) { return _mm512_fmadd_ps(a, b, c); }
FM_INLINE __m512d fm_vfma_f64(__m512d a, __m512d b, __m512d c) { return _mm512_fmadd_pd(a, b, c); }
FM_INLINE __m512 fm_vmul_f32(__m512 a, __m512 b) { return _mm512_mul_ps(a, b); }
FM_INLINE __m512d fm_vmul_f64(__m512d a, __m512d b) { return _mm512_mul_pd(a, b); }
FM_INLINE __m512 fm_vadd_f32(__m512 a, __m512 b) { return _mm512_add_ps(a, b); }
FM_INLINE __m512d fm_vadd_f64(__m512d a, __m512d b) { return _mm512_add_pd(a, b); }
FM_INLINE float fm_vhsum_f32(__m512 v) { return _mm512_reduce_add_ps(v); }
FM_INLINE double fm_vhsum_f64(__m512d v) { return _mm512_reduce_add_pd(v); }

#include "gemm/gemm_simd_vocab.h"
/* a narrow C (16 columns or two vectors, whichever is more) skips packing:
 * see gemm_config.h */
#define FM_DIRECT_N (2 * FM_VL > 16 ? 2 * FM_VL : 16)

#include "core/fm_dtype_f32.h"
#include "layers/act_impl.h"
#include "gemm/gemm_simd_impl.h"
#include "gemm/gemm_direct_impl.h"
#include "gemm/gemm_blocked_impl.h"
#include "core/fm_dtype_end.h"

#include "core/fm_dtype_f64.h"
#include "layers/act_impl.h"
#include "gemm/gemm_simd_impl.h"
#include "gemm/gemm_direct_impl.h"
#include "gemm/gemm_blocked_impl.h"
#include "core/fm_dtype_end.h"
