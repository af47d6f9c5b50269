"""Whole-network passes in C against the reference: trajectories, a hand-worked
step, batch modes, and what a perceptron and an MLP can learn."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from fastmlp import MLP, ConvergenceWarning, Perceptron
from fastmlp import _core as core
from fastmlp import reference as ref
from fastmlp._backend import ACTIVATIONS, LOSSES, OPTIMIZERS, train_steps
from fastmlp.testing import assert_close, assert_train_trajectory, random_targets

CASES = [
    # sizes, acts (hidden + output), loss, optimizer, batch, cfg extras
    ([5, 7, 3], ["tanh", "softmax"], "cce", {"kind": "sgd", "lr": 0.1}, 4, {}),
    ([5, 9, 6, 3], ["relu", "leaky_relu", "softmax"], "cce",
     {"kind": "sgd", "lr": 0.05, "momentum": 0.9, "nesterov": True}, 7, {"l2": 0.01}),
    ([4, 6, 1], ["sigmoid", "sigmoid"], "bce", {"kind": "adam", "lr": 0.01}, 5,
     {"l2": 0.1, "l2_batch_scaled": True}),
    ([3, 8, 2], ["tanh", "identity"], "mse", {"kind": "rmsprop", "lr": 0.01, "alpha": 0.9}, 3,
     {"loss_per_output": True}),
    ([3, 8, 2], ["relu", "sigmoid"], "mae", {"kind": "adagrad", "lr": 0.05}, 6, {}),
    ([6, 17, 4], ["sigmoid", "sigmoid"], "mse",
     {"kind": "adamw", "lr": 0.01, "weight_decay": 0.1, "decay_bias": False}, 23, {"loss_mult": 0.5}),
]


def _setup(sizes, loss, dtype, seed=0, n=23):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, sizes[0])).astype(dtype)
    y = random_targets(rng, loss, n, sizes[-1])
    params = (rng.standard_normal(ref.n_params(sizes)) * 0.5).astype(dtype)
    return rng, x, y.astype(dtype), params


@pytest.mark.parametrize("case", range(len(CASES)))
@pytest.mark.parametrize("shuffled,weighted", [(False, False), (True, True)])
def test_ten_step_trajectory(target, dtype, n_threads, case, shuffled, weighted):
    """10 optimizer steps in C match the reference step by step (loss and weights)."""
    sizes, acts, loss, opt, batch, extra = CASES[case]
    rng, x, y, params = _setup(sizes, loss, dtype, seed=case)
    n = len(x)
    order = rng.permutation(n).astype(np.int64) if shuffled else None
    sw = rng.uniform(0.2, 2.0, n).astype(dtype) if weighted else None
    cfg = {"loss": loss, "metric": 1 if loss == "cce" else 0, **extra}
    n_batches = -(-n // batch)
    assert_train_trajectory(params, opt, sizes, acts, np.full(len(acts), 0.1), cfg, x, y,
                            [((k % n_batches) * batch, 1) for k in range(10)], batch, n_threads,
                            sw, order)


@pytest.mark.parametrize("case", [0, 2, 3])
def test_loss_grad_and_forward_net(target, dtype, n_threads, case):
    sizes, acts, loss, _, _, extra = CASES[case]
    rng, x, y, params = _setup(sizes, loss, dtype, seed=10 + case, n=50)
    cfg = {"loss": loss, **extra}
    slopes = np.full(len(acts), 0.1)
    sizes_a, acts_a = np.array(sizes, np.int64), np.array([ACTIVATIONS[a] for a in acts], np.int32)
    work = np.empty(core.workspace_size(sizes_a, acts_a, slopes, 16), dtype)
    grad = np.empty_like(params)
    L = core.loss_grad(grad, work, params, sizes_a, acts_a, slopes, {**cfg, "loss": LOSSES[loss]},
                       x, y, None, 16, n_threads)  # 50 rows in chunks of 16: accumulation path
    rL, rg = ref.loss_grad(params, sizes, acts, slopes, cfg, x, y)
    assert_close(L, rL, dtype, what="objective")
    assert_close(grad, rg, dtype, what="gradient")
    out = np.empty((50, sizes[-1]), dtype)
    core.forward_net(out, work, params, sizes_a, acts_a, slopes, x, 16, n_threads)
    assert_close(out, ref.forward_net(params, sizes, acts, slopes, x), dtype, what="forward_net")


def test_hand_worked_step():
    """One SGD step of a 3-2-1 logistic net, worked by hand (scikit-learn's test_fit).

    x = [0.6, 0.8, 0.7], y = 0, W0 = [[.1,.2],[.3,.1],[.5,0]], b0 = [.1,.1],
    W1 = [[.1],[.2]], b1 = [1.0], L2 alpha = 0.1 (divided by the batch of 1), lr = 0.1.
      z0 = x.W0 + b0 = [0.06+0.24+0.35+0.1, 0.12+0.08+0+0.1] = [0.75, 0.30]
      a0 = sigmoid(z0) = [0.6791787, 0.5744425]
      z1 = 0.1*0.6791787 + 0.2*0.5744425 + 1.0 = 1.1828064,  p = sigmoid(z1) = 0.7654520
      d1 = p - y = 0.7654520                    (binary cross-entropy + sigmoid)
      gW1 = a0*d1 + 0.1*W1 = [0.5298787, 0.4597082] -> W1 = W1 - 0.1*gW1 = [0.0470121, 0.1540292]
      gb1 = d1 -> b1 = 1.0 - 0.0765452 = 0.9234548
      d0 = d1*W1_old * a0(1-a0) = [0.0166788, 0.0374242]
      gW0 = x (outer) d0 + 0.1*W0 -> W0[0,0] = 0.1 - 0.1*(0.6*0.0166788 + 0.01) = 0.0979993
    scikit-learn's published values: W0 ~ [[0.098, 0.195756], [0.2956664, 0.096008],
    [0.4939998, -0.002244]], W1 ~ [[0.04706], [0.154089]], b0 ~ [0.098333, 0.09626],
    b1 ~ 0.9235, and afterwards predict_proba ~ 0.739.
    """
    net = MLP([3, 2, 1], activation="sigmoid", loss="bce", dtype=np.float64)
    net.set_parameters([[[.1, .2], [.3, .1], [.5, 0]], [[.1], [.2]]], [[.1, .1], [1.0]])
    sizes, acts, slopes = net._net_arrays()
    p, grad = net._params, np.empty_like(net._params)
    work = np.empty(core.workspace_size(sizes, acts, slopes, 1))
    cfg = {"loss": LOSSES["bce"], "l2": 0.1, "l2_batch_scaled": True}
    train_steps(params=p, grad=grad, work=work, stats=np.zeros(4),
                opt={"kind": OPTIMIZERS["sgd"], "lr": 0.1}, net=(sizes, acts, slopes), cfg=cfg,
                x=np.array([[0.6, 0.8, 0.7]]), y=np.array([[0.0]]), n_batches=1, batch=1)
    np.testing.assert_allclose(net.coefs_[0], [[0.098, 0.195756], [0.2956664, 0.096008],
                                                [0.4939998, -0.002244]], atol=1e-3)
    np.testing.assert_allclose(net.coefs_[1], [[0.04706], [0.154089]], atol=1e-3)
    np.testing.assert_allclose(net.intercepts_[0], [0.098333, 0.09626], atol=1e-3)
    np.testing.assert_allclose(net.intercepts_[1], [0.9235], atol=1e-3)
    np.testing.assert_allclose(net.coefs_[1][:, 0], [0.0470121, 0.1540292], atol=1e-7)
    assert net.intercepts_[1][0] == pytest.approx(0.9234548, abs=1e-7)
    assert net.coefs_[0][0, 0] == pytest.approx(0.0979993, abs=1e-7)
    assert net.forward(np.array([[0.6, 0.8, 0.7]]))[0, 0] == pytest.approx(0.739, abs=1e-3)


def test_mlp_fit_matches_reference_trajectory(dtype):
    """MLP.fit without shuffling = the reference loop over the same batches."""
    rng = np.random.default_rng(5)
    X, y = rng.standard_normal((40, 6)), rng.integers(0, 3, 40)
    net = MLP([6, 8, 3], activation="tanh", dtype=dtype, seed=1, n_threads=1)
    p0 = net._params.astype(np.float64).copy()
    net.fit(X, y, epochs=2, batch_size=8, learning_rate=0.2, momentum=0.5, shuffle=False,
            verbose=0, optimizer="sgd")
    p_r, s1, s2, step = p0, None, None, 0
    Y = np.eye(3)[y]
    for _ in range(2):
        p_r, s1, s2, _, step = ref.train(p_r, {"kind": "sgd", "lr": 0.2, "momentum": 0.5,
                                               "step": step}, [6, 8, 3], ["tanh", "softmax"],
                                         [0.01, 0.01], {"loss": "cce"}, X, Y, None, None, 0, 5, 8,
                                         s1, s2)
    assert step == 10
    assert_close(net._params, p_r, dtype, kind="trajectory")


XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
XOR_Y = np.array([0, 1, 1, 0])


def test_perceptron_fails_on_xor_and_says_so():
    p = Perceptron(max_epochs=200, seed=0)
    with pytest.warns(ConvergenceWarning, match="not linearly separable"):
        p.fit(XOR_X, XOR_Y)
    assert not p.converged_
    assert p.score(XOR_X, XOR_Y) <= 0.75
    assert all(m > 0 for m in p.mistakes_)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_perceptron_learns_separable_data(dtype):
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (300, 2))
    margin = X @ [1.5, -1.0] + 0.2
    X, y = X[np.abs(margin) > 0.1], (margin[np.abs(margin) > 0.1] > 0).astype(int)
    p = Perceptron(seed=1, dtype=dtype).fit(X, y)
    assert p.converged_ and p.score(X, y) == 1.0
    # reference rule, same order: identical weights
    w, b = np.zeros(2), 0.0
    for _ in range(3):
        w, b, _ = ref.perceptron_epoch(w, b, X, np.where(y == 1, 1.0, -1.0), None, 1.0)
    wc, bc = np.zeros(2, dtype), np.zeros(1, dtype)
    for _ in range(3):
        core.perceptron_epoch(wc, bc, X.astype(dtype), np.where(y == 1, 1.0, -1.0).astype(dtype),
                              None, 1.0)
    assert_close(wc, w, dtype)
    assert_close(bc, [b], dtype)


def test_perceptron_multiclass_and_logic_gates():
    for gate in ([0, 0, 0, 1], [0, 1, 1, 1], [1, 1, 1, 0]):  # AND, OR, NAND
        assert Perceptron(seed=0).fit(XOR_X, gate).score(XOR_X, gate) == 1.0
    X = np.array([[0, 0], [5, 5], [10, 0], [0.5, 0.2], [5.2, 4.9], [9.8, 0.3]])
    y = np.array([0, 1, 2, 0, 1, 2])
    p = Perceptron(seed=0).fit(X, y)
    assert p.coef_.shape == (3, 2) and p.score(X, y) == 1.0


def test_mlp_learns_xor():
    X, y = np.repeat(XOR_X, 25, axis=0), np.repeat(XOR_Y, 25)
    net = MLP([2, 8, 2], activation="tanh", seed=0)
    net.fit(X, y, epochs=60, batch_size=4, learning_rate=0.3, verbose=0, optimizer="sgd")
    assert net.score(XOR_X, XOR_Y) == 1.0
    assert (net.predict(XOR_X) == XOR_Y).all()


@pytest.mark.parametrize("batch_size", [None, 1, 16])
def test_three_gradient_descent_modes_reduce_the_loss(batch_size):
    rng = np.random.default_rng(2)
    X = rng.standard_normal((200, 4))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    net = MLP([4, 16, 2], activation="tanh", seed=3)
    before = net.evaluate(X, y)["loss"] if net.loss != "auto" else None
    net.fit(X, y, epochs=30, batch_size=batch_size, learning_rate=0.1 if batch_size else 1.0,
            verbose=0, optimizer="sgd")
    h = net.history_["loss"]
    assert len(h) == 30 and h[-1] < 0.7 * h[0]
    assert before is None
    assert net.score(X, y) > 0.8


def test_full_batch_step_equals_gradient_step(dtype):
    """batch_size=None: one epoch = one step along the full-data gradient."""
    rng = np.random.default_rng(8)
    X, Y = rng.standard_normal((30, 3)), rng.standard_normal((30, 2))
    net = MLP([3, 5, 2], activation="sigmoid", loss="mse", dtype=dtype, seed=0)
    p0 = net._params.astype(np.float64).copy()
    net.fit(X, Y, epochs=1, batch_size=None, learning_rate=0.5, verbose=0, optimizer="sgd")
    _, g = ref.loss_grad(p0, [3, 5, 2], ["sigmoid", "identity"], [0.01] * 2,
                         {"loss": "mse", "loss_per_output": True}, X, Y)
    assert_close(net._params, p0 - 0.5 * g, dtype, kind="trajectory")


def test_counts_and_summary():
    assert MLP([2, 5, 5, 3]).n_params == 63
    assert MLP("784-16-16-10").n_params == 13002
    assert MLP([4, 5, 5, 3]).n_params == 73  # 60 weights + 13 biases
    s = MLP("784-16-16-10", loss="cce").summary()
    assert "13,002" in s and "784 -> 16" in s and "softmax" in s


def test_weights_are_readable_and_writable():
    net = MLP([3, 4, 2], dtype=np.float64, loss="cce", init="auto")  # zero biases
    assert [w.shape for w in net.coefs_] == [(3, 4), (4, 2)]
    net.coefs_[0][...] = 0.5
    assert (net.coefs_[0] == 0.5).all()
    new_w = [np.ones((3, 4)), np.full((4, 2), 2.0)]
    net.coefs_ = new_w
    assert (net.coefs_[1] == 2.0).all()
    X = np.ones((1, 3))
    # by hand: relu(1*3*1 + 0) = 3 per hidden unit; logits 4*3*2 = 24 each -> softmax 0.5/0.5
    np.testing.assert_allclose(net.predict_proba(X), [[0.5, 0.5]])
    with pytest.raises(ValueError, match=r"coefs\[0\] must have shape \(3, 4\)"):
        net.set_parameters([np.ones((4, 3)), np.ones((4, 2))], net.intercepts_)
    assert (net.coefs_[1] == 2.0).all()  # unchanged after the failed set


def test_training_is_deterministic_for_a_seed():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((100, 5)), rng.integers(0, 3, 100)
    a = MLP([5, 8, 3], seed=42).fit(X, y, epochs=3, verbose=0, optimizer="sgd")
    b = MLP([5, 8, 3], seed=42).fit(X, y, epochs=3, verbose=0, optimizer="sgd")
    assert np.array_equal(a._params, b._params)


def test_validation_history():
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((120, 4)), rng.integers(0, 2, 120)
    net = MLP([4, 6, 2], seed=0).fit(X, y, epochs=4, validation_split=0.25, verbose=0,
                                     optimizer="sgd")
    for key in ("loss", "accuracy", "error_rate", "val_loss", "val_accuracy", "val_error_rate",
                "time", "lr"):
        assert len(net.history_[key]) == 4, key
    np.testing.assert_allclose(np.add(net.history_["val_accuracy"], net.history_["val_error_rate"]), 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert net.evaluate(X[-30:], y[-30:])["loss"] == pytest.approx(net.history_["val_loss"][-1],
                                                                       rel=1e-5)
