/*
 * qepi.h -- the int8 epilogue on one row segment, in portable C (the
 * generic and ref paths; the SIMD paths do the same operations in the same
 * order on vectors): acc (wrapping uint32 sums) -> acc - zp * colsum ->
 * e->out_i32, or y = (float)acc * (xscale * wscale) + bias, then identity,
 * relu or leaky relu (other activations are applied by the caller).
 */
#ifndef FM_QEPI_H
#define FM_QEPI_H

#include "fastmlp.h"

/* Row i, columns j0..j0+len: acc[jj] for column j0 + jj; c and ci point at
 * (i, j0) of the float and int32 outputs. */
static inline void fm_qepi_row(float *c, int32_t *ci, const uint32_t *acc, ptrdiff_t len,
                               ptrdiff_t i, ptrdiff_t j0, const fm_qepilogue *e)
{
    const uint32_t zp = (uint32_t)e->zp[i];
    const float xs = e->xscale[i], slope = (float)e->slope;
    ptrdiff_t jj;
    for (jj = 0; jj < len; jj++) {
        int32_t v = (int32_t)(acc[jj] - zp * (uint32_t)e->colsum[j0 + jj]);
        float s, y;
        if (ci) {
            ci[jj] = v;
            continue;
        }
        s = xs * e->wscale[j0 + jj];
        y = (float)v * s;
        y = y + e->bias[j0 + jj];
        if (e->act == FM_ACT_RELU) y = y > 0 ? y : 0.0f;
        else if (e->act == FM_ACT_LEAKY_RELU) y = y > 0 ? y : slope * y;
        c[jj] = y;
    }
}

#endif /* FM_QEPI_H */
