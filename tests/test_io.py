"""Save and load: round trips, continuing training after a reload, atomic writes,
and clear errors for damaged, truncated, foreign and future-version files."""
from __future__ import annotations

import json
import os
import pathlib
import zipfile

import numpy as np
import pytest

import fastmlp
from fastmlp import MLP, io
from fastmlp.io import ModelFileError
from fastmlp.optim import SGD, Adam, RMSprop
from fastmlp.testing import assert_same_model


def _trained(dtype=np.float32, labels=None, epochs=2):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 4))
    y = rng.integers(0, 3, 60) if labels is None else np.asarray(labels)[rng.integers(0, 3, 60)]
    net = MLP([4, 7, 3], activation="tanh", seed=3, dtype=dtype, dropout=0.25, input_noise=0.05)
    net.fit(X, y, epochs=epochs, optimizer=Adam(lr=0.01, amsgrad=True), validation_split=0.2,
            verbose=0)
    return net, X, y


@pytest.mark.parametrize("labels", [None, ["cat", "dog", "eel"], [10, 20, 30]])
def test_round_trip(tmp_path, dtype, labels):
    net, X, _ = _trained(dtype, labels)
    path = net.save(tmp_path / "model")
    assert path == str(tmp_path / "model.npz") and os.path.exists(path)
    back = MLP.load(path)
    assert_same_model(net, back)
    assert np.array_equal(net.predict(X), back.predict(X))
    with np.load(path, allow_pickle=False) as z:  # plain arrays only
        assert str(z["format"]) == "fastmlp.MLP" and int(z["format_version"]) == io.FORMAT_VERSION
        assert str(z["fastmlp_version"]) == fastmlp.__version__


def test_round_trip_of_an_unfitted_regressor(tmp_path):
    net = MLP("3-5-2", loss="mse", seed=1)
    back = MLP.load(net.save(tmp_path / "r.npz"), n_threads=1)
    assert_same_model(net, back)
    assert back.n_threads == 1


@pytest.mark.parametrize("opt", [Adam(lr=0.01), SGD(lr=0.05, momentum=0.9, nesterov=True),
                                 RMSprop(lr=0.01, centered=True, momentum=0.5)])
def test_save_load_continue_equals_training_without_the_break(tmp_path, opt):
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((70, 5)), rng.integers(0, 2, 70)
    kw = dict(batch_size=8, optimizer=opt, verbose=0)
    whole = MLP([5, 9, 2], seed=4, dropout=0.3, input_noise=0.1).fit(X, y, epochs=6, **kw)
    part = MLP([5, 9, 2], seed=4, dropout=0.3, input_noise=0.1).fit(X, y, epochs=3, **kw)
    resumed = MLP.load(part.save(tmp_path / "ckpt.npz")).fit(X, y, epochs=3, **kw)
    assert np.array_equal(resumed._params, whole._params)
    assert resumed.history_["loss"] == pytest.approx(whole.history_["loss"])
    assert resumed._opt_state["step"] == whole._opt_state["step"] == 6 * 9


def test_write_is_atomic(tmp_path, monkeypatch):
    net, _, _ = _trained()
    path = net.save(tmp_path / "m.npz")
    before = pathlib.Path(path).read_bytes()
    other = MLP([4, 7, 3], seed=99)

    def boom(f, **arrays):
        f.write(b"partial garbage")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", boom)
    with pytest.raises(OSError, match="disk full"):
        other.save(path)
    assert pathlib.Path(path).read_bytes() == before  # the old file is untouched
    assert sorted(os.listdir(tmp_path)) == ["m.npz"]  # and no temporary file is left
    monkeypatch.undo()
    other.save(path)  # a successful save replaces it
    assert np.array_equal(MLP.load(path)._params, other._params)


def _damaged(tmp_path, data: bytes) -> str:
    p = tmp_path / "bad.npz"
    p.write_bytes(data)
    return str(p)


def test_damaged_and_truncated_files(tmp_path):
    net, _, _ = _trained()
    good = pathlib.Path(net.save(tmp_path / "good.npz")).read_bytes()
    for cut in (len(good) // 2, len(good) - 30, 100):
        with pytest.raises(ModelFileError, match="damaged, truncated or not an .npz"):
            MLP.load(_damaged(tmp_path, good[:cut]))
    flipped = bytearray(good)
    flipped[len(good) // 3] ^= 0xFF  # inside the stored data: a CRC mismatch
    with pytest.raises(ModelFileError):
        MLP.load(_damaged(tmp_path, bytes(flipped)))
    with pytest.raises(ModelFileError, match="not a readable fastmlp model"):
        MLP.load(_damaged(tmp_path, b"hello, not a zip file" * 10))
    with pytest.raises(FileNotFoundError):
        MLP.load(tmp_path / "missing.npz")


def _rewrite(tmp_path, src, drop=(), **replace):
    with np.load(src, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files if k not in drop}
    arrays.update(replace)
    dst = tmp_path / "edited.npz"
    np.savez(dst, **arrays)
    return str(dst)


def test_foreign_incomplete_inconsistent_and_future_files(tmp_path):
    net, _, _ = _trained()
    src = net.save(tmp_path / "good.npz")
    np.savez(tmp_path / "foreign.npz", weights=np.zeros(3))
    with pytest.raises(ModelFileError, match="not a fastmlp model"):
        MLP.load(tmp_path / "foreign.npz")
    np.save(tmp_path / "single.npy", np.zeros(3))
    with pytest.raises(ModelFileError, match="single .npy array"):
        MLP.load(tmp_path / "single.npy")
    with pytest.raises(ModelFileError, match=r"missing entries \['params'\]"):
        MLP.load(_rewrite(tmp_path, src, drop=("params",)))
    with pytest.raises(ModelFileError, match=r"params has float32 \(10,\)"):
        MLP.load(_rewrite(tmp_path, src, params=np.zeros(10, np.float32)))
    with pytest.raises(ModelFileError, match="params contain NaN"):
        MLP.load(_rewrite(tmp_path, src, params=np.full(net.n_params, np.nan, np.float32)))
    with pytest.raises(ModelFileError, match="opt_s1 has"):
        MLP.load(_rewrite(tmp_path, src, opt_s1=np.zeros(3)))
    with pytest.raises(ModelFileError, match="'config' is not valid JSON"):
        MLP.load(_rewrite(tmp_path, src, config=np.array("{broken")))
    cfg = json.loads(str(np.load(src)["config"]))
    with pytest.raises(ModelFileError, match="config 'layers' should be 2 to 65"):
        MLP.load(_rewrite(tmp_path, src, config=np.array(json.dumps({**cfg, "layers": [4]}))))
    with pytest.raises(ModelFileError, match=r"format 7 by fastmlp 9.9.*reads formats 1 to 1.*"
                                             r"Upgrade fastmlp"):
        MLP.load(_rewrite(tmp_path, src, format_version=np.array(7),
                          fastmlp_version=np.array("9.9")))
    # an object array needs pickle, which load refuses
    with zipfile.ZipFile(tmp_path / "pickled.npz", "w") as zf:
        for k in ("format", "format_version", "fastmlp_version", "config", "history", "rng"):
            with np.load(src) as z, zf.open(k + ".npy", "w") as f:
                np.lib.format.write_array(f, z[k])
        with zf.open("params.npy", "w") as f:
            np.lib.format.write_array(f, np.array([{"evil": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ModelFileError, match="holds Python objects"):
        MLP.load(tmp_path / "pickled.npz")


def test_mixed_type_labels_cannot_be_saved(tmp_path):
    net, _, _ = _trained()
    net.classes_ = np.array([1, "a", None], dtype=object)
    with pytest.raises(ValueError, match="mixed types"):
        net.save(tmp_path / "x.npz")
