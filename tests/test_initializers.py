"""MLP(init=...): the normal, LeCun-normal and orthogonal initialisers and a callable, beside
the uniform ones; shapes, statistics, orthogonality, reproducibility, bad input."""
from __future__ import annotations

from functools import partial

import numpy as np
import pytest

from fastmlp import MLP, load
from fastmlp.initializers import lecun_normal, normal, orthogonal


@pytest.mark.parametrize("init", ["normal", "lecun_normal", "orthogonal"])
def test_shapes_zero_biases_and_seeded(init):
    net = MLP([30, 20, 40, 5], init=init, seed=3)
    assert [w.shape for w in net.coefs_] == [(30, 20), (20, 40), (40, 5)]
    assert all(not b.any() for b in net.intercepts_)
    assert all(w.std() > 0 for w in net.coefs_)
    again = MLP([30, 20, 40, 5], init=init, seed=3)
    assert np.array_equal(net._params, again._params)
    assert not np.array_equal(net._params, MLP([30, 20, 40, 5], init=init, seed=4)._params)
    # reset_parameters draws the next weights of the seeded stream, the same each time
    net.reset_parameters()
    again.reset_parameters()
    assert np.array_equal(net._params, again._params)
    assert not np.array_equal(net._params, MLP([30, 20, 40, 5], init=init, seed=3)._params)


def test_variances_over_large_matrices():
    # 400 x 500 = 200,000 draws: the sample variance is within ~0.3% (1 sd) of the truth
    w = MLP([400, 500, 2], init="lecun_normal", seed=0, dtype=np.float64).coefs_[0]
    assert w.mean() == pytest.approx(0.0, abs=5 * np.sqrt(1 / 400 / w.size))
    assert w.var() == pytest.approx(1 / 400, rel=0.02)
    w = MLP([400, 500, 2], init="normal", seed=1, dtype=np.float64).coefs_[0]
    assert w.std() == pytest.approx(0.05, rel=0.01)
    rng = np.random.default_rng(2)
    assert normal((300, 300), rng, std=0.2).std() == pytest.approx(0.2, rel=0.01)
    assert lecun_normal((1000, 200), rng).var() == pytest.approx(1e-3, rel=0.02)


def test_orthogonal_is_orthogonal_with_gain():
    net = MLP([64, 32, 80, 80], init="orthogonal", seed=0, dtype=np.float64)
    w0, w1, w2 = net.coefs_
    np.testing.assert_allclose(w0.T @ w0, np.eye(32), atol=1e-12)   # tall: columns
    np.testing.assert_allclose(w1 @ w1.T, np.eye(32), atol=1e-12)   # wide: rows
    np.testing.assert_allclose(w2.T @ w2, np.eye(80), atol=1e-12)   # square: both
    np.testing.assert_allclose(w2 @ w2.T, np.eye(80), atol=1e-12)
    g = np.sqrt(2.0)
    net = MLP([50, 20, 3], init=partial(orthogonal, gain=g), seed=0, dtype=np.float64)
    np.testing.assert_allclose(net.coefs_[0].T @ net.coefs_[0], 2.0 * np.eye(20), atol=1e-12)
    # torch's sign fix makes Q a uniform draw: the diagonal of R is positive, so the
    # weights are not the raw QR factor of the Gaussian draw but its sign-corrected one
    a = orthogonal((6, 6), np.random.default_rng(7))
    G = np.random.default_rng(7).standard_normal((6, 6))
    q, r = np.linalg.qr(G)
    np.testing.assert_allclose(a, (q * np.sign(np.diag(r))).T, atol=1e-12)
    with pytest.raises(ValueError, match="init.*gain"):
        orthogonal((3, 3), np.random.default_rng(0), gain=float("nan"))


def test_a_callable_draws_each_layer_from_the_models_generator():
    seen = []

    def init(shape, rng):
        seen.append((shape, rng))
        return rng.uniform(-0.1, 0.1, shape)

    net = MLP([5, 4, 3], init=init, seed=11, dtype=np.float64)
    assert [s for s, _ in seen] == [(5, 4), (4, 3)]
    assert all(r is net._rng for _, r in seen)
    rng = np.random.default_rng(11)
    np.testing.assert_array_equal(net.coefs_[0], rng.uniform(-0.1, 0.1, (5, 4)))
    np.testing.assert_array_equal(net.coefs_[1], rng.uniform(-0.1, 0.1, (4, 3)))
    assert not any(b.any() for b in net.intercepts_)
    # ints and lists are real numbers; a hidden model calls it at the first fit
    net = MLP(hidden=[3], init=lambda shape, rng: np.ones(shape, dtype=int).tolist(), seed=0)
    net.fit(np.eye(4), [0, 1, 0, 1], epochs=1, verbose=0)
    assert net.coefs_[0].shape == (4, 3)


@pytest.mark.parametrize("bad, match", [
    (lambda shape, rng: np.zeros((shape[1], shape[0])), r"init callable .* shape \(4, 3\)"),
    (lambda shape, rng: np.full(shape, np.nan), "init callable .* NaN or infinity"),
    (lambda shape, rng: np.full(shape, "a"), "init callable .* real numbers"),
    (lambda shape, rng: np.ones(shape) * 1j, "init callable .* real numbers"),
    (lambda shape: np.ones(shape), "init callable .* raised TypeError"),
    (lambda shape, rng: np.full(shape, 1e300), "init .* overflow float32"),
])
def test_a_bad_callable_names_init_and_changes_nothing(bad, match):
    net = MLP([4, 3, 2], seed=0)
    before = (net._params.copy(), net._rng.bit_generator.state)
    net.init = bad
    with pytest.raises(ValueError, match=match):
        net.reset_parameters()
    assert np.array_equal(net._params, before[0]) and net._rng.bit_generator.state == before[1]
    with pytest.raises(ValueError, match=match):
        MLP([4, 3, 2], init=bad)


def test_bad_names():
    with pytest.raises(ValueError, match="init must be one of .*'orthogonal' or a callable"):
        MLP([2, 2], init="xavier")
    with pytest.raises(ValueError, match="init must be one of"):
        MLP([2, 2], init=3)


def test_save_and_load_keep_the_init(tmp_path):
    net = MLP([4, 3, 2], init="orthogonal", seed=0)
    back = load(net.save(tmp_path / "o.npz"))
    assert back.init == "orthogonal" and np.array_equal(back._params, net._params)
    # a callable is not saved: the loaded model says so, keeps its weights, and asks for an
    # init before drawing new ones
    net = MLP([4, 3, 2], init=lambda shape, rng: rng.normal(0, 0.1, shape), seed=0)
    back = load(net.save(tmp_path / "c.npz"))
    assert back.init == "callable" and np.array_equal(back._params, net._params)
    with pytest.raises(ValueError, match="init='callable'.*not saved"):
        back.reset_parameters()
    back.init = "lecun_normal"
    back.reset_parameters()
    assert not np.array_equal(back._params, net._params)
