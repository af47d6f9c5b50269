"""Golden tests: fastmlp.sklearn against scikit-learn itself, fit for fit.

Both estimators get the same data, parameters and ``random_state``, so they
must draw the same initial weights, the same early-stopping split and the
same per-epoch permutations -- which is itself the test of RNG-order parity --
and then follow the same trajectory.  Compared: coefs_, intercepts_,
loss_curve_, loss_, best_loss_, validation_scores_, best_validation_score_,
n_iter_, t_, the other fitted attributes, predictions, and the
ConvergenceWarnings raised.

Tolerances (fastmlp.testing): float64 runs use the float64 "trajectory"
tolerance (the C GEMMs sum in another order than NumPy/BLAS; after a few
epochs the observed differences are ~1e-15).  float32 runs use the float32
"trajectory" tolerance: both libraries round every operation to float32, in
different orders.  lbfgs runs few iterations (the line search amplifies
rounding differences once it nears convergence) and is held to the same
tolerances; the converged-lbfgs test compares the function value and the
predictions, which a well-conditioned minimum pins down, with the same
trajectory tolerance.
"""
from __future__ import annotations

import io
import pickle
import re
import warnings
from contextlib import redirect_stdout
from functools import lru_cache

import numpy as np
import pytest

pytest.importorskip("sklearn", reason="golden tests compare fastmlp with scikit-learn")
import scipy.sparse as sp  # noqa: E402
from sklearn.datasets import make_classification, make_multilabel_classification, make_regression  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import Perceptron as SkPerceptron  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier as SkMLPC  # noqa: E402
from sklearn.neural_network import MLPRegressor as SkMLPR  # noqa: E402

import fastmlp  # noqa: E402
from fastmlp.sklearn import MLPClassifier, MLPRegressor, Perceptron  # noqa: E402
from fastmlp.testing import assert_close  # noqa: E402

N = 240


@lru_cache(maxsize=None)
def _data(kind: str):
    if kind == "binary":
        return make_classification(N, 10, n_informative=5, random_state=0)
    if kind == "multiclass":
        return make_classification(N, 10, n_classes=3, n_informative=5, random_state=1)
    if kind == "multilabel":
        return make_multilabel_classification(N, 10, n_classes=4, random_state=2)
    X, y = make_regression(N, 10, n_targets=3, noise=0.1, random_state=3)
    y = y / np.abs(y).max()
    if kind == "regression3":
        return X, y
    if kind == "regression1":
        return X, y[:, 0]
    if kind == "poisson":
        return X, np.random.default_rng(4).poisson(np.exp(0.3 * X[:, 0] - 0.2 * X[:, 1]))
    raise ValueError(kind)


def data(kind: str, dtype=np.float64):
    X, y = _data(kind)
    return X.astype(dtype), y


def _fit(est, X, y, method="fit", **kw):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        getattr(est, method)(X, y, **kw)
    conv = [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]
    return est, conv


def fit_pair(sk_cls, fm_cls, X, y, *args, method="fit", fit_kw=None, **params):
    a, wa = _fit(sk_cls(*args, **params), X, y, method, **(fit_kw or {}))
    b, wb = _fit(fm_cls(*args, **params), X, y, method, **(fit_kw or {}))
    assert wa == wb, "ConvergenceWarnings differ"
    return a, b


def assert_same_mlp(a, b, dtype, what=""):
    for name in ("n_iter_", "t_", "n_layers_", "n_outputs_", "out_activation_",
                 "n_features_in_"):
        assert getattr(a, name) == getattr(b, name), f"{what}: {name}"
    if hasattr(a, "classes_"):
        np.testing.assert_array_equal(a.classes_, b.classes_)
    for i, (ca, cb) in enumerate(zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_)):
        assert ca.dtype == cb.dtype and ca.shape == cb.shape, f"{what}: parameter {i}"
        assert_close(cb, ca, dtype, kind="trajectory", what=f"{what}: parameter {i}")
    assert_close(b.loss_, a.loss_, dtype, kind="trajectory", what=f"{what}: loss_")
    if a.solver == "lbfgs":
        return
    assert len(a.loss_curve_) == len(b.loss_curve_)
    assert_close(b.loss_curve_, a.loss_curve_, dtype, kind="trajectory", what=f"{what}: curve")
    if a.early_stopping:
        assert b.best_loss_ is None and a.best_loss_ is None
        assert_close(b.validation_scores_, a.validation_scores_, dtype, kind="trajectory",
                     what=f"{what}: validation_scores_")
        assert_close(b.best_validation_score_, a.best_validation_score_, dtype,
                     kind="trajectory", what=f"{what}: best_validation_score_")
    else:
        assert b.validation_scores_ is None and b.best_validation_score_ is None
        assert_close(b.best_loss_, a.best_loss_, dtype, kind="trajectory", what=f"{what}: best")


SOLVERS = {
    "sgd": dict(solver="sgd", momentum=0.0),
    "sgd_momentum": dict(solver="sgd", momentum=0.9, nesterovs_momentum=False),
    "sgd_nesterov": dict(solver="sgd", momentum=0.9, nesterovs_momentum=True),
    "adam": dict(solver="adam"),
}
COMMON = dict(hidden_layer_sizes=(8, 6), max_iter=6, random_state=7, batch_size=32,
              learning_rate_init=0.01, alpha=1e-3, activation="tanh")


@pytest.mark.parametrize("early_stopping", [False, True], ids=["plain", "early_stopping"])
@pytest.mark.parametrize("solver", list(SOLVERS))
@pytest.mark.parametrize("target", ["binary", "multiclass", "multilabel"])
def test_classifier_stochastic(dtype, target, solver, early_stopping):
    X, y = data(target, dtype)
    a, b = fit_pair(SkMLPC, MLPClassifier, X, y, early_stopping=early_stopping,
                    **{**COMMON, **SOLVERS[solver]})
    assert_same_mlp(a, b, dtype, f"{target}/{solver}")
    np.testing.assert_array_equal(b.predict(X), a.predict(X))
    assert_close(b.predict_proba(X), a.predict_proba(X), dtype, kind="trajectory")
    assert b.predict_proba(X).dtype == a.predict_proba(X).dtype


@pytest.mark.parametrize("target", ["binary", "multiclass", "multilabel"])
def test_classifier_lbfgs(dtype, target):
    X, y = data(target, dtype)
    a, b = fit_pair(SkMLPC, MLPClassifier, X, y, **{**COMMON, "solver": "lbfgs"})
    assert_same_mlp(a, b, dtype, f"{target}/lbfgs")
    assert b.coefs_[0].dtype == np.float64  # scipy's iterate, as scikit-learn's
    assert not hasattr(b, "loss_curve_")


def test_lbfgs_forty_iterations():
    # L-BFGS amplifies rounding differences exponentially on this nonconvex
    # objective (measured: 2e-16 after 5 iterations, 6e-14 after 40, 8e-8
    # after 120, 4e-3 after 160); 40 iterations stay far inside the float64
    # trajectory tolerance
    X, y = data("multiclass")
    a, b = fit_pair(SkMLPC, MLPClassifier, X, y, hidden_layer_sizes=(5,), solver="lbfgs",
                    alpha=1.0, max_iter=40, random_state=0)
    assert_same_mlp(a, b, np.float64, "lbfgs x40")


def test_lbfgs_past_saturation():
    """The line search sees scikit-learn's clipped-probability log-loss: past iteration
    ~20 the largest logit passes 100 (p = 1 - eps is clipped), where a loss from the
    logits sent the two runs 3e-3 apart; both converge at the same iterate."""
    X, y = make_classification(97, 10, n_informative=5, random_state=4)
    for max_iter in (18, 30, 2000):
        a, b = fit_pair(SkMLPC, MLPClassifier, X, y, hidden_layer_sizes=(5,), solver="lbfgs",
                        max_iter=max_iter, random_state=3)
        h = np.maximum(X @ a.coefs_[0] + a.intercepts_[0], 0)
        assert max_iter < 30 or np.abs(h @ a.coefs_[1] + a.intercepts_[1]).max() > 37
        assert_same_mlp(a, b, np.float64, f"lbfgs past saturation x{max_iter}")
    assert a.n_iter_ < 2000
    # the consistent objective (fix_sklearn_bugs) leaves scikit-learn's trajectory there
    d, c = fit_pair(SkMLPC, MLPClassifier, X, y, hidden_layer_sizes=(5,), solver="lbfgs",
                    max_iter=30, random_state=3)
    c = _fit(MLPClassifier(hidden_layer_sizes=(5,), solver="lbfgs", max_iter=30,
                           random_state=3, fix_sklearn_bugs=["lbfgs_clipped_loss"]), X, y)[0]
    assert max(np.abs(u - v).max() for u, v in zip(c.coefs_, d.coefs_)) > 1e-4


#: Converged lbfgs runs are compared by their minimum only: past ~150
#: iterations the two paths have separated (see above) and each stops where
#: scipy's ftol/gtol test fires, in the same basin but not at the same point;
#: on this strongly regularised problem the two function values then agree to
#: ~1e-4 relative (measured 6e-5), so 1e-3 is the bound.
LBFGS_CONVERGED_RTOL = 1e-3


def test_lbfgs_converged_minimum():
    X, y = data("multiclass")
    a, b = fit_pair(SkMLPC, MLPClassifier, X, y, hidden_layer_sizes=(5,), solver="lbfgs",
                    alpha=10.0, max_iter=2000, random_state=0)
    assert a.n_iter_ < 2000 and b.n_iter_ < 2000  # both converged, no warning
    assert b.loss_ == pytest.approx(a.loss_, rel=LBFGS_CONVERGED_RTOL)
    assert np.mean(b.predict(X) == a.predict(X)) > 0.97


@pytest.mark.parametrize("solver", ["sgd_nesterov", "adam", "lbfgs"])
@pytest.mark.parametrize("target", ["regression1", "regression3", "poisson"])
def test_regressor(dtype, target, solver):
    X, y = data(target, dtype)
    params = {**COMMON, **SOLVERS.get(solver, {"solver": solver})}
    params.pop("activation")
    loss = "poisson" if target == "poisson" else "squared_error"
    a, b = fit_pair(SkMLPR, MLPRegressor, X, y, loss, **params)
    assert_same_mlp(a, b, dtype, f"{target}/{solver}")
    assert_close(b.predict(X), a.predict(X), dtype, kind="trajectory")
    assert b.predict(X).shape == a.predict(X).shape and b.predict(X).dtype == a.predict(X).dtype
    assert b.score(X, y) == pytest.approx(a.score(X, y), rel=1e-5)


@pytest.mark.parametrize("target", ["regression1", "regression3"])
def test_regressor_early_stopping(dtype, target):
    X, y = data(target, dtype)
    a, b = fit_pair(SkMLPR, MLPRegressor, X, y, early_stopping=True, validation_fraction=0.2,
                    **{**COMMON, "solver": "adam", "activation": "relu"})
    assert_same_mlp(a, b, dtype, target)


@pytest.mark.parametrize("schedule", [
    dict(solver="sgd", learning_rate="invscaling", power_t=0.3, learning_rate_init=0.5),
    dict(solver="sgd", learning_rate="adaptive", tol=0.2, n_iter_no_change=1),
    dict(solver="sgd", learning_rate="adaptive", tol=0.2, n_iter_no_change=1, early_stopping=True),
    dict(solver="adam", tol=0.05, n_iter_no_change=2, max_iter=50),
    dict(solver="sgd", shuffle=False, batch_size=50),
    dict(solver="adam", batch_size=1000),
], ids=["invscaling", "adaptive", "adaptive_es", "converges", "no_shuffle", "full_batch"])
def test_schedules_and_stopping(schedule):
    X, y = data("multiclass")
    a, b = fit_pair(SkMLPC, MLPClassifier, X, y, **{**COMMON, **schedule})
    assert_same_mlp(a, b, np.float64, str(schedule))
    assert a._optimizer.learning_rate == pytest.approx(b._optimizer.learning_rate, rel=1e-12)


@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
def test_activations(activation):
    X, y = data("binary")
    a, b = fit_pair(SkMLPC, MLPClassifier, X, y, **{**COMMON, "activation": activation})
    assert_same_mlp(a, b, np.float64, activation)


@pytest.mark.parametrize("solver,early_stopping", [
    ("sgd_nesterov", False), ("sgd_nesterov", True), ("adam", False), ("adam", True),
    ("lbfgs", False)])
def test_sample_weight(dtype, solver, early_stopping):
    X, y = data("multiclass", dtype)
    sw = np.random.default_rng(5).uniform(0.1, 3.0, len(y))
    a, b = fit_pair(SkMLPC, MLPClassifier, X, y, fit_kw={"sample_weight": sw},
                    early_stopping=early_stopping,
                    **{**COMMON, **SOLVERS.get(solver, {"solver": solver})})
    assert_same_mlp(a, b, dtype, solver)


def test_partial_fit_sequence(dtype):
    X, y = data("multiclass", dtype)
    a = SkMLPC(**{**COMMON, "solver": "sgd", "learning_rate": "invscaling"})
    b = MLPClassifier(**{**COMMON, "solver": "sgd", "learning_rate": "invscaling"})
    for lo in range(0, N, 60):
        a.partial_fit(X[lo:lo + 60], y[lo:lo + 60], classes=[0, 1, 2])
        b.partial_fit(X[lo:lo + 60], y[lo:lo + 60], classes=[0, 1, 2])
        assert_same_mlp(a, b, dtype, f"partial_fit at {lo}")


def test_regressor_partial_fit_and_warm_start():
    X, y = data("regression3")
    a = SkMLPR(**{**COMMON, "solver": "adam", "activation": "relu", "warm_start": True})
    b = MLPRegressor(**{**COMMON, "solver": "adam", "activation": "relu", "warm_start": True})
    for est in (a, b):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.partial_fit(X, y)
            est.partial_fit(X[:100], y[:100])
            est.fit(X, y)  # warm start: a new optimizer, t_ carried on
            est.set_params(max_iter=9, learning_rate_init=0.02)
            est.fit(X, y)
    assert_same_mlp(a, b, np.float64, "warm start")


@pytest.mark.parametrize("solver", ["sgd_nesterov", "adam", "lbfgs"])
def test_sparse_input(solver):
    X, y = data("multiclass")
    Xs = sp.csr_matrix(np.where(np.abs(X) > 0.8, X, 0.0))
    a, b = fit_pair(SkMLPC, MLPClassifier, Xs, y, **{**COMMON, **SOLVERS.get(solver,
                                                                              {"solver": solver})})
    assert_same_mlp(a, b, np.float64, "sparse")
    assert_close(b.predict_proba(Xs.tocsc()), a.predict_proba(Xs), np.float64, kind="trajectory")


def test_sklearn_hand_worked_step():
    # scikit-learn's test_fit (tests/test_mlp.py): one partial_fit step of a
    # 3-2-1 logistic net from set weights; their expected values to 3 decimals
    X, y = np.array([[0.6, 0.8, 0.7]]), np.array([0])
    results = []
    for cls in (SkMLPC, MLPClassifier):
        m = cls(solver="sgd", learning_rate_init=0.1, alpha=0.1, activation="logistic",
                random_state=1, max_iter=1, hidden_layer_sizes=2, momentum=0)
        m.coefs_ = [np.array([[0.1, 0.2], [0.3, 0.1], [0.5, 0.0]]), np.array([[0.1], [0.2]])]
        m.intercepts_ = [np.array([0.1, 0.1]), np.array([1.0])]
        m.n_outputs_, m.n_layers_, m.out_activation_ = 1, 3, "logistic"
        m.t_, m.best_loss_, m.loss_curve_, m._no_improvement_count = 0, 1e10, [], 0
        m.partial_fit(X, y, classes=[0, 1])
        results.append(m)
    a, b = results
    np.testing.assert_almost_equal(b.coefs_[0], [[0.098, 0.195756], [0.2956664, 0.096008],
                                                 [0.4939998, -0.002244]], decimal=3)
    np.testing.assert_almost_equal(b.coefs_[1], [[0.04706], [0.154089]], decimal=3)
    np.testing.assert_almost_equal(b.intercepts_[0], [0.098333, 0.09626], decimal=3)
    np.testing.assert_almost_equal(b.intercepts_[1], [0.9235], decimal=3)
    np.testing.assert_almost_equal(b.predict_proba(X)[0, 1], 0.739, decimal=3)
    for ca, cb in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        assert_close(cb, ca, np.float64, what="hand-worked step vs scikit-learn")


# --------------------------------------------------------------- known bugs
def test_multioutput_loss_bug_and_fix():
    X, y = data("regression3")
    params = {**COMMON, "solver": "sgd", "alpha": 0.0, "activation": "relu"}
    a, b = fit_pair(SkMLPR, MLPRegressor, X, y, **params)
    assert_same_mlp(a, b, np.float64, "bug reproduced")
    fixed = MLPRegressor(**params, fix_sklearn_bugs=["multioutput_loss"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fixed.fit(X, y)
    # same trajectory (the gradient was right), loss now summed over the 3 outputs
    assert_close(fixed.coefs_[0], a.coefs_[0], np.float64, kind="trajectory")
    assert_close(fixed.loss_curve_, 3 * np.array(a.loss_curve_), np.float64, kind="trajectory")
    # lbfgs: the objective handed to scipy is now the function its gradient belongs to
    lb = MLPRegressor(hidden_layer_sizes=(6,), solver="lbfgs", max_iter=30, random_state=0,
                      fix_sklearn_bugs=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        lb.fit(X, y)
    pred = lb.predict(X)
    w2 = sum(float((c ** 2).sum()) for c in lb.coefs_)
    expect = 0.5 * ((pred - y) ** 2).mean(axis=0).sum() + 0.5 * lb.alpha * w2 / len(y)
    assert lb.loss_ == pytest.approx(expect, rel=1e-10)


def test_stratify_multiclass_fix():
    X, y = data("multiclass")
    params = dict(hidden_layer_sizes=(4,), solver="adam", max_iter=1, random_state=3,
                  early_stopping=True, validation_fraction=0.25)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fixed = MLPClassifier(**params, fix_sklearn_bugs=["stratify_multiclass"]).fit(X, y)
    # replay the random stream: initial weights, then a stratified split
    rs = np.random.RandomState(3)
    for fan_in, fan_out in [(10, 4), (4, 3)]:
        rs.uniform(size=(fan_in, fan_out))
        rs.uniform(size=fan_out)
    Y = np.eye(3, dtype=bool)[y]
    _, X_val, _, Y_val = train_test_split(X, Y, random_state=rs, test_size=0.25, stratify=Y)
    assert np.bincount(Y_val.argmax(1)).tolist() == [20, 20, 20]
    assert fixed.validation_scores_[0] == fixed.score(X_val, Y_val.argmax(1))


def test_restore_best_weights_bug_and_fix():
    X, y = data("binary")
    params = dict(hidden_layer_sizes=(8,), solver="sgd", learning_rate_init=0.05, max_iter=30,
                  early_stopping=True, n_iter_no_change=3, random_state=0, warm_start=True)
    models = [SkMLPC(**params), MLPClassifier(**params),
              MLPClassifier(**params, fix_sklearn_bugs=["restore_best_weights"])]
    best = []
    for m in models:
        m.fit(X, y)
        best.append([c.copy() for c in m.coefs_])
        m.set_params(learning_rate_init=5.0, max_iter=3)  # diverges: never beats its best
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            m.fit(X, y)
    sk, fm, fixed = models
    assert_same_mlp(sk, fm, np.float64, "bug reproduced")
    assert np.abs(sk.coefs_[0] - best[0][0]).max() > 0.1  # scikit-learn: last, not best
    assert fixed.best_validation_score_ == sk.best_validation_score_
    for c, c0 in zip(fixed.coefs_, best[2]):
        np.testing.assert_array_equal(c, c0)


def test_partial_fit_lbfgs_bug_and_fix():
    X, y = data("regression1")
    assert hasattr(SkMLPR(solver="lbfgs"), "partial_fit")
    assert hasattr(MLPRegressor(solver="lbfgs"), "partial_fit")
    assert not hasattr(MLPRegressor(solver="lbfgs", fix_sklearn_bugs=True), "partial_fit")
    assert not hasattr(MLPClassifier(solver="lbfgs"), "partial_fit")
    a, b = fit_pair(SkMLPR, MLPRegressor, X, y, method="partial_fit", hidden_layer_sizes=(5,),
                    solver="lbfgs", max_iter=20, random_state=0)
    assert a.n_iter_ == b.n_iter_ == 20  # a whole lbfgs run, as scikit-learn does
    assert_same_mlp(a, b, np.float64, "partial_fit lbfgs")


# --------------------------------------------------------------- Perceptron
PERCEPTRON_CASES = {
    "default": {},
    "l2": dict(penalty="l2", alpha=1e-3),
    "l1": dict(penalty="l1", alpha=1e-3),
    "elasticnet": dict(penalty="elasticnet", alpha=1e-3, l1_ratio=0.5),
    "early_stopping": dict(early_stopping=True, penalty="l2", alpha=1e-2),
    "balanced": dict(class_weight="balanced", eta0=0.1),
    "no_shuffle_no_intercept": dict(shuffle=False, fit_intercept=False),
    "tol_none": dict(tol=None, max_iter=15),
}


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("case", list(PERCEPTRON_CASES))
@pytest.mark.parametrize("target", ["binary", "multiclass"])
def test_perceptron(dtype, target, case, sparse):
    X, y = data(target, dtype)
    if sparse:
        X = sp.csr_matrix(np.where(np.abs(X) > 0.5, X, 0).astype(dtype))
    sw = np.random.default_rng(6).uniform(0.2, 2.0, len(y))
    a, b = fit_pair(SkPerceptron, Perceptron, X, y, fit_kw={"sample_weight": sw},
                    **PERCEPTRON_CASES[case])
    assert (a.n_iter_, a.t_) == (b.n_iter_, b.t_)
    assert a.coef_.dtype == b.coef_.dtype and a.intercept_.dtype == b.intercept_.dtype
    assert_close(b.coef_, a.coef_, dtype, kind="trajectory", what="coef_")
    assert_close(b.intercept_, a.intercept_, dtype, kind="trajectory", what="intercept_")
    np.testing.assert_array_equal(b.predict(X), a.predict(X))
    assert_close(b.decision_function(X), a.decision_function(X), dtype, kind="trajectory")


def test_perceptron_partial_fit_warm_start_and_inits():
    X, y = data("multiclass")
    rs = np.random.RandomState(0)
    a, b = SkPerceptron(random_state=rs), Perceptron(random_state=np.random.RandomState(0))
    for lo in range(0, N, 80):
        a.partial_fit(X[lo:lo + 80], y[lo:lo + 80], classes=[0, 1, 2])
        b.partial_fit(X[lo:lo + 80], y[lo:lo + 80], classes=[0, 1, 2])
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert a.t_ == b.t_
    coef0, inter0 = np.full((3, 10), 0.1), np.array([0.5, -0.5, 0.0])
    a = SkPerceptron(warm_start=True, max_iter=5)
    b = Perceptron(warm_start=True, max_iter=5)
    for est in (a, b):  # (scikit-learn trains inside the coef_init array it is given)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(X, y, coef_init=coef0.copy(), intercept_init=inter0.copy())
    np.testing.assert_array_equal(a.coef_, b.coef_)
    for est in (a, b):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(X, y)  # warm start from the previous solution
    np.testing.assert_array_equal(a.coef_, b.coef_)
    np.testing.assert_array_equal(a.intercept_, b.intercept_)


def test_perceptron_sparsify_densify():
    X, y = data("multiclass")
    b = Perceptron(penalty="l1", alpha=0.05).fit(X, y)
    dense = b.decision_function(X)
    b.sparsify()
    assert sp.issparse(b.coef_)
    np.testing.assert_allclose(b.decision_function(X), dense, rtol=1e-12)
    b.densify()
    assert isinstance(b.coef_, np.ndarray)


# --------------------------------------------------------------- behaviour
def test_top_level_exports():
    assert fastmlp.MLPClassifier is MLPClassifier and fastmlp.MLPRegressor is MLPRegressor
    assert fastmlp.SGDPerceptron is Perceptron
    assert fastmlp.Perceptron is not Perceptron  # fastmlp's own Rosenblatt perceptron
    with pytest.raises(AttributeError):
        fastmlp.NoSuchThing  # noqa: B018


def test_same_signature_and_defaults_as_sklearn():
    import inspect

    for sk, fm in [(SkMLPC, MLPClassifier), (SkMLPR, MLPRegressor), (SkPerceptron, Perceptron)]:
        ps, pf = inspect.signature(sk).parameters, inspect.signature(fm).parameters
        assert list(pf)[:len(ps)] == list(ps), f"{fm.__name__}: order of scikit-learn's params"
        for name, p in ps.items():
            assert pf[name].default == p.default and pf[name].kind == p.kind, name
        extra = {k: v.default for k, v in pf.items() if k not in ps}
        assert all(v in (None, False, 0.01, 0.0) for v in extra.values()), extra


def test_pickle_and_dtypes():
    X, y = data("multiclass", np.float32)
    b = MLPClassifier(**{**COMMON, "solver": "adam"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        b.fit(X, y)
    assert b.coefs_[0].dtype == np.float32
    c = pickle.loads(pickle.dumps(b))
    np.testing.assert_array_equal(c.predict_proba(X), b.predict_proba(X))
    assert b.predict_proba(X).dtype == np.float32
    assert b.predict_proba(X.astype(np.float64)).dtype == np.float64
    assert c.history_ == b.history_


@pytest.mark.parametrize("make", [
    lambda cls: cls(hidden_layer_sizes=(6,), solver="sgd", learning_rate="adaptive", tol=0.3,
                    n_iter_no_change=1, max_iter=8, random_state=0, verbose=True),
    lambda cls: cls(hidden_layer_sizes=(6,), early_stopping=True, n_iter_no_change=2,
                    max_iter=30, random_state=0, verbose=True),
], ids=["adaptive", "early_stopping"])
def test_verbose_output_is_sklearns(make):
    X, y = data("multiclass")
    outs = []
    for cls in (SkMLPC, MLPClassifier):
        buf = io.StringIO()
        with redirect_stdout(buf):
            _fit(make(cls), X, y)
        outs.append(buf.getvalue())
    assert outs[0] == outs[1] and "Iteration 1, loss" in outs[0]


def test_perceptron_verbose_output_is_sklearns():
    X, y = data("binary")
    outs = []
    for cls in (SkPerceptron, Perceptron):
        buf = io.StringIO()
        with redirect_stdout(buf):
            _fit(cls(penalty="l2", alpha=0.01, verbose=1), X, y)
        outs.append(re.sub(r"\d+\.\d\d seconds", "_ seconds", buf.getvalue()))
    assert outs[0] == outs[1] and "-- Epoch 1" in outs[0]
