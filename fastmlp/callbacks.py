"""Callbacks: code that runs at fixed points of ``MLP.fit``.

The protocol (every method optional; ``self.model`` is the model being
trained, set before ``on_train_begin``)::

    on_train_begin(logs)
    for each epoch:
        on_epoch_begin(epoch, logs)
        on_batch_end(batch, logs)    # after each CHUNK of batches run in C;
                                     # batch = batches done so far this epoch,
                                     # logs = running loss/metrics of the epoch
        on_epoch_end(epoch, logs)    # logs = this epoch's history row
    on_train_end(logs)               # not called when interrupted (Ctrl-C)

A callback stops training cleanly by setting ``self.model.stop_training =
True``: from ``on_batch_end`` the epoch ends after the chunk in flight (its
row is recorded from the batches done), from ``on_epoch_end`` after that
epoch.  ``on_train_end`` then runs, so :class:`EarlyStopping` can restore its
best weights.
"""
from __future__ import annotations

import math
import os
from typing import Any, Callable, Optional, Sequence

import numpy as np

from fastmlp._validation import check_callbacks

__all__ = ["Callback", "CallbackList", "EarlyStopping", "ModelCheckpoint", "LambdaCallback"]


class Callback:
    """Base class; override the hooks you need."""

    model: Any = None

    def set_model(self, model: Any) -> None:
        self.model = model

    def on_train_begin(self, logs: dict) -> None:
        pass

    def on_epoch_begin(self, epoch: int, logs: dict) -> None:
        pass

    def on_batch_end(self, batch: int, logs: dict) -> None:
        pass

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        pass

    def on_train_end(self, logs: dict) -> None:
        pass


class CallbackList:
    """Calls each hook on every callback, in order."""

    def __init__(self, callbacks: Optional[Sequence[Callback]], model: Any) -> None:
        cbs = check_callbacks(callbacks, Callback)
        for cb in cbs:
            cb.set_model(model)
        self.callbacks = cbs

    def __bool__(self) -> bool:
        return bool(self.callbacks)

    def on_train_begin(self, logs: dict) -> None:
        for cb in self.callbacks:
            cb.on_train_begin(logs)

    def on_epoch_begin(self, epoch: int, logs: dict) -> None:
        for cb in self.callbacks:
            cb.on_epoch_begin(epoch, logs)

    def on_batch_end(self, batch: int, logs: dict) -> None:
        for cb in self.callbacks:
            cb.on_batch_end(batch, logs)

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        for cb in self.callbacks:
            cb.on_epoch_end(epoch, logs)

    def on_train_end(self, logs: dict) -> None:
        for cb in self.callbacks:
            cb.on_train_end(logs)


def _resolve_monitor(monitor: str, logs: dict, owner: str) -> str:
    key = monitor
    if key == "auto":
        key = "val_loss" if "val_loss" in logs else "loss"
    if key not in logs:
        raise ValueError(f"{owner} monitors {key!r}, which training does not record; "
                         f"available: {sorted(logs)} (validation metrics need validation_split "
                         "or validation_data)")
    return key


def _resolve_mode(mode: str, key: str) -> str:
    if mode != "auto":
        return mode
    return "max" if any(s in key for s in ("accuracy", "r2")) else "min"


class EarlyStopping(Callback):
    """Stop when a monitored metric has stopped improving; optionally restore the best weights.

    An epoch improves when the metric beats the best so far by more than
    ``min_delta`` (lower for 'min', higher for 'max').  Training stops after
    ``patience`` epochs in a row without improvement.

    Parameters
    ----------
    monitor : str, default='auto'
        History key: 'val_loss' when validating, else 'loss'; e.g.
        'val_accuracy' to watch accuracy.
    min_delta : float, default=0
    patience : int, default=5
    mode : {'auto', 'min', 'max'}, default='auto'
        'auto' maximises accuracy and r2, minimises everything else.
    restore_best_weights : bool, default=True
        When training ends (stopped early or not, but not when interrupted),
        put back the weights and optimizer state of the best epoch.

    Attributes
    ----------
    best : float
        The best value seen.
    best_epoch : int
        Its epoch (0-based, within the fit call); -1 before any.
    stopped_epoch : int
        The epoch after which training stopped; -1 if it ran to the end.
    """

    def __init__(self, monitor: str = "auto", min_delta: float = 0.0, patience: int = 5,
                 mode: str = "auto", restore_best_weights: bool = True) -> None:
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"EarlyStopping: mode must be 'auto', 'min' or 'max'; got {mode!r}")
        if not (isinstance(patience, (int, np.integer)) and not isinstance(patience, bool)
                and patience >= 0):
            raise ValueError(f"EarlyStopping: patience must be an int >= 0; got {patience!r}")
        if not (isinstance(min_delta, (int, float)) and math.isfinite(min_delta) and min_delta >= 0):
            raise ValueError(f"EarlyStopping: min_delta must be a float >= 0; got {min_delta!r}")
        self.monitor, self.mode, self.patience = monitor, mode, int(patience)
        self.min_delta, self.restore_best_weights = float(min_delta), bool(restore_best_weights)
        self.best, self.best_epoch, self.stopped_epoch, self.wait = math.inf, -1, -1, 0
        self._snapshot: Optional[dict] = None

    def on_train_begin(self, logs: dict) -> None:
        self.best_epoch, self.stopped_epoch, self.wait = -1, -1, 0
        self._snapshot = None
        self._mode: Optional[str] = None

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        key = _resolve_monitor(self.monitor, logs, "EarlyStopping")
        if self._mode is None:
            self._mode = _resolve_mode(self.mode, key)
            self.best = math.inf if self._mode == "min" else -math.inf
        v = float(logs[key])
        better = (v < self.best - self.min_delta) if self._mode == "min" else \
                 (v > self.best + self.min_delta)
        if better:
            self.best, self.best_epoch, self.wait = v, epoch, 0
            if self.restore_best_weights:
                self._snapshot = self.model._training_snapshot()
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs: dict) -> None:
        if self.restore_best_weights and self._snapshot is not None:
            self.model._restore_snapshot(self._snapshot)


class ModelCheckpoint(Callback):
    """Save the model (``fastmlp.io`` format) after epochs.

    Parameters
    ----------
    path : str
        File to write; may contain ``{epoch}`` (1-based) and any history key,
        e.g. ``"ckpt-{epoch:03d}-{val_loss:.3f}.npz"``.
    monitor : str, default='auto'
    mode : {'auto', 'min', 'max'}, default='auto'
    save_best_only : bool, default=False
        Only write when the monitored value improves.

    Attributes
    ----------
    saved : list of str
        Paths written, in order.
    """

    def __init__(self, path: str, monitor: str = "auto", mode: str = "auto",
                 save_best_only: bool = False) -> None:
        if not isinstance(path, (str, os.PathLike)):
            raise ValueError(f"ModelCheckpoint: path must be a str; got {path!r}")
        self.path, self.monitor, self.mode = os.fspath(path), monitor, mode
        self.save_best_only = bool(save_best_only)
        self.saved: list[str] = []
        self.best = math.nan

    def on_train_begin(self, logs: dict) -> None:
        self._mode: Optional[str] = None

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        if self.save_best_only:
            key = _resolve_monitor(self.monitor, logs, "ModelCheckpoint")
            if self._mode is None:
                self._mode = _resolve_mode(self.mode, key)
                self.best = math.inf if self._mode == "min" else -math.inf
            v = float(logs[key])
            if not (v < self.best if self._mode == "min" else v > self.best):
                return
            self.best = v
        path = self.path.format(epoch=epoch + 1, **logs)
        self.saved.append(self.model.save(path))


class LambdaCallback(Callback):
    """A callback from plain functions, e.g. ``LambdaCallback(on_epoch_end=lambda e, logs: ...)``."""

    def __init__(self, on_train_begin: Optional[Callable] = None,
                 on_epoch_begin: Optional[Callable] = None,
                 on_batch_end: Optional[Callable] = None,
                 on_epoch_end: Optional[Callable] = None,
                 on_train_end: Optional[Callable] = None) -> None:
        self._fns = {"on_train_begin": on_train_begin, "on_epoch_begin": on_epoch_begin,
                     "on_batch_end": on_batch_end, "on_epoch_end": on_epoch_end,
                     "on_train_end": on_train_end}

    def on_train_begin(self, logs: dict) -> None:
        if self._fns["on_train_begin"]:
            self._fns["on_train_begin"](logs)

    def on_epoch_begin(self, epoch: int, logs: dict) -> None:
        if self._fns["on_epoch_begin"]:
            self._fns["on_epoch_begin"](epoch, logs)

    def on_batch_end(self, batch: int, logs: dict) -> None:
        if self._fns["on_batch_end"]:
            self._fns["on_batch_end"](batch, logs)

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        if self._fns["on_epoch_end"]:
            self._fns["on_epoch_end"](epoch, logs)

    def on_train_end(self, logs: dict) -> None:
        if self._fns["on_train_end"]:
            self._fns["on_train_end"](logs)
