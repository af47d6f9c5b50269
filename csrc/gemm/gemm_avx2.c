/*
 * gemm_avx2.c -- the "avx2" GEMM target: the shared packed loop nest
 * (gemm_blocked_impl.h) around 6x16 f32 / 6x8 f64 micro-kernels and direct
 * small-problem kernels (gemm_simd_impl.h), here instantiated with AVX2 and
 * FMA intrinsics.
 *
 * Built with -mavx2 -mfma (setup.py adds them to every *_avx2.c); x86-64
 * builds only.  Nothing here may run before fm_cpu_has_avx2() said yes.
 *
 * Edges use vmaskmov loads/stores (lanes off the mask are neither read nor
 * written), with the lane masks read from a sliding window over a table.
 */
#include <immintrin.h>
#include "core/fm_internal.h"
#include "core/team.h"
#include "gemm/gemm.h"
#include "gemm/gemm_config.h"

#define FM_TGT avx2
/* 16 ymm registers: 12 accumulators for 6 rows x 2 vectors */
#define FM_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)
#define FM_PREFETCH(p) _mm_prefetch((const char *)(p), _MM_HINT_T0)

/* mask of the first cnt lanes = the window starting at tab + VL - cnt */
static const int32_t fm_mask_tab32[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
static const int64_t fm_mask_tab64[8] = {-1, -1, -1, -1, 0, 0, 0, 0};

/* ---- the vector vocabulary of gemm_simd_impl.h, per dtype -------------- */
typedef __m256 fm_v_f32;
typedef __m256d fm_v_f64;
typedef __m256i fm_vm_f32;
typedef __m256i fm_vm_f64;
enum { fm_vl_f32 = 8, fm_vl_f64 = 4 };
FM_INLINE __m256 fm_vzero_f32(void) { return _mm256_setzero_ps(); }
FM_INLINE __m256d fm_vzero_f64(void) { return _mm256_setzero_pd(); }
FM_INLINE __m256 fm_vset1_f32(float x) { return _mm256_set1_ps(x); }
FM_INLINE __m256d fm_vset1_f64(double x) { return _mm256_set1_pd(x); }
FM_INLINE __m256 fm_vload_f32(const float *p) { return _mm256_loadu_ps(p); }
FM_INLINE __m256d fm_vload_f64(const double *p) { return _mm256_loadu_pd(p); }
FM_INLINE void fm_vstore_f32(float *p, __m256 v) { _mm256_storeu_ps(p, v); }
FM_INLINE void fm_vstore_f64(double *p, __m256d v) { _mm256_storeu_pd(p, v); }
FM_INLINE __m256i fm_vmask_f32(ptrdiff_t cnt)
{
    return _mm256_loadu_si256((const __m256i *)(fm_mask_tab32 + 8 - cnt));
}
FM_INLINE __m256i fm_vmask_f64(ptrdiff_t cnt)
{
    return _mm256_loadu_si256((const __m256i *)(fm_mask_tab64 + 4 - cnt));
}
FM_INLINE __m256 fm_vloadm_f32(const float *p, __m256i m) { return _mm256_maskload_ps(p, m); }
FM_INLINE __m256d fm_vloadm_f64(const double *p, __m256i m) { return _mm256_maskload_pd(p, m); }
FM_INLINE void fm_vstorem_f32(float *p, __m256i m, __m256 v) { _mm256_maskstore_ps(p, m, v); }
FM_INLINE void fm_vstorem_f64(double *p, __m256i m, __m256d v) { _mm256_maskstore_pd(p, m, v); }
FM_INLINE __m256 fm_vfma_f32(__m256 a, __m256 b, __m256 c) { return _mm256_fmadd_ps(a, b, c); }
FM_INLINE __m256d fm_vfma_f64(__m256d a, __m256d b, __m256d c) { return _mm256_fmadd_pd(a, b, c); }
FM_INLINE __m256 fm_vmul_f32(__m256 a, __m256 b) { return _mm256_mul_ps(a, b); }
FM_INLINE __m256d fm_vmul_f64(__m256d a, __m256d b) { return _mm256_mul_pd(a, b); }
FM_INLINE __m256 fm_vadd_f32(__m256 a, __m256 b) { return _mm256_add_ps(a, b); }
FM_INLINE __m256d fm_vadd_f64(__m256d a, __m256d b) { return _mm256_add_pd(a, b); }
FM_INLINE float fm_vhsum_f32(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
FM_INLINE double fm_vhsum_f64(__m256d v)
{
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    s = _mm_add_sd(s, _mm_unpackhi_pd(s, s));
    return _mm_cvtsd_f64(s);
}

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
