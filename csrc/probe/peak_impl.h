/*
 * peak_impl.h -- the body of the FMA-throughput probe for one ISA and one
 * dtype (included by peak_generic.c / peak_avx2.c / peak_avx512.c, once per
 * dtype).
 *
 * The includer defines, besides FM_T/FM_FN (fm_dtype_*.h):
 *   PK_ISA          suffix of the function name (avx2, avx512)
 *   PK_VEC          the vector type;  PK_LANES  FM_T lanes per vector
 *   PK_SET1(x)      broadcast;        PK_FMA(a, b, c)  a*b + c, fused
 *   PK_STOREU(p, v) unaligned store
 * PK_CHAINS independent accumulators (set by the includer; enough to cover
 * FMA latency x FMA ports with registers to spare) each run
 *   acc = acc * mul + add
 * `reps` times.  The loop carries no loads or stores, so it is bound by FMA
 * issue alone: 2 * PK_LANES * PK_CHAINS * reps floating-point operations,
 * stored in *flops.  Returns the sum of all accumulator lanes (so no FMA can
 * be elided).
 */
#define PK_CAT3_(a, b, c) a##_##b##_##c
#define PK_CAT3(a, b, c) PK_CAT3_(a, b, c)

double PK_CAT3(fm_peak_chains, PK_ISA, FM_SFX)(FM_T mul, FM_T add, ptrdiff_t reps, double *flops)
{
    PK_VEC acc[PK_CHAINS];
    const PK_VEC m = PK_SET1(mul), a = PK_SET1(add);
    FM_T lanes[PK_LANES];
    ptrdiff_t r;
    double s = 0;
    int c, l;
    for (c = 0; c < PK_CHAINS; c++) acc[c] = PK_SET1((FM_T)0);
    for (r = 0; r < reps; r++) {
        /* fully unrolled by the compiler: PK_CHAINS independent FMAs */
        for (c = 0; c < PK_CHAINS; c++) acc[c] = PK_FMA(acc[c], m, a);
    }
    for (c = 0; c < PK_CHAINS; c++) {
        PK_STOREU(lanes, acc[c]);
        for (l = 0; l < PK_LANES; l++) s += (double)lanes[l];
    }
    *flops = 2.0 * PK_LANES * PK_CHAINS * (double)reps;
    return s;
}

#undef PK_CAT3
#undef PK_CAT3_
