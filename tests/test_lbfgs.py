"""MLP.fit(optimizer='lbfgs'): the drop-ins' L-BFGS (one implementation, fastmlp._lbfgs)
from MLP -- the same weights as the drop-in from the same start, convergence, limits,
callbacks and history, and all-or-nothing failures."""
from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest

pytest.importorskip("scipy", reason="optimizer='lbfgs' needs scipy")

from fastmlp import MLP  # noqa: E402
from fastmlp.callbacks import EarlyStopping, LambdaCallback  # noqa: E402
from fastmlp.optim import LBFGS  # noqa: E402
from fastmlp.testing import assert_close  # noqa: E402


def _sklearn_init(layers, factor, seed):
    """scikit-learn's draw: per layer W then b, uniform in +-sqrt(factor/(fan_in+fan_out))."""
    rs = np.random.RandomState(seed)
    ws, bs = [], []
    for i, o in zip(layers[:-1], layers[1:]):
        bound = np.sqrt(factor / (i + o))
        ws.append(rs.uniform(-bound, bound, (i, o)))
        bs.append(rs.uniform(-bound, bound, o))
    return ws, bs


def _regression(n=60, d=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    return X, np.sin(X[:, 0]) + 0.5 * X[:, 1] * X[:, 2]


def test_same_weights_as_the_regressor_drop_in():
    """MLPRegressor's lbfgs objective is 0.5*mean squared error + 0.5*alpha*||W||^2/n: MLP's
    'quadratic' loss with l2 = alpha/n.  From the same weights both follow one path."""
    sk = pytest.importorskip("fastmlp.sklearn", reason="the drop-ins need scikit-learn")
    X, y = _regression()
    alpha, iters = 1e-2, 25
    reg = sk.MLPRegressor(hidden_layer_sizes=(6,), activation="tanh", solver="lbfgs",
                          alpha=alpha, max_iter=iters, tol=1e-12, random_state=0, n_threads=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: max_iter is the budget here
        reg.fit(X, y)
    net = MLP([4, 6, 1], activation="tanh", loss="quadratic", dtype=np.float64, n_threads=1)
    net.set_parameters(*_sklearn_init([4, 6, 1], 6.0, 0))
    net.fit(X, y, optimizer=LBFGS(tol=1e-12), epochs=iters, l2=alpha / len(X), verbose=0)
    for mine, theirs in zip(net.coefs_ + net.intercepts_, reg.coefs_ + reg.intercepts_):
        assert_close(mine, theirs, np.float64, what="weights")
    assert len(net.history_["loss"]) == reg.n_iter_ == iters
    np.testing.assert_allclose(net.history_["loss"], reg.history_["loss"], rtol=1e-12)


def test_same_weights_as_the_classifier_drop_in():
    """Multiclass: softmax cross-entropy (the drop-in's corrected objective, without its
    clipped reported loss)."""
    sk = pytest.importorskip("fastmlp.sklearn", reason="the drop-ins need scikit-learn")
    rng = np.random.default_rng(1)
    X = rng.standard_normal((90, 5))
    y = np.argmax(X[:, :3] + 0.3 * rng.standard_normal((90, 3)), axis=1)
    alpha, iters = 1e-3, 20
    clf = sk.MLPClassifier(hidden_layer_sizes=(7,), activation="relu", solver="lbfgs",
                           alpha=alpha, max_iter=iters, tol=1e-12, random_state=3,
                           fix_sklearn_bugs=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X, y)
    net = MLP([5, 7, 3], loss="cce", dtype=np.float64)
    net.set_parameters(*_sklearn_init([5, 7, 3], 6.0, 3))
    net.fit(X, y, optimizer="lbfgs", epochs=iters, l2=alpha / len(X), verbose=0)
    for mine, theirs in zip(net.coefs_ + net.intercepts_, clf.coefs_ + clf.intercepts_):
        assert_close(mine, theirs, np.float64, kind="trajectory", what="weights")
    assert np.array_equal(net.predict(X), clf.predict(X))


def test_converges_on_a_toy_problem_and_the_loss_never_rises():
    rng = np.random.default_rng(2)
    X = rng.uniform(-1, 1, (200, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)  # XOR of the signs
    net = MLP(hidden=[16], activation="tanh", seed=0, dtype=np.float64)
    net.fit(X, y, optimizer="lbfgs", verbose=0)  # epochs=None: up to 200 iterations
    loss = np.array(net.history_["loss"])
    assert net.score(X, y) > 0.97
    assert loss[-1] < 0.1 * loss[0]
    assert np.all(np.diff(loss) <= 1e-12)  # each iteration's line search decreases f
    assert set(net.history_) == {"loss", "time"}
    # a regression, float32: the loss falls by orders of magnitude
    X, y = _regression(200)
    net = MLP(hidden=[16], activation="tanh", seed=0)
    net.fit(X, y, optimizer="lbfgs", epochs=150, verbose=0)
    assert net.coefs_[0].dtype == np.float32
    assert net.history_["loss"][-1] < 0.01 * net.history_["loss"][0]


def test_respects_the_iteration_limit_and_tol():
    X, y = _regression()
    net = MLP([4, 8, 1], activation="tanh", seed=0, dtype=np.float64)
    net.fit(X, y, optimizer=LBFGS(tol=0.0), epochs=7, verbose=0)
    assert len(net.history_["loss"]) == 7 and len(net.history_["time"]) == 7
    # a tolerance the start already meets: no iteration, the weights as they were
    net = MLP([4, 8, 1], activation="tanh", seed=0, dtype=np.float64)
    p0 = net._params.copy()
    net.fit(X, y, optimizer=LBFGS(tol=1e6), epochs=7, verbose=0)
    assert net.history_.get("loss", []) == [] and np.array_equal(net._params, p0)
    # max_fun below what the iterations need stops early, with a warning
    net = MLP([4, 8, 1], activation="tanh", seed=0, dtype=np.float64)
    from fastmlp.perceptron import ConvergenceWarning
    with pytest.warns(ConvergenceWarning, match="lbfgs stopped after"):
        net.fit(X, y, optimizer=LBFGS(tol=0.0, max_fun=3), epochs=50, verbose=0)
    assert len(net.history_["loss"]) < 50


def test_validation_callbacks_and_stop_training():
    X, y = _regression(80)
    seen = []
    net = MLP([4, 8, 1], activation="tanh", seed=0, dtype=np.float64)

    def on_end(epoch, logs):
        seen.append((epoch, dict(logs), net._params.copy()))
        if epoch == 3:
            net.stop_training = True

    net.fit(X, y, optimizer="lbfgs", epochs=30, validation_split=0.25, verbose=0,
            callbacks=[LambdaCallback(on_epoch_end=on_end)])
    assert [e for e, _, _ in seen] == [0, 1, 2, 3] and len(net.history_["loss"]) == 4
    assert {"loss", "val_loss", "val_mse", "val_r2", "time"} <= set(seen[0][1])
    # the model holds each iterate when the callbacks see it, and stops at the last one seen
    assert np.array_equal(net._params, seen[-1][2])
    assert net.evaluate(X[-20:], y[-20:])["loss"] == pytest.approx(seen[-1][1]["val_loss"])
    # EarlyStopping restores the best iterate when training ends
    net = MLP([4, 8, 1], activation="tanh", seed=0, dtype=np.float64)
    es = EarlyStopping(monitor="loss", patience=100)
    net.fit(X, y, optimizer="lbfgs", epochs=10, verbose=0, callbacks=[es])
    assert es.best_epoch == 9 and es.best == pytest.approx(net.history_["loss"][-1])


def test_verbose_prints_one_row_per_iteration(capsys):
    X, y = _regression(40)
    MLP([4, 5, 1], seed=0).fit(X, y, optimizer="lbfgs", epochs=3, verbose=2)
    err = capsys.readouterr().err.splitlines()
    assert err[0].split() == ["epoch", "loss", "time"] and len(err) == 4


@pytest.mark.parametrize("kw, match", [
    (dict(learning_rate=0.1), "takes no learning_rate"),
    (dict(momentum=0.9), "takes no momentum"),
    (dict(lr_schedule="cosine"), "takes no lr_schedule"),
    (dict(l1=0.01), "l1=0.01 is not supported"),
])
def test_refused_arguments_change_nothing(kw, match):
    X, y = _regression(30)
    net = MLP([4, 5, 1], seed=0)
    p0 = net._params.copy()
    with pytest.raises(ValueError, match=match):
        net.fit(X, y, optimizer="lbfgs", epochs=3, verbose=0, **kw)
    assert np.array_equal(net._params, p0) and net.history_ == {}
    with pytest.raises(ValueError, match="dropout and input_noise must be 0"):
        MLP([4, 5, 1], dropout=0.2).fit(X, y, optimizer="lbfgs", verbose=0)
    with pytest.raises(ValueError, match="does not support normalisation layers"):
        MLP([4, 5, 1], norm="layer").fit(X, y, optimizer="lbfgs", verbose=0)


def test_failures_leave_the_model_as_it_was():
    X, y = _regression(50)
    net = MLP([4, 6, 1], activation="tanh", seed=0, dtype=np.float64)
    net.fit(X, y, optimizer="adam", epochs=2, verbose=0)
    before = (net._params.copy(), dict(net.history_), net._opt_state["step"])

    def boom(epoch, logs):
        if epoch == 2:
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        net.fit(X, y, optimizer="lbfgs", epochs=10, verbose=0,
                callbacks=[LambdaCallback(on_epoch_end=boom)])
    assert np.array_equal(net._params, before[0]) and net.history_ == before[1]
    assert net._opt_state["step"] == before[2]
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        net.fit(bad, y, optimizer="lbfgs", verbose=0)
    assert np.array_equal(net._params, before[0]) and net.history_ == before[1]


def test_ctrl_c_keeps_the_last_completed_iteration():
    X, y = _regression(50)
    net = MLP([4, 6, 1], activation="tanh", seed=0, dtype=np.float64)
    seen = []

    def interrupt(epoch, logs):
        seen.append(net._params.copy())
        if epoch == 2:
            raise KeyboardInterrupt

    with pytest.warns(RuntimeWarning, match="last completed lbfgs iteration"):
        net.fit(X, y, optimizer="lbfgs", epochs=10, verbose=0,
                callbacks=[LambdaCallback(on_epoch_end=interrupt)])
    assert net.interrupted_ and len(net.history_["loss"]) == 3
    assert np.array_equal(net._params, seen[-1])


def test_without_scipy_an_import_error_names_the_extra(monkeypatch):
    X, y = _regression(20)
    net = MLP([4, 3, 1], seed=0)
    p0 = net._params.copy()
    monkeypatch.setitem(sys.modules, "scipy", None)
    monkeypatch.setitem(sys.modules, "scipy.optimize", None)
    with pytest.raises(ImportError, match=r"pip install 'fastmlp\[sklearn\]'"):
        net.fit(X, y, optimizer="lbfgs", verbose=0)
    assert np.array_equal(net._params, p0)
    # the optimizers' module itself does not need scipy
    assert LBFGS(tol=1e-6).get_config() == {"tol": 1e-6, "max_fun": 15000}
    with pytest.raises(ValueError, match="'max_fun' parameter of LBFGS"):
        LBFGS(max_fun=0)


def test_sample_weights_weigh_rows_like_repeats():
    """The objective is sum(w * loss) / sum(w): a weight of 2 is a row given twice."""
    X, y = _regression(40, seed=3)
    w = np.where(np.arange(40) % 3 == 0, 2.0, 1.0)
    rep = np.repeat(np.arange(40), w.astype(int))
    a = MLP([4, 5, 1], activation="tanh", seed=0, dtype=np.float64)
    b = MLP([4, 5, 1], activation="tanh", seed=0, dtype=np.float64)
    a.fit(X, y, sample_weight=w, optimizer="lbfgs", epochs=10, l2=1e-3, verbose=0)
    b.fit(X[rep], y[rep], optimizer="lbfgs", epochs=10, l2=1e-3, verbose=0)
    assert_close(a._params, b._params, np.float64, kind="trajectory", what="weights")
    np.testing.assert_allclose(a.history_["loss"], b.history_["loss"], rtol=1e-10)


def test_follows_scipy_on_the_reference_objective():
    """The reference twin: scipy's L-BFGS-B on fastmlp.reference.loss_grad (NumPy, float64)
    from the same start takes the same steps as MLP.fit(optimizer='lbfgs')."""
    import scipy.optimize

    from fastmlp import reference as ref

    rng = np.random.default_rng(7)
    X, Y = rng.standard_normal((50, 3)), rng.standard_normal((50, 2))
    net = MLP([3, 6, 2], activation="tanh", loss="mse", dtype=np.float64, seed=1)
    x0 = net._params.copy()
    net.fit(X, Y, optimizer=LBFGS(tol=0.0), epochs=8, l2=0.05, verbose=0)
    cfg = {"loss": "mse", "loss_mult": 1.0, "loss_per_output": True, "l2": 0.05,
           "l2_batch_scaled": False}
    seen = []
    res = scipy.optimize.minimize(
        lambda p: ref.loss_grad(p, [3, 6, 2], ["tanh", "identity"], [0.01, 0.01], cfg, X, Y),
        x0, method="L-BFGS-B", jac=True, options={"maxiter": 8, "gtol": 0.0},
        callback=lambda intermediate_result: seen.append(intermediate_result.fun))
    assert_close(net._params, res.x, np.float64, kind="trajectory", what="weights")
    np.testing.assert_allclose(net.history_["loss"], seen, rtol=1e-10)
