"""The oracle checked against central finite differences (float64).

Each analytic derivative in fastmlp.reference is compared with
(f(x+h) - f(x-h)) / 2h; a guard rejects trivially zero gradients so a test
cannot pass by computing nothing (genann's check).
"""
from __future__ import annotations

import numpy as np
import pytest

from fastmlp import reference as ref
from fastmlp.testing import FD_RTOL, FD_STEP

SMOOTH = ["identity", "sigmoid", "tanh", "relu", "leaky_relu"]


def fd_grad(f, x, h=FD_STEP):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        g[i] = (f(xp) - f(xm)) / (2 * h)
    return g


def assert_fd(analytic, numeric):
    scale = np.abs(numeric).max()
    assert scale > 1e-6, "gradient is trivially zero: the check would prove nothing"
    np.testing.assert_allclose(analytic, numeric, rtol=FD_RTOL, atol=FD_RTOL * scale)


def away_from_kinks(rng, shape):
    z = rng.standard_normal(shape)
    return np.where(np.abs(z) < 0.05, 0.3, z)  # relu/leaky_relu/step are not differentiable at 0


@pytest.mark.parametrize("act", SMOOTH + ["softmax"])
def test_activation_derivative(act):
    rng = np.random.default_rng(0)
    z, v = away_from_kinks(rng, (4, 5)), rng.standard_normal((4, 5))
    a = ref.act_forward(z, act, 0.1)
    analytic = ref.act_backward(v, a, act, 0.1)  # J^T v
    numeric = fd_grad(lambda zz: float((ref.act_forward(zz, act, 0.1) * v).sum()), z)
    assert_fd(analytic, numeric)


def test_step_has_zero_derivative():
    a = ref.act_forward(np.array([[-1.0, 2.0]]), "step")
    assert (a == [[0, 1]]).all()
    assert (ref.act_backward(np.ones((1, 2)), a, "step") == 0).all()


LOSS_CASES = [("mse", "identity"), ("mse", "sigmoid"), ("mse", "tanh"), ("mse", "softmax"),
              ("mae", "identity"), ("mae", "tanh"), ("bce", "sigmoid"), ("cce", "softmax")]


@pytest.mark.parametrize("loss,out_act", LOSS_CASES)
def test_loss_gradient(loss, out_act):
    rng = np.random.default_rng(1)
    z = rng.standard_normal((6, 4))
    y = np.eye(4)[rng.integers(0, 4, 6)] if loss in ("cce", "bce") else rng.standard_normal((6, 4))
    sw = rng.uniform(0.5, 2, 6)
    _, _, dz = ref.loss(z, y, sw, loss, out_act, 0.1, 0.25)
    numeric = fd_grad(lambda zz: ref.loss(zz, y, sw, loss, out_act, 0.1, 0.25)[0], z)
    assert_fd(dz, numeric)


def test_loss_values_by_hand():
    # mse: ((0.5-1)^2 + (2-0)^2) = 4.25 ; mae: 0.5 + 2 = 2.5
    z, y = np.array([[0.5, 2.0]]), np.array([[1.0, 0.0]])
    assert ref.loss(z, y, loss="mse")[0] == pytest.approx(4.25)
    assert ref.loss(z, y, loss="mae")[0] == pytest.approx(2.5)
    # bce at z=0: -log(0.5) per element ; cce with uniform logits: log(K)
    assert ref.loss(np.zeros((1, 1)), np.ones((1, 1)), loss="bce")[0] == pytest.approx(np.log(2))
    assert ref.loss(np.zeros((1, 3)), np.array([[0, 1.0, 0]]), loss="cce")[0] == pytest.approx(np.log(3))


NETS = [([3, 4, 2], ["tanh"]), ([2, 5, 3, 3], ["sigmoid", "relu"]),
        ([4, 3, 3, 2], ["leaky_relu", "identity"]), ([3, 6, 1], ["tanh"])]


@pytest.mark.parametrize("sizes,hidden,loss", [(s, h, loss) for s, h in NETS
                                                for loss in ["mse", "mae", "bce", "cce"]
                                                if not (loss == "cce" and s[-1] == 1)])
@pytest.mark.parametrize("l2", [0.0, 0.3])
def test_network_gradient(sizes, hidden, loss, l2):
    rng = np.random.default_rng(len(sizes) * 7 + sizes[-1])
    out_act = {"bce": "sigmoid", "cce": "softmax"}.get(loss, "tanh")
    acts, slopes = hidden + [out_act], [0.1] * len(sizes)
    n = 7
    x = away_from_kinks(rng, (n, sizes[0]))
    y = (np.eye(sizes[-1])[rng.integers(0, sizes[-1], n)] if loss in ("bce", "cce")
         else rng.standard_normal((n, sizes[-1])))
    params = rng.standard_normal(ref.n_params(sizes)) * 0.7
    cfg = {"loss": loss, "loss_mult": 0.5, "loss_per_output": True, "l2": l2, "l2_batch_scaled": True}
    sw = rng.uniform(0.5, 2, n)
    _, g = ref.loss_grad(params, sizes, acts, slopes, cfg, x, y, sw)
    numeric = fd_grad(lambda p: ref.loss_grad(p, sizes, acts, slopes, cfg, x, y, sw)[0], params)
    if loss == "mae":  # |r| has a kink at r = 0: compare where FD is well defined
        ok = np.abs(g - numeric) < 1e-4 * max(1.0, np.abs(numeric).max())
        assert ok.mean() > 0.95 and np.abs(numeric).max() > 1e-6
    else:
        assert_fd(g, numeric)


def test_relu_network_directional_derivative():
    """A larger net (kann-style): one random direction instead of every coordinate."""
    rng = np.random.default_rng(4)
    sizes, acts, slopes = [20, 32, 16, 5], ["relu", "relu", "softmax"], [0.0] * 3
    x, y = rng.standard_normal((30, 20)), np.eye(5)[rng.integers(0, 5, 30)]
    p = rng.standard_normal(ref.n_params(sizes)) * 0.3
    cfg = {"loss": "cce"}
    _, g = ref.loss_grad(p, sizes, acts, slopes, cfg, x, y)
    d = rng.standard_normal(p.size)
    f = lambda t: ref.loss_grad(p + t * d, sizes, acts, slopes, cfg, x, y)[0]  # noqa: E731
    numeric = (f(1e-6) - f(-1e-6)) / 2e-6
    assert abs(g @ d) > 1e-3
    assert g @ d == pytest.approx(numeric, rel=1e-5)


def test_optimizer_formulas_first_steps():
    """Restate each rule for one scalar and two steps (t = 1, 2)."""
    w0, g1, g2, lr = 1.0, 0.5, -0.25, 0.1
    w = np.array([w0])
    # plain SGD: w -= lr*g
    w1, *_ = ref.optim_update(w, np.array([g1]), {"kind": "sgd", "lr": lr, "step": 1})
    assert w1[0] == pytest.approx(w0 - lr * g1)
    # momentum 0.9: b1 = g1, b2 = 0.9 g1 + g2
    w1, s1, _ = ref.optim_update(w, np.array([g1]), {"kind": "sgd", "lr": lr, "momentum": 0.9, "step": 1})
    w2, s1, _ = ref.optim_update(w1, np.array([g2]), {"kind": "sgd", "lr": lr, "momentum": 0.9, "step": 2}, s1)
    assert w2[0] == pytest.approx(w0 - lr * g1 - lr * (0.9 * g1 + g2))
    # adam, t=1: m = 0.1 g, v = 0.001 g^2, step = lr/0.1 * m / (sqrt(v)/sqrt(0.001) + eps) = lr*sign(g)
    w1, _, _ = ref.optim_update(w, np.array([g1]), {"kind": "adam", "lr": lr, "step": 1, "eps": 0.0})
    assert w1[0] == pytest.approx(w0 - lr)
