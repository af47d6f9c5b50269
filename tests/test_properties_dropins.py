"""Property tests of the scikit-learn drop-ins (hypothesis): MLPClassifier, MLPRegressor
and, for what tests/test_properties_perceptron.py leaves out (refits with new labels,
thread counts), Perceptron.

Every generated call either raises a ValueError/TypeError whose message names a
corrupted argument and leaves the estimator exactly as it was (a deep snapshot of
every attribute, objects such as the label binarizer and the optimizer schedule
compared by their own attributes), or succeeds with finite weights and results of
the right shape.  Corruptions: bad shapes, NaN/inf/complex/object/str values in X, y
and sample_weight, bad hyper-parameters through set_params (on fitted and unfitted
estimators, with and without warm_start), refits and partial fits with new labels,
huge values (a DivergenceError, which leaves the model as it was, or a
ForwardOverflowError are then right answers too), thread counts from -200000 to
200000.  Small networks, reproducible (derandomize=True); the case counts are
printed at the end of the module.
"""
from __future__ import annotations

import os
import sys
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fastmlp import DivergenceError
from fastmlp.sklearn import MLPClassifier, MLPRegressor, Perceptron

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # (--import-mode=importlib)
from _property_tools import (  # noqa: E402, F401 (report_counts: an autouse fixture)
    SW_INVALID, SW_KINDS, X_INVALID, X_KINDS, Y_INVALID, Y_KINDS,
    check_call, diff, draw_sizes, finite, make_labels, make_sw, make_X, params_case,
    prop_settings, report_counts, snapshot)

DTYPES = [np.float32, np.float64]
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

#: name -> (valid values, invalid values); hyper-parameters of both MLP drop-ins
MLP_PARAMS = {
    "hidden_layer_sizes": ([(3,), (4, 2), 5], [(0,), (-1,), "x", (2.5,)]),
    "activation": (["relu", "tanh", "logistic", "identity", "leaky_relu"], ["swish", 3, None]),
    "solver": (["adam", "sgd", "lbfgs", "rmsprop"], ["newton", 1]),
    "alpha": ([0.0, 1e-4, 1.0], [-1.0, float("nan"), float("inf"), "a"]),
    "batch_size": (["auto", 1, 5, 1000], [0, -2, 2.5, "big"]),
    "learning_rate": (["constant", "invscaling", "adaptive"], ["fast"]),
    "learning_rate_init": ([1e-3, 0.1], [0.0, -0.1, float("inf"), float("nan")]),
    "max_iter": ([1, 3], [0, -1, 2.5]),
    "tol": ([1e-4, 0.0], [-1.0, float("nan")]),
    "momentum": ([0.0, 0.9], [1.5, -0.1]),
    "early_stopping": ([False, True], ["yes"]),
    "validation_fraction": ([0.2, 0.3], [1.0, -0.1]),
    "n_iter_no_change": ([1, 10], [0]),
    "n_threads": ([None, 1, 2, -1, -200000, 200000], [0, "2", 1.5]),
    "dropout": ([0.0, 0.2], [1.0, -0.1]),
    "random_state": ([0, 3], ["seed", 1.5]),
    "warm_start": ([False, True], ["x"]),
    "shuffle": ([True, False], [None]),
    "epsilon": ([1e-8], [0.0]),
    "beta_1": ([0.9], [1.0]),
    "fix_sklearn_bugs": ([False, True], [["nope"], "x"]),
}
#: regression targets: kind -> invalid?  ('huge' is finite: training may diverge)
R_KINDS = {"ok": False, "int": False, "2d": False, "huge": False, "nan": True, "inf": True,
           "complex": True, "str": True, "none": True, "short": True, "long": True}


def _data(draw, n_min=12):
    return draw_sizes(draw, n_min, 24, 3)


def make_targets(kind: str, n: int, rng: np.random.Generator):
    y = rng.standard_normal(n)
    if kind == "int":
        return rng.integers(0, 5, n)
    if kind == "2d":
        return np.stack([y, -y], axis=1)
    if kind == "huge":
        return y * 1e200
    if kind in ("nan", "inf"):
        y[rng.integers(n)] = np.nan if kind == "nan" else np.inf
    elif kind == "complex":
        return y * (1 + 1j)
    elif kind == "str":
        return np.array(["a"] * n)
    elif kind == "none":
        y = y.astype(object)
        y[0] = None
    elif kind == "short":
        return y[:-1]
    elif kind == "long":
        return np.concatenate([y, y[:2]])
    return y


@st.composite
def mlp_params(draw):
    return params_case(draw, MLP_PARAMS, 24, 4)


def _small(cls, **kw):
    return cls(hidden_layer_sizes=(3,), max_iter=2, random_state=0, n_threads=1, **kw)


def _draw_case(data, solvers: list) -> tuple:
    """(n, d, k, rng, class, dtype, an unfitted small estimator of one of ``solvers``)."""
    n, d, k, rng = _data(data.draw, n_min=6)
    cls = data.draw(st.sampled_from([MLPClassifier, MLPRegressor]))
    dtype = data.draw(st.sampled_from(DTYPES))
    return n, d, k, rng, cls, dtype, _small(cls, solver=data.draw(st.sampled_from(solvers)))


def _weights_finite(est) -> None:
    for a in list(est.coefs_) + list(est.intercepts_):
        finite(a)


# ---------------------------------------------------------------- fit after set_params
@prop_settings(260)
@given(data=st.data(), case=mlp_params())
def test_mlp_dropins_set_params_fit(data, case):
    n, d, k, rng = _data(data.draw)
    cls = data.draw(st.sampled_from([MLPClassifier, MLPRegressor]))
    clf = cls is MLPClassifier
    dtype = data.draw(st.sampled_from(DTYPES))
    est = _small(cls)
    fitted = data.draw(st.booleans())
    y0 = make_labels("ok", n, k, rng) if clf else make_targets("ok", n, rng)
    if fitted:
        check_call(f"{cls.__name__}.fit", est, lambda: est.fit(make_X("ok", n, d, rng, dtype), y0),
                   set(), check_result=_weights_finite)
    params, bad = case
    check_call(f"{cls.__name__}.set_params", est, lambda: est.set_params(**params), set())
    xk = data.draw(st.sampled_from([x for x in X_KINDS if x != "features"]))
    swk = data.draw(st.sampled_from(SW_KINDS))
    X, sw = make_X(xk, n, d, rng, dtype), make_sw(swk, n, rng)
    bad = bad | ({"X"} if xk in X_INVALID else set()) \
        | ({"sample_weight"} if swk in SW_INVALID else set())
    extreme = xk == "huge"
    if clf:
        yk = data.draw(st.sampled_from(Y_KINDS))
        y = make_labels(yk, n, k, rng)
        if yk in Y_INVALID - {"2d", "one_class"} or (yk == "2d" and k > 2):
            bad = bad | {"y"}
    else:
        yk = data.draw(st.sampled_from(sorted(R_KINDS)))
        y = make_targets(yk, n, rng)
        bad = bad | ({"y"} if R_KINDS[yk] or (yk == "huge" and dtype == np.float32) else set())
        extreme = extreme or yk == "huge"  # (float32 weights cannot hold such targets)
    warm = fitted and params.get("warm_start") is True and not bad
    if warm:  # training goes on from the fitted network: it must fit the data
        if clf and yk in ("str", "2d", "one_class"):
            bad = bad | {"y"}
        if not clf and yk == "2d":
            bad = bad | {"y"}
        if "hidden_layer_sizes" in params and params["hidden_layer_sizes"] != (3,):
            bad = bad | {"hidden_layer_sizes"}
    lr = params.get("learning_rate_init", 0)
    extreme = extreme or lr >= 0.1 or swk == "negative"
    check_call(f"{cls.__name__}.fit", est, lambda: est.fit(X, y, sample_weight=sw), bad,
               extreme=extreme, check_result=_weights_finite)


# ---------------------------------------------------------------- partial_fit
@prop_settings(200)
@given(data=st.data())
def test_mlp_dropins_partial_fit(data):
    n, d, k, rng, cls, dtype, est = _draw_case(data, ["sgd", "adam"])
    clf = cls is MLPClassifier
    X = make_X("ok", n, d, rng, dtype)
    if clf:
        first = data.draw(st.sampled_from(["ok", "ok", "missing", "nan", "none", "fewer"]))
        classes = {"ok": np.arange(k), "missing": None, "nan": np.array([0.0, np.nan]),
                   "none": np.array([None, 1], dtype=object), "fewer": np.arange(k - 1)}[first]
        bad = set() if first == "ok" else {"classes", "y"}
        check_call("MLPClassifier.partial_fit", est,
                   lambda: est.partial_fit(X, make_labels("ok", n, k, rng), classes=classes), bad,
                   check_result=_weights_finite)
    else:
        check_call("MLPRegressor.partial_fit", est,
                   lambda: est.partial_fit(X, make_targets("ok", n, rng)), set(),
                   check_result=_weights_finite)
    if not hasattr(est, "coefs_"):
        return
    xk = data.draw(st.sampled_from(X_KINDS))
    swk = data.draw(st.sampled_from(SW_KINDS))
    X2, sw = make_X(xk, n, d, rng, dtype), make_sw(swk, n, rng)
    bad = ({"X"} if xk in X_INVALID else set()) | ({"sample_weight"} if swk in SW_INVALID
                                                    else set())
    extreme = xk == "huge" or swk == "negative"
    if clf:
        yk = data.draw(st.sampled_from(Y_KINDS + ["new_label"]))
        y2 = make_labels("ok" if yk == "new_label" else yk, n, k, rng)
        if yk == "new_label":
            y2 = y2.copy()
            y2[0] = k + 5  # a class partial_fit was not told about
        if yk in Y_INVALID or yk in ("new_label", "str"):
            bad = bad | {"y"}
    else:
        yk = data.draw(st.sampled_from(sorted(R_KINDS)))
        y2 = make_targets(yk, n, rng)
        if R_KINDS[yk] or yk == "2d" or (yk == "huge" and dtype == np.float32):
            bad = bad | {"y"}  # (2d: the network has one output)
        extreme = extreme or yk == "huge"
    check_call(f"{cls.__name__}.partial_fit", est, lambda: est.partial_fit(X2, y2, sample_weight=sw),
               bad, extreme=extreme, check_result=_weights_finite)


# ---------------------------------------------------------------- inference
@prop_settings(150)
@given(data=st.data())
def test_mlp_dropins_inference(data):
    n, d, k, rng, cls, dtype, est = _draw_case(data, ["lbfgs", "adam"])
    clf = cls is MLPClassifier
    y0 = make_labels("str", n, k, rng) if clf else make_targets("ok", n, rng)
    check_call(f"{cls.__name__}.fit", est, lambda: est.fit(make_X("ok", n, d, rng, dtype), y0),
               set())
    xk = data.draw(st.sampled_from(X_KINDS))
    X = make_X(xk, n, d, rng, dtype)
    bad = {"X"} if xk in X_INVALID else set()
    m = len(X) if hasattr(X, "__len__") else n

    def rows(r):
        finite(r)
        assert len(r) == m

    calls = [("predict", est.predict)] + ([("predict_proba", est.predict_proba)] if clf else [])
    for name, call in calls:
        check_call(f"{cls.__name__}.{name}", est, lambda: call(X), bad, extreme=xk == "huge",
                   check_result=rows)
    yk = data.draw(st.sampled_from(["ok", "short", "nan", "none"]))
    if clf:
        y = make_labels("str" if yk == "ok" else yk, max(1, m), k, rng)
    else:
        y = make_targets(yk, max(1, m), rng)
    bad_y = bad | ({"y"} if yk != "ok" else set())
    check_call(f"{cls.__name__}.score", est, lambda: est.score(X, y), bad_y,
               extreme=xk == "huge", check_result=lambda r: finite(r))


# ---------------------------------------------------------------- refits with new labels
@prop_settings(120)
@given(data=st.data())
def test_refit_with_new_labels(data):
    """A refit on another label set replaces the classes; a failing one keeps the old."""
    n, d, k, rng = _data(data.draw)
    cls = data.draw(st.sampled_from([MLPClassifier, Perceptron]))
    est = _small(cls) if cls is MLPClassifier else Perceptron(max_iter=3, n_threads=1)
    dtype = data.draw(st.sampled_from(DTYPES))
    X = make_X("ok", n, d, rng, dtype)
    check_call(f"{cls.__name__}.fit", est, lambda: est.fit(X, make_labels("ok", n, k, rng)), set())
    k2 = data.draw(st.integers(2, 4))
    y2 = make_labels("str", n, k2, rng)
    failure = data.draw(st.sampled_from(["none", "sw_nan", "sw_complex", "X_nan", "threads"]))
    sw = {"sw_nan": make_sw("nan", n, rng), "sw_complex": make_sw("complex", n, rng)}.get(failure)
    X2 = make_X("nan", n, d, rng, dtype) if failure == "X_nan" else X
    if failure == "threads":
        est.set_params(n_threads=0)
    bad = {"none": set(), "sw_nan": {"sample_weight"}, "sw_complex": {"sample_weight"},
           "X_nan": {"X"}, "threads": {"n_threads"}}[failure]
    result = check_call(f"{cls.__name__}.fit", est, lambda: est.fit(X2, y2, sample_weight=sw),
                        bad)
    if failure == "none":
        assert result is est and list(est.classes_) == sorted(set(y2))
    else:
        assert len(est.classes_) == k  # the first fit's classes


# ---------------------------------------------------------------- divergence (targets x 1e200)
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize("fitted", [False, True])
def test_regression_on_huge_targets_raises_divergence_and_keeps_the_model(solver, fitted):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))
    y = X @ [1.0, -2.0, 0.5]
    est = MLPRegressor(hidden_layer_sizes=(8,), solver=solver, max_iter=5, random_state=0,
                       warm_start=True)
    if fitted:
        with pytest.warns(Warning):  # (ConvergenceWarning: 5 iterations)
            est.fit(X, y)
    before = snapshot(est)
    with pytest.raises(DivergenceError, match="non-finite"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (lbfgs warns that it stopped before raising)
        est.fit(X, y * 1e200)
    assert not diff(before, snapshot(est))
