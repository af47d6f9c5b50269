"""scikit-learn's estimator checks, meta-estimator integration and the fastmlp extensions.

``parametrize_with_checks`` runs scikit-learn's own estimator test suite on
the three drop-ins.  The MLPs pass every check; Perceptron's two expected
failures are listed with their reason in EXPECTED_FAILED_CHECKS; the only skips are scikit-learn's own, each with its written reason
(array-API input is skipped unless SCIPY_ARRAY_API=1 is set before scipy is
imported -- test_array_api_check_in_a_subprocess runs it that way; the
decision_function multilabel check is skipped because MLPClassifier, like
scikit-learn's, has no decision_function).
"""
from __future__ import annotations

import io
import os
import pickle
import subprocess
import sys
import warnings
from contextlib import redirect_stdout

import numpy as np
import pytest

pytest.importorskip("sklearn", reason="the scikit-learn drop-ins need scikit-learn")
from sklearn.base import clone  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402
from sklearn.neural_network import MLPClassifier as SkMLPC  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from fastmlp.sklearn import SKLEARN_BUG_FIXES, MLPClassifier, MLPRegressor, Perceptron  # noqa: E402
from fastmlp.testing import assert_close  # noqa: E402

#: estimator -> {check name: written reason}.  The MLPs pass every check.
#: Perceptron fails the sample-weight equivalence checks exactly as
#: scikit-learn's own Perceptron does (scikit-learn lists the same expected
#: failures for it in sklearn/utils/_test_common/instance_generator.py): a
#: weight scales one per-sample SGD step, while a repeated row takes two
#: sequential steps (and moves the shuffle), so the fits differ.
_PERCEPTRON_SW = ("sample_weight is not equivalent to removing/repeating samples for per-sample "
                  "SGD (scikit-learn's Perceptron fails it the same way)")
EXPECTED_FAILED_CHECKS: dict[str, dict[str, str]] = {
    "Perceptron": {"check_sample_weight_equivalence_on_dense_data": _PERCEPTRON_SW,
                   "check_sample_weight_equivalence_on_sparse_data": _PERCEPTRON_SW},
}

# max_iter as in scikit-learn's own test configuration of these estimators
# (sklearn/utils/_test_common/instance_generator.py), to keep the suite fast;
# one thread: the checks fit many tiny problems, where OpenMP's fork/join
# (and its spin-waiting on a busy machine) costs more than it saves
ESTIMATORS = [MLPClassifier(max_iter=100, n_threads=1), MLPRegressor(max_iter=100, n_threads=1),
              Perceptron(max_iter=5, n_threads=1)]


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS.get(
    type(est).__name__, {}))
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.mark.slow  # a fresh interpreter importing scikit-learn: 17 s under load here
def test_array_api_check_in_a_subprocess():
    # the check needs SCIPY_ARRAY_API=1 before scipy is first imported
    code = (
        "import warnings; warnings.simplefilter('ignore')\n"
        "from sklearn.utils.estimator_checks import check_array_api_input\n"
        "from fastmlp.sklearn import MLPClassifier, MLPRegressor, Perceptron\n"
        "for e in [MLPClassifier(max_iter=100, n_threads=1), "
        "MLPRegressor(max_iter=100, n_threads=1), Perceptron(max_iter=5)]:\n"
        "    check_array_api_input(type(e).__name__, e, array_namespace='numpy', "
        "expect_only_array_outputs=False)\n"
        "print('passed')\n")
    env = {**os.environ, "SCIPY_ARRAY_API": "1"}
    sys_path = os.pathsep.join(p for p in sys.path if p)
    env["PYTHONPATH"] = sys_path
    # cwd = where the tested fastmlp lives: `python -c` puts the cwd first on
    # sys.path, which from a source checkout would shadow the built package
    import fastmlp

    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=600, check=False,
                         cwd=os.path.dirname(os.path.dirname(fastmlp.__file__)))
    assert out.returncode == 0 and out.stdout.strip() == "passed", out.stderr[-2000:]


def _clf_data(n=200, dtype=np.float64):
    X, y = make_classification(n, 8, n_informative=4, n_classes=3, random_state=0)
    return X.astype(dtype), y


def quiet_fit(est, X, y, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, **kw)


# ------------------------------------------------------------------ meta-estimators
def test_pipeline_gridsearch_cross_val_score_clone():
    X, y = _clf_data()
    pipe = make_pipeline(StandardScaler(), MLPClassifier((8,), max_iter=30, random_state=0,
                                                         learning_rate_init=0.01))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = cross_val_score(pipe, X, y, cv=3)
        grid = GridSearchCV(pipe, {"mlpclassifier__alpha": [1e-4, 1e-1],
                                   "mlpclassifier__solver": ["adam", "lbfgs"]}, cv=3).fit(X, y)
    assert scores.shape == (3,) and scores.mean() > 0.6
    assert grid.best_score_ > 0.6 and set(grid.best_params_) == {"mlpclassifier__alpha",
                                                                 "mlpclassifier__solver"}
    c = clone(grid.best_estimator_)
    assert c.get_params()["mlpclassifier__alpha"] == grid.best_params_["mlpclassifier__alpha"]
    assert not hasattr(c[-1], "coefs_")
    restored = pickle.loads(pickle.dumps(grid.best_estimator_))
    np.testing.assert_array_equal(restored.predict_proba(X), grid.predict_proba(X))


def test_gridsearch_matches_sklearn_scores():
    X, y = _clf_data()
    params = {"alpha": [1e-4, 1e-2], "hidden_layer_sizes": [(4,), (8,)]}
    res = []
    for cls in (SkMLPC, MLPClassifier):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            res.append(GridSearchCV(cls(max_iter=20, random_state=0), params, cv=3).fit(X, y))
    assert res[0].best_params_ == res[1].best_params_
    assert_close(res[1].cv_results_["mean_test_score"], res[0].cv_results_["mean_test_score"],
                 np.float64, kind="trajectory")


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_float32_trains_in_float32(solver):
    X, y = _clf_data(dtype=np.float32)
    m = quiet_fit(MLPClassifier((8,), solver=solver, max_iter=5, random_state=0), X, y)
    # scikit-learn's lbfgs ends with scipy's float64 iterate; sgd/adam keep float32
    want = np.float64 if solver == "lbfgs" else np.float32
    assert all(c.dtype == want for c in m.coefs_ + m.intercepts_)
    r = quiet_fit(MLPRegressor(hidden_layer_sizes=(8,), solver=solver, max_iter=5,
                               random_state=0), X, y.astype(np.float32))
    assert r.predict(X).dtype == want


# ------------------------------------------------------------------ extensions
def test_history_and_validation_data():
    X, y = _clf_data()
    m = quiet_fit(MLPClassifier((8,), max_iter=4, random_state=0), X[:150], y[:150],
                  validation_data=(X[150:], y[150:]))
    h = m.history_
    assert h["loss"] == pytest.approx(m.loss_curve_, rel=1e-15)
    assert len(h["val_loss"]) == len(h["val_score"]) == len(h["accuracy"]) == 4
    assert h["val_score"][-1] == pytest.approx(m.score(X[150:], y[150:]))
    # validation data does not change training
    ref = quiet_fit(MLPClassifier((8,), max_iter=4, random_state=0), X[:150], y[:150])
    np.testing.assert_array_equal(ref.coefs_[0], m.coefs_[0])
    # the validation loss is the data loss on (X_val, y_val)
    p = m.predict_proba(X[150:])
    want = -np.mean(np.log(p[np.arange(50), y[150:]]))
    assert h["val_loss"][-1] == pytest.approx(want, rel=1e-9)


def test_history_with_early_stopping_has_validation_loss():
    X, y = _clf_data()
    m = quiet_fit(MLPClassifier((8,), max_iter=5, early_stopping=True, random_state=0), X, y)
    assert m.history_["val_score"] == pytest.approx(m.validation_scores_, rel=1e-15)
    assert len(m.history_["val_loss"]) == m.n_iter_


def test_progress_bar_and_verbose(capsys):
    X, y = _clf_data()
    quiet_fit(MLPClassifier((8,), max_iter=2, random_state=0, progress_bar=True), X, y)
    err = capsys.readouterr().err.splitlines()
    assert err[0].split()[:3] == ["epoch", "loss", "accuracy"]
    assert [line.split()[0] for line in err[1:3]] == ["1", "2"]
    buf = io.StringIO()
    with redirect_stdout(buf):
        quiet_fit(MLPClassifier((8,), max_iter=2, random_state=0, verbose=True), X, y)
    assert "Iteration 1, loss = " in buf.getvalue()


def test_leaky_relu_and_step_activations():
    X, y = _clf_data()
    kw = dict(max_iter=30, random_state=0, learning_rate_init=0.01)
    leaky = quiet_fit(MLPClassifier((8,), activation="leaky_relu", leaky_relu_slope=0.1, **kw),
                      X, y)
    relu = quiet_fit(MLPClassifier((8,), activation="relu", **kw), X, y)
    assert leaky.score(X, y) > 0.6 and leaky.loss_curve_[-1] < 0.6 * leaky.loss_curve_[0]
    assert not np.allclose(leaky.coefs_[0], relu.coefs_[0])
    # slope 0 is exactly ReLU (same initialisation factor, same derivative)
    zero = quiet_fit(MLPClassifier((8,), activation="leaky_relu", leaky_relu_slope=0.0, **kw),
                     X, y)
    assert_close(zero.coefs_[0], relu.coefs_[0], np.float64, kind="trajectory")
    step = quiet_fit(MLPClassifier((8,), activation="step", max_iter=3, random_state=0), X, y)
    assert step.predict(X).shape == y.shape


@pytest.mark.parametrize("solver,extra", [("adagrad", None), ("rmsprop", {"alpha": 0.9}),
                                          ("adamw", {"weight_decay": 0.01})])
def test_extra_solvers_reduce_the_loss(solver, extra):
    X, y = _clf_data()
    m = quiet_fit(MLPClassifier((16,), solver=solver, learning_rate_init=0.01, max_iter=50,
                                random_state=0, optimizer_params=extra), X, y)
    assert m.loss_curve_[-1] < 0.6 * m.loss_curve_[0]
    assert m.score(X, y) > 0.7


def test_dropout():
    X, y = _clf_data()
    kw = dict(max_iter=20, random_state=0, learning_rate_init=0.01)
    plain = quiet_fit(MLPClassifier((32,), **kw), X, y)
    drop = quiet_fit(MLPClassifier((32,), dropout=0.3, **kw), X, y)
    again = quiet_fit(MLPClassifier((32,), dropout=0.3, **kw), X, y)
    np.testing.assert_array_equal(drop.coefs_[0], again.coefs_[0])  # seeded by random_state
    assert not np.allclose(drop.coefs_[0], plain.coefs_[0])
    assert drop.score(X, y) > 0.6 and drop.loss_curve_[-1] < drop.loss_curve_[0]
    # inference is deterministic (inverted dropout: no rescaling at predict time)
    np.testing.assert_array_equal(drop.predict_proba(X), drop.predict_proba(X))
    two = quiet_fit(MLPClassifier((16, 8), dropout=[0.2, 0.0], **kw), X, y)
    assert two.n_iter_ == 20
    with pytest.raises(ValueError, match="dropout"):
        MLPClassifier((16, 8), dropout=[0.2, 0.1, 0.1]).fit(X, y)
    with pytest.raises(ValueError, match="dropout"):
        MLPClassifier(dropout=1.0).fit(X, y)
    with pytest.raises(ValueError, match="stochastic solver"):
        MLPClassifier(dropout=0.5, solver="lbfgs").fit(X, y)


def test_class_weight_equals_sample_weight():
    X, y = _clf_data()
    cw = {0: 1.0, 1: 3.0, 2: 0.5}
    a = quiet_fit(MLPClassifier((8,), max_iter=5, random_state=0, class_weight=cw), X, y)
    b = quiet_fit(MLPClassifier((8,), max_iter=5, random_state=0), X, y,
                  sample_weight=np.array([cw[v] for v in y]))
    np.testing.assert_array_equal(a.coefs_[0], b.coefs_[0])
    bal = quiet_fit(MLPClassifier((8,), max_iter=5, random_state=0, class_weight="balanced"),
                    X[:120], y[:120])
    assert bal.n_iter_ == 5
    with pytest.raises(ValueError, match="balanced"):
        MLPClassifier(class_weight="balanced").partial_fit(X, y, classes=[0, 1, 2])


def test_n_threads_do_not_change_results():
    X, y = _clf_data()
    fits = [quiet_fit(MLPClassifier((64,), max_iter=3, random_state=0, n_threads=t), X, y)
            for t in (1, 2)]
    assert_close(fits[1].coefs_[0], fits[0].coefs_[0], np.float64, kind="trajectory")
    p = [Perceptron(n_threads=t).fit(X, y).coef_ for t in (1, 2)]
    np.testing.assert_array_equal(p[0], p[1])


def test_fix_sklearn_bugs_names_are_validated():
    X, y = _clf_data()
    assert set(SKLEARN_BUG_FIXES) == {"multioutput_loss", "stratify_multiclass",
                                      "restore_best_weights", "partial_fit_lbfgs",
                                      "lbfgs_clipped_loss"}
    with pytest.raises(ValueError, match="unknown names"):
        MLPClassifier(fix_sklearn_bugs=["nope"]).fit(X, y)


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("params,match", [
    (dict(alpha=-1), "'alpha' parameter of MLPClassifier"),
    (dict(solver="newton"), "'solver' parameter"),
    (dict(hidden_layer_sizes=(4, 0)), "hidden_layer_sizes must be > 0"),
    (dict(momentum=1.5), "'momentum' parameter"),
    (dict(n_iter_no_change=0), "'n_iter_no_change' parameter"),
    (dict(optimizer_params={"lr": 1}), "optimizer_params"),
    (dict(n_threads=0), "n_threads"),
])
def test_bad_parameters_raise_clear_errors(params, match):
    X, y = _clf_data()
    with pytest.raises(ValueError, match=match):
        MLPClassifier(**params).fit(X, y)


def test_bad_data_raise_clear_errors():
    X, y = _clf_data()
    Xn = X.copy()
    Xn[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        MLPClassifier().fit(Xn, y)
    m = quiet_fit(MLPClassifier((4,), max_iter=2), X, y)
    with pytest.raises(ValueError, match="features"):
        m.predict(X[:, :5])
    with pytest.raises(ValueError, match="non-negative"):
        MLPRegressor(loss="poisson").fit(X, -np.abs(y) - 1.0)
    with pytest.raises(ValueError, match="early_stopping"):
        MLPClassifier(early_stopping=True).partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="validation_data"):
        MLPClassifier().fit(X, y, validation_data=X)
    with pytest.raises(ValueError, match="Perceptron"):
        Perceptron(eta0=0).fit(X, y)


def test_divergence_keeps_previous_weights():
    X, y = _clf_data()
    m = quiet_fit(MLPRegressor(hidden_layer_sizes=(8,), solver="sgd", activation="identity",
                               max_iter=2, random_state=0, warm_start=True), X, y.astype(float))
    m.coefs_[0][...] = 1e300  # the next forward pass overflows
    before = [c.copy() for c in m.coefs_ + m.intercepts_]
    with pytest.raises(ValueError, match="non-finite parameter weights"):
        quiet_fit(m, X, y.astype(float))
    for c, c0 in zip(m.coefs_ + m.intercepts_, before):  # scikit-learn would keep NaNs
        np.testing.assert_array_equal(c, c0)


def test_keyboard_interrupt_leaves_a_consistent_model(monkeypatch):
    import fastmlp._backend as backend

    X, y = _clf_data()
    real = backend.core
    calls = {"n": 0}

    class Interrupting:  # the real core, but Ctrl-C arrives after the 3rd C call
        def __getattr__(self, name):
            return getattr(real, name)

        def train(self, *args, **kwargs):
            out = real.train(*args, **kwargs)
            calls["n"] += 1
            if calls["n"] == 3:
                raise KeyboardInterrupt
            return out

    monkeypatch.setattr(backend, "core", Interrupting())
    m = MLPClassifier((8,), solver="adam", batch_size=50, max_iter=10, random_state=0)
    with pytest.warns(UserWarning, match="Training interrupted by user"):
        m.fit(X, y)  # 4 batches per epoch, one C call per epoch
    assert m.n_iter_ == 2 and len(m.loss_curve_) == 2
    assert m._optimizer.step == 3 * 4  # the optimizer matches the weights
    assert all(np.isfinite(c).all() for c in m.coefs_)
    monkeypatch.setattr(backend, "core", real)
    m.partial_fit(X, y)  # training goes on from there
    assert m._optimizer.step == 4 * 4
