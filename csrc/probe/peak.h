/*
 * peak.h -- the FMA-throughput probe's per-ISA chain loops (peak_impl.h),
 * held by the kernel table (core/kernels.h).  Internal; the API is
 * fm_peak_isas / fm_peak_f32 / fm_peak_f64 in fastmlp.h.
 *
 *   fm_peak_chains_<isa>_<t>(mul, add, reps, &flops): runs independent
 *   chains acc = acc * mul + add `reps` times, sets flops to the
 *   floating-point operations done and returns the sum of the accumulators.
 */
#ifndef FM_PEAK_H
#define FM_PEAK_H

#include <stddef.h>

#define FM_PEAK_DECLARE(isa)                                                               \
    double fm_peak_chains_##isa##_f32(float mul, float add, ptrdiff_t reps, double *flops);  \
    double fm_peak_chains_##isa##_f64(double mul, double add, ptrdiff_t reps, double *flops);
FM_PEAK_DECLARE(generic)
FM_PEAK_DECLARE(avx2)
FM_PEAK_DECLARE(avx512)
/* vdpbf16ps chains (peak_bf16_avx512.c): returns the lanes' sum, sets flops */
double fm_peak_chains_bf16(ptrdiff_t reps, double *flops);

#endif /* FM_PEAK_H */
