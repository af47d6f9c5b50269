""":class:`fastmlp.MLP`'s semantics as hooks of the one epoch driver (:mod:`fastmlp._driver`).

Between the C calls of an epoch (:func:`fastmlp._driver.run_epochs`) the
hooks here update the progress bars, give the callbacks ``on_batch_end`` and
compute the per-batch learning rates of per-batch schedules for the next
chunk.  The chunk length adapts so a call lasts about ``_TARGET_SECONDS``:
long enough that Python's share is negligible, short enough that bars move,
callbacks can stop training and Ctrl-C is answered promptly.  Chunk
boundaries never change the result (the C loop is the same for any split, the
driver ends calls on the deferred-update flush steps, and schedules are
functions of the batch index), so training is reproducible for a seed
whatever the timing.  A Ctrl-C leaves the model at its last completed step
with the history of the completed epochs.
"""
from __future__ import annotations

import time
import warnings
from typing import Any, Callable, Optional

import numpy as np

from fastmlp import _backend as B
from fastmlp import _driver as D
from fastmlp._backend import Metric
from fastmlp.callbacks import CallbackList
from fastmlp._validation import check_metric_value

core = B.core

_TARGET_SECONDS = 0.05
_EVAL_ROWS = 4096
#: the keys fit writes into ``history_`` itself (user metrics may not take them)
HISTORY_KEYS = ("loss", "accuracy", "error_rate", "mse", "mae", "r2", "lr", "time", "epoch")


NonFiniteBatch = D.NonFiniteBatch  # raised by run(check_x=True); see fastmlp._driver


def train_metrics(st: B.TrainStats, metric: int, ss_tot: Optional[np.ndarray],
                  n_rows: int) -> dict:
    """The running loss and metrics of an epoch from fm_train's stats."""
    rows = st.rows
    if not rows:
        return {}
    out = {"loss": (st.data_loss + st.penalty) / rows}
    if metric in (Metric.ARGMAX, Metric.THRESHOLD):
        out["accuracy"] = st.correct / rows
        out["error_rate"] = 1.0 - out["accuracy"]
    elif metric == Metric.REGRESSION and ss_tot is not None:
        K = len(ss_tot)
        out["mse"] = st.sq_err / (rows * K)
        out["mae"] = st.abs_err / (rows * K)
        tot = ss_tot * (rows / n_rows)
        with np.errstate(divide="ignore", invalid="ignore"):
            r2 = np.where(tot > 0, 1 - st.sq_err_k[:K] / np.where(tot > 0, tot, 1), 0.0)
        out["r2"] = float(r2.mean())
    return out


def evaluate(model: Any, X: np.ndarray, Y: np.ndarray,
             on_rows: Optional[Callable[[int], None]] = None) -> dict:
    """Loss and metrics of the model on encoded (X, Y), _EVAL_ROWS rows at a time."""
    cfg = model._cfg()
    n, K = Y.shape
    out_act = B.ACTIVATIONS[model.output_activation]
    out_param = float(model._net_arrays()[2][-1])  # the output activation's slope / alpha
    total = correct = abs_err = sq_err = 0.0
    sq_k = np.zeros(K)
    for lo in range(0, n, _EVAL_ROWS):
        hi = min(n, lo + _EVAL_ROWS)
        z = model._forward(X[lo:hi], "identity")
        p = np.empty_like(z)
        total += core.loss(p, None, z, Y[lo:hi], None, cfg["loss"], out_act, out_param, 1.0,
                           cfg["huber_delta"], cfg.get("quantiles"))
        y = Y[lo:hi]
        if cfg["metric"] == Metric.ARGMAX:
            correct += float(np.sum(p.argmax(1) == y.argmax(1)))
        elif cfg["metric"] == Metric.THRESHOLD:
            correct += float(np.sum(((p > 0.5) == (y > 0.5)).all(axis=1)))
        else:
            r = p.astype(np.float64) - y
            abs_err += float(np.abs(r).sum())
            sq_err += float((r * r).sum())
            sq_k += (r * r).sum(axis=0)
        if on_rows is not None:
            on_rows(hi - lo)
    out = {"loss": cfg["loss_mult"] * total / (n * (K if cfg["loss_per_output"] else 1))}
    if cfg["metric"] in (Metric.ARGMAX, Metric.THRESHOLD):
        out["accuracy"] = correct / n
        out["error_rate"] = 1.0 - out["accuracy"]
    else:
        out["mse"] = sq_err / (n * K)
        out["mae"] = abs_err / (n * K)
        ss_tot = _ss_tot(Y)
        with np.errstate(divide="ignore", invalid="ignore"):
            r2 = np.where(ss_tot > 0, 1 - sq_k / np.where(ss_tot > 0, ss_tot, 1), 0.0)
        out["r2"] = float(r2.mean())
    return out


def call_metric(fn: Callable, name: str, y_true: np.ndarray, y_pred: np.ndarray,
                where: str) -> float:
    """A user metric's value; its exceptions propagate with a note naming it."""
    try:
        value = fn(y_true, y_pred)
    except Exception as exc:
        if hasattr(exc, "add_note"):  # Python 3.11+
            exc.add_note(f"raised by the metric {name!r} given to fit(metrics=...) on {where}; "
                         "the model was put back as it was before the call")
        raise
    return check_metric_value(value, name, where)


def _ss_tot(Y: np.ndarray) -> np.ndarray:
    """Per-output total sum of squares of Y (R^2's denominator), in float64."""
    Yd = Y.astype(np.float64)
    return ((Yd - Yd.mean(axis=0)) ** 2).sum(axis=0)



class _MLPHooks(D.Hooks):
    """MLP.fit: its RNG's permutations, schedules, callbacks, history, progress bars."""

    def __init__(self, model: Any, n: int, n_batches: int, Xv: Optional[np.ndarray],
                 Yv: Optional[np.ndarray], *, epochs: int, optimizer: Any, schedule: Any,
                 cfg: dict, shuffle: bool, callbacks: Any, verbose: int,
                 ss_tot: Optional[np.ndarray], metrics: Optional[list] = None,
                 train_xy: Optional[tuple] = None) -> None:
        from fastmlp._progress import EpochProgress  # local: keeps tqdm off the import path

        self.model, self.n, self.Xv, self.Yv = model, n, Xv, Yv
        self.optimizer, self.schedule, self.metric = optimizer, schedule, cfg["metric"]
        self.shuffle, self.ss_tot = shuffle, ss_tot
        self.order_buf = np.arange(n, dtype=np.int64)
        self.cycle_mom = (schedule.per_batch and schedule.cycles_momentum
                          and optimizer.cycled_momentum())
        self.cbs = CallbackList(callbacks, model)
        self.progress = EpochProgress(epochs, n_batches, verbose)
        self.t0 = 0.0
        self.last_lr = 0.0
        # user metrics: (name, fn) and the sets they are taken on, targets decoded once
        # (read-only: a metric cannot change the training targets through them)
        self.metrics = metrics or []
        self.metric_sets = []
        if self.metrics:
            sets = [("", *train_xy, "the training data")]
            if Xv is not None:
                sets.append(("val_", Xv, Yv, "the validation data"))
            for prefix, X, Y, where in sets:
                y_true = np.array(model._decode(Y), copy=True)
                y_true.flags.writeable = False
                self.metric_sets.append((prefix, X, y_true, where))

    def user_metrics(self, epoch: int, row: dict) -> None:
        """The user metrics of the epoch's final weights into ``row``."""
        for prefix, X, y_true, where in self.metric_sets:
            y_pred = np.array(self.model._decode(self.model._forward(X)), copy=True)
            y_pred.flags.writeable = False
            for name, fn in self.metrics:
                row[prefix + name] = call_metric(fn, name, y_true, y_pred,
                                                 f"{where} after epoch {epoch + 1}")

    def begin(self) -> None:
        self.cbs.on_train_begin({})

    def order(self, epoch: int) -> Optional[np.ndarray]:
        if not self.shuffle:
            return None
        self.order_buf[...] = np.arange(self.n)  # fresh each epoch: fit(a) + fit(b) == fit(a + b)
        self.model._rng.shuffle(self.order_buf)
        return self.order_buf

    def epoch_begin(self, epoch: int, state: dict) -> None:
        self.cbs.on_epoch_begin(epoch, {})
        self.t0 = time.perf_counter()
        if not self.schedule.per_batch:
            state["lr"] = self.schedule.lr(epoch)
        self.last_lr = state["lr"]
        self.progress.start_epoch(epoch)

    def batch_hparams(self, epoch: int, first: int, count: int, state: dict) -> tuple:
        lrs = self.schedule.batch_lrs(epoch, first, count) if self.schedule.per_batch else None
        factor = self.optimizer.step_lr_factor(state["step"] + 1 + np.arange(count))
        if factor is not None:
            lrs = (np.full(count, state["lr"]) if lrs is None else lrs) * factor
        moms = self.schedule.batch_moms(epoch, first, count) if self.cycle_mom else None
        self.last_lr = state["lr"] if lrs is None else float(lrs[-1])
        return (None if lrs is None else np.ascontiguousarray(lrs, dtype=np.float64),
                None if moms is None else np.ascontiguousarray(moms, dtype=np.float64))

    def chunk_end(self, epoch: int, done: int, batches: int, stats: B.TrainStats,
                  state: dict) -> bool:
        running = train_metrics(stats, self.metric, self.ss_tot, self.n)
        self.progress.update_train(batches, running)
        if self.cbs:
            self.cbs.on_batch_end(done, running)
        return bool(self.model.stop_training)

    def epoch_end(self, epoch: int, stats: B.TrainStats, complete: bool, state: dict) -> bool:
        model = self.model  # (a non-finite loss or weight: the driver raised, Hooks.diverged)
        row = train_metrics(stats, self.metric, self.ss_tot, self.n)
        if self.Xv is not None:
            self.progress.start_validation(self.Xv.shape[0])
            for k, v in evaluate(model, self.Xv, self.Yv,
                                 self.progress.update_validation).items():
                row["val_" + k] = v
        self.user_metrics(epoch, row)
        row["lr"] = self.last_lr
        row["time"] = time.perf_counter() - self.t0
        for k, v in row.items():
            model.history_.setdefault(k, []).append(float(v))
        self.schedule.epoch_end(epoch, row)
        self.cbs.on_epoch_end(epoch, row)
        self.progress.end_epoch(row)
        return bool(model.stop_training)

    def interrupted(self, state: dict) -> None:
        self.model.interrupted_ = True

    def close(self) -> None:
        self.progress.close()


def run(model: Any, X: np.ndarray, Y: np.ndarray, sw: Optional[np.ndarray],
        Xv: Optional[np.ndarray], Yv: Optional[np.ndarray], *, epochs: int, bs: int,
        optimizer: Any, schedule: Any, cfg: dict, shuffle: bool, callbacks: Any,
        verbose: int, check_x: bool = False, metrics: Optional[list] = None) -> None:
    """Train ``model`` in place through the epoch driver (see the module docstring).

    ``metrics``: user metrics [(name, fn)] recorded each epoch (see :meth:`MLP.fit`).

    ``check_x``: X has not been checked for NaN and infinity; fm_train checks
    each batch's rows right before using them until an epoch has gone over
    every row (the first), and a bad batch raises :class:`NonFiniteBatch`.
    """
    state = model._prepare_opt_state(optimizer)
    n = X.shape[0]
    n_batches = -(-n // bs)
    schedule.begin(optimizer.lr, epochs, n_batches, n)
    hooks = _MLPHooks(model, n, n_batches, Xv, Yv, epochs=epochs, optimizer=optimizer,
                      schedule=schedule, cfg=cfg, shuffle=shuffle, callbacks=callbacks,
                      verbose=verbose,
                      ss_tot=_ss_tot(Y) if cfg["metric"] == Metric.REGRESSION else None,
                      metrics=metrics, train_xy=(X, Y))
    model.stop_training = False
    model.interrupted_ = False
    completed = D.run_epochs(
        params=model._params, net=model._net_arrays(), state=state, cfg=cfg,
        rows=D.Rows(X, Y, sw), bs=bs, epochs=epochs, hooks=hooks,
        chunking=D.Chunking(min(n_batches, 64 // bs), _TARGET_SECONDS),
        n_threads=model.n_threads, dropout=model._dropout_rates(), check_finite=check_x,
        norms=model._norm_arrays()[0], norm_state=model._norm_arrays()[1])
    if not completed:
        warnings.warn("training interrupted; the model keeps the weights of the last completed "
                      "step and the history of the completed epochs", RuntimeWarning, stacklevel=3)
        return
    hooks.cbs.on_train_end({})


class _RangeTestHooks(D.Hooks):
    """lr_find: one batch per call at lr = start*(end/start)^(i/num_it), the loss of each."""

    def __init__(self, model: Any, n: int, lrs: np.ndarray, stop_div: bool, beta: float) -> None:
        self.model, self.n, self.lrs_all = model, n, lrs
        self.stop_div, self.beta = stop_div, beta
        self.order_buf = np.arange(n, dtype=np.int64)
        self.lrs: list = []
        self.losses: list = []
        self.avg, self.best, self.stopped = 0.0, np.inf, False

    def order(self, epoch: int) -> np.ndarray:
        self.order_buf[...] = np.arange(self.n)
        self.model._rng.shuffle(self.order_buf)
        return self.order_buf

    def batch_hparams(self, epoch: int, first: int, count: int, state: dict) -> tuple:
        i = len(self.lrs)
        return self.lrs_all[i:i + count], None

    def chunk_end(self, epoch: int, done: int, batches: int, stats: B.TrainStats,
                  state: dict) -> bool:
        i = len(self.lrs)
        loss = (stats.data_loss + stats.penalty) / stats.rows  # this batch's (Chunking exact)
        self.lrs.append(float(self.lrs_all[i]))
        self.losses.append(float(loss))
        if not np.isfinite(loss) or not np.isfinite(self.model._params).all():
            self.stopped = True
        else:
            self.avg = self.beta * self.avg + (1 - self.beta) * loss
            smooth = self.avg / (1 - self.beta ** (i + 1))
            self.best = min(self.best, smooth)
            if self.stop_div and smooth > 4 * self.best:
                self.stopped = True
        if len(self.lrs) == len(self.lrs_all):
            self.stopped = True
        return self.stopped

    def diverged(self, epoch: int, what: str) -> None:
        return None  # chunk_end stops the range test at a non-finite loss

    def epoch_end(self, epoch: int, stats: B.TrainStats, complete: bool, state: dict) -> bool:
        return self.stopped


def lr_find(model: Any, X: np.ndarray, Y: np.ndarray, sw: Optional[np.ndarray], *,
            optimizer: Any, bs: int, cfg: dict, start_lr: float, end_lr: float, num_it: int,
            stop_div: bool, beta: float) -> tuple:
    """Train num_it batches at lr = start*(end/start)^(i/num_it); return (lrs, losses).

    Stops early once the smoothed loss exceeds 4x its minimum (stop_div) or
    turns non-finite.  The caller restores the model afterwards.
    """
    state = model._prepare_opt_state(optimizer)
    n = X.shape[0]
    n_batches = -(-n // bs)
    lrs_all = start_lr * (end_lr / start_lr) ** (np.arange(num_it) / num_it)
    hooks = _RangeTestHooks(model, n, lrs_all, stop_div, beta)
    D.run_epochs(params=model._params, net=model._net_arrays(), state=state, cfg=cfg,
                 rows=D.Rows(X, Y, sw), bs=bs, epochs=-(-num_it // n_batches), hooks=hooks,
                 chunking=D.Chunking(1, exact=True), n_threads=model.n_threads,
                 dropout=model._dropout_rates(), norms=model._norm_arrays()[0],
                 norm_state=model._norm_arrays()[1])
    return hooks.lrs, hooks.losses
