/*
 * lowrank.h -- deferred plain-SGD updates of big layers at batch 1-2
 * (fm_train, train_impl.h).  Internal.
 *
 * At batch 1 an SGD step of layer l is a rank-1 change of W:
 *   W <- W + u g^T,  u = -lr * x (the layer's input), g = the layer's delta.
 * Written at once, it costs a read and a write of all of W every step, on
 * top of the forward's read of W and the backward's (d . W^T).  Once the
 * weights no longer fit in the last-level cache each of those passes runs
 * at memory speed: 784-2048-2048-10 in float64 (46 MB of weights against
 * 32 MiB of L3 here) moved ~139 MB a step.
 *
 * Deferred, the step keeps u and g (rows of U and G) and W stays as it was
 * for up to FM_LOWRANK_MAX terms.  The weights in force are
 *   W_eff = W + U^T G,
 * and every product with W_eff takes the stored W plus a correction:
 *   forward   x . W_eff   = x . W   + (x . U^T) . G
 *   backward  d . W_eff^T = d . W^T + (d . G^T) . U
 * (two small GEMMs each, k = the number of terms), and the terms are
 * written into W in one pass (W += U^T G, a GEMM of depth k) after every
 * step whose number is a multiple of FM_TRAIN_ALIGN (below) and at the end
 * of every fm_train call, so W is never seen with terms pending.  Per step
 * the weights are then read twice (forward, backward) and written once in
 * 16 steps: 784-2048-2048-10 float64 ~86 MB a step.
 *
 * The math is SGD's exactly; only rounding differs (the k terms are summed
 * before they reach W).  Used for plain SGD without weight decay (a decay
 * rescales W every step: not a low-rank change), batches of at most
 * FM_RANK1_MAX_ROWS rows, calls of more than one step, and layers whose W
 * is at least FM_LOWRANK_MIN_BYTES (FM_LOWRANK_MIN_FIRST for layer 0, which
 * has no delta product to correct).  Small layers gain too: the flush is a
 * GEMM of depth k, where the step-by-step update was a depth-1 product that
 * reads and writes W for one multiply-add per weight.
 *
 * C workbench (benchmarks/c/run.sh, 1 thread, us per step, float32 /
 * float64, before -> after; DRAM-bound rows vary with the machine's load):
 *   784-16-16-10   batch 1   2.0 / 3.7   ->  1.8 / 3.0
 *   784-128-64-10  batch 1   15.3 / 30   ->  10.8 / 22.5
 *                  batch 2   22 / 41     ->  17 / 35
 *   784-512-512-10 batch 1   107-114 / 209-213  ->  85-89 / 158-164
 *   784-2048-2048-10 batch 1 float64 4300-4780 -> 3490-3840 (same minutes)
 * Tried: 8 and 32 terms instead of 16 at batch 1 (no difference above the
 * noise on C and D; 16 kept; 32 again after the products made ahead below,
 * D/1 float64 1330-1870 us with 16 against 1345-1690 with 32, alternated).
 *
 * Layer 0 gains once more: its input is the data, known before the steps
 * run, and W_0 keeps its stored values between flushes, so fm_train makes
 * x.W_0 for all the steps up to the next flush in one GEMM (M = up to 16
 * steps' rows, fm_ahead0_make in train_impl.h) and each step adds only the
 * pending terms' part.  W_0 is then read once per 16 steps instead of every
 * step.  Not for inputs with many zeros, whose steps read only W_0's rows
 * under nonzero inputs (sparse_fwd.h) -- fewer than the dense product.
 * C workbench, 1 thread, uniform inputs, us per step, float32 / float64,
 * alternated: 784-2048-2048-10 800-987 / 2375-2541 -> 653-770 / 1585-1668;
 * 784-512-512-10 75-78 / 134-140 -> 63-64 / 120-121; 784-128-64-10
 * 11.4-11.6 / 22.2-22.9 -> 7.9-8.4 / 15.4-15.5; 784-16-16-10 1.9 / 3.2 ->
 * 1.6 / 2.5; 784-128-64-10 at batch 2 19.3 / 37.7 -> 13.4-13.7 / 25.4-25.7.
 */
#ifndef FM_LOWRANK_H
#define FM_LOWRANK_H

#include <stddef.h>
#include "fastmlp.h"
#include "train/fast/rank1.h"

/* The terms are flushed after every step whose number is a multiple of
 * FM_TRAIN_ALIGN (fastmlp.h), so where a flush falls, hence the rounding,
 * does not depend on how a caller splits training into calls that end on
 * such steps; a layer then holds up to FM_TRAIN_ALIGN steps' terms (the
 * check for a full buffer in train_impl.h only guards that bound). */
#define FM_LOWRANK_MAX (FM_TRAIN_ALIGN * FM_RANK1_MAX_ROWS)
#ifndef FM_LOWRANK_MIN_BYTES
#define FM_LOWRANK_MIN_BYTES ((ptrdiff_t)128 << 10)
#endif
#ifndef FM_LOWRANK_MIN_FIRST
#define FM_LOWRANK_MIN_FIRST ((ptrdiff_t)32 << 10)
#endif

/* 1 when the workspace for batches of `batch` rows holds U and G of an
 * IN x OUT layer: wherever a float64 layer would defer (the workspace size
 * does not know the dtype; fm_lowrank_wins decides per dtype) */
static inline int fm_lowrank_room(ptrdiff_t batch, ptrdiff_t IN, ptrdiff_t OUT)
{
    return batch <= FM_RANK1_MAX_ROWS &&
           IN * OUT * 8 >= FM_MIN(FM_LOWRANK_MIN_BYTES, FM_LOWRANK_MIN_FIRST);
}

/* 1 when layer l, of elem-byte weights, defers its updates */
static inline int fm_lowrank_wins(int l, ptrdiff_t IN, ptrdiff_t OUT, size_t elem)
{
    return IN * OUT * (ptrdiff_t)elem >= (l == 0 ? FM_LOWRANK_MIN_FIRST : FM_LOWRANK_MIN_BYTES);
}

#endif /* FM_LOWRANK_H */
