"""Regularisation: the counter RNG, inverted dropout, Gaussian input noise, L1/L2,
class and sample weights, gradient-descent modes -- C against the reference, the
reference against finite differences, and whole fits replayed in NumPy.

Formulas restated (csrc/rng/rng.h, csrc/rng/dropout_impl.h, fastmlp.reference):
  unif(i) = (mix(key + (i+1)G) >> 11) 2^-53, key = mix(mix(mix(seed+G) + step G) + stream G)
  dropout: h' = h / (1-p) where unif(i) >= p, else 0;   backward: d' = d / (1-p) or 0
  noise:   x' = x + sigma * normal(i); normal(2j), normal(2j+1) = r cos t, r sin t with
           r = sqrt(-2 ln(1-unif(2j))), t = 2 pi unif(2j+1)  (Box-Muller, both outputs)
  penalty: loss += 0.5*l2*||W||^2 + l1*||W||_1;  g_W += l2*W + l1*sign(W)
"""
from __future__ import annotations

import numpy as np
import pytest

from fastmlp import MLP
from fastmlp import _core as core
from fastmlp import reference as ref
from fastmlp._backend import ACTIVATIONS, LOSSES, OPTIMIZERS, train_steps
from fastmlp.optim import SGD, Adam
from fastmlp.testing import FD_RTOL, assert_close

SEEDS = [(0, 1, 0), (12345, 7, 3), (2**64 - 1, 2**40, 64), (987654321987654321, 1, 1)]


@pytest.mark.parametrize("seed,step,stream", SEEDS)
def test_rng_stream_is_bit_identical_in_c_and_numpy(seed, step, stream):
    out = np.empty(1000)
    core.rng_uniform(out, seed, step, stream)
    assert np.array_equal(out, ref.rng_uniform(seed, step, stream, 1000))


def test_rng_streams_are_uniform_and_independent():
    u = ref.rng_uniform(1, 1, 1, 200_000)
    assert u.min() >= 0 and u.max() < 1
    counts = np.histogram(u, bins=20, range=(0, 1))[0]
    # chi-square with 19 degrees of freedom: 43.8 is its 0.999 quantile
    assert ((counts - 10_000) ** 2 / 10_000).sum() < 43.8
    others = [ref.rng_uniform(*k, 1000) for k in [(2, 1, 1), (1, 2, 1), (1, 1, 2)]]
    for o in others:  # changing seed, step or stream gives unrelated numbers
        assert abs(np.corrcoef(u[:1000], o)[0, 1]) < 0.15
        assert not np.array_equal(u[:1000], o)


@pytest.mark.parametrize("n", [1, 17, 70_001])
@pytest.mark.parametrize("p", [0.0, 0.1, 0.5, 0.9])
def test_dropout_kernels_match_reference(dtype, n_threads, n, p):
    rng = np.random.default_rng(n)
    h = rng.standard_normal(n).astype(dtype)
    out = np.full(n, np.nan, dtype)
    core.dropout_forward(out, h, p, 99, 5, 2, n_threads)
    want = ref.dropout_forward(h, p, 99, 5, 2)
    assert np.array_equal(out == 0, want == 0)  # the same mask, bit for bit
    assert_close(out, want, dtype, what="dropout forward")
    d = rng.standard_normal(n).astype(dtype)
    dc = d.copy()
    core.dropout_backward(dc, p, 99, 5, 2, n_threads)
    assert_close(dc, ref.dropout_backward(d, p, 99, 5, 2), dtype, what="dropout backward")
    assert np.array_equal(dc == 0, want == 0)


def test_dropout_keeps_the_expected_value():
    h = np.ones(200_000)
    out = ref.dropout_forward(h, 0.3, 1, 1, 1)
    assert abs((out == 0).mean() - 0.3) < 0.005  # rate p
    assert abs(out.mean() - 1.0) < 0.01          # inverted scaling keeps E[h]


def test_gaussian_noise_kernel_and_statistics(dtype, n_threads):
    x = np.linspace(-1, 1, 50_001).astype(dtype)
    xc = x.copy()
    core.gaussian_noise(xc, 0.5, 3, 4, 0, n_threads)
    want = ref.gaussian_noise(x, 0.5, 3, 4, 0)
    assert_close(xc, want, dtype)
    z = (want - x) / 0.5
    assert abs(z.mean()) < 0.02 and abs(z.std() - 1) < 0.02


def test_reference_dropout_gradient_by_finite_differences():
    """With its masks fixed by (seed, step), a dropout net is a smooth function of the
    parameters: the reference gradient must equal central differences."""
    rng = np.random.default_rng(0)
    sizes, acts, slopes = [4, 7, 6, 3], ["tanh", "sigmoid", "softmax"], [0.1] * 3
    x, y = rng.standard_normal((9, 4)), np.eye(3)[rng.integers(0, 3, 9)]
    params = rng.standard_normal(ref.n_params(sizes)) * 0.5
    cfg = {"loss": "cce", "dropout": [0.4, 0.3], "seed": 77}
    f = lambda p: ref._data_loss_grad(p, sizes, acts, slopes, cfg, x, y, None, 9.0, 5)  # noqa
    _, _, g = f(params)
    h, num = 1e-6, np.zeros_like(params)
    for i in range(len(params)):
        e = np.zeros_like(params)
        e[i] = h
        num[i] = (f(params + e)[0] - f(params - e)[0]) / (2 * h)
    assert np.abs(num).max() > 1e-3
    np.testing.assert_allclose(g, num, rtol=FD_RTOL, atol=FD_RTOL * np.abs(num).max())
    # and dropout really acted: without it the gradient differs
    assert not np.allclose(g, ref._data_loss_grad(params, sizes, acts, slopes,
                                                  {"loss": "cce"}, x, y, None, 9.0)[2])


REG_CASES = [
    # hidden acts, out act, loss, dropout, noise, l1, l2, optimizer
    (["tanh", "relu"], "softmax", "cce", [0.3, 0.5], 0.2, 1e-3, 1e-2,
     {"kind": "adam", "lr": 0.01, "amsgrad": True}),
    (["sigmoid", "leaky_relu"], "identity", "mse", [0.0, 0.25], 0.0, 0.01, 0.0,
     {"kind": "sgd", "lr": 0.05, "momentum": 0.9, "nesterov": True}),
    (["relu", "tanh"], "sigmoid", "bce", [0.5, 0.0], 0.3, 0.0, 0.1,
     {"kind": "rmsprop", "lr": 0.01, "momentum": 0.5, "centered": True}),
]


@pytest.mark.parametrize("case", range(len(REG_CASES)))
def test_train_with_regularisation_matches_reference(target, dtype, n_threads, case):
    """Ten mini-batches in C with dropout, noise, L1/L2, per-batch lr and momentum, sample
    weights and regression/classification sums, step by step against the reference."""
    hidden, out_act, loss, drop, noise, l1, l2, opt = REG_CASES[case]
    sizes, acts = [5, 9, 7, 3], hidden + [out_act]
    rng = np.random.default_rng(case)
    n, bs = 23, 4
    x = rng.standard_normal((n, 5)).astype(dtype)
    y = (np.eye(3)[rng.integers(0, 3, n)] if loss == "cce" else
         rng.integers(0, 2, (n, 3)) if loss == "bce" else rng.standard_normal((n, 3))).astype(dtype)
    sw = rng.uniform(0.2, 2, n).astype(dtype)
    params = (rng.standard_normal(ref.n_params(sizes)) * 0.5).astype(dtype)
    metric = {"cce": 1, "bce": 2, "mse": 3}[loss]
    cfg = {"loss": loss, "metric": metric, "l1": l1, "l2": l2, "dropout": drop,
           "input_noise": noise, "seed": 2**63 + case, "loss_per_output": loss != "cce"}
    slopes = np.full(3, 0.1)
    sa, aa = np.array(sizes, np.int64), np.array([ACTIVATIONS[a] for a in acts], np.int32)
    work = np.empty(core.workspace_size(sa, aa, slopes, bs), dtype)
    p_c, grad = params.copy(), np.empty_like(params)
    s1, s2, s3 = (np.zeros_like(params) for _ in range(3))
    copt = {**opt, "kind": OPTIMIZERS[opt["kind"]], "step": 0}
    p_r, st = params.astype(np.float64), {"step": 0}
    order = rng.permutation(n).astype(np.int64)
    nb = -(-n // bs)
    for k in range(10):
        first = k % nb
        lrs = np.array([opt["lr"] * (1 + 0.1 * k)])
        moms = np.array([0.9 - 0.01 * k])
        stats = np.zeros(6 + 3)
        train_steps(params=p_c, grad=grad, work=work, stats=stats, net=(sa, aa, slopes),
                    opt=copt, cfg={**cfg, "loss": LOSSES[loss]}, x=x, y=y, sw=sw, order=order,
                    start=first * bs, n_batches=1, batch=bs, s1=s1, s2=s2, s3=s3,
                    dropout=np.array(drop), lr_steps=lrs, mom_steps=moms, n_threads=n_threads)
        p_r, st, rstats = ref.train_chunk(p_r, opt, sizes, acts, slopes, cfg, x, y, sw, order,
                                          first * bs, 1, bs, st, lr_steps=lrs, mom_steps=moms)
        assert copt["step"] == st["step"] == k + 1
        assert_close(stats[:len(rstats)], rstats, dtype, kind="trajectory", what=f"stats {k}")
        assert_close(p_c, p_r, dtype, kind="trajectory", what=f"params {k}")


def _replay(net, rng_state, X, Y, sw, epochs, bs, opt, l1=0.0, l2=0.0, lrs=None):
    """fit() redone in NumPy: same per-epoch shuffles, same RNG keys, reference math."""
    rng = np.random.default_rng()
    rng.bit_generator.state = rng_state
    sizes = net.layers
    acts = net.activations + [net.output_activation]
    cfg = {**net._cfg(l2, l1, train=True), "loss": net.loss, "dropout": net.dropout}
    mult, per_out = {"cce": (1.0, False), "mse": (1.0, True), "bce": (1.0, True)}[net.loss]
    cfg.update(loss_mult=mult, loss_per_output=per_out)
    n, nb = len(X), -(-len(X) // bs)
    p, st = net._params.astype(np.float64), {"step": 0}
    for _ in range(epochs):
        order = np.arange(n)
        rng.shuffle(order)
        p, st, _ = ref.train_chunk(p, opt, sizes, acts, [net.leaky_slope] * len(acts), cfg, X, Y,
                                   sw, order, 0, nb, bs, st)
    return p


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_fit_with_dropout_and_noise_equals_a_numpy_replay(dtype, kind):
    rng = np.random.default_rng(11)
    X = rng.standard_normal((37, 5))
    if kind == "classifier":
        y = rng.integers(0, 3, 37)
        Y, layers = np.eye(3)[y], [5, 9, 7, 3]
    else:
        y = Y = rng.standard_normal((37, 2))
        layers = [5, 9, 7, 2]
    net = MLP(layers, activation=["tanh", "relu"], dropout=[0.3, 0.2], input_noise=0.1,
              seed=5, dtype=dtype)
    p0, rng_state = net._params.copy(), net._rng.bit_generator.state
    sw = rng.uniform(0.5, 2, 37)
    net.fit(X, y, epochs=3, batch_size=8, optimizer=Adam(lr=0.01), l1=1e-3, l2=1e-2,
            sample_weight=sw, verbose=0)
    assert net._opt_state["step"] == 15
    fresh = MLP(layers, activation=["tanh", "relu"], dropout=[0.3, 0.2], input_noise=0.1,
                seed=5, dtype=dtype)
    fresh._decide_loss(y)
    assert np.array_equal(fresh._params, p0)
    want = _replay(fresh, rng_state, X.astype(dtype), Y.astype(dtype), sw.astype(dtype), 3, 8,
                   {"kind": "adam", "lr": 0.01}, l1=1e-3, l2=1e-2)
    assert_close(net._params, want, dtype, kind="trajectory")


def test_dropout_is_training_only_and_reproducible():
    rng = np.random.default_rng(2)
    X, y = rng.standard_normal((60, 4)), rng.integers(0, 2, 60)
    runs = [MLP([4, 16, 2], seed=s, dropout=0.5).fit(X, y, epochs=3, verbose=0, optimizer="sgd")
            for s in (1, 1, 2)]
    assert np.array_equal(runs[0]._params, runs[1]._params)  # same seed, same masks
    plain = MLP([4, 16, 2], seed=1).fit(X, y, epochs=3, verbose=0, optimizer="sgd")
    assert not np.allclose(runs[0]._params, plain._params)  # dropout changed training
    net = runs[0]
    out = net.predict_proba(X)
    assert np.array_equal(out, net.predict_proba(X))  # inference is deterministic
    want = ref.forward_net(net._params, net.layers, net.activations + ["softmax"],
                           [net.leaky_slope] * 2, X)
    assert_close(out, want, np.float32)  # ...and uses the whole net, unscaled


def test_l1_shrinks_weights_and_enters_the_loss():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((80, 6))
    Y = X[:, :1] * 2.0  # only the first input matters
    kw = dict(epochs=40, batch_size=None, optimizer=SGD(lr=0.05), verbose=0)
    base = MLP([6, 1], loss="mse", dtype=np.float64, seed=0).fit(X, Y, **kw)
    l1 = MLP([6, 1], loss="mse", dtype=np.float64, seed=0).fit(X, Y, l1=0.05, **kw)
    assert np.abs(l1.coefs_[0][1:]).sum() < 0.5 * np.abs(base.coefs_[0][1:]).sum()
    # full batch: the recorded loss is the data loss + l1*||W||_1 before the last update
    net = MLP([6, 1], loss="mse", dtype=np.float64, seed=0)
    w_before = net.coefs_[0].copy()
    data = np.mean((X @ w_before + net.intercepts_[0] - Y) ** 2)
    net.fit(X, Y, epochs=1, batch_size=None, optimizer=SGD(lr=0.05), l1=0.05, verbose=0)
    assert net.history_["loss"][0] == pytest.approx(data + 0.05 * np.abs(w_before).sum())


def test_zero_sample_weights_equal_dropping_the_rows():
    rng = np.random.default_rng(4)
    X, y = rng.standard_normal((40, 3)), rng.integers(0, 2, 40)
    sw = np.where(np.arange(40) % 3 == 0, 0.0, 1.0)
    kw = dict(epochs=5, batch_size=None, optimizer=Adam(lr=0.05), verbose=0)
    a = MLP([3, 5, 2], seed=0, dtype=np.float64).fit(X, y, sample_weight=sw, **kw)
    b = MLP([3, 5, 2], seed=0, dtype=np.float64).fit(X[sw > 0], y[sw > 0], **kw)
    assert_close(a._params, b._params, np.float64, kind="trajectory")


def test_class_weight_balanced_is_the_sample_weight_formula():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((50, 3))
    y = np.array(["a"] * 35 + ["b"] * 10 + ["c"] * 5)
    w = {"a": 50 / (3 * 35), "b": 50 / (3 * 10), "c": 50 / (3 * 5)}
    kw = dict(epochs=3, batch_size=7, optimizer=Adam(lr=0.01), verbose=0)
    a = MLP([3, 4, 3], seed=0).fit(X, y, class_weight="balanced", **kw)
    b = MLP([3, 4, 3], seed=0).fit(X, y, sample_weight=[w[c] for c in y], **kw)
    c = MLP([3, 4, 3], seed=0).fit(X, y, class_weight=w, **kw)
    assert_close(a._params, b._params, np.float32)
    assert_close(c._params, b._params, np.float32)
    with pytest.raises(ValueError, match="labels the model does not know"):
        MLP([3, 4, 3], seed=0).fit(X, y, class_weight={"z": 2.0}, verbose=0,
                                   optimizer="sgd", epochs=10)
    with pytest.raises(ValueError, match="class_weight must be"):
        MLP([3, 4, 3], seed=0).fit(X, y, class_weight=[1, 2, 3], verbose=0,
                                   optimizer="sgd", epochs=10)
    with pytest.raises(ValueError, match="needs a classification model"):
        MLP([3, 1], seed=0).fit(X, X[:, 0], class_weight="balanced", verbose=0,
                                optimizer="sgd", epochs=10)


@pytest.mark.parametrize("batch_size,steps", [(None, 3), (1, 3 * 30), (8, 3 * 4), (100, 3)])
def test_gradient_descent_modes_count_their_steps(batch_size, steps):
    rng = np.random.default_rng(6)
    X, y = rng.standard_normal((30, 2)), rng.integers(0, 2, 30)
    net = MLP([2, 3, 2], seed=0).fit(X, y, epochs=3, batch_size=batch_size, verbose=0,
                                     optimizer="sgd")
    assert net._opt_state["step"] == steps


def test_bad_regularisation_arguments():
    with pytest.raises(ValueError, match=r"dropout rates must be in \[0, 1\)"):
        MLP([2, 3, 1], dropout=1.0)
    with pytest.raises(ValueError, match="2 hidden layers need 2 rates"):
        MLP([2, 3, 3, 1], dropout=[0.1])
    with pytest.raises(ValueError, match="this network has none"):
        MLP([2, 1], dropout=0.2)
    with pytest.raises(ValueError, match="input_noise must be a finite float"):
        MLP([2, 3, 1], input_noise=-0.1)
    with pytest.raises(ValueError, match="l1 must be a finite float"):
        MLP([2, 1]).fit(np.zeros((2, 2)), np.zeros(2), l1=-1, verbose=0, optimizer="sgd", epochs=10)
