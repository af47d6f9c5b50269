"""L-BFGS over a network's flat parameters: the one implementation behind
``MLP.fit(optimizer='lbfgs')`` and the drop-ins' ``solver='lbfgs'``.

The objective is the full-batch loss plus the L2 term, with its gradient,
both computed by the C kernels in one pass (``_core.loss_grad``, the
parameters in their flat layout: every weight matrix, then every bias);
scipy's L-BFGS-B minimises it (``maxiter``, ``maxfun``, ``gtol``: scikit-learn's
``max_iter``, ``max_fun``, ``tol``).  scipy's iterate is float64; each point is
evaluated at the parameters rounded to their dtype, in the precision of X, as
scikit-learn does.

scipy is an optional dependency (runtime dependencies are numpy and tqdm): it is
imported when an L-BFGS fit starts, and its absence raises ImportError naming
the extra that installs it.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np

from fastmlp import _backend as B
from fastmlp._validation import is_sparse

__all__ = ["Objective", "minimize", "require_scipy", "SCIPY_EXTRA"]

core = B.core

#: the pip extra that brings scipy
SCIPY_EXTRA = "sklearn"
#: rows per C pass of the objective (bounds the scratch memory)
BATCH_ROWS = 4096


def require_scipy() -> Any:
    """Return ``scipy.optimize``, or raise ImportError saying how to install scipy."""
    try:
        import scipy.optimize
    except ImportError as exc:
        raise ImportError(f"optimizer='lbfgs' needs scipy, an optional dependency of fastmlp: "
                          f"pip install 'fastmlp[{SCIPY_EXTRA}]' (or pip install scipy)") from exc
    return scipy.optimize


class Objective:
    """``f(x) -> (loss, grad)`` for scipy: the C objective at parameters ``x``.

    net: (sizes, acts, slopes); cfg: the fm_train_cfg dict (loss, its reduction,
    ``l2`` and ``l2_batch_scaled``); X, Y, sw: C-contiguous in the compute dtype;
    ``pdtype``: the parameters' dtype (x is rounded to it before evaluation);
    ``adjust(loss, x) -> loss``: replaces the reported value (the drop-ins'
    scikit-learn quirks), or None.  The last point evaluated and its loss are
    kept (``last``), so the iteration callback reads the loss of the iterate
    without another pass.
    """

    def __init__(self, *, net: tuple, cfg: dict, X: np.ndarray, Y: np.ndarray,
                 sw: Optional[np.ndarray], pdtype: Any, n_threads: int,
                 batch: int = BATCH_ROWS,
                 adjust: Optional[Callable[[float, np.ndarray], float]] = None) -> None:
        self.sizes, self.acts, self.slopes = net
        self.cfg, self.X, self.Y, self.sw = cfg, X, Y, sw
        self.pdtype, self.cdtype = np.dtype(pdtype), X.dtype
        self.n_threads, self.adjust = n_threads, adjust
        self.batch = min(X.shape[0], batch)
        self.work = np.empty(core.workspace_size(self.sizes, self.acts, self.slopes, self.batch),
                             dtype=self.cdtype)
        self.grad = np.empty(core.n_params(self.sizes, self.acts, self.slopes), dtype=self.cdtype)
        self.calls = 0
        self.last: Optional[tuple] = None  # (x as scipy gave it, loss)

    def __call__(self, x: np.ndarray) -> tuple:
        xs = np.array(x, dtype=np.float64, copy=True)
        x = np.ascontiguousarray(np.asarray(x, dtype=self.pdtype), dtype=self.cdtype)
        loss = B.loss_grad(self.grad, self.work, x, self.sizes, self.acts, self.slopes,
                           self.cfg, self.X, self.Y, self.sw, self.batch, self.n_threads)
        if self.adjust is not None:
            loss = self.adjust(loss, x)
        self.calls += 1
        self.last = (xs, float(loss))
        return loss, self.grad.copy()

    def loss_at(self, x: np.ndarray) -> float:
        """The objective at x: the cached value when x is the last point evaluated."""
        if self.last is not None and np.array_equal(self.last[0], x):
            return self.last[1]
        return float(self(x)[0])


def minimize(objective: Objective, x0: np.ndarray, *, max_iter: int, max_fun: int, tol: float,
             verbose: bool = False,
             on_iteration: Optional[Callable[[np.ndarray, float], Optional[bool]]] = None) -> Any:
    """Run scipy's L-BFGS-B on ``objective`` from ``x0``; return scipy's OptimizeResult.

    ``on_iteration(x, loss)`` is called after each iteration with the iterate
    and its objective; returning True stops the run there (scipy then reports
    status 99, a callback stop).  Exceptions it raises propagate.
    """
    opt = require_scipy()
    import scipy

    options = {"maxfun": max_fun, "maxiter": max_iter, "gtol": tol}
    if tuple(int(v) for v in scipy.__version__.split(".")[:2]) < (1, 15):
        options["iprint"] = 1 if verbose else -1  # removed from L-BFGS-B's options in 1.15

    def callback(intermediate_result: Any) -> None:  # the name makes scipy >= 1.11 pass a result
        if on_iteration is None:
            return
        x = getattr(intermediate_result, "x", intermediate_result)
        fun = getattr(intermediate_result, "fun", None)
        if on_iteration(np.asarray(x), objective.loss_at(x) if fun is None else float(fun)):
            raise StopIteration

    return opt.minimize(objective, x0, method="L-BFGS-B", jac=True, options=options,
                        callback=callback)


def check_mlp_fit(model: Any, *, learning_rate: Any, momentum: Any, nesterov: Any,
                  lr_schedule: Any, l1: float) -> None:
    """Refuse what ``MLP.fit(optimizer='lbfgs')`` cannot honour, naming the argument."""
    given = [name for name, v in (("learning_rate", learning_rate), ("momentum", momentum),
                                  ("nesterov", nesterov or None), ("lr_schedule", lr_schedule))
             if v is not None]
    if given:
        raise ValueError(f"optimizer='lbfgs' takes no {', '.join(given)} (L-BFGS chooses its "
                         f"steps by a line search); leave them unset")
    if l1:
        raise ValueError(f"optimizer='lbfgs' needs a smooth objective: l1={l1} is not "
                         f"supported (use l2, or a stochastic optimizer for l1)")
    if any(getattr(model, "norms", ())):  # core.loss_grad has no normalisation layers
        raise ValueError("optimizer='lbfgs' does not support normalisation layers yet: this "
                         "model's norm must be None (use a stochastic optimizer)")
    if any(model.dropout) or model.input_noise:
        raise ValueError("optimizer='lbfgs' minimises a deterministic objective: this model's "
                         "dropout and input_noise must be 0 (use a stochastic optimizer)")


def fit_mlp(model: Any, X: np.ndarray, Y: np.ndarray, sw: Optional[np.ndarray],
            Xv: Optional[np.ndarray], Yv: Optional[np.ndarray], *, max_iter: int, tol: float,
            max_fun: int, cfg: dict, callbacks: Any, verbose: int) -> None:
    """``MLP.fit(optimizer='lbfgs')``: minimise the full-batch objective in place.

    One L-BFGS iteration plays the part of an epoch: after each, the model
    holds the iterate, ``history_`` gains a row ('loss': the objective, the
    L2 term included; 'val_*' on validation data; 'time'), the progress
    table a line, and callbacks ``on_epoch_begin``/``on_epoch_end`` (so
    EarlyStopping and ModelCheckpoint work per iteration; ``on_batch_end`` is
    not called).  ``stop_training`` stops after the iteration; Ctrl-C keeps
    the last completed iteration.  The transaction around fit puts the model
    back on any error (a non-finite iterate among them).
    """
    import time
    import warnings

    from fastmlp._progress import EpochProgress
    from fastmlp._trainer import evaluate
    from fastmlp.callbacks import CallbackList

    require_scipy()
    params = model._params
    if not is_sparse(X):  # CSR X stays CSR (read in place by the C objective)
        X = np.ascontiguousarray(X)
    Y = np.ascontiguousarray(Y, dtype=X.dtype)
    objective = Objective(net=model._net_arrays(), cfg=cfg, X=X, Y=Y,
                          sw=None if sw is None else np.ascontiguousarray(sw, dtype=X.dtype),
                          pdtype=params.dtype, n_threads=model.n_threads)
    cbs = CallbackList(callbacks, model)
    progress = EpochProgress(max_iter, 1, verbose)
    model.stop_training = False
    model.interrupted_ = False
    it, t0 = 0, time.perf_counter()

    def begin(i: int) -> None:
        nonlocal t0
        cbs.on_epoch_begin(i, {})
        progress.start_epoch(i)
        t0 = time.perf_counter()

    def on_iteration(x: np.ndarray, loss: float) -> bool:
        nonlocal it
        if not (np.isfinite(x).all() and np.isfinite(loss)):
            raise FloatingPointError(
                f"lbfgs diverged in iteration {it + 1} (non-finite weights or loss); the model "
                "was restored to its state before this call. Scale the inputs.")
        params[...] = x
        progress.update_train(1, {"loss": loss})
        row = {"loss": float(loss)}
        if Xv is not None:
            progress.start_validation(Xv.shape[0])
            for k, v in evaluate(model, Xv, Yv, progress.update_validation).items():
                row["val_" + k] = v
        row["time"] = time.perf_counter() - t0
        for k, v in row.items():
            model.history_.setdefault(k, []).append(float(v))
        cbs.on_epoch_end(it, row)
        progress.end_epoch(row)
        it += 1
        if model.stop_training:
            return True
        if it < max_iter:
            begin(it)
        return False

    cbs.on_train_begin({})
    begin(0)
    try:
        res = minimize(objective, params.copy(), max_iter=max_iter, max_fun=max_fun,
                       tol=tol, on_iteration=on_iteration)
    except KeyboardInterrupt:  # the model holds the last completed iteration
        model.interrupted_ = True
        warnings.warn("training interrupted; the model keeps the weights of the last completed "
                      "lbfgs iteration and the history of the completed iterations",
                      RuntimeWarning, stacklevel=4)
        return
    finally:
        progress.close()
    if not np.isfinite(res.x).all():
        raise FloatingPointError("lbfgs diverged (non-finite weights); the model was restored "
                                 "to its state before this call. Scale the inputs.")
    params[...] = res.x
    if res.status not in (0, 99) and res.nit < max_iter:  # not the iteration budget (epochs)
        from fastmlp.perceptron import ConvergenceWarning

        warnings.warn(f"lbfgs stopped after {res.nit} iteration(s) without converging "
                      f"(status={res.status}): {res.message}", ConvergenceWarning, stacklevel=4)
    cbs.on_train_end({})
