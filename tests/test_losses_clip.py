"""Regression losses (Huber, quantile), user metrics and gradient clipping (issue 18).

* the loss kernels in C against fastmlp.reference, the reference against finite
  differences, trajectories in C (fast and plain step) against the reference, and
  MLP.fit against PyTorch's trajectory from the same weights (torch.nn.HuberLoss, a
  pinball loss written in torch);
* ``fit(metrics=...)``: values in the history for training and validation, errors
  that leave the model as it was;
* ``fit(clip_grad_norm=..., clip_grad_value=...)``: the kernel against the
  reference, trajectories (the plan keeps clipped steps off the paths that cannot
  clip), torch.nn.utils.clip_grad_norm_ / clip_grad_value_ with SGD and Adam, a clip
  that never triggers changing nothing, bad values named.
"""
from __future__ import annotations

import copy
import sys

import numpy as np
import pytest

from fastmlp import MLP
from fastmlp import _core as core
from fastmlp import reference as ref
from fastmlp._backend import ACTIVATIONS, LOSSES, OPTIMIZERS, train_steps
from fastmlp.callbacks import LambdaCallback
from fastmlp.optim import SGD, Adam
from fastmlp.testing import (FD_RTOL, FD_STEP, assert_close, assert_train_trajectory,
                             require_peer)


# ---- 1. the loss kernels ------------------------------------------------------------------

LOSS_PARAMS = [("huber", {"delta": 1.0}), ("huber", {"delta": 0.3}), ("huber", {"delta": 4.0}),
               ("quantile", {"q": 0.5}), ("quantile", {"q": 0.1}), ("quantile", {"q": "each"})]


def _levels(q, K):
    if q == "each":
        return np.linspace(0.05, 0.95, K)
    return np.full(K, q)


@pytest.mark.parametrize("loss,par", LOSS_PARAMS)
@pytest.mark.parametrize("out_act", ["identity", "tanh"])
@pytest.mark.parametrize("N,K", [(1, 1), (7, 3), (16, 5)])
@pytest.mark.parametrize("weighted", [False, True])
def test_loss_kernel_matches_reference(dtype, loss, par, out_act, N, K, weighted):
    rng = np.random.default_rng(N * 10 + K)
    z = (rng.standard_normal((N, K)) * 2).astype(dtype)
    y = (rng.standard_normal((N, K)) * 2).astype(dtype)
    if out_act == "identity" and N > 1:
        y[0, 0] = z[0, 0]  # r == 0: the quantile's tie
    sw = rng.uniform(0.5, 2.0, N).astype(dtype) if weighted else None
    delta = par.get("delta", 1.0)
    q = _levels(par["q"], K) if loss == "quantile" else None
    p, dz = np.empty_like(z), np.empty_like(z)
    L = core.loss(p, dz, z, y, sw, LOSSES[loss], ACTIVATIONS[out_act], 0.0, 1.0 / N, delta, q)
    rL, rp, rdz = ref.loss(z, y, sw, loss, out_act, 0.0, 1.0 / N, delta, q)
    assert_close(L, rL, dtype, what="loss")
    assert_close(p, rp, dtype, what="p")
    assert_close(dz, rdz, dtype, what="dz")


def test_huber_and_pinball_element_values():
    """Hand-worked: r = p - y of -3, -0.5, 0, 0.5, 3 at delta 1 and level 0.25."""
    z = np.array([[-3.0, -0.5, 0.0, 0.5, 3.0]])
    y = np.zeros_like(z)
    p, dz = np.empty_like(z), np.empty_like(z)
    L = core.loss(p, dz, z, y, None, LOSSES["huber"], ACTIVATIONS["identity"], 0.0, 1.0, 1.0)
    # 2.5 + 0.125 + 0 + 0.125 + 2.5
    assert L == pytest.approx(5.25, rel=1e-15)
    assert dz.tolist() == [[-1.0, -0.5, 0.0, 0.5, 1.0]]
    q = np.full(5, 0.25)
    L = core.loss(p, dz, z, y, None, LOSSES["quantile"], ACTIVATIONS["identity"], 0.0, 1.0, 1.0, q)
    # over-prediction costs 1 - q = 0.75 per unit, under-prediction q = 0.25 per unit
    assert L == pytest.approx(0.25 * 3.5 + 0.75 * 3.5, rel=1e-15)
    assert dz.tolist() == [[-0.25, -0.25, 0.25, 0.75, 0.75]]


def test_quantile_kernel_needs_its_levels():
    z = np.zeros((2, 3))
    with pytest.raises(ValueError, match="quantiles"):
        core.loss(np.empty_like(z), None, z, z, None, LOSSES["quantile"], 0, 0.0, 1.0, 1.0, None)
    with pytest.raises(ValueError, match="quantiles"):
        core.loss(np.empty_like(z), None, z, z, None, LOSSES["quantile"], 0, 0.0, 1.0, 1.0,
                  np.full(2, 0.5))


# ---- 2. the reference against finite differences ------------------------------------------

def _fd_grad(f, x, h=FD_STEP):
    g = np.zeros_like(x)
    for i in range(x.size):
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        g[i] = (f(xp) - f(xm)) / (2 * h)
    return g


@pytest.mark.parametrize("loss,extra", [("huber", {"huber_delta": 0.6}),
                                        ("huber", {"huber_delta": 2.5}),
                                        ("quantile", {"quantiles": np.array([0.1, 0.5, 0.9])})])
def test_reference_network_gradient(loss, extra):
    rng = np.random.default_rng(5)
    sizes, acts, slopes = [4, 6, 3], ["tanh", "identity"], [0.0, 0.0]
    x = rng.standard_normal((9, 4))
    y = rng.standard_normal((9, 3)) * 2
    params = rng.standard_normal(ref.n_params(sizes)) * 0.7
    cfg = {"loss": loss, "loss_per_output": True, "l2": 0.1, **extra}
    sw = rng.uniform(0.5, 2, 9)
    _, g = ref.loss_grad(params, sizes, acts, slopes, cfg, x, y, sw)
    numeric = _fd_grad(lambda p: ref.loss_grad(p, sizes, acts, slopes, cfg, x, y, sw)[0], params)
    scale = np.abs(numeric).max()
    assert scale > 1e-3
    if loss == "huber":  # C1: FD is well defined everywhere
        r = ref.forward_net(params, sizes, acts, slopes, x) - y
        d = extra["huber_delta"]
        assert (np.abs(r) < d).any() and (np.abs(r) > d).any()  # both regimes are exercised
        np.testing.assert_allclose(g, numeric, rtol=FD_RTOL, atol=FD_RTOL * scale)
    else:  # the pinball's kink at r = 0 is met by no row here
        np.testing.assert_allclose(g, numeric, rtol=1e-5, atol=1e-5 * scale)


# ---- 3. trajectories in C (fast and plain step) against the reference -----------------------

REG_CASES = [
    ("huber", {"huber_delta": 0.5}, {"kind": "sgd", "lr": 0.05}, 4),
    ("huber", {"huber_delta": 1.5}, {"kind": "adam", "lr": 0.01}, 5),
    ("quantile", {"quantiles": np.array([0.2, 0.7])}, {"kind": "sgd", "lr": 0.05, "momentum": 0.9}, 3),
    ("quantile", {"quantiles": np.array([0.5, 0.9])}, {"kind": "adam", "lr": 0.01}, 8),
]


@pytest.mark.parametrize("case", range(len(REG_CASES)))
def test_loss_trajectory(dtype, n_threads, case):
    loss, extra, opt, batch = REG_CASES[case]
    rng = np.random.default_rng(case)
    sizes, acts = [3, 9, 2], ["relu", "identity"]
    x = rng.standard_normal((5 * batch, 3)).astype(dtype)
    y = (rng.standard_normal((5 * batch, 2)) * 2).astype(dtype)
    params = (rng.standard_normal(ref.n_params(sizes)) * 0.5).astype(dtype)
    cfg = {"loss": loss, "loss_per_output": True, **extra}
    assert_train_trajectory(params, opt, sizes, acts, np.zeros(2), cfg, x, y,
                            [(0, 2), (2 * batch, 3)], batch, n_threads)


# ---- 4. MLP with these losses ----------------------------------------------------------

def _torch_twin(torch, net, act):
    """A float64 torch Sequential(Linear, act, Linear) holding the MLP's weights."""
    (i, h), (_, o) = net._shapes()
    tnet = torch.nn.Sequential(torch.nn.Linear(i, h), act(), torch.nn.Linear(h, o)).double()
    with torch.no_grad():
        for lin, w, b in zip((tnet[0], tnet[2]), net.coefs_, net.intercepts_):
            lin.weight.copy_(torch.tensor(w.T))
            lin.bias.copy_(torch.tensor(b))
    return tnet


def _assert_same_weights(tnet, net):
    for lin, w, b in zip((tnet[0], tnet[2]), net.coefs_, net.intercepts_):
        assert_close(w, lin.weight.detach().numpy().T, np.float64, kind="trajectory", what="W")
        assert_close(b, lin.bias.detach().numpy(), np.float64, kind="trajectory", what="b")


def _torch_run(torch, tnet, topt, lossf, X, Y, epochs, bs, clip=None):
    """Train tnet as MLP.fit(shuffle=False) does; return the batch losses and the norms."""
    losses, norms = [], []
    tX, tY = torch.tensor(X), torch.tensor(Y)
    for _ in range(epochs):
        for lo in range(0, len(X), bs):
            topt.zero_grad()
            out = lossf(tnet(tX[lo:lo + bs]), tY[lo:lo + bs])
            out.backward()
            losses.append(float(out.detach()))
            if clip is not None:
                norms.append(float(clip(tnet.parameters())))
            topt.step()
    return np.array(losses), np.array(norms)


@pytest.mark.parametrize("opt", ["sgd", "adam"])
def test_huber_follows_torch(opt):
    torch = require_peer("torch", "trajectory parity with PyTorch")
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((24, 3)), rng.standard_normal((24, 2)) * 3
    net = MLP([3, 8, 2], activation="tanh", loss="huber", huber_delta=0.7, dtype=np.float64,
              seed=0)
    tnet = _torch_twin(torch, net, torch.nn.Tanh)
    if opt == "sgd":
        topt, fopt = torch.optim.SGD(tnet.parameters(), lr=0.1, momentum=0.9), SGD(0.1, 0.9)
    else:
        topt, fopt = torch.optim.Adam(tnet.parameters(), lr=0.05), Adam(0.05)
    losses, _ = _torch_run(torch, tnet, topt, torch.nn.HuberLoss(delta=0.7), X, Y, 3, 6)
    net.fit(X, Y, epochs=3, batch_size=6, shuffle=False, optimizer=fopt, verbose=0)
    _assert_same_weights(tnet, net)
    # the history's loss is the epoch's mean batch loss (equal batches): torch's reduction
    assert_close(net.history_["loss"], losses.reshape(3, 4).mean(axis=1), np.float64,
                 kind="trajectory", what="loss")


def test_quantile_follows_torch():
    torch = require_peer("torch", "trajectory parity with PyTorch")
    rng = np.random.default_rng(1)
    X, Y = rng.standard_normal((20, 3)), rng.standard_normal((20, 2))
    levels = [0.2, 0.85]
    net = MLP([3, 7, 2], activation="relu", loss="quantile", quantile=levels, dtype=np.float64,
              seed=3)
    tnet = _torch_twin(torch, net, torch.nn.ReLU)
    q = torch.tensor(levels, dtype=torch.float64)

    def pinball(p, y):
        u = y - p
        return torch.maximum(q * u, (q - 1) * u).mean()

    topt = torch.optim.SGD(tnet.parameters(), lr=0.2, momentum=0.5)
    losses, _ = _torch_run(torch, tnet, topt, pinball, X, Y, 4, 5)
    net.fit(X, Y, epochs=4, batch_size=5, shuffle=False, optimizer=SGD(0.2, 0.5), verbose=0)
    _assert_same_weights(tnet, net)
    assert_close(net.history_["loss"], losses.reshape(4, 4).mean(axis=1), np.float64,
                 kind="trajectory", what="loss")


@pytest.mark.parametrize("level", [0.1, 0.5, 0.9])
def test_quantile_loss_finds_the_quantile(level):
    """A bias alone (no inputs that vary) minimises the pinball loss at the level's
    empirical quantile of the targets."""
    rng = np.random.default_rng(2)
    y = rng.exponential(size=400)
    X = np.zeros((400, 1))
    net = MLP([1, 1], loss="quantile", quantile=level, dtype=np.float64, seed=0)
    net.fit(X, y, epochs=300, batch_size=None, optimizer=SGD(lr=0.5), verbose=0)
    pred = float(net.predict(X[:1])[0])
    assert np.mean(y <= pred) == pytest.approx(level, abs=0.01)


def test_history_and_evaluate_report_the_loss():
    rng = np.random.default_rng(4)
    X, Y = rng.standard_normal((40, 3)), rng.standard_normal((40, 2)) * 2
    Xv, Yv = rng.standard_normal((10, 3)), rng.standard_normal((10, 2))
    for kw, cfg in [({"loss": "huber", "huber_delta": 0.4}, {"huber_delta": 0.4}),
                    ({"loss": "quantile", "quantile": [0.3, 0.6]},
                     {"quantiles": np.array([0.3, 0.6])})]:
        net = MLP([3, 5, 2], dtype=np.float64, seed=1, **kw)
        net.fit(X, Y, epochs=2, validation_data=(Xv, Yv), verbose=0)
        sizes, acts, slopes = net._net_arrays()
        names = [*net.activations, "identity"]
        want, _ = ref.loss_grad(net._params, net.layers, names, slopes,
                                {"loss": kw["loss"], "loss_per_output": True, **cfg}, Xv, Yv)
        assert net.history_["val_loss"][-1] == pytest.approx(want, rel=1e-12)
        assert net.evaluate(Xv, Yv)["loss"] == pytest.approx(want, rel=1e-12)
        assert {"loss", "mse", "mae", "r2", "val_loss", "val_mae"} <= set(net.history_)


def test_loss_parameters_are_validated_naming_them():
    with pytest.raises(ValueError, match="huber_delta"):
        MLP([2, 3, 1], loss="huber", huber_delta=0)
    with pytest.raises(ValueError, match="huber_delta"):
        MLP([2, 3, 1], loss="huber", huber_delta=float("nan"))
    for bad in (0.0, 1.0, -0.2, float("nan"), "0.5", [0.5, 1.5], [], True):
        with pytest.raises(ValueError, match="quantile"):
            MLP([2, 3, 2], loss="quantile", quantile=bad)
    with pytest.raises(ValueError, match="quantile.*2 outputs"):
        MLP([2, 3, 2], loss="quantile", quantile=[0.1, 0.5, 0.9])
    net = MLP(hidden=[3], loss="quantile", quantile=[0.1, 0.5, 0.9])  # outputs from the data
    with pytest.raises(ValueError, match="quantile.*2 outputs"):
        net.fit(np.zeros((4, 2)), np.zeros((4, 2)), epochs=1, verbose=0)
    assert not net.built  # the failed first fit left it unbuilt
    net.fit(np.zeros((4, 2)), np.zeros((4, 3)), epochs=1, verbose=0)
    assert net.layers[-1] == 3
    assert MLP([2, 3, 1], loss="pinball").loss == "quantile"
    assert MLP([2, 3, 1], loss="huber_loss").loss == "huber"


@pytest.mark.parametrize("kw", [{"loss": "huber", "huber_delta": 0.25},
                                {"loss": "quantile", "quantile": [0.3, 0.8]},
                                {"loss": "quantile", "quantile": 0.7}])
def test_save_load_keeps_the_loss_parameters(tmp_path, kw):
    rng = np.random.default_rng(6)
    X, Y = rng.standard_normal((30, 3)), rng.standard_normal((30, 2))
    net = MLP([3, 4, 2], dtype=np.float64, seed=0, **kw).fit(X, Y, epochs=2, verbose=0)
    back = MLP.load(net.save(tmp_path / "m.npz"))
    assert (back.loss, back.huber_delta, back.quantile) == (net.loss, net.huber_delta,
                                                            net.quantile)
    np.testing.assert_array_equal(back.predict(X), net.predict(X))
    net.fit(X, Y, epochs=2, verbose=0, shuffle=False)
    back.fit(X, Y, epochs=2, verbose=0, shuffle=False)
    np.testing.assert_array_equal(back._params, net._params)
    for k, v in net.history_.items():
        if k != "time":
            assert back.history_[k] == v, k


def test_files_without_loss_parameters_load_with_the_defaults(tmp_path):
    """A model of another loss writes no loss parameters (older readers keep reading it)."""
    net = MLP([2, 3, 1], loss="mse", huber_delta=3.0, seed=0)
    path = net.save(tmp_path / "m.npz")
    with np.load(path, allow_pickle=False) as z:
        assert "huber_delta" not in str(z["config"]) and "quantile" not in str(z["config"])
    back = MLP.load(path)
    assert back.huber_delta == 1.0 and back.quantile == 0.5


# ---- 5. user metrics ------------------------------------------------------------------

def median_abs_error(y_true, y_pred):
    return float(np.median(np.abs(np.asarray(y_true) - np.asarray(y_pred))))


def test_metrics_are_recorded_for_training_and_validation():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((50, 3)), rng.standard_normal(50)
    Xv, yv = rng.standard_normal((12, 3)), rng.standard_normal(12)
    seen = []

    def check(epoch, logs):  # the epoch's final weights: what on_epoch_end sees
        seen.append((logs["median_abs_error"], median_abs_error(y, net.predict(X)),
                     logs["val_median_abs_error"], median_abs_error(yv, net.predict(Xv)),
                     logs["val_top"], float(np.max(np.abs(yv - net.predict(Xv))))))

    net = MLP([3, 6, 1], dtype=np.float64, seed=0)
    net.fit(X, y, epochs=3, validation_data=(Xv, yv), verbose=0,
            metrics={"median_abs_error": median_abs_error,
                     "top": lambda t, p: np.max(np.abs(t - p))},
            callbacks=[LambdaCallback(on_epoch_end=check)])
    assert len(seen) == 3
    for got_tr, want_tr, got_v, want_v, got_top, want_top in seen:
        assert got_tr == want_tr and got_v == want_v and got_top == want_top
    assert len(net.history_["median_abs_error"]) == 3 and len(net.history_["val_top"]) == 3
    net.fit(X, y, epochs=1, verbose=0, metrics=[median_abs_error])  # by its __name__
    assert len(net.history_["median_abs_error"]) == 4


def test_classification_metrics_see_labels():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((40, 2))
    y = np.where(X[:, 0] > 0, "pos", "neg")
    got = []

    def balanced(y_true, y_pred):
        got.append((y_true.copy(), y_pred.copy()))
        return float(np.mean([np.mean(y_pred[y_true == c] == c) for c in ("neg", "pos")]))

    net = MLP(hidden=[4], seed=0).fit(X, y, epochs=2, verbose=0, metrics=[balanced],
                                      validation_split=0.25)
    y_true, y_pred = got[-1]  # the last call: the validation rows
    assert y_true.tolist() == y[-10:].tolist()
    assert y_pred.tolist() == net.predict(X[-10:]).tolist()
    assert len(net.history_["balanced"]) == len(net.history_["val_balanced"]) == 2


@pytest.mark.parametrize("metrics,match", [
    (lambda t, p: 0.0, "no usable __name__"),
    ([median_abs_error, median_abs_error], "taken"),
    ({"loss": median_abs_error}, "taken"),
    ({"val_x": median_abs_error}, "taken"),
    ({"mae": median_abs_error}, "taken"),
    ({"": median_abs_error}, "names"),
    ([3.0], "callables"),
    ("median", "metrics must be"),
])
def test_bad_metrics_are_named(metrics, match):
    net = MLP([2, 3, 1], seed=0)
    before = net._params.copy()
    with pytest.raises(ValueError, match=match) as info:
        net.fit(np.zeros((4, 2)), np.zeros(4), epochs=1, verbose=0, metrics=metrics)
    assert "metrics" in str(info.value)
    np.testing.assert_array_equal(net._params, before)
    assert net.history_ == {}


def _state(net):
    return (net._params.copy(), copy.deepcopy(net.history_), copy.deepcopy(net._opt_state),
            copy.deepcopy(net._rng.bit_generator.state))


def _assert_state(net, st):
    np.testing.assert_array_equal(net._params, st[0])
    assert net.history_ == st[1]
    assert net._rng.bit_generator.state == st[3]
    if st[2] is None:
        assert net._opt_state is None
    else:
        for k in ("s1", "s2"):
            np.testing.assert_array_equal(net._opt_state[k], st[2][k])
        assert net._opt_state["step"] == st[2]["step"]


def test_a_metric_that_raises_leaves_the_model_as_it_was():
    rng = np.random.default_rng(2)
    X, y = rng.standard_normal((30, 3)), rng.standard_normal(30)
    net = MLP([3, 4, 1], seed=0).fit(X, y, epochs=2, verbose=0)
    st = _state(net)
    calls = []

    def flaky(y_true, y_pred):
        calls.append(1)
        if len(calls) == 3:
            raise ZeroDivisionError("no rows")
        return 0.0

    with pytest.raises(ZeroDivisionError, match="no rows") as info:
        net.fit(X, y, epochs=5, verbose=0, metrics=[flaky])
    if sys.version_info >= (3, 11):
        assert any("'flaky'" in n and "epoch 3" in n for n in info.value.__notes__)
    _assert_state(net, st)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), "0.5", None, np.array([1.0, 2.0]),
                                   True])
def test_a_metric_that_returns_no_finite_number_raises_naming_it(value):
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((20, 2)), rng.standard_normal(20)
    net = MLP([2, 3, 1], seed=0)
    st = _state(net)
    with pytest.raises(ValueError, match="metric 'odd' returned"):
        net.fit(X, y, epochs=2, verbose=0, metrics={"odd": lambda t, p: value})
    _assert_state(net, st)
    net.fit(X, y, epochs=1, verbose=0, metrics={"ok": lambda t, p: np.float32(1.5)})
    assert net.history_["ok"] == [1.5]


def test_a_metric_cannot_change_the_targets():
    X, y = np.zeros((6, 2)), np.arange(6.0)

    def mutate(y_true, y_pred):
        y_true[:] = 0
        return 0.0

    net = MLP([2, 3, 1], seed=0)
    with pytest.raises(ValueError, match="read-only"):
        net.fit(X, y, epochs=1, verbose=0, metrics=[mutate])


# ---- 6. gradient clipping: the kernel ---------------------------------------------------

@pytest.mark.parametrize("n", [1, 7, 1000])
@pytest.mark.parametrize("max_norm", [1e-3, 0.5, 1e9])
def test_clip_grad_norm_kernel(dtype, n, max_norm):
    rng = np.random.default_rng(n)
    g = rng.standard_normal(n).astype(dtype)
    want, want_norm = ref.clip_grad(g, max_norm=max_norm)
    got = g.copy()
    norm = core.clip_grad(got, max_norm=max_norm)
    assert norm == pytest.approx(want_norm, rel=1e-12)
    assert_close(got, want, dtype, what="clipped")
    if max_norm == 1e9:
        np.testing.assert_array_equal(got, g)  # not triggered: untouched
    else:
        want_after = min(max_norm, want_norm)  # only a longer gradient is shortened
        assert np.linalg.norm(got.astype(np.float64)) == pytest.approx(want_after, rel=1e-5)


def test_clip_grad_value_kernel(dtype):
    g = np.array([-3.0, -0.5, 0.0, 0.25, 2.0, np.nan, -np.inf], dtype)
    core.clip_grad(g, value=0.5)
    np.testing.assert_array_equal(g[[0, 1, 2, 3, 4, 6]], [-0.5, -0.5, 0.0, 0.25, 0.5, -0.5])
    assert np.isnan(g[5])  # as torch.clamp
    want, _ = ref.clip_grad(np.array([-3.0, 0.1, 2.0]), value=0.5)
    assert want.tolist() == [-0.5, 0.1, 0.5]


# ---- 7. clipping in training: trajectories and the plan --------------------------------------

THRESH = core.fast_thresholds()


@pytest.mark.parametrize("clip", [{"clip_norm": 0.3}, {"clip_value": 0.02}])
@pytest.mark.parametrize("opt", [{"kind": "sgd", "lr": 0.1},
                                 {"kind": "sgd", "lr": 0.05, "momentum": 0.9, "weight_decay": 0.01},
                                 {"kind": "adam", "lr": 0.01}])
def test_clipped_trajectory(dtype, n_threads, clip, opt):
    """Fast step, plain step and reference agree with clipping on, with L2 added after the
    clip; the fast run takes none of the paths that update W without a gradient."""
    rng = np.random.default_rng(7)
    sizes, acts = [5, 9, 6, 3], ["tanh", "relu", "softmax"]
    x = rng.standard_normal((40, 5)).astype(dtype)
    y = np.eye(3)[rng.integers(0, 3, 40)].astype(dtype)
    params = (rng.standard_normal(ref.n_params(sizes)) * 0.5).astype(dtype)
    cfg = {"loss": "cce", "metric": 1, "l2": 0.01, **clip}
    banned = ["defer", "ahead", "rank1", "fused"]
    assert_train_trajectory(params, opt, sizes, acts, np.zeros(3), cfg, x, y,
                            [(0, 3), (24, 2)], 8, n_threads,
                            no_paths={l: banned for l in range(3)})


@pytest.mark.parametrize("clip", [{"clip_norm": 0.05}, {"clip_value": 0.001}])
def test_clipping_keeps_plain_sgd_off_its_paths_at_their_thresholds(dtype, clip):
    """Shapes where plain SGD takes rank1 (batch 1) and defer (calls of several steps):
    with clipping the steps agree with the reference and take neither."""
    w1 = THRESH["rank1_min_bytes"] // np.dtype(dtype).itemsize // 256
    sizes = [4, w1, 256, 3]
    rng = np.random.default_rng(8)
    x = rng.standard_normal((12, 4)).astype(dtype)
    y = np.eye(3)[rng.integers(0, 3, 12)].astype(dtype)
    params = (rng.standard_normal(ref.n_params(sizes)) * 0.05).astype(dtype)
    banned = ["defer", "ahead", "rank1", "fused"]
    assert_train_trajectory(params, {"kind": "sgd", "lr": 0.05}, sizes,
                            ["relu", "relu", "softmax"], np.zeros(3),
                            {"loss": "cce", "metric": 1, **clip}, x, y, [(0, 5), (5, 6)], 1,
                            no_paths={l: banned for l in range(3)})


@pytest.mark.parametrize("clip", [{"clip_norm": 0.05}, {"clip_value": 0.001}])
def test_clipped_fast_step_keeps_its_other_paths(dtype, clip):
    """The zero-skipping forward (SPARSE) still runs under clipping: the fast step, not
    the plain one, with its updates at the step's end under clip_norm."""
    IN = THRESH["sparse_fwd_min_bytes"] // np.dtype(dtype).itemsize // 64
    rng = np.random.default_rng(13)
    x = rng.standard_normal((8, IN))
    x[rng.random(x.shape) < 0.7] = 0
    y = np.eye(3)[rng.integers(0, 3, 8)]
    params = rng.standard_normal(ref.n_params([IN, 64, 3])) * 0.05
    assert_train_trajectory(params.astype(dtype), {"kind": "adam", "lr": 0.002}, [IN, 64, 3],
                            ["relu", "softmax"], np.zeros(2),
                            {"loss": "cce", "metric": 1, **clip}, x.astype(dtype),
                            y.astype(dtype), [(0, 4), (4, 4)], 1, paths={0: ["sparse"]})


def _train(params, cfg, opt, fast, x, y, batch=4, steps=6):
    sizes = np.array([4, 7, 2], np.int64)
    acts = np.array([ACTIVATIONS["tanh"], ACTIVATIONS["identity"]], np.int32)
    slopes = np.zeros(2)
    p = params.copy()
    train_steps(params=p, grad=np.empty_like(p), stats=np.zeros(6 + 2),
                work=np.empty(core.workspace_size(sizes, acts, slopes, batch), p.dtype),
                net=(sizes, acts, slopes), opt={**opt, "kind": OPTIMIZERS[opt["kind"]]},
                cfg={"loss": LOSSES["mse"], "metric": 3, **cfg}, x=x, y=y,
                s1=np.zeros_like(p), s2=np.zeros_like(p), n_batches=steps, batch=batch,
                fast=fast)
    return p


@pytest.mark.parametrize("opt", [{"kind": "sgd", "lr": 0.1, "momentum": 0.9},
                                 {"kind": "adam", "lr": 0.01}])
def test_a_clip_that_never_triggers_changes_nothing(dtype, opt):
    """Bitwise, on the plain step and on the fast step (whose updates move to the end of
    the step under clip_norm: elementwise, the same numbers)."""
    rng = np.random.default_rng(9)
    x = rng.standard_normal((24, 4)).astype(dtype)
    y = rng.standard_normal((24, 2)).astype(dtype)
    params = (rng.standard_normal(ref.n_params([4, 7, 2])) * 0.5).astype(dtype)
    for fast in (False, None):
        unclipped = _train(params, {}, opt, fast, x, y)
        for clip in ({"clip_norm": 1e30}, {"clip_value": 1e30}):
            np.testing.assert_array_equal(_train(params, clip, opt, fast, x, y), unclipped)
        # and a small clip does change the run
        assert not np.array_equal(_train(params, {"clip_norm": 1e-3}, opt, fast, x, y),
                                  unclipped)


def test_fit_with_a_clip_that_never_triggers_equals_fit_without():
    rng = np.random.default_rng(10)
    X, y = rng.standard_normal((40, 3)), rng.integers(0, 3, 40)
    a = MLP([3, 8, 3], seed=0).fit(X, y, epochs=3, verbose=0)
    for clip in ({"clip_grad_value": 1e30}, {"clip_grad_norm": 1e30}):
        b = MLP([3, 8, 3], seed=0).fit(X, y, epochs=3, verbose=0, **clip)
        np.testing.assert_array_equal(a._params, b._params)
    c = MLP([3, 8, 3], seed=0).fit(X, y, epochs=3, verbose=0, clip_grad_norm=1e-2)
    assert not np.array_equal(a._params, c._params)


@pytest.mark.parametrize("kind", ["norm", "value"])
@pytest.mark.parametrize("opt", ["sgd", "adam"])
def test_clipping_follows_torch(kind, opt):
    """clip_grad_norm_ / clip_grad_value_ between backward and step, with torch.optim's
    weight_decay (applied inside step, so after the clip) in float64."""
    torch = require_peer("torch", "trajectory parity with PyTorch")
    rng = np.random.default_rng(11)
    X, y = rng.standard_normal((30, 4)) * 2, rng.integers(0, 3, 30)
    net = MLP([4, 8, 3], activation="tanh", loss="cce", dtype=np.float64, seed=0)
    tnet = _torch_twin(torch, net, torch.nn.Tanh)
    if opt == "sgd":
        topt = torch.optim.SGD(tnet.parameters(), lr=0.3, momentum=0.9, weight_decay=1e-2)
        fopt = SGD(lr=0.3, momentum=0.9, weight_decay=1e-2)
    else:
        topt = torch.optim.Adam(tnet.parameters(), lr=0.02, weight_decay=1e-2)
        fopt = Adam(lr=0.02, weight_decay=1e-2)
    c = 0.25 if kind == "norm" else 0.02
    if kind == "norm":
        clip = lambda ps: torch.nn.utils.clip_grad_norm_(ps, c)  # noqa: E731
    else:
        def clip(ps):
            ps = list(ps)
            big = max(float(p.grad.abs().max()) for p in ps)
            torch.nn.utils.clip_grad_value_(ps, c)
            return big
    tX, ty = torch.tensor(X), torch.tensor(y)
    measured = []
    for _ in range(3):
        for lo in range(0, 30, 6):
            topt.zero_grad()
            torch.nn.functional.cross_entropy(tnet(tX[lo:lo + 6]), ty[lo:lo + 6]).backward()
            measured.append(float(clip(tnet.parameters())))
            topt.step()
    assert max(measured) > c  # the clip did act: the test could fail
    kw = {"clip_grad_norm": c} if kind == "norm" else {"clip_grad_value": c}
    net.fit(X, y, epochs=3, batch_size=6, shuffle=False, optimizer=fopt, verbose=0, **kw)
    _assert_same_weights(tnet, net)


@pytest.mark.parametrize("kw,match", [
    ({"clip_grad_norm": 0}, "clip_grad_norm"), ({"clip_grad_norm": -1.0}, "clip_grad_norm"),
    ({"clip_grad_norm": float("nan")}, "clip_grad_norm"),
    ({"clip_grad_norm": float("inf")}, "clip_grad_norm"),
    ({"clip_grad_norm": "1"}, "clip_grad_norm"), ({"clip_grad_norm": True}, "clip_grad_norm"),
    ({"clip_grad_value": 0.0}, "clip_grad_value"),
    ({"clip_grad_value": float("nan")}, "clip_grad_value"),
    ({"clip_grad_value": -2}, "clip_grad_value"),
    ({"clip_grad_norm": 1.0, "clip_grad_value": 1.0}, "clip_grad_norm or clip_grad_value"),
])
def test_bad_clip_values_are_named(kw, match):
    net = MLP([2, 3, 1], seed=0)
    st = _state(net)
    with pytest.raises(ValueError, match=match):
        net.fit(np.zeros((4, 2)), np.zeros(4), epochs=1, verbose=0, **kw)
    _assert_state(net, st)


def test_lbfgs_takes_the_losses_but_not_clipping_or_metrics():
    pytest.importorskip("scipy", reason="optimizer='lbfgs' uses scipy")
    rng = np.random.default_rng(12)
    X, Y = rng.standard_normal((40, 3)), rng.standard_normal((40, 2)) * 2
    for kw in ({"loss": "huber", "huber_delta": 0.5}, {"loss": "quantile", "quantile": [0.2, 0.8]}):
        net = MLP([3, 5, 2], dtype=np.float64, seed=0, **kw)
        before = net.evaluate(X, Y)["loss"]
        net.fit(X, Y, optimizer="lbfgs", epochs=30, verbose=0)
        assert net.evaluate(X, Y)["loss"] < 0.9 * before
    for bad in ({"clip_grad_norm": 1.0}, {"clip_grad_value": 1.0},
                {"metrics": [median_abs_error]}):
        with pytest.raises(ValueError, match="lbfgs"):
            net.fit(X, Y, optimizer="lbfgs", epochs=2, verbose=0, **bad)
