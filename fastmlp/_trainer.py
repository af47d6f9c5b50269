"""The Python side of training: drive ``fm_train`` chunk by chunk.

Each epoch runs as a few calls into C, each a *chunk* of consecutive
mini-batches (gather, forward, loss, backward and update, all in C with the
GIL released).  Between chunks Python updates the progress bars, gives the
callbacks ``on_batch_end`` and computes the per-batch learning rates of
per-batch schedules for the next chunk.  The chunk length adapts so a call
lasts about ``_TARGET_SECONDS``: long enough that Python's share is
negligible, short enough that bars move, callbacks can stop training and
Ctrl-C is answered promptly.  Chunk boundaries never change the result (the
C loop is the same for any split, and schedules are functions of the batch
index), so training is reproducible for a seed whatever the timing.

Consistency: the parameters, the optimizer buffers and its step change only
inside the C call, and the Cython wrapper writes the step back into the state
dict before returning, so when a KeyboardInterrupt surfaces the model is at
the last completed step, consistent and usable.
"""
from __future__ import annotations

import time
import warnings
from typing import Any, Callable, Optional

import numpy as np

from fastmlp import _backend as B
from fastmlp.callbacks import CallbackList

core = B.core

_TARGET_SECONDS = 0.05
_EVAL_ROWS = 4096


class NonFiniteBatch(Exception):
    """run(check_x=True) met a batch of X with a NaN or an infinity: training
    stopped before that batch changed anything (the caller restores the model
    and raises the user-facing error)."""


def _next_chunk(chunk: int, batches: int, elapsed: float, n_batches: int) -> int:
    """Batches for the next call so that it lasts about _TARGET_SECONDS (grow at most 4x)."""
    if elapsed <= 0:
        want = chunk * 4
    else:
        want = int(_TARGET_SECONDS * batches / elapsed)
    return max(1, min(n_batches, want, chunk * 4))


def _aligned_count(count: int, step: int, bs: int, left: int) -> int:
    """Batches for a call, ending it on a step that is a multiple of TRAIN_ALIGN.

    At batches of 1-2 rows fm_train may defer weight updates and write them at
    such steps and at the end of each call (csrc/fastmlp.h): calls that end
    there (or at the epoch's end, ``left``) make the results independent of
    the timing-driven chunk sizes.  Bigger batches keep ``count``.
    """
    a = core.TRAIN_ALIGN
    if bs > 2 or count >= left:
        return count
    end = (step + count) // a * a
    return end - step if end > step else min(a - step % a, left)


def train_metrics(stats: np.ndarray, metric: int, ss_tot: Optional[np.ndarray],
                  n_rows: int) -> dict:
    """The running loss and metrics of an epoch from fm_train's stats."""
    rows = stats[2]
    if not rows:
        return {}
    out = {"loss": float((stats[0] + stats[3]) / rows)}
    if metric in (1, 2):
        out["accuracy"] = float(stats[1] / rows)
        out["error_rate"] = 1.0 - out["accuracy"]
    elif metric == 3 and ss_tot is not None:
        K = len(ss_tot)
        out["mse"] = float(stats[5] / (rows * K))
        out["mae"] = float(stats[4] / (rows * K))
        tot = ss_tot * (rows / n_rows)
        with np.errstate(divide="ignore", invalid="ignore"):
            r2 = np.where(tot > 0, 1 - stats[6:6 + K] / np.where(tot > 0, tot, 1), 0.0)
        out["r2"] = float(r2.mean())
    return out


def evaluate(model: Any, X: np.ndarray, Y: np.ndarray,
             on_rows: Optional[Callable[[int], None]] = None) -> dict:
    """Loss and metrics of the model on encoded (X, Y), _EVAL_ROWS rows at a time."""
    cfg = model._cfg()
    n, K = Y.shape
    out_act = B.ACTIVATIONS[model.output_activation]
    total = correct = abs_err = sq_err = 0.0
    sq_k = np.zeros(K)
    for lo in range(0, n, _EVAL_ROWS):
        hi = min(n, lo + _EVAL_ROWS)
        z = model._forward(X[lo:hi], "identity")
        p = np.empty_like(z)
        total += core.loss(p, None, z, Y[lo:hi], None, cfg["loss"], out_act, model.leaky_slope, 1.0)
        y = Y[lo:hi]
        if cfg["metric"] == 1:
            correct += float(np.sum(p.argmax(1) == y.argmax(1)))
        elif cfg["metric"] == 2:
            correct += float(np.sum(((p > 0.5) == (y > 0.5)).all(axis=1)))
        else:
            r = p.astype(np.float64) - y
            abs_err += float(np.abs(r).sum())
            sq_err += float((r * r).sum())
            sq_k += (r * r).sum(axis=0)
        if on_rows is not None:
            on_rows(hi - lo)
    out = {"loss": cfg["loss_mult"] * total / (n * (K if cfg["loss_per_output"] else 1))}
    if cfg["metric"] in (1, 2):
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


class _Chunker:
    """Everything one C call needs that does not change within a fit."""

    def __init__(self, model: Any, X: np.ndarray, Y: np.ndarray, sw: Optional[np.ndarray],
                 bs: int, cfg: dict) -> None:
        self.model, self.X, self.Y, self.sw, self.bs, self.cfg = model, X, Y, sw, bs, cfg
        self.sizes, self.acts, self.slopes = model._net_arrays()
        self.work = np.empty(core.workspace_size(self.sizes, self.acts, self.slopes, bs),
                             dtype=model.dtype)
        self.grad = np.empty_like(model._params)
        self.dropout = model._dropout_rates()
        self.stats = np.zeros(6 + Y.shape[1])

    def run(self, st: dict, order: Optional[np.ndarray], first: int, count: int,
            lrs: Optional[np.ndarray], moms: Optional[np.ndarray]) -> int:
        done, _ = B.train_steps(
            params=self.model._params, grad=self.grad, work=self.work, stats=self.stats,
            net=(self.sizes, self.acts, self.slopes), opt=st, cfg=self.cfg, x=self.X, y=self.Y,
            sw=self.sw, order=order, start=first * self.bs, n_batches=count, batch=self.bs,
            s1=st["s1"], s2=st["s2"], s3=st["s3"], dropout=self.dropout, lr_steps=lrs,
            mom_steps=moms, n_threads=self.model.n_threads)
        return done


def _batch_hparams(schedule: Any, optimizer: Any, st: dict, epoch: int, first: int, count: int,
                   cycle_mom: bool) -> tuple:
    """Per-batch (lrs, moms) arrays for a chunk, or None where a scalar does."""
    lrs = schedule.batch_lrs(epoch, first, count) if schedule.per_batch else None
    factor = optimizer.step_lr_factor(st["step"] + 1 + np.arange(count))
    if factor is not None:
        lrs = (np.full(count, st["lr"]) if lrs is None else lrs) * factor
    moms = schedule.batch_moms(epoch, first, count) if cycle_mom else None
    return (None if lrs is None else np.ascontiguousarray(lrs, dtype=np.float64),
            None if moms is None else np.ascontiguousarray(moms, dtype=np.float64))



def _ss_tot(Y: np.ndarray) -> np.ndarray:
    """Per-output total sum of squares of Y (R^2's denominator), in float64."""
    Yd = Y.astype(np.float64)
    return ((Yd - Yd.mean(axis=0)) ** 2).sum(axis=0)

def run(model: Any, X: np.ndarray, Y: np.ndarray, sw: Optional[np.ndarray],
        Xv: Optional[np.ndarray], Yv: Optional[np.ndarray], *, epochs: int, bs: int,
        optimizer: Any, schedule: Any, cfg: dict, shuffle: bool, callbacks: Any,
        verbose: int, check_x: bool = False) -> None:
    """Train ``model`` in place (see the module docstring).

    ``check_x``: X has not been checked for NaN and infinity; fm_train checks
    each batch's rows right before using them until an epoch has gone over
    every row (the first), and a bad batch raises :class:`NonFiniteBatch`.
    """
    from fastmlp._progress import EpochProgress  # local: keeps tqdm off the import path

    st = model._prepare_opt_state(optimizer)
    n = X.shape[0]
    n_batches = -(-n // bs)
    ch = _Chunker(model, X, Y, sw, bs, {**cfg, "check_finite": bool(check_x)})
    order = np.arange(n, dtype=np.int64)
    ss_tot = _ss_tot(Y) if cfg["metric"] == 3 else None  # regression only (copies Y)
    schedule.begin(optimizer.lr, epochs, n_batches, n)
    cycle_mom = schedule.per_batch and schedule.cycles_momentum and optimizer.cycled_momentum()
    cbs = CallbackList(callbacks, model)
    hist = model.history_
    model.stop_training = False
    model.interrupted_ = False
    chunk = max(1, min(n_batches, 64 // bs))
    progress = EpochProgress(epochs, n_batches, verbose)
    try:
        cbs.on_train_begin({})
        for epoch in range(epochs):
            cbs.on_epoch_begin(epoch, {})
            t0 = time.perf_counter()
            if not schedule.per_batch:
                st["lr"] = schedule.lr(epoch)
            snapshot = model._training_snapshot()
            if shuffle:  # a fresh permutation each epoch: fit(a) + fit(b) == fit(a + b)
                order[...] = np.arange(n)
                model._rng.shuffle(order)
            ch.stats[:] = 0
            done, last_lr = 0, st["lr"]
            progress.start_epoch(epoch)
            while done < n_batches:
                count = _aligned_count(min(chunk, n_batches - done), st["step"], bs,
                                       n_batches - done)
                lrs, moms = _batch_hparams(schedule, optimizer, st, epoch, done, count, cycle_mom)
                tc = time.perf_counter()
                nb = ch.run(st, order if shuffle else None, done, count, lrs, moms)
                if nb < 0:  # batch done - nb - 1 holds a NaN/inf; nothing was changed by it
                    raise NonFiniteBatch()
                chunk = _next_chunk(chunk, nb, time.perf_counter() - tc, n_batches)
                done += nb
                last_lr = st["lr"] if lrs is None else float(lrs[nb - 1])
                running = train_metrics(ch.stats, cfg["metric"], ss_tot, n)
                progress.update_train(nb, running)
                if cbs:
                    cbs.on_batch_end(done, running)
                if model.stop_training:
                    break
            if done == n_batches:  # every row of X has passed the check
                ch.cfg["check_finite"] = False
            if not np.isfinite(model._params).all():
                model._restore_snapshot(snapshot)
                raise FloatingPointError(
                    f"training diverged in epoch {epoch + 1} (non-finite weights); the model was "
                    "restored to the end of the previous epoch. Lower the learning rate or "
                    "scale the inputs.")
            row = train_metrics(ch.stats, cfg["metric"], ss_tot, n)
            if Xv is not None:
                progress.start_validation(Xv.shape[0])
                for k, v in evaluate(model, Xv, Yv, progress.update_validation).items():
                    row["val_" + k] = v
            row["lr"] = last_lr
            row["time"] = time.perf_counter() - t0
            for k, v in row.items():
                hist.setdefault(k, []).append(float(v))
            schedule.epoch_end(epoch, row)
            cbs.on_epoch_end(epoch, row)
            progress.end_epoch(row)
            if model.stop_training:
                break
    except KeyboardInterrupt:
        model.interrupted_ = True
    finally:
        progress.close()
    if model.interrupted_:
        warnings.warn("training interrupted; the model keeps the weights of the last completed "
                      "step and the history of the completed epochs", RuntimeWarning, stacklevel=3)
        return
    cbs.on_train_end({})


def lr_find(model: Any, X: np.ndarray, Y: np.ndarray, sw: Optional[np.ndarray], *,
            optimizer: Any, bs: int, cfg: dict, start_lr: float, end_lr: float, num_it: int,
            stop_div: bool, beta: float) -> tuple:
    """Train num_it batches at lr = start*(end/start)^(i/num_it); return (lrs, losses).

    Stops early once the smoothed loss exceeds 4x its minimum (stop_div) or
    turns non-finite.  The caller restores the model afterwards.
    """
    st = model._prepare_opt_state(optimizer)
    n = X.shape[0]
    n_batches = -(-n // bs)
    ch = _Chunker(model, X, Y, sw, bs, cfg)
    order = np.arange(n, dtype=np.int64)
    lrs_all = start_lr * (end_lr / start_lr) ** (np.arange(num_it) / num_it)
    lrs: list = []
    losses: list = []
    avg, best, b = 0.0, np.inf, 0
    for i in range(num_it):
        if b == 0:
            order[...] = np.arange(n)
            model._rng.shuffle(order)
        ch.stats[:] = 0
        ch.run(st, order, b, 1, lrs_all[i:i + 1], None)
        b = (b + 1) % n_batches
        loss = (ch.stats[0] + ch.stats[3]) / ch.stats[2]
        lrs.append(float(lrs_all[i]))
        losses.append(float(loss))
        if not np.isfinite(loss) or not np.isfinite(model._params).all():
            break
        avg = beta * avg + (1 - beta) * loss
        smooth = avg / (1 - beta ** (i + 1))
        best = min(best, smooth)
        if stop_div and smooth > 4 * best:
            break
    return lrs, losses
