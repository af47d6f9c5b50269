"""fm_train's plan (csrc/train/plan.c): the switch to the plain step, the thresholds
the core exports, and each speed path taken from its threshold on and not below it.

Every trajectory runs through fastmlp.testing.assert_train_trajectory: the plan on,
the plan off (the plain step, the in-C oracle) and fastmlp.reference, held to each
other after every call, with the steps each layer took on each path counted by the
core (``path_steps``).  Shapes come from ``core.fast_thresholds()``, so a changed
threshold moves the tests with it instead of silently dropping their coverage.
"""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from fastmlp import _core as core
from fastmlp import reference as ref
from fastmlp.testing import assert_train_trajectory

THRESH = core.fast_thresholds()


def test_thresholds_are_exported_consistently():
    assert THRESH["train_align"] == core.TRAIN_ALIGN
    assert THRESH["lowrank_max_terms"] == THRESH["train_align"] * THRESH["rank1_max_rows"]
    assert 0 < THRESH["sparse_fwd_max_fill"] < 1
    assert THRESH["lowrank_min_first"] <= THRESH["lowrank_min_bytes"] <= THRESH["rank1_min_bytes"]
    assert core.FAST_PATHS == ("defer", "ahead", "sparse", "rank1", "fused")


_CHILD = """
import numpy as np
from fastmlp import _core as core
from fastmlp._backend import ACTIVATIONS, LOSSES, OPTIMIZERS, train_steps
sizes = np.array([300, 40, 7], np.int64)
acts = np.array([ACTIVATIONS["tanh"], ACTIVATIONS["softmax"]], np.int32)
slopes = np.zeros(2)
rng = np.random.default_rng(0)
x, y = rng.standard_normal((20, 300)), np.eye(7)[rng.integers(0, 7, 20)]
for fast in (None, True, False):
    p = rng.standard_normal(300 * 40 + 40 * 7 + 47) * 0.05
    ran = np.zeros((2, len(core.FAST_PATHS)), np.int64)
    train_steps(params=p, grad=np.empty_like(p), stats=np.zeros(4),
                work=np.empty(core.workspace_size(sizes, acts, slopes, 1)),
                net=(sizes, acts, slopes), opt={"kind": OPTIMIZERS["sgd"], "lr": 0.1},
                cfg={"loss": LOSSES["cce"]}, x=x, y=y, n_batches=20, batch=1, fast=fast,
                path_steps=ran)
    print(core.FAST_DEFAULT, fast, int(ran.sum()))
"""


@pytest.mark.parametrize("env", ["0", "1", None])
def test_fastmlp_fast_0_forces_the_plain_step(env, tmp_path):
    """FASTMLP_FAST=0, read at import, makes every call without a "fast" field plain (no
    step takes a path); the call's field overrides it either way."""
    environ = {k: v for k, v in os.environ.items() if k != "FASTMLP_FAST"}
    if env is not None:
        environ["FASTMLP_FAST"] = env
    # cwd: `python -c` puts the working directory first on sys.path, and the repository
    # root's source folder (where CI runs pytest) would shadow the installed fastmlp
    out = subprocess.run([sys.executable, "-c", _CHILD], env=environ, capture_output=True,
                         text=True, check=True, timeout=600, cwd=tmp_path).stdout.split("\n")
    default = env != "0"
    rows = [line.split() for line in out if line]
    assert rows[0][:2] == [str(default), "None"] and (int(rows[0][2]) > 0) == default
    assert rows[1][1] == "True" and int(rows[1][2]) > 0
    assert rows[2][1] == "False" and int(rows[2][2]) == 0


def _run(sizes, hidden, dtype, batch, opt, calls, *, zeros=0.0, x=None, seed=0, **expect):
    rng = np.random.default_rng(seed)
    n = max(start + count * batch for start, count in calls)
    if x is None:
        x = rng.standard_normal((n, sizes[0]))
        x[rng.random(x.shape) < zeros] = 0
    y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], n)]
    params = rng.standard_normal(ref.n_params(sizes)) * 0.05
    acts = [hidden] * (len(sizes) - 2) + ["softmax"]
    assert_train_trajectory(params.astype(dtype), opt, sizes, acts, np.zeros(len(acts)),
                            {"loss": "cce", "metric": 1}, x.astype(dtype), y.astype(dtype),
                            calls, batch, **expect)


def _width(min_bytes, other, dtype, at):
    """Rows of a (rows x other) weight matrix of exactly min_bytes (at), or one row short."""
    rows = min_bytes // np.dtype(dtype).itemsize // other
    assert rows * other * np.dtype(dtype).itemsize == min_bytes
    return rows if at else rows - 1


SGD = {"kind": "sgd", "lr": 0.05}


@pytest.mark.parametrize("at", [True, False], ids=["at", "below"])
def test_rank1_from_its_threshold(dtype, at):
    """Layer 1's W of exactly rank1_min_bytes takes the rank-1 pass at batch 1 (one
    step per call: nothing deferred); a row less, the fused dW GEMM."""
    sizes = [4, _width(THRESH["rank1_min_bytes"], 256, dtype, at), 256, 3]
    calls = [(k, 1) for k in range(3)]
    taken, other = (["rank1"], ["fused"]) if at else (["fused"], ["rank1"])
    _run(sizes, "relu", dtype, 1, SGD, calls, paths={1: taken}, no_paths={1: other + ["defer"]})


@pytest.mark.parametrize("at", [True, False], ids=["at", "below"])
def test_defer_from_its_threshold(dtype, at):
    """Layer 1's W of exactly lowrank_min_bytes defers its updates in calls of several
    steps (and 2 rows); a row less, the fused dW GEMM."""
    sizes = [4, _width(THRESH["lowrank_min_bytes"], 64, dtype, at), 64, 3]
    calls = [(0, 5), (10, 9)]
    taken, other = (["defer"], ["fused"]) if at else (["fused"], ["defer"])
    _run(sizes, "tanh", dtype, 2, SGD, calls, paths={1: taken}, no_paths={1: other})


@pytest.mark.parametrize("at", [True, False], ids=["at", "below"])
def test_layer0_defer_and_ahead_from_their_threshold(dtype, at):
    """W_0 of exactly lowrank_min_first defers, and its products are made ahead (dense
    inputs); a row less, neither."""
    sizes = [_width(THRESH["lowrank_min_first"], 32, dtype, at), 32, 3]
    calls = [(0, 7), (7, 20)]
    taken = {0: ["defer", "ahead"]} if at else {0: ["fused"]}
    absent = {0: ["fused"]} if at else {0: ["defer", "ahead"]}
    _run(sizes, "tanh", dtype, 1, SGD, calls, paths=taken, no_paths=absent)


@pytest.mark.parametrize("at", [True, False], ids=["at", "below"])
def test_sparse_from_its_threshold(dtype, at):
    """W_0 of exactly sparse_fwd_min_bytes skips rows under zero inputs (Adam: no
    deferring around it); a row less, the GEMM."""
    sizes = [_width(THRESH["sparse_fwd_min_bytes"], 64, dtype, at), 64, 3]
    expect = {"paths": {0: ["sparse"]}} if at else {"no_paths": {0: ["sparse"]}}
    _run(sizes, "relu", dtype, 1, {"kind": "adam", "lr": 0.002}, [(0, 4), (4, 4)], zeros=0.7,
         **expect)


@pytest.mark.parametrize("extra", [0, 1], ids=["at", "above"])
def test_sparse_from_its_fill(dtype, extra):
    """Inputs with exactly sparse_fwd_max_fill of their columns nonzero are skipped over;
    one column more, the GEMM (each row its own pattern, batch 1)."""
    IN = THRESH["sparse_fwd_min_bytes"] // np.dtype(dtype).itemsize // 64
    nz = int(THRESH["sparse_fwd_max_fill"] * IN) + extra
    rng = np.random.default_rng(3)
    x = np.zeros((6, IN))
    for r in range(6):
        x[r, rng.permutation(IN)[:nz]] = rng.uniform(0.5, 1.5, nz)
    expect = {"paths": {0: ["sparse"]}} if extra == 0 else {"no_paths": {0: ["sparse"]}}
    _run([IN, 64, 3], "relu", dtype, 1, {"kind": "adam", "lr": 0.002}, [(0, 3), (3, 3)], x=x,
         **expect)


def test_fused_only_for_plain_sgd(dtype):
    """At batch 8 plain SGD writes each W in its dW GEMM; with momentum (state to keep)
    the optimizer's own update runs, and no SGD path."""
    sizes, calls = [5, 9, 3], [(0, 2), (16, 2)]
    _run(sizes, "tanh", dtype, 8, SGD, calls, paths={0: ["fused"], 1: ["fused"]})
    _run(sizes, "tanh", dtype, 8, {**SGD, "momentum": 0.9}, calls,
         no_paths={0: ["fused", "defer", "rank1"], 1: ["fused", "defer", "rank1"]})
