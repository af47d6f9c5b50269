"""The model side of training: what :meth:`fastmlp.MLP.fit` and
:meth:`~fastmlp.MLP.lr_find` do before and around the epoch loop.

:class:`TrainingMixin` holds the training state of :class:`fastmlp.MLP` --
the fm_train_cfg dict passed to C, the optimizer state (reused between fits
while its buffers mean the same thing), the snapshots that early stopping and
divergence restore -- and the data preparation of a fit: targets encoded,
sample and class weights combined, the validation set split off.
:func:`run_fit` and :func:`run_lr_find` check the arguments, prepare the data
and hand over to :mod:`fastmlp._trainer`, which drives the C loop.
"""
from __future__ import annotations

import copy
from typing import Any, Optional, Sequence

import numpy as np

from fastmlp import _backend as B
from fastmlp import _trainer
from fastmlp._driver import prepare_state
from fastmlp._transaction import Transactional, restore, snapshot
from fastmlp._validation import (_all_finite, check_batch_norm_rows, check_clip, check_metrics,
                                 check_nonneg_float, check_positive_int, check_sample_weight,
                                 check_X, is_sparse, nonfinite_error, quantile_levels)
from fastmlp.optim import as_lbfgs, get_optimizer
from fastmlp.schedules import LRFinderResult, get_schedule

__all__ = ["TrainingMixin", "run_fit", "run_lr_find"]


class TrainingMixin(Transactional):
    """Training state and fit data of :class:`fastmlp.MLP` (see the module docstring).

    As a :class:`fastmlp._transaction.Transactional`, the model's training
    methods are all-or-nothing and guarded against concurrent use.

    It relies on the host class's ``layers``, ``loss``, ``dtype``, ``dropout``,
    ``input_noise``, ``_noise_seed``, ``_params``, ``_opt_state`` and its
    target encoding (:class:`fastmlp._targets.TargetsMixin`).
    """

    def _cfg(self, l2: float = 0.0, l1: float = 0.0, train: bool = False) -> dict:
        """The fm_train_cfg dict; ``train`` adds regression sums, noise and the RNG seed."""
        metric = B.Metric.NONE
        if self.loss == "bce":
            metric = B.Metric.THRESHOLD  # binary / multilabel
        elif self._is_classifier():
            metric = B.Metric.ARGMAX
        elif train:
            metric = B.Metric.REGRESSION  # mse, mae, r2
        mult, per_output = B.LOSS_REDUCTION[self.loss]
        cfg = {"loss": B.LOSSES[self.loss], "loss_mult": mult, "loss_per_output": per_output,
               "l2": l2, "l2_batch_scaled": False, "metric": metric, "l1": l1,
               "huber_delta": self.huber_delta}
        if self.loss == "quantile":  # float64 levels, one per output (fm_loss_par)
            cfg["quantiles"] = quantile_levels(self.quantile, self.layers[-1])
        if train:
            cfg.update(input_noise=self.input_noise, seed=self._noise_seed,
                       compute=B.core.COMPUTE_BF16 if getattr(self, "compute_dtype", None) ==
                       "bfloat16" else B.core.COMPUTE_NATIVE)
        return cfg

    def _dropout_rates(self) -> Optional[np.ndarray]:
        """Rates of the hidden outputs as the C loop takes them, or None without dropout."""
        if not any(self.dropout):
            return None
        return np.asarray(self.dropout, dtype=np.float64)

    # ------------------------------------------------------------------ optimizer state
    def _prepare_opt_state(self, optimizer: Any) -> dict:
        """Return the optimizer state for ``optimizer``, reusing the model's when its
        buffers mean the same thing (see :func:`fastmlp._driver.prepare_state`)."""
        self._opt_state = prepare_state(self._opt_state, optimizer, self._params)
        return self._opt_state

    def _training_snapshot(self) -> dict:
        """A copy of the weights and optimizer state (for early stopping and divergence)."""
        st = self._opt_state
        return {"params": self._params.copy(),
                "opt": None if st is None else copy.deepcopy(st),
                "norm_state": None if self._norm_state is None else self._norm_state.copy()}

    def _restore_snapshot(self, snap: dict) -> None:
        """Put a _training_snapshot back, in place where the buffers match."""
        self._params[...] = snap["params"]
        if snap.get("norm_state") is not None:  # batch norms' running statistics
            self._norm_state[...] = snap["norm_state"]
        old, st = snap["opt"], self._opt_state
        if old is None or st is None or st.get("layout") != old.get("layout"):
            self._opt_state = copy.deepcopy(old)
            return
        for k, v in old.items():
            if isinstance(v, np.ndarray) and isinstance(st.get(k), np.ndarray):
                st[k][...] = v
            else:
                st[k] = copy.deepcopy(v)

    # ------------------------------------------------------------------ data
    def _fit_data(self, X: Any, y: Any, sample_weight: Any, class_weight: Any,
                  validation_split: float, validation_data: Optional[tuple],
                  defer_x_check: bool = False):
        """Validate and encode the data of a fit; return (X, Y, sw, Xv, Yv).

        With ``defer_x_check`` the training rows of X are not checked for NaN
        and infinity here: the caller has fm_train check each batch before
        using it (the rows split off for validation are still checked here).
        """
        if not (isinstance(validation_split, (int, float))
                and not isinstance(validation_split, bool)
                and 0.0 <= float(validation_split) < 1.0):
            raise ValueError(f"validation_split must be in [0, 1); got {validation_split!r}")
        X = check_X(X, self.dtype, self.layers[0], finite=not defer_x_check, accept_sparse=True)
        if is_sparse(X) and self.input_noise > 0:
            raise ValueError("input_noise needs a dense X: noise on a sparse X would fill its "
                             "zeros (densify it with X.toarray(), or set input_noise=0)")
        if is_sparse(X) and getattr(self, "compute_dtype", None) == "bfloat16":
            raise ValueError("compute_dtype='bfloat16' needs a dense X: the first layer over "
                             "a sparse X computes in float32 (densify X, or train in float32)")
        n = X.shape[0]
        Y = self._encode(y, n, fitting=True)
        sw = None if sample_weight is None else check_sample_weight(sample_weight, n, self.dtype)
        if class_weight is not None:
            cw = self._class_weights(class_weight, Y)
            sw = cw if sw is None else np.ascontiguousarray(sw * cw)
        Xv = Yv = None
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                raise ValueError("validation_data must be a tuple (X_val, y_val)")
            Xv = check_X(validation_data[0], self.dtype, self.layers[0], name="validation_data X",
                         accept_sparse=True)
            Yv = self._encode(validation_data[1], Xv.shape[0], fitting=False)
        elif validation_split:
            n_val = int(round(n * validation_split))
            if n_val < 1 or n_val >= n:
                raise ValueError(f"validation_split={validation_split} leaves {n - n_val} training "
                                 f"and {n_val} validation rows; both need at least 1")
            X, Xv, Y, Yv = X[:-n_val], X[-n_val:], Y[:-n_val], Y[-n_val:]
            sw = None if sw is None else sw[:-n_val]
            if defer_x_check and not _all_finite(Xv):  # evaluated, never trained on
                raise nonfinite_error(np.concatenate([X, Xv]), "X")
        return X, Y, sw, Xv, Yv


def run_fit(model: Any, X: Any, y: Any, *, epochs: int, batch_size: Optional[int],
            learning_rate: Optional[float], optimizer: Any, momentum: Optional[float],
            nesterov: Optional[bool], l2: float, l1: float, lr_schedule: Any, shuffle: bool,
            validation_split: float, validation_data: Optional[tuple], sample_weight: Any,
            class_weight: Any, callbacks: Optional[Sequence[Any]], verbose: int,
            metrics: Any = None, clip_grad_norm: Optional[float] = None,
            clip_grad_value: Optional[float] = None) -> None:
    """:meth:`fastmlp.MLP.fit`: check the arguments, prepare the data, train in place."""
    epochs = check_positive_int(epochs, "epochs")
    clip_norm, clip_value = check_clip(clip_grad_norm, clip_grad_value)
    user_metrics = check_metrics(metrics, _trainer.HISTORY_KEYS)
    l2 = check_nonneg_float(l2, "l2")
    l1 = check_nonneg_float(l1, "l1")
    if learning_rate is not None:
        learning_rate = check_nonneg_float(learning_rate, "learning_rate", positive=True)
    if momentum is not None:
        momentum = check_nonneg_float(momentum, "momentum")
    if isinstance(verbose, (bool, np.bool_)):
        verbose = int(verbose)
    if verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 0, 1 or 2 (or a bool); got {verbose!r}")
    lbfgs = as_lbfgs(optimizer)
    if lbfgs is not None:  # full batch, scipy's L-BFGS-B: fastmlp._lbfgs
        from fastmlp import _lbfgs

        if clip_norm or clip_value or user_metrics:
            raise ValueError("clip_grad_norm, clip_grad_value and metrics apply to the "
                             "stochastic optimizers, not optimizer='lbfgs'")
        _lbfgs.check_mlp_fit(model, learning_rate=learning_rate, momentum=momentum,
                             nesterov=nesterov, lr_schedule=lr_schedule, l1=l1)
        _lbfgs.require_scipy()
        X, Y, sw, Xv, Yv = model._fit_data(X, y, sample_weight, class_weight, validation_split,
                                           validation_data)
        _lbfgs.fit_mlp(model, X, Y, sw, Xv, Yv, max_iter=epochs, tol=lbfgs.tol,
                       max_fun=lbfgs.max_fun, cfg=model._cfg(l2), callbacks=callbacks,
                       verbose=verbose)
        return
    opt = get_optimizer(optimizer, learning_rate, momentum or None, nesterov or None)
    schedule = get_schedule(lr_schedule)
    # X's finite check runs in C, on each batch of the first epoch right before
    # it is used (its rows are then in cache anyway), instead of a pass over all
    # of X here; a bad batch stops training before it changes anything, and the
    # transaction around fit (fastmlp._transaction) puts the model back as it was.
    X, Y, sw, Xv, Yv = model._fit_data(X, y, sample_weight, class_weight, validation_split,
                                       validation_data, defer_x_check=True)
    n = X.shape[0]
    bs = n if batch_size is None else min(check_positive_int(batch_size, "batch_size"), n)
    if "batch" in model.norms:
        check_batch_norm_rows(n, bs)
    cfg = {**model._cfg(l2, l1, train=True), "clip_norm": clip_norm, "clip_value": clip_value}
    try:
        _trainer.run(model, X, Y, sw, Xv, Yv, epochs=epochs, bs=bs, optimizer=opt,
                     schedule=schedule, cfg=cfg, shuffle=bool(shuffle), callbacks=callbacks,
                     verbose=verbose, check_x=True, metrics=user_metrics)
    except _trainer.NonFiniteBatch:  # found before any training step used the bad values
        raise nonfinite_error(X, "X") from None  # the rows split off for validation are finite


def run_lr_find(model: Any, X: Any, y: Any, *, start_lr: float, end_lr: float, num_it: int,
                optimizer: Any, batch_size: int, stop_div: bool, l2: float, l1: float,
                sample_weight: Any, class_weight: Any) -> LRFinderResult:
    """:meth:`fastmlp.MLP.lr_find`: the range test, then the model put back as it was."""
    start_lr = check_nonneg_float(start_lr, "start_lr", positive=True)
    end_lr = check_nonneg_float(end_lr, "end_lr", positive=True)
    if end_lr <= start_lr:
        raise ValueError(f"end_lr must exceed start_lr; got {start_lr} and {end_lr}")
    num_it = check_positive_int(num_it, "num_it")
    if num_it < 6:
        raise ValueError(f"num_it must be at least 6; got {num_it}")
    opt = get_optimizer(optimizer)
    X, Y, sw, _, _ = model._fit_data(X, y, sample_weight, class_weight, 0.0, None)
    bs = min(check_positive_int(batch_size, "batch_size"), X.shape[0])
    if "batch" in model.norms:
        check_batch_norm_rows(X.shape[0], bs)
    saved = snapshot(model)  # the range test never changes the model
    try:
        lrs, losses = _trainer.lr_find(model, X, Y, sw, optimizer=opt, bs=bs,
                                       cfg=model._cfg(check_nonneg_float(l2, "l2"),
                                                      check_nonneg_float(l1, "l1"), train=True),
                                       start_lr=start_lr, end_lr=end_lr, num_it=num_it,
                                       stop_div=bool(stop_div), beta=0.98)
    finally:
        restore(model, saved)
    return LRFinderResult.from_run(lrs, losses, beta=0.98)

