"""The Perceptrons under faults: Ctrl-C leaves the last completed epoch with counters
that agree with the weights; divergence stops with a clear error and the last
finite weights; a call that raises on its arguments changes nothing."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import fastmlp
from fastmlp import Perceptron
from fastmlp import _core as core
from fastmlp._validation import DivergenceError
from fastmlp.sklearn import Perceptron as SkPerceptron

def _xor_like(n=200, d=5, classes=2, seed=0, dtype=np.float64):
    """Data no hyperplane separates (labels are noise), so training never stops early."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)).astype(dtype), rng.integers(0, classes, n)


class _InterruptAfter:
    """Wraps a kernel: the k-th call runs, then KeyboardInterrupt surfaces as it returns
    (where a real Ctrl-C during a GIL-free kernel is delivered)."""

    def __init__(self, fn, k):
        self.fn, self.k, self.calls = fn, k, 0

    def __call__(self, *args, **kwargs):
        r = self.fn(*args, **kwargs)
        self.calls += 1
        if self.calls == self.k:
            raise KeyboardInterrupt
        return r


# ---------------------------------------------------------------- fastmlp.Perceptron
@pytest.mark.parametrize("k", [1, 2, 7])
@pytest.mark.parametrize("classes", [2, 3])
def test_rosenblatt_interrupt_keeps_last_completed_epoch(monkeypatch, k, classes):
    X, y = _xor_like(classes=classes)
    monkeypatch.setattr(core, "perceptron_epoch", _InterruptAfter(core.perceptron_epoch, k))
    p = Perceptron(seed=3, max_epochs=50)
    with pytest.warns(RuntimeWarning, match="training interrupted"):
        p.fit(X, y)
    monkeypatch.undo()
    assert p.interrupted_ and not p.converged_
    assert p.n_epochs_ == k - 1 == len(p.mistakes_)
    if k == 1:
        assert not p.coef_.any() and not p.intercept_.any()
        return
    twin = Perceptron(seed=3, max_epochs=k - 1)
    with pytest.warns(fastmlp.ConvergenceWarning):
        twin.fit(X, y)
    # unit 0 ran k-1 epochs; with one-vs-rest the later units were never reached
    np.testing.assert_array_equal(p.coef_[0], twin.coef_[0])
    np.testing.assert_array_equal(p.intercept_[0], twin.intercept_[0])
    assert not p.coef_[1:].any()
    if classes == 2:
        assert p.mistakes_ == twin.mistakes_


def test_rosenblatt_divergence_keeps_last_finite_weights():
    X, y = _xor_like(dtype=np.float32)
    X[::7] *= np.float32(1e30)  # a few rows push the weights past float32's range
    p = Perceptron(seed=0, eta=1e10, dtype="float32", max_epochs=100)
    with pytest.raises(DivergenceError, match="diverged in epoch .* last finite epoch") as exc:
        p.fit(X, y)
    assert isinstance(exc.value, ValueError) and isinstance(exc.value, FloatingPointError)
    assert np.isfinite(p.coef_).all() and np.isfinite(p.intercept_).all()
    assert p.n_epochs_ == len(p.mistakes_) and not p.converged_
    if p.n_epochs_:  # the weights are those of a fit stopped right there
        twin = Perceptron(seed=0, eta=1e10, dtype="float32", max_epochs=p.n_epochs_)
        with pytest.warns(fastmlp.ConvergenceWarning):
            twin.fit(X, y)
        np.testing.assert_array_equal(p.coef_, twin.coef_)


def test_rosenblatt_eta_that_overflows_the_dtype_is_refused():
    with pytest.raises(ValueError, match="eta=1e\\+39 overflows float32"):
        Perceptron(eta=1e39, dtype="float32")
    Perceptron(eta=1e39, dtype="float64")  # representable there


@pytest.mark.parametrize("bad_y,match", [
    ([None] + [1] * 19, "contains None"),
    (np.array([np.nan] + [1.0, 2.0] * 9 + [1.0]), "y contains NaN"),
    (np.array(["a", 1] * 10, dtype=object), "mixes label types"),
    ([1, 2] * 5, "different numbers of samples"),
])
def test_rosenblatt_failed_fit_changes_nothing(bad_y, match):
    X, y = _xor_like(n=20)
    p = Perceptron(seed=0, max_epochs=5)
    with pytest.warns(fastmlp.ConvergenceWarning):
        p.fit(X, y)
    before = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in vars(p).items()}
    with pytest.raises(ValueError, match=match):
        p.fit(X, bad_y)
    assert vars(p).keys() == before.keys()
    for k, v in before.items():
        np.testing.assert_array_equal(getattr(p, k), v)


def test_rosenblatt_overflowing_scores_raise_or_warn():
    X, y = _xor_like(n=20)
    with pytest.warns(fastmlp.ConvergenceWarning):
        p = Perceptron(seed=0, max_epochs=3, dtype="float32").fit(X, y)
    big = np.full((1, X.shape[1]), 3e38) * np.sign(p.coef_)
    with pytest.raises(fastmlp.ForwardOverflowError, match="overflowed on 1 of 1 rows of X"):
        p.predict(big)
    with fastmlp.errstate(overflow="warn"), pytest.warns(fastmlp.ForwardOverflowWarning):
        s = p.decision_function(big)
    assert not np.isfinite(s).all()


# ---------------------------------------------------------------- fastmlp.sklearn.Perceptron
@pytest.mark.parametrize("k", [1, 3, 6])
@pytest.mark.parametrize("classes", [2, 4])
@pytest.mark.parametrize("verbose", [0, 1])
def test_sklearn_interrupt_keeps_last_completed_epoch(monkeypatch, capsys, k, classes, verbose):
    X, y = _xor_like(classes=classes)
    name = "sgd_perceptron_epoch_multi"
    monkeypatch.setattr(core, name, _InterruptAfter(getattr(core, name), k))
    p = SkPerceptron(tol=None, max_iter=40, random_state=1, verbose=verbose)
    with pytest.warns(UserWarning, match="Training interrupted by user"):
        p.fit(X, y)
    monkeypatch.undo()
    capsys.readouterr()
    if verbose and classes > 2:  # one problem at a time: the first one was interrupted
        assert p.n_iter_ == k - 1 and not p.coef_[1:].any()
        return
    assert p.n_iter_ == k - 1 and p.t_ == 1 + (k - 1) * len(X)
    if k == 1:
        assert not p.coef_.any()
        return
    twin = SkPerceptron(tol=None, max_iter=k - 1, random_state=1).fit(X, y)
    np.testing.assert_array_equal(p.coef_, twin.coef_)
    np.testing.assert_array_equal(p.intercept_, twin.intercept_)
    assert p.history_ == twin.history_


def test_sklearn_divergence_keeps_last_finite_weights():
    X, y = _xor_like(classes=3, dtype=np.float32)
    big = float(np.sqrt(np.finfo(np.float32).max))
    X[y == 2] *= np.float32(big)
    p = SkPerceptron(eta0=big)
    with pytest.raises(DivergenceError, match="Floating-point under-/overflow"):
        p.fit(X, y)
    assert np.isfinite(p.coef_).all() and np.isfinite(p.intercept_).all()
    assert p.t_ == 1 + p.n_iter_ * len(X)


@pytest.mark.parametrize("kwargs,match", [
    ({"y": [None] + [1] * 199}, "y contains None"),
    ({"y": np.array([np.nan] + [1.0, 2.0] * 99 + [1.0])}, "y contains NaN"),
    ({"sample_weight": np.ones(200) * (1 + 1j)}, "sample_weight: Complex data not supported"),
    ({"coef_init": np.full((1, 5), np.nan)}, "coef_init contains NaN"),
    ({"intercept_init": [np.inf]}, "intercept_init contains infinity"),
    ({"coef_init": np.ones((3, 5))}, "does not match dataset"),
])
def test_sklearn_failed_fit_changes_nothing(kwargs, match):
    X, y = _xor_like()
    p = SkPerceptron(max_iter=5, tol=None).fit(X, y)
    before = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in vars(p).items()}
    args = {"y": y, **kwargs}
    with pytest.raises(ValueError, match=match):
        p.fit(X, **args)
    assert vars(p).keys() == before.keys()
    for k, v in before.items():
        if isinstance(v, np.ndarray):
            np.testing.assert_array_equal(getattr(p, k), v)
        else:
            assert getattr(p, k) == v, k


def test_thread_counts_are_capped_with_a_warning():
    from fastmlp._validation import ThreadCountWarning, max_usable_threads, resolve_threads

    with pytest.warns(ThreadCountWarning, match="n_threads=200000 is more than"):
        assert resolve_threads(200000, 2) == max_usable_threads()
    with pytest.warns(ThreadCountWarning):
        net = fastmlp.MLP([3, 4, 2], n_threads=200000)
    assert net.n_threads == max_usable_threads()
    X, y = _xor_like(n=40, d=3)
    with pytest.warns(ThreadCountWarning, match="n_jobs=200000"):
        SkPerceptron(n_jobs=200000, max_iter=3, tol=None).fit(X, y)


# ---------------------------------------------------------------- a real SIGINT
_SIGINT_SCRIPT = textwrap.dedent("""
    import json, os, signal, sys, threading, time, warnings
    import numpy as np
    from fastmlp import Perceptron
    from fastmlp.sklearn import Perceptron as SkPerceptron
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((4000, 40)), rng.integers(0, 2, 4000)
    which = sys.argv[1]
    p = (Perceptron(seed=2, max_epochs=10**6) if which == "rosenblatt"
         else SkPerceptron(tol=None, max_iter=10**6, random_state=2))
    threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
    p.fit(X, y)
    n = p.n_epochs_ if which == "rosenblatt" else p.n_iter_
    if n == 0:
        twin = None
    elif which == "rosenblatt":
        twin = Perceptron(seed=2, max_epochs=n).fit(X, y)
    else:
        twin = SkPerceptron(tol=None, max_iter=n, random_state=2).fit(X, y)
    print(json.dumps({"n": int(n),
                      "same": twin is None or bool(np.array_equal(twin.coef_, p.coef_)),
                      "counters": (len(p.mistakes_) == n and not p.converged_
                                   and p.interrupted_) if which == "rosenblatt"
                                  else p.t_ == 1 + n * len(X)}))
""")


@pytest.mark.parametrize("which", ["rosenblatt", "sklearn"])
def test_real_sigint_leaves_a_consistent_model(which, tmp_path):
    # started in tmp_path: `python -c` puts the working directory first on sys.path, and
    # from the repository root the source folder would shadow the installed fastmlp
    out = subprocess.run([sys.executable, "-c", _SIGINT_SCRIPT, which], capture_output=True,
                         text=True, timeout=600, cwd=tmp_path)  # a hang guard, not a speed claim
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res["same"] and res["counters"], res
