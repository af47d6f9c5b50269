"""The thread team of a multi-threaded training chunk (csrc/core/team.h, csrc/core/team.c).

From ``FM_TEAM_MIN_WORK`` (2^18) multiply-adds in its largest product, a
training chunk on several threads runs as one team: the master thread runs
the steps and hands each large enough GEMM, optimizer update, dropout and
input-noise pass to its workers.  These nets are sized so that every kind of
task crosses that threshold.  Whether the team or the master alone runs a
task must never change a result: the split is decided from the thread count
alone, and every element is computed by the same instructions whichever
thread computes it, so the team's weights are compared with the
one-thread run bit for bit, and both with the reference.
"""
from __future__ import annotations

import numpy as np
import pytest

from fastmlp import MLP
from fastmlp import _core as core
from fastmlp import reference as ref
from fastmlp._backend import ACTIVATIONS, LOSSES, OPTIMIZERS, train_steps
from fastmlp.testing import assert_close

# sizes, acts, optimizer, batch, cfg extras: every task kind past 2^18 units
CASES = {
    # plain SGD: the update fused into the dW products (packed, row and column splits)
    "sgd-fused": ([300, 256, 64, 6], ["relu", "tanh", "softmax"],
                  {"kind": "sgd", "lr": 0.05}, 64, {}),
    # Adam: the optimizer update as a task of its own (300*256 params x 8 > 2^18)
    "adam-l2": ([300, 256, 64, 6], ["leaky_relu", "sigmoid", "softmax"],
                {"kind": "adam", "lr": 0.001}, 48, {"l2": 0.01}),
    # odd widths and batch: uneven panel splits, edge tiles, the gradient
    # written (momentum: no fused update) rather than updated in place
    "odd-shapes": ([301, 263, 37, 5], ["tanh", "relu", "softmax"],
                   {"kind": "sgd", "lr": 0.05, "momentum": 0.5, "weight_decay": 0.01}, 67, {}),
    # dropout on a 1024-wide hidden layer (64*1024 x 4 = 2^18) and input noise
    # (64*300 x 16 > 2^18)
    "dropout-noise": ([300, 1024, 6], ["relu", "softmax"],
                      {"kind": "sgd", "lr": 0.05, "momentum": 0.9}, 64,
                      {"dropout": [0.3], "input_noise": 0.1, "seed": 7}),
}


def _problem(sizes, acts, n: int, dtype, seed: int):
    """Random inputs, one-hot targets, small weights and the C net arrays."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, sizes[0])).astype(dtype)
    y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], n)].astype(dtype)
    params = (rng.standard_normal(ref.n_params(sizes)) * 0.05).astype(dtype)
    slopes = np.full(len(acts), 0.1)
    sizes_a = np.array(sizes, np.int64)
    acts_a = np.array([ACTIVATIONS[a] for a in acts], np.int32)
    return x, y, params, slopes, sizes_a, acts_a


def _run(case: str, dtype, n_threads: int, steps: int = 3):
    sizes, acts, opt, batch, extra = CASES[case]
    x, y, params, slopes, sizes_a, acts_a = _problem(sizes, acts, batch * steps, dtype, 3)
    cfg = {"loss": "cce", "metric": 1, **extra}
    ccfg = {**cfg, "loss": LOSSES["cce"]}
    drop = np.array(ccfg.pop("dropout"), np.float64) if "dropout" in ccfg else None
    p_c = params.copy()
    s1, s2, grad = np.zeros_like(p_c), np.zeros_like(p_c), np.empty_like(p_c)
    work = np.empty(core.workspace_size(sizes_a, acts_a, slopes, batch), dtype)
    stats = np.zeros(4)
    copt = {**opt, "kind": OPTIMIZERS[opt["kind"]], "step": 0}
    done, _ = train_steps(params=p_c, grad=grad, work=work, stats=stats,
                          net=(sizes_a, acts_a, slopes), opt=copt, cfg=ccfg, x=x, y=y,
                          n_batches=steps, batch=batch, s1=s1, s2=s2, dropout=drop,
                          n_threads=n_threads)
    assert done == steps
    team = core.team_last_stats()
    return p_c, stats, team, (params, sizes, acts, slopes, cfg, x, y, opt, batch, steps)


@pytest.mark.parametrize("case", sorted(CASES))
def test_team_matches_one_thread_and_reference(dtype, case):
    """Three steps on 2 threads: the team ran tasks, and the weights equal the
    one-thread run exactly and the reference within the trajectory tolerance."""
    p2, st2, team, args = _run(case, dtype, 2)
    # the team existed and was asked for tasks (it ran them, or, when the
    # machine was busy and its worker late, the master ran them alone)
    assert team["tasks"] + team["solo"] > 0, team
    p1, st1, _, _ = _run(case, dtype, 1)
    np.testing.assert_array_equal(p2, p1)
    np.testing.assert_array_equal(st2, st1)
    params, sizes, acts, slopes, cfg, x, y, opt, batch, steps = args
    p_r, _, _, rstats, _ = ref.train(params.astype(np.float64), {**opt, "step": 0}, sizes, acts,
                                     slopes, cfg, x, y, None, None, 0, steps, batch)
    assert_close(p2, p_r, dtype, kind="trajectory", what="params after 3 steps")
    assert_close(st2, rstats, dtype, kind="trajectory", what="stats")


def test_one_thread_or_small_nets_make_no_team():
    """No team on one thread, nor for a net whose products are all too small."""
    _run("sgd-fused", np.float32, 2)
    assert core.team_last_stats()["tasks"] + core.team_last_stats()["solo"] > 0
    _run("sgd-fused", np.float32, 1)  # a one-thread call leaves the last team's counters
    net = MLP([8, 16, 3], dtype=np.float32, n_threads=2, seed=0)
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((256, 8)).astype(np.float32), rng.integers(0, 3, 256)
    before = core.team_last_stats()
    net.fit(X, y, epochs=1, batch_size=32, verbose=0, optimizer="sgd")
    assert core.team_last_stats() == before


def test_team_is_reentrant_across_fits():
    """Fits one after another on 2 threads (a new team per chunk) stay exact."""
    a = _run("adam-l2", np.float64, 2)[0]
    for _ in range(3):
        np.testing.assert_array_equal(_run("adam-l2", np.float64, 2)[0], a)


@pytest.mark.parametrize("n_rows", [100, 37])
def test_forward_net_and_loss_grad_in_a_team(dtype, n_rows):
    """Batched inference and the full-data gradient (L-BFGS) run as a team too:
    equal to one thread bit for bit, and to the reference."""
    sizes, acts = [300, 512, 64, 6], ["relu", "tanh", "softmax"]
    x, y, params, slopes, sizes_a, acts_a = _problem(sizes, acts, n_rows, dtype, 1)
    batch = 64
    work = np.empty(core.workspace_size(sizes_a, acts_a, slopes, batch), dtype)
    outs, grads, losses = [], [], []
    for nt in (2, 1):
        out = np.empty((n_rows, sizes[-1]), dtype)
        core.forward_net(out, work, params, sizes_a, acts_a, slopes, x, batch, nt)
        if nt == 2:
            team = core.team_last_stats()
            assert team["tasks"] + team["solo"] > 0, team
        grad = np.empty_like(params)
        losses.append(core.loss_grad(grad, work, params, sizes_a, acts_a, slopes,
                                     {"loss": LOSSES["cce"], "l2": 0.01}, x, y, None, batch, nt))
        outs.append(out)
        grads.append(grad)
    np.testing.assert_array_equal(outs[0], outs[1])
    np.testing.assert_array_equal(grads[0], grads[1])
    assert losses[0] == losses[1]
    assert_close(outs[0], ref.forward_net(params, sizes, acts, slopes, x), dtype,
                 what="forward_net")
    rL, rg = ref.loss_grad(params, sizes, acts, slopes, {"loss": "cce", "l2": 0.01}, x, y)
    assert_close(losses[0], rL, dtype, what="objective")
    assert_close(grads[0], rg, dtype, what="gradient")


@pytest.mark.parametrize("value, want, warns", [(None, 200, False), ("0", 0, False),
                                                ("50", 50, False), ("-3", 200, True),
                                                ("lots", 200, True)])
def test_spin_setting_is_read_once_at_import(value, want, warns):
    """FASTMLP_SPIN_US sets how long a waiting team thread spins; a bad value is
    named on stderr and the default kept (read at import, in a fresh process)."""
    import os
    import subprocess
    import sys

    import fastmlp

    if core.team_spin_us() < 0:
        pytest.skip("this build has no thread team (no OpenMP, or not Linux)")
    root = os.path.dirname(os.path.dirname(os.path.abspath(fastmlp.__file__)))
    env = {k: v for k, v in os.environ.items() if k != "FASTMLP_SPIN_US"}
    if value is not None:
        env["FASTMLP_SPIN_US"] = value
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run([sys.executable, "-c",
                          "from fastmlp import _core; print(_core.team_spin_us())"],
                         env=env, capture_output=True, text=True, timeout=600, check=True,
                         cwd=root)
    assert int(out.stdout) == want
    assert ("FASTMLP_SPIN_US=" in out.stderr) == warns
