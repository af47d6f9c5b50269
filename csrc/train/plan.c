/*
 * plan.c -- the per-layer choice of speed paths (train/plan.h) and the
 * thresholds it applies, exported for tests (fm_fast_thresholds).
 */
#include "core/fm_internal.h"
#include "core/team.h"
#include "train/plan.h"
#include "train/fast/lowrank.h"
#include "train/fast/rank1.h"
#include "train/fast/sparse_fwd.h"

void fm_plan_call(fm_plan *p, const fm_layers *ls, const fm_train_cfg *cfg, ptrdiff_t batch,
                  ptrdiff_t n_batches, size_t elem, int fast)
{
    int i;
    /* bf16 layers run the plain step: the speed paths are float GEMMs; CSR
     * input too, whose layer 0 runs the CSR kernels (the speed paths read dense
     * input rows) */
    p->fast = fast && ls->only_dense_dropout && !ls->any_bf16 && !ls->x_csr;
    /* a global gradient norm is known only after the whole backward pass */
    p->update_last = cfg->clip_norm > 0;
    for (i = 0; i < FM_MAX_LAYERS; i++) p->call[i] = p->step[i] = 0;
    p->n_layers = ls->n_dense;
    p->no_noise = cfg->input_noise == 0;
    p->ran = NULL;
    for (i = 0; i < ls->n; i++) {
        const fm_layer *ly = &ls->layer[i];
        unsigned c = 0;
        if (ly->kind != FM_LAYER_DENSE) continue;
        if (p->fast) {
            /* one step per call: deferred terms would be flushed right after */
            if (n_batches >= 2 && fm_lowrank_room(batch, ly->in, ly->out) &&
                fm_lowrank_wins(ly->l, ly->in, ly->out, elem))
                c |= FM_PATH_BIT(FM_PATH_DEFER);
            if (ly->l == 0 && (c & FM_PATH_BIT(FM_PATH_DEFER)) && p->no_noise)
                c |= FM_PATH_BIT(FM_PATH_AHEAD);
            if (fm_sparse_fwd_wins(1, ly->in, ly->out, elem)) c |= FM_PATH_BIT(FM_PATH_SPARSE);
            if (ly->l > 0 && fm_rank1_wins(1, ly->in, ly->out, elem))
                c |= FM_PATH_BIT(FM_PATH_RANK1);
            c |= FM_PATH_BIT(FM_PATH_FUSED);
        }
        p->call[ly->l] = c;
        p->step[ly->l] = 0;
    }
}

void fm_plan_step(fm_plan *p, const fm_layers *ls, const fm_optim *o, const fm_train_cfg *cfg,
                  ptrdiff_t rows, size_t elem)
{
    /* DEFER, RANK1 and FUSED update W without a gradient to clip */
    const int sgd = fm_sgd_plain(o, cfg->l1, cfg->l2) && !(cfg->clip_value > 0) &&
                    !(cfg->clip_norm > 0);
    int i;
    for (i = 0; i < ls->n; i++) {
        const fm_layer *ly = &ls->layer[i];
        const unsigned c = ly->kind == FM_LAYER_DENSE ? p->call[ly->l] : 0;
        unsigned s = 0;
        if (ly->kind != FM_LAYER_DENSE) continue;
        /* a weight decay rescales W every step: not a low-rank change */
        if (sgd && o->weight_decay == 0 && (c & FM_PATH_BIT(FM_PATH_DEFER)))
            s |= c & (FM_PATH_BIT(FM_PATH_DEFER) | FM_PATH_BIT(FM_PATH_AHEAD));
        else if (sgd && (c & FM_PATH_BIT(FM_PATH_RANK1)) &&
                 fm_rank1_wins(rows, ly->in, ly->out, elem))
            s |= FM_PATH_BIT(FM_PATH_RANK1);
        else if (sgd)
            s |= c & FM_PATH_BIT(FM_PATH_FUSED);
        if ((c & FM_PATH_BIT(FM_PATH_SPARSE)) && fm_sparse_fwd_wins(rows, ly->in, ly->out, elem))
            s |= FM_PATH_BIT(FM_PATH_SPARSE);
        p->step[ly->l] = s;
    }
}

void fm_fast_thresholds(fm_thresholds *t)
{
    t->train_align = FM_TRAIN_ALIGN;
    t->lowrank_max_terms = FM_LOWRANK_MAX;
    t->lowrank_min_bytes = FM_LOWRANK_MIN_BYTES;
    t->lowrank_min_first = FM_LOWRANK_MIN_FIRST;
    t->rank1_max_rows = FM_RANK1_MAX_ROWS;
    t->rank1_min_bytes = FM_RANK1_MIN_BYTES;
    t->sparse_fwd_max_rows = FM_SPARSE_FWD_MAX_ROWS;
    t->sparse_fwd_min_bytes = FM_SPARSE_FWD_MIN_BYTES;
    t->sparse_fwd_max_fill = FM_SPARSE_FWD_MAX_FILL;
    t->team_min_work = FM_TEAM_MIN_WORK;
}
