"""The compiled core and the name -> enum tables, in one place.

Every name a user may give (activation, loss, optimizer) maps to the C enum
here; nothing else in the package spells an enum value.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from fastmlp import _core as core
from fastmlp._validation import is_sparse

ACTIVATIONS: dict[str, int] = {
    "identity": core.ACT_IDENTITY,
    "step": core.ACT_STEP,
    "sigmoid": core.ACT_SIGMOID,
    "tanh": core.ACT_TANH,
    "relu": core.ACT_RELU,
    "leaky_relu": core.ACT_LEAKY_RELU,
    "softmax": core.ACT_SOFTMAX,
    "gelu": core.ACT_GELU,
    "gelu_tanh": core.ACT_GELU_TANH,
    "silu": core.ACT_SILU,
    "elu": core.ACT_ELU,
    "selu": core.ACT_SELU,
    "softplus": core.ACT_SOFTPLUS,
}
#: accepted spellings -> canonical name
ACTIVATION_ALIASES: dict[str, str] = {"linear": "identity", "logistic": "sigmoid",
                                      "heaviside": "step", "leaky": "leaky_relu",
                                      "leakyrelu": "leaky_relu"}
HIDDEN_ACTIVATIONS = ("identity", "step", "sigmoid", "tanh", "relu", "leaky_relu",
                      "gelu", "gelu_tanh", "silu", "elu", "selu", "softplus")
#: ELU's alpha when none is given (torch.nn.ELU's default)
ELU_ALPHA = 1.0


def act_params(names: list[str], leaky_slopes: list[float], elu_alpha: float) -> np.ndarray:
    """fm_net's slopes: each layer's activation parameter, the leaky-ReLU slope of a
    'leaky_relu' layer, ELU's alpha of an 'elu' layer, 0 for the others (which ignore it)."""
    return np.array([s if a == "leaky_relu" else elu_alpha if a == "elu" else 0.0
                     for a, s in zip(names, leaky_slopes)], dtype=np.float64)

LOSSES: dict[str, int] = {
    "mse": core.LOSS_MSE,
    "mae": core.LOSS_MAE,
    "bce": core.LOSS_BCE,
    "cce": core.LOSS_CCE,
    "quadratic": core.LOSS_MSE,
    "huber": core.LOSS_HUBER,
    "quantile": core.LOSS_QUANTILE,
}
#: how each loss is reduced: (multiplier, mean over outputs too?)
#: mse/mae/bce average over samples and outputs (torch.nn's 'mean'); cce
#: sums over classes and averages over samples; 'quadratic' is the textbook
#: C = 1/(2n) sum_x ||y(x) - a(x)||^2 (Nielsen, ch. 1-2): half the squared
#: error summed over outputs, averaged over samples.  huber and quantile are
#: torch's reduction='mean' too: the element losses (torch.nn.HuberLoss's, and
#: the pinball loss) averaged over samples and outputs.
LOSS_REDUCTION: dict[str, tuple[float, bool]] = {
    "mse": (1.0, True), "mae": (1.0, True), "bce": (1.0, True), "cce": (1.0, False),
    "quadratic": (0.5, False), "huber": (1.0, True), "quantile": (1.0, True),
}
LOSS_ALIASES: dict[str, str] = {
    "squared_error": "mse", "mean_squared_error": "mse", "quadratic_cost": "quadratic",
    "absolute_error": "mae", "mean_absolute_error": "mae",
    "binary_crossentropy": "bce", "binary_cross_entropy": "bce", "log_loss_binary": "bce",
    "categorical_crossentropy": "cce", "cross_entropy": "cce", "crossentropy": "cce",
    "log_loss": "cce",
    "huber_loss": "huber", "pinball": "quantile", "pinball_loss": "quantile",
    "quantile_loss": "quantile",
}
#: the output activation each cross-entropy is fused with
LOSS_OUTPUT = {"bce": "sigmoid", "cce": "softmax"}

#: ``norm=`` kinds (fastmlp._validation.check_norm's canonical names) -> enum fm_norm
NORMS: dict = {None: core.NORM_NONE, "batch": core.NORM_BATCH, "layer": core.NORM_LAYER}

OPTIMIZERS: dict[str, int] = {
    "sgd": core.OPT_SGD,
    "adagrad": core.OPT_ADAGRAD,
    "rmsprop": core.OPT_RMSPROP,
    "adam": core.OPT_ADAM,
    "adamw": core.OPT_ADAMW,
}


#: RMSprop's smoothing constant when none is given (torch.optim's default)
RMSPROP_ALPHA = 0.99


class Metric(enum.IntEnum):
    """What fm_train counts beside the loss (fm_train_cfg.metric)."""

    NONE = 0
    ARGMAX = 1       # accuracy of the argmax (single-label classification)
    THRESHOLD = 2    # accuracy with every output thresholded at 0.5 (binary, multilabel)
    REGRESSION = 3   # sums of |p - y|, (p - y)^2 and (p - y)^2 per output


def stats_buffer(n_outputs: int) -> np.ndarray:
    """A zeroed stats vector long enough for any metric of a net with n_outputs."""
    return np.zeros(6 + n_outputs)


@dataclass(frozen=True)
class TrainStats:
    """fm_train's stats vector by name (csrc/fastmlp.h): sums over the rows trained on."""

    data_loss: float         # sum over batches of the data loss times the batch's rows
    correct: float           # rows classified correctly (Metric.ARGMAX / THRESHOLD)
    rows: float              # rows processed
    penalty: float           # sum over batches of the L2 (+ L1) term times the batch's rows
    abs_err: float           # Metric.REGRESSION: sum of |p - y| over all outputs
    sq_err: float            # Metric.REGRESSION: sum of (p - y)^2 over all outputs
    sq_err_k: np.ndarray     # Metric.REGRESSION: sum of (p - y)^2 per output

    @classmethod
    def decode(cls, stats: np.ndarray) -> TrainStats:
        """The one place that reads the stats vector by index."""
        return cls(float(stats[0]), float(stats[1]), float(stats[2]), float(stats[3]),
                   float(stats[4]) if stats.size > 4 else 0.0,
                   float(stats[5]) if stats.size > 5 else 0.0, np.array(stats[6:], copy=True))


def canonical(name: str, table: dict, aliases: dict, what: str) -> str:
    """Return the canonical spelling of name, or raise ValueError listing the choices."""
    if isinstance(name, str):
        key = name.lower().replace("-", "_")
        key = aliases.get(key, key)
        if key in table:
            return key
    raise ValueError(f"unknown {what} {name!r}; expected one of {', '.join(map(repr, table))}")


def csr_parts(X, dtype) -> tuple:
    """CSR input as the core takes it, ``(data, indices, indptr, n_cols)``: values of
    ``dtype``, indices and indptr both int32 or both int64, C-contiguous (no copy
    when X already is; :func:`fastmlp._validation.check_csr` checked the indices)."""
    data, indices, indptr = X.data, X.indices, X.indptr
    if indices.dtype != indptr.dtype or indices.dtype not in (np.int32, np.int64):
        indices, indptr = indices.astype(np.int64), indptr.astype(np.int64)
    return (np.ascontiguousarray(data, dtype=dtype), np.ascontiguousarray(indices),
            np.ascontiguousarray(indptr), int(X.shape[1]))


def _is_csr(x) -> bool:
    """True for a scipy.sparse CSR matrix (another sparse format is an error here)."""
    if not is_sparse(x):
        return False
    if x.format != "csr":
        raise TypeError(f"the core reads sparse input as CSR; got {x.format!r} "
                        "(fastmlp._validation.check_csr converts it)")
    return True


def forward_net(out, work, params, sizes, acts, slopes, X, batch: int, n_threads: int,
                norms=None, norm_state=None) -> None:
    """out = net(X), ``batch`` rows at a time: ``_core.forward_net`` for dense X,
    ``_core.forward_net_csr`` for a CSR matrix X (never densified)."""
    if _is_csr(X):
        core.forward_net_csr(out, work, params, sizes, acts, slopes, csr_parts(X, params.dtype),
                             batch, n_threads, norms, norm_state)
    else:
        core.forward_net(out, work, params, sizes, acts, slopes, X, batch, n_threads, norms,
                         norm_state)


def loss_grad(grad, work, params, sizes, acts, slopes, cfg: dict, X, Y, sw, batch: int,
              n_threads: int) -> float:
    """The full-data objective and its gradient (``_core.loss_grad``, or
    ``_core.loss_grad_csr`` for a CSR matrix X, never densified)."""
    if _is_csr(X):
        return core.loss_grad_csr(grad, work, params, sizes, acts, slopes, cfg,
                                  csr_parts(X, params.dtype), Y, sw, batch, n_threads)
    return core.loss_grad(grad, work, params, sizes, acts, slopes, cfg, X, Y, sw, batch,
                          n_threads)


def train_steps(*, params, grad, work, stats, net: tuple, opt: dict, cfg: dict, x, y,
                n_batches: int, batch: int, start: int = 0, sw=None, order=None,
                s1=None, s2=None, s3=None, dropout=None, lr_steps=None, mom_steps=None,
                n_threads: int = 1, fast: bool | None = None,
                path_steps=None, norms=None, norm_state=None) -> tuple[int, int]:
    """Run up to ``n_batches`` mini-batches of ``batch`` rows in C; the one caller of
    ``_core.train`` (a change of the core's training call is adapted here only).

    params, grad, s1-s3, work: flat buffers of the net's dtype; stats: float64 sums
    (see :class:`TrainStats`); net: (sizes, acts, slopes); opt: the fm_optim dict
    (its 'step' is written back before return); cfg: the fm_train_cfg dict; x, y, sw:
    the rows, ``order`` (int64 row indices) or None for x's order, starting at row
    ``start`` of that order (x may be a CSR matrix: its rows are read in place, see
    ``_core.train``'s x_csr); dropout / lr_steps / mom_steps: per-layer rates and
    per-batch learning rates / momenta, or None; fast: False runs the plain step (no
    speed path), None the default (``_core.FAST_DEFAULT``: FASTMLP_FAST at import);
    path_steps: int64 (L, len(_core.FAST_PATHS)) that counts (+=) the steps each
    layer took on each speed path, or None; norms: int32 enum fm_norm per hidden layer
    (or None) and norm_state the batch norms' running statistics, updated in place.
    Returns (batches done, optimizer step); batches done is -(b + 1) when
    cfg['check_finite'] found a non-finite input in batch b (nothing was changed by it).
    """
    sizes, acts, slopes = net
    x_csr = None
    if _is_csr(x):
        x, x_csr = None, csr_parts(x, params.dtype)
    return core.train({
        "params": params, "grad": grad, "work": work, "stats": stats, "s1": s1, "s2": s2,
        "s3": s3, "opt": opt, "sizes": sizes, "acts": acts, "slopes": slopes, "cfg": cfg,
        "dropout": dropout, "x": x, "y": y, "sw": sw, "order": order, "start": start,
        "n_batches": n_batches, "batch": batch, "n_threads": n_threads, "lr_steps": lr_steps,
        "mom_steps": mom_steps, "fast": fast, "path_steps": path_steps, "norms": norms,
        "norm_state": norm_state, "x_csr": x_csr})
