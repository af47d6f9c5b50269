/*
 * train.c -- whole-network training chunk, batched inference and the
 * full-data objective, float and double (bodies in train_impl.h), plus the
 * dtype-free size helpers.  Networks are limited to 64 weight layers
 * (checked in Python).
 */
#include <string.h>
#include "core/fm_internal.h"
#include "core/team.h"
#include "train/fast/rank1.h"
#include "train/fast/lowrank.h"
#include "train/fast/sparse_fwd.h"

ptrdiff_t fm_n_params(const fm_net *net)
{
    ptrdiff_t n = 0;
    int l;
    for (l = 0; l < net->n_layers; l++) n += (net->sizes[l] + 1) * net->sizes[l + 1];
    return n;
}

ptrdiff_t fm_workspace_size(const fm_net *net, ptrdiff_t batch)
{
    ptrdiff_t total = 0, maxw = 1;
    int l, L = net->n_layers;
    for (l = 0; l <= L; l++) {
        total += net->sizes[l];
        if (l > 0) maxw = FM_MAX(maxw, (ptrdiff_t)net->sizes[l]);
    }
    /* A[0..L], Yb, SWb, D0, D1, then H[1..L-1] for dropout, then U and G of
     * the layers that may defer their updates (train_impl.h, lowrank.h) */
    total = batch * (total + net->sizes[L] + 1 + 2 * maxw + (total - net->sizes[0] - net->sizes[L]));
    for (l = 0; l < L; l++)
        if (fm_lowrank_room(batch, net->sizes[l], net->sizes[l + 1]))
            total += FM_LOWRANK_MAX * ((ptrdiff_t)net->sizes[l] + net->sizes[l + 1]);
    /* and layer 0's products made ahead, with their gathered inputs */
    if (fm_lowrank_room(batch, net->sizes[0], net->sizes[1]))
        total += FM_LOWRANK_MAX * ((ptrdiff_t)net->sizes[0] + net->sizes[1]);
    return total;
}

#include "core/fm_dtype_f32.h"
#include "layers/act_impl.h"
#include "train/train_impl.h"
#include "core/fm_dtype_end.h"

#include "core/fm_dtype_f64.h"
#include "layers/act_impl.h"
#include "train/train_impl.h"
#include "core/fm_dtype_end.h"
