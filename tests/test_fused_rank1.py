"""The fused small-batch SGD pass (csrc/train/fast/rank1_impl.h) against the reference.

For plain SGD at batches of up to FM_RANK1_MAX_ROWS (2) rows, fm_train does a
hidden layer's delta for the layer below and its weight update in one pass
over W:
  dn[r, i] = act'(a[r, i]) * (W[i, :] . d[r, :])   with the OLD W
  W[i, :]  = (1 - lr*wd) W[i, :] - lr * sum_r x[r, i] d[r, :]
(x the layer's input, dropped out under dropout; a the undropped output of
the layer below; the dropout mask then applied to dn), when W is at least
1 MiB.  Batches of 3 rows and more keep the GEMMs.  Every trajectory here is held to fastmlp.reference step
by step, on every GEMM target (each has its own instance of the pass).
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from fastmlp import _core as core
from fastmlp import reference as ref
from fastmlp._backend import ACTIVATIONS
from fastmlp.testing import assert_close, assert_train_trajectory

THRESH = core.fast_thresholds()


def _past(min_bytes: int, itemsize: int) -> int:
    """A width h with h x h weights just past min_bytes, off the vector lanes."""
    return math.isqrt(min_bytes // itemsize - 1) + 1 + 8


# Layer 1 (h x h) is past FM_RANK1_MIN_BYTES (1 MiB), so it takes the fused pass:
# 520 x 520 in float32, 371 x 371 in float64; neither width is a multiple of the
# vector lanes (64 f32 / 32 f64 on AVX), so the lanes' tails run too.  Layer 2
# (x 3) stays on the GEMMs.
def _sizes(dtype) -> list[int]:
    h = _past(THRESH["rank1_min_bytes"], np.dtype(dtype).itemsize)
    assert h * h * np.dtype(dtype).itemsize >= THRESH["rank1_min_bytes"]
    return [6, h, h, 3]


HIDDEN = ["relu", "leaky_relu", "tanh", "sigmoid", "identity"]
#: one step per call at batch 1-2: layer 1 takes the rank-1 pass (no deferring:
#: its terms would be flushed right after), layers 0 and 2 the fused dW GEMM
RANK1 = {"paths": {0: ["fused"], 1: ["rank1"], 2: ["fused"]}, "no_paths": {1: ["defer"]}}


def _trajectory(sizes, hidden, dtype, batch, n_threads, *, wd=0.0, dropout=None, steps=3,
                n=None, seed=0, lr=0.05, per_call=1, init=0.4, paths=None, no_paths=None):
    """`steps` core.train calls of `per_call` batches each, plan on and off, and the
    reference, side by side (fastmlp.testing.assert_train_trajectory)."""
    rng = np.random.default_rng(seed)
    n = n or 3 * batch + 1
    K = sizes[-1]
    x = rng.standard_normal((n, sizes[0])).astype(dtype)
    x[:, ::3] = 0  # zero inputs: rows of W_0 whose update is zero
    y = np.eye(K)[rng.integers(0, K, n)].astype(dtype)
    params = (rng.standard_normal(ref.n_params(sizes)) * init).astype(dtype)
    acts = [hidden] * (len(sizes) - 2) + ["softmax"]
    cfg = {"loss": "cce", "metric": 1, "seed": 5}
    if dropout is not None:
        cfg["dropout"] = list(dropout)
    n_batches = -(-n // batch)
    calls = []
    for k in range(steps):
        first = (k * per_call) % n_batches
        calls.append((first * batch, min(per_call, n_batches - first)))
    p_c = assert_train_trajectory(params, {"kind": "sgd", "lr": lr, "weight_decay": wd}, sizes,
                                  acts, np.full(len(acts), 0.15), cfg, x, y, calls, batch,
                                  n_threads, paths=paths, no_paths=no_paths)
    return p_c, params


@pytest.mark.parametrize("wd", [0.0, 0.1])
@pytest.mark.parametrize("batch", [1, 2])
@pytest.mark.parametrize("hidden", HIDDEN)
def test_each_hidden_activation(target, dtype, n_threads, batch, hidden, wd):
    """Plain SGD at batch 1 and at the limit, 2 rows, for every act' of the delta
    (on 2 threads fm_train's team splits the pass's rows of W), with and without
    weight decay.  One step per call: the update is written at once (a deferred
    one, lowrank.h, is for calls of several steps: see below)."""
    p_c, p0 = _trajectory(_sizes(dtype), hidden, dtype, batch, n_threads, wd=wd, **RANK1)
    assert not np.array_equal(p_c, p0)  # the weights did move


@pytest.mark.parametrize("batch", [1, 2])
@pytest.mark.parametrize("hidden", ["relu", "tanh", "identity"])
def test_deferred_updates_over_many_steps(target, dtype, n_threads, batch, hidden):
    """Deferred updates (lowrank.h) across calls of 37 steps: terms pile up to
    FM_LOWRANK_MAX (16), are flushed mid-call and at the call's end, and every
    forward and delta in between uses W plus the pending terms.  Layer 0 (6 x h)
    is small and written at once; layers 1 (h x h) defers.  At batch 2 the last
    batch of the data has 1 row (an odd count of terms)."""
    n = 37 * 2 * batch - (batch - 1)
    p_c, p0 = _trajectory(_sizes(dtype), hidden, dtype, batch, n_threads, steps=3, n=n,
                          per_call=37, lr=0.05, init=0.05,
                          paths={0: ["fused"], 1: ["defer"]}, no_paths={1: ["rank1"]})
    assert not np.array_equal(p_c, p0)


@pytest.mark.parametrize("batch", [1, 2])
def test_deferred_updates_first_layer_and_dropout(dtype, n_threads, batch):
    """A first layer past 1 MiB defers too (no delta below it), next to a deferred
    hidden layer whose input is dropped out: U keeps the dropped input."""
    h = 330 if np.dtype(dtype) == np.float32 else 240
    sizes = [800, h, h, 4]
    assert 800 * h * np.dtype(dtype).itemsize >= THRESH["rank1_min_bytes"]
    # a third of the inputs are zero: W_0's rows under them are skipped (SPARSE),
    # so its products are not made ahead
    _trajectory(sizes, "relu", dtype, batch, n_threads, steps=2, n=23 * batch, per_call=23,
                lr=0.05, init=0.05, dropout=[0.3, 0.0], seed=7,
                paths={0: ["defer", "sparse"], 1: ["defer"]}, no_paths={0: ["ahead"]})


@pytest.mark.parametrize("batch", [3, 4])
def test_batch_sizes(target, dtype, batch):
    """3 rows, just past the limit, and 4: the GEMMs, on the same nets."""
    _trajectory(_sizes(dtype), "leaky_relu", dtype, batch, 1, seed=batch,
                paths={1: ["fused"]}, no_paths={1: ["rank1", "defer"]})


@pytest.mark.parametrize("batch", [1, 2, 3])
@pytest.mark.parametrize("hidden", ["relu", "leaky_relu"])
def test_weight_decay_and_dropout(dtype, batch, hidden):
    """Decoupled weight decay (every row rewritten), dropout on both hidden outputs."""
    sizes = _sizes(dtype)
    taken = RANK1 if batch <= THRESH["rank1_max_rows"] else {"paths": {1: ["fused"]}}
    _trajectory(sizes, hidden, dtype, batch, 1, wd=0.3, dropout=[0.3, 0.5], seed=1, **taken)
    _trajectory(sizes, hidden, dtype, batch, 1, wd=0.3, seed=2, **taken)
    _trajectory(sizes, hidden, dtype, batch, 1, dropout=[0.5, 0.2], seed=3, **taken)


def test_rows_without_input_keep_their_weights(dtype):
    """Dropout zeroes whole hidden units at batch 1: their rows of W_1 must stay
    bit for bit, and the others must move (the pass skips only the zero rows)."""
    sizes = [5] + _sizes(dtype)[1:]
    for seed in range(3):
        p_c, p0 = _trajectory(sizes, "tanh", dtype, 1, 1, dropout=[0.5, 0.0], steps=1,
                              n=1, seed=seed, paths={1: ["rank1"]})
        # units of hidden output 1 dropped at step 1 (stream 1): x[0, i] = 0
        keep = ref.dropout_scale((1, sizes[1]), 0.5, 5, 1, 1)[0] == 0
        w1 = slice(sizes[0] * sizes[1], sizes[0] * sizes[1] + sizes[1] * sizes[2])
        W1c, W10 = p_c[w1].reshape(sizes[1], sizes[2]), p0[w1].reshape(sizes[1], sizes[2])
        assert keep.any() and (~keep).any()
        assert np.array_equal(W1c[keep], W10[keep])
        assert (W1c[~keep] != W10[~keep]).any(axis=1).all()


def test_threaded_split(dtype, n_threads):
    """A layer big enough (rows x IN x OUT >= 2^23, gemm_config.h's FM_GEMM_MT_WORK) for
    the pass to split W's rows over threads outside a team too: still the reference's."""
    _trajectory([8, 2050, 2050, 3], "relu", dtype, 2, n_threads, steps=2, seed=4,
                lr=0.01, paths={1: ["rank1"]})


@pytest.mark.parametrize("m", [1, 2, 3, 4])
@pytest.mark.parametrize("k,n", [(517, 133), (1031, 1401), (9001, 9)])
@pytest.mark.parametrize("alpha,beta", [(1.0, 0.0), (-0.5, 1.0), (2.0, 0.25)])
def test_streamed_rows_of_w(target, dtype, m, k, n, alpha, beta):
    """x.W at 1-3 rows with W past gemm_config.h's FM_STREAM_B_BYTES (256 KiB): W's rows
    are streamed in order (rows_stream); k and n off the 4-row and vector steps,
    n = 1401 past one 16 KiB column panel of C from 2 rows on (both dtypes).  4 rows:
    the register tiles again."""
    rng = np.random.default_rng(k * n + m)
    for form in ("n", "t"):  # a row-major, or a strided view of a matrix, transposed
        a = rng.standard_normal((m, k)).astype(dtype)
        if form == "t":
            a = rng.standard_normal((k, m + 2)).astype(dtype)[:, 1:m + 1].T
        b = rng.standard_normal((k, n)).astype(dtype)
        c0 = rng.standard_normal((m, n)).astype(dtype)
        c = c0.copy()
        if beta == 0:
            c[...] = np.nan  # never read when beta == 0
        core.gemm(c, a, b, alpha, beta)
        want = alpha * (a.astype(np.float64) @ b.astype(np.float64)) + beta * c0
        assert_close(c, want, dtype, what=f"{m} rows, {form} a={alpha} b={beta}")


@pytest.mark.parametrize("act", ["relu", "tanh"])
def test_forward_few_rows_big_layer(target, dtype, act):
    """fm_linear_forward at 1 and 3 rows of a 784 x 512 layer: the bias + activation
    epilogue after the streamed product."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 784)).astype(dtype)
    w = (rng.standard_normal((784, 512)) * 0.05).astype(dtype)
    b = rng.standard_normal(512).astype(dtype)
    for rows in (1, 3):
        out = np.full((rows, 512), np.nan, dtype)
        core.linear_forward(out, x[:rows], w, b, ACTIVATIONS[act], 0.0, 1)
        assert_close(out, ref.linear_forward(x[:rows], w, b, act), dtype, what="forward")


@pytest.mark.parametrize("batch", [1, 2])
def test_deferred_updates_do_not_depend_on_chunking(dtype, n_threads, batch, monkeypatch):
    """MLP.fit sizes its C calls by wall-clock time, and deferred terms are also
    written at every call's end, where the rounding changes.  fit ends its calls on
    steps that are multiples of TRAIN_ALIGN (where fm_train writes them anyway), so
    the weights must be bit for bit the same however the epoch is cut."""
    from fastmlp import MLP, _driver

    rng = np.random.default_rng(11)
    X = rng.standard_normal((203, 50))
    y = rng.integers(0, 4, 203)
    # layers 0 (50 x 300, >= 32 KiB) and 1 (300 x 300, >= 128 KiB) defer, in float32 too
    results = []
    for chunk in (1, 5, 23, 10**6):
        monkeypatch.setattr(_driver.Chunking, "next",
                            lambda self, *a, c=chunk: setattr(self, "size", c))
        net = MLP([50, 300, 300, 4], seed=3, dtype=dtype, n_threads=n_threads)
        net.fit(X, y, epochs=2, batch_size=batch, learning_rate=0.01, shuffle=True, verbose=0,
                optimizer="sgd")
        results.append(net._params.copy())
    for other in results[1:]:
        assert np.array_equal(results[0], other)
