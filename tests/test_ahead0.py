"""Layer 0's products made ahead (csrc/train/train_impl.h, fm_ahead0_make).

When plain SGD defers layer 0's updates (lowrank.h: batches of 1-2 rows,
W_0 of at least 32 KiB, calls of more than one step), fm_train makes
x.W_0 for the rows of the steps up to the next flush (the next step whose
number is a multiple of TRAIN_ALIGN) in one GEMM, and each step adds the
pending terms' part to its rows.  Any write to W_0 -- a flush, or an update
that is not deferred -- drops those products.  Every trajectory here is held
to fastmlp.reference after each call, with calls that start and end off the
16-step blocks, shuffled and in-order rows, and a last batch of one row.
"""
from __future__ import annotations

import numpy as np
import pytest

from fastmlp import _core as core
from fastmlp import reference as ref
from fastmlp._backend import ACTIVATIONS, LOSSES, OPTIMIZERS, train_steps
from fastmlp.testing import assert_close, assert_train_trajectory

THRESH = core.fast_thresholds()
LOWRANK_MIN_FIRST = THRESH["lowrank_min_first"]
TEAM_MIN_WORK = THRESH["team_min_work"]

NETS = {
    "small": [300, 40, 7],          # W_0 48 KB in float32: made ahead; W_1 written at once
    "single": [300, 30],            # layer 0 is the output layer
    "both": [200, 190, 190, 5],     # W_1 (144 KB float32) defers too
    "team": [784, 400, 10],         # 1 x 784 x 400 >= TEAM_MIN_WORK: a 2-thread team
}


def _data(sizes, n, dtype, seed, sparse=False):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, sizes[0]))
    x[rng.random(x.shape) < (0.7 if sparse else 0.05)] = 0
    if sparse == "mixed":  # rows 0-9 and 20-29 dense: some blocks made, some declined
        x[(np.arange(n) // 10) % 2 == 0] = rng.standard_normal((n, sizes[0]))[
            (np.arange(n) // 10) % 2 == 0]
    y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], n)]
    params = rng.standard_normal(ref.n_params(sizes)) * 0.05
    return x.astype(dtype), y.astype(dtype), params.astype(dtype)


def _acts(sizes, hidden):
    return [hidden] * (len(sizes) - 2) + ["softmax"]


@pytest.mark.parametrize("net", sorted(NETS))
@pytest.mark.parametrize("batch", [1, 2])
@pytest.mark.parametrize("shuffled", [False, True], ids=["inorder", "shuffled"])
@pytest.mark.parametrize("sparse", [False, True, "mixed"], ids=["dense", "sparse", "mixed"])
def test_trajectory(target, dtype, n_threads, net, batch, shuffled, sparse):
    """Calls of 7, 20 and 13 steps from step 0: blocks of 7 (cut by the call's end),
    9, 11 (the call's end), 5 and 8 steps; at batch 2 the data's last batch has 1 row.
    Inputs 70% zeros: a W_0 of 128 KiB or more ("both", "team") declines the blocks
    and each step skips W_0's rows under zeros instead (sparse_fwd.h); "mixed" has
    dense and sparse stretches of rows, so blocks are made and declined in turn.  tanh: through
    ReLU, 40 float32 steps of the "team" net cross a kink that float64 does not, with
    or without the blocks (seen on this data)."""
    sizes = NETS[net]
    assert sizes[0] * sizes[1] * np.dtype(dtype).itemsize >= LOWRANK_MIN_FIRST
    if net == "team":
        assert sizes[0] * sizes[1] >= TEAM_MIN_WORK
    n = 40 * batch - (batch - 1)
    x, y, params = _data(sizes, n, dtype, seed=batch + 3 * shuffled, sparse=sparse)
    order = np.random.default_rng(1).permutation(n).astype(np.int64) if shuffled else None
    calls = [(0, 7), (7 * batch, 20), (27 * batch, 13)]
    # blocks are declined where the zero-skipping forward takes the inputs instead
    skips = sizes[0] * sizes[1] * np.dtype(dtype).itemsize >= THRESH["sparse_fwd_min_bytes"]
    # ("mixed" at batch 2: every 16-step block mixes dense and sparse rows, all declined)
    paths = ["defer"] + (["sparse"] if sparse and skips else [])
    paths += ["ahead"] if not skips or not sparse or (sparse == "mixed" and batch == 1) else []
    p = assert_train_trajectory(params, {"kind": "sgd", "lr": 0.1}, sizes,
                                _acts(sizes, "tanh"), np.zeros(len(sizes) - 1),
                                {"loss": "cce", "metric": 1}, x, y, calls, batch, n_threads,
                                order=order, paths={0: paths},
                                no_paths={0: ["ahead"]} if sparse is True and skips else None)
    assert not np.array_equal(p, params)


def _c_and_ref(sizes, dtype, batch, n_threads, x, y, params, opt, cfg, n_batches, paths=(),
               **steps):
    """One core.train call of n_batches with the plan on and off, and the reference's;
    return (done, C params of the fast run, ref).  The fast run must equal the plain
    one at the trajectory tolerance and have taken `paths` on layer 0."""
    sizes_a = np.array(sizes, np.int64)
    acts = _acts(sizes, "tanh")
    acts_a = np.array([ACTIVATIONS[a] for a in acts], np.int32)
    slopes = np.zeros(len(acts))
    work = np.empty(core.workspace_size(sizes_a, acts_a, slopes, batch), dtype)
    out = {}
    for fast in (True, False):
        p_c, ran = params.copy(), np.zeros((len(acts), len(core.FAST_PATHS)), np.int64)
        done, _ = train_steps(params=p_c, grad=np.empty_like(p_c), work=work,
                              stats=np.zeros(4), net=(sizes_a, acts_a, slopes),
                              opt={**opt, "kind": OPTIMIZERS[opt["kind"]], "step": 0},
                              cfg={**cfg, "loss": LOSSES[cfg["loss"]]}, x=x, y=y,
                              n_batches=n_batches, batch=batch, s1=np.zeros_like(p_c),
                              n_threads=n_threads, fast=fast, path_steps=ran, **steps)
        out[fast] = done, p_c, ran
    assert out[True][0] == out[False][0]
    assert not out[False][2].any()
    for name in paths:
        assert out[True][2][0, core.FAST_PATHS.index(name)] > 0, (name, out[True][2])
    assert_close(out[True][1], out[False][1], dtype, kind="trajectory", what="fast vs plain")
    done = out[True][0]
    r_batches = n_batches if done >= 0 else -done - 1
    p_r, _, _ = ref.train_chunk(params, opt, sizes, acts, slopes, cfg, x, y, None, None, 0,
                                r_batches, batch, None,
                                **{k: v[:r_batches] for k, v in steps.items()})
    return done, out[True][1], p_r


@pytest.mark.parametrize("batch", [1, 2])
def test_momentum_switching_on_mid_block(dtype, n_threads, batch):
    """A momentum schedule that is 0 for 5 steps, then 0.5, then 0 again: layer 0's
    products were made for 16 steps, but W_0 is written at once from step 6 on (momentum
    is not deferred), and deferring resumes mid-block at step 11."""
    sizes = NETS["small"]
    x, y, params = _data(sizes, 25 * batch, dtype, seed=5)
    mom = np.array([0.0] * 5 + [0.5] * 5 + [0.0] * 15)
    done, p_c, p_r = _c_and_ref(sizes, dtype, batch, n_threads, x, y, params,
                                {"kind": "sgd", "lr": 0.1, "momentum": 0.0},
                                {"loss": "cce", "metric": 1}, 25, paths=("defer", "ahead"),
                                mom_steps=mom)
    assert done == 25
    assert_close(p_c, p_r, dtype, kind="trajectory", what="params")


@pytest.mark.parametrize("batch", [1, 2])
def test_nonfinite_row_inside_a_block(dtype, batch):
    """check_finite stops at batch 9, whose rows were already in the block's product:
    the 9 steps before it are the reference's, nothing after them ran."""
    sizes = NETS["small"]
    x, y, params = _data(sizes, 20 * batch, dtype, seed=6)
    x[9 * batch, 3] = np.nan
    done, p_c, p_r = _c_and_ref(sizes, dtype, batch, 1, x, y, params,
                                {"kind": "sgd", "lr": 0.1}, {"loss": "cce", "metric": 1,
                                                            "check_finite": True}, 20,
                                paths=("defer", "ahead"))
    assert done == -(9 + 1)
    assert np.isfinite(p_c).all()
    assert_close(p_c, p_r, dtype, kind="trajectory", what="params")
