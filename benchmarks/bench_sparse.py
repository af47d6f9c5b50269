"""Training on scipy.sparse CSR input against training on the densified matrix.

One epoch of a ``features-hidden-10`` ReLU net (default 10,000 features at 1%
density, 4,000 rows, hidden 128), shuffled, through ``fastmlp._core.train``
(one call per epoch): the CSR rows read in place by the first layer's CSR
kernels (csrc/layers/csr.c), and the same rows densified once before timing
(the dense GEMM path with its speed paths).  Parity first: one epoch from the
same weights in both forms must agree at the trajectory tolerance before
anything is timed.  Then the best of ``--repeats`` epochs each, side by side in
one run, and their ratio, in wall time and in the process's CPU time (which a
loaded machine disturbs least).

Script: ``python -m benchmarks.bench_sparse [--rows 4000 --batch 32,256 ...]``
(``--help``); pytest-benchmark: ``python -m pytest benchmarks/bench_sparse.py``.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any, Optional, Sequence

import numpy as np
import pytest

from fastmlp import _core as core
from fastmlp._backend import ACTIVATIONS, LOSSES, OPTIMIZERS, train_steps
from fastmlp.testing import assert_close

OPTIMIZER_CFG = {"sgd": {"kind": "sgd", "lr": 0.05}, "adam": {"kind": "adam", "lr": 1e-3,
                                                                "beta1": 0.9, "beta2": 0.999,
                                                                "eps": 1e-8}}


class SparseEpoch:
    """One problem: CSR X, its dense copy, labels, initial weights; epochs in either form."""

    def __init__(self, rows: int = 4000, features: int = 10_000, density: float = 0.01,
                 hidden: int = 128, batch: int = 32, threads: int = 1, dtype: Any = np.float32,
                 optimizer: str = "sgd", seed: int = 0) -> None:
        import scipy.sparse as sp

        rng = np.random.default_rng(seed)
        self.dtype = np.dtype(dtype)
        self.X = sp.random(rows, features, density=density, format="csr", dtype=self.dtype,
                           random_state=seed)
        self.Xd = self.X.toarray()
        labels = np.asarray(self.X @ rng.standard_normal((features, 10))).argmax(1)
        self.Y = np.eye(10, dtype=self.dtype)[labels]
        self.sizes = np.array([features, hidden, 10], np.int64)
        self.acts = np.array([ACTIVATIONS["relu"], ACTIVATIONS["softmax"]], np.int32)
        self.slopes = np.zeros(2)
        bound = np.sqrt(6.0 / (self.sizes[:-1] + self.sizes[1:]))
        self.params0 = np.concatenate(
            [rng.uniform(-b, b, int(i * o)) for b, i, o in zip(bound, self.sizes[:-1],
                                                                 self.sizes[1:])]
            + [np.zeros(int(o)) for o in self.sizes[1:]]).astype(self.dtype)
        self.batch, self.threads, self.optimizer = batch, threads, optimizer
        self.order = rng.permutation(rows).astype(np.int64)
        self.work = np.empty(core.workspace_size(self.sizes, self.acts, self.slopes, batch),
                             self.dtype)
        self.n_batches = -(-rows // batch)

    def epoch(self, sparse: bool, params: Optional[np.ndarray] = None) -> np.ndarray:
        """Train one epoch from params (default: the initial weights); return the weights."""
        p = (self.params0 if params is None else params).copy()
        opt = {**OPTIMIZER_CFG[self.optimizer], "step": 0}
        opt["kind"] = OPTIMIZERS[opt["kind"]]
        done, _ = train_steps(params=p, grad=np.empty_like(p), work=self.work, stats=np.zeros(4),
                              net=(self.sizes, self.acts, self.slopes), opt=opt,
                              cfg={"loss": LOSSES["cce"]}, x=self.X if sparse else self.Xd,
                              y=self.Y, order=self.order, n_batches=self.n_batches,
                              batch=self.batch, s1=np.zeros_like(p), s2=np.zeros_like(p),
                              n_threads=self.threads)
        assert done == self.n_batches
        return p

    def check_parity(self) -> None:
        """One epoch as CSR and dense from the same weights: the trajectory tolerance."""
        assert_close(self.epoch(True), self.epoch(False), self.dtype, kind="trajectory",
                     what="CSR vs dense epoch")

    def best_seconds(self, sparse: bool, repeats: int) -> tuple[float, float]:
        """(wall, CPU) seconds of the best of ``repeats`` epochs: the process's CPU time
        (all its threads) is what a loaded machine disturbs least."""
        wall = cpu = np.inf
        for _ in range(repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            self.epoch(sparse)
            wall = min(wall, time.perf_counter() - t0)
            cpu = min(cpu, time.process_time() - c0)
        return wall, cpu


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=4000)
    ap.add_argument("--features", type=int, default=10_000)
    ap.add_argument("--density", type=float, default=0.01)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--batch", default="32,256", help="comma-separated batch sizes")
    ap.add_argument("--threads", default="1", help="comma-separated thread counts")
    ap.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    ap.add_argument("--optimizer", default="sgd,adam", help="comma-separated: sgd, adam")
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args(argv)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"# {a.rows} rows x {a.features} features at density {a.density}, "
          f"{a.features}-{a.hidden}-10 ReLU, {a.dtype}, target {core.simd_target()}; "
          f"best of {a.repeats} epochs; load average {load:.1f}")
    print(f"{'optimizer':>9} {'batch':>5} {'threads':>7} | {'csr wall s':>10} {'dense wall s':>12} "
          f"{'ratio':>6} | {'csr cpu s':>9} {'dense cpu s':>11} {'ratio':>6}")
    for opt in a.optimizer.split(","):
        for batch in (int(b) for b in a.batch.split(",")):
            for threads in (int(t) for t in a.threads.split(",")):
                pb = SparseEpoch(a.rows, a.features, a.density, a.hidden, batch, threads,
                                 a.dtype, opt)
                pb.check_parity()
                (ws, cs), (wd, cd) = (pb.best_seconds(True, a.repeats),
                                      pb.best_seconds(False, a.repeats))
                print(f"{opt:>9} {batch:>5} {threads:>7} | {ws:>10.4f} {wd:>12.4f} "
                      f"{wd / ws:>5.1f}x | {cs:>9.4f} {cd:>11.4f} {cd / cs:>5.1f}x", flush=True)
    return 0


@pytest.mark.benchmark(group="sparse-epoch")
@pytest.mark.parametrize("form", ["csr", "dense"])
@pytest.mark.parametrize("batch", [32, 256])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_sparse_epoch(timeit, form, batch, optimizer):
    pytest.importorskip("scipy.sparse")
    pb = SparseEpoch(batch=batch, optimizer=optimizer)
    pb.check_parity()
    nnz_work = 2 * pb.X.nnz * int(pb.sizes[1]) + 2 * pb.X.shape[0] * int(pb.sizes[1]) * 10
    timeit(lambda: pb.epoch(form == "csr"), flops=2 * nnz_work, threads=1, form=form,
           batch=batch, optimizer=optimizer)


if __name__ == "__main__":
    sys.exit(main())
