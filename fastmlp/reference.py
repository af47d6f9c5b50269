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
* Activation derivatives are written in terms of the activation OUTPUT a.
* Losses: ``L = scale * sum_i sw_i * sum_j l(p_ij, y_ij)`` with the element
  losses of :func:`loss`.
* Optimizers follow ``torch.optim`` (see :func:`optim_update`).
"""
from __future__ import annotations

from typing import Optional

import numpy as np

__all__ = [
    "ACTIVATIONS", "LOSSES", "OPTIMIZERS", "act_forward", "act_backward", "linear_forward",
    "linear_backward", "loss", "optim_update", "layer_shapes", "unpack", "n_params",
    "forward_net", "loss_grad", "train", "perceptron_epoch", "sgd_shuffle",
    "sgd_perceptron_epoch",
]

ACTIVATIONS = ("identity", "step", "sigmoid", "tanh", "relu", "leaky_relu", "softmax")
LOSSES = ("mse", "mae", "bce", "cce", "poisson")
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
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    raise ValueError(f"unknown activation {act!r}")


def act_backward(da, a, act: str, slope: float = 0.0) -> np.ndarray:
    """Return dz = da * act'(z), with the derivative written in terms of a = act(z)."""
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


def linear_forward(x, w, b, act: str = "identity", slope: float = 0.0) -> np.ndarray:
    """Return act(x @ w + b)."""
    return act_forward(_f64(x) @ _f64(w) + _f64(b), act, slope)


def linear_backward(dz, x, w, act_in: str = "identity", slope_in: float = 0.0):
    """Return (dx, dw, db) for z = x @ w + b given dz; dx includes act_in'(x)."""
    dz, x, w = _f64(dz), _f64(x), _f64(w)
    dx = act_backward(dz @ w.T, x, act_in, slope_in)
    return dx, x.T @ dz, dz.sum(axis=0)


def loss(z, y, sw=None, loss: str = "mse", out_act: str = "identity", slope: float = 0.0,
         scale: float = 1.0):
    """Return (L, p, dz): the loss, the output activation and dL/dz.

    Element losses: mse (p-y)^2, mae |p-y|, bce -(y log p + (1-y) log(1-p))
    with p = sigmoid(z), cce -sum_j y_j log p_j with p = softmax(z), poisson
    y log(y/p) - y + p with p = exp(z) (y log(y/p) = 0 where y == 0).
    ``L = scale * sum_i sw_i * sum_j l_ij``.
    """
    z, y = _f64(z), _f64(y)
    sw = np.ones(len(z)) if sw is None else _f64(sw)
    if loss == "bce":
        p = act_forward(z, "sigmoid")
        per_row = (np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))).sum(axis=1)
        dz = p - y
    elif loss == "cce":
        lse = z.max(axis=1, keepdims=True)
        lse = lse + np.log(np.exp(z - lse).sum(axis=1, keepdims=True))
        p = np.exp(z - lse)
        per_row = (y * (lse - z)).sum(axis=1)
        dz = p * y.sum(axis=1, keepdims=True) - y
    elif loss == "poisson":
        p = np.exp(z)
        ylogy = np.where(y > 0, y * (np.log(np.where(y > 0, y, 1.0)) - z), 0.0)
        per_row = (ylogy - y + p).sum(axis=1)
        dz = p - y
    elif loss in ("mse", "mae"):
        p = act_forward(z, out_act, slope)
        r = p - y
        per_row = (r**2 if loss == "mse" else np.abs(r)).sum(axis=1)
        dp = 2 * r if loss == "mse" else np.sign(r)
        dz = act_backward(dp, p, out_act, slope)
    else:
        raise ValueError(f"unknown loss {loss!r}")
    return scale * float((sw * per_row).sum()), p, scale * sw[:, None] * dz


def optim_update(w, g, opt: dict, s1=None, s2=None, n_decay: Optional[int] = None):
    """Return (w, s1, s2) after one update; ``opt['step']`` counts this update (t >= 1).

    With g' = g + weight_decay*w + l1*sign(w) on the first n_decay entries
    (AdamW: no coupled decay) -- torch.optim's definitions:

    * sgd: b = g' if t == 1 else momentum*b + (1-dampening)*g';
      d = g' + momentum*b (nesterov), b (momentum) or g'; w -= lr*d
    * adagrad: s += g'^2; w -= lr*g'/(sqrt(s)+eps)
    * rmsprop: v = alpha*v + (1-alpha)*g'^2; w -= lr*g'/(sqrt(v)+eps)
    * adam: m = b1*m + (1-b1)*g'; v = b2*v + (1-b2)*g'^2;
      w -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)
    * adamw: w[:n_decay] *= 1 - lr*weight_decay, then adam.

    With ``opt['sklearn']`` true, scikit-learn's forms instead:
    sgd: v = momentum*v - lr*g'; w += momentum*v - lr*g' (nesterov) or v;
    adam: w -= lr*sqrt(1-b2^t)/(1-b1^t) * m / (sqrt(v) + eps).
    """
    w, g = _f64(w).copy(), _f64(g)
    n = len(w) if n_decay is None else n_decay
    s1 = np.zeros_like(w) if s1 is None else _f64(s1).copy()
    s2 = np.zeros_like(w) if s2 is None else _f64(s2).copy()
    kind, lr, t = opt["kind"], opt["lr"], opt["step"]
    wd, l1 = opt.get("weight_decay", 0.0), opt.get("l1", 0.0)
    gp = g.copy()
    gp[:n] += (0.0 if kind == "adamw" else wd) * w[:n] + l1 * np.sign(w[:n])
    sk = opt.get("sklearn", False)
    if kind == "sgd" and sk:
        mu = opt.get("momentum", 0.0)
        v = mu * s1 - lr * gp
        if mu != 0:
            s1 = v
        return w + (mu * v - lr * gp if opt.get("nesterov", False) else v), s1, s2
    if kind == "sgd":
        mu = opt.get("momentum", 0.0)
        d = gp
        if mu != 0:
            s1 = gp.copy() if t == 1 else mu * s1 + (1 - opt.get("dampening", 0.0)) * gp
            d = gp + mu * s1 if opt.get("nesterov", False) else s1
        return w - lr * d, s1, s2
    eps = opt.get("eps", 1e-8)
    if kind == "adagrad":
        s1 = s1 + gp**2
        return w - lr * gp / (np.sqrt(s1) + eps), s1, s2
    if kind == "rmsprop":
        a = opt.get("alpha", 0.99)
        s1 = a * s1 + (1 - a) * gp**2
        return w - lr * gp / (np.sqrt(s1) + eps), s1, s2
    if kind in ("adam", "adamw"):
        b1, b2 = opt.get("beta1", 0.9), opt.get("beta2", 0.999)
        if kind == "adamw":
            w[:n] *= 1 - lr * wd
        s1 = b1 * s1 + (1 - b1) * gp
        s2 = b2 * s2 + (1 - b2) * gp**2
        if sk:
            return w - lr * np.sqrt(1 - b2**t) / (1 - b1**t) * s1 / (np.sqrt(s2) + eps), s1, s2
        step = lr / (1 - b1**t)
        return w - step * s1 / (np.sqrt(s2) / np.sqrt(1 - b2**t) + eps), s1, s2
    raise ValueError(f"unknown optimizer {kind!r}")


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


def _forward_all(params, sizes, acts, slopes, x, last_act):
    ws, bs = unpack(_f64(params), sizes)
    a = [_f64(x)]
    for l, (w, b) in enumerate(zip(ws, bs)):
        act = last_act if l == len(ws) - 1 else acts[l]
        a.append(linear_forward(a[-1], w, b, act, slopes[l]))
    return a


def forward_net(params, sizes, acts, slopes, x) -> np.ndarray:
    """Return the network's output for x (the output activation applied)."""
    return _forward_all(params, sizes, acts, slopes, x, acts[-1])[-1]


def _loss_scale(cfg: dict, sw_sum: float, k: int) -> float:
    return cfg.get("loss_mult", 1.0) / (sw_sum * (k if cfg.get("loss_per_output") else 1))


def _data_loss_grad(params, sizes, acts, slopes, cfg, x, y, sw, sw_sum):
    """Return (data loss, p, flat gradient of the data term)."""
    ws, _ = unpack(_f64(params), sizes)
    a = _forward_all(params, sizes, acts, slopes, x, "identity")
    scale = _loss_scale(cfg, sw_sum, int(sizes[-1]))
    L, p, d = loss(a[-1], y, sw, cfg["loss"], acts[-1], slopes[-1], scale)
    gw, gb = [None] * len(ws), [None] * len(ws)
    for l in range(len(ws) - 1, -1, -1):
        act_in = acts[l - 1] if l > 0 else "identity"
        d_prev, gw[l], gb[l] = linear_backward(d, a[l], ws[l], act_in, slopes[l - 1] if l else 0)
        d = d_prev
    return L, p, np.concatenate([g.ravel() for g in gw] + gb)


def loss_grad(params, sizes, acts, slopes, cfg: dict, x, y, sw=None):
    """Return (objective, gradient) over all of (x, y): data loss + 0.5*l2_eff*||W||^2."""
    params = _f64(params)
    sw_sum = float(len(x)) if sw is None else float(np.sum(sw)) or 1.0
    L, _, g = _data_loss_grad(params, sizes, acts, slopes, cfg, x, y, sw, sw_sum)
    l2 = cfg.get("l2", 0.0) / (sw_sum if cfg.get("l2_batch_scaled") else 1.0)
    nw = sum(i * o for i, o in layer_shapes(sizes))
    g[:nw] += l2 * params[:nw]
    return L + 0.5 * l2 * float(params[:nw] @ params[:nw]), g


def _count_correct(p, y, metric: int) -> int:
    if metric == 1:
        return int((p.argmax(axis=1) == y.argmax(axis=1)).sum())
    return int(((p > 0.5) == (y > 0.5)).all(axis=1).sum())


def train(params, opt: dict, sizes, acts, slopes, cfg: dict, x, y, sw=None, order=None,
          start: int = 0, n_batches: int = 1, batch: int = 1, s1=None, s2=None):
    """Mirror of ``fm_train``: run mini-batches; return (params, s1, s2, stats, step).

    ``stats`` = [sum loss*rows, correct rows, rows, sum l2-penalty*rows].
    ``opt`` is not modified; the returned step is its new value.
    """
    params = _f64(params).copy()
    s1 = np.zeros_like(params) if s1 is None else _f64(s1).copy()
    s2 = np.zeros_like(params) if s2 is None else _f64(s2).copy()
    x, y = _f64(x), _f64(y)
    order = np.arange(len(x)) if order is None else np.asarray(order)
    nw = sum(i * o for i, o in layer_shapes(sizes))
    stats, step = np.zeros(4), opt.get("step", 0)
    for bi in range(n_batches):
        lo = start + bi * batch
        if lo >= len(x):
            break
        idx = order[lo:lo + batch]
        swb = None if sw is None else _f64(sw)[idx]
        sw_sum = float(len(idx)) if swb is None else (float(swb.sum()) or 1.0)
        L, p, g = _data_loss_grad(params, sizes, acts, slopes, cfg, x[idx], y[idx], swb, sw_sum)
        stats += [L * len(idx), _count_correct(p, y[idx], cfg.get("metric", 0))
                  if cfg.get("metric") else 0, len(idx), 0.0]
        l2 = cfg.get("l2", 0.0) / (sw_sum if cfg.get("l2_batch_scaled") else 1.0)
        if l2:
            stats[3] += 0.5 * l2 * float(params[:nw] @ params[:nw]) * len(idx)
            g[:nw] += l2 * params[:nw]
        step += 1
        n_decay = len(params) if opt.get("decay_bias", True) else nw
        params, s1, s2 = optim_update(params, g, {**opt, "step": step}, s1, s2, n_decay)
    return params, s1, s2, stats, step


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
    * L2 / elastic-net: w *= max(0, 1 - (1 - l1_ratio) eta alpha);
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
