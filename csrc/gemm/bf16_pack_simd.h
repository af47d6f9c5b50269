/*
 * bf16_pack_simd.h -- the transposing B pack of the bf16 GEMM on 256-bit
 * integer vectors (AVX2; included by bf16_avx2.c, bf16_avx512.c and
 * bf16_dp_avx512.c before bf16_blocked_impl.h, which calls it through
 * FM_BPACK_TR for B = W^T, the backward D.W^T, and for row-major A panels of 8
 * rows, and through FM_BPACK_RM for row-major B and for A = X^T).
 *
 * Each B column j is a row of W, its k-neighbours side by side: 8 columns x 8
 * pairs at a time are read as 8 rows of 16 floats, rounded to bf16 (the same
 * integer arithmetic as fm_bf16_hi), packed to 8 pair dwords per row, and
 * turned by an 8x8 register transpose into 8 packed rows of 8 columns.  The
 * tail (pairs past a multiple of 8, the odd half, columns past nr) is left
 * to the caller's scalar loop: the same bits either way.
 */

/* fm_bf16_hi on 8 lanes */
FM_INLINE __m256i fm_bf16_hi8(__m256i u)
{
    const __m256i abs = _mm256_and_si256(u, _mm256_set1_epi32(0x7FFFFFFF));
    const __m256i expo = _mm256_and_si256(u, _mm256_set1_epi32(0x7F800000));
    const __m256i hi = _mm256_set1_epi32((int)0xFFFF0000u);
    __m256i r = _mm256_add_epi32(
        _mm256_add_epi32(u, _mm256_set1_epi32(0x7FFF)),
        _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1)));
    const __m256i nan = _mm256_cmpgt_epi32(abs, _mm256_set1_epi32(0x7F800000)); /* abs < 2^31 */
    const __m256i den = _mm256_cmpeq_epi32(expo, _mm256_setzero_si256());
    r = _mm256_and_si256(r, hi);
    r = _mm256_blendv_epi8(
        r, _mm256_and_si256(_mm256_or_si256(u, _mm256_set1_epi32(0x00400000)), hi), nan);
    return _mm256_blendv_epi8(r, _mm256_and_si256(u, _mm256_set1_epi32((int)0x80000000u)),
                              den);
}

/* 16 floats (8 k-neighbour pairs) -> 8 pair dwords, pair 0 first */
FM_INLINE __m256i fm_bf16_pairs8(const float *p)
{
    const __m256i a = fm_bf16_hi8(_mm256_loadu_si256((const __m256i *)p));
    const __m256i b = fm_bf16_hi8(_mm256_loadu_si256((const __m256i *)(p + 8)));
    /* the high words of a, b: per 128-bit lane [a pairs | b pairs], then the qwords
     * reordered to pairs 0-1, 2-3 (of a), 4-5, 6-7 (of b) */
    const __m256i w = _mm256_packus_epi32(_mm256_srli_epi32(a, 16), _mm256_srli_epi32(b, 16));
    return _mm256_permute4x64_epi64(w, 0xD8);
}

/* r[i] = row i (8 dwords) -> r[j] = column j */
FM_INLINE void fm_bf16_trans8(__m256i r[8])
{
    __m256 v[8], t[8], s[8];
    int i;
    for (i = 0; i < 8; i++) v[i] = _mm256_castsi256_ps(r[i]);
    for (i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(v[i], v[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(v[i], v[i + 1]);
    }
    for (i = 0; i < 8; i += 4) {
        s[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
        s[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
        s[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        s[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
    for (i = 0; i < 4; i++) {
        r[i] = _mm256_castps_si256(_mm256_permute2f128_ps(s[i], s[i + 4], 0x20));
        r[i + 4] = _mm256_castps_si256(_mm256_permute2f128_ps(s[i], s[i + 4], 0x31));
    }
}

/* dst[q*ld + j] = pair(B(2q, j), B(2q+1, j)) for j < nr8 (a multiple of 8),
 * q < kq8 (a multiple of 8), B(p, j) = b[j*csb + p]. */
static void fm_bf16_pack_tr8(uint32_t *FM_RESTRICT dst, ptrdiff_t ld, const float *FM_RESTRICT b,
                             ptrdiff_t csb, ptrdiff_t nr8, ptrdiff_t kq8)
{
    ptrdiff_t j, q;
    int i;
    for (j = 0; j < nr8; j += 8)
        for (q = 0; q < kq8; q += 8) {
            __m256i r[8];
            for (i = 0; i < 8; i++) r[i] = fm_bf16_pairs8(b + (j + i) * csb + 2 * q);
            fm_bf16_trans8(r);
            for (i = 0; i < 8; i++) _mm256_storeu_si256((__m256i *)(dst + (q + i) * ld + j), r[i]);
        }
}
#define FM_BPACK_TR fm_bf16_pack_tr8

/* dst[q*ld + j] = pair(b[2q*rs + j], b[(2q+1)*rs + j]) for j < n8 (a multiple of
 * 8), q < kf: pairs of two rows, 8 columns at a time (row-major B: W in x.W, D in
 * X^T.D; and A = X^T in X^T.D, whose pairs are two rows of X). */
static void fm_bf16_pack_rm8(uint32_t *FM_RESTRICT dst, ptrdiff_t ld, const float *FM_RESTRICT b,
                             ptrdiff_t rs, ptrdiff_t n8, ptrdiff_t kf)
{
    ptrdiff_t j, q;
    for (q = 0; q < kf; q++) {
        const float *r0 = b + 2 * q * rs, *r1 = r0 + rs;
        uint32_t *d = dst + q * ld;
        for (j = 0; j < n8; j += 8) {
            const __m256i e = fm_bf16_hi8(_mm256_loadu_si256((const __m256i *)(r0 + j)));
            const __m256i o = fm_bf16_hi8(_mm256_loadu_si256((const __m256i *)(r1 + j)));
            _mm256_storeu_si256((__m256i *)(d + j), _mm256_or_si256(_mm256_srli_epi32(e, 16), o));
        }
    }
}
#define FM_BPACK_RM fm_bf16_pack_rm8
