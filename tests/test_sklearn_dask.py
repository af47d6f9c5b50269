"""Scale-out: the drop-ins under Dask-ML's Incremental and joblib's Dask backend.

* ``dask_ml.wrappers.Incremental`` feeds a Dask array of several chunks to
  ``partial_fit`` one block at a time; the result must equal the same
  partial_fit calls made by hand on the NumPy blocks, and scikit-learn's
  MLPClassifier fed the same blocks.
* ``GridSearchCV(n_jobs=-1)`` under ``joblib.parallel_config(backend="dask")``
  on a ``dask.distributed.LocalCluster`` (a real scheduler and worker
  processes talking TCP on 127.0.0.1): the fits run in the workers, which
  unpickle the estimators, and the cross-validation scores must equal those
  of a local run.

Skipped when Dask is not installed (it is in the ``test`` extra, so CI runs
them).
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn", reason="the scikit-learn drop-ins need scikit-learn")
da = pytest.importorskip("dask.array", reason="needs dask (pip install 'fastmlp[dask]')")
dask_ml_wrappers = pytest.importorskip("dask_ml.wrappers", reason="needs dask-ml")
distributed = pytest.importorskip("distributed", reason="needs dask.distributed")

import joblib  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.neural_network import MLPClassifier as SkMLPC  # noqa: E402

from fastmlp.sklearn import MLPClassifier, MLPRegressor, Perceptron  # noqa: E402
from fastmlp.testing import assert_close  # noqa: E402

CHUNK = 100


def _data(n=400):
    X, y = make_classification(n, 12, n_informative=6, n_classes=3, random_state=0)
    return X, y


@pytest.mark.parametrize("make", [
    lambda cls: cls(hidden_layer_sizes=(16,), solver="sgd", learning_rate_init=0.05,
                    random_state=0),
    lambda cls: cls(hidden_layer_sizes=(16,), solver="adam", random_state=0),
], ids=["sgd", "adam"])
def test_incremental_partial_fit_over_dask_chunks(make):
    X, y = _data()
    Xd = da.from_array(X, chunks=(CHUNK, X.shape[1]))
    yd = da.from_array(y, chunks=CHUNK)
    assert Xd.numblocks[0] == 4  # larger than one chunk
    inc = dask_ml_wrappers.Incremental(make(MLPClassifier), scoring="accuracy",
                                       shuffle_blocks=False)
    inc.fit(Xd, yd, classes=[0, 1, 2])
    by_hand, sk = make(MLPClassifier), make(SkMLPC)
    for lo in range(0, len(y), CHUNK):
        by_hand.partial_fit(X[lo:lo + CHUNK], y[lo:lo + CHUNK], classes=[0, 1, 2])
        sk.partial_fit(X[lo:lo + CHUNK], y[lo:lo + CHUNK], classes=[0, 1, 2])
    fitted = inc.estimator_
    assert fitted.t_ == by_hand.t_ == sk.t_ == len(y)
    for a, b, c in zip(fitted.coefs_ + fitted.intercepts_, by_hand.coefs_ + by_hand.intercepts_,
                       sk.coefs_ + sk.intercepts_):
        np.testing.assert_array_equal(a, b)
        assert_close(a, c, np.float64, kind="trajectory", what="Incremental vs scikit-learn")
    assert inc.score(Xd, yd) == pytest.approx(by_hand.score(X, y))
    np.testing.assert_array_equal(inc.predict(Xd).compute(), by_hand.predict(X))


def test_incremental_regressor_and_perceptron():
    X, y = _data()
    Xd = da.from_array(X, chunks=(CHUNK, X.shape[1]))
    reg = dask_ml_wrappers.Incremental(MLPRegressor(hidden_layer_sizes=(8,), random_state=0),
                                       shuffle_blocks=False)
    reg.fit(Xd, da.from_array(y.astype(float), chunks=CHUNK))
    assert reg.estimator_.t_ == len(y)
    per = dask_ml_wrappers.Incremental(Perceptron(), shuffle_blocks=False)
    per.fit(Xd, da.from_array(y, chunks=CHUNK), classes=[0, 1, 2])
    by_hand = Perceptron()
    for lo in range(0, len(y), CHUNK):
        by_hand.partial_fit(X[lo:lo + CHUNK], y[lo:lo + CHUNK], classes=[0, 1, 2])
    np.testing.assert_array_equal(per.estimator_.coef_, by_hand.coef_)


@pytest.mark.slow
def test_gridsearch_on_a_local_dask_cluster():
    X, y = _data(300)
    grid_params = {"alpha": [1e-4, 1e-1], "hidden_layer_sizes": [(8,), (16,)]}
    est = MLPClassifier(max_iter=15, random_state=0, n_threads=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        local = GridSearchCV(est, grid_params, cv=3).fit(X, y)
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      host="127.0.0.1", dashboard_address=None) as cluster, \
                distributed.Client(cluster) as client:
            assert all(addr.startswith("tcp://127.0.0.1:")
                       for addr in client.scheduler_info()["workers"])
            with joblib.parallel_config(backend="dask"):
                remote = GridSearchCV(est, grid_params, cv=3, n_jobs=-1).fit(X, y)
    assert remote.best_params_ == local.best_params_
    np.testing.assert_allclose(remote.cv_results_["mean_test_score"],
                               local.cv_results_["mean_test_score"], rtol=0, atol=0)
    np.testing.assert_array_equal(remote.predict(X), local.predict(X))
