"""Batch and layer normalisation (MLP(norm=...)): the C kernels against the reference,
the reference against finite differences, training trajectories of normalised nets in
C against the reference, the model API (attributes, errors, save/load, all-or-nothing)
and PyTorch's BatchNorm1d / LayerNorm followed step by step (skipped without torch).
Tolerances: fastmlp.testing.TOLERANCES."""
from __future__ import annotations

import numpy as np
import pytest

from fastmlp import MLP
from fastmlp import _core as core
from fastmlp import reference as ref
from fastmlp._backend import ACTIVATIONS, LOSSES, NORMS, OPTIMIZERS, train_steps
from fastmlp.testing import FD_RTOL, FD_STEP, assert_close, require_peer, tolerance

# (N, C): 2 rows (the least batch norm takes), 1 feature, odd sizes around the
# 64-column block of the batch-norm tasks, and a size that splits over threads
SHAPES = [(2, 1), (3, 5), (2, 64), (7, 65), (33, 130), (300, 257)]


def rand(rng, shape, dtype, scale=1.0, shift=0.0):
    return (rng.standard_normal(shape) * scale + shift).astype(dtype)


def assert_close_to_terms(actual, desired, terms, dtype, what):
    """assert_close with the scale of the terms summed rather than of the result: a
    norm's dx is a difference of terms of size |gamma * rstd * dy| that can cancel to
    almost nothing (2 rows: xhat is +-1 and dx nearly 0), leaving rounding of the terms."""
    rtol = tolerance(dtype)
    err = np.abs(np.asarray(actual, np.float64) - desired)
    bound = rtol * (np.abs(desired) + np.abs(terms).max())
    assert (err <= bound).all(), f"{what}: max abs diff {err.max():.3g}, bound {bound.min():.3g}"


# ---------------------------------------------------------------------- kernels
# the activation fused after the norm: none, a smooth one and a kinked one
KERNEL_ACTS = ["identity", "tanh", "leaky_relu"]


@pytest.mark.parametrize("act", KERNEL_ACTS)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_batchnorm_kernels_match_the_reference(dtype, n_threads, shape, act):
    rng = np.random.default_rng(hash((shape, act)) % 2**32)
    N, C = shape
    A = ACTIVATIONS[act]
    x = rand(rng, (N, C), dtype, 2.0, 3.0)  # off-centre: the shifted sums matter
    gamma, beta = rand(rng, C, dtype, 0.5, 1.0), rand(rng, C, dtype)
    run_m, run_v = rand(rng, C, dtype), np.abs(rand(rng, C, dtype)) + 0.5
    rm0, rv0 = run_m.astype(np.float64), run_v.astype(np.float64)
    y, mean, rstd = np.full((N, C), np.nan, dtype), np.empty(C, dtype), np.empty(C, dtype)
    core.batchnorm_forward(y, mean, rstd, run_m, run_v, x, gamma, beta, 1e-5, 0.1, A, 0.1,
                           n_threads)
    ru, cache = ref.batchnorm_forward(x, gamma, beta)
    assert_close(y, ref.act_forward(ru, act, 0.1), dtype, what="batch norm y")
    assert_close(mean, cache["mean"], dtype, what="mean")
    assert_close(rstd, 1 / np.sqrt(cache["var"] + 1e-5), dtype, what="rstd")
    # torch: the running variance moves towards the unbiased batch variance
    assert_close(run_m, 0.9 * rm0 + 0.1 * cache["mean"], dtype, what="running mean")
    assert_close(run_v, 0.9 * rv0 + 0.1 * x.astype(np.float64).var(axis=0, ddof=1), dtype,
                 what="running var")

    dy = rand(rng, (N, C), dtype)
    dx, dg, db = np.full((N, C), np.nan, dtype), np.full(C, np.nan, dtype), np.empty(C, dtype)
    core.batchnorm_backward(dx, dg, db, dy, y, x, mean, rstd, gamma, A, 0.1, False, n_threads)
    du = ref.act_backward(dy, y, act, 0.1)  # act' from the kernel's own output
    rdx, rdg, rdb = ref.batchnorm_backward(du, cache)
    terms = gamma * rstd * du
    assert_close_to_terms(dx, rdx, terms, dtype, "batch norm dx")
    assert_close(dg, rdg, dtype, what="dgamma")
    assert_close(db, rdb, dtype, what="dbeta")
    d_in_place = dy.copy()  # dx may be dy; dgamma, dbeta accumulate with acc
    core.batchnorm_backward(d_in_place, dg, db, d_in_place, y, x, mean, rstd, gamma, A, 0.1,
                            True, n_threads)
    assert_close_to_terms(d_in_place, rdx, terms, dtype, "dx in place")
    assert_close(dg, 2 * rdg, dtype, what="dgamma accumulated")
    assert_close(db, 2 * rdb, dtype, what="dbeta accumulated")

    yi = np.empty((N, C), dtype)
    core.batchnorm_infer(yi, x, gamma, beta, run_m, run_v, 1e-5, A, 0.1, n_threads)
    assert_close(yi, ref.act_forward(ref.batchnorm_infer(x, gamma, beta, run_m, run_v), act,
                                     0.1), dtype, what="inference")


@pytest.mark.parametrize("act", KERNEL_ACTS)
@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (3, 200)] + SHAPES,
                         ids=lambda s: "x".join(map(str, s)))
def test_layernorm_kernels_match_the_reference(dtype, n_threads, shape, act):
    rng = np.random.default_rng(hash((shape, act)) % 2**32 + 1)
    N, C = shape
    A = ACTIVATIONS[act]
    x = rand(rng, (N, C), dtype, 2.0, -3.0)
    gamma, beta = rand(rng, C, dtype, 0.5, 1.0), rand(rng, C, dtype)
    y, mean, rstd = np.full((N, C), np.nan, dtype), np.empty(N, dtype), np.empty(N, dtype)
    core.layernorm_forward(y, mean, rstd, x, gamma, beta, 1e-5, A, 0.1, n_threads)
    ru, cache = ref.layernorm_forward(x, gamma, beta)
    assert_close(y, ref.act_forward(ru, act, 0.1), dtype, what="layer norm y")
    assert_close(rstd, 1 / np.sqrt(cache["var"][:, 0] + 1e-5), dtype, what="rstd")
    dy = rand(rng, (N, C), dtype)
    dx, dg, db = np.full((N, C), np.nan, dtype), np.full(C, np.nan, dtype), np.empty(C, dtype)
    core.layernorm_backward(dx, dg, db, dy, y, x, mean, rstd, gamma, A, 0.1, False, n_threads)
    du = ref.act_backward(dy, y, act, 0.1)
    rdx, rdg, rdb = ref.layernorm_backward(du, cache)
    terms = gamma * rstd[:, None] * du
    assert_close_to_terms(dx, rdx, terms, dtype, "layer norm dx")
    assert_close(dg, rdg, dtype, what="dgamma")
    assert_close(db, rdb, dtype, what="dbeta")
    d_in_place = dy.copy()
    core.layernorm_backward(d_in_place, dg, db, d_in_place, y, x, mean, rstd, gamma, A, 0.1,
                            True, n_threads)
    assert_close_to_terms(d_in_place, rdx, terms, dtype, "dx in place")
    assert_close(dg, 2 * rdg, dtype, what="dgamma accumulated")


def test_batchnorm_kernel_refuses_one_row():
    x = np.ones((1, 3))
    with pytest.raises(ValueError, match="2 or more rows"):
        core.batchnorm_forward(np.empty((1, 3)), np.empty(3), np.empty(3), None, None, x,
                               np.ones(3), np.zeros(3))


# ---------------------------------------------------------------------- the reference
@pytest.mark.parametrize("kind", ["batch", "layer"])
def test_reference_norm_backward_matches_finite_differences(kind):
    rng = np.random.default_rng(5)
    x, g, b = rng.standard_normal((6, 4)) * 2 + 1, rng.standard_normal(4), rng.standard_normal(4)
    w = rng.standard_normal((6, 4))  # L = sum(w * y): dL/dy = w
    fwd, bwd = ((ref.batchnorm_forward, ref.batchnorm_backward) if kind == "batch"
                else (ref.layernorm_forward, ref.layernorm_backward))
    dx, dg, db = bwd(w, fwd(x, g, b)[1])
    for arr, grad in ((x, dx), (g, dg), (b, db)):
        num = np.zeros_like(arr)
        for i in np.ndindex(arr.shape):
            keep = arr[i]
            arr[i] = keep + FD_STEP
            up = np.sum(w * fwd(x, g, b)[0])
            arr[i] = keep - FD_STEP
            down = np.sum(w * fwd(x, g, b)[0])
            arr[i] = keep
            num[i] = (up - down) / (2 * FD_STEP)
        assert np.abs(num).max() > 1e-3  # not trivially zero
        np.testing.assert_allclose(grad, num, rtol=FD_RTOL, atol=FD_RTOL * np.abs(num).max())


# ---------------------------------------------------------------------- whole nets in C
def _net(sizes, acts, norms):
    return (np.array(sizes, np.int64), np.array([ACTIVATIONS[a] for a in acts], np.int32),
            np.full(len(acts), 0.1), np.array([NORMS[k] for k in norms], np.int32))


def _data(sizes, dtype, n, seed):
    rng = np.random.default_rng(seed)
    x = rand(rng, (n, sizes[0]), dtype, 1.5, 0.5)
    y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], n)].astype(dtype)
    nref = ref.n_params(sizes) + 2 * sum(sizes[1:-1])
    params = (rng.standard_normal(nref) * 0.5).astype(dtype)
    return rng, x, y, params


def test_c_gradient_of_a_normalised_net_matches_finite_differences():
    """One plain SGD step at lr 1 from params p leaves p - dL/dp: C's gradient through
    dense, batch norm, layer norm and activations, against central differences of the
    reference's loss (float64)."""
    sizes, acts, norms = [4, 6, 5, 3], ["tanh", "sigmoid", "softmax"], ["batch", "layer"]
    _, x, y, params = _data(sizes, np.float64, 9, seed=3)
    s, a, sl, nm = _net(sizes, acts, norms)
    state = ref.norm_state_init(sizes, norms)
    after, grad = params.copy(), np.empty_like(params)
    work = np.empty(core.workspace_size(s, a, sl, 9, nm))
    train_steps(params=after, grad=grad, work=work, stats=np.zeros(4),
                opt={"kind": OPTIMIZERS["sgd"], "lr": 1.0}, net=(s, a, sl),
                cfg={"loss": LOSSES["cce"]}, x=x, y=y, n_batches=1, batch=9, norms=nm,
                norm_state=state.copy(), fast=False)
    cfg = {"loss": "cce"}

    def loss(p):
        return ref._data_loss_grad(p, sizes, acts, [0.1] * 3, cfg, x, y, None, 9.0, 1,
                                   norms, state.copy())[0]

    num = np.empty_like(params)
    for i in range(len(params)):
        e = np.zeros_like(params)
        e[i] = FD_STEP
        num[i] = (loss(params + e) - loss(params - e)) / (2 * FD_STEP)
    assert np.abs(num[-2 * 11:]).max() > 1e-3  # the norms' own gradients are not all zero
    np.testing.assert_allclose(params - after, num, rtol=FD_RTOL, atol=FD_RTOL * np.abs(num).max())


TRAJ = [
    # sizes, acts, norms, optimizer, batch, cfg extras
    ([5, 8, 3], ["relu", "softmax"], ["batch"], {"kind": "sgd", "lr": 0.1}, 6, {}),
    ([5, 8, 3], ["relu", "softmax"], ["layer"], {"kind": "adam", "lr": 0.01}, 6, {}),
    ([6, 9, 7, 3], ["tanh", "leaky_relu", "softmax"], ["batch", "layer"],
     {"kind": "sgd", "lr": 0.05, "momentum": 0.9, "nesterov": True}, 7, {"l2": 0.01}),
    ([6, 9, 7, 3], ["sigmoid", "relu", "softmax"], ["layer", None],
     {"kind": "adamw", "lr": 0.01, "weight_decay": 0.1, "decay_bias": False}, 5,
     {"dropout": [0.2, 0.0], "seed": 7}),
    ([6, 70, 66, 3], ["relu", "relu", "softmax"], ["batch", "batch"],
     {"kind": "sgd", "lr": 0.05, "momentum": 0.9}, 9, {"dropout": [0.1, 0.3], "seed": 3}),
    # float64 only: the bias of a dense layer under a batch norm has a zero gradient in
    # exact arithmetic (the norm subtracts the batch mean), so what C and the reference
    # compute there is rounding noise; Adam scales it to steps of up to lr, which in
    # float32 (noise ~1e-7, above Adam's eps) differ by O(lr)
    ([6, 70, 66, 3], ["relu", "tanh", "softmax"], ["batch", "batch"],
     {"kind": "adam", "lr": 0.003}, 9, {"dropout": [0.1, 0.3], "seed": 3}),
]
F64_ONLY = {5}


@pytest.mark.parametrize("case", range(len(TRAJ)))
def test_ten_step_trajectory_of_a_normalised_net(dtype, n_threads, case):
    """10 steps in C (two calls, the shuffled rows' last batch a short one) follow the
    reference: loss statistics, parameters and the running statistics."""
    if case in F64_ONLY and dtype != np.float64:
        pytest.skip("Adam on a zero gradient's rounding noise (see TRAJ)")
    sizes, acts, norms, opt, batch, extra = TRAJ[case]
    rng, x, y, params = _data(sizes, dtype, 23, seed=case)
    params = params[:ref.n_params(sizes) + 2 * sum(o for o, k in zip(sizes[1:-1], norms) if k)]
    for gb in ref.unpack_norm(params, sizes, norms):  # scales near 1
        if gb is not None:
            gb[0][...] += 1
    s, a, sl, nm = _net(sizes, acts, norms)
    order = rng.permutation(23).astype(np.int64)
    cfg = {"loss": "cce", "metric": 1, **extra}
    ccfg = {**cfg, "loss": LOSSES["cce"]}
    dropout = ccfg.pop("dropout", None)
    p, st = params.copy(), ref.norm_state_init(sizes, norms).astype(dtype)
    s1, s2, grad = np.zeros_like(p), np.zeros_like(p), np.empty_like(p)
    work = np.empty(core.workspace_size(s, a, sl, batch, nm), dtype)
    rp, rstate, step = params, {"norm_state": None}, 0
    for first, count in ((0, 4), (4, 6)):  # 23 rows, batches of 5-9: epochs wrap around
        n_b = -(-23 // batch)
        for k in range(first, first + count):
            start = (k % n_b) * batch
            stats = np.zeros(4)
            copt = {**opt, "kind": OPTIMIZERS[opt["kind"]], "step": step}
            done, new_step = train_steps(
                params=p, grad=grad, work=work, stats=stats, net=(s, a, sl), opt=copt, cfg=ccfg,
                x=x, y=y, order=order, start=start, n_batches=1, batch=batch, s1=s1, s2=s2,
                dropout=None if dropout is None else np.array(dropout, np.float64),
                n_threads=n_threads, norms=nm, norm_state=st)
            rp, rstate, rstats = ref.train_chunk(rp, {**opt, "step": step}, sizes, acts,
                                                 [0.1] * len(acts), cfg, x, y, None, order,
                                                 start, 1, batch, {**rstate, "step": step},
                                                 norms=norms)
            assert (done, new_step) == (1, step + 1)
            step = new_step
            what = f"case {case}, step {step}"
            assert_close(stats, rstats, dtype, kind="trajectory", what=f"stats, {what}")
            assert_close(p, rp, dtype, kind="trajectory", what=f"params, {what}")
            assert_close(st, rstate["norm_state"], dtype, kind="trajectory",
                         what=f"running statistics, {what}")
    out = np.empty((23, sizes[-1]), dtype)  # inference: the running statistics
    core.forward_net(out, work, p, s, a, sl, x, batch, n_threads, nm, st)
    assert_close(out, ref.forward_net(p, sizes, acts, [0.1] * len(acts), x, norms, st), dtype,
                 kind="trajectory", what="forward_net")


def test_train_call_refuses_a_one_row_batch_under_batch_norm():
    sizes, acts, norms = [3, 4, 2], ["relu", "softmax"], ["batch"]
    _, x, y, params = _data(sizes, np.float64, 5, seed=1)
    s, a, sl, nm = _net(sizes, acts, norms)
    state = ref.norm_state_init(sizes, norms)
    for batch in (1, 2):  # 5 rows by 2: the third batch holds one
        with pytest.raises(ValueError, match="2 or more rows"):
            train_steps(params=params.copy(), grad=np.empty_like(params),
                        work=np.empty(core.workspace_size(s, a, sl, batch, nm)), stats=np.zeros(4),
                        opt={"kind": OPTIMIZERS["sgd"], "lr": 0.1}, net=(s, a, sl),
                        cfg={"loss": LOSSES["cce"]}, x=x, y=y, n_batches=3, batch=batch,
                        norms=nm, norm_state=state)


# ---------------------------------------------------------------------- the model
def _blobs(n=120, d=6, k=3, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    X = rng.standard_normal((n, d)) + 2.0 * np.eye(k, d)[y] + 4.0  # off-centre: norm helps
    return X.astype(dtype), y


def test_model_attributes_counts_and_summary():
    net = MLP([6, 16, 8, 3], norm=["batch", "layer"], loss="cce")
    assert net.norms == ["batch", "layer"]
    assert net.n_params == (7 * 16 + 17 * 8 + 9 * 3) + 2 * 16 + 2 * 8
    assert [g.shape for g in net.norm_weights_] == [(16,), (8,)]
    assert all((g == 1).all() for g in net.norm_weights_)
    assert all((b == 0).all() for b in net.norm_biases_)
    assert [m.shape for m in net.running_mean_] == [(16,)]
    assert (net.running_var_[0] == 1).all() and (net.running_mean_[0] == 0).all()
    text = net.summary(print_fn=None)
    assert " batch_norm_0 (BatchNorm)" in text and " layer_norm_1 (LayerNorm)" in text
    assert f"Trainable params: {net.n_params:,}" in text
    assert "Non-trainable params: 32" in text  # running mean and variance of 16 units
    assert max(map(len, text.splitlines())) <= 80
    net.norm_weights_ = [np.full(16, 2.0), np.full(8, 3.0)]  # writable, checked
    assert (net.norm_weights_[1] == 3).all()
    net.running_var_ = [np.full(16, 0.5)]
    assert (net.running_var_[0] == 0.5).all()
    with pytest.raises(ValueError, match="running_var_"):
        net.running_var_ = [np.full(16, -1.0)]
    with pytest.raises(ValueError, match=r"norm_biases_\[0\] must have shape"):
        net.norm_biases_ = [np.zeros(3), np.zeros(8)]
    assert MLP([4, 5, 2]).norm_weights_ == [] and MLP([4, 5, 2]).running_mean_ == []


@pytest.mark.parametrize("bad", ["batchy", 3, ["batch"], ("batch", "layer", None)])
def test_bad_norm_argument_names_it(bad):
    with pytest.raises(ValueError, match="norm"):
        MLP([4, 5, 5, 2], norm=bad)


@pytest.mark.parametrize("kwargs", [{"batch_size": 1}, {"batch_size": 7}],
                         ids=["batch 1", "last batch of 1"])
def test_batch_norm_fit_with_a_one_row_batch_raises_and_changes_nothing(kwargs):
    X, y = _blobs(50)  # 50 rows by 7: the last batch holds one
    net = MLP([6, 8, 3], norm="batch", loss="cce", seed=0, dtype=np.float64)
    net.fit(X, y, epochs=1, batch_size=10, verbose=0)
    before = (net._params.copy(), net._norm_state.copy(), dict(net.history_))
    with pytest.raises(ValueError, match="batch_size=.*1 row|batch_size=1"):
        net.fit(X, y, epochs=1, verbose=0, **kwargs)
    np.testing.assert_array_equal(net._params, before[0])
    np.testing.assert_array_equal(net._norm_state, before[1])
    assert net.history_ == before[2]
    MLP([6, 8, 3], norm="layer", loss="cce").fit(X, y, epochs=1, verbose=0, **kwargs)  # fine


def test_fit_trains_running_stats_predict_uses_them_and_a_failed_fit_restores_them():
    X, y = _blobs(200)
    net = MLP([6, 16, 3], norm="batch", loss="cce", seed=1, dtype=np.float64)
    net.fit(X, y, epochs=20, batch_size=20, learning_rate=0.01, verbose=0,
            validation_split=0.1)
    assert "val_accuracy" in net.history_
    rm = net.running_mean_[0].copy()
    assert not np.allclose(rm, 0)  # trained
    p1 = net.predict_proba(X[:1])  # one row at inference: the running statistics
    sizes, acts = net.layers, net.activations + ["softmax"]
    want = ref.forward_net(net._params, sizes, acts, [net.leaky_slope] * 2, X[:1], ["batch"],
                           net._norm_state)
    assert_close(p1, want, np.float64, what="predict_proba on one row")
    assert net.score(X, y) > 0.8
    before = (net._params.copy(), net._norm_state.copy())
    Xbad = X.copy()
    Xbad[150, 2] = np.nan  # found in the first epoch, after earlier batches trained
    with pytest.raises(ValueError):
        net.fit(Xbad, y, epochs=2, batch_size=20, verbose=0, shuffle=False)
    np.testing.assert_array_equal(net._params, before[0])
    np.testing.assert_array_equal(net._norm_state, before[1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_save_load_round_trip(tmp_path, dtype):
    X, y = _blobs(90, dtype=dtype)
    net = MLP([6, 10, 9, 3], norm=["layer", "batch"], loss="cce", seed=2, dtype=dtype)
    net.fit(X, y, epochs=2, batch_size=16, verbose=0)
    path = net.save(tmp_path / "m.npz")
    back = MLP.load(path)
    assert back.norms == ["layer", "batch"]
    np.testing.assert_array_equal(back._params, net._params)
    for a, b in zip(back.running_var_ + back.norm_weights_, net.running_var_ + net.norm_weights_):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(back.predict_proba(X), net.predict_proba(X))
    net.fit(X, y, epochs=1, batch_size=16, verbose=0)  # and both continue alike
    back.fit(X, y, epochs=1, batch_size=16, verbose=0)
    np.testing.assert_array_equal(back._params, net._params)
    np.testing.assert_array_equal(back._norm_state, net._norm_state)
    plain = MLP([6, 4, 3], loss="cce").save(tmp_path / "p.npz")  # no norm: no new entries
    assert "norm_state" not in np.load(plain)


def test_load_refuses_a_bad_norm_state(tmp_path):
    from fastmlp.io import ModelFileError

    net = MLP([4, 5, 2], norm="batch", loss="cce")
    path = str(net.save(tmp_path / "m.npz"))
    data = dict(np.load(path))
    data["norm_state"] = -np.abs(data["norm_state"]) - 1  # negative running variances
    np.savez(tmp_path / "bad.npz", **data)
    with pytest.raises(ModelFileError, match="norm_state"):
        MLP.load(tmp_path / "bad.npz")


# ---------------------------------------------------------------------- PyTorch
@pytest.mark.parametrize("act", ["relu", "gelu"])  # fused into the norm; an ACT layer after it
@pytest.mark.parametrize("kind", ["batch", "layer"])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_follows_pytorch_step_by_step(kind, optimizer, act):
    """Linear -> BatchNorm1d (or LayerNorm) -> ReLU (or GELU) -> Linear, float64, from the
    same weights on the same batches: every step's weights, the norm's scale and shift, the
    running statistics, and the eval-mode predictions agree with torch's."""
    torch = require_peer("torch", "the PyTorch parity of normalisation layers")
    torch.manual_seed(0)
    d, h, k, bs, steps = 5, 8, 3, 10, 10
    norm = torch.nn.BatchNorm1d(h) if kind == "batch" else torch.nn.LayerNorm(h)
    model = torch.nn.Sequential(torch.nn.Linear(d, h), norm,
                                torch.nn.ReLU() if act == "relu" else torch.nn.GELU(),
                                torch.nn.Linear(h, k)).double()
    with torch.no_grad():  # scale and shift away from 1 and 0
        norm.weight.uniform_(0.5, 1.5)
        norm.bias.uniform_(-0.5, 0.5)
    lr = 0.1 if optimizer == "sgd" else 0.01
    opt = (torch.optim.SGD if optimizer == "sgd" else torch.optim.Adam)(model.parameters(), lr=lr)
    net = MLP([d, h, k], activation=act, norm=kind, loss="cce", dtype=np.float64)
    lin0, lin1 = model[0], model[3]
    net.coefs_ = [lin0.weight.detach().numpy().T, lin1.weight.detach().numpy().T]
    net.intercepts_ = [lin0.bias.detach().numpy(), lin1.bias.detach().numpy()]
    net.norm_weights_ = [norm.weight.detach().numpy()]
    net.norm_biases_ = [norm.bias.detach().numpy()]
    X, y = _blobs(bs * steps, d=d, k=k, seed=4)
    loss_fn = torch.nn.CrossEntropyLoss()
    for t in range(steps):
        xb, yb = X[t * bs:(t + 1) * bs], y[t * bs:(t + 1) * bs]
        yb[:k] = np.arange(k)  # every class in every batch: the labels map alike
        model.train()
        opt.zero_grad()
        loss_fn(model(torch.from_numpy(xb)), torch.from_numpy(yb)).backward()
        opt.step()
        net.fit(xb, yb, epochs=1, batch_size=bs, optimizer=optimizer, learning_rate=lr,
                shuffle=False, verbose=0)
        what = f"{kind}/{act}/{optimizer} step {t + 1}"
        assert_close(net.coefs_[0], lin0.weight.detach().numpy().T, np.float64, "trajectory",
                     f"W0, {what}")
        assert_close(net.coefs_[1], lin1.weight.detach().numpy().T, np.float64, "trajectory",
                     f"W1, {what}")
        assert_close(net.intercepts_[0], lin0.bias.detach().numpy(), np.float64, "trajectory",
                     f"b0, {what}")
        assert_close(net.norm_weights_[0], norm.weight.detach().numpy(), np.float64,
                     "trajectory", f"gamma, {what}")
        assert_close(net.norm_biases_[0], norm.bias.detach().numpy(), np.float64,
                     "trajectory", f"beta, {what}")
        if kind == "batch":
            assert_close(net.running_mean_[0], norm.running_mean.numpy(), np.float64,
                         "trajectory", f"running mean, {what}")
            assert_close(net.running_var_[0], norm.running_var.numpy(), np.float64,
                         "trajectory", f"running var, {what}")
    model.eval()
    with torch.no_grad():
        want = torch.softmax(model(torch.from_numpy(X)), dim=1).numpy()
    assert_close(net.predict_proba(X), want, np.float64, "trajectory", "eval-mode predictions")


# ---------------------------------------------------------------------- the drop-ins
@pytest.mark.parametrize("kind", ["batch", "layer"])
def test_dropin_takes_norm_and_trains_like_the_reference(kind):
    """A warm-started epoch of plain full-batch SGD from known parameters equals the
    reference's step; running statistics carry over; predict uses them."""
    pytest.importorskip("sklearn")
    from fastmlp.sklearn import MLPClassifier

    X, y = _blobs(60, d=5, k=3, seed=7)
    clf = MLPClassifier((7, 6), norm=kind, solver="sgd", learning_rate_init=0.1, momentum=0.0,
                        alpha=0.0, batch_size=60, max_iter=1, shuffle=False, random_state=0)
    with pytest.warns(Warning):  # max_iter=1: ConvergenceWarning
        clf.fit(X, y)
    assert [g.shape for g in clf.norm_weights_] == [(7,), (6,)]
    assert len(clf.running_mean_) == (2 if kind == "batch" else 0)
    flat = np.concatenate([c.ravel() for c in clf.coefs_] + list(clf.intercepts_)
                          + [a for pair in zip(clf.norm_weights_, clf.norm_biases_) for a in pair])
    state = (np.concatenate([np.r_[m, v] for m, v in zip(clf.running_mean_, clf.running_var_)])
             if kind == "batch" else None)
    sizes, acts = [5, 7, 6, 3], ["relu", "relu", "softmax"]
    want, rstate, _ = ref.train_chunk(flat, {"kind": "sgd", "lr": 0.1}, sizes, acts, [0.01] * 3,
                                      {"loss": "cce"}, X, np.eye(3)[y], batch=60,
                                      state={"norm_state": state}, norms=[kind, kind])
    clf.set_params(warm_start=True)
    with pytest.warns(Warning):
        clf.fit(X, y)
    got = np.concatenate([c.ravel() for c in clf.coefs_] + list(clf.intercepts_)
                         + [a for pair in zip(clf.norm_weights_, clf.norm_biases_) for a in pair])
    assert_close(got, want, np.float64, "trajectory", "drop-in params after one step")
    if kind == "batch":
        assert_close(np.concatenate([np.r_[m, v] for m, v in zip(clf.running_mean_,
                                                                  clf.running_var_)]),
                     rstate["norm_state"], np.float64, "trajectory", "running statistics")
    p = clf.predict_proba(X[:1])  # one row: the running statistics at inference
    r = ref.forward_net(got, sizes, acts, [0.01] * 3, X[:1], [kind, kind],
                        rstate["norm_state"] if kind == "batch" else None)
    assert_close(p, r, np.float64, "trajectory", "drop-in predict_proba")


def test_dropin_norm_errors():
    pytest.importorskip("sklearn")
    from fastmlp.sklearn import MLPClassifier, MLPRegressor

    X, y = _blobs(41, d=4)
    with pytest.raises(ValueError, match="stochastic solver"):
        MLPClassifier((5,), norm="batch", solver="lbfgs").fit(X, y)
    with pytest.raises(ValueError, match="batch_size=10"):  # 41 rows by 10: the last holds 1
        MLPClassifier((5,), norm="batch", batch_size=10).fit(X, y)
    with pytest.raises(ValueError, match="norm"):
        MLPRegressor(hidden_layer_sizes=(5,), norm="group").fit(X, y.astype(float))
    reg = MLPRegressor(hidden_layer_sizes=(5,), norm="layer", batch_size=10, max_iter=3)
    with pytest.warns(Warning):
        reg.fit(X, y.astype(float))
    with pytest.raises(ValueError, match="warm_start"):
        reg.set_params(warm_start=True, norm="batch").fit(X, y.astype(float))


def test_snapshots_and_lr_find_keep_the_running_statistics():
    """Early stopping's snapshots carry the running statistics with the weights, and the
    range test (lr_find) puts them back as they were."""
    X, y = _blobs(120)
    net = MLP([6, 12, 3], norm="batch", loss="cce", seed=3, dtype=np.float64)
    net.fit(X, y, epochs=2, batch_size=20, verbose=0)
    snap = net._training_snapshot()
    state = net._norm_state.copy()
    net.fit(X, y, epochs=1, batch_size=20, verbose=0)
    assert not np.array_equal(net._norm_state, state)
    net._restore_snapshot(snap)
    np.testing.assert_array_equal(net._norm_state, state)
    np.testing.assert_array_equal(net.running_mean_[0], state[:12])
    net.lr_find(X, y, num_it=10, batch_size=20)
    np.testing.assert_array_equal(net._norm_state, state)


def test_cli_train_takes_norm(capsys, tmp_path):
    from fastmlp.cli import commands as cli

    out_file = tmp_path / "m.npz"
    code = cli.main(["train", "--hidden", "32-32", "--norm", "batch", "--epochs", "10", "-q",
                     "--output", str(out_file)])
    out = capsys.readouterr().out
    assert code == 0 and "network 64-32-32-10" in out, out
    assert float(out.split("test accuracy ")[1].split("%")[0]) > 85.0
    assert MLP.load(out_file).norms == ["batch", "batch"]
    code = cli.main(["train", "--norm", "group", "-q"])
    assert code != 0 and "--norm" in capsys.readouterr().err
