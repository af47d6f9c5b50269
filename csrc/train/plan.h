/*
 * plan.h -- which speed path each layer takes (internal; train/plan.c).
 *
 * fm_train decides once per call what each layer's shapes allow
 * (fm_plan_call) and, at every step, what that step's rows and optimizer
 * settings allow (fm_plan_step).  The fast step's forward, backward, the
 * products made ahead and the flush of deferred terms all read plan->step;
 * nothing else tests a threshold.  With plan->fast == 0 (FASTMLP_FAST=0, or
 * the call's "fast" argument) every step is the plain one.
 *
 * Paths (each in its own file under train/fast/, contract at its top):
 *   DEFER   plain-SGD updates held as low-rank terms, flushed every
 *           FM_TRAIN_ALIGN steps (lowrank.h)
 *   AHEAD   layer 0's x.W_0 made for a block of steps in one GEMM while its
 *           updates are deferred (ahead0_impl.h)
 *   SPARSE  the forward skips W's rows under zero inputs, when they are
 *           sparse enough (sparse_fwd.h; the fill is tested per step)
 *   RANK1   a hidden layer's delta and SGD update in one pass over W (rank1.h)
 *   FUSED   the SGD update inside the dW GEMM (fused_sgd_impl.h)
 * DEFER, RANK1 and FUSED exclude each other; without any of them the fast
 * step updates each layer right after its gradient (the optimizer's kernel).
 * Gradient clipping (cfg->clip_norm, clip_value) needs the gradient before
 * the update, so it turns DEFER, RANK1 and FUSED off.  clip_value is
 * elementwise: the fast step clamps each layer's gradient before its update.
 * clip_norm is one norm over all layers, known only when the backward pass
 * is done: the plan sets update_last, and the fast step then updates every
 * layer at its end, as the plain step does (fm_params_update).
 */
#ifndef FM_PLAN_H
#define FM_PLAN_H

#include <stddef.h>
#include <stdint.h>
#include "fastmlp.h"
#include "train/net.h"

/* enum fm_path (fastmlp.h, shared with Python) numbers them */
#define FM_PATH_BIT(p) (1u << (p))

typedef struct fm_plan {
    int fast;                     /* 0: the plain step everywhere */
    int n_layers;
    int no_noise;                 /* the inputs are the data as stored (no input noise) */
    int update_last;              /* the fast step updates after the whole backward pass */
    unsigned call[FM_MAX_LAYERS]; /* paths each weight layer's shapes allow in this call */
    unsigned step[FM_MAX_LAYERS]; /* paths it takes at the current step */
    int64_t *ran;                 /* out, or NULL: ran[l * FM_N_PATHS + p] += steps that ran p */
} fm_plan;

/* Decide what the shapes allow: net of elem-byte weights, batches of up to
 * `batch` rows, n_batches steps in this call; fast = 0 forces the plain step. */
void fm_plan_call(fm_plan *p, const fm_layers *ls, const fm_train_cfg *cfg, ptrdiff_t batch,
                  ptrdiff_t n_batches, size_t elem, int fast);

/* Decide this step's paths from its rows and optimizer settings. */
void fm_plan_step(fm_plan *p, const fm_layers *ls, const fm_optim *o, const fm_train_cfg *cfg,
                  ptrdiff_t rows, size_t elem);

static inline int fm_plan_has(const fm_plan *p, int l, int path)
{
    return (p->step[l] & FM_PATH_BIT(path)) != 0;
}

static inline void fm_plan_ran(fm_plan *p, int l, int path)
{
    if (p->ran) p->ran[l * FM_N_PATHS + path] += 1;
}

/* 1 when plain SGD without a penalty term to report (the rule DEFER, RANK1
 * and FUSED implement): no momentum state, no L1, no L2 (whose ||W||^2
 * needs the weights before the update). */
static inline int fm_sgd_plain(const fm_optim *o, double l1, double l2)
{
    return o->kind == FM_OPT_SGD && o->momentum == 0 && o->l1 == 0 && l1 == 0 && l2 == 0;
}

#endif /* FM_PLAN_H */
