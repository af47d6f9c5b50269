"""The same math as fastmlp's C kernels, in plain NumPy: the oracle.

Every function here is written for obviousness, not speed, and computes in
float64 whatever the input dtype.  The parity tests compare each C kernel
with its twin here, and this module is itself checked against central finite
differences.  Names and argument meanings mirror ``csrc/fastmlp.h``;
activations, losses and optimizers are given by name.

Conventions (identical to the C side)
-------------------------------------
* ``x`` is (N, IN), ``w`` is (IN, OUT) (scikit-learn's layout), ``b`` is (OUT,).
* A network's parameters are one flat vector: W0, W1, ..., then b0, b1, ...
* Activation derivatives are written in terms of the activation OUTPUT a,
  except those of :data:`Z_ACTIVATIONS` (gelu, silu, ...), written in terms
  of the pre-activation z as ``torch.nn.functional`` defines them.  An
  activation's ``slope`` is its parameter: leaky_relu's slope, elu's alpha.
* Losses: ``L = scale * sum_i sw_i * sum_j l(p_ij, y_ij)`` with the element
  losses of :func:`loss`.
* Optimizers follow ``torch.optim`` (see :func:`optim_update`).
"""
from __future__ import annotations

import math
from typing import Optional

import numpy as np

from fastmlp._backend import RMSPROP_ALPHA, Metric

__all__ = [
    "ACTIVATIONS", "Z_ACTIVATIONS", "LOSSES", "OPTIMIZERS", "act_forward", "act_backward",
    "act_grad_z", "linear_forward",
    "linear_backward", "loss", "optim_update", "layer_shapes", "unpack", "n_params",
    "forward_net", "loss_grad", "train", "perceptron_epoch", "optim_step", "train_chunk",
    "rng_key", "rng_uniform", "rng_normal", "dropout_scale", "dropout_forward", "dropout_backward",
    "gaussian_noise", "sgd_shuffle", "sgd_perceptron_epoch", "clip_grad", "csr_rows",
    "NORM_EPS", "NORM_MOMENTUM", "batchnorm_forward", "batchnorm_infer", "batchnorm_backward",
    "layernorm_forward", "layernorm_backward", "unpack_norm", "norm_state_init",
    "quantize_rows_u8", "qgemm_int", "qlinear_forward", "qforward_net",
    "bf16_round", "bf16_matmul",
]

#: eps of both normalisations and batch norm's running-statistics momentum (torch's defaults)
NORM_EPS, NORM_MOMENTUM = 1e-5, 0.1

ACTIVATIONS = ("identity", "step", "sigmoid", "tanh", "relu", "leaky_relu", "softmax", "gelu",
               "gelu_tanh", "silu", "elu", "selu", "softplus")
#: the activations whose derivative is taken from z (C: fm_act_needs_z)
Z_ACTIVATIONS = ("gelu", "gelu_tanh", "silu", "elu", "selu", "softplus")
#: torch.nn.functional's constants: SELU's alpha and scale, GELU's tanh coefficient,
#: softplus' threshold (beta 1)
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
GELU_K = 0.044715
SOFTPLUS_THRESHOLD = 20.0
LOSSES = ("mse", "mae", "bce", "cce", "poisson", "huber", "quantile")
OPTIMIZERS = ("sgd", "adagrad", "rmsprop", "adam", "adamw")


def _f64(a):
    return np.asarray(a, dtype=np.float64)


def act_forward(z, act: str, slope: float = 0.0) -> np.ndarray:
    """Return act(z); softmax is taken row-wise."""
    z = _f64(z)
    if act == "identity":
        return z.copy()
    if act == "step":
        return (z > 0).astype(np.float64)
    if act == "sigmoid":
        return 1.0 / (1.0 + np.exp(-np.clip(z, -709, 709)))
    if act == "tanh":
        return np.tanh(z)
    if act == "relu":
        return np.maximum(z, 0.0)
    if act == "leaky_relu":
        return np.where(z > 0, z, slope * z)
    if act == "softmax":
        return _softmax(z)
    if act == "gelu":  # z Phi(z)
        return 0.5 * z * (1 + _erf(z / math.sqrt(2)))
    if act == "gelu_tanh":
        with np.errstate(over="ignore"):  # z^3 of a huge z: tanh(+-inf) = +-1, the limit
            return 0.5 * z * (1 + np.tanh(math.sqrt(2 / math.pi) * (z + GELU_K * z**3)))
    if act == "silu":
        return z * act_forward(z, "sigmoid")
    if act == "elu":
        return np.where(z > 0, z, slope * np.expm1(np.minimum(z, 0)))
    if act == "selu":
        return SELU_SCALE * act_forward(z, "elu", SELU_ALPHA)
    if act == "softplus":  # log(1 + e^z), z itself above the threshold
        return np.where(z > SOFTPLUS_THRESHOLD, z,
                        np.log1p(np.exp(np.minimum(z, SOFTPLUS_THRESHOLD))))
    raise ValueError(f"unknown activation {act!r}")


_erf = np.vectorize(math.erf, otypes=[np.float64])


def act_grad_z(z, act: str, slope: float = 0.0) -> np.ndarray:
    """Return act'(z) for the activations of :data:`Z_ACTIVATIONS`, as
    ``torch.nn.functional``'s backward computes them."""
    z = _f64(z)
    if act == "gelu":  # Phi(z) + z phi(z); z phi(z) is exactly 0 past |z| = 40
        c = np.clip(z, -40, 40)
        pdf = np.exp(-0.5 * c * c) / math.sqrt(2 * math.pi)
        return 0.5 * (1 + _erf(z / math.sqrt(2))) + c * pdf
    if act == "gelu_tanh":  # and so is z (1 - t^2) here
        c, k = np.clip(z, -40, 40), math.sqrt(2 / math.pi)
        t = np.tanh(k * (c + GELU_K * c**3))
        return 0.5 * (1 + t) + 0.5 * c * (1 - t * t) * k * (1 + 3 * GELU_K * c * c)
    if act == "silu":
        s = act_forward(z, "sigmoid")
        return s * (1 + z * (1 - s))
    if act == "elu":
        return np.where(z > 0, 1.0, slope * np.exp(np.minimum(z, 0)))
    if act == "selu":
        return SELU_SCALE * act_grad_z(z, "elu", SELU_ALPHA)
    if act == "softplus":
        return np.where(z > SOFTPLUS_THRESHOLD, 1.0, act_forward(z, "sigmoid"))
    raise ValueError(f"act_grad_z: {act!r} is not one of {Z_ACTIVATIONS}")


def _softmax(z):
    """Row-wise softmax, exp(z - max) / sum; a row whose max is +-inf gets the limit
    (the mass shared by the entries equal to the max), a NaN row stays NaN."""
    m = z.max(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        e = np.where(np.isfinite(m), np.exp(z - np.where(np.isfinite(m), m, 0.0)),
                     (z == m).astype(np.float64))
        return e / e.sum(axis=1, keepdims=True)


def act_backward(da, a, act: str, slope: float = 0.0, z=None) -> np.ndarray:
    """Return dz = da * act'(z), with the derivative written in terms of a = act(z)
    (or of z, which must then be given, for :data:`Z_ACTIVATIONS`)."""
    if act in Z_ACTIVATIONS:
        if z is None:
            raise ValueError(f"act_backward: the derivative of {act!r} needs z")
        return _f64(da) * act_grad_z(z, act, slope)
    da, a = _f64(da), _f64(a)
    deriv = {
        "identity": lambda: np.ones_like(a),
        "step": lambda: np.zeros_like(a),
        "sigmoid": lambda: a * (1 - a),
        "tanh": lambda: 1 - a**2,
        "relu": lambda: (a > 0).astype(np.float64),
        "leaky_relu": lambda: np.where(a > 0, 1.0, slope),
    }
    if act == "softmax":  # row-wise Jacobian-vector product
        return a * (da - (da * a).sum(axis=1, keepdims=True))
    return da * deriv[act]()


def bf16_round(x) -> np.ndarray:
    """Return x's float32 values rounded to bfloat16, as float32 (csrc/gemm/bf16.h).

    Round to nearest, ties to even, on the bit pattern: ``(u + 0x7FFF + ((u >> 16) & 1))``
    with the low 16 bits cleared; zero and denormals become a signed zero (the
    hardware's DAZ); a NaN stays a (quiet) NaN; overflow gives infinity.
    """
    u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    r = ((u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000).astype(np.uint32)
    nan = (u & 0x7FFFFFFF) > 0x7F800000
    r = np.where(nan, ((u | 0x00400000) & 0xFFFF0000).astype(np.uint32), r)
    r = np.where((u & 0x7F800000) == 0, (u & 0x80000000).astype(np.uint32), r)
    return r.astype(np.uint32).view(np.float32)


def _ftz32(x: np.ndarray) -> np.ndarray:
    """float32 denormals as a signed zero (DAZ of a chain's start)."""
    u = x.view(np.uint32)
    return np.where((u & 0x7F800000) == 0, u & np.uint32(0x80000000), u).astype(np.uint32).view(
        np.float32)


def _round_ftz(e: np.ndarray) -> np.ndarray:
    """float64 sums to float32, nearest even, a TINY result flushed to a signed zero:
    tiny after rounding to 24 bits with an unbounded exponent (x86's FTZ)."""
    r = e.astype(np.float32)
    m, ex = np.frexp(e)
    tiny = np.abs(np.ldexp(np.round(m * 2.0 ** 24) / 2.0 ** 24, ex)) < 2.0 ** -126
    return _ftz32(np.where(tiny, np.copysign(np.float32(0), r), r).astype(np.float32))


def bf16_matmul(a, b, c=None) -> np.ndarray:
    """Return a @ b as csrc/gemm/bf16.h computes it, bit for bit, in float32.

    a (m, k) and b (k, n) are rounded to bf16 (:func:`bf16_round`); each element
    of the result is one float32 chain over k in pairs q (p = 2q, 2q+1; an odd k
    pads with +0 * +0), as vdpbf16ps does it: ``acc = ftz(acc + a[2q+1] b[2q+1])``,
    then ``acc = ftz(acc + a[2q] b[2q])``, each a single rounding to float32 of the
    exact sum and a tiny result flushed to zero (see ``_round_ftz``).  The sums are
    formed in float64, exact unless one term is below 2**-13 of the other's float32
    ulp, where it cannot change the rounding.  The chain starts at 0, or at ``c``
    (denormals flushed) when given.
    """
    A = bf16_round(a).reshape(np.shape(a))
    Bm = bf16_round(b).reshape(np.shape(b))
    m, k = A.shape
    n = Bm.shape[1]
    if k % 2:
        A = np.hstack([A, np.zeros((m, 1), np.float32)])
        Bm = np.vstack([Bm, np.zeros((1, n), np.float32)])
    acc = np.zeros((m, n), np.float32) if c is None else _ftz32(np.array(c, np.float32))
    A64, B64 = A.astype(np.float64), Bm.astype(np.float64)
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        for p in range(0, A.shape[1], 2):
            acc = _round_ftz(acc + np.multiply.outer(A64[:, p + 1], B64[p + 1]))
            acc = _round_ftz(acc + np.multiply.outer(A64[:, p], B64[p]))
    return acc


def _matmul(a, b, compute: Optional[str]) -> np.ndarray:
    """a @ b in float64, or through :func:`bf16_matmul` (float32 operands) for 'bfloat16'."""
    if compute == "bfloat16":
        return bf16_matmul(np.asarray(a, np.float32), np.asarray(b, np.float32)).astype(np.float64)
    return _f64(a) @ _f64(b)


def linear_forward(x, w, b, act: str = "identity", slope: float = 0.0) -> np.ndarray:
    """Return act(x @ w + b)."""
    return act_forward(_f64(x) @ _f64(w) + _f64(b), act, slope)


def csr_rows(data, indices, indptr, n_cols: int, rows=None) -> np.ndarray:
    """The rows ``rows`` (all when None) of a CSR matrix as a dense float64 array:
    the twin of the CSR kernels' input (csrc/layers/csr.c), whose products are then
    :func:`linear_forward` and :func:`linear_backward`'s ``dw``.  Unsorted columns
    are fine and repeated ones add up (scipy's convention)."""
    indptr = np.asarray(indptr, dtype=np.int64)
    rows = np.arange(len(indptr) - 1) if rows is None else np.asarray(rows, dtype=np.int64)
    out = np.zeros((len(rows), int(n_cols)))
    for i, r in enumerate(rows):
        lo, hi = indptr[r], indptr[r + 1]
        np.add.at(out[i], np.asarray(indices[lo:hi], dtype=np.int64), _f64(data[lo:hi]))
    return out


def linear_backward(dz, x, w, act_in: str = "identity", slope_in: float = 0.0):
    """Return (dx, dw, db) for z = x @ w + b given dz; dx includes act_in'(x)."""
    dz, x, w = _f64(dz), _f64(x), _f64(w)
    dx = act_backward(dz @ w.T, x, act_in, slope_in)
    return dx, x.T @ dz, dz.sum(axis=0)


def loss(z, y, sw=None, loss: str = "mse", out_act: str = "identity", slope: float = 0.0,
         scale: float = 1.0, delta: float = 1.0, quantiles=None):
    """Return (L, p, dz): the loss, the output activation and dL/dz.

    Element losses: mse (p-y)^2, mae ``|p-y|``, bce -(y log p + (1-y) log(1-p))
    with p = sigmoid(z), cce -sum_j y_j log p_j with p = softmax(z), poisson
    y log(y/p) - y + p with p = exp(z) (y log(y/p) = 0 where y == 0), huber
    r^2/2 if ``|r| < delta`` else delta (``|r|`` - delta/2) with r = p - y, quantile
    max(q_j (y-p), (q_j - 1)(y-p)) with ``quantiles[j]`` = q_j (0.5 when None; its
    derivative in p is 1/2 - q_j at p == y).
    ``L = scale * sum_i sw_i * sum_j l_ij``.
    """
    z, y = _f64(z), _f64(y)
    sw = np.ones(len(z)) if sw is None else _f64(sw)
    if loss == "bce":
        p = act_forward(z, "sigmoid")
        with np.errstate(invalid="ignore", over="ignore"):
            finite = (np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))
        # at +-inf, the limit: |z| where the target weighs that side, else 0
        inf = np.where(np.where(z > 0, 1 - y, y) != 0, np.abs(z), 0.0)
        with np.errstate(over="ignore"):  # a sum of huge finite terms may overflow: +inf
            per_row = np.where(np.isinf(z), inf, finite).sum(axis=1)
        dz = p - y
    elif loss == "cce":
        m = z.max(axis=1, keepdims=True)
        fin = np.isfinite(m)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            zm = z - np.where(fin, m, 0.0)  # lse - z = log(sum exp(z - m)) - (z - m)
            per = y * (np.log(np.exp(zm).sum(axis=1, keepdims=True)) - zm)
            finite_rows = np.where(y != 0, per, 0.0).sum(axis=1)  # 0 * inf counts 0
            # +-inf logits: log(#max) on the max entries, +inf (where y weighs) off them
            cnt = (z == m).sum(axis=1, keepdims=True)
            off = np.where(y != 0, np.where(z == m, y * np.log(np.maximum(cnt, 1)), np.inf), 0.0)
            inf_rows = np.where(np.isnan(m[:, 0]), np.nan, off.sum(axis=1))
        per_row = np.where(fin[:, 0], finite_rows, inf_rows)
        p = _softmax(z)
        dz = p * y.sum(axis=1, keepdims=True) - y
    elif loss == "poisson":
        p = np.exp(z)
        ylogy = np.where(y > 0, y * (np.log(np.where(y > 0, y, 1.0)) - z), 0.0)
        per_row = (ylogy - y + p).sum(axis=1)
        dz = p - y
    elif loss in ("mse", "mae", "huber", "quantile"):
        p = act_forward(z, out_act, slope)
        r = p - y
        if loss == "mse":
            el, dp = r**2, 2 * r
        elif loss == "mae":
            el, dp = np.abs(r), np.sign(r)
        elif loss == "huber":
            quad = np.abs(r) < delta
            el = np.where(quad, 0.5 * r**2, delta * (np.abs(r) - 0.5 * delta))
            dp = np.clip(r, -delta, delta)
        else:
            q = np.full(r.shape[1], 0.5) if quantiles is None else _f64(quantiles)
            el = np.maximum(q * -r, (q - 1) * -r)
            dp = np.where(r > 0, 1 - q, np.where(r < 0, -q, 0.5 - q))
        per_row = el.sum(axis=1)
        dz = act_backward(dp, p, out_act, slope, z)
    else:
        raise ValueError(f"unknown loss {loss!r}")
    return scale * float((sw * per_row).sum()), p, scale * sw[:, None] * dz


def optim_step(w, g, opt: dict, state: Optional[dict] = None, n_decay: Optional[int] = None):
    """Return (w, state) after one update; ``opt['step']`` counts this update (t >= 1).

    ``state`` maps 's1', 's2', 's3' to arrays (missing ones start at zero;
    Adagrad's s1 at ``opt['initial_accumulator_value']``).  With
    g' = g + weight_decay*w + l1*sign(w) on the first n_decay entries (AdamW:
    no coupled decay), torch.optim's definitions:

    * sgd: b = g' if t == 1 else momentum*b + (1-dampening)*g';
      d = g' + momentum*b (nesterov), b (momentum) or g'; w -= lr*d       [s1 = b]
    * adagrad: s += g'^2; w -= lr*g'/(sqrt(s)+eps)                          [s1 = s]
    * rmsprop: v = alpha*v + (1-alpha)*g'^2; with centered, a = a + (1-alpha)(g'-a)
      and den = sqrt(v - a^2) + eps, else den = sqrt(v) + eps; with momentum,
      b = momentum*b + g'/den and w -= lr*b, else w -= lr*g'/den     [s1 = v, s2 = b, s3 = a]
    * adam: m = b1*m + (1-b1)*g'; v = b2*v + (1-b2)*g'^2; amsgrad: vm = max(vm, v)
      replaces v; w -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps) [s1 = m, s2 = v, s3 = vm]
    * adamw: ``w[:n_decay] *= 1 - lr*weight_decay``, then adam.

    With ``opt['sklearn']`` true, scikit-learn's forms instead:
    sgd: v = momentum*v - lr*g'; w += momentum*v - lr*g' (nesterov) or v;
    adam: w -= lr*sqrt(1-b2^t)/(1-b1^t) * m / (sqrt(v) + eps).
    """
    w, g = _f64(w).copy(), _f64(g)
    n = len(w) if n_decay is None else n_decay
    state = {} if state is None else state
    s1, s2, s3 = (np.zeros_like(w) if state.get(k) is None else _f64(state[k]).copy()
                  for k in ("s1", "s2", "s3"))
    kind, lr, t = opt["kind"], opt["lr"], opt["step"]
    wd, l1 = opt.get("weight_decay", 0.0), opt.get("l1", 0.0)
    gp = g.copy()
    gp[:n] += (0.0 if kind == "adamw" else wd) * w[:n] + l1 * np.sign(w[:n])
    sk, mu = opt.get("sklearn", False), opt.get("momentum", 0.0)
    eps = opt.get("eps", 1e-8)
    if kind == "sgd" and sk:
        v = mu * s1 - lr * gp
        if mu != 0:
            s1 = v
        w = w + (mu * v - lr * gp if opt.get("nesterov", False) else v)
    elif kind == "sgd":
        d = gp
        if mu != 0:
            s1 = gp.copy() if t == 1 else mu * s1 + (1 - opt.get("dampening", 0.0)) * gp
            d = gp + mu * s1 if opt.get("nesterov", False) else s1
        w = w - lr * d
    elif kind == "adagrad":
        if state.get("s1") is None:
            s1 += opt.get("initial_accumulator_value", 0.0)
        s1 = s1 + gp**2
        w = w - lr * gp / (np.sqrt(s1) + eps)
    elif kind == "rmsprop":
        a = opt.get("alpha", RMSPROP_ALPHA)
        s1 = a * s1 + (1 - a) * gp**2
        if opt.get("centered", False):
            s3 = s3 + (1 - a) * (gp - s3)
            den = np.sqrt(np.maximum(s1 - s3**2, 0.0)) + eps
        else:
            den = np.sqrt(s1) + eps
        if mu > 0:
            s2 = mu * s2 + gp / den
            w = w - lr * s2
        else:
            w = w - lr * gp / den
    elif kind in ("adam", "adamw"):
        b1, b2 = opt.get("beta1", 0.9), opt.get("beta2", 0.999)
        if kind == "adamw":
            w[:n] *= 1 - lr * wd
        s1 = b1 * s1 + (1 - b1) * gp
        s2 = b2 * s2 + (1 - b2) * gp**2
        v = s2
        if opt.get("amsgrad", False):
            s3 = np.maximum(s3, s2)
            v = s3
        if sk:
            w = w - lr * np.sqrt(1 - b2**t) / (1 - b1**t) * s1 / (np.sqrt(v) + eps)
        else:
            w = w - lr / (1 - b1**t) * s1 / (np.sqrt(v) / np.sqrt(1 - b2**t) + eps)
    else:
        raise ValueError(f"unknown optimizer {kind!r}")
    return w, {"s1": s1, "s2": s2, "s3": s3}


def optim_update(w, g, opt: dict, s1=None, s2=None, n_decay: Optional[int] = None):
    """Return (w, s1, s2) after one update: :func:`optim_step` for the rules
    that keep at most two state buffers."""
    if opt.get("centered") or opt.get("amsgrad"):
        raise ValueError("centered RMSprop and AMSGrad keep a third buffer: use optim_step")
    w, st = optim_step(w, g, opt, {"s1": s1, "s2": s2}, n_decay)
    return w, st["s1"], st["s2"]


# ---- the counter RNG of csrc/rng/rng.h, dropout and input noise -------------------

_G = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix64(z):
    """splitmix64's output function, elementwise on uint64 (wrapping arithmetic)."""
    z = np.asarray(z, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def rng_key(seed: int, step: int, stream: int) -> np.uint64:
    """key = mix(mix(mix(seed + G) + step*G) + stream*G), all mod 2^64."""
    with np.errstate(over="ignore"):
        k = _mix64(np.uint64(seed) + _G)
        k = _mix64(k + np.uint64(step) * _G)
        return _mix64(k + np.uint64(stream) * _G)


def rng_uniform(seed: int, step: int, stream: int, n: int) -> np.ndarray:
    """unif(i) = (mix(key + (i+1)*G) >> 11) * 2^-53 for i < n: doubles in [0, 1)."""
    key = rng_key(seed, step, stream)
    i = np.arange(1, n + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        u = _mix64(key + i * _G)
    return (u >> np.uint64(11)).astype(np.float64) * 2.0**-53


def rng_normal(seed: int, step: int, stream: int, n: int) -> np.ndarray:
    """Box-Muller pairs, both outputs: with r = sqrt(-2 ln(1 - unif(2j))) and
    t = 2 pi unif(2j+1), normal(2j) = r cos t and normal(2j+1) = r sin t, for i < n."""
    pairs = (n + 1) // 2
    u = rng_uniform(seed, step, stream, 2 * pairs)
    r = np.sqrt(-2.0 * np.log(1.0 - u[0::2]))
    t = 2.0 * np.pi * u[1::2]
    out = np.empty(2 * pairs)
    out[0::2] = r * np.cos(t)
    out[1::2] = r * np.sin(t)
    return out[:n]


def dropout_scale(shape, p: float, seed: int, step: int, stream: int) -> np.ndarray:
    """The inverted-dropout multiplier: 0 where unif(i) < p, else 1/(1-p) (row-major i)."""
    n = int(np.prod(shape))
    keep = rng_uniform(seed, step, stream, n) >= p
    return np.where(keep, 1.0 / (1.0 - p), 0.0).reshape(shape)


def dropout_forward(h, p: float, seed: int, step: int, stream: int) -> np.ndarray:
    """Return h * mask / (1-p) (training only; inference applies no dropout)."""
    h = _f64(h)
    return h * dropout_scale(h.shape, p, seed, step, stream)


def dropout_backward(d, p: float, seed: int, step: int, stream: int) -> np.ndarray:
    """Return d * mask / (1-p): the same mask passes the gradient back."""
    d = _f64(d)
    return d * dropout_scale(d.shape, p, seed, step, stream)


def gaussian_noise(x, sigma: float, seed: int, step: int, stream: int) -> np.ndarray:
    """Return x + sigma * normal(i) (row-major i)."""
    x = _f64(x)
    return x + sigma * rng_normal(seed, step, stream, x.size).reshape(x.shape)


def batchnorm_forward(x, gamma, beta, eps: float = NORM_EPS):
    """Batch norm in training (torch.nn.BatchNorm1d): return (y, cache).

    y = gamma * (x - mean) / sqrt(var + eps) + beta with mean and the biased var of
    each column over the rows; cache['mean'], cache['var'] feed the running statistics.
    """
    x = _f64(x)
    mean, var = x.mean(axis=0), x.var(axis=0)
    xhat = (x - mean) / np.sqrt(var + eps)
    return _f64(gamma) * xhat + _f64(beta), {"xhat": xhat, "var": var, "mean": mean,
                                               "gamma": _f64(gamma), "eps": eps}


def batchnorm_infer(x, gamma, beta, run_mean, run_var, eps: float = NORM_EPS):
    """Batch norm at inference: gamma * (x - run_mean) / sqrt(run_var + eps) + beta."""
    return _f64(gamma) * (_f64(x) - _f64(run_mean)) / np.sqrt(_f64(run_var) + eps) + _f64(beta)


def batchnorm_backward(dy, cache):
    """Return (dx, dgamma, dbeta) of :func:`batchnorm_forward` given dy = dL/dy.

    dx = gamma / sqrt(var + eps) * (dy - mean(dy) - xhat * mean(dy * xhat)), means over rows.
    """
    dy, xhat = _f64(dy), cache["xhat"]
    rstd = 1.0 / np.sqrt(cache["var"] + cache["eps"])
    dx = cache["gamma"] * rstd * (dy - dy.mean(axis=0) - xhat * (dy * xhat).mean(axis=0))
    return dx, (dy * xhat).sum(axis=0), dy.sum(axis=0)


def layernorm_forward(x, gamma, beta, eps: float = NORM_EPS):
    """Layer norm over each row (torch.nn.LayerNorm(C)): return (y, cache)."""
    x = _f64(x)
    mean, var = x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True)
    xhat = (x - mean) / np.sqrt(var + eps)
    return _f64(gamma) * xhat + _f64(beta), {"xhat": xhat, "var": var, "gamma": _f64(gamma),
                                               "eps": eps}


def layernorm_backward(dy, cache):
    """Return (dx, dgamma, dbeta) of :func:`layernorm_forward`: with g = dy * gamma,
    dx = (g - mean(g) - xhat * mean(g * xhat)) / sqrt(var + eps), means over each row."""
    dy, xhat = _f64(dy), cache["xhat"]
    g = dy * cache["gamma"]
    rstd = 1.0 / np.sqrt(cache["var"] + cache["eps"])
    dx = rstd * (g - g.mean(axis=1, keepdims=True) - xhat * (g * xhat).mean(axis=1, keepdims=True))
    return dx, (dy * xhat).sum(axis=0), dy.sum(axis=0)


def unpack_norm(params, sizes, norms):
    """The (gamma, beta) views of each hidden layer's norm (None where it has none): they
    follow the biases in the flat vector, layer by layer."""
    off, out = n_params(sizes), []
    for l, kind in enumerate(norms or []):
        if kind is None:
            out.append(None)
            continue
        o = int(sizes[l + 1])
        out.append((params[off:off + o], params[off + o:off + 2 * o]))
        off += 2 * o
    return out


def norm_state_init(sizes, norms) -> np.ndarray:
    """Fresh running statistics: for each batch norm, mean 0 then variance 1 (torch's)."""
    parts = [np.r_[np.zeros(int(sizes[l + 1])), np.ones(int(sizes[l + 1]))]
             for l, kind in enumerate(norms or []) if kind == "batch"]
    return np.concatenate(parts) if parts else np.zeros(0)


def _run_views(state, sizes, norms):
    """(mean, var) views of each hidden layer's running statistics (None: no batch norm)."""
    off, out = 0, []
    for l, kind in enumerate(norms or []):
        o = int(sizes[l + 1])
        out.append((state[off:off + o], state[off + o:off + 2 * o]) if kind == "batch" else None)
        off += 2 * o if kind == "batch" else 0
    return out


def layer_shapes(sizes):
    """Return the (IN, OUT) weight shapes of a net with the given widths."""
    return [(int(sizes[i]), int(sizes[i + 1])) for i in range(len(sizes) - 1)]


def n_params(sizes) -> int:
    """Number of weights and biases of a net with the given widths."""
    return sum((i + 1) * o for i, o in layer_shapes(sizes))


def unpack(params, sizes):
    """Split a flat parameter vector into ([W0, W1, ...], [b0, b1, ...]) views."""
    shapes, ws, bs, off = layer_shapes(sizes), [], [], 0
    for i, o in shapes:
        ws.append(params[off:off + i * o].reshape(i, o))
        off += i * o
    for _, o in shapes:
        bs.append(params[off:off + o])
        off += o
    return ws, bs


def _forward_all(params, sizes, acts, slopes, x, last_act, norms=None, norm_state=None):
    ws, bs = unpack(_f64(params), sizes)
    nps = unpack_norm(_f64(params), sizes, norms)
    run = _run_views(_f64(norm_state) if norm_state is not None else None, sizes, norms)
    a = [_f64(x)]
    for l, (w, b) in enumerate(zip(ws, bs)):
        if l < len(ws) - 1 and norms and norms[l] is not None:  # inference: running stats
            z = a[-1] @ w + b
            g, be = nps[l]
            z = (batchnorm_infer(z, g, be, *run[l]) if norms[l] == "batch"
                 else layernorm_forward(z, g, be)[0])
            a.append(act_forward(z, acts[l], slopes[l]))
            continue
        act = last_act if l == len(ws) - 1 else acts[l]
        a.append(linear_forward(a[-1], w, b, act, slopes[l]))
    return a


def forward_net(params, sizes, acts, slopes, x, norms=None, norm_state=None) -> np.ndarray:
    """Return the network's output for x (the output activation applied).

    ``norms``: one of None, 'batch', 'layer' per hidden layer (the norm sits between
    the affine map and the activation); batch norm uses the running statistics
    ``norm_state`` (mean, then variance, of each batch norm layer in order)."""
    return _forward_all(params, sizes, acts, slopes, x, acts[-1], norms, norm_state)[-1]


def _loss_scale(cfg: dict, sw_sum: float, k: int) -> float:
    return cfg.get("loss_mult", 1.0) / (sw_sum * (k if cfg.get("loss_per_output") else 1))


def _data_loss_grad(params, sizes, acts, slopes, cfg, x, y, sw, sw_sum, step: int = 0,
                    norms=None, run=None):
    """Return (data loss, p, flat gradient of the data term).

    With ``cfg['dropout']`` (rates of the hidden outputs), hidden output l is
    multiplied by :func:`dropout_scale` keyed (cfg['seed'], step, l+1) before
    the next layer reads it, and the delta flowing back through it by the
    same multiplier; act' still reads the undropped output.  With ``norms``, a
    normalised hidden layer is act(norm(x.W + b)) on the batch's statistics;
    ``run`` (running statistics, float64) is then updated in place.

    With ``cfg['compute'] == 'bfloat16'`` the three products of each layer (x.W,
    d.W^T, x^T.d) go through :func:`bf16_matmul` (float32 operands rounded to
    bf16, float32 chains); everything else stays float64.
    """
    mm = cfg.get("compute")
    ws, bs = unpack(_f64(params), sizes)
    nps = unpack_norm(_f64(params), sizes, norms)
    runs = _run_views(run, sizes, norms) if run is not None else [None] * len(nps)
    rates = list(cfg.get("dropout") or [0.0] * (len(ws) - 1))
    h, z, inp, scales, caches = [_f64(x)], [None], [_f64(x)], [None], []
    for l, (w, b) in enumerate(zip(ws, bs)):
        last = l == len(ws) - 1
        if not last and norms and norms[l] is not None:
            fwd = batchnorm_forward if norms[l] == "batch" else layernorm_forward
            zn, cache = fwd(_matmul(inp[-1], w, mm) + b, *nps[l])
            caches.append(cache)
            if runs[l] is not None:  # torch: the running variance takes the unbiased one
                n, (rm, rv) = len(zn), runs[l]
                rm[...] = (1 - NORM_MOMENTUM) * rm + NORM_MOMENTUM * cache["mean"]
                rv[...] = (1 - NORM_MOMENTUM) * rv + NORM_MOMENTUM * cache["var"] * n / (n - 1)
            z.append(zn)
        else:
            caches.append(None)
            z.append(_matmul(inp[-1], w, mm) + b)
        h.append(act_forward(z[-1], "identity" if last else acts[l], slopes[l]))
        p = 0.0 if last else rates[l]
        scales.append(dropout_scale(h[-1].shape, p, cfg.get("seed", 0), step, l + 1) if p else None)
        inp.append(h[-1] if scales[-1] is None else h[-1] * scales[-1])
    scale = _loss_scale(cfg, sw_sum, int(sizes[-1]))
    L, p, d = loss(h[-1], y, sw, cfg["loss"], acts[-1], slopes[-1], scale,
                   cfg.get("huber_delta", 1.0), cfg.get("quantiles"))
    gw, gb, gn = [None] * len(ws), [None] * len(ws), [None] * len(ws)
    for l in range(len(ws) - 1, -1, -1):
        gw[l], gb[l] = _matmul(inp[l].T, d, mm), d.sum(axis=0)
        if l > 0:
            d = act_backward(_matmul(d, ws[l].T, mm), h[l], acts[l - 1], slopes[l - 1], z[l])
            if scales[l] is not None:
                d = d * scales[l]
            if caches[l - 1] is not None:
                bwd = batchnorm_backward if norms[l - 1] == "batch" else layernorm_backward
                d, dg, db = bwd(d, caches[l - 1])
                gn[l - 1] = np.r_[dg, db]
    return L, p, np.concatenate([g.ravel() for g in gw] + gb + [g for g in gn if g is not None])


def loss_grad(params, sizes, acts, slopes, cfg: dict, x, y, sw=None):
    """Return (objective, gradient) over all of (x, y): data loss + 0.5*l2_eff*||W||^2."""
    params = _f64(params)
    sw_sum = float(len(x)) if sw is None else float(np.sum(sw)) or 1.0
    cfg = {**cfg, "dropout": None}  # the full-data objective is deterministic: no dropout
    L, _, g = _data_loss_grad(params, sizes, acts, slopes, cfg, x, y, sw, sw_sum)
    l2 = cfg.get("l2", 0.0) / (sw_sum if cfg.get("l2_batch_scaled") else 1.0)
    nw = sum(i * o for i, o in layer_shapes(sizes))
    g[:nw] += l2 * params[:nw]
    return L + 0.5 * l2 * float(params[:nw] @ params[:nw]), g


def clip_grad(g, max_norm: Optional[float] = None, value: Optional[float] = None):
    """Return (clipped g, its L2 norm before clipping), torch.nn.utils' rules:
    ``max_norm``: g * min(1, max_norm / (||g||_2 + 1e-6)) over the whole vector;
    ``value``: clamp(g, -value, value)."""
    g = _f64(g).copy()
    norm = float(np.sqrt(g @ g))
    if max_norm:
        c = max_norm / (norm + 1e-6)
        if c < 1:
            g *= c
    if value:
        g = np.clip(g, -value, value)
    return g, norm


def _count_correct(p, y, metric: int) -> int:
    if metric == Metric.ARGMAX:
        return int((p.argmax(axis=1) == y.argmax(axis=1)).sum())
    return int(((p > 0.5) == (y > 0.5)).all(axis=1).sum())


def train_chunk(params, opt: dict, sizes, acts, slopes, cfg: dict, x, y, sw=None, order=None,
                start: int = 0, n_batches: int = 1, batch: int = 1, state: Optional[dict] = None,
                lr_steps=None, mom_steps=None, norms=None):
    """Mirror of ``fm_train``: run mini-batches; return (params, state, stats).

    ``state`` holds the optimizer buffers 's1', 's2', 's3' and 'step' (the
    returned one is new; nothing passed in is modified).  Per batch: the
    hyper-parameters of ``lr_steps``/``mom_steps`` (momentum, or beta1 for
    Adam/AdamW) when given; step += 1; the rows ``order[lo:lo+batch]``;
    x + ``cfg['input_noise']`` * :func:`rng_normal` (stream 0); the forward and
    gradient of :func:`_data_loss_grad`; that gradient clipped by
    :func:`clip_grad` (``cfg['clip_norm']``, ``cfg['clip_value']``, 0: off);
    penalties g_W += l2_eff*W + l1*sign(W) with l2_eff = l2 (or l2/sum(sw_batch)
    when l2_batch_scaled); then :func:`optim_step`.

    ``stats`` = [sum loss*rows, correct rows, rows, sum penalty*rows] with
    penalty = 0.5*l2_eff*||W||^2 + l1*||W||_1 before the update; metric 3
    (regression) appends sum|p-y|, sum (p-y)^2 and the per-output sums of
    (p-y)^2.

    ``norms`` (None, 'batch' or 'layer' per hidden layer) normalises hidden
    layers (see :func:`_data_loss_grad`); batch norm's running statistics are
    ``state['norm_state']`` (default :func:`norm_state_init`), updated on each
    batch and returned in the new state.
    """
    params = _f64(params).copy()
    state = dict(state or {})
    run = None
    if norms is not None:
        run = state.get("norm_state")
        run = norm_state_init(sizes, norms) if run is None else _f64(run).copy()
        state["norm_state"] = run
    step = state.get("step", opt.get("step", 0))
    x, y = _f64(x), _f64(y)
    order = np.arange(len(x)) if order is None else np.asarray(order)
    nw = sum(i * o for i, o in layer_shapes(sizes))
    metric = cfg.get("metric", 0)
    stats = np.zeros(6 + y.shape[1] if metric == Metric.REGRESSION else 4)
    opt = dict(opt)
    for bi in range(n_batches):
        lo = start + bi * batch
        if lo >= len(x):
            break
        if lr_steps is not None:
            opt["lr"] = float(lr_steps[bi])
        if mom_steps is not None:
            opt["beta1" if opt["kind"] in ("adam", "adamw") else "momentum"] = float(mom_steps[bi])
        step += 1
        idx = order[lo:lo + batch]
        xb = x[idx]
        if cfg.get("input_noise"):
            xb = gaussian_noise(xb, cfg["input_noise"], cfg.get("seed", 0), step, 0)
        swb = None if sw is None else _f64(sw)[idx]
        sw_sum = float(len(idx)) if swb is None else (float(swb.sum()) or 1.0)
        L, p, g = _data_loss_grad(params, sizes, acts, slopes, cfg, xb, y[idx], swb, sw_sum, step,
                                  norms, run)
        stats[0] += L * len(idx)
        stats[2] += len(idx)
        if metric in (Metric.ARGMAX, Metric.THRESHOLD):
            stats[1] += _count_correct(p, y[idx], metric)
        elif metric == Metric.REGRESSION:
            r = p - y[idx]
            stats[4] += np.abs(r).sum()
            stats[5] += (r**2).sum()
            stats[6:] += (r**2).sum(axis=0)
        g, _ = clip_grad(g, cfg.get("clip_norm"), cfg.get("clip_value"))
        l2 = cfg.get("l2", 0.0) / (sw_sum if cfg.get("l2_batch_scaled") else 1.0)
        l1, wv = cfg.get("l1", 0.0), params[:nw]
        stats[3] += (0.5 * l2 * float(wv @ wv) + l1 * float(np.abs(wv).sum())) * len(idx)
        g[:nw] += l2 * wv + l1 * np.sign(wv)
        n_decay = len(params) if opt.get("decay_bias", True) else nw
        params, buf = optim_step(params, g, {**opt, "step": step}, state, n_decay)
        state.update(buf)
    state["step"] = step
    return params, state, stats


def train(params, opt: dict, sizes, acts, slopes, cfg: dict, x, y, sw=None, order=None,
          start: int = 0, n_batches: int = 1, batch: int = 1, s1=None, s2=None):
    """:func:`train_chunk` with two state buffers; return (params, s1, s2, stats, step).

    ``opt`` is not modified; the returned step is its new value.
    """
    params, st, stats = train_chunk(params, opt, sizes, acts, slopes, cfg, x, y, sw, order, start,
                                    n_batches, batch, {"s1": s1, "s2": s2,
                                                       "step": opt.get("step", 0)})
    return params, st["s1"], st["s2"], stats, st["step"]


def perceptron_epoch(w, b: float, x, y, order=None, eta: float = 1.0):
    """One epoch of Rosenblatt's rule; return (w, b, mistakes).

    For each row i (in ``order``): if y_i * (w.x_i + b) <= 0, then
    w += eta*y_i*x_i and b += eta*y_i.  y is in {-1, +1}.
    """
    w, x, y = _f64(w).copy(), _f64(x), _f64(y)
    mistakes = 0
    for i in (range(len(x)) if order is None else order):
        if y[i] * (w @ x[i] + b) <= 0:
            w += eta * y[i] * x[i]
            b += eta * y[i]
            mistakes += 1
    return w, b, mistakes


def sgd_shuffle(ind, seed: int) -> np.ndarray:
    """scikit-learn's SequentialDataset.shuffle: Fisher-Yates with xorshift32.

    The state starts at ``seed`` (0 is replaced by 1); each draw is
    ``s ^= s << 13; s ^= s >> 17; s ^= s << 5`` (32-bit) taken modulo 2^31.
    Returns a shuffled copy of ind.
    """
    ind = np.array(ind, copy=True)
    s = int(seed) & 0xFFFFFFFF
    for i in range(len(ind) - 1):
        s = s or 1
        s ^= (s << 13) & 0xFFFFFFFF
        s ^= s >> 17
        s ^= (s << 5) & 0xFFFFFFFF
        j = i + (s % 2**31) % (len(ind) - i)
        ind[i], ind[j] = ind[j], ind[i]
    return ind


def sgd_perceptron_epoch(w, b: float, x, y, sw=None, order=None, skip=None, *,
                         penalty: str = "none", alpha: float = 0.0, l1_ratio: float = 0.15,
                         eta: float = 1.0, fit_intercept: bool = True, q=None, u: float = 0.0,
                         weight_pos: float = 1.0, weight_neg: float = 1.0, sparse: bool = False):
    """One epoch of scikit-learn's Perceptron SGD, in float64, written plainly.

    For each row i in ``order`` (rows with ``skip[i]`` left out), with
    p = w.x_i + b and y_i in {-1, +1}:

    * loss_i = max(0, -y_i p); a mistake is y_i p <= 0 (the boundary too);
    * L2 / elastic-net: ``w *= max(0, 1 - (1 - l1_ratio) eta alpha)``;
    * on a mistake: w += eta y_i cw_i sw_i x_i and b += the same step
      (cw_i = weight_pos if y_i > 0 else weight_neg);
    * L1 / elastic-net: u += l1_ratio eta alpha, then each weight moves
      towards 0 by the cumulative penalty it has not yet received (u - q_j
      or u + q_j), never crossing 0 (Tsuruoka et al.'s truncated gradient);
      q_j accumulates what was applied.  For sparse rows (``sparse=True``)
      only the row's nonzero features are penalised, as scikit-learn does
      for CSR input.

    Returns (w, b, q, u, sum of losses).
    """
    w, x, y = _f64(w).copy(), _f64(x), _f64(y)
    q = np.zeros_like(w) if q is None else _f64(q).copy()
    sw = np.ones(len(x)) if sw is None else _f64(sw)
    l1r = {"l2": 0.0, "l1": 1.0}.get(penalty, l1_ratio)
    total = 0.0
    for i in (range(len(x)) if order is None else order):
        if skip is not None and skip[i]:
            continue
        p = float(w @ x[i]) + b
        mistake = y[i] * p <= 0
        total += -y[i] * p if mistake else 0.0
        if penalty in ("l2", "elasticnet"):
            w *= max(0.0, 1.0 - (1.0 - l1r) * eta * alpha)
        if mistake:
            step = eta * y[i] * (weight_pos if y[i] > 0 else weight_neg) * sw[i]
            w += step * x[i]
            b += step if fit_intercept else 0.0
        if penalty in ("l1", "elasticnet"):
            u += l1r * eta * alpha
            before = w.copy()
            w = np.where(before > 0, np.maximum(0.0, before - (u + q)),
                         np.where(before < 0, np.minimum(0.0, before + (u - q)), before))
            if sparse:
                w = np.where(x[i] != 0, w, before)
            q += w - before
    return w, b, q, u, total


# ---------------------------------------------------------------------------- int8 inference
# The twin of csrc/qgemm/ (fastmlp.h, "int8 inference").  Unlike the rest of this module it
# computes in float32 where the C code does, operation by operation (IEEE float32 multiply,
# add and divide round the same everywhere), so its integers equal the kernels' bit for bit.

def quantize_rows_u8(x, static_scale: float = 0.0, static_zp: int = 0):
    """Rows of float32 ``x`` as uint8 with a zero point: ``(q, scale, zp)``.

    Per row (``static_scale`` 0): ``lo = min(0, min x)``, ``hi = max(0, max x)``,
    ``r = hi - lo``, ``scale = r / 255``, ``inv = 255 / r``, ``zp = rne(-lo * inv)``
    (scale 1, zp 0 for an all-zero row); static: ``inv = 1 / static_scale``.
    Then ``q = clip(rne(clip(x * inv, -1024, 1024)) + zp, 0, 255)``, all in float32,
    rne = round half to even.
    """
    x = np.asarray(x, dtype=np.float32)
    m = x.shape[0]
    f32 = np.float32
    if static_scale > 0:
        scale = np.full(m, static_scale, np.float32)
        inv = np.full(m, f32(1) / f32(static_scale), np.float32)
        zp = np.full(m, static_zp, np.int32)
    else:
        lo = np.minimum(x.min(axis=1), f32(0)) if x.shape[1] else np.zeros(m, np.float32)
        hi = np.maximum(x.max(axis=1), f32(0)) if x.shape[1] else np.zeros(m, np.float32)
        r = (hi - lo).astype(np.float32)
        pos = r > 0
        rr = np.where(pos, r, f32(1)).astype(np.float32)
        scale = np.where(pos, rr / f32(255), f32(1)).astype(np.float32)
        inv = np.where(pos, f32(255) / rr, f32(1)).astype(np.float32)
        zp = np.where(pos, np.clip(np.rint((-lo) * inv), 0, 255), 0).astype(np.int32)
    v = np.clip(x * inv[:, None], f32(-1024), f32(1024))
    q = np.clip(np.rint(v).astype(np.int32) + zp[:, None], 0, 255).astype(np.uint8)
    return q, scale, zp


def qgemm_int(q, zp, w_q) -> np.ndarray:
    """The int8 product's integer result, ``q . w_q - zp * colsum(w_q)`` (int64, exact;
    the kernels' int32 equals it while the input width is at most 65536)."""
    qi = np.asarray(q, dtype=np.int64)
    wi = np.asarray(w_q, dtype=np.int64)
    return qi @ wi - np.asarray(zp, np.int64)[:, None] * wi.sum(axis=0)[None, :]


def qlinear_forward(q, scale, zp, w_q, wscale, bias, act: str = "identity",
                    slope: float = 0.0) -> np.ndarray:
    """``act(float32(acc) * (scale_i * wscale_j) + bias_j)`` in float32, the kernels'
    epilogue operation by operation (a multiply, then an add); ``acc`` from :func:`qgemm_int`."""
    acc = qgemm_int(q, zp, w_q).astype(np.float32)
    s = np.asarray(scale, np.float32)[:, None] * np.asarray(wscale, np.float32)[None, :]
    y = (acc * s).astype(np.float32) + np.asarray(bias, np.float32)[None, :]
    y = y.astype(np.float32)
    if act == "relu":
        return np.where(y > 0, y, np.float32(0)).astype(np.float32)
    if act == "leaky_relu":
        return np.where(y > 0, y, np.float32(slope) * y).astype(np.float32)
    return act_forward(y, act, slope).astype(np.float32)


def qforward_net(layers, x, last_act: str = "identity") -> np.ndarray:
    """An int8 network on ``x``: per layer, :func:`quantize_rows_u8` (per row, or the
    layer's static ``xscale``/``xzp``) then :func:`qlinear_forward`.  ``layers``: dicts
    with ``w_q`` (in, out) int8, ``wscale``, ``bias``, ``act``, ``slope`` and optional
    ``xscale``/``xzp``; the last layer's activation is ``last_act``."""
    h = np.asarray(x, dtype=np.float32)
    for l, d in enumerate(layers):
        q, s, z = quantize_rows_u8(h, d.get("xscale", 0.0), d.get("xzp", 0))
        act = last_act if l == len(layers) - 1 else d["act"]
        h = qlinear_forward(q, s, z, d["w_q"], d["wscale"], d["bias"], act, d.get("slope", 0.0))
    return h
