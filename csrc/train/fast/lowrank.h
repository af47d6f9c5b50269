/*
 * lowrank.h -- DEFER's contract and thresholds (bodies in
 * train/fast/lowrank_impl.h).  Internal.
 *
 * At batch 1 a plain-SGD step of layer l is a rank-1 change of W,
 * W <- W + u g^T (u = -lr * x, g = the layer's delta).  Written at once it
 * reads and writes all of W every step, on top of the forward's x.W and the
 * backward's d.W^T; deferred, the terms are kept and W is written once per
 * FM_TRAIN_ALIGN steps, in one GEMM of depth k.  The math is SGD's exactly;
 * only rounding differs (the k terms are summed before they reach W).
 *
 * Taken (train/plan.c) for plain SGD without weight decay (a decay rescales
 * W every step: not a low-rank change), batches of at most
 * FM_RANK1_MAX_ROWS rows, calls of more than one step, and layers whose W
 * is at least FM_LOWRANK_MIN_BYTES (FM_LOWRANK_MIN_FIRST for layer 0, which
 * has no delta product to correct).  Measurements: docs/performance.md,
 * "Training fast paths".
 */
#ifndef FM_LOWRANK_H
#define FM_LOWRANK_H

#include <stddef.h>
#include "fastmlp.h"
#include "train/fast/rank1.h"

/* Terms are flushed after every step whose number is a multiple of
 * FM_TRAIN_ALIGN (fastmlp.h), so where a flush falls, hence the rounding,
 * does not depend on how a caller splits training into calls that end on
 * such steps; a layer holds up to FM_TRAIN_ALIGN steps' terms. */
#define FM_LOWRANK_MAX (FM_TRAIN_ALIGN * FM_RANK1_MAX_ROWS)
#ifndef FM_LOWRANK_MIN_BYTES
#define FM_LOWRANK_MIN_BYTES ((ptrdiff_t)128 << 10)
#endif
#ifndef FM_LOWRANK_MIN_FIRST
#define FM_LOWRANK_MIN_FIRST ((ptrdiff_t)32 << 10)
#endif

/* 1 when the workspace for batches of `batch` rows holds U and G of an
 * IN x OUT layer: wherever a float64 layer would defer (the workspace size
 * does not know the dtype; fm_lowrank_wins decides per dtype). */
static inline int fm_lowrank_room(ptrdiff_t batch, ptrdiff_t IN, ptrdiff_t OUT)
{
    return batch <= FM_RANK1_MAX_ROWS &&
           IN * OUT * 8 >= (FM_LOWRANK_MIN_BYTES < FM_LOWRANK_MIN_FIRST ? FM_LOWRANK_MIN_BYTES
                                                                         : FM_LOWRANK_MIN_FIRST);
}

/* 1 when layer l, of elem-byte weights, is big enough to defer its updates. */
static inline int fm_lowrank_wins(int l, ptrdiff_t IN, ptrdiff_t OUT, size_t elem)
{
    return IN * OUT * (ptrdiff_t)elem >= (l == 0 ? FM_LOWRANK_MIN_FIRST : FM_LOWRANK_MIN_BYTES);
}

#endif /* FM_LOWRANK_H */
