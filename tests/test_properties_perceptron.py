"""Property tests of both Perceptrons' public entry points (hypothesis).

Every generated call either raises a ValueError/TypeError whose message names a
corrupted argument and leaves the estimator exactly as it was (a deep snapshot of
every attribute before and after), or succeeds with a finite result of the right
shape.  Corruptions: NaN/inf/huge/complex/str/None values, wrong shapes and
lengths, bad labels, bad sample weights and inits, bad hyper-parameters.
Reproducible (derandomize=True); the counts go to the end of the test session.
"""
from __future__ import annotations

import os
import sys
import types

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fastmlp import Perceptron
from fastmlp.sklearn import Perceptron as SkPerceptron

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # (--import-mode=importlib)
from _property_tools import (  # noqa: E402, F401 (report_counts: an autouse fixture)
    SW_INVALID, SW_KINDS, X_INVALID, X_KINDS, Y_INVALID, Y_KINDS,
    check_call, draw_sizes, finite, make_labels, make_sw, make_X, params_case,
    prop_settings, report_counts)

DTYPES = [np.float32, np.float64]
# hypothesis' failure report imports a deprecated module: keep the report readable
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _data(draw, n_min=4):
    return draw_sizes(draw, n_min, 24, 4)


# ---------------------------------------------------------------- fastmlp.Perceptron
ROSENBLATT_PARAMS = {
    "eta": ([0.1, 1.0, 3.5, 1e-3], [0, -1.0, float("nan"), float("inf"), "1", True, None]),
    "max_epochs": ([1, 3, 20], [0, -2, 2.5, None, "5"]),
    "seed": ([None, 0, 7], [-1, "x", 1.5]),
    "dtype": (["float32", np.float64], ["int32", "foo", object]),
}


@st.composite
def rosenblatt_case(draw):
    params, bad = {}, set()
    for name, (good, wrong) in ROSENBLATT_PARAMS.items():
        if draw(st.integers(0, 9)) == 0:
            params[name] = draw(st.sampled_from(wrong))
            bad.add(name)
        elif draw(st.booleans()):
            params[name] = draw(st.sampled_from(good))
    return params, bad


@prop_settings(300)
@given(case=rosenblatt_case())
def test_rosenblatt_constructor(case):
    params, bad = case
    box = types.SimpleNamespace()
    check_call("Perceptron.__init__", box, lambda: Perceptron(**params), bad)


@prop_settings(450)
@given(data=st.data())
def test_rosenblatt_fit_predict_score(data):
    n, d, k, rng = _data(data.draw)
    dtype = data.draw(st.sampled_from(DTYPES))
    p = Perceptron(seed=1, max_epochs=data.draw(st.integers(1, 8)), dtype=dtype)
    if data.draw(st.booleans()):  # sometimes a fitted model is the one that must not change
        check_call("Perceptron.fit", p, lambda: p.fit(make_X("ok", n, d, rng),
                                                      make_labels("ok", n, k, rng)), set())
    xk = data.draw(st.sampled_from([x for x in X_KINDS if x != "features"]))
    yk = data.draw(st.sampled_from(Y_KINDS))
    X, y = make_X(xk, n, d, rng, dtype), make_labels(yk, n, k, rng)
    bad = ({"X"} if xk in X_INVALID else set()) | ({"y"} if yk in Y_INVALID else set())
    if yk == "float_labels":
        pass  # float class labels are labels
    check_call("Perceptron.fit", p, lambda: p.fit(X, y), bad, extreme=xk == "huge",
               check_result=lambda r: finite(r.coef_))
    if not hasattr(p, "coef_"):
        return
    xk2 = data.draw(st.sampled_from(X_KINDS))
    X2 = make_X(xk2, n, p.coef_.shape[1] if xk2 != "features" else d, rng, dtype)
    if xk2 == "features":
        X2 = make_X("features", n, p.coef_.shape[1], rng)
    bad2 = {"X"} if xk2 in X_INVALID else set()

    def shape_ok(r):
        finite(r)
        assert len(r) == len(X2)

    check_call("Perceptron.predict", p, lambda: p.predict(X2), bad2, extreme=xk2 == "huge",
               check_result=lambda r: len(r) == len(X2))
    check_call("Perceptron.decision_function", p, lambda: p.decision_function(X2), bad2,
               extreme=xk2 == "huge", check_result=shape_ok)
    yk2 = data.draw(st.sampled_from(["ok", "short", "none", "nan"]))
    y2 = make_labels(yk2, n, k, rng)
    bad3 = bad2 | ({"y"} if yk2 != "ok" else set())
    check_call("Perceptron.score", p, lambda: p.score(X2, y2), bad3, extreme=xk2 == "huge",
               check_result=lambda r: 0.0 <= r <= 1.0)


# ---------------------------------------------------------------- fastmlp.sklearn.Perceptron
SK_PARAMS = {
    "penalty": ([None, "l2", "l1", "elasticnet"], ["l3", 1, "L2"]),
    "alpha": ([0.0, 1e-4, 0.1], [-1.0, float("nan"), "a"]),
    "l1_ratio": ([0.0, 0.15, 1.0], [1.5, -0.1]),
    "max_iter": ([1, 5, 30], [0, -1, 2.5]),
    "tol": ([None, 1e-3, 0.0], [-1.0, "x"]),
    "eta0": ([1.0, 0.1, 1e3], [0.0, -1.0, float("inf")]),
    "n_jobs": ([None, 1, 2, -1], ["two", 1.5]),
    "n_threads": ([None, 1, 2], [0, "x", 2.0]),
    "early_stopping": ([False, True], ["yes", 2]),
    "validation_fraction": ([0.1, 0.3], [0.0, 1.0, 2.0]),
    "n_iter_no_change": ([1, 5], [0, -3]),
    "class_weight": ([None, "balanced"], ["weird", 3]),
    "fit_intercept": ([True, False], [None, "no"]),
    "shuffle": ([True, False], [1.0]),
    "warm_start": ([False, True], ["x"]),
    "random_state": ([0, 3, None], ["seed", 1.5]),
}


@st.composite
def sk_params(draw, p_bad=12):
    params, bad = params_case(draw, SK_PARAMS, p_bad, 4)
    if params.get("random_state", 0) is None:
        params["random_state"] = 0  # results compared below need a fixed seed
    return params, bad


def _sk_fitted(rng, n, d, k, dtype):
    p = SkPerceptron(max_iter=5, tol=None, random_state=0)
    X, y = make_X("ok", n, d, rng, dtype), make_labels("ok", n, k, rng)
    check_call("sklearn.Perceptron.fit", p, lambda: p.fit(X, y), set())
    return p


@prop_settings(400)
@given(data=st.data(), case=sk_params())
def test_sklearn_set_params_fit(data, case):
    n, d, k, rng = _data(data.draw, n_min=12)
    dtype = data.draw(st.sampled_from(DTYPES))
    p = _sk_fitted(rng, n, d, k, dtype) if data.draw(st.booleans()) else SkPerceptron()
    params, bad = case
    check_call("sklearn.Perceptron.set_params", p, lambda: p.set_params(**params), set())
    xk = data.draw(st.sampled_from([x for x in X_KINDS if x != "features"]))
    yk = data.draw(st.sampled_from(Y_KINDS))
    swk = data.draw(st.sampled_from(SW_KINDS))
    X, y, sw = make_X(xk, n, d, rng, dtype), make_labels(yk, n, k, rng), make_sw(swk, n, rng)
    bad = bad | ({"X"} if xk in X_INVALID else set()) | ({"y"} if yk in Y_INVALID else set()) \
        | ({"sample_weight"} if swk in SW_INVALID else set())
    init = data.draw(st.sampled_from(["none", "ok", "nan", "shape"]))
    kw = {}
    if init != "none":
        kk = 1 if k == 2 else k
        coef = rng.standard_normal((kk, d))
        if init == "nan":
            coef[0, 0] = np.nan
            bad = bad | {"coef_init"}
        elif init == "shape":
            coef = coef[:, :-1] if d > 1 else np.ones((kk, 3))
            bad = bad | {"coef_init", "coef_"}  # scikit-learn's "Provided ``coef_``" wording
        kw["coef_init"] = coef
    check_call("sklearn.Perceptron.fit", p, lambda: p.fit(X, y, sample_weight=sw, **kw), bad,
               extreme=xk == "huge" or swk == "negative" or "eta0" in params,
               check_result=lambda r: finite(r.coef_))


@prop_settings(350)
@given(data=st.data())
def test_sklearn_partial_fit_predict_score(data):
    n, d, k, rng = _data(data.draw, n_min=6)
    dtype = data.draw(st.sampled_from(DTYPES))
    p = SkPerceptron(random_state=0)
    classes = np.arange(k)
    first = data.draw(st.sampled_from(["ok", "missing", "nan", "none"]))
    cls_arg = {"ok": classes, "missing": None, "nan": np.array([0.0, np.nan]),
               "none": np.array([None, 1], dtype=object)}[first]
    bad = set() if first == "ok" else {"classes"}
    X, y = make_X("ok", n, d, rng, dtype), make_labels("ok", n, k, rng)
    check_call("sklearn.Perceptron.partial_fit", p,
               lambda: p.partial_fit(X, y, classes=cls_arg), bad)
    if not hasattr(p, "coef_"):
        return
    xk = data.draw(st.sampled_from(X_KINDS))
    yk = data.draw(st.sampled_from([y for y in Y_KINDS if y not in ("str", "one_class")]))
    X2 = make_X(xk, n, d, rng, dtype)
    y2 = make_labels(yk, n, k, rng)
    bad = ({"X"} if xk in X_INVALID else set()) | ({"y"} if yk in Y_INVALID else set())
    check_call("sklearn.Perceptron.partial_fit", p, lambda: p.partial_fit(X2, y2), bad,
               extreme=xk == "huge", check_result=lambda r: finite(r.coef_))
    bad_x = {"X"} if xk in X_INVALID else set()
    check_call("sklearn.Perceptron.predict", p, lambda: p.predict(X2), bad_x,
               extreme=xk == "huge", check_result=lambda r: len(r) == len(X2))
    check_call("sklearn.Perceptron.decision_function", p, lambda: p.decision_function(X2),
               bad_x, extreme=xk == "huge", check_result=finite)
    yk3 = data.draw(st.sampled_from(["ok", "short", "nan"]))
    y3 = make_labels(yk3, max(1, len(X2)) if hasattr(X2, "__len__") else n, k, rng)
    check_call("sklearn.Perceptron.score", p, lambda: p.score(X2, y3),
               bad_x | ({"y", "y_true", "y_pred"} if yk3 != "ok" else set()),
               extreme=xk == "huge", check_result=lambda r: 0.0 <= r <= 1.0)
