"""Transactional training calls and the per-model concurrency guard (fastmlp._transaction).

Every training call of every estimator either completes or leaves the estimator
exactly as it was; a training call while another call runs on the same model in
another thread raises at once, and never loses work.
"""
from __future__ import annotations

import copy
import pickle
import threading
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")
from sklearn.base import clone  # noqa: E402

import fastmlp  # noqa: E402
from fastmlp import _backend as backend  # noqa: E402
from fastmlp._transaction import ConcurrentUseError  # noqa: E402
from fastmlp.callbacks import Callback  # noqa: E402
from fastmlp.sklearn import MLPClassifier, MLPRegressor  # noqa: E402
from fastmlp.sklearn import Perceptron as SkPerceptron  # noqa: E402

rng = np.random.default_rng(0)
X = rng.standard_normal((60, 4))
Y_ABC = np.array(list("abc"))[rng.integers(0, 3, 60)]
Y_INT = rng.integers(0, 3, 60)


def _canon(v):
    """A comparable picture of a value (arrays by dtype, shape and bytes)."""
    if isinstance(v, np.ndarray):
        return ("nd", v.dtype.str, v.shape, v.tobytes() if v.dtype != object else repr(v))
    if isinstance(v, (list, tuple)):
        return (type(v).__name__, [_canon(x) for x in v])
    if isinstance(v, dict):
        return ("dict", sorted((repr(k), _canon(x)) for k, x in v.items()))
    if isinstance(v, np.random.Generator):
        return ("gen", repr(v.bit_generator.state))
    if isinstance(v, np.random.RandomState):
        return ("rs", _canon(list(v.get_state())))
    if isinstance(v, float) and np.isnan(v):
        return ("nan",)
    if hasattr(v, "__dict__") and not isinstance(v, type):
        return (type(v).__name__, _canon(vars(v)))
    return ("v", repr(v))


def state(est):
    return _canon(vars(est))


def quiet(fn, *a, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*a, **kw)


# Each case: a fitted estimator, how to fit it validly, and the fit-like calls.
def _mlp():
    return quiet(fastmlp.MLP([4, 8, 3], seed=0).fit, X, Y_ABC, epochs=2, verbose=0)


def _perceptron():
    return quiet(fastmlp.Perceptron(max_epochs=3, seed=0).fit, X, Y_INT)


def _clf():
    return quiet(MLPClassifier((8,), max_iter=3, random_state=0).fit, X, Y_ABC)


def _reg():
    return quiet(MLPRegressor(hidden_layer_sizes=(8,), max_iter=3, random_state=0).fit, X,
                 X[:, 0])


def _skp():
    return quiet(SkPerceptron(max_iter=3, random_state=0).fit, X, Y_INT)


FITTED = {"MLP": _mlp, "Perceptron": _perceptron, "MLPClassifier": _clf,
          "MLPRegressor": _reg, "sklearn.Perceptron": _skp}
TARGET = {"MLP": Y_ABC, "Perceptron": Y_INT, "MLPClassifier": Y_ABC,
          "MLPRegressor": X[:, 0], "sklearn.Perceptron": Y_INT}
FIT_KW = {"MLP": dict(epochs=2, verbose=0)}


def _fit(name, est, Xf, yf, **kw):
    return quiet(est.fit, Xf, yf, **{**FIT_KW.get(name, {}), **kw})


def _bad_calls(name):
    """Calls that must fail: (label, callable(est))."""
    y = TARGET[name]
    calls = [("y of the wrong length", lambda e: _fit(name, e, X, y[:-1])),
             ("X with a NaN", lambda e: _fit(name, e, np.where(X > 1.5, np.nan, X), y))]
    if name != "Perceptron":
        calls.append(("NaN sample_weight",
                      lambda e: _fit(name, e, X, y, sample_weight=np.full(len(X), np.nan))))
    if name == "MLP":
        calls.append(("X of the wrong width", lambda e: _fit(name, e, X[:, :3], y)))
        calls.append(("negative sample_weight",
                      lambda e: _fit(name, e, X, y, sample_weight=-np.ones(len(X)))))
        calls.append(("batch_size=0", lambda e: _fit(name, e, X, y, batch_size=0)))
        calls.append(("bad validation_data", lambda e: _fit(name, e, X, y,
                                                             validation_data=(X, y[:3]))))
        calls.append(("new labels and a bad weight",
                      lambda e: _fit(name, e, X, np.arange(60) % 5,
                                     sample_weight=np.full(60, np.nan))))
    if name in ("MLPClassifier", "MLPRegressor", "sklearn.Perceptron"):
        calls.append(("set_params(n_threads=0).fit",
                      lambda e: _fit(name, e.set_params(n_threads=0), X, y)))
    if name in ("MLPClassifier", "MLPRegressor"):
        calls.append(("partial_fit with a bad weight", lambda e: quiet(
            e.partial_fit, X, y, sample_weight=np.full(len(X), np.nan))))
    if name == "sklearn.Perceptron":
        calls.append(("partial_fit with unknown classes",
                      lambda e: quiet(e.partial_fit, X, y + 7)))
        calls.append(("NaN coef_init", lambda e: _fit(
            name, e, X, y, coef_init=np.full((3, 4), np.nan))))
    return calls


CASES = [(name, label, call) for name in FITTED for label, call in _bad_calls(name)]


@pytest.mark.parametrize("name,label,call", CASES, ids=[f"{n}: {lbl}" for n, lbl, _ in CASES])
def test_a_failed_call_changes_nothing(name, label, call):
    est = FITTED[name]()
    params = est.get_params() if hasattr(est, "get_params") else None
    coef_ref = est.coef_ if hasattr(est, "coef_") else None
    before = state(est)
    with pytest.raises((ValueError, TypeError, FloatingPointError)):
        call(est)
    if params is not None and "n_threads=0" in label:  # set_params itself took effect
        est.set_params(**params)
    assert state(est) == before, label
    if coef_ref is not None:  # the same array objects, refilled
        assert est.coef_ is coef_ref
    _fit(name, est, X, TARGET[name])  # and the model trains on afterwards


@pytest.mark.parametrize("name", list(FITTED))
def test_a_failed_first_fit_leaves_an_unfitted_estimator(name):
    est = clone(FITTED[name]()) if name not in ("MLP", "Perceptron") else {
        "MLP": lambda: fastmlp.MLP([4, 8, 3], seed=0),
        "Perceptron": lambda: fastmlp.Perceptron(max_epochs=3, seed=0)}[name]()
    before = state(est)
    with pytest.raises(ValueError):
        _fit(name, est, X, TARGET[name][:-1])
    assert state(est) == before


def test_the_issue_example_mlp_auto_loss():
    m = fastmlp.MLP([4, 8, 3])
    before = state(m)
    with pytest.raises(ValueError):
        m.fit(X, Y_ABC, sample_weight=-np.ones(60), verbose=0)
    assert m.loss == "auto" and state(m) == before
    m.fit(X, Y_INT, epochs=1, verbose=0)  # labels it could not represent before the fix


@pytest.mark.parametrize("name", ["MLP", "MLPClassifier", "MLPRegressor"])
def test_failure_mid_training_restores_everything(name, monkeypatch):
    """An exception from deep inside the epoch driver (the third C call) restores
    weights, optimizer state, counters, history and the random generators."""
    est = FITTED[name]()
    before = state(est)
    real = backend.train_steps
    calls = {"n": 0}

    def failing(**kw):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("injected")
        return real(**kw)

    monkeypatch.setattr(backend, "train_steps", failing)
    kw = {"batch_size": 8, "epochs": 5} if name == "MLP" else {}
    if name != "MLP":
        est.set_params(batch_size=8, warm_start=True)
        before = state(est)
    with pytest.raises(RuntimeError, match="injected"):
        _fit(name, est, X, TARGET[name], **kw)
    assert calls["n"] == 3
    assert state(est) == before


def test_divergence_restores_the_whole_call():
    m = FITTED["MLPClassifier"]()
    before = state(m)
    with pytest.raises(ValueError, match="keeps the weights it had before this call"):
        _fit("MLPClassifier", m.set_params(learning_rate_init=1e300, solver="sgd",
                                          warm_start=True, momentum=0.0), X * 1e300, Y_ABC)
    m.set_params(learning_rate_init=0.001, solver="adam", warm_start=False, momentum=0.9)
    assert state(m) == before


def test_lr_find_leaves_the_model_as_it_was():
    m = _mlp()
    before = state(m)
    m.lr_find(X, Y_ABC, num_it=20, batch_size=8)
    assert state(m) == before


# ---------------------------------------------------------------------- concurrency
class _Hold(Callback):
    """Holds fit at the end of its first epoch until released (no sleeps)."""

    def __init__(self) -> None:
        super().__init__()
        self.reached, self.release = threading.Event(), threading.Event()

    def on_epoch_end(self, epoch, logs=None):
        if epoch == 0:
            self.reached.set()
            assert self.release.wait(60)


def _in_thread(fn):
    out = {}

    def run():
        try:
            out["value"] = fn()
        except BaseException as e:  # noqa: BLE001 - handed to the test
            out["error"] = e

    t = threading.Thread(target=run)
    t.start()
    return t, out


def test_fit_while_fit_or_predict_runs_raises_and_loses_nothing():
    serial = fastmlp.MLP([4, 8, 3], seed=1).fit(X, Y_INT, epochs=3, batch_size=8, verbose=0)
    m = fastmlp.MLP([4, 8, 3], seed=1)
    hold = _Hold()
    t, out = _in_thread(lambda: m.fit(X, Y_INT, epochs=3, batch_size=8, verbose=0,
                                      callbacks=[hold]))
    assert hold.reached.wait(60)
    with pytest.raises(ConcurrentUseError, match="another thread trains"):
        m.fit(X, Y_INT, epochs=1, verbose=0)
    with pytest.raises(ConcurrentUseError, match="training this model"):
        m.predict(X)
    hold.release.set()
    t.join(60)
    assert "error" not in out
    assert np.array_equal(m._params, serial._params)  # the running fit lost nothing
    assert m._opt_state["step"] == serial._opt_state["step"]
    m.fit(X, Y_INT, epochs=1, verbose=0)  # free again


@pytest.mark.parametrize("cls", [MLPClassifier, SkPerceptron])
def test_dropin_fit_while_fit_runs(cls, monkeypatch):
    import fastmlp.sklearn._perceptron as skp

    reached, release = threading.Event(), threading.Event()
    if cls is MLPClassifier:
        real, owner, attr = backend.train_steps, backend, "train_steps"
    else:
        real, owner, attr = skp._Run.__init__, skp._Run, "__init__"

    def held(*a, **kw):
        reached.set()
        assert release.wait(60)
        return real(*a, **kw)

    monkeypatch.setattr(owner, attr, held)
    est = cls(max_iter=2, random_state=0)
    t, out = _in_thread(lambda: quiet(est.fit, X, Y_INT))
    assert reached.wait(60)
    with pytest.raises(ConcurrentUseError):
        est.fit(X, Y_INT)
    with pytest.raises(ConcurrentUseError):
        est.partial_fit(X, Y_INT, classes=np.unique(Y_INT))
    release.set()
    t.join(60)
    assert "error" not in out
    monkeypatch.setattr(owner, attr, real)
    twin = quiet(cls(max_iter=2, random_state=0).fit, X, Y_INT)
    for a, b in zip(getattr(est, "coefs_", [getattr(est, "coef_", None)]),
                    getattr(twin, "coefs_", [getattr(twin, "coef_", None)])):
        assert np.array_equal(a, b)


def test_fit_while_predict_runs_raises():
    m = _mlp()
    reached, release = threading.Event(), threading.Event()
    real = m._forward

    def held(*a, **kw):
        reached.set()
        assert release.wait(60)
        return real(*a, **kw)

    m._forward = held
    t, out = _in_thread(lambda: m.predict(X))
    assert reached.wait(60)
    with pytest.raises(ConcurrentUseError, match="another thread predicts"):
        m.fit(X, Y_ABC, epochs=1, verbose=0)
    release.set()
    t.join(60)
    del m._forward
    assert np.array_equal(out["value"], m.predict(X))


def test_predict_from_many_threads():
    m = _clf()
    want = m.predict_proba(X)
    barrier = threading.Barrier(8)

    def run():
        barrier.wait(60)
        return [m.predict_proba(X) for _ in range(20)]

    threads = [_in_thread(run) for _ in range(8)]
    for t, out in threads:
        t.join(60)
        assert "error" not in out
        assert all(np.array_equal(p, want) for p in out["value"])


def test_nested_calls_in_the_same_thread_pass():
    seen = []

    class Predicts(Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(self.model.predict(X[:3]))

    m = fastmlp.MLP([4, 8, 3], seed=0)
    m.fit_one_cycle(X, Y_INT, epochs=2, verbose=0, callbacks=[Predicts()])
    assert len(seen) == 2


@pytest.mark.parametrize("name", list(FITTED))
def test_the_guard_is_not_pickled_or_copied(name):
    est = FITTED[name]()
    for other in (pickle.loads(pickle.dumps(est)), copy.deepcopy(est)):
        assert state(other) == state(est)
        _fit(name, other, X, TARGET[name])
    if hasattr(est, "get_params"):
        _fit(name, clone(est), X, TARGET[name])

