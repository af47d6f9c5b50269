/*
 * fastmlp.h -- the one public header of fastmlp's compiled core.
 *
 * Every function here is a plain C function over raw pointers and sizes.
 * The C side never owns model memory: parameters, gradients, optimizer state
 * and scratch space are NumPy arrays allocated by Python and passed in.
 * Kernels do not validate their arguments (the Python layer does) and never
 * call exit()/abort().
 *
 * Layouts (fixed, never changed):
 *   x   (N, IN)   row-major, C-contiguous
 *   w   (IN, OUT) row-major -- scikit-learn's coefs_ layout
 *   b   (OUT)
 *   out (N, OUT)  row-major
 * A network's parameters live in ONE flat buffer in scikit-learn's packing
 * order: W0, W1, ..., W{L-1}, then b0, b1, ..., b{L-1}, then (fm_net.norms)
 * the scale and shift (gamma_l, beta_l) of each normalised hidden layer in
 * layer order.  Gradients and optimizer state buffers have the same layout.
 *
 * Argument order: outputs, inputs, weights, dims, n_threads.
 * Parameter gradients are OVERWRITTEN (=), never accumulated: an MLP uses
 * each parameter once per step, so no zero_grad pass is needed.
 *
 * Each kernel exists for float (suffix _f32) and double (suffix _f64); the
 * bodies are written once in *_impl.h files included twice.
 */
#ifndef FASTMLP_H
#define FASTMLP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- enums shared with Python (fastmlp/_core.pxd mirrors them) ---------- */

/* Activations.  IDENTITY .. SOFTMAX have derivatives computed from the
 * activation OUTPUT a; GELU .. SOFTPLUS from the pre-activation z
 * (fm_act_needs_z), as torch.nn.functional defines them.  Each layer's
 * `slope` (fm_net.slopes, the kernels' slope argument) is the activation's
 * parameter: LEAKY_RELU's slope, ELU's alpha; the others ignore it. */
enum fm_act {
    FM_ACT_IDENTITY = 0,
    FM_ACT_STEP = 1,      /* Heaviside: 1 if z > 0 else 0; derivative 0 */
    FM_ACT_SIGMOID = 2,
    FM_ACT_TANH = 3,
    FM_ACT_RELU = 4,      /* derivative 0 at z == 0 (as scikit-learn) */
    FM_ACT_LEAKY_RELU = 5,/* z if z > 0 else slope*z, slope >= 0 */
    FM_ACT_SOFTMAX = 6,   /* row-wise; only as output, paired with a loss */
    FM_ACT_GELU = 7,      /* z Phi(z) = z/2 (1 + erf(z/sqrt 2)); gelu(approximate='none') */
    FM_ACT_GELU_TANH = 8, /* z/2 (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3))); approximate='tanh' */
    FM_ACT_SILU = 9,      /* z sigmoid(z) */
    FM_ACT_ELU = 10,      /* z if z > 0 else alpha (exp(z) - 1), alpha = slope */
    FM_ACT_SELU = 11,     /* scale elu(z) with torch's alpha 1.6732632... and scale 1.0507009... */
    FM_ACT_SOFTPLUS = 12  /* log(1 + exp(z)), or z where z > 20 (beta 1, threshold 20) */
};

/* 1 when act's derivative is taken from z (GELU .. SOFTPLUS), else 0. */
int fm_act_needs_z(int act);

/* Losses.  Element losses l(p, y); see loss_impl.h for exact definitions. */
enum fm_loss {
    FM_LOSS_MSE = 0,      /* (p - y)^2 */
    FM_LOSS_MAE = 1,      /* |p - y|, subgradient 0 at p == y */
    FM_LOSS_BCE = 2,      /* -(y log p + (1-y) log(1-p)), p = sigmoid(z), from logits */
    FM_LOSS_CCE = 3,      /* -sum_j y_j log p_j, p = softmax(z), from logits */
    FM_LOSS_POISSON = 4,  /* y log(y/p) - y + p, p = exp(z) (half Poisson deviance), from z */
    FM_LOSS_HUBER = 5,    /* 0.5 r^2 if |r| < delta else delta (|r| - delta/2), r = p - y */
    FM_LOSS_QUANTILE = 6  /* pinball: max(q (y-p), (q-1) (y-p)), one level q per output */
};

/* The parameters of the losses that take some (fm_loss_par, fm_train_cfg.lpar);
 * the other losses ignore them. */
typedef struct fm_loss_par {
    double delta;               /* HUBER: where the quadratic turns linear, > 0 */
    const double *quantiles;    /* QUANTILE: K levels in (0, 1), one per output */
} fm_loss_par;

/* Optimizers (update rules in optim_impl.h follow torch.optim by default). */
enum fm_opt {
    FM_OPT_SGD = 0,       /* plain, momentum, dampening, Nesterov */
    FM_OPT_ADAGRAD = 1,
    FM_OPT_RMSPROP = 2,
    FM_OPT_ADAM = 3,
    FM_OPT_ADAMW = 4
};

/* GEMM epilogues, applied to each finished output element. */
enum fm_epi_kind {
    FM_EPI_NONE = 0,      /* C = alpha*A.B + beta*C */
    FM_EPI_BIAS_ACT = 1,  /* C = act(alpha*A.B + beta*C + bias[j]) */
    FM_EPI_DACT = 2       /* C = (alpha*A.B + beta*C) * act'(Z[i,j]) */
};

typedef struct fm_epilogue {
    int kind;             /* enum fm_epi_kind */
    int act;              /* enum fm_act (not SOFTMAX; DACT: not fm_act_needs_z) */
    double slope;         /* the activation's parameter (leaky-ReLU slope, ELU alpha) */
    const void *bias;     /* BIAS_ACT: length n, same dtype as C */
    const void *z;        /* DACT: activation outputs, m x n, row stride rsz */
    ptrdiff_t rsz;
} fm_epilogue;

/* ---- introspection ------------------------------------------------------ */

/* Detect the CPU once and fill the kernel table (honours FASTMLP_ARCH).
 * Idempotent; called at import time by the Python module. */
void fm_init(void);

/* 1 when compiled with OpenMP, else 0. */
int fm_openmp_enabled(void);
/* Number of threads OpenMP would use by default (1 without OpenMP). */
int fm_max_threads(void);
/* Name of the kernel target in use (every per-ISA kernel follows it):
 * "ref", "generic", "avx2", "avx512". */
const char *fm_simd_target(void);
/* Comma-separated names of the targets this CPU and build can run. */
const char *fm_available_targets(void);
/* Select a target by name; returns 0 on success, -1 if unavailable. */
int fm_set_target(const char *name);
/* Counters of the calling thread's last team of threads (csrc/core/team.h: one
 * per multi-threaded fm_train / fm_forward_net / fm_loss_grad call worth
 * splitting): out[0] tasks the team ran, out[1] times a worker slept
 * between tasks, out[2] times the master slept waiting for a worker,
 * out[3] tasks the master ran alone because the workers had been late.
 * All 0 on a build without teams. */
void fm_team_last_stats(long long out[4]);
/* How long a team's waiting thread spins before it sleeps, in microseconds
 * (FASTMLP_SPIN_US, read by fm_init; default 200); -1 on a build without
 * teams (no OpenMP, or not Linux: every kernel then opens its own region). */
long fm_team_spin_us(void);

/* ---- GEMM core (dispatched) ---------------------------------------------
 * C(m,n) = epilogue(alpha * A(m,k) . B(k,n) + beta * C)
 * A element (i,p) at a[i*rsa + p*csa]; B element (p,j) at b[p*rsb + j*csb];
 * C element (i,j) at c[i*rsc + j] (unit column stride).  When beta == 0, C
 * is never read.  Transposes are expressed through the strides.  */
void fm_gemm_f32(float *c, ptrdiff_t rsc,
                 const float *a, ptrdiff_t rsa, ptrdiff_t csa,
                 const float *b, ptrdiff_t rsb, ptrdiff_t csb,
                 ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                 float alpha, float beta, const fm_epilogue *epi, int n_threads);
void fm_gemm_f64(double *c, ptrdiff_t rsc,
                 const double *a, ptrdiff_t rsa, ptrdiff_t csa,
                 const double *b, ptrdiff_t rsb, ptrdiff_t csb,
                 ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                 double alpha, double beta, const fm_epilogue *epi, int n_threads);
/* The triple loop: the specification every faster GEMM is tested against. */
void fm_gemm_ref_f32(float *c, ptrdiff_t rsc,
                     const float *a, ptrdiff_t rsa, ptrdiff_t csa,
                     const float *b, ptrdiff_t rsb, ptrdiff_t csb,
                     ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                     float alpha, float beta, const fm_epilogue *epi, int n_threads);
void fm_gemm_ref_f64(double *c, ptrdiff_t rsc,
                     const double *a, ptrdiff_t rsa, ptrdiff_t csa,
                     const double *b, ptrdiff_t rsb, ptrdiff_t csb,
                     ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                     double alpha, double beta, const fm_epilogue *epi, int n_threads);

/* ---- bf16 GEMM (dispatched; contract in csrc/gemm/bf16.h) ----------------
 * C(m,n) = epilogue(acc) with float32 operands rounded to bf16 (nearest even,
 * denormals to zero, NaN kept NaN) and float32 chains of vdpbf16ps pair
 * steps along k: acc starts at 0 (beta == 0, C not read) or at C (beta == 1).
 * Strides as fm_gemm_f32.  Every target gives the same bits (its emulation,
 * or vdpbf16ps on a CPU with AVX512_BF16). */
void fm_gemm_bf16(float *c, ptrdiff_t rsc,
                  const float *a, ptrdiff_t rsa, ptrdiff_t csa,
                  const float *b, ptrdiff_t rsb, ptrdiff_t csb,
                  ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                  float beta, const fm_epilogue *epi, int n_threads);
/* Its specification, a scalar loop (the "ref" target's). */
void fm_gemm_bf16_ref(float *c, ptrdiff_t rsc,
                      const float *a, ptrdiff_t rsa, ptrdiff_t csa,
                      const float *b, ptrdiff_t rsb, ptrdiff_t csb,
                      ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                      float beta, const fm_epilogue *epi, int n_threads);
/* out[i] = x[i] rounded to bf16 (as float32; out may alias x). */
void fm_bf16_round(float *out, const float *x, ptrdiff_t n);
/* use = 1 / 0: let fm_gemm_bf16 use vdpbf16ps where the CPU has it, or always
 * the emulation (FASTMLP_BF16=emulate at first use sets 0); use = -1 only
 * asks.  Returns 1 when vdpbf16ps is in use. */
int fm_bf16_dp(int use);

/* ---- dense layer -------------------------------------------------------- */

/* out = act(x . w + b).  x (N,IN), w (IN,OUT), b (OUT), out (N,OUT).
 * act may be SOFTMAX (row-wise, stable).  */
void fm_linear_forward_f32(float *out, const float *x, const float *w, const float *b,
                           int act, double slope, ptrdiff_t N, ptrdiff_t IN, ptrdiff_t OUT,
                           int n_threads);
void fm_linear_forward_f64(double *out, const double *x, const double *w, const double *b,
                           int act, double slope, ptrdiff_t N, ptrdiff_t IN, ptrdiff_t OUT,
                           int n_threads);

/* Given dz = dL/dz for z = x.w + b (N,OUT):
 *   dw = x^T . dz (IN,OUT), db = sum_rows(dz) (OUT), and, when dx != NULL,
 *   dx = (dz . w^T) * act'(a_in) (N,IN) where a_in is x itself and act_in is
 *   the activation that produced x (pass FM_ACT_IDENTITY for a plain dx). */
void fm_linear_backward_f32(float *dx, float *dw, float *db, const float *dz,
                            const float *x, const float *w, int act_in, double slope_in,
                            ptrdiff_t N, ptrdiff_t IN, ptrdiff_t OUT, int n_threads);
void fm_linear_backward_f64(double *dx, double *dw, double *db, const double *dz,
                            const double *x, const double *w, int act_in, double slope_in,
                            ptrdiff_t N, ptrdiff_t IN, ptrdiff_t OUT, int n_threads);
/* The same, dw and db accumulated (+=) when acc != 0 (gradients over chunks). */
void fm_linear_backward_acc_f32(float *dx, float *dw, float *db, const float *dz,
                                const float *x, const float *w, int act_in, double slope_in,
                                ptrdiff_t N, ptrdiff_t IN, ptrdiff_t OUT, int acc, int n_threads);
void fm_linear_backward_acc_f64(double *dx, double *dw, double *db, const double *dz,
                                const double *x, const double *w, int act_in, double slope_in,
                                ptrdiff_t N, ptrdiff_t IN, ptrdiff_t OUT, int acc, int n_threads);

/* The dense layer with its three products in bf16 (fm_gemm_bf16), float32
 * only: forward out = act(x.w + b); backward dw (= or += acc) = x^T.dz,
 * db = column sums of dz in float32, dx = (dz.w^T) * act_in'(x) unless NULL. */
void fm_linear_forward_bf16(float *out, const float *x, const float *w, const float *b,
                            int act, double slope, ptrdiff_t N, ptrdiff_t IN, ptrdiff_t OUT,
                            int n_threads);
void fm_linear_backward_bf16(float *dx, float *dw, float *db, const float *dz, const float *x,
                             const float *w, int act_in, double slope_in, ptrdiff_t N,
                             ptrdiff_t IN, ptrdiff_t OUT, int acc, int n_threads);

/* ---- elementwise activations ------------------------------------------- */

/* a = act(z) in place on n rows of k columns (softmax is row-wise). */
void fm_act_forward_f32(float *a, ptrdiff_t n, ptrdiff_t k, int act, double slope);
void fm_act_forward_f64(double *a, ptrdiff_t n, ptrdiff_t k, int act, double slope);
/* dz = da * act'(a), elementwise over n items; a is the activation OUTPUT
 * (output-based activations only: not fm_act_needs_z, not SOFTMAX). */
void fm_act_backward_f32(float *dz, const float *da, const float *a, ptrdiff_t n, int act, double slope);
void fm_act_backward_f64(double *dz, const double *da, const double *a, ptrdiff_t n, int act, double slope);

/* ---- normalisation (csrc/layers/norm_impl.h) --------------------------- *
 * x, y, dy, dx (N, C); gamma, beta, dgamma, dbeta, running stats (C).
 * y = act(gamma_j * (x - mean) * rstd + beta_j) with rstd = 1/sqrt(var + eps),
 * var biased; batch norm takes mean and var over each column's N rows
 * (torch.nn.BatchNorm1d), layer norm over each row's C columns
 * (torch.nn.LayerNorm); act (enum fm_act, FM_ACT_IDENTITY for none; not
 * SOFTMAX, and for the backward an output-based one) is the layer's
 * activation, fused.  The forward saves mean and rstd ((C) batch, (N) layer)
 * for the backward, which takes dy = dL/dy and the forward's y (read for
 * act'(y)) and writes dx (may alias dy) and dgamma, dbeta (= or, when acc,
 * +=). */
enum fm_norm {
    FM_NORM_NONE = 0,
    FM_NORM_BATCH = 1,
    FM_NORM_LAYER = 2
};

/* Training: batch statistics, N >= 2.  When run_mean != NULL, also
 * run_mean = (1-momentum) run_mean + momentum mean and run_var likewise with
 * the UNBIASED batch variance var * N/(N-1) (torch). */
void fm_batchnorm_forward_f32(float *y, float *mean, float *rstd, float *run_mean,
                              float *run_var, const float *x, const float *gamma,
                              const float *beta, double eps, double momentum, int act,
                              double slope, ptrdiff_t N, ptrdiff_t C, int n_threads);
void fm_batchnorm_forward_f64(double *y, double *mean, double *rstd, double *run_mean,
                              double *run_var, const double *x, const double *gamma,
                              const double *beta, double eps, double momentum, int act,
                              double slope, ptrdiff_t N, ptrdiff_t C, int n_threads);
/* Inference: y = act(gamma * (x - run_mean) / sqrt(run_var + eps) + beta). */
void fm_batchnorm_infer_f32(float *y, const float *x, const float *gamma, const float *beta,
                            const float *run_mean, const float *run_var, double eps, int act,
                            double slope, ptrdiff_t N, ptrdiff_t C, int n_threads);
void fm_batchnorm_infer_f64(double *y, const double *x, const double *gamma,
                            const double *beta, const double *run_mean, const double *run_var,
                            double eps, int act, double slope, ptrdiff_t N, ptrdiff_t C,
                            int n_threads);
void fm_batchnorm_backward_f32(float *dx, float *dgamma, float *dbeta, const float *dy,
                               const float *y, const float *x, const float *mean,
                               const float *rstd, const float *gamma, int act, double slope,
                               ptrdiff_t N, ptrdiff_t C, int acc, int n_threads);
void fm_batchnorm_backward_f64(double *dx, double *dgamma, double *dbeta, const double *dy,
                               const double *y, const double *x, const double *mean,
                               const double *rstd, const double *gamma, int act, double slope,
                               ptrdiff_t N, ptrdiff_t C, int acc, int n_threads);
void fm_layernorm_forward_f32(float *y, float *mean, float *rstd, const float *x,
                              const float *gamma, const float *beta, double eps, int act,
                              double slope, ptrdiff_t N, ptrdiff_t C, int n_threads);
void fm_layernorm_forward_f64(double *y, double *mean, double *rstd, const double *x,
                              const double *gamma, const double *beta, double eps, int act,
                              double slope, ptrdiff_t N, ptrdiff_t C, int n_threads);
void fm_layernorm_backward_f32(float *dx, float *dgamma, float *dbeta, const float *dy,
                               const float *y, const float *x, const float *mean,
                               const float *rstd, const float *gamma, int act, double slope,
                               ptrdiff_t N, ptrdiff_t C, int acc, int n_threads);
void fm_layernorm_backward_f64(double *dx, double *dgamma, double *dbeta, const double *dy,
                               const double *y, const double *x, const double *mean,
                               const double *rstd, const double *gamma, int act, double slope,
                               ptrdiff_t N, ptrdiff_t C, int acc, int n_threads);

/* An activation as a layer of its own (the ACT layer of csrc/train/net.h),
 * elementwise over n items, any activation but SOFTMAX, split over up to
 * n_threads threads (the result does not depend on their number):
 *   forward   a = act(z)                                (a may alias z)
 *   backward  dz = da * act'(z), given z and the forward's a = act(z):
 *             output-based activations read a, the others z (dz may alias da) */
void fm_act_layer_forward_f32(float *a, const float *z, ptrdiff_t n, int act, double slope,
                              int n_threads);
void fm_act_layer_forward_f64(double *a, const double *z, ptrdiff_t n, int act, double slope,
                              int n_threads);
void fm_act_layer_backward_f32(float *dz, const float *da, const float *z, const float *a,
                               ptrdiff_t n, int act, double slope, int n_threads);
void fm_act_layer_backward_f64(double *dz, const double *da, const double *z, const double *a,
                               ptrdiff_t n, int act, double slope, int n_threads);

/* ---- losses ------------------------------------------------------------ *
 * z (N,K) is the output layer's pre-activation, p (N,K) receives the output
 * activation act(z) (sigmoid for BCE, softmax for CCE; any for MSE/MAE).
 * y (N,K) targets; sw (N) per-sample weights or NULL (= all ones).
 * Returns  L = scale * sum_i sw_i * sum_j l(p_ij, y_ij)   (CCE: sum_j inside)
 * and writes dz = dL/dz (same scale), unless dz == NULL.
 * Stable: BCE and CCE are evaluated from the logits z (log-sum-exp). */
double fm_loss_f32(float *dz, float *p, const float *z, const float *y, const float *sw,
                   int loss, int out_act, double slope, ptrdiff_t N, ptrdiff_t K, double scale);
double fm_loss_f64(double *dz, double *p, const double *z, const double *y, const double *sw,
                   int loss, int out_act, double slope, ptrdiff_t N, ptrdiff_t K, double scale);
/* The same for any loss: par gives HUBER's delta and QUANTILE's K levels
 * (NULL, as fm_loss passes: delta 1 and every level 0.5, torch's defaults). */
double fm_loss_p_f32(float *dz, float *p, const float *z, const float *y, const float *sw,
                     int loss, int out_act, double slope, const fm_loss_par *par, ptrdiff_t N,
                     ptrdiff_t K, double scale);
double fm_loss_p_f64(double *dz, double *p, const double *z, const double *y, const double *sw,
                     int loss, int out_act, double slope, const fm_loss_par *par, ptrdiff_t N,
                     ptrdiff_t K, double scale);

/* ---- gradient clipping (torch.nn.utils' semantics) ---------------------- *
 * g (n) is a flat gradient: every weight and bias of a net (fastmlp.h's layout).
 * clip_grad_norm: t = ||g||_2 (all n entries, summed in double); when
 * c = max_norm / (t + 1e-6) < 1, g *= c.  Returns t (before clipping).
 * clip_grad_value: g = clamp(g, -v, v) elementwise (NaN stays NaN). */
double fm_clip_grad_norm_f32(float *g, ptrdiff_t n, double max_norm);
double fm_clip_grad_norm_f64(double *g, ptrdiff_t n, double max_norm);
void fm_clip_grad_value_f32(float *g, ptrdiff_t n, double v);
void fm_clip_grad_value_f64(double *g, ptrdiff_t n, double v);

/* ---- optimizers --------------------------------------------------------- */

typedef struct fm_optim {
    int kind;             /* enum fm_opt */
    double lr;
    double momentum, dampening; int nesterov;   /* SGD */
    double alpha;         /* RMSprop smoothing constant */
    double beta1, beta2, eps;                    /* Adam/AdamW/RMSprop/Adagrad eps */
    double weight_decay;  /* coupled L2 (added to g) or decoupled (AdamW) */
    double l1;            /* L1: g += l1 * sign(w) */
    int decay_bias;       /* fm_train: 1 = weight_decay and l1 also apply to
                             biases (torch.optim), 0 = weights only */
    int sklearn;          /* 1 = scikit-learn's forms for SGD and Adam (see
                             optim_impl.h); 0 = torch.optim's (default) */
    int64_t step;         /* number of updates done (in/out) */
    /* -- appended; zero/NULL keeps the rules above -- */
    int centered;         /* RMSprop: normalise by the centred second moment
                             (s3 holds the running mean gradient) */
    int amsgrad;          /* Adam/AdamW: normalise by max_t v_t, kept in s3 */
    void *s3;             /* third state buffer: n elements of the update's
                             dtype (centered RMSprop, AMSGrad), else NULL.
                             RMSprop with momentum keeps its buffer in s2. */
} fm_optim;

/* One update over a flat buffer of n parameters w with gradient g.
 * weight_decay and l1 apply to the first n_decay entries only (the weights,
 * which come first in the flat layout; pass n to decay biases too, as
 * torch.optim does).  s1, s2: state buffers of n (NULL where the rule keeps
 * none).  opt->step must already count this update (the caller increments
 * it before the call, so the first update sees step == 1). */
void fm_optim_update_f32(float *w, float *s1, float *s2, const float *g,
                         const fm_optim *opt, ptrdiff_t n, ptrdiff_t n_decay, int n_threads);
void fm_optim_update_f64(double *w, double *s1, double *s2, const double *g,
                         const fm_optim *opt, ptrdiff_t n, ptrdiff_t n_decay, int n_threads);

/* ---- a whole network ---------------------------------------------------- */

typedef struct fm_net {
    int n_layers;               /* L weight layers */
    const int64_t *sizes;       /* L+1 widths: sizes[0] = inputs, sizes[L] = outputs */
    const int32_t *acts;        /* L activations; acts[L-1] is the output activation */
    const double *slopes;       /* L activation parameters (leaky-ReLU slope, ELU alpha) */
    /* -- appended; NULL turns normalisation off -- */
    const int32_t *norms;       /* L-1 enum fm_norm of the hidden layers, or NULL: a
                                   normalised hidden layer is x.W + b, then the norm,
                                   then its activation */
    void *norm_state;           /* the batch-norm layers' running statistics, in the
                                   dtype of the call: for each, in layer order, its mean
                                   then its variance (2 * width).  State, not parameters:
                                   fm_train updates it, fm_forward_net reads it */
    double norm_eps, norm_momentum; /* torch's 1e-5 and 0.1 */
} fm_net;

typedef struct fm_train_cfg {
    int loss;                   /* enum fm_loss */
    double loss_mult;           /* loss multiplier (0.5 for a "half" MSE) */
    int loss_per_output;        /* 1: mean over samples*outputs; 0: over samples */
    double l2;                  /* g_W += l2 * W (weights only) */
    int l2_batch_scaled;        /* 1: that l2 is divided by the batch's sum of weights (sklearn) */
    int metric;                 /* 0 none, 1 argmax accuracy, 2 threshold-0.5 accuracy,
                                   3 regression sums (see fm_train's stats) */
    /* -- appended; zero/NULL turns each off (fm_train only) -- */
    double l1;                  /* g_W += l1 * sign(W) (weights only); the batch loss
                                   gains l1 * ||W||_1 (not scaled by l2_batch_scaled) */
    const double *dropout;      /* L-1 inverted-dropout rates in [0, 1) for the hidden
                                   layers' outputs, or NULL (training only) */
    double input_noise;         /* std of Gaussian noise added to the inputs */
    uint64_t seed;              /* keys the counter RNG of dropout and noise (rng.h) */
    const double *lr_steps;     /* learning rate of each batch of this call, or NULL */
    const double *mom_steps;    /* momentum of each batch (SGD/RMSprop momentum, Adam's
                                   beta1), or NULL */
    int check_finite;           /* 1: check each batch's input rows for NaN/inf right
                                   before using them; a bad batch ends the call before
                                   anything is updated with it (see fm_train's return) */
    int plain;                  /* 1: the plain step everywhere, no speed path */
    int64_t *path_steps;        /* out, or NULL: (L, FM_N_PATHS) counts (+=) of the steps
                                   on which weight layer l took speed path p */
    fm_loss_par lpar;           /* HUBER's delta, QUANTILE's levels (fm_train, fm_loss_grad) */
    double clip_norm;           /* > 0: each step's data gradient (all parameters) scaled
                                   to this global L2 norm at most, before the penalties
                                   (fm_clip_grad_norm); the fast step then updates every
                                   layer after the whole backward pass (train/plan.h) */
    double clip_value;          /* > 0: each step's data gradient clamped to [-v, v] */
    int compute;                /* enum fm_compute: the dtype of the dense layers' three
                                   products (fm_train, float32 only; 0 = the params' own) */
    int act_layers;             /* 1: every hidden activation runs as an ACT layer of its
                                   own (train/net.h), as those that need z always do;
                                   for tests of that layer (the step is then the plain one) */
} fm_train_cfg;

/* Compute dtypes of fm_train's dense layers: their products X.W, D.W^T and
 * X^T.D in the params' dtype, or with bf16 operands and float32 chains
 * (fm_gemm_bf16); everything else (master weights, optimizer state, loss,
 * activations, updates) stays in the params' dtype. */
enum fm_compute {
    FM_COMPUTE_NATIVE = 0,
    FM_COMPUTE_BF16 = 1
};

/* fm_train's speed paths (csrc/train/plan.h): the columns of path_steps. */
enum fm_path {
    FM_PATH_DEFER = 0,          /* plain-SGD updates held as low-rank terms */
    FM_PATH_AHEAD = 1,          /* layer 0's x.W_0 made ahead for a block of steps */
    FM_PATH_SPARSE = 2,         /* forward skipping W's rows under zero inputs */
    FM_PATH_RANK1 = 3,          /* delta and SGD update in one pass over W */
    FM_PATH_FUSED = 4,          /* SGD update inside the dW GEMM */
    FM_N_PATHS = 5
};

/* The thresholds the speed paths apply, for tests to choose shapes from. */
typedef struct fm_thresholds {
    int train_align;            /* FM_TRAIN_ALIGN: deferred terms flushed on such steps */
    int lowrank_max_terms;      /* deferred terms a layer holds at most */
    ptrdiff_t lowrank_min_bytes, lowrank_min_first; /* DEFER: W from (layer 0: first) */
    int rank1_max_rows;         /* DEFER, AHEAD, RANK1: batches of at most this many rows */
    ptrdiff_t rank1_min_bytes;  /* RANK1: W from */
    int sparse_fwd_max_rows;
    ptrdiff_t sparse_fwd_min_bytes;  /* SPARSE: W from */
    double sparse_fwd_max_fill; /* SPARSE: at most this fraction of input columns nonzero */
    ptrdiff_t team_min_work;    /* a step's largest product from which a team runs it */
} fm_thresholds;
void fm_fast_thresholds(fm_thresholds *t);

/* Scratch elements (of the dtype) needed by fm_train_f* and fm_forward_net_f*
 * for batches of up to `batch` rows. */
ptrdiff_t fm_workspace_size(const fm_net *net, ptrdiff_t batch);
/* Number of parameters (weights + biases, + norm scales and shifts) of the net. */
ptrdiff_t fm_n_params(const fm_net *net);

/* Run n_batches consecutive mini-batches of a training epoch in C.
 *   x (n_total, sizes[0]), y (n_total, sizes[L]), sw (n_total) or NULL.
 *   order: permutation of row indices (n_total) or NULL for 0..n_total-1.
 *   Batch b covers order[start + b*batch : min(start + (b+1)*batch, n_total)].
 * params/grad/s1/s2: flat buffers (see header comment); work: scratch of
 * fm_workspace_size(net, batch).  stats (out): [0] sum over the batches of
 * loss*batch_rows (data term), [1] correctly classified rows (when metric),
 * [2] rows processed, [3] sum over the batches of the L2 penalty term
 * 0.5*l2_eff*||W||^2 * batch_rows (before the update; plus the L1 term
 * l1*||W||_1 * batch_rows).  With metric 3 (regression), also [4] sum of
 * |p - y| and [5] sum of (p - y)^2 over all outputs, and [6 + k] sum of
 * (p - y)^2 of output k (stats then needs 6 + K entries).  Stats accumulate
 * (+=) so a caller can sum an epoch over several calls.
 * Each batch: gather (+ input noise), then one step (csrc/train/step_impl.h):
 * forward (+ dropout on hidden outputs), loss, backward, update.  The plain
 * step (cfg->plain) runs the layers' forward/backward pairs and updates the
 * whole flat buffer at the end; the fast step (default) updates each layer
 * right after its gradient and the delta it passes down are done, and runs
 * the speed paths the plan picks per layer (csrc/train/plan.h, enum fm_path).
 * Both equal the reference within the trajectory tolerance.
 * Returns the number of batches done, b >= 0.  With cfg->check_finite, a
 * batch whose input rows hold a NaN or an infinity ends the call before it
 * changes anything (parameters, optimizer state and step, stats): the return
 * is then -(b + 1), b the batches done before it (batch b of this call, the
 * one covering order[start + b*batch ...], is the bad one).
 * Plain SGD at batches of 1-2 rows defers big layers' updates (DEFER)
 * and writes them into W after every step whose number (opt->step) is a
 * multiple of FM_TRAIN_ALIGN, and at the end of the call; the rounding
 * depends on where those writes fall, so a caller whose results must not
 * depend on how it splits training into calls ends each call on such a
 * step (or where its own split is fixed, e.g. at an epoch's end).
 * (Overridable when building, for the C workbench; Python reads the value
 * built in, _core.TRAIN_ALIGN.) */
#ifndef FM_TRAIN_ALIGN
#define FM_TRAIN_ALIGN 16
#endif
ptrdiff_t fm_train_f32(float *params, float *grad, float *s1, float *s2, float *work,
                       double *stats, fm_optim *opt, const fm_net *net, const fm_train_cfg *cfg,
                       const float *x, const float *y, const float *sw, const int64_t *order,
                       ptrdiff_t n_total, ptrdiff_t start, ptrdiff_t n_batches, ptrdiff_t batch,
                       int n_threads);
ptrdiff_t fm_train_f64(double *params, double *grad, double *s1, double *s2, double *work,
                       double *stats, fm_optim *opt, const fm_net *net, const fm_train_cfg *cfg,
                       const double *x, const double *y, const double *sw, const int64_t *order,
                       ptrdiff_t n_total, ptrdiff_t start, ptrdiff_t n_batches, ptrdiff_t batch,
                       int n_threads);

/* 1 when every one of x[0..n) is finite, else 0 (fm_train's check_finite). */
int fm_all_finite_f32(const float *x, ptrdiff_t n);
int fm_all_finite_f64(const double *x, ptrdiff_t n);

/* Forward a whole net over n rows, `batch` rows at a time: out (n, sizes[L]). */
void fm_forward_net_f32(float *out, float *work, const float *params, const fm_net *net,
                        const float *x, ptrdiff_t n, ptrdiff_t batch, int n_threads);
void fm_forward_net_f64(double *out, double *work, const double *params, const fm_net *net,
                        const double *x, ptrdiff_t n, ptrdiff_t batch, int n_threads);

/* Loss and full gradient of the whole data set (x, y) -- the objective the
 * lbfgs solver minimises.  grad receives dL/dparams in flat layout.
 * Returns the loss (data term + 0.5*l2*||W||^2 scaled as the cfg says). */
double fm_loss_grad_f32(float *grad, float *work, const float *params, const fm_net *net,
                        const fm_train_cfg *cfg, const float *x, const float *y, const float *sw,
                        ptrdiff_t n, ptrdiff_t batch, int n_threads);
double fm_loss_grad_f64(double *grad, double *work, const double *params, const fm_net *net,
                        const fm_train_cfg *cfg, const double *x, const double *y, const double *sw,
                        ptrdiff_t n, ptrdiff_t batch, int n_threads);

/* ---- CSR input: the first layer over scipy.sparse rows (csrc/layers/csr.c) -- */

/* A CSR matrix (n_rows, n_cols) in scipy.sparse's layout: row r holds the
 * values data[indptr[r] .. indptr[r+1]) at the columns indices[same range].
 * Columns within a row may be unsorted and may repeat (repeats add up, as
 * in scipy).  indptr and indices are both int32 (index64 = 0) or both int64
 * (index64 = 1); data has the kernel's dtype.  The kernels trust indptr to
 * be non-decreasing and every index to lie in [0, n_cols): the Python layer
 * checks them (fastmlp._validation.check_X). */
typedef struct fm_csr {
    const void *data;
    const void *indices;
    const void *indptr;
    int index64;
    ptrdiff_t n_rows, n_cols;
} fm_csr;

/* The N rows a CSR kernel reads: row i is CSR row sel[lo + i], or lo + i
 * when sel is NULL (a training batch's rows in the epoch's order, in place).
 *
 * out = act(X_rows . w + b): x as above, w (n_cols, OUT), b (OUT), out (N, OUT);
 * act may be SOFTMAX.  The sum over a row's nonzeros runs in their stored
 * order, then the bias and the activation (as the dense GEMM's epilogue). */
void fm_csr_linear_forward_f32(float *out, const fm_csr *x, const int64_t *sel, ptrdiff_t lo,
                               const float *w, const float *b, int act, double slope,
                               ptrdiff_t N, ptrdiff_t OUT, int n_threads);
void fm_csr_linear_forward_f64(double *out, const fm_csr *x, const int64_t *sel, ptrdiff_t lo,
                               const double *w, const double *b, int act, double slope,
                               ptrdiff_t N, ptrdiff_t OUT, int n_threads);
/* Backward of z = X_rows . w + b given dz (N, OUT): dw = X_rows^T . dz
 * (n_cols, OUT) and db = sum_rows(dz) (OUT), overwritten (acc = 0; dw's rows
 * of columns no selected row holds become 0) or accumulated (acc = 1).  No
 * dx: nothing below the input layer needs it.  Threads split dw's columns,
 * so every element is summed in row order whatever the thread count. */
void fm_csr_linear_backward_f32(float *dw, float *db, const float *dz, const fm_csr *x,
                                const int64_t *sel, ptrdiff_t lo, ptrdiff_t N, ptrdiff_t OUT,
                                int acc, int n_threads);
void fm_csr_linear_backward_f64(double *dw, double *db, const double *dz, const fm_csr *x,
                                const int64_t *sel, ptrdiff_t lo, ptrdiff_t N, ptrdiff_t OUT,
                                int acc, int n_threads);
/* 1 when every stored value of the N selected rows is finite, else 0. */
int fm_csr_rows_finite_f32(const fm_csr *x, const int64_t *sel, ptrdiff_t lo, ptrdiff_t N);
int fm_csr_rows_finite_f64(const fm_csr *x, const int64_t *sel, ptrdiff_t lo, ptrdiff_t N);

/* fm_train, fm_forward_net and fm_loss_grad with CSR input rows x
 * (x->n_rows = n_total or n, x->n_cols = sizes[0]): layer 0 runs the CSR
 * kernels above on the batch's rows in place (never densified), the other
 * layers as for dense input; every step is the plain one (train/plan.c).
 * cfg->input_noise must be 0 (noise would fill the zeros). */
ptrdiff_t fm_train_csr_f32(float *params, float *grad, float *s1, float *s2, float *work,
                           double *stats, fm_optim *opt, const fm_net *net,
                           const fm_train_cfg *cfg, const fm_csr *x, const float *y,
                           const float *sw, const int64_t *order, ptrdiff_t n_total,
                           ptrdiff_t start, ptrdiff_t n_batches, ptrdiff_t batch, int n_threads);
ptrdiff_t fm_train_csr_f64(double *params, double *grad, double *s1, double *s2, double *work,
                           double *stats, fm_optim *opt, const fm_net *net,
                           const fm_train_cfg *cfg, const fm_csr *x, const double *y,
                           const double *sw, const int64_t *order, ptrdiff_t n_total,
                           ptrdiff_t start, ptrdiff_t n_batches, ptrdiff_t batch, int n_threads);
void fm_forward_net_csr_f32(float *out, float *work, const float *params, const fm_net *net,
                            const fm_csr *x, ptrdiff_t n, ptrdiff_t batch, int n_threads);
void fm_forward_net_csr_f64(double *out, double *work, const double *params, const fm_net *net,
                            const fm_csr *x, ptrdiff_t n, ptrdiff_t batch, int n_threads);
double fm_loss_grad_csr_f32(float *grad, float *work, const float *params, const fm_net *net,
                            const fm_train_cfg *cfg, const fm_csr *x, const float *y,
                            const float *sw, ptrdiff_t n, ptrdiff_t batch, int n_threads);
double fm_loss_grad_csr_f64(double *grad, double *work, const double *params, const fm_net *net,
                            const fm_train_cfg *cfg, const fm_csr *x, const double *y,
                            const double *sw, ptrdiff_t n, ptrdiff_t batch, int n_threads);

/* ---- regularisation noise (counter RNG, see rng.h) ----------------------- */

/* out[i] = unif(key(seed, step, stream), i) for i < n: the raw stream, for tests. */
void fm_rng_uniform(double *out, uint64_t seed, uint64_t step, uint64_t stream, ptrdiff_t n);
/* out[i] = normal(key(seed, step, stream), i) for i < n: the normals of the
 * input noise (Box-Muller pairs, rng.h), computed by the target in use. */
void fm_rng_normal(double *out, uint64_t seed, uint64_t step, uint64_t stream, ptrdiff_t n,
                   int n_threads);
/* Inverted dropout over n items: out[i] = h[i] / (1-p), or 0 when
 * unif(i) < p.  out may alias h. */
void fm_dropout_forward_f32(float *out, const float *h, double p, uint64_t seed, uint64_t step,
                            uint64_t stream, ptrdiff_t n, int n_threads);
void fm_dropout_forward_f64(double *out, const double *h, double p, uint64_t seed, uint64_t step,
                            uint64_t stream, ptrdiff_t n, int n_threads);
/* Its backward, in place: d[i] = d[i] / (1-p), or 0 where the unit was dropped. */
void fm_dropout_backward_f32(float *d, double p, uint64_t seed, uint64_t step, uint64_t stream,
                             ptrdiff_t n, int n_threads);
void fm_dropout_backward_f64(double *d, double p, uint64_t seed, uint64_t step, uint64_t stream,
                             ptrdiff_t n, int n_threads);
/* x[i] += sigma * normal(i) in place (Box-Muller on the counter stream). */
void fm_gaussian_noise_f32(float *x, double sigma, uint64_t seed, uint64_t step, uint64_t stream,
                           ptrdiff_t n, int n_threads);
void fm_gaussian_noise_f64(double *x, double sigma, uint64_t seed, uint64_t step, uint64_t stream,
                           ptrdiff_t n, int n_threads);

/* ---- perceptron --------------------------------------------------------- */

/* One epoch of Rosenblatt's rule over rows in `order` (or 0..n-1 if NULL):
 * for each row, if y_i * (w.x_i + b) <= 0 then w += eta*y_i*x_i, b += eta*y_i.
 * y in {-1, +1}.  Returns the number of updates (mistakes). */
ptrdiff_t fm_perceptron_epoch_f32(float *w, float *b, const float *x, const float *y,
                                  const int64_t *order, ptrdiff_t n, ptrdiff_t d, double eta);
ptrdiff_t fm_perceptron_epoch_f64(double *w, double *b, const double *x, const double *y,
                                  const int64_t *order, ptrdiff_t n, ptrdiff_t d, double eta);

/* ---- machine peak (benchmarks only; csrc/probe/) ------------------------- */

/* Comma-separated FMA-probe ISAs this CPU and OS run, best first
 * ("avx512,avx2,generic"). */
const char *fm_peak_isas(void);
/* FMA-throughput probe: each of n_threads threads runs `reps` rounds of
 * independent chains acc = acc*mul + add on the vectors of `isa` ("" = the
 * best) in the dtype, with no memory traffic, and writes the sum of its
 * accumulators to sums[thread] (sums holds n_threads entries; acc starts at
 * 0, so mul = add = 1 gives exactly reps per lane).  Returns the number of
 * floating-point operations done (2 per FMA lane), or -1 when `isa` cannot
 * run here.  Time the call to get the machine's peak FLOP/s. */
double fm_peak_f32(double *sums, const char *isa, double mul, double add, ptrdiff_t reps,
                   int n_threads);
double fm_peak_f64(double *sums, const char *isa, double mul, double add, ptrdiff_t reps,
                   int n_threads);

/* ---- int8 inference (csrc/qgemm/) --------------------------------------
 * Weights: int8, symmetric per output channel, packed once (fm_qpack_weights)
 * into panels of FM_Q_NR columns: the byte of W(i, j) sits at
 *   wp[(j / FM_Q_NR) * kq * FM_Q_NR * 4 + (i / 4) * FM_Q_NR * 4 + (j % FM_Q_NR) * 4 + i % 4]
 * with kq = ceil(n_in / 4); padding (i >= n_in, j >= n_out) is 0.  So each
 * 32-bit lane holds 4 consecutive inputs of one column: vpdpbusd's operand.
 * Activations: uint8 rows with a zero point, x ~ scale * (q - zp), quantised
 * per row at run time (or with one static scale and zero point).
 * The integer result of every path is the same int32 (wrapping) sum
 *   acc(i, j) = sum_p q(i, p) W(p, j) - zp(i) * colsum(j)
 * and the float one y = act((float)acc * (xscale(i) * wscale(j)) + bias(j))
 * (a multiply then an add, each rounded to float32).  n_in <= FM_Q_MAX_K
 * keeps acc exact: 65536 * 255 * 127 < 2^31. */
#define FM_Q_NR 32
#define FM_Q_MAX_K 65536

/* Bytes of the packed form of an (n_in, n_out) int8 weight matrix. */
ptrdiff_t fm_qpack_size(ptrdiff_t n_in, ptrdiff_t n_out);
/* Pack w (n_in, n_out) row-major into wp (fm_qpack_size bytes); colsum[j] =
 * sum_i w[i, j]. */
void fm_qpack_weights(int8_t *wp, int32_t *colsum, const int8_t *w, ptrdiff_t n_in,
                      ptrdiff_t n_out);

/* Quantise the rows of x (m, k; row stride ldx) to q (m rows of ldq >= k
 * bytes, rounded up to a multiple of 4; bytes k.. of a row set to 0).
 * static_scale > 0: scale[i] = static_scale, zp[i] = static_zp for every row;
 * else per row: lo = min(0, min x), hi = max(0, max x), r = hi - lo,
 * scale = r / 255, zp = rne(-lo * (255 / r)) (scale 1, zp 0 for r == 0).
 * Then q = clamp(rne(clamp(x * inv, -1024, 1024)) + zp, 0, 255) with inv =
 * 255 / r (dynamic) or 1 / static_scale, all in float32, rne = round half even. */
void fm_quantize_rows_u8(uint8_t *q, ptrdiff_t ldq, float *scale, int32_t *zp, const float *x,
                         ptrdiff_t ldx, ptrdiff_t m, ptrdiff_t k, float static_scale,
                         int32_t static_zp, int n_threads);

/* The epilogue of an int8 product (see above). */
typedef struct fm_qepilogue {
    const int32_t *zp;          /* m: the rows' zero points */
    const float *xscale;        /* m: the rows' scales */
    const int32_t *colsum;      /* n: fm_qpack_weights' column sums */
    const float *wscale;        /* n: the columns' weight scales */
    const float *bias;          /* n */
    int act;                    /* enum fm_act (not SOFTMAX) */
    double slope;               /* leaky-ReLU slope */
    int32_t *out_i32;           /* non-NULL: write acc here (row stride rsc), not c */
} fm_qepilogue;

/* c (m, n; row stride rsc) = the epilogue of q (m, k; row stride lda, a
 * multiple of 4) times the packed weights wp (k, n), on the active target
 * (avx512: vpdpbusd; avx2: AVX-VNNI's vpdpbusd where present, else
 * vpmaddwd on widened bytes; generic: C; ref: the triple loop). */
void fm_qgemm(float *c, ptrdiff_t rsc, const uint8_t *q, ptrdiff_t lda, const int8_t *wp,
              ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const fm_qepilogue *e, int n_threads);
/* The same on one named path ("avx512vnni", "avxvnni", "avx2", "generic",
 * "ref"), for tests; returns -1 (nothing done) when it cannot run here. */
int fm_qgemm_path(const char *path, float *c, ptrdiff_t rsc, const uint8_t *q, ptrdiff_t lda,
                  const int8_t *wp, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                  const fm_qepilogue *e, int n_threads);
/* Comma-separated names of the paths fm_qgemm_path can run here. */
const char *fm_qgemm_paths(void);

/* One dense layer of an int8 network. */
typedef struct fm_qlayer {
    ptrdiff_t n_in, n_out;
    const int8_t *wp;           /* fm_qpack_weights' output */
    const int32_t *colsum;
    const float *wscale, *bias; /* n_out each */
    int act;                    /* enum fm_act (not SOFTMAX) */
    double slope;
    float xscale;               /* > 0: static input scale and zero point; 0: per row */
    int32_t xzp;
} fm_qlayer;

/* Bytes of scratch fm_qnet_forward needs for chunks of `batch` rows. */
ptrdiff_t fm_qnet_workspace_size(const fm_qlayer *layers, int n_layers, ptrdiff_t batch);
/* out (n, n_out of the last layer) = the int8 network applied to x (n,
 * n_in), `batch` rows at a time: per layer, quantise (fm_quantize_rows_u8)
 * then fm_qgemm. */
void fm_qnet_forward(float *out, void *work, const fm_qlayer *layers, int n_layers,
                     const float *x, ptrdiff_t n, ptrdiff_t batch, int n_threads);
/* Integer-throughput probe (benchmarks): each thread runs `reps` rounds of
 * 16 independent vpdpbusd chains on zmm registers; returns the integer
 * operations done (2 per u8 x s8 product), or -1 without AVX512_VNNI. */
double fm_peak_i8(double *sums, ptrdiff_t reps, int n_threads);
/* vdpbf16ps-throughput probe (AVX512_BF16): like fm_peak_f32, chains
 * acc = vdpbf16ps(acc, x, y) with x, y pairs of bf16 ones (so each lane
 * gains exactly 2 per round: sums[t] = 32 * chains * reps).  Returns the
 * floating-point operations done (4 per lane and instruction: two products,
 * two additions), or -1 when this CPU has no AVX512_BF16. */
double fm_peak_bf16(double *sums, ptrdiff_t reps, int n_threads);

/* ---- scikit-learn's Perceptron (plain SGD, hinge at 0) ----------------- */

/* Penalties, numbered as scikit-learn's PENALTY_TYPES. */
enum fm_penalty {
    FM_PENALTY_NONE = 0,
    FM_PENALTY_L1 = 1,
    FM_PENALTY_L2 = 2,
    FM_PENALTY_ELASTICNET = 3
};

typedef struct fm_sgd_cfg {
    int penalty;                /* enum fm_penalty */
    double alpha, l1_ratio;     /* penalty strength and elastic-net mix */
    double eta;                 /* constant learning rate (eta0) */
    int fit_intercept;
    double intercept_decay;     /* 1 for dense data, 0.01 for sparse (scikit-learn) */
    double weight_pos, weight_neg; /* class weights of y > 0 and y <= 0 rows */
    int compute_loss;           /* accumulate the loss/objective sums */
} fm_sgd_cfg;

/* State carried across epochs (in/out): the weight vector is wscale * w. */
typedef struct fm_sgd_state {
    double intercept, wscale, sq_norm, l1_norm;
    double u;                   /* cumulative L1 penalty */
    double sumloss, objective;  /* out: this epoch's loss sum and objective sum */
} fm_sgd_state;

/* scikit-learn's SequentialDataset.shuffle: Fisher-Yates over ind (n) with
 * its xorshift32 generator started from seed (the same seed every epoch). */
void fm_sgd_shuffle(int64_t *ind, ptrdiff_t n, uint32_t seed);

/* One epoch over the rows in order (n), skipping rows i with skip[i] != 0
 * (skip may be NULL).  w (d), q (d; the L1 state, used for L1/elastic-net),
 * y (rows) in {-1, +1}, sw (rows) or NULL.  Dense x is (rows, d) with
 * ptr == ind == NULL; CSR x gives row i as x[ptr[i]:ptr[i+1]] at columns
 * ind[...].  Returns the number of rows trained on. */
ptrdiff_t fm_sgd_perceptron_epoch_f32(float *w, float *q, fm_sgd_state *st, const float *x,
                                      const int64_t *ptr, const int32_t *ind, const float *y,
                                      const float *sw, const int64_t *order,
                                      const uint8_t *skip, const fm_sgd_cfg *cfg,
                                      ptrdiff_t n, ptrdiff_t d);
ptrdiff_t fm_sgd_perceptron_epoch_f64(double *w, double *q, fm_sgd_state *st, const double *x,
                                      const int64_t *ptr, const int32_t *ind, const double *y,
                                      const double *sw, const int64_t *order,
                                      const uint8_t *skip, const fm_sgd_cfg *cfg,
                                      ptrdiff_t n, ptrdiff_t d);

/* The same epoch for k one-vs-rest classes cls[0..k) at once, results
 * identical to fm_sgd_perceptron_epoch class by class: their dot products
 * are interleaved (up to `lanes` per thread, speculating over several rows
 * of a class when few classes are left) and the classes split over
 * n_threads OpenMP threads.  Per-class arrays are indexed by the class
 * c = cls[m]: w and q (C, d), st[c], y (C, n), order (C, n), cfg[c], and
 * counts (C, 2) += (rows trained on, dot products computed).  x, ptr, ind,
 * sw (n) and skip (n) as above; packed != 0: x/ptr/ind is a dense (n, d)
 * matrix packed by fm_sgd_pack_rows, trained with dense semantics (penalty
 * none or L2 only).  Returns the number of lane batches. */
ptrdiff_t fm_sgd_perceptron_epoch_multi_f32(float *w, float *q, fm_sgd_state *st,
                                            int64_t *counts, const float *x, const int64_t *ptr,
                                            const int32_t *ind, const float *y, const float *sw,
                                            const int64_t *order, const uint8_t *skip,
                                            const fm_sgd_cfg *cfg, const int32_t *cls,
                                            ptrdiff_t k, ptrdiff_t n, ptrdiff_t d, int packed,
                                            int lanes, int n_threads);
ptrdiff_t fm_sgd_perceptron_epoch_multi_f64(double *w, double *q, fm_sgd_state *st,
                                            int64_t *counts, const double *x,
                                            const int64_t *ptr, const int32_t *ind,
                                            const double *y, const double *sw,
                                            const int64_t *order, const uint8_t *skip,
                                            const fm_sgd_cfg *cfg, const int32_t *cls,
                                            ptrdiff_t k, ptrdiff_t n, ptrdiff_t d, int packed,
                                            int lanes, int n_threads);

/* Pack a dense x (n, d) as CSR of its entries other than +0.0 (-0.0 kept):
 * with val == NULL fill ptr (n + 1) only and return the entry count; then
 * fill val and ind (that many) as well. */
ptrdiff_t fm_sgd_pack_rows_f32(float *val, int32_t *ind, int64_t *ptr, const float *x,
                               ptrdiff_t n, ptrdiff_t d);
ptrdiff_t fm_sgd_pack_rows_f64(double *val, int32_t *ind, int64_t *ptr, const double *x,
                               ptrdiff_t n, ptrdiff_t d);

#ifdef __cplusplus
}
#endif
#endif /* FASTMLP_H */
