/*
 * net.c -- a network's layer descriptors (train/net.h) and the dtype-free
 * sizes of its parameters and of a training call's scratch.
 */
#include "core/fm_internal.h"
#include "train/net.h"
#include "train/fast/lowrank.h"

/* DENSE layer l reading buffer x, writing y with act fused; in_chain: its
 * input's activation was a NORM or ACT layer's (which applies its derivative). */
static void fm_layers_add_dense(fm_layers *ls, const fm_net *net, const fm_train_cfg *cfg, int l,
                                int x, int y, int act, int in_chain)
{
    fm_layer *ly = &ls->layer[ls->n++];
    memset(ly, 0, sizeof *ly);
    ly->kind = FM_LAYER_DENSE;
    ly->l = l;
    ly->in = net->sizes[l];
    ly->out = net->sizes[l + 1];
    ly->act = act;
    ly->slope = net->slopes[l];
    ly->act_in = l > 0 && !in_chain ? net->acts[l - 1] : FM_ACT_IDENTITY;
    ly->slope_in = l > 0 && !in_chain ? net->slopes[l - 1] : 0.0;
    ly->x = x;
    ly->y = y;
    ly->bf16 = cfg && cfg->compute == FM_COMPUTE_BF16;
    if (ly->bf16) ls->any_bf16 = 1;
}

/* Hidden layer l normalised: the NORM layer reads its z (FM_BUF_Z) and
 * writes buffer y, applying act after the norm. */
static void fm_layers_add_norm(fm_layers *ls, const fm_net *net, int l, int norm, int train,
                               int y, int act)
{
    fm_layer *ly = &ls->layer[ls->n++];
    ptrdiff_t st = 0;
    int k;
    for (k = 0; k < l; k++) /* the running statistics of the batch norms before l */
        if (net->norms[k] == FM_NORM_BATCH) st += 2 * net->sizes[k + 1];
    memset(ly, 0, sizeof *ly);
    ly->kind = norm == FM_NORM_BATCH ? FM_LAYER_NORM_BATCH : FM_LAYER_NORM_LAYER;
    ly->l = l;
    ly->in = ly->out = net->sizes[l + 1];
    ly->act = act;
    ly->slope = net->slopes[l];
    ly->x = FM_BUF_Z(net->n_layers, l);
    ly->y = y;
    ly->train = train;
    ly->run = net->norm_state;
    ly->st = st;
    ly->eps = net->norm_eps;
    ly->momentum = net->norm_momentum;
    ls->only_dense_dropout = 0;
    ls->n_norm++;
}

/* ACT layer making a_{l+1} (buffer l + 1) from buffer x with hidden layer
 * l's activation. */
static void fm_layers_add_act(fm_layers *ls, const fm_net *net, int l, int x)
{
    fm_layer *ly = &ls->layer[ls->n++];
    memset(ly, 0, sizeof *ly);
    ly->kind = FM_LAYER_ACT;
    ly->l = l + 1;
    ly->in = ly->out = net->sizes[l + 1];
    ly->act = net->acts[l];
    ly->slope = net->slopes[l];
    ly->x = x;
    ly->y = l + 1;
    ls->only_dense_dropout = 0;
}

void fm_layers_build(fm_layers *ls, const fm_net *net, const fm_train_cfg *cfg, int last_act)
{
    const int L = net->n_layers;
    ptrdiff_t off = 0;
    int l, x = 0, chain = 0;
    ls->n = 0;
    ls->n_dense = L;
    ls->only_dense_dropout = 1;
    ls->n_norm = 0;
    ls->any_bf16 = 0;
    ls->x_csr = 0;
    ls->out_act = net->acts[L - 1];
    ls->out_slope = net->slopes[L - 1];
    for (l = 0; l < L; l++) {
        const double p = cfg && cfg->dropout && l < L - 1 ? cfg->dropout[l] : 0.0;
        const int norm = net->norms && l < L - 1 ? net->norms[l] : FM_NORM_NONE;
        const int act_layer = l < L - 1 &&
                              (fm_act_needs_z(net->acts[l]) || (cfg && cfg->act_layers));
        const int in_chain = chain;
        chain = norm != FM_NORM_NONE || act_layer; /* see train/net.h's top */
        if (!chain) {
            fm_layers_add_dense(ls, net, cfg, l, x, l + 1,
                                l == L - 1 ? last_act : net->acts[l], in_chain);
        } else {
            fm_layers_add_dense(ls, net, cfg, l, x, FM_BUF_Z(L, l), FM_ACT_IDENTITY, in_chain);
            if (norm != FM_NORM_NONE)
                fm_layers_add_norm(ls, net, l, norm, cfg != NULL,
                                   act_layer ? FM_BUF_N(L, l) : l + 1,
                                   act_layer ? FM_ACT_IDENTITY : net->acts[l]);
            if (act_layer)
                fm_layers_add_act(ls, net, l, norm != FM_NORM_NONE ? FM_BUF_N(L, l)
                                                                   : FM_BUF_Z(L, l));
        }
        x = l + 1;
        if (p > 0) { /* the hidden output a_{l+1}, dropped out into buffer L + l + 1 */
            fm_layer *ly = &ls->layer[ls->n++];
            memset(ly, 0, sizeof *ly);
            ly->kind = FM_LAYER_DROPOUT;
            ly->l = l + 1;
            ly->in = ly->out = net->sizes[l + 1];
            ly->rate = p;
            ly->x = l + 1;
            ly->y = x = L + l + 1;
        }
    }
    /* sklearn's packing: W_0 .. W_{L-1}, then b_0 .. b_{L-1} */
    for (l = 0; l < ls->n; l++)
        if (ls->layer[l].kind == FM_LAYER_DENSE) {
            ls->layer[l].w = off;
            off += ls->layer[l].in * ls->layer[l].out;
        }
    ls->n_w = off;
    for (l = 0; l < ls->n; l++)
        if (ls->layer[l].kind == FM_LAYER_DENSE) {
            ls->layer[l].b = off;
            off += ls->layer[l].out;
        }
    /* then gamma_l, beta_l of each NORM layer */
    for (l = 0; l < ls->n; l++)
        if (ls->layer[l].kind == FM_LAYER_NORM_BATCH || ls->layer[l].kind == FM_LAYER_NORM_LAYER) {
            ls->layer[l].w = off;
            ls->layer[l].b = off + ls->layer[l].out;
            off += 2 * ls->layer[l].out;
        }
    ls->n_params = off;
}

ptrdiff_t fm_n_params(const fm_net *net)
{
    ptrdiff_t n = 0;
    int l;
    for (l = 0; l < net->n_layers; l++) {
        n += (net->sizes[l] + 1) * net->sizes[l + 1];
        if (net->norms && l < net->n_layers - 1 && net->norms[l] != FM_NORM_NONE)
            n += 2 * net->sizes[l + 1]; /* gamma, beta */
    }
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
    /* a[0..L], yb, swb, d, dn, then hd[1..L-1] for dropout and z[0..L-2] for
     * the hidden layers' z (train/ws_impl.h) */
    total = batch * (total + net->sizes[L] + 1 + 2 * maxw +
                     2 * (total - net->sizes[0] - net->sizes[L]));
    /* a normalised layer's normalised z and its saved mean and rstd (train/ws_impl.h) */
    for (l = 0; net->norms && l < L - 1; l++)
        if (net->norms[l] != FM_NORM_NONE)
            total += batch * net->sizes[l + 1] + 2 * FM_MAX(batch, (ptrdiff_t)net->sizes[l + 1]);
    /* U and G of the layers that may defer their updates (fast/lowrank.h) */
    for (l = 0; l < L; l++)
        if (fm_lowrank_room(batch, net->sizes[l], net->sizes[l + 1]))
            total += FM_LOWRANK_MAX * ((ptrdiff_t)net->sizes[l] + net->sizes[l + 1]);
    /* and layer 0's products made ahead, with their gathered inputs (fast/ahead0_impl.h) */
    if (fm_lowrank_room(batch, net->sizes[0], net->sizes[1]))
        total += FM_LOWRANK_MAX * ((ptrdiff_t)net->sizes[0] + net->sizes[1]);
    return total;
}
