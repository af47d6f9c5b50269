# Declarations of csrc/fastmlp.h, mirrored line for line.
from libc.stdint cimport int64_t, int32_t, uint64_t
from libc.stdint cimport uint32_t, uint8_t

cdef extern from "fastmlp.h" nogil:
    enum:
        FM_ACT_IDENTITY, FM_ACT_STEP, FM_ACT_SIGMOID, FM_ACT_TANH, FM_ACT_RELU
        FM_ACT_LEAKY_RELU, FM_ACT_SOFTMAX
        FM_ACT_GELU, FM_ACT_GELU_TANH, FM_ACT_SILU, FM_ACT_ELU, FM_ACT_SELU, FM_ACT_SOFTPLUS
    int fm_act_needs_z(int act)
    enum:
        FM_LOSS_MSE, FM_LOSS_MAE, FM_LOSS_BCE, FM_LOSS_CCE
        FM_LOSS_POISSON, FM_LOSS_HUBER, FM_LOSS_QUANTILE
    enum:
        FM_OPT_SGD, FM_OPT_ADAGRAD, FM_OPT_RMSPROP, FM_OPT_ADAM, FM_OPT_ADAMW
    enum:
        FM_EPI_NONE, FM_EPI_BIAS_ACT, FM_EPI_DACT
    enum:
        FM_TRAIN_ALIGN

    ctypedef struct fm_epilogue:
        int kind
        int act
        double slope
        const void *bias
        const void *z
        Py_ssize_t rsz

    void fm_init()
    int fm_openmp_enabled()
    int fm_max_threads()
    void fm_team_last_stats(long long out[4])
    long fm_team_spin_us()
    const char *fm_simd_target()
    const char *fm_available_targets()
    int fm_set_target(const char *name)

    void fm_gemm_f32(float *c, Py_ssize_t rsc, const float *a, Py_ssize_t rsa, Py_ssize_t csa,
                     const float *b, Py_ssize_t rsb, Py_ssize_t csb, Py_ssize_t m, Py_ssize_t n,
                     Py_ssize_t k, float alpha, float beta, const fm_epilogue *epi, int n_threads)
    void fm_gemm_f64(double *c, Py_ssize_t rsc, const double *a, Py_ssize_t rsa, Py_ssize_t csa,
                     const double *b, Py_ssize_t rsb, Py_ssize_t csb, Py_ssize_t m, Py_ssize_t n,
                     Py_ssize_t k, double alpha, double beta, const fm_epilogue *epi, int n_threads)
    void fm_gemm_ref_f32(float *c, Py_ssize_t rsc, const float *a, Py_ssize_t rsa, Py_ssize_t csa,
                         const float *b, Py_ssize_t rsb, Py_ssize_t csb, Py_ssize_t m, Py_ssize_t n,
                         Py_ssize_t k, float alpha, float beta, const fm_epilogue *epi, int n_threads)
    void fm_gemm_ref_f64(double *c, Py_ssize_t rsc, const double *a, Py_ssize_t rsa, Py_ssize_t csa,
                         const double *b, Py_ssize_t rsb, Py_ssize_t csb, Py_ssize_t m, Py_ssize_t n,
                         Py_ssize_t k, double alpha, double beta, const fm_epilogue *epi, int n_threads)

    void fm_gemm_bf16(float *c, Py_ssize_t rsc, const float *a, Py_ssize_t rsa, Py_ssize_t csa,
                      const float *b, Py_ssize_t rsb, Py_ssize_t csb, Py_ssize_t m, Py_ssize_t n,
                      Py_ssize_t k, float beta, const fm_epilogue *epi, int n_threads)
    void fm_gemm_bf16_ref(float *c, Py_ssize_t rsc, const float *a, Py_ssize_t rsa,
                          Py_ssize_t csa, const float *b, Py_ssize_t rsb, Py_ssize_t csb,
                          Py_ssize_t m, Py_ssize_t n, Py_ssize_t k, float beta,
                          const fm_epilogue *epi, int n_threads)
    void fm_bf16_round(float *out, const float *x, Py_ssize_t n)
    int fm_bf16_dp(int use)
    void fm_linear_forward_bf16(float *out, const float *x, const float *w, const float *b, int act,
                                double slope, Py_ssize_t N, Py_ssize_t IN, Py_ssize_t OUT,
                                int n_threads)
    void fm_linear_backward_bf16(float *dx, float *dw, float *db, const float *dz, const float *x,
                                 const float *w, int act_in, double slope_in, Py_ssize_t N,
                                 Py_ssize_t IN, Py_ssize_t OUT, int acc, int n_threads)
    double fm_peak_bf16(double *sums, Py_ssize_t reps, int n_threads)

    void fm_linear_forward_f32(float *out, const float *x, const float *w, const float *b, int act,
                               double slope, Py_ssize_t N, Py_ssize_t IN, Py_ssize_t OUT, int n_threads)
    void fm_linear_forward_f64(double *out, const double *x, const double *w, const double *b, int act,
                               double slope, Py_ssize_t N, Py_ssize_t IN, Py_ssize_t OUT, int n_threads)
    void fm_linear_backward_f32(float *dx, float *dw, float *db, const float *dz, const float *x,
                                const float *w, int act_in, double slope_in, Py_ssize_t N,
                                Py_ssize_t IN, Py_ssize_t OUT, int n_threads)
    void fm_linear_backward_f64(double *dx, double *dw, double *db, const double *dz, const double *x,
                                const double *w, int act_in, double slope_in, Py_ssize_t N,
                                Py_ssize_t IN, Py_ssize_t OUT, int n_threads)

    void fm_act_forward_f32(float *a, Py_ssize_t n, Py_ssize_t k, int act, double slope)
    void fm_act_forward_f64(double *a, Py_ssize_t n, Py_ssize_t k, int act, double slope)
    void fm_act_backward_f32(float *dz, const float *da, const float *a, Py_ssize_t n, int act, double slope)
    void fm_act_backward_f64(double *dz, const double *da, const double *a, Py_ssize_t n, int act, double slope)
    void fm_act_layer_forward_f32(float *a, const float *z, Py_ssize_t n, int act, double slope,
                                  int n_threads)
    void fm_act_layer_forward_f64(double *a, const double *z, Py_ssize_t n, int act, double slope,
                                  int n_threads)
    void fm_act_layer_backward_f32(float *dz, const float *da, const float *z, const float *a,
                                   Py_ssize_t n, int act, double slope, int n_threads)
    void fm_act_layer_backward_f64(double *dz, const double *da, const double *z, const double *a,
                                   Py_ssize_t n, int act, double slope, int n_threads)

    enum:
        FM_NORM_NONE, FM_NORM_BATCH, FM_NORM_LAYER
    void fm_batchnorm_forward_f32(float *y, float *mean, float *rstd, float *run_mean,
                                  float *run_var, const float *x, const float *gamma,
                                  const float *beta, double eps, double momentum, int act,
                                  double slope, Py_ssize_t N, Py_ssize_t C, int n_threads)
    void fm_batchnorm_forward_f64(double *y, double *mean, double *rstd, double *run_mean,
                                  double *run_var, const double *x, const double *gamma,
                                  const double *beta, double eps, double momentum, int act,
                                  double slope, Py_ssize_t N, Py_ssize_t C, int n_threads)
    void fm_batchnorm_infer_f32(float *y, const float *x, const float *gamma, const float *beta,
                                const float *run_mean, const float *run_var, double eps, int act,
                                double slope, Py_ssize_t N, Py_ssize_t C, int n_threads)
    void fm_batchnorm_infer_f64(double *y, const double *x, const double *gamma,
                                const double *beta, const double *run_mean, const double *run_var,
                                double eps, int act, double slope, Py_ssize_t N, Py_ssize_t C,
                                int n_threads)
    void fm_batchnorm_backward_f32(float *dx, float *dgamma, float *dbeta, const float *dy,
                                   const float *y, const float *x, const float *mean,
                                   const float *rstd, const float *gamma, int act, double slope,
                                   Py_ssize_t N, Py_ssize_t C, int acc, int n_threads)
    void fm_batchnorm_backward_f64(double *dx, double *dgamma, double *dbeta, const double *dy,
                                   const double *y, const double *x, const double *mean,
                                   const double *rstd, const double *gamma, int act, double slope,
                                   Py_ssize_t N, Py_ssize_t C, int acc, int n_threads)
    void fm_layernorm_forward_f32(float *y, float *mean, float *rstd, const float *x,
                                  const float *gamma, const float *beta, double eps, int act,
                                  double slope, Py_ssize_t N, Py_ssize_t C, int n_threads)
    void fm_layernorm_forward_f64(double *y, double *mean, double *rstd, const double *x,
                                  const double *gamma, const double *beta, double eps, int act,
                                  double slope, Py_ssize_t N, Py_ssize_t C, int n_threads)
    void fm_layernorm_backward_f32(float *dx, float *dgamma, float *dbeta, const float *dy,
                                   const float *y, const float *x, const float *mean,
                                   const float *rstd, const float *gamma, int act, double slope,
                                   Py_ssize_t N, Py_ssize_t C, int acc, int n_threads)
    void fm_layernorm_backward_f64(double *dx, double *dgamma, double *dbeta, const double *dy,
                                   const double *y, const double *x, const double *mean,
                                   const double *rstd, const double *gamma, int act, double slope,
                                   Py_ssize_t N, Py_ssize_t C, int acc, int n_threads)

    double fm_loss_f32(float *dz, float *p, const float *z, const float *y, const float *sw, int loss,
                       int out_act, double slope, Py_ssize_t N, Py_ssize_t K, double scale)
    double fm_loss_f64(double *dz, double *p, const double *z, const double *y, const double *sw, int loss,
                       int out_act, double slope, Py_ssize_t N, Py_ssize_t K, double scale)

    ctypedef struct fm_loss_par:
        double delta
        const double *quantiles

    double fm_loss_p_f32(float *dz, float *p, const float *z, const float *y, const float *sw,
                         int loss, int out_act, double slope, const fm_loss_par *par, Py_ssize_t N,
                         Py_ssize_t K, double scale)
    double fm_loss_p_f64(double *dz, double *p, const double *z, const double *y, const double *sw,
                         int loss, int out_act, double slope, const fm_loss_par *par, Py_ssize_t N,
                         Py_ssize_t K, double scale)

    double fm_clip_grad_norm_f32(float *g, Py_ssize_t n, double max_norm)
    double fm_clip_grad_norm_f64(double *g, Py_ssize_t n, double max_norm)
    void fm_clip_grad_value_f32(float *g, Py_ssize_t n, double v)
    void fm_clip_grad_value_f64(double *g, Py_ssize_t n, double v)

    ctypedef struct fm_optim:
        int kind
        double lr
        double momentum
        double dampening
        int nesterov
        double alpha
        double beta1
        double beta2
        double eps
        double weight_decay
        double l1
        int decay_bias
        int sklearn
        int64_t step
        int centered
        int amsgrad
        void *s3

    void fm_optim_update_f32(float *w, float *s1, float *s2, const float *g, const fm_optim *opt,
                             Py_ssize_t n, Py_ssize_t n_decay, int n_threads)
    void fm_optim_update_f64(double *w, double *s1, double *s2, const double *g, const fm_optim *opt,
                             Py_ssize_t n, Py_ssize_t n_decay, int n_threads)

    ctypedef struct fm_net:
        int n_layers
        const int64_t *sizes
        const int32_t *acts
        const double *slopes
        const int32_t *norms
        void *norm_state
        double norm_eps
        double norm_momentum

    ctypedef struct fm_train_cfg:
        int loss
        double loss_mult
        int loss_per_output
        double l2
        int l2_batch_scaled
        int metric
        double l1
        const double *dropout
        double input_noise
        uint64_t seed
        const double *lr_steps
        const double *mom_steps
        int check_finite
        int plain
        int64_t *path_steps
        fm_loss_par lpar
        double clip_norm
        double clip_value
        int compute
        int act_layers

    enum:
        FM_N_PATHS
    enum:
        FM_COMPUTE_NATIVE, FM_COMPUTE_BF16

    ctypedef struct fm_thresholds:
        int train_align
        int lowrank_max_terms
        Py_ssize_t lowrank_min_bytes
        Py_ssize_t lowrank_min_first
        int rank1_max_rows
        Py_ssize_t rank1_min_bytes
        int sparse_fwd_max_rows
        Py_ssize_t sparse_fwd_min_bytes
        double sparse_fwd_max_fill
        Py_ssize_t team_min_work

    void fm_fast_thresholds(fm_thresholds *t)

    Py_ssize_t fm_workspace_size(const fm_net *net, Py_ssize_t batch)
    Py_ssize_t fm_n_params(const fm_net *net)

    Py_ssize_t fm_train_f32(float *params, float *grad, float *s1, float *s2, float *work,
                            double *stats, fm_optim *opt, const fm_net *net, const fm_train_cfg *cfg,
                            const float *x, const float *y, const float *sw, const int64_t *order,
                            Py_ssize_t n_total, Py_ssize_t start, Py_ssize_t n_batches,
                            Py_ssize_t batch, int n_threads)
    Py_ssize_t fm_train_f64(double *params, double *grad, double *s1, double *s2, double *work,
                            double *stats, fm_optim *opt, const fm_net *net, const fm_train_cfg *cfg,
                            const double *x, const double *y, const double *sw, const int64_t *order,
                            Py_ssize_t n_total, Py_ssize_t start, Py_ssize_t n_batches,
                            Py_ssize_t batch, int n_threads)

    int fm_all_finite_f32(const float *x, Py_ssize_t n)
    int fm_all_finite_f64(const double *x, Py_ssize_t n)

    void fm_forward_net_f32(float *out, float *work, const float *params, const fm_net *net,
                            const float *x, Py_ssize_t n, Py_ssize_t batch, int n_threads)
    void fm_forward_net_f64(double *out, double *work, const double *params, const fm_net *net,
                            const double *x, Py_ssize_t n, Py_ssize_t batch, int n_threads)

    double fm_loss_grad_f32(float *grad, float *work, const float *params, const fm_net *net,
                            const fm_train_cfg *cfg, const float *x, const float *y, const float *sw,
                            Py_ssize_t n, Py_ssize_t batch, int n_threads)
    double fm_loss_grad_f64(double *grad, double *work, const double *params, const fm_net *net,
                            const fm_train_cfg *cfg, const double *x, const double *y, const double *sw,
                            Py_ssize_t n, Py_ssize_t batch, int n_threads)

    ctypedef struct fm_csr:
        const void *data
        const void *indices
        const void *indptr
        int index64
        Py_ssize_t n_rows
        Py_ssize_t n_cols

    void fm_csr_linear_forward_f32(float *out, const fm_csr *x, const int64_t *sel, Py_ssize_t lo,
                                   const float *w, const float *b, int act, double slope,
                                   Py_ssize_t N, Py_ssize_t OUT, int n_threads)
    void fm_csr_linear_forward_f64(double *out, const fm_csr *x, const int64_t *sel, Py_ssize_t lo,
                                   const double *w, const double *b, int act, double slope,
                                   Py_ssize_t N, Py_ssize_t OUT, int n_threads)
    void fm_csr_linear_backward_f32(float *dw, float *db, const float *dz, const fm_csr *x,
                                    const int64_t *sel, Py_ssize_t lo, Py_ssize_t N, Py_ssize_t OUT,
                                    int acc, int n_threads)
    void fm_csr_linear_backward_f64(double *dw, double *db, const double *dz, const fm_csr *x,
                                    const int64_t *sel, Py_ssize_t lo, Py_ssize_t N, Py_ssize_t OUT,
                                    int acc, int n_threads)
    int fm_csr_rows_finite_f32(const fm_csr *x, const int64_t *sel, Py_ssize_t lo, Py_ssize_t N)
    int fm_csr_rows_finite_f64(const fm_csr *x, const int64_t *sel, Py_ssize_t lo, Py_ssize_t N)
    Py_ssize_t fm_train_csr_f32(float *params, float *grad, float *s1, float *s2, float *work,
                                double *stats, fm_optim *opt, const fm_net *net,
                                const fm_train_cfg *cfg, const fm_csr *x, const float *y,
                                const float *sw, const int64_t *order, Py_ssize_t n_total,
                                Py_ssize_t start, Py_ssize_t n_batches, Py_ssize_t batch,
                                int n_threads)
    Py_ssize_t fm_train_csr_f64(double *params, double *grad, double *s1, double *s2, double *work,
                                double *stats, fm_optim *opt, const fm_net *net,
                                const fm_train_cfg *cfg, const fm_csr *x, const double *y,
                                const double *sw, const int64_t *order, Py_ssize_t n_total,
                                Py_ssize_t start, Py_ssize_t n_batches, Py_ssize_t batch,
                                int n_threads)
    void fm_forward_net_csr_f32(float *out, float *work, const float *params, const fm_net *net,
                                const fm_csr *x, Py_ssize_t n, Py_ssize_t batch, int n_threads)
    void fm_forward_net_csr_f64(double *out, double *work, const double *params, const fm_net *net,
                                const fm_csr *x, Py_ssize_t n, Py_ssize_t batch, int n_threads)
    double fm_loss_grad_csr_f32(float *grad, float *work, const float *params, const fm_net *net,
                                const fm_train_cfg *cfg, const fm_csr *x, const float *y,
                                const float *sw, Py_ssize_t n, Py_ssize_t batch, int n_threads)
    double fm_loss_grad_csr_f64(double *grad, double *work, const double *params, const fm_net *net,
                                const fm_train_cfg *cfg, const fm_csr *x, const double *y,
                                const double *sw, Py_ssize_t n, Py_ssize_t batch, int n_threads)

    void fm_rng_uniform(double *out, uint64_t seed, uint64_t step, uint64_t stream, Py_ssize_t n)
    void fm_rng_normal(double *out, uint64_t seed, uint64_t step, uint64_t stream, Py_ssize_t n,
                       int n_threads)
    void fm_dropout_forward_f32(float *out, const float *h, double p, uint64_t seed, uint64_t step,
                                uint64_t stream, Py_ssize_t n, int n_threads)
    void fm_dropout_forward_f64(double *out, const double *h, double p, uint64_t seed, uint64_t step,
                                uint64_t stream, Py_ssize_t n, int n_threads)
    void fm_dropout_backward_f32(float *d, double p, uint64_t seed, uint64_t step, uint64_t stream,
                                 Py_ssize_t n, int n_threads)
    void fm_dropout_backward_f64(double *d, double p, uint64_t seed, uint64_t step, uint64_t stream,
                                 Py_ssize_t n, int n_threads)
    void fm_gaussian_noise_f32(float *x, double sigma, uint64_t seed, uint64_t step, uint64_t stream,
                               Py_ssize_t n, int n_threads)
    void fm_gaussian_noise_f64(double *x, double sigma, uint64_t seed, uint64_t step, uint64_t stream,
                               Py_ssize_t n, int n_threads)

    Py_ssize_t fm_perceptron_epoch_f32(float *w, float *b, const float *x, const float *y,
                                       const int64_t *order, Py_ssize_t n, Py_ssize_t d, double eta)
    Py_ssize_t fm_perceptron_epoch_f64(double *w, double *b, const double *x, const double *y,
                                       const int64_t *order, Py_ssize_t n, Py_ssize_t d, double eta)

    const char *fm_peak_isas()
    double fm_peak_f32(double *sums, const char *isa, double mul, double add, Py_ssize_t reps,
                       int n_threads)
    double fm_peak_f64(double *sums, const char *isa, double mul, double add, Py_ssize_t reps,
                       int n_threads)


    enum:
        FM_PENALTY_NONE, FM_PENALTY_L1, FM_PENALTY_L2, FM_PENALTY_ELASTICNET

    ctypedef struct fm_sgd_cfg:
        int penalty
        double alpha
        double l1_ratio
        double eta
        int fit_intercept
        double intercept_decay
        double weight_pos
        double weight_neg
        int compute_loss

    ctypedef struct fm_sgd_state:
        double intercept
        double wscale
        double sq_norm
        double l1_norm
        double u
        double sumloss
        double objective

    void fm_sgd_shuffle(int64_t *ind, Py_ssize_t n, uint32_t seed)
    Py_ssize_t fm_sgd_perceptron_epoch_f32(float *w, float *q, fm_sgd_state *st, const float *x,
                                           const int64_t *ptr, const int32_t *ind, const float *y,
                                           const float *sw, const int64_t *order,
                                           const uint8_t *skip, const fm_sgd_cfg *cfg,
                                           Py_ssize_t n, Py_ssize_t d)
    Py_ssize_t fm_sgd_perceptron_epoch_f64(double *w, double *q, fm_sgd_state *st, const double *x,
                                           const int64_t *ptr, const int32_t *ind, const double *y,
                                           const double *sw, const int64_t *order,
                                           const uint8_t *skip, const fm_sgd_cfg *cfg,
                                           Py_ssize_t n, Py_ssize_t d)
    Py_ssize_t fm_sgd_perceptron_epoch_multi_f32(float *w, float *q, fm_sgd_state *st,
                                                 int64_t *counts, const float *x,
                                                 const int64_t *ptr, const int32_t *ind,
                                                 const float *y, const float *sw,
                                                 const int64_t *order, const uint8_t *skip,
                                                 const fm_sgd_cfg *cfg, const int32_t *cls,
                                                 Py_ssize_t k, Py_ssize_t n, Py_ssize_t d,
                                                 int packed, int lanes, int n_threads)
    Py_ssize_t fm_sgd_perceptron_epoch_multi_f64(double *w, double *q, fm_sgd_state *st,
                                                 int64_t *counts, const double *x,
                                                 const int64_t *ptr, const int32_t *ind,
                                                 const double *y, const double *sw,
                                                 const int64_t *order, const uint8_t *skip,
                                                 const fm_sgd_cfg *cfg, const int32_t *cls,
                                                 Py_ssize_t k, Py_ssize_t n, Py_ssize_t d,
                                                 int packed, int lanes, int n_threads)
    Py_ssize_t fm_sgd_pack_rows_f32(float *val, int32_t *ind, int64_t *ptr, const float *x,
                                    Py_ssize_t n, Py_ssize_t d)
    Py_ssize_t fm_sgd_pack_rows_f64(double *val, int32_t *ind, int64_t *ptr, const double *x,
                                    Py_ssize_t n, Py_ssize_t d)


cdef extern from "train/fast/sparse_fwd.h" nogil:
    void fm_sparse_fwd_f32(float *c, const float *x, const float *w, float beta, Py_ssize_t rows,
                           Py_ssize_t IN, Py_ssize_t OUT, int n_threads)
    void fm_sparse_fwd_f64(double *c, const double *x, const double *w, double beta,
                           Py_ssize_t rows, Py_ssize_t IN, Py_ssize_t OUT, int n_threads)
