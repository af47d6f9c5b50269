"""The zero-skipping small-batch forward (csrc/train/fast/sparse_fwd_impl.h) against the reference.

In training, at batches of 1-2 rows and a W of at least 128 KiB (sparse_fwd.h),
fm_train's forward reads only the rows of W whose inputs are not all zero
(ReLU's dead units, blank pixels), when at most 7/8 of the inputs' columns
hold a nonzero.  The kernel is tested directly on every GEMM target (each has
its own instance), and inside training trajectories held to fastmlp.reference.
"""
from __future__ import annotations

import numpy as np
import pytest

from fastmlp import _core as core
from fastmlp import reference as ref
from fastmlp.testing import assert_close, assert_train_trajectory

SPARSE_FWD_MIN_BYTES = core.fast_thresholds()["sparse_fwd_min_bytes"]


def _zero_columns(x: np.ndarray, pattern: str, rng: np.random.Generator) -> np.ndarray:
    x = x.copy()
    if pattern == "half":  # random, as ReLU leaves them: groups of 4 and chunks of 64 cut anywhere
        x[:, rng.random(x.shape[1]) < 0.5] = 0
    elif pattern == "one_row":  # zero in row 0 only: row 1 still needs W's row
        x[0, ::2] = 0
    elif pattern == "all":
        x[...] = 0
    elif pattern == "last_only":  # one row of W taken, the last: a group of 1, padded
        x[:, :-1] = 0
    return x


@pytest.mark.parametrize("rows", [1, 2])
@pytest.mark.parametrize("k,n", [(517, 133), (300, 4100), (1031, 1401), (70, 9)])
@pytest.mark.parametrize("pattern", ["none", "half", "one_row", "all", "last_only"])
@pytest.mark.parametrize("beta", [0.0, 1.0, 0.5])
def test_kernel(target, dtype, n_threads, rows, k, n, pattern, beta):
    """Shapes off the 4-row groups and the vector lanes, n = 4100 past one 16 KiB column
    panel of c, 1031 x 1401 past FM_PF_MIN_BYTES in both dtypes (the prefetching path),
    beta = 0 never reading c."""
    rng = np.random.default_rng(k * n + rows)
    x = _zero_columns(rng.standard_normal((rows, k)), pattern, rng).astype(dtype)
    w = rng.standard_normal((k, n)).astype(dtype)
    c0 = rng.standard_normal((rows, n)).astype(dtype)
    c = c0.copy()
    if beta == 0:
        c[...] = np.nan
    core.sparse_fwd(c, x, w, beta, n_threads)
    want = x.astype(np.float64) @ w.astype(np.float64) + beta * c0
    assert_close(c, want, dtype, what=f"{rows} rows, {pattern}, beta={beta}")


def test_rows_under_zero_inputs_are_not_read(dtype):
    """The point of the kernel: W's rows under an all-zero input column are never loaded
    (NaN there would show in c if they were)."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 600)).astype(dtype)
    x[:, 1::3] = 0
    w = rng.standard_normal((600, 700)).astype(dtype)
    w_hidden = w.copy()
    w_hidden[1::3] = np.nan
    c = np.empty((2, 700), dtype)
    core.sparse_fwd(c, x, w_hidden, 0.0, 1)
    assert np.isfinite(c).all()
    assert_close(c, x.astype(np.float64) @ w.astype(np.float64), dtype, what="skipped rows")


def test_rejects_bad_shapes():
    x = np.ones((3, 4))
    with pytest.raises(ValueError, match="1 or 2 rows"):
        core.sparse_fwd(np.empty((3, 5)), x, np.ones((4, 5)))
    with pytest.raises(ValueError, match="shape mismatch"):
        core.sparse_fwd(np.empty((1, 5)), np.ones((1, 4)), np.ones((3, 5)))


def _sizes(dtype, net: str) -> list[int]:
    """"big": layer 0 (784 x h, MNIST-shaped) and layer 1 (h x h) both past 1 MiB, h off the
    lanes; "B": net B's shape, layer 0 (784 x 128) past the floor, layer 1 (128 x 64) under it."""
    isz = np.dtype(dtype).itemsize
    if net == "B":
        sizes = [784, 128, 64, 3]
        assert 784 * 128 * isz >= SPARSE_FWD_MIN_BYTES > 128 * 64 * isz
        return sizes
    h = 520 if isz == 4 else 368
    assert h * h * isz >= 1 << 20
    return [784, h, h, 3]


OPTS = {
    "sgd": {"kind": "sgd", "lr": 0.05},  # deferred updates (lowrank.h): beta = 1 after step 1
    "sgd_wd": {"kind": "sgd", "lr": 0.05, "weight_decay": 0.1},  # the rank1 pass writing W
    "adam": {"kind": "adam", "lr": 0.002},  # GEMMs in the backward
}


@pytest.mark.parametrize("batch", [1, 2])
@pytest.mark.parametrize("opt", list(OPTS))
@pytest.mark.parametrize("hidden", ["relu", "tanh"])
@pytest.mark.parametrize("net", ["big", "B"])
def test_training_trajectory(dtype, n_threads, batch, opt, hidden, net):
    """Blank pixels (70% zero inputs) skip rows of W_0; ReLU's zeros skip rows of W_1
    (tanh: dense, the GEMM path).  Four steps per call, three calls, held to the
    reference after each call (Adam in float32 drifts past the trajectory tolerance
    after ~20 steps of a net this size, whichever forward path runs)."""
    sizes = _sizes(dtype, net)
    isz = np.dtype(dtype).itemsize
    # W_0 past the floor under 70% zero inputs: skipped rows; W_1 too, under ReLU's zeros
    paths = {0: ["sparse"]}
    if hidden == "relu" and sizes[1] * sizes[2] * isz >= SPARSE_FWD_MIN_BYTES:
        paths[1] = ["sparse"]
    rng = np.random.default_rng(7)
    n = 4 * batch * 3 + 1
    x = rng.random((n, sizes[0]))
    x[rng.random(x.shape) < 0.7] = 0
    x = x.astype(dtype)
    y = np.eye(3)[rng.integers(0, 3, n)].astype(dtype)
    params = (rng.standard_normal(ref.n_params(sizes)) * 0.05).astype(dtype)
    acts = [hidden, hidden, "softmax"]
    assert_train_trajectory(params, OPTS[opt], sizes, acts, np.zeros(3), {"loss": "cce", "metric": 1},
                            x, y, [(call * 4 * batch, 4) for call in range(3)], batch, n_threads,
                            paths=paths, no_paths={0: ["ahead"]})
