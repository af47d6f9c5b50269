"""Bad input gets a clear ValueError naming the argument -- never a crash or silent NaNs."""
from __future__ import annotations

import numpy as np
import pytest

from fastmlp import MLP, Perceptron

rng = np.random.default_rng(0)
X = rng.standard_normal((20, 3))
y = rng.integers(0, 2, 20)


@pytest.mark.parametrize("layers,match", [
    ([3], "at least an input and an output"),
    ([3, 0, 2], "positive ints"),
    ([3, -1, 2], "positive ints"),
    ("3-x-2", "look like"),
    ([3, 2.5, 2], "positive ints"),
    ("abc", "look like"),
])
def test_bad_layers(layers, match):
    with pytest.raises(ValueError, match=match):
        MLP(layers)


@pytest.mark.parametrize("kwargs,match", [
    ({"activation": "swish"}, "unknown hidden activation 'swish'"),
    ({"activation": "softmax"}, "unknown hidden activation"),
    ({"activation": ["relu", "tanh"]}, "1 hidden layers need 1 activations"),
    ({"loss": "hinge"}, "unknown loss 'hinge'"),
    ({"output_activation": "wavy"}, "unknown output activation"),
    ({"loss": "cce", "output_activation": "sigmoid"}, "conflicts"),
    ({"loss": "mse", "output_activation": "softmax"}, "only supported with loss='cce'"),
    ({"dtype": np.int32}, "dtype must be float32 or float64"),
    ({"leaky_slope": -0.1}, "leaky_slope"),
    ({"n_threads": 0}, "n_threads must not be 0"),
    ({"seed": "x"}, "seed must be an int"),
    ({"init": "zeros"}, "init must be"),
])
def test_bad_constructor_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MLP([3, 4, 2], **kwargs)


def test_cce_needs_two_outputs():
    with pytest.raises(ValueError, match="at least 2 outputs"):
        MLP([3, 1], loss="cce")


@pytest.mark.parametrize("Xbad,match", [
    (np.ones((20, 4)), "X has 4 features, but the model expects 3"),
    (np.ones(3), "2-D array"),
    (np.ones((0, 3)), "0 samples"),
    (np.full((20, 3), np.nan), "NaN"),
    (np.full((20, 3), np.inf), "infinity"),
    ([["a", "b", "c"]] * 20, "must be numeric"),
])
def test_bad_X(Xbad, match):
    with pytest.raises(ValueError, match=match):
        MLP([3, 4, 2], seed=0).fit(Xbad, y, verbose=0, optimizer="sgd", epochs=10)


@pytest.mark.parametrize("ybad,match", [
    (np.arange(20) % 3 + 5, "3 classes but the network has 2 outputs"),
    (y[:10], "different numbers of samples"),
    (np.full((20, 2), 0.5) * [1, np.nan], "NaN"),
    (np.full((20, 2), 2.0), r"targets in \[0, 1\]"),
    (np.ones((20, 3)), r"shape \(20, 2\)"),
])
def test_bad_y(ybad, match):
    with pytest.raises(ValueError, match=match):
        MLP([3, 4, 2], seed=0, loss="cce").fit(X, ybad, verbose=0, optimizer="sgd", epochs=10)


def test_unknown_labels_at_evaluation():
    net = MLP([3, 4, 2], seed=0).fit(X, np.where(y == 1, "cat", "dog"), epochs=1, verbose=0,
                                     optimizer="sgd")
    with pytest.raises(ValueError, match="labels the model cannot represent: \\['cow'\\]"):
        net.evaluate(X[:2], ["cat", "cow"])


@pytest.mark.parametrize("kw,match", [
    ({"epochs": 0}, "epochs must be a positive int"),
    ({"batch_size": 0}, "batch_size must be a positive int"),
    ({"learning_rate": -1.0}, "learning_rate must be a finite float > 0"),
    ({"learning_rate": float("nan")}, "learning_rate"),
    ({"l2": -1}, "l2 must be"),
    ({"optimizer": "lbfgs-ish"}, "unknown optimizer"),
    ({"validation_split": 1.5}, "validation_split must be in"),
    ({"sample_weight": np.ones(3)}, "sample_weight must be 20"),
    ({"sample_weight": -np.ones(20)}, "sample_weight"),
])
def test_bad_fit_arguments(kw, match):
    net = MLP([3, 4, 2], seed=0)
    before = net._params.copy()
    with pytest.raises(ValueError, match=match):
        net.fit(X, y, verbose=0, **kw)
    assert np.array_equal(net._params, before)  # nothing half-updated


def test_integer_and_noncontiguous_input_is_converted():
    Xi = rng.integers(0, 5, (40, 6))[:, ::2]  # int64, non-contiguous
    assert not Xi.flags.c_contiguous
    net = MLP([3, 4, 2], seed=0).fit(Xi, rng.integers(0, 2, 40), epochs=2, verbose=0,
                                     optimizer="sgd")
    assert net.predict(Xi).shape == (40,)
    assert net.predict(Xi.tolist()).shape == (40,)


def test_divergence_is_reported_and_the_model_restored():
    Xbig = rng.standard_normal((50, 3)) * 1e4
    net = MLP([3, 8, 1], loss="mse", seed=0, dtype=np.float32)
    net.fit(Xbig, Xbig[:, :1], epochs=1, learning_rate=1e-12, verbose=0, optimizer="sgd")
    good = net._params.copy()
    with pytest.raises(FloatingPointError, match="diverged"):
        net.fit(Xbig, Xbig[:, :1] * 1e30, epochs=5, learning_rate=1e6, verbose=0, optimizer="sgd")
    assert np.isfinite(net._params).all()
    assert np.array_equal(net._params, good)


def test_predict_before_fit_with_auto_loss():
    with pytest.raises(ValueError, match="fit it first"):
        MLP([3, 2]).predict(X)


def test_regression_model_has_no_predict_proba():
    net = MLP([3, 4, 1], loss="mse", seed=0).fit(X, X[:, 0], epochs=2, verbose=0, optimizer="sgd")
    with pytest.raises(ValueError, match="predict_proba needs a classification loss"):
        net.predict_proba(X)


def test_perceptron_bad_input():
    with pytest.raises(ValueError, match="at least 2 classes"):
        Perceptron().fit(X, np.zeros(20))
    with pytest.raises(ValueError, match="eta must be"):
        Perceptron(eta=0)
    with pytest.raises(ValueError, match="not fitted"):
        Perceptron().predict(X)
    p = Perceptron(max_epochs=5).fit(X[:, :1] * [1], (X[:, 0] > 0).astype(int))
    with pytest.raises(ValueError, match="X has 3 features, but the model expects 1"):
        p.predict(X)
