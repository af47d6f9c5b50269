"""Learning-rate schedules, and the result of a learning-rate range test.

A schedule is set on ``MLP.fit(..., lr_schedule=...)`` and scales the
optimizer's learning rate (the *base* rate, ``optimizer.lr``):

* per-epoch schedules (:class:`Constant`, :class:`StepLR`,
  :class:`ExponentialLR`, :class:`InverseScaling`, :class:`ReduceLROnPlateau`)
  set one rate before each epoch, from Python;
* per-batch schedules (:class:`OneCycle`) give a rate (and momentum) for
  every batch: Python computes them for a chunk of batches as an array and
  the C training loop reads one entry per batch, so the schedule costs no
  Python call per batch and chunking does not change the trajectory.

torch.optim.lr_scheduler's closed forms (:class:`StepLR`,
:class:`ExponentialLR`, :class:`CosineAnnealingLR`,
:class:`CosineAnnealingWarmRestarts`, :class:`LinearLR`, and their
combinations :class:`SequentialLR` and :class:`ChainedScheduler`) take
``interval='epoch'`` (a step per epoch, as ``scheduler.step()`` after each
epoch in torch) or ``interval='batch'`` (a step per mini-batch, as
``scheduler.step()`` after each ``optimizer.step()``); their counts
(``T_max``, ``T_0``, ``total_iters``, ``milestones``, ``step_size``) are in
that unit.  A per-batch one runs like :class:`OneCycle`: an array of rates
per chunk of batches, computed from the batch's index.

Epochs (and batches) are counted from 0 within one ``fit`` call: a schedule
is an argument of ``fit``, not part of the model, and is not saved with it.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence, Union

import numpy as np

__all__ = ["LRSchedule", "ClosedForm", "Constant", "StepLR", "ExponentialLR", "InverseScaling",
           "ReduceLROnPlateau", "OneCycle", "CosineAnnealingLR", "CosineAnnealingWarmRestarts",
           "LinearLR", "SequentialLR", "ChainedScheduler", "get_schedule", "LRFinderResult",
           "combined_cos"]


def _num(v: Any, name: str, owner: str, lo: float = 0.0, lo_open: bool = False,
         hi: Optional[float] = None, hi_open: bool = False, integral: bool = False) -> Any:
    kind = numbers.Integral if integral else numbers.Real
    ok = isinstance(v, kind) and not isinstance(v, bool) and math.isfinite(v)
    if ok:
        ok = (v > lo if lo_open else v >= lo) and (hi is None or (v < hi if hi_open else v <= hi))
    if not ok:
        what = "an int" if integral else "a float"
        rng = f"{'(' if lo_open else '['}{lo:g}, {'inf' if hi is None else f'{hi:g}'}" \
              f"{')' if hi_open or hi is None else ']'}"
        raise ValueError(f"The {name!r} parameter of {owner} must be {what} in the range {rng}. "
                         f"Got {v!r} instead.")
    return int(v) if integral else float(v)


class LRSchedule:
    """Base class.  ``begin`` is called at the start of each fit; then either
    :meth:`lr` once per epoch (``per_batch`` False) or :meth:`batch_lrs` for each
    chunk of batches; :meth:`epoch_end` sees each epoch's logs."""

    per_batch: bool = False
    #: per-batch schedules only: also give a momentum per batch (batch_moms)
    cycles_momentum: bool = False

    def begin(self, base_lr: float, epochs: int, steps_per_epoch: int, n_samples: int) -> None:
        """Start a fit of ``epochs`` epochs of ``steps_per_epoch`` batches."""
        self.base_lr, self.epochs = float(base_lr), int(epochs)
        self.steps_per_epoch, self.n_samples = int(steps_per_epoch), int(n_samples)

    def lr(self, epoch: int) -> float:
        """Learning rate for the whole of epoch ``epoch`` (per-epoch schedules)."""
        return self.base_lr

    def batch_lrs(self, epoch: int, first: int, count: int) -> np.ndarray:
        """Rates of batches first..first+count-1 of epoch ``epoch``."""
        return np.full(count, self.lr(epoch))

    def batch_moms(self, epoch: int, first: int, count: int) -> Optional[np.ndarray]:
        """Momenta of those batches, or None to leave the optimizer's."""
        return None

    def epoch_end(self, epoch: int, logs: dict) -> None:
        """See an epoch's metrics (used by ReduceLROnPlateau)."""

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.__dict__.items()
                         if not k.startswith("_") and k not in
                         ("base_lr", "epochs", "steps_per_epoch", "n_samples"))
        return f"{type(self).__name__}({args})"


#: interval names -> canonical ('step' is PyTorch Lightning's name for a batch)
_INTERVALS = {"epoch": "epoch", "batch": "batch", "step": "batch"}


def _interval(v: Any, owner: str) -> str:
    if isinstance(v, str) and v.lower() in _INTERVALS:
        return _INTERVALS[v.lower()]
    raise ValueError(f"The 'interval' parameter of {owner} must be 'epoch' or 'batch'. "
                     f"Got {v!r} instead.")


class ClosedForm(LRSchedule):
    """A schedule whose rate is a function of one counter ``t``: the epoch
    (``interval='epoch'``) or the mini-batch (``interval='batch'``) of the fit,
    from 0.  Subclasses give :meth:`rates`; these are the schedules that
    :class:`SequentialLR` and :class:`ChainedScheduler` combine."""

    interval: Optional[str] = "epoch"

    @property
    def per_batch(self) -> bool:  # type: ignore[override]
        return self.interval == "batch"

    def span(self) -> int:
        """Steps of the whole fit in this schedule's unit (epochs or batches)."""
        return self.epochs * (self.steps_per_epoch if self.per_batch else 1)

    def rates(self, t: np.ndarray, span: int) -> np.ndarray:
        """The rates at steps ``t`` (int64) of a schedule running for ``span`` steps."""
        return np.full(t.shape, self.base_lr)

    def lr(self, epoch: int) -> float:
        if self.per_batch:
            return float(self.batch_lrs(epoch, 0, 1)[0])
        return float(self.rates(np.array([epoch], dtype=np.int64), self.span())[0])

    def batch_lrs(self, epoch: int, first: int, count: int) -> np.ndarray:
        if not self.per_batch:
            return np.full(count, self.lr(epoch))
        t = epoch * self.steps_per_epoch + first + np.arange(count, dtype=np.int64)
        return self.rates(t, self.span())


class Constant(ClosedForm):
    """The optimizer's rate throughout (in a :class:`SequentialLR`: a flat stretch)."""

    interval = None  # fits a chain of either unit


class StepLR(ClosedForm):
    """``lr = base * gamma ** (t // step_size)`` (torch.optim.lr_scheduler.StepLR);
    ``t`` counts epochs, or batches with ``interval='batch'``."""

    def __init__(self, step_size: int = 10, gamma: float = 0.1, *,
                 interval: str = "epoch") -> None:
        self.step_size = _num(step_size, "step_size", "StepLR", lo=1, integral=True)
        self.gamma = _num(gamma, "gamma", "StepLR", lo_open=True)
        self.interval = _interval(interval, "StepLR")

    def rates(self, t: np.ndarray, span: int) -> np.ndarray:
        return self.base_lr * np.power(self.gamma, (t // self.step_size).astype(np.float64))


class ExponentialLR(ClosedForm):
    """``lr = base * gamma ** t`` (torch.optim.lr_scheduler.ExponentialLR);
    ``t`` counts epochs, or batches with ``interval='batch'``."""

    def __init__(self, gamma: float = 0.95, *, interval: str = "epoch") -> None:
        self.gamma = _num(gamma, "gamma", "ExponentialLR", lo_open=True)
        self.interval = _interval(interval, "ExponentialLR")

    def rates(self, t: np.ndarray, span: int) -> np.ndarray:
        return self.base_lr * np.power(self.gamma, t.astype(np.float64))


class CosineAnnealingLR(ClosedForm):
    """Cosine annealing, torch.optim.lr_scheduler.CosineAnnealingLR's closed form:
    ``lr = eta_min + (base - eta_min) * (1 + cos(pi * t / T_max)) / 2``.

    Past ``T_max`` the curve goes on as torch's does (back up towards the base
    rate, period ``2 * T_max``); see :class:`CosineAnnealingWarmRestarts` for
    restarts.

    Parameters
    ----------
    T_max : int, optional
        Half-period in steps of ``interval``.  None (a fastmlp default; torch
        requires it) anneals over the whole fit, or over this schedule's
        stretch inside a :class:`SequentialLR`.
    eta_min : float, default=0
        The lowest rate (absolute, not a factor).
    interval : {'epoch', 'batch'}, default='epoch'
        What ``t`` counts.
    """

    def __init__(self, T_max: Optional[int] = None, eta_min: float = 0.0, *,
                 interval: str = "epoch") -> None:
        self.T_max = None if T_max is None else _num(T_max, "T_max", "CosineAnnealingLR", lo=1,
                                                     integral=True)
        self.eta_min = _num(eta_min, "eta_min", "CosineAnnealingLR")
        self.interval = _interval(interval, "CosineAnnealingLR")

    def rates(self, t: np.ndarray, span: int) -> np.ndarray:
        T = self.T_max if self.T_max is not None else max(1, span)
        cos = np.cos(np.pi * t.astype(np.float64) / T)
        return self.eta_min + (self.base_lr - self.eta_min) * (1 + cos) / 2


class CosineAnnealingWarmRestarts(ClosedForm):
    """Cosine annealing with warm restarts (SGDR), as
    torch.optim.lr_scheduler.CosineAnnealingWarmRestarts stepped once per unit:
    ``lr = eta_min + (base - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2``, where
    the i-th cycle lasts ``T_i = T_0 * T_mult**i`` steps and ``T_cur`` counts the
    steps since the last restart.

    Parameters
    ----------
    T_0 : int
        Length of the first cycle, in steps of ``interval``.  For cycles of
        ``T_0`` epochs stepped per batch, give ``interval='batch'`` and ``T_0``
        times the batches per epoch (torch gets these rates at fractional epochs,
        ``scheduler.step(epoch + i / iters)``).
    T_mult : int, default=1
        Factor by which each cycle is longer than the one before.
    eta_min : float, default=0
    interval : {'epoch', 'batch'}, default='epoch'
    """

    def __init__(self, T_0: int, T_mult: int = 1, eta_min: float = 0.0, *,
                 interval: str = "epoch") -> None:
        owner = "CosineAnnealingWarmRestarts"
        self.T_0 = _num(T_0, "T_0", owner, lo=1, integral=True)
        self.T_mult = _num(T_mult, "T_mult", owner, lo=1, integral=True)
        self.eta_min = _num(eta_min, "eta_min", owner)
        self.interval = _interval(interval, owner)

    def cycle(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(T_cur, T_i) at steps t, in exact integer arithmetic (torch's per-step
        counters, not its floating-point logarithm)."""
        t = t.astype(np.int64)
        if self.T_mult == 1:
            return t % self.T_0, np.full(t.shape, self.T_0, dtype=np.int64)
        starts, length = [0], self.T_0
        top = int(t.max()) if t.size else 0
        while starts[-1] <= top:
            starts.append(starts[-1] + length)
            length *= self.T_mult
        starts_a = np.array(starts, dtype=np.int64)
        i = np.searchsorted(starts_a, t, side="right") - 1
        return t - starts_a[i], np.diff(starts_a)[i]

    def rates(self, t: np.ndarray, span: int) -> np.ndarray:
        cur, length = self.cycle(t)
        cos = np.cos(np.pi * cur.astype(np.float64) / length)
        return self.eta_min + (self.base_lr - self.eta_min) * (1 + cos) / 2


class LinearLR(ClosedForm):
    """Linear warmup (or decay), torch.optim.lr_scheduler.LinearLR's closed form:
    ``lr = base * (start_factor + (end_factor - start_factor) * min(t, total_iters)
    / total_iters)``.

    Parameters
    ----------
    start_factor : float, default=1/3
        In (0, 1].
    end_factor : float, default=1
        In [0, 1].
    total_iters : int, default=5
        Steps (of ``interval``) to go from start to end; the rate stays at
        ``base * end_factor`` afterwards.
    interval : {'epoch', 'batch'}, default='epoch'
    """

    def __init__(self, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 total_iters: int = 5, *, interval: str = "epoch") -> None:
        self.start_factor = _num(start_factor, "start_factor", "LinearLR", lo_open=True, hi=1.0)
        self.end_factor = _num(end_factor, "end_factor", "LinearLR", hi=1.0)
        self.total_iters = _num(total_iters, "total_iters", "LinearLR", lo=1, integral=True)
        self.interval = _interval(interval, "LinearLR")

    def rates(self, t: np.ndarray, span: int) -> np.ndarray:
        done = np.minimum(t, self.total_iters).astype(np.float64)
        f = self.start_factor + (self.end_factor - self.start_factor) * done / self.total_iters
        return self.base_lr * f


def _parts(schedulers: Any, owner: str) -> tuple[list, Optional[str]]:
    """The schedules of a combination, checked, and the unit they share."""
    if isinstance(schedulers, (str, LRSchedule)) or not hasattr(schedulers, "__iter__"):
        raise ValueError(f"The 'schedulers' parameter of {owner} must be a list of schedules. "
                         f"Got {schedulers!r} instead.")
    parts = list(schedulers)
    if not parts:
        raise ValueError(f"The 'schedulers' parameter of {owner} must not be empty.")
    for s in parts:
        if not isinstance(s, ClosedForm):
            raise ValueError(f"{owner} combines closed-form schedules (StepLR, ExponentialLR, "
                             f"CosineAnnealingLR, CosineAnnealingWarmRestarts, LinearLR, "
                             f"Constant, SequentialLR, ChainedScheduler); got {s!r}")
    units = {s.interval for s in parts} - {None}
    if len(units) > 1:
        raise ValueError(f"the schedules of {owner} step by different intervals "
                         f"({sorted(units)}); give them all the same 'interval'")
    return parts, (units.pop() if units else "epoch")


class SequentialLR(ClosedForm):
    """One schedule after another, as torch.optim.lr_scheduler.SequentialLR:
    ``schedulers[i]`` runs from ``milestones[i-1]`` (0 for the first) and
    restarts its count there (``t - milestones[i-1]``).

    Parameters
    ----------
    schedulers : list of closed-form schedules
        All with the same ``interval``, which this one takes.
    milestones : list of int
        Strictly increasing, one fewer than ``schedulers``.

    Examples
    --------
    Five epochs of linear warmup, then cosine annealing over the rest of the fit:

    >>> SequentialLR([LinearLR(0.1, total_iters=5), CosineAnnealingLR()], milestones=[5])
    SequentialLR(schedulers=[LinearLR(...), CosineAnnealingLR(...)], milestones=[5])
    """

    def __init__(self, schedulers: Sequence[LRSchedule], milestones: Sequence[int]) -> None:
        self.schedulers, self.interval = _parts(schedulers, "SequentialLR")
        ms = list(milestones) if hasattr(milestones, "__iter__") else None
        ok = ms is not None and len(ms) == len(self.schedulers) - 1
        if ok:
            ms = [_num(m, "milestones", "SequentialLR", lo=1, integral=True) for m in ms]
            ok = all(a < b for a, b in zip(ms, ms[1:]))
        if not ok:
            raise ValueError(f"The 'milestones' parameter of SequentialLR must be "
                             f"{len(self.schedulers) - 1} strictly increasing ints >= 1 (one "
                             f"fewer than schedulers). Got {milestones!r} instead.")
        self.milestones = ms

    def begin(self, base_lr: float, epochs: int, steps_per_epoch: int, n_samples: int) -> None:
        super().begin(base_lr, epochs, steps_per_epoch, n_samples)
        for s in self.schedulers:
            s.begin(base_lr, epochs, steps_per_epoch, n_samples)

    def rates(self, t: np.ndarray, span: int) -> np.ndarray:
        edges = [0, *self.milestones]
        which = np.searchsorted(np.array(self.milestones, dtype=np.int64), t, side="right")
        out = np.empty(t.shape)
        for i, s in enumerate(self.schedulers):
            sel = which == i
            if sel.any():
                end = edges[i + 1] if i + 1 < len(edges) else max(span, edges[i] + 1)
                out[sel] = s.rates(t[sel] - edges[i], end - edges[i])
        return out

    def __repr__(self) -> str:
        parts = ", ".join(f"{type(s).__name__}(...)" for s in self.schedulers)
        return f"SequentialLR(schedulers=[{parts}], milestones={self.milestones})"


class ChainedScheduler(ClosedForm):
    """Several schedules at once, as torch.optim.lr_scheduler.ChainedScheduler:
    their factors multiply, ``lr = base * prod(s(t) / base)``.

    This is torch's result whenever each part is multiplicative (StepLR,
    ExponentialLR, LinearLR, CosineAnnealingLR with ``eta_min=0``); torch's
    recursive update of a cosine with ``eta_min > 0`` inside a chain is not a
    product and is not reproduced.

    Parameters
    ----------
    schedulers : list of closed-form schedules
        All with the same ``interval``, which this one takes.
    """

    def __init__(self, schedulers: Sequence[LRSchedule]) -> None:
        self.schedulers, self.interval = _parts(schedulers, "ChainedScheduler")

    def begin(self, base_lr: float, epochs: int, steps_per_epoch: int, n_samples: int) -> None:
        super().begin(base_lr, epochs, steps_per_epoch, n_samples)
        for s in self.schedulers:
            s.begin(base_lr, epochs, steps_per_epoch, n_samples)

    def rates(self, t: np.ndarray, span: int) -> np.ndarray:
        if self.base_lr == 0:
            return np.zeros(t.shape)
        out = np.full(t.shape, self.base_lr)
        for s in self.schedulers:
            out = out * (s.rates(t, span) / self.base_lr)
        return out

    def __repr__(self) -> str:
        parts = ", ".join(f"{type(s).__name__}(...)" for s in self.schedulers)
        return f"ChainedScheduler(schedulers=[{parts}])"


class InverseScaling(LRSchedule):
    """scikit-learn's 'invscaling': ``lr = base / (t + 1) ** power_t`` with t the
    number of samples seen before the epoch (so epoch 0 runs at ``base``)."""

    def __init__(self, power_t: float = 0.5) -> None:
        self.power_t = _num(power_t, "power_t", "InverseScaling")

    def lr(self, epoch: int) -> float:
        return self.base_lr / (epoch * self.n_samples + 1) ** self.power_t


class ReduceLROnPlateau(LRSchedule):
    """Divide the rate when a metric stops improving (torch's ReduceLROnPlateau rules).

    After each epoch the monitored value ``a`` improves on ``best`` when
    ``a < best*(1 - threshold)`` ('min', 'rel'), ``a < best - threshold``
    ('min', 'abs'), or the mirror images for 'max'.  After more than
    ``patience`` epochs without improvement (and outside a cooldown), the rate
    becomes ``max(lr*factor, min_lr)`` if that changes it by more than eps.

    Parameters
    ----------
    monitor : str, default='auto'
        A history key; 'auto' is 'val_loss' when there is validation data,
        else 'loss'.
    mode : {'min', 'max'}, default='min'
    factor : float, default=0.1
    patience : int, default=10
    threshold : float, default=1e-4
    threshold_mode : {'rel', 'abs'}, default='rel'
    cooldown : int, default=0
    min_lr : float, default=0
    eps : float, default=1e-8
    """

    def __init__(self, monitor: str = "auto", mode: str = "min", factor: float = 0.1,
                 patience: int = 10, threshold: float = 1e-4, threshold_mode: str = "rel",
                 cooldown: int = 0, min_lr: float = 0.0, eps: float = 1e-8) -> None:
        owner = "ReduceLROnPlateau"
        if mode not in ("min", "max"):
            raise ValueError(f"The 'mode' parameter of {owner} must be 'min' or 'max'. Got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"The 'threshold_mode' parameter of {owner} must be 'rel' or 'abs'. "
                             f"Got {threshold_mode!r}")
        if not isinstance(monitor, str):
            raise ValueError(f"The 'monitor' parameter of {owner} must be a str. Got {monitor!r}")
        self.monitor, self.mode, self.threshold_mode = monitor, mode, threshold_mode
        self.factor = _num(factor, "factor", owner, lo_open=True, hi=1.0, hi_open=True)
        self.patience = _num(patience, "patience", owner, integral=True)
        self.threshold = _num(threshold, "threshold", owner)
        self.cooldown = _num(cooldown, "cooldown", owner, integral=True)
        self.min_lr = _num(min_lr, "min_lr", owner)
        self.eps = _num(eps, "eps", owner)

    def begin(self, base_lr: float, epochs: int, steps_per_epoch: int, n_samples: int) -> None:
        super().begin(base_lr, epochs, steps_per_epoch, n_samples)
        self._lr = self.base_lr
        self._best = math.inf if self.mode == "min" else -math.inf
        self._bad = 0
        self._cooldown_left = 0

    def lr(self, epoch: int) -> float:
        return self._lr

    def _improves(self, a: float) -> bool:
        t = self.threshold
        if self.mode == "min":
            return a < (self._best * (1 - t) if self.threshold_mode == "rel" else self._best - t)
        return a > (self._best * (1 + t) if self.threshold_mode == "rel" else self._best + t)

    def epoch_end(self, epoch: int, logs: dict) -> None:
        key = self.monitor
        if key == "auto":
            key = "val_loss" if "val_loss" in logs else "loss"
        if key not in logs:
            raise ValueError(f"ReduceLROnPlateau monitors {key!r}, which training does not "
                             f"record; available: {sorted(logs)}")
        a = float(logs[key])
        if self._improves(a):
            self._best, self._bad = a, 0
        else:
            self._bad += 1
        if self._cooldown_left > 0:
            self._cooldown_left -= 1
            self._bad = 0
        if self._bad > self.patience:
            new = max(self._lr * self.factor, self.min_lr)
            if self._lr - new > self.eps:
                self._lr = new
            self._cooldown_left = self.cooldown
            self._bad = 0


def combined_cos(pos: np.ndarray, pct: float, start: float, middle: float,
                 end: float) -> np.ndarray:
    """Cosine from start to middle over [0, pct), then middle to end over [pct, 1].

    One phase from a to b over its own position u in [0, 1] is
    ``a + (b - a) * (1 - cos(pi*u)) / 2``."""
    pos = np.asarray(pos, dtype=np.float64)
    if pct > 0:
        u1 = np.clip(pos / pct, 0.0, 1.0)
        first = start + (middle - start) * (1 - np.cos(np.pi * u1)) / 2
    else:
        first = np.full_like(pos, middle)
    u2 = np.clip((pos - pct) / (1 - pct), 0.0, 1.0)
    second = middle + (end - middle) * (1 - np.cos(np.pi * u2)) / 2
    return np.where(pos < pct, first, second)


class OneCycle(LRSchedule):
    """The 1cycle policy as fastai's ``fit_one_cycle`` runs it, per batch.

    With p = (batches done) / (total batches) in [0, 1): the rate rises from
    ``max_lr/div`` to ``max_lr`` over the first ``pct_start`` of training and
    falls to ``max_lr/div_final`` over the rest, both as half cosines; the
    momentum (SGD/RMSprop momentum, Adam's beta1) goes ``moms[0] -> moms[1] ->
    moms[2]`` the same way when ``cycle_momentum`` and the optimizer has one.

    Parameters
    ----------
    max_lr : float, optional
        Peak rate; None uses the optimizer's lr.
    pct_start : float, default=0.25
    div : float, default=25
    div_final : float, default=1e5
    moms : (float, float, float), default=(0.95, 0.85, 0.95)
    cycle_momentum : bool, default=True
    """

    per_batch = True

    def __init__(self, max_lr: Optional[float] = None, pct_start: float = 0.25, div: float = 25.0,
                 div_final: float = 1e5, moms: Sequence[float] = (0.95, 0.85, 0.95),
                 cycle_momentum: bool = True) -> None:
        owner = "OneCycle"
        self.max_lr = None if max_lr is None else _num(max_lr, "max_lr", owner, lo_open=True)
        self.pct_start = _num(pct_start, "pct_start", owner, hi=1.0, hi_open=True)
        self.div = _num(div, "div", owner, lo_open=True)
        self.div_final = _num(div_final, "div_final", owner, lo_open=True)
        if len(tuple(moms)) != 3:
            raise ValueError(f"The 'moms' parameter of {owner} must be 3 floats. Got {moms!r}")
        self.moms = tuple(_num(m, "moms", owner, hi=1.0, hi_open=True) for m in moms)
        self.cycle_momentum = bool(cycle_momentum)
        self.cycles_momentum = self.cycle_momentum

    def _pos(self, epoch: int, first: int, count: int) -> np.ndarray:
        total = self.epochs * self.steps_per_epoch
        return (epoch * self.steps_per_epoch + first + np.arange(count)) / total

    def batch_lrs(self, epoch: int, first: int, count: int) -> np.ndarray:
        top = self.base_lr if self.max_lr is None else self.max_lr
        return combined_cos(self._pos(epoch, first, count), self.pct_start, top / self.div, top,
                            top / self.div_final)

    def batch_moms(self, epoch: int, first: int, count: int) -> Optional[np.ndarray]:
        if not self.cycle_momentum:
            return None
        return combined_cos(self._pos(epoch, first, count), self.pct_start, *self.moms)

    def lr(self, epoch: int) -> float:
        return float(self.batch_lrs(epoch, 0, 1)[0])


_NAMES = {"constant": Constant, "step": StepLR, "exponential": ExponentialLR,
          "invscaling": InverseScaling, "plateau": ReduceLROnPlateau, "one_cycle": OneCycle,
          "cosine": CosineAnnealingLR, "linear": LinearLR}
_ALIASES = {"steplr": "step", "step_decay": "step", "exponentiallr": "exponential",
            "exp": "exponential", "inverse_scaling": "invscaling", "reduce_on_plateau": "plateau",
            "reducelronplateau": "plateau", "onecycle": "one_cycle", "1cycle": "one_cycle",
            "cosineannealinglr": "cosine", "cosine_annealing": "cosine", "linearlr": "linear"}


def get_schedule(schedule: Union[None, str, LRSchedule]) -> LRSchedule:
    """Return an LRSchedule for fit's ``lr_schedule`` (None or a name builds one with defaults)."""
    if schedule is None:
        return Constant()
    if isinstance(schedule, LRSchedule):
        return schedule
    if isinstance(schedule, str):
        key = schedule.lower().replace("-", "_")
        key = _ALIASES.get(key, key)
        if key in _NAMES:
            return _NAMES[key]()
    raise ValueError(f"lr_schedule must be an LRSchedule or one of {', '.join(map(repr, _NAMES))}; "
                     f"got {schedule!r}")


# ---- learning-rate range test ------------------------------------------------------


def _valley(lrs: np.ndarray, losses: np.ndarray) -> int:
    """Index inside the longest stretch over which the loss keeps falling.

    For every i, the longest decreasing subsequence ending at i is found by
    dynamic programming; the longest one overall spans [start, end] and the
    pick sits half-way through its middle third (fastai's 'valley' rule)."""
    n = len(losses)
    run = np.ones(n, dtype=int)
    for i in range(1, n):
        lower = losses[:i] > losses[i]
        if lower.any():
            run[i] = 1 + run[:i][lower].max()
    end = int(np.argmax(run))
    start = end - int(run[end]) + 1
    third = (end - start) / 3
    return min(n - 1, start + int(third) + int(third / 2))


@dataclass
class LRFinderResult:
    """What :meth:`fastmlp.MLP.lr_find` measured.

    Attributes
    ----------
    lrs : ndarray
        Learning rate of each batch (exponentially increasing).
    losses : ndarray
        Debiased exponential moving average of the batch losses (fastai's
        smoothing, beta=0.98), which is what one reads on the plot.
    raw_losses : ndarray
        The loss of each batch.
    suggestion : float
        The 'valley' suggestion.
    suggestions : dict
        'valley', 'steep' (steepest descent of the smoothed loss against
        log10 lr) and 'minimum' (a tenth of the rate at the lowest loss).
    """

    lrs: np.ndarray
    losses: np.ndarray
    raw_losses: np.ndarray
    suggestions: dict = field(default_factory=dict)

    @property
    def suggestion(self) -> float:
        return float(self.suggestions.get("valley", math.nan))

    @classmethod
    def from_run(cls, lrs: Sequence[float], raw: Sequence[float], beta: float) -> "LRFinderResult":
        lrs_a, raw_a = np.asarray(lrs, dtype=np.float64), np.asarray(raw, dtype=np.float64)
        smooth = np.empty_like(raw_a)
        avg = 0.0
        for i, v in enumerate(raw_a):
            avg = beta * avg + (1 - beta) * v
            smooth[i] = avg / (1 - beta ** (i + 1))
        res = cls(lrs_a, smooth, raw_a)
        res.suggestions = res._suggest()
        return res

    def _suggest(self) -> dict:
        n = len(self.lrs)
        lo, hi = n // 10, max(n // 10 + 2, n - 5)  # skip the flat start and diverged end
        lrs, losses = self.lrs[lo:hi], self.losses[lo:hi]
        ok = np.isfinite(losses)
        if not ok.all():
            cut = int(np.argmin(ok))
            lrs, losses = lrs[:cut], losses[:cut]
        if len(lrs) < 2:
            return {}
        slope = np.diff(losses) / np.diff(np.log10(lrs))
        return {"valley": float(lrs[_valley(lrs, losses)]),
                "steep": float(lrs[int(np.argmin(slope))]),
                "minimum": float(lrs[int(np.argmin(losses))] / 10)}

    def plot(self, path: Optional[str] = None, skip_end: int = 5) -> Any:
        """Plot smoothed loss against rate (log axis), marking the suggestion.

        Needs matplotlib (an optional extra).  With ``path``, writes a PNG
        there.  Returns the matplotlib Figure.
        """
        try:
            from matplotlib.backends.backend_agg import FigureCanvasAgg
            from matplotlib.figure import Figure
        except ImportError:
            raise ImportError("plotting needs matplotlib: pip install 'fastmlp[plot]'") from None
        end = len(self.lrs) - skip_end if len(self.lrs) > skip_end else len(self.lrs)
        fig = Figure(figsize=(6, 4))
        FigureCanvasAgg(fig)
        ax = fig.add_subplot(1, 1, 1)
        ax.plot(self.lrs[:end], self.losses[:end])
        ax.set_xscale("log")
        ax.set_xlabel("learning rate")
        ax.set_ylabel("loss (smoothed)")
        if "valley" in self.suggestions:
            s = self.suggestions["valley"]
            ax.plot([s], [np.interp(np.log(s), np.log(self.lrs), self.losses)], "o",
                    label=f"valley: {s:.2e}")
            ax.legend(loc="best")
        fig.tight_layout()
        if path is not None:
            fig.savefig(path, format="png")
        return fig
