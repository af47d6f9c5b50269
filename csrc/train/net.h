/*
 * net.h -- a network as a sequence of layer descriptors, and the contract
 * every layer kind meets (internal; bodies in train/layers_impl.h).
 *
 * A descriptor says what a layer is (kind), the widths of the rows it reads
 * and writes, where its parameters sit in the flat buffer (fastmlp.h), and
 * which step buffers it reads and writes.  Each kind provides
 *   forward:  y (rows, out) = f(x (rows, in))
 *   backward: given d = dL/dy (rows, out), the parameter gradients (= or +=)
 *             and dL/dx (rows, in) for the layer below
 * (and, for a kind with running state, a state update).  The steps
 * (train/step_impl.h) only walk the list, so a new kind is a new case in
 * fm_layer_forward / fm_layer_backward and in fm_layers_build.
 *
 * Buffers are numbered: 0 the step's input rows, 1..L the activations
 * a_1..a_L, L+1..2L-1 the dropped-out copies of a_1..a_{L-1}, 2L+l (FM_BUF_Z)
 * the z = x.W_l + b_l of hidden layer l when its activation is not fused into
 * its DENSE layer, 3L-1+l (FM_BUF_N) that z normalised when an ACT layer
 * follows its NORM layer (l = 0..L-2 the weight layer).
 *
 * A hidden layer's activation is fused into its DENSE layer (the GEMM's
 * write-back, derivative from the output a) unless the layer is normalised,
 * or its activation needs z for its derivative (fm_act_needs_z), or
 * cfg->act_layers asks for an ACT layer; then its DENSE layer is the identity
 * writing z, and
 *   DENSE(identity) x -> z;  ACT z -> a                      (needs z)
 *   DENSE(identity) x -> z;  NORM+act z -> a                 (normalised)
 *   DENSE(identity) x -> z;  NORM z -> n;  ACT n -> a        (normalised, needs z)
 * each followed by [DROPOUT a -> buffer L+1+l] as before.
 */
#ifndef FM_NET_H
#define FM_NET_H

#include <stddef.h>
#include "fastmlp.h"

#define FM_MAX_LAYERS 64 /* weight layers (checked in Python) */
#define FM_MAX_DESCS (4 * FM_MAX_LAYERS) /* descriptors: DENSE, NORM, ACT, DROPOUT each */
/* the buffers of hidden weight layer l's z and normalised z (0 <= l < L - 1) */
#define FM_BUF_Z(L, l) (2 * (L) + (l))
#define FM_BUF_N(L, l) (3 * (L) - 1 + (l))

enum fm_layer_kind {
    FM_LAYER_DENSE = 0,   /* y = act(x . W + b), W (in, out), b (out) */
    FM_LAYER_DROPOUT = 1, /* y = x * mask / (1 - rate), keyed by (seed, step, stream) */
    FM_LAYER_ACT = 2,     /* y = act(x) elementwise, in == out, no parameters; backward
                             d *= act'(x) reading its input x (z) and output y
                             (fm_act_layer_forward / _backward, fastmlp.h) */
    FM_LAYER_NORM_BATCH = 3, /* y = act(gamma * (x - mean) * rstd + beta), over the batch */
    FM_LAYER_NORM_LAYER = 4  /* the same over each row (layers/norm_impl.h) */
};

typedef struct fm_layer {
    int kind;             /* enum fm_layer_kind */
    int l;                /* DENSE: its weight layer; DROPOUT: the a_l it masks (its stream);
                             ACT: the a_l it makes */
    ptrdiff_t in, out;    /* widths of the rows read and written */
    ptrdiff_t w, b;       /* DENSE: offsets of W and b in the flat parameters;
                             NORM: of its scale gamma and shift beta */
    int act;              /* DENSE, ACT: activation of y (a DENSE layer's is IDENTITY on the
                             last layer in training, where the loss applies the output
                             activation, and before a NORM or ACT layer); NORM: the hidden
                             layer's activation, applied after the norm (IDENTITY before
                             an ACT layer) */
    double slope;         /* DENSE, NORM, ACT: the activation's parameter (leaky slope,
                             ELU alpha) */
    int act_in;           /* DENSE: activation that made the undropped input a_l and whose
                             derivative its dx owes (IDENTITY for layer 0 and after a NORM
                             or ACT layer, which applies its own), for the fast step's
                             fused act' */
    double slope_in;
    double rate;          /* DROPOUT: the rate p in (0, 1) */
    int bf16;             /* DENSE: its three products in bf16 (cfg->compute, float32 only) */
    int x, y;             /* buffers read and written (see the top) */
    /* NORM: its statistics saved for the backward (ws->ns[l]); NORM_BATCH: train = 1
     * normalises by the batch's statistics and updates the running ones (run, the
     * net's norm_state, at element offset st: mean, then variance), 0 by the running */
    int train;
    void *run;
    ptrdiff_t st;
    double eps, momentum;
} fm_layer;

typedef struct fm_layers {
    int n;                /* descriptors in forward order */
    int n_dense;          /* weight layers L */
    int only_dense_dropout; /* 1: every kind is DENSE or DROPOUT (the fast step's premise;
                               a net with other kinds trains on the plain step) */
    int n_norm;           /* NORM layers (their gamma, beta follow the biases) */
    int any_bf16;         /* 1: some DENSE layer computes in bf16 */
    int x_csr;            /* 1: buffer 0 is CSR rows (fm_ws.xs), which layer 0 reads
                             through the CSR kernels (layers/csr.c); set by the caller
                             after fm_layers_build, read by the plan */
    int out_act;          /* the output activation the loss applies (training) */
    double out_slope;
    ptrdiff_t n_w;        /* weights in the flat buffer (the biases follow them) */
    ptrdiff_t n_params;
    fm_layer layer[FM_MAX_DESCS];
} fm_layers;

/* What a pass over the layers needs besides the buffers: the rows, the
 * key of the dropout masks, threads; beta = 1 accumulates the parameter
 * gradients (+=, fm_loss_grad's later chunks), 0 overwrites them. */
typedef struct fm_pass {
    ptrdiff_t rows;
    uint64_t seed;
    int64_t step;
    int beta;
    int n_threads;
} fm_pass;

/* The descriptors of net: its dense layers, each hidden output with a
 * dropout rate (cfg, may be NULL) followed by a DROPOUT layer; the last
 * dense layer ends with last_act (fused: the forward only).  A normalised
 * hidden layer (net->norms), or one whose activation needs z or runs as an
 * ACT layer (cfg->act_layers), is a chain from the top of this file.
 * cfg != NULL is a training call: batch norm on the batch's statistics,
 * updating the running ones; NULL is inference, on the running ones. */
void fm_layers_build(fm_layers *ls, const fm_net *net, const fm_train_cfg *cfg, int last_act);

#endif /* FM_NET_H */
