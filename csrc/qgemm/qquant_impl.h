/*
 * qquant_impl.h -- fm_quantize_rows_u8's body (contract in fastmlp.h),
 * compiled once per target file (FM_QT = generic, avx2, avx512) so the
 * compiler vectorises the same C with that file's ISA.  Every step is an
 * IEEE float32 operation (or an exact integer one), so each target, and
 * fastmlp.reference, gives the same bytes.
 *
 * Rounding half to even without rint(): for |v| <= 1024, (v + 1.5*2^23) -
 * 1.5*2^23 rounds v to an integer in the current (nearest-even) mode and
 * vectorises on SSE2 already (no roundps needed).
 *
 * A target may give its own row loops (the same operations, written with
 * intrinsics) by defining, before the include,
 *   FM_QROW_MINMAX(x, k, &lo, &hi)   lo = min(0, x[0..k)), hi = max(0, ...)
 *   FM_QROW_PUT(q, x, k, inv, z)     q[p] = clamp(rne(clamp(x[p]*inv, +-1024)) + z, 0, 255)
 */
#ifndef FM_QROW_MINMAX
#define FM_QROW_MINMAX fm_qrow_minmax_c
#define FM_QROW_PUT fm_qrow_put_c
static inline void fm_qrow_minmax_c(const float *FM_RESTRICT x, ptrdiff_t k, float *plo,
                                    float *phi)
{
    float lo = 0, hi = 0;
    ptrdiff_t p;
#if defined(__GNUC__) || defined(__clang__)
#pragma omp simd reduction(min : lo) reduction(max : hi)
#endif
    for (p = 0; p < k; p++) {
        lo = x[p] < lo ? x[p] : lo;
        hi = x[p] > hi ? x[p] : hi;
    }
    *plo = lo;
    *phi = hi;
}

static inline void fm_qrow_put_c(uint8_t *FM_RESTRICT q, const float *FM_RESTRICT x, ptrdiff_t k,
                                 float inv, int32_t z)
{
    const float magic = 12582912.0f; /* 1.5 * 2^23 */
    ptrdiff_t p;
    for (p = 0; p < k; p++) {
        float v = x[p] * inv;
        int32_t v_i;
        v = v < -1024.0f ? -1024.0f : v > 1024.0f ? 1024.0f : v;
        v_i = (int32_t)((v + magic) - magic) + z;
        q[p] = (uint8_t)(v_i < 0 ? 0 : v_i > 255 ? 255 : v_i);
    }
}
#endif
#define FM_QR__(t) fm_qrows_##t
#define FM_QR_(t) FM_QR__(t)
#define FM_QRT__(t) fm_qrows_task_##t
#define FM_QRT_(t) FM_QRT__(t)
#define FM_QRR__(t) fm_qrows_range_##t
#define FM_QRR_(t) FM_QRR__(t)
#define FM_QRUN__(t) fm_qrows_run_##t
#define FM_QRUN_(t) FM_QRUN__(t)

typedef struct {
    uint8_t *q;
    float *scale;
    int32_t *zp;
    const float *x;
    ptrdiff_t ldq, ldx, m, k;
    float sscale;
    int32_t szp;
} FM_QRT_(FM_QT);

/* rows [r0, r1) */
static void FM_QRR_(FM_QT)(const FM_QRT_(FM_QT) *t, ptrdiff_t r0, ptrdiff_t r1)
{
    const float magic = 12582912.0f; /* 1.5 * 2^23 */
    ptrdiff_t i, p, k = t->k, kp = (k + 3) / 4 * 4;
    for (i = r0; i < r1; i++) {
        const float *FM_RESTRICT x = t->x + i * t->ldx;
        uint8_t *FM_RESTRICT q = t->q + i * t->ldq;
        float s, inv, fz;
        int32_t z;
        if (t->sscale > 0) {
            s = t->sscale;
            inv = 1.0f / s;
            z = t->szp;
        } else {
            float lo, hi, r;
            FM_QROW_MINMAX(x, k, &lo, &hi);
            r = hi - lo;
            if (r > 0) {
                s = r / 255.0f;
                inv = 255.0f / r;
                fz = (-lo * inv + magic) - magic;
                z = fz < 0 ? 0 : fz > 255 ? 255 : (int32_t)fz;
            } else {
                s = 1.0f;
                inv = 1.0f;
                z = 0;
            }
        }
        t->scale[i] = s;
        t->zp[i] = z;
        FM_QROW_PUT(q, x, k, inv, z);
        for (p = k; p < kp; p++) q[p] = 0;
    }
}

static void FM_QRUN_(FM_QT)(void *arg, int t, int nt)
{
    const FM_QRT_(FM_QT) *j = (const FM_QRT_(FM_QT) *)arg;
    FM_QRR_(FM_QT)(j, j->m * t / nt, j->m * (t + 1) / nt);
}

void FM_QR_(FM_QT)(uint8_t *q, ptrdiff_t ldq, float *scale, int32_t *zp, const float *x,
                   ptrdiff_t ldx, ptrdiff_t m, ptrdiff_t k, float static_scale,
                   int32_t static_zp, int n_threads)
{
    FM_QRT_(FM_QT) t;
    int nt = fm_par_threads(m * k, FM_OMP_MIN_WORK * 4, n_threads);
    t.q = q; t.scale = scale; t.zp = zp; t.x = x; t.ldq = ldq; t.ldx = ldx; t.m = m; t.k = k;
    t.sscale = static_scale; t.szp = static_zp;
    if (nt > m) nt = m < 1 ? 1 : (int)m;
    if (nt <= 1)
        FM_QRR_(FM_QT)(&t, 0, m);
    else
        fm_par_run(nt, FM_QRUN_(FM_QT), &t);
}

#undef FM_QR__
#undef FM_QR_
#undef FM_QRT__
#undef FM_QRT_
#undef FM_QRR__
#undef FM_QRR_
#undef FM_QRUN__
#undef FM_QRUN_
#undef FM_QROW_MINMAX
#undef FM_QROW_PUT
