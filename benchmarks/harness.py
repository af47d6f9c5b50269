"""``fastmlp bench``: fastmlp against its peers, side by side, in one run.

For every row of the speed table (issue 3) this module builds one problem --
a net, a batch size, a thread count, a dtype, weights and data -- and runs
it through fastmlp and every peer installed here:

* **numpy**: the textbook implementation (``relu(a @ W + b)`` forward,
  ``A.T @ delta`` backward, ``W -= lr * dW``); always present;
* **torch**: ``nn.Sequential`` of ``Linear``/``ReLU``, ``CrossEntropyLoss``,
  ``optim.SGD``, with ``torch.set_num_threads(n)``; when importable;
* **sklearn**: ``MLPClassifier(solver='sgd', momentum=0, alpha=0,
  shuffle=False)`` trained with ``partial_fit``; when importable.

Parity first: before anything is timed, one training step of every
implementation, from identical weights and batch, is compared with the same
step computed in float64 NumPy (loss, updated parameters and the update
itself, with :func:`fastmlp.testing.assert_close`).  A fastmlp mismatch
aborts the row loudly (and the run exits with status 1); a peer mismatch
drops that peer from the row, also loudly.

Timing: each implementation runs k consecutive steps per repeat (k sized so
a repeat lasts about ``min_time``, from the time of a warm-up run of k steps
estimated from one), after a warm-up; the table shows the best
repeat (other processes only ever slow a run down) and the JSON also keeps
the median.  fastmlp is timed the way a user trains -- ``fastmlp._core.train``
running many batches in one call, per-step time = total / batches -- and also
per call (one Python call per step).  Thread counts are set explicitly:
fastmlp's ``n_threads``, ``torch.set_num_threads`` and, when threadpoolctl is
installed (it comes with scikit-learn), the BLAS thread pool of NumPy and
scikit-learn.  The machine's fp32 (and fp64) peak is measured in the same run
by an FMA-bound probe in the compiled core (:func:`peak_gflops` over ``fastmlp._core.peak_run``)
and every speed is also given as a fraction of it.

The ``bf16`` rows time bf16 mixed-precision training (``compute_dtype="bfloat16"``)
against fastmlp float32 and PyTorch autocast in one interleaved measurement, with the
``vdpbf16ps`` peak probed in the same run (:func:`peak_bf16_gflops`).

Run ``fastmlp bench`` or ``python -m benchmarks.compare``; ``--help`` lists
the options.  Exit status: 0, or 1 when a parity check failed, or 3 with
``--strict`` when a goal was not met.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import platform
import statistics
import sys
import time
import warnings
from typing import Any, Callable, Iterator, Optional, Sequence

import numpy as np

from fastmlp import _core as core
from fastmlp._backend import TrainStats, train_steps
from fastmlp.testing import assert_close


def probe_rate(run: Callable[[np.ndarray, int, int], float], n_threads: int = 1,
               seconds: float = 0.05, repeats: int = 5) -> float:
    """Best rate (G per second) of a peak probe ``run(sums, reps, n_threads) -> operations``.

    The probe is sized on one thread (every thread does the same work) from the fastest of
    a few tries, so a descheduled try cannot leave it tiny, to run about ``seconds`` per
    repeat; the best of ``repeats`` runs on ``n_threads`` is returned (other processes only
    ever slow it down).
    """
    if not (seconds > 0 and repeats >= 1):
        raise ValueError("probe_rate: seconds > 0 and repeats >= 1 expected")
    sums = np.zeros(max(n_threads, 1))
    reps = 1000
    while True:
        t = 1e300
        for _ in range(3):
            t0 = time.perf_counter()
            run(sums, reps, 1)
            t = min(t, time.perf_counter() - t0)
        if t >= 2e-3 or reps > (1 << 40):
            break
        reps *= 4
    reps = max(1, int(reps * seconds / t))
    best = 0.0
    for _ in range(repeats):
        t0 = time.perf_counter()
        ops = run(sums, reps, n_threads)
        best = max(best, ops / (time.perf_counter() - t0) / 1e9)
    return best


def peak_gflops(n_threads: int = 1, dtype: str = "float32", isa: str = "",
                seconds: float = 0.05, repeats: int = 5) -> float:
    """Measure the machine's peak: GFLOP/s of the core's FMA probe (``fastmlp._core.peak_run``)
    on ``n_threads`` threads, sized and repeated by :func:`probe_rate`.  Its multiplier
    < 1 keeps the chains bounded (no overflow, no subnormals)."""
    if not (seconds > 0 and repeats >= 1):
        raise ValueError("peak_gflops: seconds > 0 and repeats >= 1 expected")
    return probe_rate(lambda sums, reps, nt: core.peak_run(sums, dtype, isa, 0.999, 1e-3, reps, nt),
                      n_threads, seconds, repeats)


def peak_bf16_gflops(n_threads: int = 1, seconds: float = 0.05,
                     repeats: int = 5) -> Optional[float]:
    """The bf16 peak: GFLOP/s of the core's vdpbf16ps probe (``fastmlp._core.peak_bf16_run``,
    4 FLOPs per lane and instruction) on ``n_threads`` threads, sized and repeated as
    :func:`peak_gflops`; None on a CPU without AVX512_BF16."""
    if core.peak_bf16_run(np.zeros(1), 1000, 1) < 0:
        return None
    return probe_rate(core.peak_bf16_run, n_threads, seconds, repeats)


__all__ = ["NETS", "STEP_ROWS", "main", "step_flops", "forward_flops", "init_weights",
           "Problem", "make_problem", "NumpyTrainer", "FastmlpTrainer", "TorchTrainer",
           "SklearnTrainer", "numpy_forward", "check_step_parity", "ParityError",
           "installed_peers", "measure"]

#: the nets of the speed table: layer widths
NETS: dict[str, tuple[int, ...]] = {
    "A": (784, 16, 16, 10),
    "B": (784, 128, 64, 10),
    "C": (784, 512, 512, 10),
    "D": (784, 2048, 2048, 10),
}
#: training-step rows: (net, batch, threads) -> fastmlp goal in µs/step (issue 3)
STEP_ROWS: dict[tuple[str, int, int], float] = {
    ("A", 1, 1): 4.0, ("A", 32, 1): 30.0, ("B", 1, 1): 20.0, ("B", 32, 1): 200.0,
    ("B", 256, 2): 800.0, ("C", 1, 1): 150.0, ("C", 256, 2): 5500.0, ("D", 1, 1): 3500.0,
    ("D", 256, 2): 50000.0,
}
EPOCH_NET, EPOCH_BATCH, EPOCH_SAMPLES, EPOCH_GOAL_S = "B", 32, 60_000, 0.3
INFER_NET, INFER_BATCH, INFER_THREADS, INFER_GOAL_PEAK = "D", 4096, 2, 0.85
SCALE_NETS, SCALE_BATCH, SCALE_GOAL = ("C", "D"), 256, 1.8
#: batch-normalised training steps timed beside the plain step (issue 18): rows, goal ratio
NORM_ROWS, NORM_GOAL = (("B", 32, 1), ("C", 256, 2)), 1.15
#: float64 "about half the float32 throughput": f64 speed >= this x f32 speed
F64_MIN_SPEED = 0.4
PEERS = ("numpy", "torch", "sklearn")
#: bf16 mixed-precision training rows (issue 19): (net, batch, threads) -> the most
#: fastmlp bf16's step time may be, as a fraction of fastmlp float32's in the same run
BF16_ROWS: dict[tuple[str, int, int], float] = {("C", 256, 1): 0.72, ("D", 256, 1): 0.6}
SPECIAL_ROWS = ("epoch", "infer", "scale", "norm", "quant", "bf16")  # quant: benchmarks/lowprec.py
LR_TIMING, LR_PARITY = 0.01, 0.1
DATA_ROWS = 4096  # rows of synthetic data cycled through by the step rows


class ParityError(AssertionError):
    """An implementation's step does not match the float64 NumPy step."""


# --------------------------------------------------------------------------- problem

def step_flops(sizes: Sequence[int], batch: int) -> float:
    """FLOPs of one training step's matrix products.

    Forward ``x . W`` for every layer, ``dW = x^T . delta`` for every layer
    and ``dX = delta . W^T`` for every layer but the first (nobody needs the
    input's gradient): ``2 * batch * (2 * sum(in*out) + sum(in*out over l >= 1))``.
    Elementwise work (bias, activations, loss, update) is not counted.

    Parameters
    ----------
    sizes : sequence of int
        Layer widths, inputs first.
    batch : int
        Rows per step.

    Returns
    -------
    float

    Examples
    --------
    >>> step_flops((784, 16, 16, 10), 1)
    52672.0
    """
    mm = [sizes[i] * sizes[i + 1] for i in range(len(sizes) - 1)]
    return 2.0 * batch * (2 * sum(mm) + sum(mm[1:]))


def forward_flops(sizes: Sequence[int], batch: int) -> float:
    """FLOPs of one forward pass's matrix products, ``2 * batch * sum(in*out)``.

    Examples
    --------
    >>> forward_flops((784, 16, 16, 10), 1)
    25920.0
    """
    return 2.0 * batch * sum(sizes[i] * sizes[i + 1] for i in range(len(sizes) - 1))


def init_weights(rng: np.random.Generator, sizes: Sequence[int], dtype: Any):
    """Glorot-uniform weights and biases (as scikit-learn), exactly representable in ``dtype``.

    Returns float64 lists ``(Ws, bs)``, ``Ws[l]`` of shape (sizes[l], sizes[l+1]).
    """
    Ws, bs = [], []
    for i, o in zip(sizes[:-1], sizes[1:]):
        bound = np.sqrt(6.0 / (i + o))
        Ws.append(rng.uniform(-bound, bound, (i, o)).astype(dtype).astype(np.float64))
        bs.append(rng.uniform(-bound, bound, o).astype(dtype).astype(np.float64))
    return Ws, bs


@dataclasses.dataclass
class Problem:
    """One benchmark case: a net, its weights (float64, exact in ``dtype``) and data."""

    sizes: tuple[int, ...]
    batch: int
    threads: int
    dtype: np.dtype
    Ws: list
    bs: list
    x: np.ndarray        # (n, sizes[0]) in dtype, C-contiguous
    labels: np.ndarray   # (n,) int64 class indices
    Y: np.ndarray        # (n, K) one-hot in dtype
    lr: float = LR_TIMING

    @property
    def n_rows(self) -> int:
        return int(self.x.shape[0])

    @property
    def n_batches(self) -> int:
        return self.n_rows // self.batch

    def flat_params(self) -> np.ndarray:
        """The weights in fastmlp's flat layout (W0, W1, ..., b0, b1, ...), float64."""
        return np.concatenate([w.ravel() for w in self.Ws] + list(self.bs))

    def head(self, rows: int, lr: float) -> "Problem":
        """The same weights on the first ``rows`` rows only (for a parity step)."""
        return dataclasses.replace(self, x=self.x[:rows], labels=self.labels[:rows],
                                   Y=self.Y[:rows], lr=lr)

    def away_from_kinks(self) -> "Problem":
        """The same problem with hidden biases shifted so no pre-activation is near ReLU's kink.

        A float32 implementation and the float64 reference round a hidden
        pre-activation z differently; where |z| is within that rounding of 0
        the two disagree on relu'(z) and their gradients legitimately differ
        by a whole term (seen with OpenBLAS on net D at batch 256).  For the
        parity step only, each hidden unit's bias is moved by the middle of
        a gap in that unit's z values over the batch (the gap nearest the
        median at least 1e-3 * max|z| wide, or past the extremes), so every
        |z| is at least that half-gap: far above float32 rounding, while about
        half of the units stay active.  Layer by layer, in float64.
        """
        bs = [b.copy() for b in self.bs]
        a = self.x.astype(np.float64)
        for l in range(len(self.Ws) - 1):
            z = a @ self.Ws[l] + bs[l]
            zs = np.sort(z, axis=0)
            top = float(np.abs(z).max()) or 1.0
            far = 0.05 * top
            # candidates per unit: gap middles (n-1) and the two outer points
            mids = np.concatenate([zs[:1] - far, (zs[1:] + zs[:-1]) / 2, zs[-1:] + far])
            half = np.concatenate([np.full((1, z.shape[1]), far), (zs[1:] - zs[:-1]) / 2,
                                   np.full((1, z.shape[1]), far)])
            med = np.median(z, axis=0)
            cost = np.where(half >= 1e-3 * top, np.abs(mids - med), np.inf)
            shift = mids[np.argmin(cost, axis=0), np.arange(z.shape[1])]
            bs[l] = bs[l] - shift
            a = np.maximum(z - shift, 0)
        return dataclasses.replace(self, bs=[b.astype(self.dtype).astype(np.float64)
                                             for b in bs])

    def as_dtype(self, dtype: Any) -> "Problem":
        """The same problem with data in another dtype (weights are float64 anyway)."""
        dt = np.dtype(dtype)
        return dataclasses.replace(self, dtype=dt, x=np.ascontiguousarray(self.x, dtype=dt),
                                   Y=np.ascontiguousarray(self.Y, dtype=dt))


def make_problem(sizes: Sequence[int], batch: int, threads: int, dtype: Any,
                 n_rows: Optional[int] = None, seed: int = 0) -> Problem:
    """Build a benchmark problem: Glorot weights and random MNIST-like data.

    Parameters
    ----------
    sizes : sequence of int
        Layer widths, inputs first (e.g. ``NETS['B']``).
    batch : int
        Rows per training step.
    threads : int
        Threads every implementation is given.
    dtype : float32 or float64
    n_rows : int, optional
        Rows of data; default about ``DATA_ROWS``, a multiple of ``batch``.
        Steps cycle through the data in order.
    seed : int, default=0

    Returns
    -------
    Problem
        Inputs uniform in [0, 1), labels uniform over ``sizes[-1]`` classes.
    """
    dt = np.dtype(dtype)
    rng = np.random.default_rng(seed)
    n = n_rows if n_rows is not None else max(batch, (DATA_ROWS // batch) * batch)
    Ws, bs = init_weights(rng, sizes, dt)
    x = rng.random((n, sizes[0]), dtype=np.float32 if dt == np.float32 else np.float64)
    x = np.ascontiguousarray(x, dtype=dt)
    labels = rng.integers(0, sizes[-1], n).astype(np.int64)
    Y = np.zeros((n, sizes[-1]), dtype=dt)
    Y[np.arange(n), labels] = 1
    return Problem(tuple(int(s) for s in sizes), batch, threads, dt, Ws, bs, x, labels, Y)


@contextlib.contextmanager
def blas_threads(n: int) -> Iterator[bool]:
    """Limit the BLAS pools (NumPy's, SciPy's, scikit-learn's) to n threads; yield whether we could."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield False
        return
    with threadpool_limits(limits=n, user_api="blas"):
        yield True


# --------------------------------------------------------------------------- trainers
#
# Every trainer runs training steps over its problem's data, cycling through
# the batches in order: steps(k) runs k steps, reset() goes back to batch 0,
# last_loss() is the mean loss of the last step run, flat_params() the
# parameters in fastmlp's flat layout as float64, threads() a context that
# pins the implementation's thread count.

class NumpyTrainer:
    """The textbook NumPy MLP: ReLU hidden layers, softmax cross-entropy, plain SGD."""

    name = "numpy"

    def __init__(self, p: Problem) -> None:
        self.p = p
        self.W = [np.array(w, dtype=p.dtype) for w in p.Ws]
        self.b = [np.array(b, dtype=p.dtype) for b in p.bs]
        self.pos = 0
        self.loss = float("nan")

    def step(self, x: np.ndarray, Y: np.ndarray) -> float:
        """One SGD step on the batch (x, one-hot Y); return its mean cross-entropy."""
        n, lr, W, b = len(x), self.p.lr, self.W, self.b
        acts = [x]
        for l in range(len(W) - 1):
            acts.append(np.maximum(acts[-1] @ W[l] + b[l], 0))
        z = acts[-1] @ W[-1] + b[-1]
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        loss = -float((Y * logp).sum()) / n
        delta = (np.exp(logp) - Y) / n
        for l in range(len(W) - 1, -1, -1):
            dW, db = acts[l].T @ delta, delta.sum(axis=0)
            if l:
                delta = (delta @ W[l].T) * (acts[l] > 0)
            W[l] -= lr * dW
            b[l] -= lr * db
        return loss

    def steps(self, k: int) -> None:
        p, bs = self.p, self.p.batch
        for _ in range(k):
            lo = self.pos * bs
            self.loss = self.step(p.x[lo:lo + bs], p.Y[lo:lo + bs])
            self.pos = (self.pos + 1) % p.n_batches

    def reset(self) -> None:
        self.pos = 0

    def last_loss(self) -> float:
        return self.loss

    def flat_params(self) -> np.ndarray:
        return np.concatenate([w.ravel() for w in self.W] + self.b).astype(np.float64)

    def threads(self):
        return blas_threads(self.p.threads)


def numpy_forward(Ws: Sequence[np.ndarray], bs: Sequence[np.ndarray], x: np.ndarray) -> np.ndarray:
    """Textbook inference: ReLU hidden layers, softmax output."""
    a = x
    for l in range(len(Ws) - 1):
        a = np.maximum(a @ Ws[l] + bs[l], 0)
    z = a @ Ws[-1] + bs[-1]
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _net_arrays(sizes: Sequence[int]):
    L = len(sizes) - 1
    acts = [core.ACT_RELU] * (L - 1) + [core.ACT_SOFTMAX]
    return (np.asarray(sizes, dtype=np.int64), np.asarray(acts, dtype=np.int32),
            np.zeros(L, dtype=np.float64))


class FastmlpTrainer:
    """fastmlp's C training loop: ``core.train`` runs many batches per call.

    With ``per_call=True`` every step is its own ``core.train`` call (the cost
    of driving fastmlp one step at a time from Python).
    """

    name = "fastmlp"

    def __init__(self, p: Problem, per_call: bool = False, *, fast: Optional[bool] = None,
                 norm: Optional[str] = None, compute: str = "float32") -> None:
        self.p, self.per_call, self.fast = p, per_call, fast
        self.sizes, self.acts, self.slopes = _net_arrays(p.sizes)
        self.params = p.flat_params().astype(p.dtype)
        # norm ('batch' or 'layer' on every hidden layer): scales 1 and shifts 0 after the
        # biases, running mean 0 and variance 1
        self.norms = self.norm_state = None
        if norm is not None:
            hidden = list(p.sizes[1:-1])
            self.norms = np.full(len(hidden), core.NORM_BATCH if norm == "batch"
                                 else core.NORM_LAYER, dtype=np.int32)
            self.params = np.concatenate([self.params] + [np.r_[np.ones(o), np.zeros(o)].astype(
                p.dtype) for o in hidden])
            self.norm_state = np.concatenate([np.r_[np.zeros(o), np.ones(o)] for o in hidden]
                                             if norm == "batch" else [np.zeros(0)]).astype(p.dtype)
        self.grad = np.empty_like(self.params)
        self.work = np.empty(core.workspace_size(self.sizes, self.acts, self.slopes, p.batch,
                                                 self.norms), dtype=p.dtype)
        self.stats = np.zeros(4)
        self.opt = {"kind": core.OPT_SGD, "lr": p.lr, "momentum": 0.0, "step": 0}
        self.cfg = {"loss": core.LOSS_CCE, "metric": 0,
                    "compute": core.COMPUTE_BF16 if compute == "bfloat16" else core.COMPUTE_NATIVE}
        self.pos = 0

    def _call(self, n_batches: int) -> None:
        self.stats[:] = 0
        done, self.opt["step"] = train_steps(
            params=self.params, grad=self.grad, work=self.work, stats=self.stats,
            net=(self.sizes, self.acts, self.slopes), opt=self.opt, cfg=self.cfg, x=self.p.x,
            y=self.p.Y, start=self.pos * self.p.batch, n_batches=n_batches, batch=self.p.batch,
            n_threads=self.p.threads, fast=self.fast, norms=self.norms,
            norm_state=self.norm_state)
        if done != n_batches:
            raise RuntimeError(f"fastmlp train ran {done} of {n_batches} batches")
        self.pos = (self.pos + n_batches) % self.p.n_batches

    def steps(self, k: int) -> None:
        nb = self.p.n_batches
        while k > 0:
            n = 1 if self.per_call else min(k, nb - self.pos)
            self._call(n)
            k -= n

    def reset(self) -> None:
        self.pos = 0

    def last_loss(self) -> float:
        st = TrainStats.decode(self.stats)
        return st.data_loss / st.rows

    def flat_params(self) -> np.ndarray:
        return self.params.astype(np.float64)

    def threads(self):
        return contextlib.nullcontext()


class TorchTrainer:
    """PyTorch as its users write it: Sequential(Linear, ReLU, ...), CrossEntropyLoss, SGD."""

    name = "torch"

    def __init__(self, p: Problem) -> None:
        import torch
        from torch import nn

        self.torch, self.p = torch, p
        tdt = torch.float32 if p.dtype == np.float32 else torch.float64
        layers: list = []
        for l, (W, b) in enumerate(zip(p.Ws, p.bs)):
            lin = nn.Linear(W.shape[0], W.shape[1], dtype=tdt)
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(W.T)))
                lin.bias.copy_(torch.from_numpy(b))
            layers.append(lin)
            if l < len(p.Ws) - 1:
                layers.append(nn.ReLU())
        self.model = nn.Sequential(*layers)
        self.lossf = nn.CrossEntropyLoss()
        self.opt = torch.optim.SGD(self.model.parameters(), lr=p.lr)
        self.x = torch.from_numpy(p.x)
        self.t = torch.from_numpy(p.labels)
        self.pos = 0
        self.loss: Any = None

    def steps(self, k: int) -> None:
        bs, nb = self.p.batch, self.p.n_batches
        for _ in range(k):
            lo = self.pos * bs
            self.opt.zero_grad(set_to_none=True)
            loss = self.lossf(self.model(self.x[lo:lo + bs]), self.t[lo:lo + bs])
            loss.backward()
            self.opt.step()
            self.loss = loss
            self.pos = (self.pos + 1) % nb

    def reset(self) -> None:
        self.pos = 0

    def last_loss(self) -> float:
        return float(self.loss.item())

    def flat_params(self) -> np.ndarray:
        lins = [m for m in self.model if hasattr(m, "weight")]
        ws = [m.weight.detach().numpy().T.ravel() for m in lins]
        return np.concatenate(ws + [m.bias.detach().numpy() for m in lins]).astype(np.float64)

    def forward(self, x: Any) -> Any:
        with self.torch.no_grad():
            return self.torch.softmax(self.model(x), dim=1)

    @contextlib.contextmanager
    def threads(self):
        before = self.torch.get_num_threads()
        self.torch.set_num_threads(self.p.threads)
        try:
            yield
        finally:
            self.torch.set_num_threads(before)


class TorchAutocastTrainer(TorchTrainer):
    """PyTorch bf16 mixed precision as its docs show it: the forward and loss under
    ``torch.autocast("cpu", dtype=torch.bfloat16)``, float32 master weights and SGD."""

    name = "torch_bf16"

    def steps(self, k: int) -> None:
        bs, nb = self.p.batch, self.p.n_batches
        for _ in range(k):
            lo = self.pos * bs
            self.opt.zero_grad(set_to_none=True)
            with self.torch.autocast("cpu", dtype=self.torch.bfloat16):
                loss = self.lossf(self.model(self.x[lo:lo + bs]), self.t[lo:lo + bs])
            loss.backward()
            self.opt.step()
            self.loss = loss
            self.pos = (self.pos + 1) % nb


class SklearnTrainer:
    """scikit-learn's MLPClassifier(solver='sgd', momentum=0, alpha=0, shuffle=False).

    Steps run through ``partial_fit`` over consecutive rows (one call does
    as many batches as it is given rows), the weights set to the problem's.
    """

    name = "sklearn"

    def __init__(self, p: Problem) -> None:
        from sklearn.neural_network import MLPClassifier

        self.p = p
        self.clf = MLPClassifier(hidden_layer_sizes=p.sizes[1:-1], activation="relu",
                                 solver="sgd", momentum=0.0, alpha=0.0, shuffle=False,
                                 batch_size=p.batch, learning_rate="constant",
                                 learning_rate_init=p.lr, random_state=0)
        self._fit(p.x[:1], p.labels[:1], classes=np.arange(p.sizes[-1]))  # builds the model
        self.clf.coefs_ = [np.array(w, dtype=p.dtype) for w in p.Ws]
        self.clf.intercepts_ = [np.array(b, dtype=p.dtype) for b in p.bs]
        self.pos = 0

    def _fit(self, x: np.ndarray, labels: np.ndarray, **kw: Any) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.clf.partial_fit(x, labels, **kw)

    def steps(self, k: int) -> None:
        bs, nb = self.p.batch, self.p.n_batches
        while k > 0:
            n = min(k, nb - self.pos)
            lo, hi = self.pos * bs, (self.pos + n) * bs
            self._fit(self.p.x[lo:hi], self.p.labels[lo:hi])
            self.pos = (self.pos + n) % nb
            k -= n

    def reset(self) -> None:
        self.pos = 0

    def last_loss(self) -> float:
        return float(self.clf.loss_)

    def flat_params(self) -> np.ndarray:
        return np.concatenate([w.ravel() for w in self.clf.coefs_]
                              + list(self.clf.intercepts_)).astype(np.float64)

    def threads(self):
        return blas_threads(self.p.threads)


TRAINERS: dict[str, Callable[[Problem], Any]] = {
    "numpy": NumpyTrainer, "torch": TorchTrainer, "sklearn": SklearnTrainer,
}


def installed_peers() -> list[str]:
    """The peers importable here: numpy always, torch and sklearn when installed."""
    found = ["numpy"]
    for name, mod in (("torch", "torch"), ("sklearn", "sklearn.neural_network")):
        try:
            __import__(mod)
        except ImportError:
            continue
        found.append(name)
    return found


# --------------------------------------------------------------------------- parity

def check_step_parity(p: Problem, make: Callable[[Problem], Any], what: str,
                      tol: Any = None) -> None:
    """Check one training step of an implementation against the float64 NumPy step.

    Both start from the problem's weights and see its first batch (learning
    rate ``LR_PARITY``; hidden biases moved away from ReLU's kink, see
    :meth:`Problem.away_from_kinks`).  Compared with :func:`fastmlp.testing.assert_close`
    at the 'kernel' tolerance of the problem's dtype: the loss, the updated
    parameters and the update itself (new - old parameters, lr times the
    gradient, so that a wrong gradient cannot hide behind large weights).

    Parameters
    ----------
    p : Problem
    make : callable
        ``make(problem)`` returns a trainer (see :class:`NumpyTrainer`).
    what : str
        Name used in the error message.
    tol : optional
        The tolerances' dtype key when not the problem's (``"bfloat16"`` for bf16
        products).

    Raises
    ------
    ParityError
        With assert_close's report of the first mismatching values.
    """
    q = p.head(p.batch, LR_PARITY).away_from_kinks()
    ref = NumpyTrainer(q.as_dtype(np.float64))
    ref.steps(1)
    impl = make(q)
    with impl.threads():
        impl.steps(1)
    p0 = q.flat_params()
    got, want = impl.flat_params(), ref.flat_params()
    tol = p.dtype if tol is None else tol
    try:
        assert_close(np.array([impl.last_loss()]), np.array([ref.last_loss()]), tol,
                     what=f"{what}: loss")
        assert_close(got, want, tol, what=f"{what}: updated parameters")
        assert_close(got - p0, want - p0, tol, what=f"{what}: update (lr * gradient)")
    except AssertionError as exc:
        raise ParityError(str(exc)) from None


def check_forward_parity(out: np.ndarray, p: Problem, what: str) -> None:
    """Compare a forward pass's output with the float64 NumPy forward; raise ParityError."""
    want = numpy_forward(p.Ws, p.bs, p.x.astype(np.float64))
    try:
        assert_close(out, want, p.dtype, what=f"{what}: forward output")
    except AssertionError as exc:
        raise ParityError(str(exc)) from None


# --------------------------------------------------------------------------- timing

@dataclasses.dataclass
class Timing:
    """Seconds per step: the best and the median repeat."""

    best: float
    median: float
    steps: int
    repeats: int

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class Settings:
    """How long and how often to measure."""

    min_time: float = 0.1      # seconds per timed repeat (k steps)
    repeats: int = 7
    min_repeats: int = 3
    budget: float = 4.0        # seconds per contender and row, after which repeats stop
    max_steps: int = 1_000_000
    epoch_repeats: int = 5    # an epoch is long, but its time varies by 10-20% here (0.298-0.372 s)
    peak_seconds: float = 0.005   # short probes: on a busy machine a quiet 5 ms comes sooner
    peak_repeats: int = 40
    # idle seconds before each timed repeat: a library's worker threads busy-wait
    # after its last call (NumPy's OpenBLAS: 0.105 s, measured here), and would
    # otherwise take a core from whichever contender comes next
    settle: float = 0.15

    def steps_for(self, step_seconds: float) -> int:
        """Steps per repeat for a repeat of about ``min_time``.

        Parameters
        ----------
        step_seconds : float
            Seconds one step took.

        Returns
        -------
        int
            Between 1 and ``max_steps``.
        """
        return int(min(self.max_steps, max(1, self.min_time / max(step_seconds, 1e-9))))


@dataclasses.dataclass
class Contender:
    """Something to time: ``run(k)`` does k steps inside a fresh ``ctx()``."""

    name: str
    run: Callable[[int], Any]
    ctx: Callable[[], Any] = contextlib.nullcontext


def measure(contenders: Sequence[Contender], s: Settings, fixed_steps: Optional[int] = None,
            warm_steps: Optional[int] = None) -> dict:
    """Time every contender; return {name: Timing} in seconds per step.

    Each contender is warmed up, then k is chosen so one of its repeats
    lasts about ``s.min_time`` (or k = ``fixed_steps``).  The repeats are
    interleaved -- one repeat of each contender in turn, the order rotating
    -- so that load from other processes falls on all of them alike, each
    after ``s.settle`` idle seconds (the previous one's spinning threads); they
    stop after ``s.repeats`` rounds or, past ``s.min_repeats``, when
    ``s.budget`` seconds per contender have been spent.
    """
    ks: dict = {}
    t_start = time.perf_counter()
    for c in contenders:
        with c.ctx():
            c.run(1 if warm_steps is None else warm_steps)
            if fixed_steps is not None:
                ks[c.name] = fixed_steps
                continue
            t0 = time.perf_counter()
            c.run(1)
            t1 = time.perf_counter() - t0
            k = s.steps_for(t1)
            if k > 1 and k * t1 < s.budget / 4:
                # warm at that size, and size the repeats from its time: one
                # step alone can cost several steps of a longer run (fastmlp's
                # one-step calls skip deferring their updates, lowrank.h), and
                # repeats that short put each call's fixed work on few steps
                t0 = time.perf_counter()
                c.run(k)
                k = s.steps_for((time.perf_counter() - t0) / k)
            ks[c.name] = k
    times: dict = {c.name: [] for c in contenders}
    n_rep = s.repeats if fixed_steps is None else s.epoch_repeats
    for rep in range(n_rep):
        for i in range(len(contenders)):
            c = contenders[(i + rep) % len(contenders)]
            time.sleep(s.settle)
            with c.ctx():
                t0 = time.perf_counter()
                c.run(ks[c.name])
                times[c.name].append((time.perf_counter() - t0) / ks[c.name])
        if (rep + 1 >= s.min_repeats
                and time.perf_counter() - t_start > s.budget * len(contenders)):
            break
    return {n: Timing(min(v), statistics.median(v), ks[n], len(v)) for n, v in times.items()}


# --------------------------------------------------------------------------- rows

@dataclasses.dataclass
class Run:
    """Everything one run measured, for the table and the JSON."""

    settings: Settings
    dtypes: list
    peers: list
    threads_override: Optional[int]
    peaks: dict = dataclasses.field(default_factory=dict)   # (dtype, threads) -> GFLOP/s
    bf16_peaks: dict = dataclasses.field(default_factory=dict)  # threads -> GFLOP/s (or None)
    rows: list = dataclasses.field(default_factory=list)
    failures: list = dataclasses.field(default_factory=list)
    notes: list = dataclasses.field(default_factory=list)

    def threads(self, n: int) -> int:
        return self.threads_override or n

    def probe(self, dtype: Any, threads: int, repeats: Optional[int] = None) -> float:
        """Measure the peak again and keep the best seen (load only ever lowers it)."""
        key = (np.dtype(dtype).name, threads)
        g = peak_gflops(threads, key[0], seconds=self.settings.peak_seconds,
                        repeats=repeats or self.settings.peak_repeats)
        self.peaks[key] = max(g, self.peaks.get(key, 0.0))
        return self.peaks[key]

    def probe_bf16(self, threads: int, repeats: Optional[int] = None) -> Optional[float]:
        """Measure the bf16 peak again and keep the best seen; None without AVX512_BF16."""
        g = peak_bf16_gflops(threads, seconds=self.settings.peak_seconds,
                             repeats=repeats or self.settings.peak_repeats)
        if g is not None:
            self.bf16_peaks[threads] = max(g, self.bf16_peaks.get(threads) or 0.0)
        else:
            self.bf16_peaks.setdefault(threads, None)
        return self.bf16_peaks[threads]

    def peak(self, dtype: Any, threads: int) -> float:
        key = (np.dtype(dtype).name, threads)
        return self.peaks[key] if key in self.peaks else self.probe(dtype, threads)


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _loud(run: Run, row: str, dtype: Any, what: str, exc: Exception, fatal: bool) -> None:
    line = "!" * 78
    verdict = "row aborted, not timed" if fatal else "peer dropped from this row"
    _say(f"{line}\nPARITY FAILED: {row} {np.dtype(dtype).name}, {what} vs float64 NumPy "
         f"({verdict}):\n  {exc}\n{line}")
    if fatal:
        run.failures.append({"row": row, "dtype": np.dtype(dtype).name, "what": what,
                             "error": str(exc)})
    else:
        run.notes.append(f"{row} {np.dtype(dtype).name}: {what} failed parity and was dropped")


def _from_start(tr: Any) -> Callable[[int], None]:
    """run(k) for a whole epoch: k steps from the first batch."""
    def run(k: int) -> None:
        tr.reset()
        tr.steps(k)
    return run


def _checked_peers(run: Run, p: Problem, key: str, epoch: bool = False) -> list:
    """Parity-check every selected peer on p; return Contenders for those that pass."""
    out = []
    for name in run.peers:
        try:
            check_step_parity(p, TRAINERS[name], name)
        except ParityError as exc:
            _loud(run, key, p.dtype, name, exc, fatal=False)
            continue
        tr = TRAINERS[name](p)
        out.append(Contender(name, _from_start(tr) if epoch else tr.steps, tr.threads))
    return out


def _timed(run: Run, key: str, p: Problem, contenders: list, **kw: Any) -> dict:
    _say(f"  {key} {p.dtype.name}: timing " + ", ".join(c.name for c in contenders))
    run.probe(p.dtype, p.threads, repeats=10)
    return measure(contenders, run.settings, **kw)


def step_row(run: Run, net: str, batch: int, threads: int, dtype: Any) -> Optional[dict]:
    """One training-step row: parity, then fastmlp (chunked and per call) and every peer."""
    goal = STEP_ROWS.get((net, batch, threads)) if run.threads(threads) == threads else None
    threads = run.threads(threads)
    key = f"{net}/{batch}/{threads}"
    p = make_problem(NETS[net], batch, threads, dtype)
    try:
        check_step_parity(p, FastmlpTrainer, "fastmlp")
    except ParityError as exc:
        _loud(run, key, dtype, "fastmlp", exc, fatal=True)
        return None
    cs = [Contender("fastmlp", FastmlpTrainer(p).steps),
          Contender("fastmlp_per_call", FastmlpTrainer(p, per_call=True).steps)]
    t = _timed(run, key, p, cs + _checked_peers(run, p, key))
    return {"kind": "step", "row": key, "net": net, "batch": batch, "threads": threads,
            "dtype": p.dtype.name, "flops": step_flops(p.sizes, batch),
            "fastmlp": t.pop("fastmlp"), "fastmlp_per_call": t.pop("fastmlp_per_call"),
            "peers": t, "goal_us": goal}


def epoch_row(run: Run, dtype: Any, samples: int) -> Optional[dict]:
    """One epoch of net B, batch 32, over ``samples`` rows: fastmlp (C loop and MLP.fit) and peers."""
    from fastmlp import MLP

    threads = run.threads(1)
    key = f"epoch {EPOCH_NET}/{EPOCH_BATCH}/{threads}"
    p = make_problem(NETS[EPOCH_NET], EPOCH_BATCH, threads, dtype, n_rows=samples)
    try:
        check_step_parity(p, FastmlpTrainer, "fastmlp")
    except ParityError as exc:
        _loud(run, key, dtype, "fastmlp", exc, fatal=True)
        return None
    nb = p.n_batches
    model = MLP(list(p.sizes), activation="relu", dtype=p.dtype, n_threads=threads, seed=0,
                init="auto")

    def fit_epoch(k: int) -> None:
        model.fit(p.x[:k * p.batch], p.labels[:k * p.batch], epochs=1, batch_size=p.batch,
                  learning_rate=p.lr, shuffle=False, verbose=0, optimizer="sgd")

    cs = [Contender("fastmlp", _from_start(FastmlpTrainer(p))),
          Contender("fastmlp_fit", fit_epoch)] + _checked_peers(run, p, key, epoch=True)
    t = _timed(run, key, p, cs, fixed_steps=nb, warm_steps=min(nb, 64))
    return {"kind": "epoch", "row": key, "net": EPOCH_NET, "batch": EPOCH_BATCH,
            "threads": threads, "dtype": p.dtype.name, "samples": nb * p.batch, "steps": nb,
            "flops": step_flops(p.sizes, p.batch), "fastmlp": t.pop("fastmlp"),
            "fastmlp_fit": t.pop("fastmlp_fit"), "peers": t,
            # the 0.3 s goal is float32's; float64 has the float64 goals of a step row
            "goal_s": EPOCH_GOAL_S * samples / EPOCH_SAMPLES if p.dtype == np.float32 else None}


def infer_row(run: Run, dtype: Any, batch: int) -> Optional[dict]:
    """Forward-only inference of net D on ``batch`` rows: fastmlp and peers, vs the peak."""
    threads = run.threads(INFER_THREADS)
    key = f"infer {INFER_NET}/{batch}/{threads}"
    p = make_problem(NETS[INFER_NET], batch, threads, dtype, n_rows=batch)
    sizes, acts, slopes = _net_arrays(p.sizes)
    params = p.flat_params().astype(p.dtype)
    work = np.empty(core.workspace_size(sizes, acts, slopes, batch), dtype=p.dtype)
    out = np.empty((batch, p.sizes[-1]), dtype=p.dtype)

    def fm() -> np.ndarray:
        core.forward_net(out, work, params, sizes, acts, slopes, p.x, batch, threads)
        return out

    Ws = [w.astype(p.dtype) for w in p.Ws]
    bs = [b.astype(p.dtype) for b in p.bs]
    fwds: list = [("fastmlp", fm, contextlib.nullcontext),
                  ("numpy", lambda: numpy_forward(Ws, bs, p.x), lambda: blas_threads(threads))]
    if "torch" in run.peers:
        tt = TorchTrainer(p)
        xt = tt.torch.from_numpy(p.x)
        fwds.append(("torch", lambda: tt.forward(xt).numpy(), tt.threads))
    if "sklearn" in run.peers:
        sk = SklearnTrainer(p)
        fwds.append(("sklearn", lambda: sk.clf.predict_proba(p.x), lambda: blas_threads(threads)))
    cs = []
    for name, fwd, ctx in fwds:
        if name != "fastmlp" and name not in run.peers:
            continue
        with ctx():
            try:
                check_forward_parity(np.asarray(fwd()), p, name)
            except ParityError as exc:
                _loud(run, key, dtype, name, exc, fatal=name == "fastmlp")
                if name == "fastmlp":
                    return None
                continue
        cs.append(Contender(name, lambda k, f=fwd: [f() for _ in range(k)], ctx))
    t = _timed(run, key, p, cs)
    return {"kind": "infer", "row": key, "net": INFER_NET, "batch": batch, "threads": threads,
            "dtype": p.dtype.name, "flops": forward_flops(p.sizes, batch),
            "fastmlp": t.pop("fastmlp"), "peers": t, "goal_peak": INFER_GOAL_PEAK}


def scale_row(run: Run, net: str, dtype: Any) -> Optional[dict]:
    """fastmlp's training step on 1 and 2 threads (net C or D, batch 256)."""
    key = f"scale {net}/{SCALE_BATCH}"
    cs = []
    for t in (1, 2):
        p = make_problem(NETS[net], SCALE_BATCH, t, dtype)
        try:
            check_step_parity(p, FastmlpTrainer, f"fastmlp ({t} threads)")
        except ParityError as exc:
            _loud(run, key, dtype, f"fastmlp ({t} threads)", exc, fatal=True)
            return None
        cs.append(Contender(str(t), FastmlpTrainer(p).steps))
    run.probe(dtype, 1, repeats=10)
    t = _timed(run, key, p, cs)
    return {"kind": "scale", "row": key, "net": net, "batch": SCALE_BATCH,
            "dtype": np.dtype(dtype).name, "flops": step_flops(NETS[net], SCALE_BATCH),
            "fastmlp": {1: t["1"], 2: t["2"]}, "goal_speedup": SCALE_GOAL}


def check_norm_step_parity(p: Problem, norm: str) -> None:
    """Verify first: one step of the normalised trainer against fastmlp.reference."""
    from fastmlp import reference as ref

    q = p.head(p.batch, LR_PARITY)
    tr = FastmlpTrainer(q, norm=norm)
    kinds = [norm] * (len(p.sizes) - 2)
    acts = ["relu"] * len(kinds) + ["softmax"]
    want, _, _ = ref.train_chunk(tr.params, {"kind": "sgd", "lr": q.lr}, list(p.sizes), acts,
                                 [0.0] * len(acts), {"loss": "cce"}, q.x, q.Y, batch=q.batch,
                                 norms=kinds)
    tr.steps(1)
    try:
        assert_close(tr.params, want, p.dtype, kind="trajectory", what=f"{norm} norm step")
    except AssertionError as exc:
        raise ParityError(str(exc)) from None


def norm_row(run: Run, net: str, batch: int, threads: int, dtype: Any) -> Optional[dict]:
    """A batch- (and layer-) normalised training step beside the plain step and the
    default (speed paths) step of the same net, in one interleaved measurement."""
    threads = run.threads(threads)
    key = f"norm {net}/{batch}/{threads}"
    p = make_problem(NETS[net], batch, threads, dtype)
    cs = [Contender("plain", FastmlpTrainer(p, fast=False).steps),
          Contender("default", FastmlpTrainer(p).steps)]
    for norm in ("batch", "layer"):
        try:
            check_norm_step_parity(p, norm)
        except ParityError as exc:
            _loud(run, key, dtype, f"fastmlp {norm} norm", exc, fatal=True)
            return None
        cs.append(Contender(norm, FastmlpTrainer(p, norm=norm).steps))
    t = _timed(run, key, p, cs)
    return {"kind": "norm", "row": key, "net": net, "batch": batch, "threads": threads,
            "dtype": np.dtype(dtype).name, "flops": step_flops(p.sizes, batch),
            "fastmlp": t, "goal_ratio": NORM_GOAL}


# --------------------------------------------------------------------------- report

def bf16_row(run: Run, net: str, batch: int, threads: int) -> Optional[dict]:
    """bf16 mixed-precision training (float32 master weights): fastmlp bf16 against
    fastmlp float32 and PyTorch autocast, interleaved in one measurement."""
    goal = BF16_ROWS.get((net, batch, threads)) if run.threads(threads) == threads else None
    threads = run.threads(threads)
    key = f"bf16 {net}/{batch}/{threads}"
    p = make_problem(NETS[net], batch, threads, np.float32)
    bf16 = lambda q: FastmlpTrainer(q, compute="bfloat16")  # noqa: E731
    for make, what, tol in ((FastmlpTrainer, "fastmlp float32", None),
                            (bf16, "fastmlp bfloat16", "bfloat16")):
        try:
            check_step_parity(p, make, what, tol)
        except ParityError as exc:
            _loud(run, key, np.float32, what, exc, fatal=True)
            return None
    cs = [Contender("fastmlp_f32", FastmlpTrainer(p).steps),
          Contender("fastmlp_bf16", bf16(p).steps)]
    if "torch" in run.peers:
        try:
            check_step_parity(p, TorchAutocastTrainer, "torch_bf16", "bfloat16")
            tr = TorchAutocastTrainer(p)
            cs.append(Contender("torch_bf16", tr.steps, tr.threads))
        except ParityError as exc:
            _loud(run, key, np.float32, "torch_bf16", exc, fatal=False)
    run.probe_bf16(threads, repeats=10)
    t = _timed(run, key, p, cs)
    return {"kind": "bf16", "row": key, "net": net, "batch": batch, "threads": threads,
            "dtype": "float32", "flops": step_flops(p.sizes, batch),
            "fastmlp": t.pop("fastmlp_bf16"), "fastmlp_f32": t.pop("fastmlp_f32"), "peers": t,
            "goal_ratio": goal}


def _us(t: Optional[Timing]) -> str:
    return "-" if t is None else f"{t.best * 1e6:.1f}"


def _best_peer(peers: dict) -> tuple[Optional[str], Optional[Timing]]:
    if not peers:
        return None, None
    name = min(peers, key=lambda n: peers[n].best)
    return name, peers[name]


def _verdict(ok: Optional[bool]) -> str:
    return "n/a" if ok is None else ("yes" if ok else "NO")


def _f64_goals(row: str, fm: float, peer: Optional[str], peer_t: Optional[float],
               f32_t: Optional[float], unit: str, mult: float) -> list[dict]:
    """The float64 goals of a row (issue 3: "float64 at about half the float32
    throughput, never worse than the peers' float64"); times in seconds,
    shown as ``unit`` after multiplying by ``mult``."""
    speed = None if f32_t is None else f32_t / fm
    prec = 3 if unit == "s" else 1
    return [{"goal": f"{row} float64 <= best peer's float64" + (f" ({peer})" if peer else ""),
             "measured": f"{fm * mult:.{prec}f} vs "
                         + ("-" if peer_t is None else f"{peer_t * mult:.{prec}f}") + f" {unit}",
             "met": None if peer_t is None else fm <= peer_t},
            {"goal": f"{row} float64 speed >= {F64_MIN_SPEED:g} x float32",
             "measured": "-" if speed is None else f"{speed:.2f} x",
             "met": None if speed is None else speed >= F64_MIN_SPEED}]


def evaluate(run: Run) -> list[dict]:
    """Check every goal against the measured rows; return one record per goal."""
    goals: list[dict] = []
    by = {(r["kind"], r["row"], r["dtype"]): r for r in run.rows}
    for r in run.rows:
        dt = r["dtype"]
        if r["kind"] == "step":
            fm = r["fastmlp"].best * 1e6
            bp, bt = _best_peer(r["peers"])
            if dt == "float32" and r["goal_us"] is not None:
                goals.append({"goal": f"{r['row']} float32 <= {r['goal_us']:g} us/step",
                              "measured": f"{fm:.1f} us", "met": fm <= r["goal_us"]})
            if dt == "float64":
                f32 = by.get(("step", r["row"], "float32"))
                goals += _f64_goals(r["row"], r["fastmlp"].best, bp, bt and bt.best,
                                    f32 and f32["fastmlp"].best, "us", 1e6)
        elif r["kind"] == "epoch":
            t = r["fastmlp_fit"].best * r["steps"]
            if r["goal_s"] is not None:
                goals.append({"goal": f"{r['row']} {dt} ({r['samples']} samples, MLP.fit) "
                                      f"<= {r['goal_s']:.3g} s",
                              "measured": f"{t:.3f} s", "met": t <= r["goal_s"]})
            elif dt == "float64":
                f32 = by.get(("epoch", r["row"], "float32"))
                bp, bt = _best_peer(r["peers"])
                goals += _f64_goals(f"{r['row']} (MLP.fit)", t, bp,
                                    bt and bt.best * r["steps"],
                                    f32 and f32["fastmlp_fit"].best * f32["steps"], "s", 1.0)
        elif r["kind"] == "infer" and dt == "float32":
            frac = r["flops"] / r["fastmlp"].best / 1e9 / run.peak(dt, r["threads"])
            goals.append({"goal": f"{r['row']} float32 >= {r['goal_peak']:.0%} of fp32 peak",
                          "measured": f"{frac:.1%}", "met": frac >= r["goal_peak"]})
        elif r["kind"] == "quant":
            from benchmarks import lowprec

            goals += lowprec.quant_goals(r)
        elif r["kind"] == "bf16" and r["goal_ratio"] is not None:
            ratio = r["fastmlp"].best / r["fastmlp_f32"].best
            goals.append({"goal": f"{r['row']}: bf16 step <= {r['goal_ratio']:g} x float32's",
                          "measured": f"{ratio:.3f} x", "met": ratio <= r["goal_ratio"]})
        elif r["kind"] == "scale":
            sp = r["fastmlp"][1].best / r["fastmlp"][2].best
            goals.append({"goal": f"{r['row']} {dt}: 2 threads >= {r['goal_speedup']:g} x 1 thread",
                          "measured": f"{sp:.2f} x", "met": sp >= r["goal_speedup"]})
        elif r["kind"] == "norm":
            ratio = r["fastmlp"]["batch"].best / r["fastmlp"]["plain"].best
            goals.append({"goal": f"{r['row']} {dt}: batch-normalised step <= "
                                  f"{r['goal_ratio']:g} x the plain step",
                          "measured": f"{ratio:.3f} x", "met": ratio <= r["goal_ratio"]})
    return goals


def _gflops(r: dict, t: Timing) -> float:
    return r["flops"] / t.best / 1e9


def format_report(run: Run, info: dict) -> str:
    """The human-readable tables."""
    out: list[str] = []
    w = out.append
    w(f"fastmlp bench -- {info['cpu']} ({info['cpus']} CPUs), fastmlp {info['fastmlp']} "
      f"(GEMM target {info['simd_target']}, OpenMP {'on' if info['openmp'] else 'off'})")
    w("peers: " + ", ".join(f"{k} {v}" for k, v in info["peers"].items())
      + ("" if info["threadpoolctl"] else "  [threadpoolctl missing: BLAS threads NOT pinned]"))
    if info.get("load") is not None:
        w(f"load average (1 min) {info['load']} at the start, {info.get('load_end')} at the end"
          f" on {info['cpus']} CPUs: other processes slow every figure down, multi-threaded"
          " ones most")
    pk = ", ".join(f"{dt} {t} thread{'s' if t > 1 else ''} {g:.1f}"
                   for (dt, t), g in sorted(run.peaks.items()))
    w(f"measured peak GFLOP/s (FMA probe, {info['peak_isa']}): {pk}")
    w("times: best of repeats; ratio = best peer time / fastmlp time (x faster); "
      "%peak = fastmlp GFLOP/s / measured peak of the same dtype and threads; "
      "floor = matrix-product FLOPs at that peak")
    peers = run.peers
    for dt in run.dtypes:
        rows = [r for r in run.rows if r["kind"] == "step" and r["dtype"] == dt]
        if rows:
            w("")
            w(f"{dt}: one training step (forward + backward + SGD update), us/step")
            hdr = (f"{'net/batch/thr':<14}" + "".join(f"{n:>10}" for n in peers)
                   + f" | {'fastmlp':>9} {'per-call':>9} | {'best peer':>9} {'ratio':>7}"
                   + f" | {'goal':>8} {'met':>4} | {'GFLOP/s':>8} {'%peak':>6} {'floor':>8}")
            w(hdr)
            w("-" * len(hdr))
            for r in rows:
                bp, bt = _best_peer(r["peers"])
                fm = r["fastmlp"]
                ratio = "-" if bt is None else f"{bt.best / fm.best:.1f}x"
                peak = run.peak(dt, r["threads"])
                goal, met = "-", "-"
                if dt == "float32" and r["goal_us"] is not None:
                    goal = f"<={r['goal_us']:g}"
                    met = _verdict(fm.best * 1e6 <= r["goal_us"])
                elif dt == "float64":
                    goal = "<=peer"
                    met = _verdict(None if bt is None else fm.best <= bt.best)
                w(f"{r['row']:<14}" + "".join(f"{_us(r['peers'].get(n)):>10}" for n in peers)
                  + f" | {_us(fm):>9} {_us(r['fastmlp_per_call']):>9}"
                  + f" | {(bp or '-'):>9} {ratio:>7} | {goal:>8} {met:>4}"
                  + f" | {_gflops(r, fm):>8.2f} {_gflops(r, fm) / peak:>6.1%}"
                  + f" {r['flops'] / peak / 1e3:>8.1f}")
    for r in run.rows:
        dt = r["dtype"]
        if r["kind"] == "epoch":
            steps = r["steps"]
            cells = ", ".join(f"{n} {t.best * steps:.3f}" for n, t in r["peers"].items())
            bp, bt = _best_peer(r["peers"])
            fit = r["fastmlp_fit"].best * steps
            ratio = "" if bt is None else f"; ratio vs {bp} {bt.best * steps / fit:.1f}x"
            w("")
            w(f"{dt}: {r['row']}, one epoch of {r['samples']} samples, seconds: {cells}; "
              f"fastmlp MLP.fit {fit:.3f} (C loop alone {r['fastmlp'].best * steps:.3f}){ratio}"
              + ("" if r["goal_s"] is None else
                 f"; goal <= {r['goal_s']:.3g} s: {_verdict(fit <= r['goal_s'])}"))
        elif r["kind"] == "infer":
            peak = run.peak(dt, r["threads"])
            g = _gflops(r, r["fastmlp"])
            cells = ", ".join(f"{n} {t.best * 1e3:.1f} ms ({_gflops(r, t) / peak:.0%})"
                              for n, t in r["peers"].items())
            w("")
            w(f"{dt}: {r['row']}, forward only: {cells}; fastmlp "
              f"{r['fastmlp'].best * 1e3:.1f} ms = {g:.1f} GFLOP/s = {g / peak:.1%} of the {dt} "
              f"peak ({peak:.1f})" + (f"; goal >= {r['goal_peak']:.0%}: "
                                      f"{_verdict(g / peak >= r['goal_peak'])}"
                                      if dt == "float32" else ""))
        elif r["kind"] == "norm":
            t = r["fastmlp"]
            base = t["plain"].best
            w("")
            w(f"{dt}: {r['row']} training step, us: plain {base * 1e6:.1f}, default (speed "
              f"paths) {t['default'].best * 1e6:.1f}, batch norm {t['batch'].best * 1e6:.1f} "
              f"({t['batch'].best / base:.3f}x plain), layer norm {t['layer'].best * 1e6:.1f} "
              f"({t['layer'].best / base:.3f}x plain); goal batch <= {r['goal_ratio']:g}x: "
              f"{_verdict(t['batch'].best / base <= r['goal_ratio'])}")
        elif r["kind"] == "quant":
            from benchmarks import lowprec

            w("")
            w(lowprec.format_quant(r))
        elif r["kind"] == "bf16":
            f32, bf = r["fastmlp_f32"], r["fastmlp"]
            pk16, pk32 = run.bf16_peaks.get(r["threads"]), run.peak(dt, r["threads"])
            frac = "" if not pk16 else f" = {_gflops(r, bf) / pk16:.1%} of the bf16 peak ({pk16:.0f})"
            cells = "".join(f", {n} {t.best * 1e6:.0f} us ({t.best / f32.best:.3f} x)"
                            for n, t in r["peers"].items())
            w("")
            w(f"{r['row']} training step (float32 master weights): fastmlp float32 "
              f"{f32.best * 1e6:.0f} us ({_gflops(r, f32) / pk32:.1%} of the fp32 peak), "
              f"fastmlp bf16 {bf.best * 1e6:.0f} us = {bf.best / f32.best:.3f} x float32's, "
              f"{_gflops(r, bf):.1f} GFLOP/s{frac}{cells}"
              + ("" if r["goal_ratio"] is None else
                 f"; goal <= {r['goal_ratio']:g} x: {_verdict(bf.best / f32.best <= r['goal_ratio'])}"))
        elif r["kind"] == "scale":
            t1, t2 = r["fastmlp"][1].best, r["fastmlp"][2].best
            w("")
            w(f"{dt}: {r['row']} training step: 1 thread {t1 * 1e6:.0f} us, 2 threads "
              f"{t2 * 1e6:.0f} us, speedup {t1 / t2:.2f}x; goal >= {r['goal_speedup']:g}x: "
              f"{_verdict(t1 / t2 >= r['goal_speedup'])}")
    goals = evaluate(run)
    if goals:
        met = sum(1 for g in goals if g["met"])
        w("")
        w(f"goals: {met} of {len(goals)} met")
        for g in goals:
            w(f"  [{_verdict(g['met']):>3}] {g['goal']}: {g['measured']}")
    over = [r["row"] + " " + r["dtype"] for r in run.rows
            if r["kind"] in ("step", "infer")
            and _gflops(r, r["fastmlp"]) > run.peak(r["dtype"], r["threads"])]
    if over:
        w("note: above 100% of peak in " + ", ".join(over) + ": the peak probe never ran in a "
          "quiet moment (busy machine), so every fraction of peak here is an overestimate")
    for n in run.notes:
        w(f"note: {n}")
    if run.failures:
        w("")
        w(f"PARITY FAILED in {len(run.failures)} row(s): "
          + ", ".join(f"{f['row']} {f['dtype']} ({f['what']})" for f in run.failures))
    return "\n".join(out)


def format_markdown(run: Run, info: dict) -> str:
    """The step tables, the special rows and the goals as Markdown (for a README)."""
    out: list[str] = []
    w = out.append
    peers = run.peers
    w(f"Machine: {info['cpu']}, {info['cpus']} CPUs; fastmlp {info['fastmlp']} (GEMM target "
      f"{info['simd_target']}); " + ", ".join(f"{k} {v}" for k, v in info["peers"].items())
      + f"; load average {info.get('load')} at the start, {info.get('load_end')} at the end; "
      + f"{info['date']}.  Measured peak (GFLOP/s): "
      + ", ".join(f"{dt} x{t} {g:.0f}" for (dt, t), g in sorted(run.peaks.items())) + ".")
    for dt in run.dtypes:
        rows = [r for r in run.rows if r["kind"] == "step" and r["dtype"] == dt]
        if not rows:
            continue
        w("")
        w(f"{dt}, us per training step (best of repeats):")
        w("")
        w("| net/batch/threads | " + " | ".join(peers) + " | fastmlp | fastmlp per call "
          "| vs best peer | goal | met | GFLOP/s | % of peak |")
        w("|---" * (len(peers) + 8) + "|")
        for r in rows:
            bp, bt = _best_peer(r["peers"])
            fm = r["fastmlp"]
            g = _gflops(r, fm)
            if dt == "float32" and r["goal_us"] is not None:
                goal, met = f"<= {r['goal_us']:g}", _verdict(fm.best * 1e6 <= r["goal_us"])
            else:
                goal = "<= best peer"
                met = _verdict(None if bt is None else fm.best <= bt.best)
            w(f"| {r['row']} | " + " | ".join(_us(r["peers"].get(n)) for n in peers)
              + f" | **{_us(fm)}** | {_us(r['fastmlp_per_call'])} | "
              + ("-" if bt is None else f"{bt.best / fm.best:.2f}x ({bp})")
              + f" | {goal} | {met} | {g:.1f} | {g / run.peak(dt, r['threads']):.1%} |")
    goals = evaluate(run)
    if goals:
        w("")
        w(f"Goals met: {sum(1 for g in goals if g['met'])} of {len(goals)}.")
        w("")
        w("| goal | measured | met |")
        w("|---|---|---|")
        for g in goals:
            w(f"| {g['goal']} | {g['measured']} | {_verdict(g['met'])} |")
    return "\n".join(out)


def _loadavg() -> Optional[float]:
    """The 1-minute load average (None where the OS does not report it)."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def machine_info(peers: Sequence[str]) -> dict:
    """CPU, build and library versions (recorded with every run)."""
    import fastmlp

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    versions = {"numpy": np.__version__}
    for name in peers:
        if name == "torch":
            import torch
            versions["torch"] = torch.__version__
        elif name == "sklearn":
            import sklearn
            versions["sklearn"] = sklearn.__version__
    blas = []
    try:
        import threadpoolctl
        blas = [{k: d.get(k) for k in ("internal_api", "version", "num_threads", "filepath")}
                for d in threadpoolctl.threadpool_info() if d.get("user_api") == "blas"]
        have_tpc = True
    except ImportError:
        have_tpc = False
    return {"cpu": cpu, "cpus": os.cpu_count(), "load": _loadavg(), "python": platform.python_version(),
            "fastmlp": fastmlp.__version__, "simd_target": fastmlp.simd_target(),
            "targets": fastmlp.available_targets(), "openmp": fastmlp.openmp_enabled(),
            "max_threads": fastmlp.max_threads(), "peak_isa": core.peak_isas()[0],
            "peers": versions, "blas": blas, "threadpoolctl": have_tpc,
            "date": time.strftime("%Y-%m-%d %H:%M:%S")}


def _jsonable(x: Any) -> Any:
    if isinstance(x, Timing):
        return x.as_dict()
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    return x


# --------------------------------------------------------------------------- main

def build_parser() -> argparse.ArgumentParser:
    """The command line of ``fastmlp bench``."""
    rows = ", ".join(f"{n}/{b}/{t}" for n, b, t in STEP_ROWS)
    p = argparse.ArgumentParser(
        prog="fastmlp bench",
        description="Time fastmlp against NumPy, PyTorch and scikit-learn (whichever are "
                    "installed) on the speed table, after checking parity; print the table.",
        epilog=f"rows: {rows}, epoch, infer, scale, norm, quant (int8 and bfloat16 "
               "inference), bf16 (bf16 training; default: all)")
    p.add_argument("--rows", default=None,
                   help="comma-separated rows to run, e.g. 'A/1/1,B/32/1,epoch'")
    p.add_argument("--quick", action="store_true",
                   help="short timings and a 6,000-sample epoch (a smoke test, not a measurement)")
    p.add_argument("--threads", type=int, default=None,
                   help="run every row on this many threads instead of the row's own count")
    p.add_argument("--dtype", default="float32,float64",
                   help="float32, float64 or both, comma-separated (default both)")
    p.add_argument("--peers", default=None,
                   help=f"comma-separated subset of {', '.join(PEERS)} (default: all installed)")
    p.add_argument("--json", default=None, metavar="OUT.json", help="also write the results here")
    p.add_argument("--epoch-samples", type=int, default=None,
                   help=f"samples in the epoch row (default {EPOCH_SAMPLES}; 6000 with --quick)")
    p.add_argument("--infer-batch", type=int, default=INFER_BATCH,
                   help=f"rows of the inference row (default {INFER_BATCH})")
    p.add_argument("--repeats", type=int, default=None, help="timed repeats per measurement")
    p.add_argument("--min-time", type=float, default=None,
                   help="seconds per timed repeat (default 0.1; 0.02 with --quick)")
    p.add_argument("--strict", action="store_true", help="exit with status 3 if a goal is not met")
    p.add_argument("--markdown", action="store_true",
                   help="also print the tables as Markdown (for a README)")
    return p


class _UsageError(Exception):
    pass


def _parse_rows(spec: Optional[str]) -> list:
    if spec is None:
        return [*STEP_ROWS, *SPECIAL_ROWS]
    out: list = []
    for item in (s.strip() for s in spec.split(",") if s.strip()):
        if item in SPECIAL_ROWS:
            out.append(item)
            continue
        parts = item.split("/")
        try:
            key = (parts[0].upper(), int(parts[1]), int(parts[2]))
        except (IndexError, ValueError):
            key = None
        if key not in STEP_ROWS:
            raise _UsageError(f"--rows: unknown row {item!r}; rows are "
                              + ", ".join(f"{n}/{b}/{t}" for n, b, t in STEP_ROWS)
                              + ", " + ", ".join(SPECIAL_ROWS))
        out.append(key)
    return out


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the benchmark and print the table (``fastmlp bench``).

    Parameters
    ----------
    argv : sequence of str, optional
        Command-line arguments (see ``fastmlp bench --help``); default sys.argv.

    Returns
    -------
    int
        0; 1 if a parity check failed; 2 on a usage error; 3 with
        ``--strict`` if a goal was not met.
    """
    args = build_parser().parse_args(argv)
    try:
        rows = _parse_rows(args.rows)
        dtypes = [d.strip() for d in args.dtype.split(",") if d.strip()]
        if not dtypes or any(d not in ("float32", "float64") for d in dtypes):
            raise _UsageError(f"--dtype must be float32, float64 or both; got {args.dtype!r}")
        have = installed_peers()
        if args.peers is None:
            peers = have
        else:
            peers = [s.strip() for s in args.peers.split(",") if s.strip()]
            bad = [s for s in peers if s not in PEERS]
            if bad:
                raise _UsageError(f"--peers: unknown {bad}; choose from {list(PEERS)}")
            missing = [s for s in peers if s not in have]
            if missing:
                raise _UsageError(f"--peers: {missing} not installed here (installed: {have})")
        if args.threads is not None and args.threads < 1:
            raise _UsageError(f"--threads must be >= 1; got {args.threads}")
    except _UsageError as exc:
        print(f"fastmlp bench: error: {exc}", file=sys.stderr)
        return 2
    s = Settings()
    if args.quick:
        s = Settings(min_time=0.02, repeats=2, min_repeats=1, budget=0.5, epoch_repeats=1,
                     peak_seconds=0.01, peak_repeats=5, settle=0.0)
    if args.repeats is not None:
        s.repeats = s.epoch_repeats = max(1, args.repeats)
        s.min_repeats = min(s.min_repeats, s.repeats)
    if args.min_time is not None:
        s.min_time = args.min_time
    samples = args.epoch_samples or (6000 if args.quick else EPOCH_SAMPLES)
    run = Run(s, dtypes, peers, args.threads)
    info = machine_info(peers)
    _say(f"fastmlp bench: {len(rows)} row(s) x {dtypes}; peers {peers}; measuring the peak")
    for t in sorted({run.threads(1), run.threads(2)}):
        for dt in dtypes:
            run.probe(dt, t)
    for dt in dtypes:
        for item in rows:
            if isinstance(item, tuple):
                r = step_row(run, *item, dt)
                results = [r]
            elif item == "epoch":
                results = [epoch_row(run, dt, samples)]
            elif item == "infer":
                results = [infer_row(run, dt, args.infer_batch)]
            elif item == "norm":
                results = [norm_row(run, *nr, dt) for nr in NORM_ROWS]
            elif item == "quant":
                from benchmarks import lowprec

                results = lowprec.run_quant_rows(run) if dt == "float32" else []
            elif item == "bf16":  # bf16 products with float32 master weights: one pass
                results = ([bf16_row(run, *k) for k in BF16_ROWS]
                           if dt == dtypes[0] else [])
            else:
                results = [scale_row(run, net, dt) for net in SCALE_NETS]
            run.rows.extend(r for r in results if r is not None)
    for dt, t in list(run.peaks):  # again at the end: keep the best seen
        run.probe(dt, t)
    info["load_end"] = _loadavg()
    print(format_report(run, info), flush=True)
    if args.markdown:
        print("\n" + format_markdown(run, info), flush=True)
    goals = evaluate(run)
    if args.json:
        doc = {"machine": info, "settings": dataclasses.asdict(s),
               "peak_gflops": {**{f"{dt}/{t}": g for (dt, t), g in run.peaks.items()},
                               **{f"bfloat16/{t}": g for t, g in run.bf16_peaks.items()}},
               "rows": _jsonable(run.rows), "goals": goals, "parity_failures": run.failures,
               "notes": run.notes}
        with open(args.json, "w") as f:
            json.dump(doc, f, indent=1)
    if run.failures:
        return 1
    if args.strict and not all(g["met"] for g in goals):
        return 3
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
