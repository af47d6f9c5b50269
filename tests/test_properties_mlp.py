"""Property tests of fastmlp.MLP (hypothesis): every generated call raises a ValueError/TypeError
naming a corrupted argument and leaves the estimator exactly as it was (a deep
snapshot of every attribute), or succeeds with a finite result of the right
shape.  Small nets, reproducible (derandomize=True); the counts are printed at
the end of the module."""
from __future__ import annotations

import os
import sys
import types

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fastmlp import MLP
from fastmlp.callbacks import EarlyStopping

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # (--import-mode=importlib)
from _property_tools import (  # noqa: E402, F401 (report_counts: an autouse fixture)
    SW_INVALID, SW_KINDS, X_INVALID, X_KINDS, Y_INVALID, Y_KINDS,
    check_call, draw_sizes, finite, make_labels, make_sw, make_X, params_case,
    prop_settings, report_counts)

DTYPES = [np.float32, np.float64]
try:  # the all-or-nothing training calls (py-driver's mechanism): asserted once it exists
    from fastmlp._transaction import Transactional
except ImportError:  # pragma: no cover - until fastmlp/_transaction.py lands
    Transactional = None


def _atomic(est) -> bool:
    """Whether a failed call must leave ``est`` unchanged (a transactional estimator)."""
    return Transactional is not None and isinstance(est, Transactional)


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _data(draw, n_min=6):
    return draw_sizes(draw, n_min, 20, 3)


# ---------------------------------------------------------------- fastmlp.MLP
MLP_PARAMS = {
    "activation": (["relu", "tanh", "sigmoid", "leaky_relu"], ["swish", 3, None]),
    "dtype": ([np.float32, np.float64], ["int8", "x"]),
    "seed": ([0, 5], ["a", 1.5, True]),
    "n_threads": ([None, 1, 2, -1], [0, "2", 1.5]),
    "dropout": ([0.0, 0.2], [1.0, -0.1, "x", [0.1, 0.1]]),
    "leaky_slope": ([0.01, 0.3], [-1.0, float("nan")]),
    "init": (["auto", "sklearn"], ["zeros"]),
    "input_noise": ([0.0, 0.1], [-0.5, float("inf")]),
}


@st.composite
def mlp_ctor(draw):
    return params_case(draw, MLP_PARAMS, 11, 5)


@prop_settings(250)
@given(case=mlp_ctor(), layers=st.sampled_from([[3, 4, 2], "3-4-2", [3, 2], [3, 0, 2], [3],
                                               [3, -1, 2], "3-x-2", [3, 2.5, 2]]))
def test_mlp_constructor(case, layers):
    params, bad = case
    if layers in ([3, 0, 2], [3], [3, -1, 2], "3-x-2", [3, 2.5, 2]):
        bad = bad | {"layers"}
    box = types.SimpleNamespace()
    check_call("MLP.__init__", box, lambda: MLP(layers, **params), bad)


FIT_KW = {
    "epochs": ([1, 2], [0, -1, 1.5, "2"]),
    "batch_size": ([None, 1, 4, 1000], [0, -2, 2.5]),
    "learning_rate": ([None, 0.01, 0.5], [0.0, -0.1, float("nan"), float("inf")]),
    "optimizer": (["sgd", "adam", "rmsprop"], ["lbfgs", 3]),
    "l2": ([0.0, 1e-3], [-1.0, float("nan")]),
    "validation_split": ([0.0, 0.25], [1.0, -0.1, "x"]),
    "shuffle": ([True, False], []),
    "callbacks": ([None, [EarlyStopping(patience=1)]], [5, "x", [3]]),
    "verbose": ([0], [5, "loud"]),
}


@st.composite
def fit_kwargs(draw):
    kw, bad = params_case(draw, FIT_KW, 14, 4)
    return {"verbose": 0, **kw}, bad


@prop_settings(200)
@given(data=st.data(), fk=fit_kwargs())
def test_mlp_fit(data, fk):
    n, d, k, rng = _data(data.draw)
    dtype = data.draw(st.sampled_from(DTYPES))
    net = MLP([d, 4, k], seed=0, dtype=dtype, n_threads=1)
    fitted = data.draw(st.booleans())
    if fitted:
        check_call("MLP.fit", net, lambda: net.fit(make_X("ok", n, d, rng),
                                                   make_labels("ok", n, k, rng), epochs=1,
                                                   verbose=0), set())
    xk = data.draw(st.sampled_from([x for x in X_KINDS if x != "features"]))
    # (1-D float labels are regression targets for an unfitted MLP: not drawn here)
    yk = data.draw(st.sampled_from([y for y in Y_KINDS if y not in ("one_class",
                                                                    "float_labels")]))
    swk = data.draw(st.sampled_from(SW_KINDS))
    X, y, sw = make_X(xk, n, d, rng, dtype), make_labels(yk, n, k, rng), make_sw(swk, n, rng)
    kw, bad = fk
    bad = bad | ({"X"} if xk in X_INVALID else set()) | ({"y"} if yk in Y_INVALID else set()) \
        | ({"sample_weight"} if swk in SW_INVALID or swk == "negative" else set())
    if yk == "2d" or (fitted and yk == "str"):  # wrong target shape; classes_ kept from
        bad = bad | {"y"}                          # the first fit (training continues)
    vs = kw.get("validation_split")
    if isinstance(vs, float) and 0 < vs < 1 and round(n * vs) < 1:
        bad = bad | {"validation_split"}
    check_call("MLP.fit", net, lambda: net.fit(X, y, sample_weight=sw, **kw), bad,
               unchanged_on_error=_atomic(net),
               extreme=xk == "huge" or (kw.get("learning_rate") or 0) > 0.1,
               check_result=lambda r: finite(r._params))


@prop_settings(120)
@given(data=st.data())
def test_mlp_inference(data):
    n, d, k, rng = _data(data.draw)
    dtype = data.draw(st.sampled_from(DTYPES))
    net = MLP([d, 4, k], seed=0, dtype=dtype, n_threads=1)
    check_call("MLP.fit", net, lambda: net.fit(make_X("ok", n, d, rng),
                                               make_labels("str", n, k, rng), epochs=1,
                                               verbose=0), set())
    xk = data.draw(st.sampled_from(X_KINDS))
    X = make_X(xk, n, d, rng, dtype)
    bad = {"X"} if xk in X_INVALID else set()

    def rows(r):
        finite(r)
        assert len(r) == len(X)

    for name, call in (("predict", net.predict), ("predict_proba", net.predict_proba),
                       ("forward", net.forward)):
        check_call(f"MLP.{name}", net, lambda: call(X), bad, extreme=xk == "huge",
                   check_result=rows)
    yk = data.draw(st.sampled_from(["ok", "short", "none", "nan", "mixed", "str"]))
    y = make_labels(yk, max(1, len(X)) if hasattr(X, "__len__") else n, k, rng)
    if yk == "ok":
        y = np.array(["c%d" % v for v in y])
        yk = "str"
    bad_y = bad | ({"y"} if yk != "str" else set())
    check_call("MLP.score", net, lambda: net.score(X, y), bad_y, extreme=xk == "huge",
               check_result=lambda r: 0.0 <= r <= 1.0)
    check_call("MLP.evaluate", net, lambda: net.evaluate(X, y), bad_y, extreme=xk == "huge",
               check_result=lambda r: finite(list(r.values())))
