"""Saving the scikit-learn drop-ins without pickle (fastmlp/sklearn/_persist.py).

* Round trips: every hyper-parameter and fitted attribute comes back, bit for bit and
  type for type (:func:`fastmlp.testing.assert_same_model`); the loaded estimator
  predicts identically and -- against a twin that was never saved -- continues with
  ``partial_fit`` (or a ``warm_start`` fit) identically, bit for bit.
* Damaged files: random damage to a saved drop-in (truncation, bit flips, overwritten,
  inserted or deleted bytes) and random replacement of its entries give
  ``ModelFileError`` or an estimator that works and saves a file that loads -- never
  another exception.
* Faults while saving leave the old file and no temporary file.
"""
from __future__ import annotations

import atexit
import json
import os
import pathlib
import shutil
import sys
import tempfile
import warnings
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import fastmlp
from fastmlp import io
from fastmlp.io import ModelFileError
from fastmlp.sklearn import MLPClassifier, MLPRegressor, Perceptron
from fastmlp.testing import assert_same_model

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # (--import-mode=importlib)
from _property_tools import (  # noqa: E402
    arrays, damage_bytes, json_values, load_or_model_file_error)

pytestmark = [pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]
SETTINGS = dict(deadline=None, database=None, derandomize=True,
                suppress_health_check=list(HealthCheck))
_TMP = pathlib.Path(tempfile.mkdtemp(prefix="fastmlp-dropins-"))
atexit.register(shutil.rmtree, _TMP, ignore_errors=True)

RNG = np.random.default_rng(0)
X = RNG.standard_normal((60, 4))
X32 = X.astype(np.float32)
Y3 = np.array(["ant", "bee", "cat"])[np.arange(60) % 3]
Y2 = np.arange(60) % 2
YML = np.stack([np.arange(60) % 2, (np.arange(60) // 2) % 2, np.arange(60) % 3 == 0],
               axis=1).astype(int)
YR = X @ [1.0, -2.0, 0.5, 0.0]
YR2 = np.stack([YR, X[:, 0] ** 2], axis=1)


def _twins(make):
    """Two estimators built alike (one is saved and loaded, the other never)."""
    return make(), make()


# name -> (constructor, X, y, fit keywords, partial_fit keywords or None)
CASES = {
    "clf-adam-str": (lambda: MLPClassifier((5,), max_iter=3, random_state=0), X, Y3, {}, {}),
    "clf-sgd-binary-f32": (lambda: MLPClassifier((4, 3), solver="sgd", momentum=0.8,
                                                 learning_rate="invscaling", max_iter=3,
                                                 random_state=1), X32, Y2, {}, {}),
    "clf-rmsprop-multilabel": (lambda: MLPClassifier(
        (6,), solver="rmsprop", max_iter=2, random_state=np.random.RandomState(5),
        optimizer_params={"alpha": 0.9}), X, YML, {}, {}),
    "clf-adamw-earlystop": (lambda: MLPClassifier(
        (5,), solver="adamw", early_stopping=True, validation_fraction=0.2, max_iter=4,
        random_state=2, class_weight={"ant": 2.0, "bee": 1.0, "cat": 0.5},
        fix_sklearn_bugs={"stratify_multiclass"}), X, Y3, {}, None),
    "clf-lbfgs": (lambda: MLPClassifier((5,), solver="lbfgs", max_iter=5, random_state=0,
                                        warm_start=True), X, Y3, {}, None),
    "clf-adagrad-dropout": (lambda: MLPClassifier(
        (6, 4), solver="adagrad", dropout=[0.2, 0.1], max_iter=2, random_state=3,
        n_iter_no_change=np.inf), X, Y2, {"sample_weight": np.linspace(0.5, 2, 60)}, {}),
    "clf-batchnorm": (lambda: MLPClassifier((6, 5), solver="sgd", norm=["batch", "layer"],
                                            max_iter=3, random_state=4), X, Y3, {}, {}),
    "reg-layernorm-f32": (lambda: MLPRegressor(hidden_layer_sizes=(5,), norm="layer",
                                               max_iter=2, random_state=0), X32, YR, {}, {}),
    "reg-adam": (lambda: MLPRegressor(hidden_layer_sizes=(5,), max_iter=3, random_state=0),
                 X, YR, {}, {}),
    "reg-sgd-2out-f32": (lambda: MLPRegressor(hidden_layer_sizes=(4,), solver="sgd",
                                              learning_rate="adaptive", max_iter=3,
                                              random_state=np.random.RandomState(1)),
                         X32, YR2, {}, {}),
    "reg-poisson": (lambda: MLPRegressor(loss="poisson", hidden_layer_sizes=(3,), max_iter=2,
                                         random_state=0), X, np.abs(YR), {}, {}),
    "reg-lbfgs": (lambda: MLPRegressor(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=4,
                                       random_state=0, warm_start=True), X, YR, {}, None),
    "perceptron-multi": (lambda: Perceptron(max_iter=4, random_state=0), X, Y3, {}, {}),
    "perceptron-binary-f32": (lambda: Perceptron(penalty="elasticnet", alpha=1e-3,
                                                 max_iter=3, class_weight={0: 2.0, 1: 1.0}),
                              X32, Y2, {}, {}),
    "perceptron-earlystop": (lambda: Perceptron(early_stopping=True, max_iter=5,
                                                random_state=1, warm_start=True),
                             X, Y3, {}, None),
}


def _predictions(est, Xp):
    out = [est.predict(Xp)]
    for name in ("predict_proba", "decision_function"):
        if hasattr(est, name):
            out.append(getattr(est, name)(Xp))
    return out


def _assert_same_predictions(a, b, Xp):
    for pa, pb in zip(_predictions(a, Xp), _predictions(b, Xp)):
        assert pa.dtype == pb.dtype and np.array_equal(pa, pb)


@pytest.mark.parametrize("case", sorted(CASES))
def test_round_trip_predicts_and_continues_identically(tmp_path, case):
    make, Xf, yf, fit_kw, pf_kw = CASES[case]
    est, twin = _twins(make)
    est.fit(Xf, yf, **fit_kw)
    twin.fit(Xf, yf, **fit_kw)
    path = est.save(tmp_path / "model")
    assert path.endswith(".npz")
    with zipfile.ZipFile(path) as zf:  # plain arrays only: np.load without pickle reads it
        assert all(i.compress_type == zipfile.ZIP_STORED for i in zf.infolist())
    with np.load(path, allow_pickle=False) as z:
        assert str(z["format"]) == f"fastmlp.sklearn.{type(est).__name__}"
    back = type(est).load(path)
    assert_same_model(est, back)
    assert_same_model(twin, back, timings=False)
    _assert_same_predictions(twin, back, Xf[:17])
    if pf_kw is not None:  # one more epoch on both
        kw = dict(pf_kw)
        for m in (twin, back):
            m.partial_fit(Xf[:40], yf[:40], **kw)
    else:  # warm_start (or a fresh fit from the same random state)
        for m in (twin, back):
            m.fit(Xf[:50], yf[:50])
    assert_same_model(twin, back, timings=False)
    _assert_same_predictions(twin, back, Xf)


def test_fastmlp_io_reads_and_writes_the_drop_ins(tmp_path):
    est = MLPRegressor(hidden_layer_sizes=(3,), max_iter=2, random_state=0).fit(X, YR)
    back = fastmlp.load(io.save(est, tmp_path / "r.npz"), n_threads=1)
    assert type(back) is MLPRegressor and back.n_threads == 1
    assert np.array_equal(back.predict(X), est.predict(X))


def test_unfitted_estimators_round_trip(tmp_path):
    for est in (MLPClassifier(hidden_layer_sizes=[7, 3], class_weight={1: 2.0, 0: 1.0},
                              fix_sklearn_bugs=frozenset({"restore_best_weights"})),
                MLPRegressor(dropout=(0.1,), optimizer_params={"weight_decay": 0.01}),
                Perceptron(penalty="l1", random_state=np.random.RandomState(3))):
        back = type(est).load(est.save(tmp_path / "u"))
        assert_same_model(est, back)
        assert not hasattr(back, "classes_") and not hasattr(back, "coefs_")


def test_feature_names_round_trip(tmp_path):
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    est = MLPClassifier((3,), max_iter=2, random_state=0).fit(df, Y3)
    back = MLPClassifier.load(est.save(tmp_path / "f"))
    assert_same_model(est, back)
    assert list(back.feature_names_in_) == ["a", "b", "c", "d"]
    assert np.array_equal(back.predict(df), est.predict(df))


def test_load_refuses_another_class(tmp_path):
    path = MLPRegressor(max_iter=1, random_state=0).fit(X, YR).save(tmp_path / "r")
    with pytest.raises(ModelFileError, match="holds a MLPRegressor, not a MLPClassifier"):
        MLPClassifier.load(path)
    mlp_path = fastmlp.MLP([4, 3, 2], seed=0).save(tmp_path / "m")
    with pytest.raises(ModelFileError, match="holds a MLP, not a Perceptron"):
        Perceptron.load(mlp_path)


def test_save_refuses_what_load_would_refuse(tmp_path):
    est = MLPClassifier((3,), max_iter=1, random_state=0).fit(X, Y2)
    est.coefs_[0][0, 0] = np.nan
    with pytest.raises(ValueError, match="coefs_.0. contains NaN"):
        est.save(tmp_path / "nan")
    est = MLPClassifier((3,), max_iter=1, random_state=0).fit(X, Y2)
    est.my_cache_ = 3
    with pytest.raises(ValueError, match="my_cache_"):
        est.save(tmp_path / "extra")
    mixed = Perceptron(max_iter=2).fit(X, np.array(["a", 1] * 30, dtype=object).astype(str))
    mixed.classes_ = np.array(["a", 1], dtype=object)
    with pytest.raises(ValueError, match="without pickle"):
        mixed.save(tmp_path / "mixed")
    assert not list(tmp_path.iterdir())  # nothing written


# ---------------------------------------------------------------------- faults while saving
@pytest.mark.parametrize("where", ["fsync", "replace"])
@pytest.mark.parametrize("exc", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_a_failing_save_leaves_the_old_file(tmp_path, monkeypatch, where, exc):
    path = tmp_path / "m.npz"
    old = Perceptron(max_iter=2).fit(X, Y3)
    old.save(path)
    before = path.read_bytes()
    new = MLPClassifier((3,), max_iter=1, random_state=0).fit(X, Y3)

    def fail(*a, **k):
        raise exc

    monkeypatch.setattr(os, where, fail)
    with pytest.raises(type(exc)):
        new.save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]
    assert type(io.load(path)) is Perceptron


# ---------------------------------------------------------------------- damaged files
def _bases() -> list:
    out = []
    for i, case in enumerate(("clf-adam-str", "clf-rmsprop-multilabel", "reg-sgd-2out-f32",
                              "perceptron-multi")):
        make, Xf, yf, fit_kw, _ = CASES[case]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est = make().fit(Xf, yf, **fit_kw)
        out.append(pathlib.Path(est.save(_TMP / f"base{i}.npz")).read_bytes())
    return out


BASES = _bases()


def _works(est):
    if hasattr(est, "coefs_") or hasattr(est, "coef_"):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                assert len(est.predict(np.zeros((2, est.n_features_in_)))) == 2
        except fastmlp.ForwardOverflowError:
            event("forward overflowed")


def _load_or_model_file_error(path):
    """The contract: ModelFileError, or an estimator that works and saves a file that loads."""
    return load_or_model_file_error(path, io.load, _works, _TMP / "resaved.npz")


@st.composite
def damaged(draw):
    return damage_bytes(draw, draw(st.sampled_from(BASES)))


@settings(max_examples=300, **SETTINGS)
@given(data=damaged())
def test_damaged_drop_in_files_raise_model_file_error_only(data):
    p = _TMP / "damaged.npz"
    p.write_bytes(data)
    _load_or_model_file_error(p)


def _entries(raw: bytes) -> dict:
    p = _TMP / "entries.npz"
    p.write_bytes(raw)
    with np.load(p, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


ENTRIES = [_entries(b) for b in BASES]
def _json_paths(tree, path=()):
    """Every place in a JSON tree (for replacing one value)."""
    yield path
    if isinstance(tree, list):
        for i, x in enumerate(tree):
            yield from _json_paths(x, path + (i,))
    elif isinstance(tree, dict):
        for k, x in tree.items():
            yield from _json_paths(x, path + (k,))


def _replace(tree, path, value):
    if not path:
        return value
    tree[path[0]] = _replace(tree[path[0]], path[1:], value)
    return tree


@st.composite
def edited(draw):
    entries = dict(draw(st.sampled_from(ENTRIES)))
    key = draw(st.sampled_from(sorted(entries)))
    how = draw(st.sampled_from(["drop", "array", "scale", "json"]))
    if how == "drop":
        del entries[key]
    elif how == "array":
        entries[key] = draw(arrays)
    elif how == "scale" and entries[key].dtype.kind == "f":
        with np.errstate(invalid="ignore", over="ignore"):
            entries[key] = entries[key] * draw(st.sampled_from([-1.0, 0.0, 1e30, np.inf,
                                                                np.nan]))
    else:
        k = draw(st.sampled_from(["params", "state"]))
        tree = json.loads(str(entries[k]))
        paths = list(_json_paths(tree))
        where = draw(st.sampled_from(paths))
        entries[k] = np.array(json.dumps(_replace(tree, where, draw(json_values))))
    return entries


@settings(max_examples=250, **SETTINGS)
@given(entries=edited())
def test_drop_in_files_with_an_entry_replaced(entries):
    p = _TMP / "edited.npz"
    with open(p, "wb") as f:
        np.savez(f, **entries)
    _load_or_model_file_error(p)
