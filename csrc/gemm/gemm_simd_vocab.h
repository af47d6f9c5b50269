/*
 * gemm_simd_vocab.h -- maps the vector names gemm_simd_impl.h and
 * gemm_direct_impl.h use onto the per-dtype wrappers a SIMD target file
 * defines (fm_vload_f32, ...), so the
 * kernel bodies follow FM_SFX like every other *_impl.h; and the 256-bit
 * register transposes both SIMD targets pack with (AVX, which both have).
 * Included once by gemm_avx2.c and gemm_avx512.c, after their wrappers.
 */
#define FM_V FM_FN(fm_v)
#define FM_VM FM_FN(fm_vm)
#define FM_VL FM_FN(fm_vl)
#define FM_VZERO FM_FN(fm_vzero)
#define FM_VSET1 FM_FN(fm_vset1)
#define FM_VLOAD FM_FN(fm_vload)
#define FM_VSTORE FM_FN(fm_vstore)
#define FM_VMASK FM_FN(fm_vmask)
#define FM_VLOADM FM_FN(fm_vloadm)
#define FM_VSTOREM FM_FN(fm_vstorem)
#define FM_VFMA FM_FN(fm_vfma)
#define FM_VMUL FM_FN(fm_vmul)
#define FM_VADD FM_FN(fm_vadd)
#define FM_VHSUM FM_FN(fm_vhsum)

/* Register transposes for the packing routines (pack_tr), on 256-bit
 * vectors in both SIMD targets: 8x8 floats, 4x4 doubles. */
typedef __m256 fm_tv_f32;
typedef __m256d fm_tv_f64;
enum { fm_tw_f32 = 8, fm_tw_f64 = 4 };
FM_INLINE __m256 fm_tload_f32(const float *p) { return _mm256_loadu_ps(p); }
FM_INLINE __m256d fm_tload_f64(const double *p) { return _mm256_loadu_pd(p); }
FM_INLINE void fm_tstore_f32(float *p, __m256 v) { _mm256_storeu_ps(p, v); }
FM_INLINE void fm_tstore_f64(double *p, __m256d v) { _mm256_storeu_pd(p, v); }
FM_INLINE __m256 fm_tzero_f32(void) { return _mm256_setzero_ps(); }
FM_INLINE __m256d fm_tzero_f64(void) { return _mm256_setzero_pd(); }
/* r[i] = row i (8 floats) -> r[j] = column j */
FM_INLINE void fm_ttrans_f32(__m256 r[8])
{
    __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    r[0] = _mm256_permute2f128_ps(s0, s4, 0x20); r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
    r[1] = _mm256_permute2f128_ps(s1, s5, 0x20); r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
    r[2] = _mm256_permute2f128_ps(s2, s6, 0x20); r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
    r[3] = _mm256_permute2f128_ps(s3, s7, 0x20); r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}
/* r[i] = row i (4 doubles) -> r[j] = column j */
FM_INLINE void fm_ttrans_f64(__m256d r[4])
{
    __m256d t0 = _mm256_unpacklo_pd(r[0], r[1]), t1 = _mm256_unpackhi_pd(r[0], r[1]);
    __m256d t2 = _mm256_unpacklo_pd(r[2], r[3]), t3 = _mm256_unpackhi_pd(r[2], r[3]);
    r[0] = _mm256_permute2f128_pd(t0, t2, 0x20); r[2] = _mm256_permute2f128_pd(t0, t2, 0x31);
    r[1] = _mm256_permute2f128_pd(t1, t3, 0x20); r[3] = _mm256_permute2f128_pd(t1, t3, 0x31);
}
#define FM_TV FM_FN(fm_tv)
#define FM_TW FM_FN(fm_tw)
#define FM_TLOAD FM_FN(fm_tload)
#define FM_TSTORE FM_FN(fm_tstore)
#define FM_TZERO FM_FN(fm_tzero)
#define FM_TTRANS FM_FN(fm_ttrans)
#define FM_PACK_TR 1
