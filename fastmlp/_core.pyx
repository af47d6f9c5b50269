# cython: language_level=3
"""Thin Cython glue over csrc/: validate shapes, convert, release the GIL, call C.

Every wrapper takes preallocated NumPy outputs (C-contiguous, one dtype per
call through the fused type ``floating``) and returns nothing but scalars.
No training logic and no parameter rules live here (see fastmlp/_validation.py
and the model classes).
"""
from cython cimport floating
from libc.stdint cimport int64_t, int32_t, uint64_t
from libc.stdint cimport uint32_t, uint8_t
from libc.stdlib cimport free, malloc
import os as _os

from fastmlp._core cimport *

fm_init()

ACT_IDENTITY = FM_ACT_IDENTITY
TRAIN_ALIGN = FM_TRAIN_ALIGN  # fm_train: calls ending on such steps give split-independent results
ACT_STEP = FM_ACT_STEP
ACT_SIGMOID = FM_ACT_SIGMOID
ACT_TANH = FM_ACT_TANH
ACT_RELU = FM_ACT_RELU
ACT_LEAKY_RELU = FM_ACT_LEAKY_RELU
ACT_SOFTMAX = FM_ACT_SOFTMAX
ACT_GELU = FM_ACT_GELU
ACT_GELU_TANH = FM_ACT_GELU_TANH
ACT_SILU = FM_ACT_SILU
ACT_ELU = FM_ACT_ELU
ACT_SELU = FM_ACT_SELU
ACT_SOFTPLUS = FM_ACT_SOFTPLUS
LOSS_MSE = FM_LOSS_MSE
LOSS_MAE = FM_LOSS_MAE
LOSS_BCE = FM_LOSS_BCE
LOSS_CCE = FM_LOSS_CCE
LOSS_POISSON = FM_LOSS_POISSON
LOSS_HUBER = FM_LOSS_HUBER
LOSS_QUANTILE = FM_LOSS_QUANTILE
OPT_SGD = FM_OPT_SGD
OPT_ADAGRAD = FM_OPT_ADAGRAD
OPT_RMSPROP = FM_OPT_RMSPROP
OPT_ADAM = FM_OPT_ADAM
OPT_ADAMW = FM_OPT_ADAMW
NORM_NONE = FM_NORM_NONE
NORM_BATCH = FM_NORM_BATCH
NORM_LAYER = FM_NORM_LAYER
#: the normalisation layers' eps and batch norm's running-statistics momentum
#: (torch.nn.BatchNorm1d's and LayerNorm's defaults)
NORM_EPS = 1e-5
NORM_MOMENTUM = 0.1
EPI_NONE = FM_EPI_NONE
EPI_BIAS_ACT = FM_EPI_BIAS_ACT
EPI_DACT = FM_EPI_DACT
PENALTY_NONE = FM_PENALTY_NONE
PENALTY_L1 = FM_PENALTY_L1
PENALTY_L2 = FM_PENALTY_L2
PENALTY_ELASTICNET = FM_PENALTY_ELASTICNET
COMPUTE_NATIVE = FM_COMPUTE_NATIVE  # cfg["compute"]: products in the params' dtype
COMPUTE_BF16 = FM_COMPUTE_BF16  # ... or bf16 operands, float32 chains (fm_gemm_bf16)


def openmp_enabled():
    """Return True when the core was compiled with OpenMP."""
    return bool(fm_openmp_enabled())


def max_threads():
    """Return OpenMP's default thread count (1 without OpenMP)."""
    return fm_max_threads()


def team_spin_us():
    """Microseconds a team's waiting thread spins before it sleeps
    (``FASTMLP_SPIN_US``, read at import); -1 on a build without teams."""
    return fm_team_spin_us()


def team_last_stats():
    """Counters of this thread's last team of threads (``csrc/core/team.h``).

    Returns
    -------
    dict
        ``tasks`` run by the team, ``worker_sleeps`` and ``master_sleeps``
        (waits that ran out of spinning and slept), ``solo`` (tasks the
        calling thread ran alone because the team's workers had been late).
    """
    cdef long long out[4]
    fm_team_last_stats(out)
    return {"tasks": out[0], "worker_sleeps": out[1], "master_sleeps": out[2], "solo": out[3]}


def simd_target():
    """Return the name of the GEMM target in use (e.g. 'avx2', 'ref')."""
    return fm_simd_target().decode()


def available_targets():
    """Return the GEMM targets this CPU and build can run, best first."""
    s = fm_available_targets().decode()
    return [t for t in s.split(",") if t]


def set_target(str name):
    """Select a GEMM target by name; raise ValueError if unavailable."""
    if fm_set_target(name.encode()) != 0:
        raise ValueError(
            f"The GEMM target {name!r} is not available here; available: {available_targets()}"
        )


cdef inline void _check(bint ok, str msg) except *:
    if not ok:
        raise ValueError(msg)


def gemm(floating[:, ::1] c, const floating[:, :] a, const floating[:, :] b,
         double alpha=1.0, double beta=0.0, int epi=FM_EPI_NONE, int act=FM_ACT_IDENTITY,
         double slope=0.0, const floating[::1] bias=None, const floating[:, ::1] z=None,
         int n_threads=1, bint ref=False):
    """c = epi(alpha * a @ b + beta * c) with the dispatched (or reference) GEMM.

    ``a`` and ``b`` may be any strided 2-D views (e.g. ``x.T``): transposes
    reach C as strides.
    """
    cdef Py_ssize_t m = a.shape[0], k = a.shape[1], n = b.shape[1]
    cdef Py_ssize_t isz = sizeof(floating)
    _check(b.shape[0] == k and c.shape[0] == m and c.shape[1] == n, "gemm: shape mismatch")
    _check(m > 0 and n > 0 and k > 0, "gemm: empty operand")
    cdef fm_epilogue e
    e.kind = epi
    e.act = act
    e.slope = slope
    e.bias = NULL
    e.z = NULL
    e.rsz = 0
    if epi == FM_EPI_BIAS_ACT and bias is not None:
        _check(bias.shape[0] == n, "gemm: bias length")
        e.bias = &bias[0]
    if epi == FM_EPI_DACT:
        _check(z is not None and z.shape[0] == m and z.shape[1] == n, "gemm: z shape")
        e.z = &z[0, 0]
        e.rsz = z.shape[1]
    cdef Py_ssize_t rsa = a.strides[0] // isz, csa = a.strides[1] // isz
    cdef Py_ssize_t rsb = b.strides[0] // isz, csb = b.strides[1] // isz
    with nogil:
        if floating is float:
            if ref:
                fm_gemm_ref_f32(&c[0, 0], n, &a[0, 0], rsa, csa, &b[0, 0], rsb, csb, m, n, k,
                                <float>alpha, <float>beta, &e, n_threads)
            else:
                fm_gemm_f32(&c[0, 0], n, &a[0, 0], rsa, csa, &b[0, 0], rsb, csb, m, n, k,
                            <float>alpha, <float>beta, &e, n_threads)
        else:
            if ref:
                fm_gemm_ref_f64(&c[0, 0], n, &a[0, 0], rsa, csa, &b[0, 0], rsb, csb, m, n, k,
                                alpha, beta, &e, n_threads)
            else:
                fm_gemm_f64(&c[0, 0], n, &a[0, 0], rsa, csa, &b[0, 0], rsb, csb, m, n, k,
                            alpha, beta, &e, n_threads)


cdef fm_epilogue _epilogue(int epi, int act, double slope, Py_ssize_t m, Py_ssize_t n,
                           const void *bias, Py_ssize_t nbias, const void *z, Py_ssize_t zm,
                           Py_ssize_t zn) except *:
    cdef fm_epilogue e
    e.kind = epi
    e.act = act
    e.slope = slope
    e.bias = NULL
    e.z = NULL
    e.rsz = 0
    if epi == FM_EPI_BIAS_ACT and bias != NULL:
        _check(nbias == n, "gemm: bias length")
        e.bias = bias
    if epi == FM_EPI_DACT:
        _check(z != NULL and zm == m and zn == n, "gemm: z shape")
        e.z = z
        e.rsz = zn
    return e


def gemm_bf16(float[:, ::1] c, const float[:, :] a, const float[:, :] b, double beta=0.0,
              int epi=FM_EPI_NONE, int act=FM_ACT_IDENTITY, double slope=0.0,
              const float[::1] bias=None, const float[:, ::1] z=None, int n_threads=1,
              bint ref=False):
    """c = epi(a @ b) with bf16 operands and float32 chains (csrc/gemm/bf16.h), the
    chains starting at 0 (beta 0) or at c (beta 1); float32 only.  ``ref`` runs the
    scalar specification."""
    cdef Py_ssize_t m = a.shape[0], k = a.shape[1], n = b.shape[1]
    _check(b.shape[0] == k and c.shape[0] == m and c.shape[1] == n, "gemm_bf16: shape mismatch")
    _check(m > 0 and n > 0 and k > 0, "gemm_bf16: empty operand")
    _check(beta == 0.0 or beta == 1.0, "gemm_bf16: beta must be 0 or 1")
    cdef fm_epilogue e = _epilogue(epi, act, slope, m, n,
                                   NULL if bias is None else <const void *>&bias[0],
                                   0 if bias is None else bias.shape[0],
                                   NULL if z is None else <const void *>&z[0, 0],
                                   0 if z is None else z.shape[0], 0 if z is None else z.shape[1])
    cdef Py_ssize_t rsa = a.strides[0] // 4, csa = a.strides[1] // 4
    cdef Py_ssize_t rsb = b.strides[0] // 4, csb = b.strides[1] // 4
    with nogil:
        if ref:
            fm_gemm_bf16_ref(&c[0, 0], n, &a[0, 0], rsa, csa, &b[0, 0], rsb, csb, m, n, k,
                             <float>beta, &e, n_threads)
        else:
            fm_gemm_bf16(&c[0, 0], n, &a[0, 0], rsa, csa, &b[0, 0], rsb, csb, m, n, k,
                         <float>beta, &e, n_threads)


def bf16_round(float[::1] out, const float[::1] x):
    """out = x rounded to bf16 (nearest even, denormals to zero, NaN kept), as float32."""
    _check(out.shape[0] == x.shape[0], "bf16_round: shape mismatch")
    if x.shape[0] == 0:
        return
    with nogil:
        fm_bf16_round(&out[0], &x[0], x.shape[0])


def bf16_dp(use=None):
    """Whether the bf16 GEMM runs on vdpbf16ps (True) or its emulation; ``use`` True/False
    switches (True takes effect only on a CPU with AVX512_BF16)."""
    return bool(fm_bf16_dp(-1 if use is None else (1 if use else 0)))


def linear_forward_bf16(float[:, ::1] out, const float[:, ::1] x, const float[:, ::1] w,
                        const float[::1] b, int act, double slope=0.0, int n_threads=1):
    """out = act(x @ w + b) with the product in bf16 (fm_linear_forward_bf16)."""
    cdef Py_ssize_t N = x.shape[0], IN = x.shape[1], OUT = w.shape[1]
    _check(w.shape[0] == IN and b.shape[0] == OUT and out.shape[0] == N and out.shape[1] == OUT,
           "linear_forward_bf16: shape mismatch")
    _check(N > 0 and IN > 0 and OUT > 0, "linear_forward_bf16: empty operand")
    with nogil:
        fm_linear_forward_bf16(&out[0, 0], &x[0, 0], &w[0, 0], &b[0], act, slope, N, IN, OUT,
                               n_threads)


def linear_backward_bf16(float[:, ::1] dw, float[::1] db, float[:, ::1] dx,
                         const float[:, ::1] dz, const float[:, ::1] x, const float[:, ::1] w,
                         int act_in=FM_ACT_IDENTITY, double slope_in=0.0, bint acc=False,
                         int n_threads=1):
    """dw (+)= x.T @ dz, db (+)= dz.sum(0), dx = (dz @ w.T) * act_in'(x), products in bf16."""
    cdef Py_ssize_t N = x.shape[0], IN = x.shape[1], OUT = w.shape[1]
    _check(w.shape[0] == IN and dz.shape[0] == N and dz.shape[1] == OUT and dw.shape[0] == IN
           and dw.shape[1] == OUT and db.shape[0] == OUT, "linear_backward_bf16: shape mismatch")
    _check(dx is None or (dx.shape[0] == N and dx.shape[1] == IN), "linear_backward_bf16: dx shape")
    _check(N > 0 and IN > 0 and OUT > 0, "linear_backward_bf16: empty operand")
    cdef float *pdx = NULL if dx is None else &dx[0, 0]
    with nogil:
        fm_linear_backward_bf16(pdx, &dw[0, 0], &db[0], &dz[0, 0], &x[0, 0], &w[0, 0], act_in,
                                slope_in, N, IN, OUT, acc, n_threads)


def linear_forward(floating[:, ::1] out, const floating[:, ::1] x, const floating[:, ::1] w,
                   const floating[::1] b, int act, double slope=0.0, int n_threads=1):
    """out = act(x @ w + b)."""
    cdef Py_ssize_t N = x.shape[0], IN = x.shape[1], OUT = w.shape[1]
    _check(w.shape[0] == IN and b.shape[0] == OUT and out.shape[0] == N and out.shape[1] == OUT,
           "linear_forward: shape mismatch")
    _check(N > 0 and IN > 0 and OUT > 0, "linear_forward: empty operand")
    with nogil:
        if floating is float:
            fm_linear_forward_f32(&out[0, 0], &x[0, 0], &w[0, 0], &b[0], act, slope, N, IN, OUT,
                                  n_threads)
        else:
            fm_linear_forward_f64(&out[0, 0], &x[0, 0], &w[0, 0], &b[0], act, slope, N, IN, OUT,
                                  n_threads)


def sparse_fwd(floating[:, ::1] c, const floating[:, ::1] x, const floating[:, ::1] w,
               double beta=0.0, int n_threads=1):
    """c = beta * c + x @ w over the rows of w whose column of x is nonzero (1-2 rows of x;
    fm_train's small-batch forward, csrc/train/fast/sparse_fwd_impl.h)."""
    cdef Py_ssize_t N = x.shape[0], IN = x.shape[1], OUT = w.shape[1]
    _check(w.shape[0] == IN and c.shape[0] == N and c.shape[1] == OUT,
           "sparse_fwd: shape mismatch")
    _check(1 <= N <= 2 and IN > 0 and OUT > 0, "sparse_fwd: x must have 1 or 2 rows")
    with nogil:
        if floating is float:
            fm_sparse_fwd_f32(&c[0, 0], &x[0, 0], &w[0, 0], <float>beta, N, IN, OUT, n_threads)
        else:
            fm_sparse_fwd_f64(&c[0, 0], &x[0, 0], &w[0, 0], beta, N, IN, OUT, n_threads)


def linear_backward(floating[:, ::1] dw, floating[::1] db, floating[:, ::1] dx,
                    const floating[:, ::1] dz, const floating[:, ::1] x, const floating[:, ::1] w,
                    int act_in=FM_ACT_IDENTITY, double slope_in=0.0, int n_threads=1):
    """dw = x.T @ dz, db = dz.sum(0), dx = (dz @ w.T) * act_in'(x) (dx may be None)."""
    cdef Py_ssize_t N = x.shape[0], IN = x.shape[1], OUT = w.shape[1]
    _check(w.shape[0] == IN and dz.shape[0] == N and dz.shape[1] == OUT and dw.shape[0] == IN
           and dw.shape[1] == OUT and db.shape[0] == OUT, "linear_backward: shape mismatch")
    _check(dx is None or (dx.shape[0] == N and dx.shape[1] == IN), "linear_backward: dx shape")
    _check(N > 0 and IN > 0 and OUT > 0, "linear_backward: empty operand")
    _check(not fm_act_needs_z(act_in), "linear_backward: act_in must be output-based")
    cdef floating *pdx = NULL if dx is None else &dx[0, 0]
    with nogil:
        if floating is float:
            fm_linear_backward_f32(pdx, &dw[0, 0], &db[0], &dz[0, 0], &x[0, 0], &w[0, 0], act_in,
                                   slope_in, N, IN, OUT, n_threads)
        else:
            fm_linear_backward_f64(pdx, &dw[0, 0], &db[0], &dz[0, 0], &x[0, 0], &w[0, 0], act_in,
                                   slope_in, N, IN, OUT, n_threads)


def act_forward(floating[:, ::1] a, int act, double slope=0.0):
    """a = act(a) in place (softmax row-wise)."""
    _check(a.shape[0] > 0 and a.shape[1] > 0, "act_forward: empty operand")
    with nogil:
        if floating is float:
            fm_act_forward_f32(&a[0, 0], a.shape[0], a.shape[1], act, slope)
        else:
            fm_act_forward_f64(&a[0, 0], a.shape[0], a.shape[1], act, slope)


def act_needs_z(int act):
    """Whether act's derivative is taken from the pre-activation z (fm_act_needs_z)."""
    return bool(fm_act_needs_z(act))


def act_backward(floating[::1] dz, const floating[::1] da, const floating[::1] a, int act,
                 double slope=0.0):
    """dz = da * act'(a), a being the activation output (flat arrays; output-based
    activations only, see act_layer_backward for the others)."""
    cdef Py_ssize_t n = dz.shape[0]
    _check(da.shape[0] == n and a.shape[0] == n and n > 0, "act_backward: shape mismatch")
    _check(not fm_act_needs_z(act) and act != FM_ACT_SOFTMAX,
           "act_backward: an output-based activation (see act_layer_backward)")
    with nogil:
        if floating is float:
            fm_act_backward_f32(&dz[0], &da[0], &a[0], n, act, slope)
        else:
            fm_act_backward_f64(&dz[0], &da[0], &a[0], n, act, slope)


cdef inline void _check_norm_act(int act) except *:
    _check(act != FM_ACT_SOFTMAX and 0 <= act <= FM_ACT_LEAKY_RELU,
           "norm: act must be an elementwise activation with an output-based derivative")


def batchnorm_forward(floating[:, ::1] y, floating[::1] mean, floating[::1] rstd,
                      floating[::1] run_mean, floating[::1] run_var, const floating[:, ::1] x,
                      const floating[::1] gamma, const floating[::1] beta, double eps=1e-5,
                      double momentum=0.1, int act=FM_ACT_IDENTITY, double slope=0.0,
                      int n_threads=1):
    """Batch norm in training: y = act(gamma * (x - mean) * rstd + beta) over x's rows; mean
    and rstd (C) out; run_mean/run_var (C, or both None) updated with the unbiased variance."""
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1]
    _check(N > 1 and C > 0, "batchnorm_forward: needs 2 or more rows")
    _check(y.shape[0] == N and y.shape[1] == C and mean.shape[0] == C and rstd.shape[0] == C
           and gamma.shape[0] == C and beta.shape[0] == C, "batchnorm_forward: shape mismatch")
    _check((run_mean is None) == (run_var is None), "batchnorm_forward: run_mean and run_var")
    _check(run_mean is None or (run_mean.shape[0] == C and run_var.shape[0] == C),
           "batchnorm_forward: running statistics shape")
    _check_norm_act(act)
    cdef floating *prm = NULL if run_mean is None else &run_mean[0]
    cdef floating *prv = NULL if run_var is None else &run_var[0]
    with nogil:
        if floating is float:
            fm_batchnorm_forward_f32(&y[0, 0], &mean[0], &rstd[0], prm, prv, &x[0, 0], &gamma[0],
                                     &beta[0], eps, momentum, act, slope, N, C, n_threads)
        else:
            fm_batchnorm_forward_f64(&y[0, 0], &mean[0], &rstd[0], prm, prv, &x[0, 0], &gamma[0],
                                     &beta[0], eps, momentum, act, slope, N, C, n_threads)


def batchnorm_infer(floating[:, ::1] y, const floating[:, ::1] x, const floating[::1] gamma,
                    const floating[::1] beta, const floating[::1] run_mean,
                    const floating[::1] run_var, double eps=1e-5, int act=FM_ACT_IDENTITY,
                    double slope=0.0, int n_threads=1):
    """Batch norm at inference: y = act(gamma * (x - run_mean) / sqrt(run_var + eps) + beta)."""
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1]
    _check(N > 0 and C > 0, "batchnorm_infer: empty operand")
    _check(y.shape[0] == N and y.shape[1] == C and gamma.shape[0] == C and beta.shape[0] == C
           and run_mean.shape[0] == C and run_var.shape[0] == C, "batchnorm_infer: shape mismatch")
    _check_norm_act(act)
    with nogil:
        if floating is float:
            fm_batchnorm_infer_f32(&y[0, 0], &x[0, 0], &gamma[0], &beta[0], &run_mean[0],
                                   &run_var[0], eps, act, slope, N, C, n_threads)
        else:
            fm_batchnorm_infer_f64(&y[0, 0], &x[0, 0], &gamma[0], &beta[0], &run_mean[0],
                                   &run_var[0], eps, act, slope, N, C, n_threads)


def _norm_backward(bint layer, floating[:, ::1] dx, floating[::1] dgamma, floating[::1] dbeta,
                   const floating[:, ::1] dy, const floating[:, ::1] y, const floating[:, ::1] x,
                   const floating[::1] mean, const floating[::1] rstd,
                   const floating[::1] gamma, int act, double slope, bint acc, int n_threads):
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], S = N if layer else C
    _check(N > 0 and C > 0, "norm backward: empty operand")
    _check(dx.shape[0] == N and dx.shape[1] == C and dy.shape[0] == N and dy.shape[1] == C
           and y.shape[0] == N and y.shape[1] == C
           and dgamma.shape[0] == C and dbeta.shape[0] == C and gamma.shape[0] == C
           and mean.shape[0] == S and rstd.shape[0] == S, "norm backward: shape mismatch")
    _check_norm_act(act)
    with nogil:
        if floating is float:
            if layer:
                fm_layernorm_backward_f32(&dx[0, 0], &dgamma[0], &dbeta[0], &dy[0, 0], &y[0, 0],
                                          &x[0, 0], &mean[0], &rstd[0], &gamma[0], act, slope,
                                          N, C, acc, n_threads)
            else:
                fm_batchnorm_backward_f32(&dx[0, 0], &dgamma[0], &dbeta[0], &dy[0, 0], &y[0, 0],
                                          &x[0, 0], &mean[0], &rstd[0], &gamma[0], act, slope,
                                          N, C, acc, n_threads)
        else:
            if layer:
                fm_layernorm_backward_f64(&dx[0, 0], &dgamma[0], &dbeta[0], &dy[0, 0], &y[0, 0],
                                          &x[0, 0], &mean[0], &rstd[0], &gamma[0], act, slope,
                                          N, C, acc, n_threads)
            else:
                fm_batchnorm_backward_f64(&dx[0, 0], &dgamma[0], &dbeta[0], &dy[0, 0], &y[0, 0],
                                          &x[0, 0], &mean[0], &rstd[0], &gamma[0], act, slope,
                                          N, C, acc, n_threads)


def batchnorm_backward(dx, dgamma, dbeta, dy, y, x, mean, rstd, gamma, int act=FM_ACT_IDENTITY,
                       double slope=0.0, bint acc=False, int n_threads=1):
    """dx (may be dy), dgamma, dbeta (= or += with acc) of batch norm given dy = dL/dy and the
    forward's output y (read for act'); mean, rstd (C) as the forward saved them."""
    _norm_backward(False, dx, dgamma, dbeta, dy, y, x, mean, rstd, gamma, act, slope, acc,
                   n_threads)


def layernorm_forward(floating[:, ::1] y, floating[::1] mean, floating[::1] rstd,
                      const floating[:, ::1] x, const floating[::1] gamma,
                      const floating[::1] beta, double eps=1e-5, int act=FM_ACT_IDENTITY,
                      double slope=0.0, int n_threads=1):
    """Layer norm: y = act(gamma * (x - mean) * rstd + beta) over each row; mean, rstd (N)."""
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1]
    _check(N > 0 and C > 0, "layernorm_forward: empty operand")
    _check(y.shape[0] == N and y.shape[1] == C and mean.shape[0] == N and rstd.shape[0] == N
           and gamma.shape[0] == C and beta.shape[0] == C, "layernorm_forward: shape mismatch")
    _check_norm_act(act)
    with nogil:
        if floating is float:
            fm_layernorm_forward_f32(&y[0, 0], &mean[0], &rstd[0], &x[0, 0], &gamma[0], &beta[0],
                                     eps, act, slope, N, C, n_threads)
        else:
            fm_layernorm_forward_f64(&y[0, 0], &mean[0], &rstd[0], &x[0, 0], &gamma[0], &beta[0],
                                     eps, act, slope, N, C, n_threads)


def layernorm_backward(dx, dgamma, dbeta, dy, y, x, mean, rstd, gamma, int act=FM_ACT_IDENTITY,
                       double slope=0.0, bint acc=False, int n_threads=1):
    """dx (may be dy), dgamma, dbeta (= or += with acc) of layer norm given dy and the
    forward's output y; mean, rstd (N)."""
    _norm_backward(True, dx, dgamma, dbeta, dy, y, x, mean, rstd, gamma, act, slope, acc,
                   n_threads)


def act_layer_forward(floating[::1] a, const floating[::1] z, int act, double slope=0.0,
                      int n_threads=1):
    """a = act(z), elementwise (flat arrays; the ACT layer's forward; not softmax)."""
    cdef Py_ssize_t n = a.shape[0]
    _check(z.shape[0] == n and n > 0, "act_layer_forward: shape mismatch")
    _check(act != FM_ACT_SOFTMAX, "act_layer_forward: softmax is row-wise")
    with nogil:
        if floating is float:
            fm_act_layer_forward_f32(&a[0], &z[0], n, act, slope, n_threads)
        else:
            fm_act_layer_forward_f64(&a[0], &z[0], n, act, slope, n_threads)


def act_layer_backward(floating[::1] dz, const floating[::1] da, const floating[::1] z,
                       const floating[::1] a, int act, double slope=0.0, int n_threads=1):
    """dz = da * act'(z) given z and a = act(z) (flat arrays; the ACT layer's backward)."""
    cdef Py_ssize_t n = dz.shape[0]
    _check(da.shape[0] == n and z.shape[0] == n and a.shape[0] == n and n > 0,
           "act_layer_backward: shape mismatch")
    _check(act != FM_ACT_SOFTMAX, "act_layer_backward: softmax is row-wise")
    with nogil:
        if floating is float:
            fm_act_layer_backward_f32(&dz[0], &da[0], &z[0], &a[0], n, act, slope, n_threads)
        else:
            fm_act_layer_backward_f64(&dz[0], &da[0], &z[0], &a[0], n, act, slope, n_threads)


def loss(floating[:, ::1] p, floating[:, ::1] dz, const floating[:, ::1] z,
         const floating[:, ::1] y, const floating[::1] sw, int loss, int out_act,
         double slope=0.0, double scale=1.0, double delta=1.0,
         const double[::1] quantiles=None):
    """(dz may be None; the array first fixes the fused dtype.)

    Return scale * sum_i sw_i * sum_j l(p_ij, y_ij); write p = out_act(z), dz = dL/dz.
    delta: LOSS_HUBER's; quantiles: LOSS_QUANTILE's K levels (float64), required for it."""
    cdef Py_ssize_t N = z.shape[0], K = z.shape[1]
    _check(p.shape[0] == N and p.shape[1] == K and y.shape[0] == N and y.shape[1] == K,
           "loss: shape mismatch")
    _check(dz is None or (dz.shape[0] == N and dz.shape[1] == K), "loss: dz shape")
    _check(sw is None or sw.shape[0] == N, "loss: sw shape")
    _check(N > 0 and K > 0, "loss: empty operand")
    _check(loss != FM_LOSS_QUANTILE or (quantiles is not None and quantiles.shape[0] == K),
           "loss: quantiles needs one level per output")
    cdef fm_loss_par par
    par.delta = delta
    par.quantiles = NULL if quantiles is None or quantiles.shape[0] == 0 else &quantiles[0]
    cdef floating *pdz = NULL if dz is None else &dz[0, 0]
    cdef const floating *psw = NULL if sw is None else &sw[0]
    cdef double r
    with nogil:
        if floating is float:
            r = fm_loss_p_f32(pdz, &p[0, 0], &z[0, 0], &y[0, 0], psw, loss, out_act, slope, &par,
                              N, K, scale)
        else:
            r = fm_loss_p_f64(pdz, &p[0, 0], &z[0, 0], &y[0, 0], psw, loss, out_act, slope, &par,
                              N, K, scale)
    return r


def clip_grad(floating[::1] g, double max_norm=0.0, double value=0.0):
    """Clip a flat gradient in place: by global L2 norm (max_norm > 0; returns the norm
    before clipping) or by value (value > 0), as fm_train's update does."""
    cdef Py_ssize_t n = g.shape[0]
    cdef double t = 0.0
    _check(n > 0, "clip_grad: empty operand")
    with nogil:
        if floating is float:
            if max_norm > 0:
                t = fm_clip_grad_norm_f32(&g[0], n, max_norm)
            if value > 0:
                fm_clip_grad_value_f32(&g[0], n, value)
        else:
            if max_norm > 0:
                t = fm_clip_grad_norm_f64(&g[0], n, max_norm)
            if value > 0:
                fm_clip_grad_value_f64(&g[0], n, value)
    return t


cdef fm_optim _optim(dict o) except *:
    cdef fm_optim r
    r.kind = o["kind"]
    r.lr = o["lr"]
    r.momentum = o.get("momentum", 0.0)
    r.dampening = o.get("dampening", 0.0)
    r.nesterov = o.get("nesterov", False)
    r.alpha = o.get("alpha", 0.99)
    r.beta1 = o.get("beta1", 0.9)
    r.beta2 = o.get("beta2", 0.999)
    r.eps = o.get("eps", 1e-8)
    r.weight_decay = o.get("weight_decay", 0.0)
    r.l1 = o.get("l1", 0.0)
    r.decay_bias = o.get("decay_bias", True)
    r.sklearn = o.get("sklearn", False)
    r.step = o.get("step", 0)
    r.centered = o.get("centered", False)
    r.amsgrad = o.get("amsgrad", False)
    r.s3 = NULL
    return r


def optim_update(floating[::1] w, floating[::1] s1, floating[::1] s2, const floating[::1] g,
                 dict opt, Py_ssize_t n_decay=-1, int n_threads=1, floating[::1] s3=None):
    """One optimizer update of the flat buffer w; opt['step'] must count this update.

    s3 is the third state buffer (centered RMSprop, AMSGrad), else None."""
    cdef Py_ssize_t n = w.shape[0]
    _check(g.shape[0] == n and n > 0, "optim_update: shape mismatch")
    _check(s1 is None or s1.shape[0] == n, "optim_update: s1 shape")
    _check(s2 is None or s2.shape[0] == n, "optim_update: s2 shape")
    _check(s3 is None or s3.shape[0] == n, "optim_update: s3 shape")
    cdef fm_optim o = _optim(opt)
    _check(s3 is not None or not (o.centered or o.amsgrad), "optim_update: s3 is required")
    if s3 is not None:
        o.s3 = &s3[0]
    cdef floating *p1 = NULL if s1 is None else &s1[0]
    cdef floating *p2 = NULL if s2 is None else &s2[0]
    if n_decay < 0:
        n_decay = n
    with nogil:
        if floating is float:
            fm_optim_update_f32(&w[0], p1, p2, &g[0], &o, n, n_decay, n_threads)
        else:
            fm_optim_update_f64(&w[0], p1, p2, &g[0], &o, n, n_decay, n_threads)


cdef fm_net _net(const int64_t[::1] sizes, const int32_t[::1] acts,
                 const double[::1] slopes, const int32_t[::1] norms=None) except *:
    """The fm_net of these arrays; norms (int32, one NORM_* per hidden layer) or None.
    The running statistics (norm_state) are set by the caller (_norm_state_ptr)."""
    cdef fm_net r
    cdef Py_ssize_t l
    _check(sizes.shape[0] >= 2 and sizes.shape[0] <= 65, "net: 1 to 64 layers")
    _check(acts.shape[0] == sizes.shape[0] - 1 and slopes.shape[0] == acts.shape[0],
           "net: acts/slopes length")
    r.n_layers = <int>acts.shape[0]
    r.sizes = &sizes[0]
    r.acts = &acts[0]
    r.slopes = &slopes[0]
    r.norms = NULL
    r.norm_state = NULL
    r.norm_eps = NORM_EPS
    r.norm_momentum = NORM_MOMENTUM
    if norms is not None:
        _check(norms.shape[0] == acts.shape[0] - 1, "net: norms length (one per hidden layer)")
        for l in range(norms.shape[0]):
            _check(FM_NORM_NONE <= norms[l] <= FM_NORM_LAYER, "net: unknown norm kind")
            if norms[l] != FM_NORM_NONE:
                r.norms = &norms[0]
    return r


cdef Py_ssize_t _norm_state_len(const fm_net *net):
    """Elements of the running statistics of net's batch norms (mean and var each)."""
    cdef Py_ssize_t n = 0, l
    if net.norms != NULL:
        for l in range(net.n_layers - 1):
            if net.norms[l] == FM_NORM_BATCH:
                n += 2 * net.sizes[l + 1]
    return n


def norm_state_size(const int64_t[::1] sizes, const int32_t[::1] norms):
    """Elements of the running statistics (mean, then variance, per batch norm layer)."""
    cdef Py_ssize_t n = 0, l
    _check(norms.shape[0] == sizes.shape[0] - 2, "norm_state_size: norms length")
    for l in range(norms.shape[0]):
        if norms[l] == FM_NORM_BATCH:
            n += 2 * sizes[l + 1]
    return n


cdef void *_norm_state_ptr(const fm_net *net, state, str what, int itemsize) except? NULL:
    """The running statistics' pointer for net, from a 1-D array of the call's dtype
    (``itemsize`` bytes); NULL when net has no batch norm.  Checks length and dtype."""
    cdef Py_ssize_t need = _norm_state_len(net)
    cdef float[::1] s32
    cdef double[::1] s64
    if need == 0:
        return NULL
    _check(state is not None, f"{what}: norm_state is required by batch norm layers")
    _check(state.shape[0] == need, f"{what}: norm_state length")
    _check(state.dtype.itemsize == itemsize, f"{what}: norm_state dtype")
    if itemsize == 4:
        s32 = state
        return <void *>&s32[0]
    s64 = state
    return <void *>&s64[0]


cdef fm_train_cfg _cfg(dict c, Py_ssize_t K) except *:
    """The fm_train_cfg of the dict c for a net of K outputs; a "quantiles" array in c
    (float64, K levels) must outlive the C call (c holds it)."""
    cdef fm_train_cfg r
    cdef const double[::1] q = c.get("quantiles")
    r.loss = c["loss"]
    r.loss_mult = c.get("loss_mult", 1.0)
    r.loss_per_output = c.get("loss_per_output", False)
    r.l2 = c.get("l2", 0.0)
    r.l2_batch_scaled = c.get("l2_batch_scaled", False)
    r.metric = c.get("metric", 0)
    r.l1 = c.get("l1", 0.0)
    r.dropout = NULL
    r.input_noise = c.get("input_noise", 0.0)
    r.seed = c.get("seed", 0)
    r.lr_steps = NULL
    r.mom_steps = NULL
    r.check_finite = c.get("check_finite", False)
    r.plain = 0
    r.path_steps = NULL
    r.lpar.delta = c.get("huber_delta", 1.0)
    _check(q is None or q.shape[0] == K, "cfg: quantiles needs one level per output")
    _check(r.loss != FM_LOSS_QUANTILE or q is not None, "cfg: loss quantile needs quantiles")
    r.lpar.quantiles = NULL if q is None else &q[0]
    r.clip_norm = c.get("clip_norm", 0.0)
    r.clip_value = c.get("clip_value", 0.0)
    r.compute = c.get("compute", FM_COMPUTE_NATIVE)
    r.act_layers = c.get("act_layers", False)
    return r


def workspace_size(const int64_t[::1] sizes, const int32_t[::1] acts, const double[::1] slopes,
                   Py_ssize_t batch, const int32_t[::1] norms=None):
    """Scratch elements needed for batches of up to ``batch`` rows."""
    cdef fm_net net = _net(sizes, acts, slopes, norms)
    return fm_workspace_size(&net, batch)


def n_params(const int64_t[::1] sizes, const int32_t[::1] acts, const double[::1] slopes,
             const int32_t[::1] norms=None):
    """Number of weights and biases (and norm scales and shifts)."""
    cdef fm_net net = _net(sizes, acts, slopes, norms)
    return fm_n_params(&net)


#: FASTMLP_FAST=0 in the environment at import: every training call runs the
#: plain step (no speed path) unless its "fast" field says otherwise.
FAST_DEFAULT = _os.environ.get("FASTMLP_FAST", "1").strip() != "0"
#: the speed paths of fm_train, in the order of the columns of "path_steps"
FAST_PATHS = ("defer", "ahead", "sparse", "rank1", "fused")
assert len(FAST_PATHS) == FM_N_PATHS

_TRAIN_FIELDS = frozenset((
    "params", "grad", "work", "stats", "s1", "s2", "s3", "opt", "sizes", "acts", "slopes",
    "cfg", "dropout", "x", "y", "sw", "order", "start", "n_batches", "batch", "n_threads",
    "lr_steps", "mom_steps", "fast", "path_steps", "norms", "norm_state", "x_csr"))


def fast_thresholds():
    """The thresholds fm_train's speed paths apply (csrc/train/plan.c), by name."""
    cdef fm_thresholds t
    fm_fast_thresholds(&t)
    return {"train_align": t.train_align, "lowrank_max_terms": t.lowrank_max_terms,
            "lowrank_min_bytes": t.lowrank_min_bytes, "lowrank_min_first": t.lowrank_min_first,
            "rank1_max_rows": t.rank1_max_rows, "rank1_min_bytes": t.rank1_min_bytes,
            "sparse_fwd_max_rows": t.sparse_fwd_max_rows,
            "sparse_fwd_min_bytes": t.sparse_fwd_min_bytes,
            "sparse_fwd_max_fill": t.sparse_fwd_max_fill, "team_min_work": t.team_min_work}


cdef int _csr_fill(fm_csr *c, tuple parts, bint f32) except -1:
    """Point c at CSR input ``parts = (data, indices, indptr, n_cols)``: data of the
    call's dtype, indices and indptr both int32 or both int64.  Checks the shapes and
    indptr's ends only; the index values are checked once per fit by
    fastmlp._validation.check_X (the kernels trust them)."""
    cdef const float[::1] d32
    cdef const double[::1] d64
    cdef const int32_t[::1] p32, i32
    cdef const int64_t[::1] p64, i64
    cdef Py_ssize_t nnz, n, end
    _check(len(parts) == 4, "x_csr must be (data, indices, indptr, n_cols)")
    data, indices, indptr, n_cols = parts
    _check(indices.dtype == indptr.dtype and indices.dtype.kind == "i"
           and indices.dtype.itemsize in (4, 8), "x_csr: indices and indptr must both be int32 "
           "or both int64")
    c.index64 = indices.dtype.itemsize == 8
    if f32:
        d32 = data
        nnz = d32.shape[0]
        c.data = NULL if nnz == 0 else <const void *>&d32[0]
    else:
        d64 = data
        nnz = d64.shape[0]
        c.data = NULL if nnz == 0 else <const void *>&d64[0]
    if c.index64:
        p64 = indptr
        i64 = indices
        n = p64.shape[0] - 1
        _check(n >= 0 and i64.shape[0] == nnz, "x_csr: indptr/indices/data lengths")
        end = p64[n]
        _check(p64[0] == 0, "x_csr: indptr[0] must be 0")
        c.indptr = <const void *>&p64[0]
        c.indices = NULL if nnz == 0 else <const void *>&i64[0]
    else:
        p32 = indptr
        i32 = indices
        n = p32.shape[0] - 1
        _check(n >= 0 and i32.shape[0] == nnz, "x_csr: indptr/indices/data lengths")
        end = p32[n]
        _check(p32[0] == 0, "x_csr: indptr[0] must be 0")
        c.indptr = <const void *>&p32[0]
        c.indices = NULL if nnz == 0 else <const void *>&i32[0]
    _check(0 <= end <= nnz, "x_csr: indptr[-1] beyond the stored values")
    c.n_rows = n
    c.n_cols = n_cols
    _check(c.n_cols > 0, "x_csr: n_cols must be positive")
    return 0


cdef int _check_csr_rows(const int64_t[::1] sel, Py_ssize_t lo, Py_ssize_t N, Py_ssize_t n_rows,
                         str what) except -1:
    """The kernels' rows sel[lo:lo+N] (or lo..lo+N-1) lie in [0, n_rows)."""
    cdef Py_ssize_t i
    if sel is None:
        _check(0 <= lo and lo + N <= n_rows, f"{what}: rows out of range")
        return 0
    _check(0 <= lo and lo + N <= sel.shape[0], f"{what}: sel too short")
    for i in range(N):
        _check(0 <= sel[lo + i] < n_rows, f"{what}: sel out of range")
    return 0


def csr_linear_forward(floating[:, ::1] out, tuple x_csr, const int64_t[::1] sel, Py_ssize_t lo,
                       const floating[:, ::1] w, const floating[::1] b, int act, double slope=0.0,
                       int n_threads=1):
    """out = act(X_rows . w + b) for CSR X ``x_csr = (data, indices, indptr, n_cols)``;
    row i of out is X's row sel[lo + i] (lo + i when sel is None)."""
    cdef fm_csr xs
    cdef Py_ssize_t N = out.shape[0], OUT = out.shape[1]
    _csr_fill(&xs, x_csr, floating is float)
    _check(w.shape[0] == xs.n_cols and w.shape[1] == OUT and b.shape[0] == OUT,
           "csr_linear_forward: shape mismatch")
    _check(N > 0 and OUT > 0, "csr_linear_forward: empty output")
    _check_csr_rows(sel, lo, N, xs.n_rows, "csr_linear_forward")
    cdef const int64_t *psel = NULL if sel is None else &sel[0]
    with nogil:
        if floating is float:
            fm_csr_linear_forward_f32(&out[0, 0], &xs, psel, lo, &w[0, 0], &b[0], act, slope, N,
                                      OUT, n_threads)
        else:
            fm_csr_linear_forward_f64(&out[0, 0], &xs, psel, lo, &w[0, 0], &b[0], act, slope, N,
                                      OUT, n_threads)


def csr_linear_backward(floating[:, ::1] dw, floating[::1] db, const floating[:, ::1] dz,
                        tuple x_csr, const int64_t[::1] sel, Py_ssize_t lo, bint acc=False,
                        int n_threads=1):
    """dw (=, or += with acc) X_rows^T . dz, db (=/+=) sum_rows(dz) for CSR X (see
    csr_linear_forward for the rows)."""
    cdef fm_csr xs
    cdef Py_ssize_t N = dz.shape[0], OUT = dz.shape[1]
    _csr_fill(&xs, x_csr, floating is float)
    _check(dw.shape[0] == xs.n_cols and dw.shape[1] == OUT and db.shape[0] == OUT,
           "csr_linear_backward: shape mismatch")
    _check(N > 0 and OUT > 0, "csr_linear_backward: empty dz")
    _check_csr_rows(sel, lo, N, xs.n_rows, "csr_linear_backward")
    cdef const int64_t *psel = NULL if sel is None else &sel[0]
    with nogil:
        if floating is float:
            fm_csr_linear_backward_f32(&dw[0, 0], &db[0], &dz[0, 0], &xs, psel, lo, N, OUT, acc,
                                       n_threads)
        else:
            fm_csr_linear_backward_f64(&dw[0, 0], &db[0], &dz[0, 0], &xs, psel, lo, N, OUT, acc,
                                       n_threads)


cdef Py_ssize_t _train_typed(floating[::1] params, dict call, fm_net *net, fm_train_cfg *c,
                             fm_optim *o) except? -1:
    cdef floating[::1] grad = call["grad"]
    cdef floating[::1] work = call["work"]
    cdef floating[::1] s1 = call.get("s1")
    cdef floating[::1] s2 = call.get("s2")
    cdef floating[::1] s3 = call.get("s3")
    cdef const floating[:, ::1] x
    cdef const floating[:, ::1] y = call["y"]
    cdef const floating[::1] sw = call.get("sw")
    cdef const int64_t[::1] order = call.get("order")
    cdef double[::1] stats = call["stats"]
    cdef Py_ssize_t n, n_cols, np_ = params.shape[0], done
    cdef Py_ssize_t start = call["start"], n_batches = call["n_batches"], batch = call["batch"]
    cdef int n_threads = call.get("n_threads", 1)
    cdef fm_csr xs
    x_csr = call.get("x_csr")
    if x_csr is None:
        x = call["x"]
        n, n_cols = x.shape[0], x.shape[1]
    else:  # CSR input rows (fm_train_csr): no dense x, no input noise
        _check(call.get("x") is None, "train: give x or x_csr, not both")
        _csr_fill(&xs, x_csr, floating is float)
        n, n_cols = xs.n_rows, xs.n_cols
        _check(c.input_noise == 0, "train: input noise needs dense x")
    _check(n > 0 and batch > 0, "train: empty data or batch")
    _check(n_cols == net.sizes[0] and y.shape[0] == n
           and y.shape[1] == net.sizes[net.n_layers], "train: x/y shape")
    _check(np_ == fm_n_params(net) and grad.shape[0] == np_, "train: params/grad length")
    _check(work.shape[0] >= fm_workspace_size(net, batch), "train: workspace too small")
    _check(stats.shape[0] >= 4, "train: stats length")
    _check(c.metric != 3 or stats.shape[0] >= 6 + net.sizes[net.n_layers],
           "train: stats length (metric 3 needs 6 + n_outputs)")
    _check(sw is None or sw.shape[0] == n, "train: sw length")
    _check(order is None or order.shape[0] == n, "train: order length")
    _check(s1 is None or s1.shape[0] == np_, "train: s1 length")
    _check(s2 is None or s2.shape[0] == np_, "train: s2 length")
    _check(s3 is None or s3.shape[0] == np_, "train: s3 length")
    _check(s3 is not None or not (o.centered or o.amsgrad), "train: s3 is required")
    if _norm_state_len(net) > 0:  # batch norm: every batch of 2 or more rows (torch's rule)
        _check(batch >= 2 and not (start + n_batches * batch >= n and (n - start) % batch == 1),
               "train: batch norm needs batches of 2 or more rows")
    net.norm_state = _norm_state_ptr(net, call.get("norm_state"), "train", sizeof(floating))
    if s3 is not None:
        o.s3 = &s3[0]
    cdef floating *p1 = NULL if s1 is None else &s1[0]
    cdef floating *p2 = NULL if s2 is None else &s2[0]
    cdef const floating *psw = NULL if sw is None else &sw[0]
    cdef const int64_t *pord = NULL if order is None else &order[0]
    if x_csr is not None:
        with nogil:
            if floating is float:
                done = fm_train_csr_f32(&params[0], &grad[0], p1, p2, &work[0], &stats[0], o, net,
                                        c, &xs, &y[0, 0], psw, pord, n, start, n_batches, batch,
                                        n_threads)
            else:
                done = fm_train_csr_f64(&params[0], &grad[0], p1, p2, &work[0], &stats[0], o, net,
                                        c, &xs, &y[0, 0], psw, pord, n, start, n_batches, batch,
                                        n_threads)
        return done
    with nogil:
        if floating is float:
            done = fm_train_f32(&params[0], &grad[0], p1, p2, &work[0], &stats[0], o, net, c,
                                &x[0, 0], &y[0, 0], psw, pord, n, start, n_batches, batch,
                                n_threads)
        else:
            done = fm_train_f64(&params[0], &grad[0], p1, p2, &work[0], &stats[0], o, net, c,
                                &x[0, 0], &y[0, 0], psw, pord, n, start, n_batches, batch,
                                n_threads)
    return done


def train(dict call):
    """Run up to ``call["n_batches"]`` mini-batches in C; return (batches done, optimizer step).

    ``call`` names every input of fm_train (csrc/fastmlp.h); fields marked
    optional may be left out:

    ==============  ==========================================================
    params, grad    flat parameters and gradient scratch (float32 or float64)
    work            scratch of ``workspace_size(sizes, acts, slopes, batch)``
    stats           float64 sums, accumulated (+=): see fm_train
    s1, s2, s3      optimizer state buffers, or None (optional)
    opt             optimizer dict (see ``optim_update``); its "step" is
                    updated before the call returns
    sizes, acts,    the network (int64, int32, float64 arrays)
    slopes
    cfg             training settings dict (loss, metric, l2, ... check_finite)
    dropout         float64 rates of the L-1 hidden outputs, or None (optional)
    x, y, sw,       data (n, sizes[0]), (n, sizes[-1]), sample weights (n) or
    order           None, row order (int64, n) or None
    x_csr           CSR input instead of x (x None or absent): (data, indices,
                    indptr, n_cols) as scipy.sparse stores it (optional; see
                    fm_train_csr: the plain step, layer 0 over the rows in place)
    start,          first position in ``order`` and the number of batches of
    n_batches,      ``batch`` rows; n_threads (optional, default 1)
    batch
    lr_steps,       per-batch learning rates / momenta (float64, n_batches) or
    mom_steps       None (optional)
    fast            False: the plain step, no speed path; None or absent:
                    ``FAST_DEFAULT`` (FASTMLP_FAST at import)
    path_steps      int64 (L, len(FAST_PATHS)) or None: += the steps on which
                    each weight layer took each speed path (optional)
    ==============  ==========================================================

    With ``cfg["check_finite"]``, a batch with a non-finite input ends the call
    before it changes anything, and batches done is then -(b + 1), b the
    batches done before it (see fm_train)."""
    cdef dict opt = call["opt"]
    cdef const int64_t[::1] sizes = call["sizes"]
    cdef const int32_t[::1] acts = call["acts"]
    cdef const double[::1] slopes = call["slopes"]
    cdef const double[::1] dropout = call.get("dropout")
    cdef const double[::1] lr_steps = call.get("lr_steps")
    cdef const double[::1] mom_steps = call.get("mom_steps")
    cdef int64_t[:, ::1] path_steps = call.get("path_steps")
    cdef const int32_t[::1] norms = call.get("norms")
    cdef fm_net net = _net(sizes, acts, slopes, norms)
    cdef fm_train_cfg c = _cfg(call["cfg"], sizes[sizes.shape[0] - 1])
    cdef fm_optim o = _optim(opt)
    cdef Py_ssize_t n_batches = call["n_batches"], done
    if not _TRAIN_FIELDS.issuperset(call):  # no set built on the common path
        _check(False, f"train: unknown fields {sorted(call.keys() - _TRAIN_FIELDS)}")
    _check(dropout is None or dropout.shape[0] == net.n_layers - 1, "train: dropout length")
    _check(lr_steps is None or lr_steps.shape[0] >= n_batches, "train: lr_steps length")
    _check(mom_steps is None or mom_steps.shape[0] >= n_batches, "train: mom_steps length")
    _check(path_steps is None or (path_steps.shape[0] == net.n_layers
                                  and path_steps.shape[1] == FM_N_PATHS),
           "train: path_steps shape (n_layers, len(FAST_PATHS))")
    if dropout is not None and dropout.shape[0] > 0:
        c.dropout = &dropout[0]
    if lr_steps is not None and lr_steps.shape[0] > 0:
        c.lr_steps = &lr_steps[0]
    if mom_steps is not None and mom_steps.shape[0] > 0:
        c.mom_steps = &mom_steps[0]
    if path_steps is not None:
        c.path_steps = &path_steps[0, 0]
    fast = call.get("fast")
    c.plain = not (FAST_DEFAULT if fast is None else fast)
    params = call["params"]
    if params.dtype.itemsize == 4:
        done = _train_typed[float](params, call, &net, &c, &o)
    else:
        done = _train_typed[double](params, call, &net, &c, &o)
    opt["step"] = o.step
    return done, o.step


def all_finite(const floating[::1] x):
    """Whether every value of x is finite (the kernel of train's check_finite)."""
    cdef int ok
    if x.shape[0] == 0:
        return True
    with nogil:
        if floating is float:
            ok = fm_all_finite_f32(&x[0], x.shape[0])
        else:
            ok = fm_all_finite_f64(&x[0], x.shape[0])
    return bool(ok)


def forward_net(floating[:, ::1] out, floating[::1] work, const floating[::1] params,
                const int64_t[::1] sizes, const int32_t[::1] acts, const double[::1] slopes,
                const floating[:, ::1] x, Py_ssize_t batch, int n_threads=1,
                const int32_t[::1] norms=None, norm_state=None):
    """out = net(x), computed ``batch`` rows at a time; batch norm layers (norms) normalise
    by the running statistics norm_state (mean, then variance, per batch norm layer)."""
    cdef fm_net net = _net(sizes, acts, slopes, norms)
    net.norm_state = _norm_state_ptr(&net, norm_state, "forward_net", sizeof(floating))
    cdef Py_ssize_t n = x.shape[0]
    _check(n > 0 and batch > 0, "forward_net: empty data or batch")
    _check(x.shape[1] == sizes[0] and out.shape[0] == n
           and out.shape[1] == sizes[sizes.shape[0] - 1], "forward_net: x/out shape")
    _check(params.shape[0] == fm_n_params(&net), "forward_net: params length")
    _check(work.shape[0] >= fm_workspace_size(&net, batch), "forward_net: workspace too small")
    with nogil:
        if floating is float:
            fm_forward_net_f32(&out[0, 0], &work[0], &params[0], &net, &x[0, 0], n, batch,
                               n_threads)
        else:
            fm_forward_net_f64(&out[0, 0], &work[0], &params[0], &net, &x[0, 0], n, batch,
                               n_threads)


def loss_grad(floating[::1] grad, floating[::1] work, const floating[::1] params,
              const int64_t[::1] sizes, const int32_t[::1] acts, const double[::1] slopes,
              dict cfg, const floating[:, ::1] x, const floating[:, ::1] y,
              const floating[::1] sw, Py_ssize_t batch, int n_threads=1):
    """Return the full-data objective; write its gradient into grad (flat layout)."""
    cdef fm_net net = _net(sizes, acts, slopes)
    cdef fm_train_cfg c = _cfg(cfg, sizes[sizes.shape[0] - 1])
    cdef Py_ssize_t n = x.shape[0]
    cdef double r
    _check(n > 0 and batch > 0, "loss_grad: empty data or batch")
    _check(x.shape[1] == sizes[0] and y.shape[0] == n and y.shape[1] == sizes[sizes.shape[0] - 1],
           "loss_grad: x/y shape")
    _check(params.shape[0] == fm_n_params(&net) and grad.shape[0] == params.shape[0],
           "loss_grad: params/grad length")
    _check(work.shape[0] >= fm_workspace_size(&net, batch), "loss_grad: workspace too small")
    _check(sw is None or sw.shape[0] == n, "loss_grad: sw length")
    cdef const floating *psw = NULL if sw is None else &sw[0]
    with nogil:
        if floating is float:
            r = fm_loss_grad_f32(&grad[0], &work[0], &params[0], &net, &c, &x[0, 0], &y[0, 0],
                                 psw, n, batch, n_threads)
        else:
            r = fm_loss_grad_f64(&grad[0], &work[0], &params[0], &net, &c, &x[0, 0], &y[0, 0],
                                 psw, n, batch, n_threads)
    return r


def forward_net_csr(floating[:, ::1] out, floating[::1] work, const floating[::1] params,
                    const int64_t[::1] sizes, const int32_t[::1] acts, const double[::1] slopes,
                    tuple x_csr, Py_ssize_t batch, int n_threads=1,
                    const int32_t[::1] norms=None, norm_state=None):
    """out = net(X) for CSR X ``x_csr = (data, indices, indptr, n_cols)`` (the dtype of
    out), computed ``batch`` rows at a time, layer 0 over the rows in place (norms,
    norm_state: as forward_net's)."""
    cdef fm_net net = _net(sizes, acts, slopes, norms)
    net.norm_state = _norm_state_ptr(&net, norm_state, "forward_net_csr", sizeof(floating))
    cdef fm_csr xs
    _csr_fill(&xs, x_csr, floating is float)
    cdef Py_ssize_t n = xs.n_rows
    _check(n > 0 and batch > 0, "forward_net_csr: empty data or batch")
    _check(xs.n_cols == sizes[0] and out.shape[0] == n
           and out.shape[1] == sizes[sizes.shape[0] - 1], "forward_net_csr: x/out shape")
    _check(params.shape[0] == fm_n_params(&net), "forward_net_csr: params length")
    _check(work.shape[0] >= fm_workspace_size(&net, batch), "forward_net_csr: workspace too small")
    with nogil:
        if floating is float:
            fm_forward_net_csr_f32(&out[0, 0], &work[0], &params[0], &net, &xs, n, batch,
                                   n_threads)
        else:
            fm_forward_net_csr_f64(&out[0, 0], &work[0], &params[0], &net, &xs, n, batch,
                                   n_threads)


def loss_grad_csr(floating[::1] grad, floating[::1] work, const floating[::1] params,
                  const int64_t[::1] sizes, const int32_t[::1] acts, const double[::1] slopes,
                  dict cfg, tuple x_csr, const floating[:, ::1] y, const floating[::1] sw,
                  Py_ssize_t batch, int n_threads=1):
    """loss_grad for CSR X ``x_csr = (data, indices, indptr, n_cols)``."""
    cdef fm_net net = _net(sizes, acts, slopes)
    cdef fm_train_cfg c = _cfg(cfg, sizes[sizes.shape[0] - 1])
    cdef fm_csr xs
    cdef double r
    _csr_fill(&xs, x_csr, floating is float)
    cdef Py_ssize_t n = xs.n_rows
    _check(n > 0 and batch > 0, "loss_grad_csr: empty data or batch")
    _check(xs.n_cols == sizes[0] and y.shape[0] == n
           and y.shape[1] == sizes[sizes.shape[0] - 1], "loss_grad_csr: x/y shape")
    _check(params.shape[0] == fm_n_params(&net) and grad.shape[0] == params.shape[0],
           "loss_grad_csr: params/grad length")
    _check(work.shape[0] >= fm_workspace_size(&net, batch), "loss_grad_csr: workspace too small")
    _check(sw is None or sw.shape[0] == n, "loss_grad_csr: sw length")
    cdef const floating *psw = NULL if sw is None else &sw[0]
    with nogil:
        if floating is float:
            r = fm_loss_grad_csr_f32(&grad[0], &work[0], &params[0], &net, &c, &xs, &y[0, 0],
                                     psw, n, batch, n_threads)
        else:
            r = fm_loss_grad_csr_f64(&grad[0], &work[0], &params[0], &net, &c, &xs, &y[0, 0],
                                     psw, n, batch, n_threads)
    return r


def perceptron_epoch(floating[::1] w, floating[::1] b, const floating[:, ::1] x,
                     const floating[::1] y, const int64_t[::1] order, double eta):
    """One epoch of the perceptron rule (y in {-1, +1}); return the number of mistakes."""
    cdef Py_ssize_t n = x.shape[0], d = x.shape[1], r
    _check(n > 0 and d > 0 and w.shape[0] == d and b.shape[0] == 1 and y.shape[0] == n,
           "perceptron_epoch: shape mismatch")
    _check(order is None or order.shape[0] == n, "perceptron_epoch: order length")
    cdef const int64_t *pord = NULL if order is None else &order[0]
    with nogil:
        if floating is float:
            r = fm_perceptron_epoch_f32(&w[0], &b[0], &x[0, 0], &y[0], pord, n, d, eta)
        else:
            r = fm_perceptron_epoch_f64(&w[0], &b[0], &x[0, 0], &y[0], pord, n, d, eta)
    return r


def peak_isas():
    """Return the ISAs the FMA peak probe can use here, best first."""
    return [t for t in fm_peak_isas().decode().split(",") if t]


def peak_run(double[::1] sums, str dtype="float32", str isa="", double mul=1.0, double add=1.0,
             Py_ssize_t reps=1000, int n_threads=1):
    """Run the FMA-throughput probe once; return the floating-point operations done.

    Each of ``n_threads`` threads runs ``reps`` rounds of independent chains
    ``acc = acc * mul + add`` (acc starting at 0) and writes the sum of its
    accumulators to ``sums[thread]``.  ``isa`` '' is the best in
    :func:`peak_isas`.
    """
    _check(dtype in ("float32", "float64"), f"peak_run: dtype must be 'float32' or 'float64', got {dtype!r}")
    _check(n_threads >= 1 and sums.shape[0] >= n_threads, "peak_run: sums must hold n_threads entries")
    _check(reps >= 1, "peak_run: reps must be >= 1")
    _check(isa == "" or isa in peak_isas(), f"peak_run: isa {isa!r} not in {peak_isas()}")
    cdef bytes bisa = isa.encode()
    cdef const char *pisa = bisa
    cdef double flops
    with nogil:
        if dtype == "float32":
            flops = fm_peak_f32(&sums[0], pisa, mul, add, reps, n_threads)
        else:
            flops = fm_peak_f64(&sums[0], pisa, mul, add, reps, n_threads)
    return flops


def peak_bf16_run(double[::1] sums, Py_ssize_t reps=1000, int n_threads=1):
    """Run the vdpbf16ps-throughput probe once; return the floating-point operations
    done (4 per lane and instruction), or -1 on a CPU without AVX512_BF16."""
    _check(n_threads >= 1 and sums.shape[0] >= n_threads, "peak_bf16_run: sums must hold n_threads entries")
    _check(reps >= 1, "peak_bf16_run: reps must be >= 1")
    cdef double flops
    with nogil:
        flops = fm_peak_bf16(&sums[0], reps, n_threads)
    return flops


def rng_uniform(double[::1] out, uint64_t seed, uint64_t step, uint64_t stream):
    """out[i] = the i-th uniform of the counter stream (seed, step, stream) (csrc/rng/rng.h)."""
    if out.shape[0] == 0:
        return
    with nogil:
        fm_rng_uniform(&out[0], seed, step, stream, out.shape[0])


def rng_normal(double[::1] out, uint64_t seed, uint64_t step, uint64_t stream, int n_threads=1):
    """out[i] = the i-th normal of the counter stream (seed, step, stream) (csrc/rng/rng.h)."""
    if out.shape[0] == 0:
        return
    with nogil:
        fm_rng_normal(&out[0], seed, step, stream, out.shape[0], n_threads)


def dropout_forward(floating[::1] out, const floating[::1] h, double p, uint64_t seed,
                    uint64_t step, uint64_t stream, int n_threads=1):
    """out = h * mask / (1 - p), unit i dropped iff uniform i < p."""
    cdef Py_ssize_t n = h.shape[0]
    _check(out.shape[0] == n and n > 0, "dropout_forward: shape mismatch")
    _check(0.0 <= p < 1.0, "dropout_forward: p must be in [0, 1)")
    with nogil:
        if floating is float:
            fm_dropout_forward_f32(&out[0], &h[0], p, seed, step, stream, n, n_threads)
        else:
            fm_dropout_forward_f64(&out[0], &h[0], p, seed, step, stream, n, n_threads)


def dropout_backward(floating[::1] d, double p, uint64_t seed, uint64_t step, uint64_t stream,
                     int n_threads=1):
    """d = d * mask / (1 - p) in place (the same mask as dropout_forward)."""
    _check(d.shape[0] > 0, "dropout_backward: empty operand")
    _check(0.0 <= p < 1.0, "dropout_backward: p must be in [0, 1)")
    with nogil:
        if floating is float:
            fm_dropout_backward_f32(&d[0], p, seed, step, stream, d.shape[0], n_threads)
        else:
            fm_dropout_backward_f64(&d[0], p, seed, step, stream, d.shape[0], n_threads)


def gaussian_noise(floating[::1] x, double sigma, uint64_t seed, uint64_t step, uint64_t stream,
                   int n_threads=1):
    """x += sigma * N(0, 1) in place, normals from the counter stream."""
    _check(x.shape[0] > 0, "gaussian_noise: empty operand")
    with nogil:
        if floating is float:
            fm_gaussian_noise_f32(&x[0], sigma, seed, step, stream, x.shape[0], n_threads)
        else:
            fm_gaussian_noise_f64(&x[0], sigma, seed, step, stream, x.shape[0], n_threads)


def sgd_shuffle(int64_t[::1] ind, uint32_t seed):
    """scikit-learn's SequentialDataset.shuffle(seed) of the index array, in place."""
    with nogil:
        fm_sgd_shuffle(&ind[0] if ind.shape[0] else NULL, ind.shape[0], seed)


cdef void _csr_ptrs(const int64_t[::1] ptr, const int32_t[::1] ind, const int64_t **pptr,
                    const int32_t **pind):
    """The row pointers of CSR input for the Perceptron kernels (NULL, NULL: dense)."""
    pptr[0] = NULL if ptr is None else &ptr[0]
    pind[0] = NULL if ind is None or ind.shape[0] == 0 else &ind[0]
    if ptr is not None and pind[0] == NULL:
        pind[0] = <const int32_t *>&ptr[0]  # all rows empty: never read, but marks CSR


def sgd_perceptron_epoch(floating[::1] w, floating[::1] q, double[::1] state,
                         const floating[::1] x, const int64_t[::1] ptr, const int32_t[::1] ind,
                         const floating[::1] y, const floating[::1] sw, const int64_t[::1] order,
                         const uint8_t[::1] skip, dict cfg):
    """One epoch of scikit-learn's Perceptron SGD; return the rows trained on.

    state (7 doubles, in/out): intercept, wscale, sq_norm, l1_norm, u, and
    (out) the epoch's loss sum and objective sum.  Dense x is the flat
    (rows * d) buffer with ptr = ind = None; CSR x is its data array."""
    cdef Py_ssize_t d = w.shape[0], rows = y.shape[0], n = order.shape[0], r
    _check(d > 0 and q.shape[0] == d and state.shape[0] >= 7, "sgd_perceptron_epoch: w/q/state")
    _check(n == rows and (sw is None or sw.shape[0] == rows)
           and (skip is None or skip.shape[0] == rows), "sgd_perceptron_epoch: row counts")
    _check((ptr is None) == (ind is None), "sgd_perceptron_epoch: ptr and ind go together")
    if ptr is None:
        _check(x.shape[0] == rows * d, "sgd_perceptron_epoch: dense x must be rows * d")
    else:
        _check(ptr.shape[0] == rows + 1 and ind.shape[0] == x.shape[0]
               and ptr[rows] <= x.shape[0], "sgd_perceptron_epoch: CSR shapes")
    cdef fm_sgd_cfg c
    _sgd_cfg_from(cfg, &c)
    cdef fm_sgd_state st
    st.intercept, st.wscale, st.sq_norm, st.l1_norm, st.u = (state[0], state[1], state[2],
                                                            state[3], state[4])
    cdef const int64_t *pptr = NULL
    cdef const int32_t *pind = NULL
    _csr_ptrs(ptr, ind, &pptr, &pind)
    cdef const floating *px = NULL if x.shape[0] == 0 else &x[0]
    cdef const floating *psw = NULL if sw is None else &sw[0]
    cdef const uint8_t *pskip = NULL if skip is None else &skip[0]
    with nogil:
        if floating is float:
            r = fm_sgd_perceptron_epoch_f32(&w[0], &q[0], &st, px, pptr, pind, &y[0], psw,
                                            &order[0], pskip, &c, n, d)
        else:
            r = fm_sgd_perceptron_epoch_f64(&w[0], &q[0], &st, px, pptr, pind, &y[0], psw,
                                            &order[0], pskip, &c, n, d)
    state[0], state[1], state[2], state[3], state[4] = (st.intercept, st.wscale, st.sq_norm,
                                                        st.l1_norm, st.u)
    state[5], state[6] = st.sumloss, st.objective
    return r


cdef void _sgd_cfg_from(dict cfg, fm_sgd_cfg *c) except *:
    c.penalty = cfg["penalty"]
    c.alpha = cfg["alpha"]
    c.l1_ratio = cfg["l1_ratio"]
    c.eta = cfg["eta"]
    c.fit_intercept = cfg["fit_intercept"]
    c.intercept_decay = cfg["intercept_decay"]
    c.weight_pos = cfg["weight_pos"]
    c.weight_neg = cfg["weight_neg"]
    c.compute_loss = cfg["compute_loss"]


def sgd_perceptron_epoch_multi(floating[:, ::1] w, floating[:, ::1] q, double[:, ::1] state,
                               int64_t[:, ::1] counts, const floating[::1] x,
                               const int64_t[::1] ptr, const int32_t[::1] ind,
                               const floating[:, ::1] y, const floating[::1] sw,
                               const int64_t[:, ::1] order, const uint8_t[::1] skip, list cfgs,
                               const int32_t[::1] cls, bint packed=False, int lanes=8,
                               int n_threads=1):
    """One epoch of scikit-learn's Perceptron SGD for the classes cls, interleaved.

    Per class c (rows of w, q, state, counts, y, order; cfgs[c]): the same
    result as sgd_perceptron_epoch on row c.  counts[c] += (rows trained on,
    dot products computed).  packed: x, ptr, ind come from sgd_pack_rows and
    stand for the dense matrix (penalty none or L2 only).  Returns the number
    of lane batches."""
    cdef Py_ssize_t C = w.shape[0], d = w.shape[1], n = order.shape[1], k = cls.shape[0]
    cdef Py_ssize_t m, c, r
    _check(C > 0 and d > 0 and q.shape[0] == C and q.shape[1] == d and state.shape[0] == C
           and state.shape[1] >= 7 and counts.shape[0] == C and counts.shape[1] == 2
           and len(cfgs) == C, "sgd_perceptron_epoch_multi: w/q/state/counts/cfgs")
    _check(order.shape[0] == C and y.shape[0] == C and y.shape[1] == n
           and (sw is None or sw.shape[0] == n) and (skip is None or skip.shape[0] == n),
           "sgd_perceptron_epoch_multi: row counts")
    _check((ptr is None) == (ind is None), "sgd_perceptron_epoch_multi: ptr and ind go together")
    if ptr is None:
        _check(x.shape[0] == n * d, "sgd_perceptron_epoch_multi: dense x must be rows * d")
    else:
        _check(ptr.shape[0] == n + 1 and ind.shape[0] == x.shape[0] and ptr[0] == 0
               and ptr[n] <= x.shape[0], "sgd_perceptron_epoch_multi: CSR shapes")
    _check(lanes >= 1 and n_threads >= 1, "sgd_perceptron_epoch_multi: lanes and n_threads >= 1")
    _check(not packed or (ptr is not None and all(
        cf["penalty"] in (FM_PENALTY_NONE, FM_PENALTY_L2) for cf in cfgs)),
        "sgd_perceptron_epoch_multi: packed rows need CSR arrays and penalty none or l2")
    seen = set()
    for m in range(k):
        c = cls[m]
        _check(0 <= c < C and c not in seen, "sgd_perceptron_epoch_multi: cls must be distinct "
               "class rows")
        seen.add(c)
        for r in range(n):
            _check(0 <= order[c, r] < n, "sgd_perceptron_epoch_multi: order out of range")
    if k == 0:
        return 0
    cdef fm_sgd_cfg *cf = <fm_sgd_cfg *>malloc(C * sizeof(fm_sgd_cfg))
    cdef fm_sgd_state *st = <fm_sgd_state *>malloc(C * sizeof(fm_sgd_state))
    if cf == NULL or st == NULL:
        free(cf)
        free(st)
        raise MemoryError("sgd_perceptron_epoch_multi")
    cdef const int64_t *pptr = NULL
    cdef const int32_t *pind = NULL
    _csr_ptrs(ptr, ind, &pptr, &pind)
    cdef const floating *px = NULL if x.shape[0] == 0 else &x[0]
    cdef const floating *psw = NULL if sw is None else &sw[0]
    cdef const uint8_t *pskip = NULL if skip is None else &skip[0]
    try:
        for c in range(C):
            _sgd_cfg_from(cfgs[c], &cf[c])
            st[c].intercept, st[c].wscale, st[c].sq_norm = state[c, 0], state[c, 1], state[c, 2]
            st[c].l1_norm, st[c].u = state[c, 3], state[c, 4]
            st[c].sumloss, st[c].objective = 0.0, 0.0
        with nogil:
            if floating is float:
                r = fm_sgd_perceptron_epoch_multi_f32(&w[0, 0], &q[0, 0], st, &counts[0, 0], px,
                                                      pptr, pind, &y[0, 0], psw, &order[0, 0],
                                                      pskip, cf, &cls[0], k, n, d, packed,
                                                      lanes, n_threads)
            else:
                r = fm_sgd_perceptron_epoch_multi_f64(&w[0, 0], &q[0, 0], st, &counts[0, 0], px,
                                                      pptr, pind, &y[0, 0], psw, &order[0, 0],
                                                      pskip, cf, &cls[0], k, n, d, packed,
                                                      lanes, n_threads)
        for m in range(k):
            c = cls[m]
            state[c, 0], state[c, 1], state[c, 2] = st[c].intercept, st[c].wscale, st[c].sq_norm
            state[c, 3], state[c, 4] = st[c].l1_norm, st[c].u
            state[c, 5], state[c, 6] = st[c].sumloss, st[c].objective
    finally:
        free(cf)
        free(st)
    return r


def sgd_pack_rows(const floating[:, ::1] x, double max_fraction=1.0):
    """(val, ind, ptr): the dense x (n, d) as CSR of its entries other than +0.0
    (-0.0 kept), for sgd_perceptron_epoch_multi(packed=True); None when more
    than max_fraction of the entries would be stored."""
    import numpy as np
    cdef Py_ssize_t n = x.shape[0], d = x.shape[1], nnz
    _check(n > 0 and d > 0, "sgd_pack_rows: empty x")
    ptr = np.empty(n + 1, dtype=np.int64)
    cdef int64_t[::1] p = ptr
    with nogil:
        if floating is float:
            nnz = fm_sgd_pack_rows_f32(NULL, NULL, &p[0], &x[0, 0], n, d)
        else:
            nnz = fm_sgd_pack_rows_f64(NULL, NULL, &p[0], &x[0, 0], n, d)
    if nnz > max_fraction * n * d:
        return None
    val = np.empty(max(nnz, 1), dtype=np.float32 if floating is float else np.float64)
    ind = np.empty(max(nnz, 1), dtype=np.int32)
    cdef floating[::1] v = val
    cdef int32_t[::1] ix = ind
    with nogil:
        if floating is float:
            fm_sgd_pack_rows_f32(&v[0], &ix[0], &p[0], &x[0, 0], n, d)
        else:
            fm_sgd_pack_rows_f64(&v[0], &ix[0], &p[0], &x[0, 0], n, d)
    return val[:nnz], ind[:nnz], ptr
include "_core_int8.pxi"
