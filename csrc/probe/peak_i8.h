/*
 * peak_i8.h -- the int8 (vpdpbusd) throughput probe's chain loops, held by
 * the kernel table (core/kernels.h: peak_i8).  Internal; the API is
 * fm_peak_i8 in fastmlp.h.
 *
 *   fm_peak_chains_i8_<isa>(reps, &ops): 16 independent chains
 *   acc = vpdpbusd(acc, ones, ones) `reps` times; sets ops to the integer
 *   operations done (2 per u8 x s8 product) and returns the sum of the
 *   accumulators' lanes (16 * 16 * 4 * reps).
 */
#ifndef FM_PEAK_I8_H
#define FM_PEAK_I8_H

#include <stddef.h>

double fm_peak_chains_i8_avx512(ptrdiff_t reps, double *ops);

#endif /* FM_PEAK_I8_H */
