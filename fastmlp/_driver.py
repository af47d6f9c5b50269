"""The one epoch driver: how every stochastic fit of fastmlp runs its epochs.

:class:`fastmlp.MLP` (``fit``, ``lr_find``) and the scikit-learn drop-ins
(``MLPClassifier``/``MLPRegressor`` with a stochastic solver) all train
through :func:`run_epochs`.  Each epoch runs as a few calls into C
(:func:`fastmlp._backend.train_steps`), each a *chunk* of consecutive
mini-batches with the GIL released.  What differs between the estimators --
the row order of an epoch and the random stream it comes from, per-epoch or
per-batch learning rates, the loss reported, the stopping rule, callbacks,
progress bars, what an interrupt does -- is given as :class:`Hooks`.

The driver owns what must be the same for all of them:

* the chunking: calls end on a multiple of ``_core.TRAIN_ALIGN`` steps (or at
  the epoch's end), where fm_train flushes its deferred low-rank updates, so
  results do not depend on chunk sizes or timings; sparse input is CSR rows read
  in place by fm_train's first layer (see :class:`Rows`);
* the optimizer state (:func:`prepare_state`: one dict model for every
  estimator, passed to C as its ``fm_optim``);
* the stats of each chunk, decoded into :class:`fastmlp._backend.TrainStats`;
* the finite check of X's rows during the first full epoch (``check_finite``);
* divergence: after each C call, a non-finite loss or weight stops training
  with the error :meth:`Hooks.diverged` gives (by default a
  :class:`fastmlp.DivergenceError` whose model is rolled back to its state
  before the call by the transaction around it);
* Ctrl-C: the C call in flight completes before Python sees the signal, so
  the model stays at the last completed step, its optimizer step agreeing
  with its weights; the driver then calls ``hooks.interrupted`` and returns.
"""
from __future__ import annotations

import time
from typing import Any, Optional

import numpy as np

from fastmlp import _backend as B
from fastmlp._validation import DivergenceError, _all_finite, check_csr, is_sparse

__all__ = ["Rows", "Hooks", "Chunking", "NonFiniteBatch", "prepare_state", "run_epochs",
           "aligned_count"]

core = B.core


class NonFiniteBatch(Exception):
    """``check_finite`` met a batch of X with a NaN or an infinity: training stopped
    before that batch changed anything (the caller restores the model and raises
    the user-facing error)."""


# ---------------------------------------------------------------------- optimizer state
def prepare_state(prev: Optional[dict], optimizer: Any, params: np.ndarray,
                  extra: Optional[dict] = None) -> dict:
    """The optimizer state for ``optimizer`` (a :class:`fastmlp.optim.Optimizer`).

    One model for every estimator: a dict that is also the ``fm_optim`` passed
    to C -- the optimizer's kernel fields (plus ``extra``), ``'step'`` (updates
    done), the buffers ``'s1'``, ``'s2'``, ``'s3'`` (None when unused), and
    ``'layout'`` (what the buffers mean).  ``prev`` is reused (its buffers,
    cast to the parameters' dtype if needed, and its step) when its layout and
    size match; otherwise the state starts afresh.
    """
    layout = list(optimizer.state_layout())
    st = prev
    if (st is None or st.get("layout") != layout or st["s1"].shape != params.shape
            or (optimizer.uses_s3() and st.get("s3") is None)):
        st = {"layout": layout, "step": 0,
              "s1": np.full_like(params, optimizer.initial_s1()),
              "s2": np.zeros_like(params),
              "s3": np.zeros_like(params) if optimizer.uses_s3() else None}
    elif st["s1"].dtype != params.dtype:  # training goes on in another precision
        for k in ("s1", "s2", "s3"):
            if st.get(k) is not None:
                st[k] = st[k].astype(params.dtype)
    st.update(optimizer.kernel_config())
    if extra:
        st.update(extra)
    st["optimizer"] = {"class": type(optimizer).__name__, "config": optimizer.get_config()}
    return st


# ---------------------------------------------------------------------- data
class Rows:
    """The training rows: X (dense C-contiguous, or scipy sparse), Y, sample weights.

    Sparse X becomes CSR with Y's dtype once (any other format converted); fm_train
    reads each batch's rows in place through its CSR first layer, in the epoch's
    order, so the row order and the steps are those of the densified X."""

    def __init__(self, X: Any, Y: np.ndarray, sw: Optional[np.ndarray]) -> None:
        self.sparse = is_sparse(X)
        if self.sparse:  # the C kernels trust its indices: checked here, O(nnz)
            X = check_csr(X, Y.dtype)
        self.X = X
        self.Y, self.sw = Y, sw
        self.n = X.shape[0]

    def chunk(self, order: Optional[np.ndarray], first: int, count: int, bs: int) -> tuple:
        """(x, y, sw, order, start) for a C call of ``count`` batches from batch ``first``."""
        return self.X, self.Y, self.sw, order, first * bs


# ---------------------------------------------------------------------- chunking
def aligned_count(count: int, step: int, bs: int, left: int) -> int:
    """Batches for a call, ending it on a step that is a multiple of TRAIN_ALIGN.

    At batches of 1-2 rows fm_train may defer weight updates and write them at
    such steps and at the end of each call (csrc/fastmlp.h): calls that end
    there (or at the epoch's end, ``left``) make the results independent of
    the chunk sizes.  Bigger batches keep ``count``.
    """
    a = core.TRAIN_ALIGN
    if bs > 2 or count >= left:
        return count
    end = (step + count) // a * a
    return end - step if end > step else min(a - step % a, left)


class Chunking:
    """How many batches each C call runs.

    ``target_seconds``: grow or shrink the chunk so a call lasts about that
    long (progress bars move, callbacks can stop, Ctrl-C is answered), starting
    from ``first`` batches; None keeps ``first`` batches per call.  ``exact``:
    calls run exactly that many batches, not aligned to the flush steps, and
    the stats the hooks see are the call's own, not the epoch's (a range test).
    """

    def __init__(self, first: int, target_seconds: Optional[float] = None,
                 exact: bool = False) -> None:
        self.size = max(1, int(first))
        self.target = target_seconds
        self.exact = exact

    def next(self, batches: int, elapsed: float, n_batches: int) -> None:
        if self.target is None:
            return
        want = self.size * 4 if elapsed <= 0 else int(self.target * batches / elapsed)
        self.size = max(1, min(n_batches, want, self.size * 4))


# ---------------------------------------------------------------------- hooks
class Hooks:
    """What an estimator adds to the driver's loop; every method has a no-op default."""

    def begin(self) -> None:
        """Before the first epoch."""

    def order(self, epoch: int) -> Optional[np.ndarray]:
        """Row order of the epoch (int64 indices), or None for X's order."""
        return None

    def epoch_begin(self, epoch: int, state: dict) -> None:
        """Before the epoch's first batch (e.g. set ``state['lr']``)."""

    def batch_hparams(self, epoch: int, first: int, count: int,
                      state: dict) -> tuple[Optional[np.ndarray], Optional[np.ndarray]]:
        """Per-batch (learning rates, momenta) of a chunk, or None where the state's do."""
        return None, None

    def chunk_end(self, epoch: int, done: int, batches: int, stats: B.TrainStats,
                  state: dict) -> bool:
        """After each C call (``batches`` run, ``done`` in the epoch); True stops the epoch."""
        return False

    def epoch_end(self, epoch: int, stats: B.TrainStats, complete: bool, state: dict) -> bool:
        """After the epoch (``complete``: every batch ran); True stops training."""
        return False

    def diverged(self, epoch: int, what: str) -> Optional[BaseException]:
        """The error to raise when a C call ends with a non-finite ``what`` ('loss' or
        'weights'), or None to go on (a hook that watches the loss itself).

        The default is a :class:`fastmlp.DivergenceError` with ``keeps_model``
        False: the transaction around the training call puts the model back as
        it was before the call (the weights of a diverging chunk are not usable).
        """
        err = DivergenceError(
            f"training diverged in epoch {epoch + 1} (non-finite {what}); the model was "
            "restored to its state before this call. Lower the learning rate or scale the "
            "inputs and targets.")
        err.keeps_model = False
        return err

    def interrupted(self, state: dict) -> None:
        """Ctrl-C arrived; the model is at the last completed step."""

    def close(self) -> None:
        """Always called last (progress bars)."""


# ---------------------------------------------------------------------- the loop
def _nonfinite(stats: B.TrainStats, params: np.ndarray) -> Optional[str]:
    """'loss' or 'weights' when a C call left that non-finite (training diverged), else None."""
    if not _all_finite(params):
        return "weights"
    if not np.isfinite(stats.data_loss + stats.penalty):
        return "loss"
    return None


def run_epochs(*, params: np.ndarray, net: tuple, state: dict, cfg: dict, rows: Rows, bs: int,
               epochs: int, hooks: Hooks, chunking: Chunking, n_threads: int,
               dropout: Optional[np.ndarray] = None, check_finite: bool = False,
               norms: Optional[np.ndarray] = None,
               norm_state: Optional[np.ndarray] = None) -> bool:
    """Train ``params`` in place for up to ``epochs`` epochs; return False if interrupted.

    net: (sizes, acts, slopes); state: from :func:`prepare_state`; cfg: the
    fm_train_cfg dict.  ``check_finite``: X has not been checked for NaN and
    infinity; each batch is checked in C right before it is used, until an
    epoch has gone over every row, and a bad batch raises :class:`NonFiniteBatch`.
    ``norms`` (int32 per hidden layer) and ``norm_state`` (the batch norms' running
    statistics, updated in place by each step) normalise hidden layers.
    """
    sizes, acts, slopes = net
    n_batches = -(-rows.n // bs)
    work = np.empty(core.workspace_size(sizes, acts, slopes, bs, norms), dtype=params.dtype)
    grad = np.empty_like(params)
    stats = B.stats_buffer(rows.Y.shape[1])
    call_cfg = {**cfg, "check_finite": bool(check_finite)}
    try:
        hooks.begin()
        for epoch in range(epochs):
            hooks.epoch_begin(epoch, state)
            order = hooks.order(epoch)
            stats[:] = 0
            done = 0
            while done < n_batches:
                left = n_batches - done
                count = min(chunking.size, left)
                if chunking.exact:
                    stats[:] = 0
                else:
                    count = aligned_count(count, state["step"], bs, left)
                lrs, moms = hooks.batch_hparams(epoch, done, count, state)
                x, y, sw, order_c, start = rows.chunk(order, done, count, bs)
                t0 = time.perf_counter()
                nb, _ = B.train_steps(
                    params=params, grad=grad, work=work, stats=stats, net=net, opt=state,
                    cfg=call_cfg, x=x, y=y, sw=sw, order=order_c, start=start, n_batches=count,
                    batch=bs, s1=state["s1"], s2=state["s2"], s3=state.get("s3"),
                    dropout=dropout, lr_steps=lrs, mom_steps=moms, n_threads=n_threads,
                    norms=norms, norm_state=norm_state)
                if nb < 0:  # batch done - nb - 1 holds a NaN/inf; nothing was changed by it
                    raise NonFiniteBatch()
                chunking.next(nb, time.perf_counter() - t0, n_batches)
                done += nb
                decoded = B.TrainStats.decode(stats)
                what = _nonfinite(decoded, params)
                if what is not None:
                    err = hooks.diverged(epoch, what)
                    if err is not None:
                        raise err
                if hooks.chunk_end(epoch, done, nb, decoded, state):
                    break
            if done == n_batches:  # every row of X has passed the check
                call_cfg["check_finite"] = False
            if hooks.epoch_end(epoch, B.TrainStats.decode(stats), done == n_batches, state):
                break
    except KeyboardInterrupt:
        hooks.interrupted(state)
        return False
    finally:
        hooks.close()
    return True
