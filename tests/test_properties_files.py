"""Property tests (hypothesis) of what fastmlp reads and writes (docs/RELIABILITY.md):

* ``io``: random models round-trip through save/load exactly; random damage to a saved
  file (truncation, bit flips, overwritten, inserted or deleted bytes) and random
  replacement of its entries give ModelFileError or a model that works (and saves and
  loads again) -- never another exception;
* the IDX reader: random and half-valid bytes give an array matching the header or a
  ValueError;
* the CSV/NPZ reader of the command line: random text gives finite 2-D features with one
  label per row, or a one-line UserError;
* the command line: random argument lists exit 0 or 2 (130 only on Ctrl-C), with
  one-line errors and never a traceback.

The number of cases per test is its ``max_examples`` (a case hypothesis rejects as
invalid is not counted by hypothesis either): 2,650 in all.
"""
from __future__ import annotations

import atexit
import gzip
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
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from fastmlp import MLP, ForwardOverflowError
from fastmlp.cli import commands as cli
from fastmlp.datasets import read_idx
from fastmlp.io import ModelFileError
from fastmlp.optim import SGD, Adagrad, Adam, RMSprop
from fastmlp.testing import assert_same_model

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # (--import-mode=importlib)
from _property_tools import (  # noqa: E402
    arrays, damage_bytes, json_values, load_or_model_file_error)

SETTINGS = dict(deadline=None, database=None, derandomize=False,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])

_TMP = pathlib.Path(tempfile.mkdtemp(prefix="fastmlp-props-"))
atexit.register(shutil.rmtree, _TMP, ignore_errors=True)


def _path(name: str) -> pathlib.Path:
    return _TMP / name


# ---------------------------------------------------------------------- io: round trips
OPTIMIZERS = {"none": None, "sgd": lambda: SGD(lr=0.05), "momentum": lambda: SGD(lr=0.05, momentum=0.9,
                                                                              nesterov=True),
              "adagrad": lambda: Adagrad(lr=0.05), "rmsprop": lambda: RMSprop(lr=0.01, centered=True,
                                                                             momentum=0.3),
              "adam": lambda: Adam(lr=0.01), "amsgrad": lambda: Adam(lr=0.01, amsgrad=True)}


@st.composite
def models(draw):
    n_in = draw(st.integers(1, 6))
    hidden = draw(st.lists(st.integers(1, 7), max_size=2))
    task = draw(st.sampled_from(["cce", "bce", "mse", "labels-str", "labels-float"]))
    n_out = 1 if task == "bce" else draw(st.integers(2, 4)) if task != "mse" else draw(
        st.integers(1, 3))
    dtype = draw(st.sampled_from(["float32", "float64"]))
    acts = draw(st.lists(st.sampled_from(["relu", "tanh", "sigmoid", "leaky_relu", "identity"]),
                         min_size=len(hidden), max_size=len(hidden)))
    dropout = [draw(st.sampled_from([0.0, 0.25])) for _ in hidden]
    seed = draw(st.one_of(st.none(), st.integers(0, 2**32)))
    net = MLP([n_in, *hidden, n_out], activation=acts, dtype=dtype, seed=seed, dropout=dropout,
              loss={"bce": "bce", "mse": "mse"}.get(task, "cce"),
              input_noise=draw(st.sampled_from([0.0, 0.1])))
    opt = draw(st.sampled_from(sorted(OPTIMIZERS)))
    if OPTIMIZERS[opt] is not None:
        rng = np.random.default_rng(draw(st.integers(0, 99)))
        X = rng.standard_normal((12, n_in))
        if task == "mse":
            y = rng.standard_normal((12, n_out))
        else:
            n_cls = 2 if n_out == 1 else n_out
            pool = {"labels-str": [f"c{i}" for i in range(n_cls)],
                    "labels-float": [0.5 * i - 1 for i in range(n_cls)]}.get(task,
                                                                             list(range(n_cls)))
            y = np.asarray(pool)[np.arange(12) % n_cls]
        net.fit(X, y, epochs=draw(st.integers(1, 2)), batch_size=draw(st.integers(1, 12)),
                optimizer=OPTIMIZERS[opt](), verbose=0)
    return net


@settings(max_examples=150, **SETTINGS)
@given(net=models())
def test_io_round_trip_of_random_models(net):
    back = MLP.load(net.save(_path("rt.npz")))
    assert_same_model(net, back)
    X = np.random.default_rng(0).standard_normal((3, net.layers[0]))
    assert np.array_equal(net.forward(X), back.forward(X))


# ---------------------------------------------------------------------- io: damaged files
def _base_files() -> list:
    rng = np.random.default_rng(7)
    X = rng.standard_normal((20, 4))
    a = MLP([4, 5, 3], seed=1, loss="cce")
    a.fit(X, np.array(["x", "y", "z"])[np.arange(20) % 3], epochs=1,
          optimizer=Adam(lr=0.01, amsgrad=True), verbose=0)
    b = MLP([4, 3, 1], seed=2, dtype=np.float64, loss="mse")
    b.fit(X, X[:, 0], epochs=1, optimizer=RMSprop(lr=0.01, centered=True), verbose=0)
    c = MLP([4, 2], seed=3)  # unfitted, no optimizer state
    return [pathlib.Path(m.save(_path(f"base{i}.npz"))).read_bytes() for i, m in
            enumerate((a, b, c))]


BASES = _base_files()


def _works(net):
    X = np.zeros((2, net.layers[0]))
    assert np.isfinite(net._params).all()
    try:
        out = net.forward(X)
    except ForwardOverflowError:  # finite but huge weights: the clear overflow error, by contract
        event("forward overflowed")
    else:
        assert out.shape == (2, net.layers[-1])


def _load_or_model_file_error(path):
    """The contract: ModelFileError, or a model that works and saves a file that loads."""
    return load_or_model_file_error(path, MLP.load, _works, _path("resaved.npz"))


@st.composite
def damaged(draw):
    return damage_bytes(draw, draw(st.sampled_from(BASES)))


@pytest.mark.slow  # the longest of the suite (25-31 s under load here)
@settings(max_examples=1000, **SETTINGS)
@given(data=damaged())
def test_io_damaged_files_raise_model_file_error_only(data):
    p = _path("damaged.npz")
    p.write_bytes(data)
    _load_or_model_file_error(p)


def _entries(raw: bytes) -> dict:
    p = _path("entries.npz")
    p.write_bytes(raw)
    with np.load(p, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


ENTRIES = [_entries(b) for b in BASES]
JSON_KEYS = ("config", "history", "rng", "optimizer")
@st.composite
def edited(draw):
    entries = dict(draw(st.sampled_from(ENTRIES)))
    key = draw(st.sampled_from(sorted(set(entries) | {"classes", "opt_s3", "optimizer"})))
    how = draw(st.sampled_from(["drop", "array", "json-field", "json-whole", "scale"]))
    if how == "drop":
        entries.pop(key, None)
    elif how == "array":
        entries[key] = draw(arrays)
    elif how == "scale" and key in entries and entries[key].dtype.kind in "fiu":
        a = entries[key].astype(np.float64) * draw(st.sampled_from([-1.0, 0.0, 1e30, np.nan]))
        with np.errstate(invalid="ignore", over="ignore"):
            entries[key] = a.astype(entries[key].dtype)
    else:
        jkey = key if key in JSON_KEYS else draw(st.sampled_from(JSON_KEYS))
        if jkey not in entries:
            entries[jkey] = np.array("{}")
        obj = json.loads(str(entries[jkey]))
        if how == "json-field" and isinstance(obj, dict) and obj:
            field = draw(st.sampled_from(sorted(obj)))
            obj[field] = draw(json_values)
        else:
            obj = draw(json_values)
        entries[jkey] = np.array(json.dumps(obj))
    return entries


@pytest.mark.slow  # the longest of the suite (25-31 s under load here)
@settings(max_examples=600, **SETTINGS)
@given(entries=edited())
def test_io_edited_entries_raise_model_file_error_only(entries):
    p = _path("edited.npz")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # casting NaN to ints while building the case
        np.savez(p, **entries)
    _load_or_model_file_error(p)


# ---------------------------------------------------------------------- the IDX reader
@st.composite
def idx_bytes(draw):
    if draw(st.booleans()):
        raw = draw(st.binary(max_size=200))
    else:
        code = draw(st.sampled_from([0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E, 0x00, 0x0A, 0xFF]))
        ndim = draw(st.integers(0, 4))
        dims = [draw(st.integers(0, 2**32 - 1)) if draw(st.integers(0, 9)) == 0
                else draw(st.integers(0, 5)) for _ in range(ndim)]
        head = bytes([0, draw(st.sampled_from([0, 0, 0, 0, 1])), code, ndim])
        head += b"".join(d.to_bytes(4, "big") for d in dims)
        if draw(st.booleans()):  # a payload of the right size, or off by a few bytes
            itemsize = {0x08: 1, 0x09: 1, 0x0B: 2, 0x0C: 4, 0x0D: 4, 0x0E: 8}.get(code, 1)
            need = int(np.prod(dims, dtype=object)) * itemsize if dims else 0
            if need > 4096:
                need = draw(st.integers(0, 64))
            raw = head + draw(st.binary(min_size=need, max_size=need)) + \
                bytes(draw(st.sampled_from([0, 0, 0, 1, 3])))
        else:
            raw = head + draw(st.binary(max_size=64))
        raw = raw[:len(raw) - draw(st.sampled_from([0, 0, 0, 0, 1, 5]))]
    if draw(st.booleans()):
        raw = gzip.compress(raw)
        if draw(st.booleans()):  # a damaged stream
            raw = raw[:draw(st.integers(0, len(raw)))]
    return raw


@settings(max_examples=300, **SETTINGS)
@given(raw=idx_bytes(), gz_name=st.booleans())
def test_idx_reader_random_bytes(raw, gz_name):
    p = _path("x.idx.gz" if gz_name else "x.idx")
    p.write_bytes(raw)
    try:
        arr = read_idx(p)
    except ValueError:
        event("ValueError")
        return
    event("read")
    assert arr.ndim >= 1 and arr.flags.writeable


# ---------------------------------------------------------------------- the CSV/NPZ reader
csv_text = st.lists(st.sampled_from(list("0123456789.,-+e\n\r\" aNnIif") + [
    "nan", "inf", "\x00", "\u00e9", "label", ",,", "\n1,2,3", "\n4,5,6", "\n7,8,x"]),
    max_size=120).map("".join)


@settings(max_examples=300, **SETTINGS)
@given(text=csv_text, label=st.sampled_from([None, "0", "-1", "label", "9"]),
       need=st.booleans(), npz=st.integers(0, 9))
def test_csv_and_npz_reader_random_content(text, label, need, npz):
    if npz == 0:  # an NPZ made from random arrays
        p = _path("r.npz")
        rng = np.random.default_rng(len(text))
        X = rng.standard_normal((max(1, len(text) % 7), len(text) % 4 + 1))
        X.flat[len(text) % X.size] = [np.nan, np.inf, 1.0][len(text) % 3]
        np.savez(p, X=X, y=np.arange(len(text) % 9))
    else:
        p = _path("r.csv")
        p.write_bytes(text.encode("utf-8", "surrogatepass"))
    try:
        X, y, header = cli._read_file(str(p), label, need)
    except cli.UserError as exc:
        assert "\n" not in cli._one_line(str(exc)) and str(exc)
        event("UserError")
        return
    event("read")
    assert X.ndim == 2 and X.dtype == np.float64 and X.shape[1] >= 1 and len(X) >= 1
    assert np.isfinite(X).all()
    if y is not None:
        assert len(y) == len(X) and y.ndim == 1
        assert y.dtype.kind != "f" or np.isfinite(y).all()
    if need:
        assert y is not None


# ---------------------------------------------------------------------- the command line
def _data_files() -> dict:
    rng = np.random.default_rng(3)
    X = rng.standard_normal((40, 3))
    csv = _path("cli.csv")
    csv.write_text("a,b,c,label\n" + "".join(f"{r[0]:.3f},{r[1]:.3f},{r[2]:.3f},{i % 2}\n"
                                              for i, r in enumerate(X)))
    npz = _path("cli.npz")
    np.savez(npz, X=X, y=np.arange(40) % 3)
    model = MLP([3, 4, 2], seed=0, loss="cce").save(_path("cli-model.npz"))
    return {"csv": str(csv), "npz": str(npz), "model": model}


FILES = _data_files()
_VALUES = {
    "--epochs": ["1", "2", "0", "-1", "x", "1.5"],
    "--batch-size": ["1", "7", "100000", "0", "-3", "b"],
    "--hidden": ["4", "3-2", "0", "", "a", "4-", "100000000-100000000", "-".join(["2"] * 70)],
    "--layers": ["3-4-2", "64-8-10", "2-2", "x", "3"],
    "--lr": ["0.1", "0", "-1", "nan", "inf", "1e308", "z"],
    "--momentum": ["0.5", "-0.1", "2", "nan"],
    "--l2": ["0", "0.01", "-1", "inf"],
    "--dropout": ["0", "0.5", "1", "-0.1", "nan"],
    "--activation": ["relu", "tanh", "step", "swish", ""],
    "--output-activation": ["sigmoid", "softmax", "identity", "bogus"],
    "--loss": ["auto", "cce", "bce", "mse", "mae", "quadratic", "hinge"],
    "--optimizer": ["sgd", "adam", "rmsprop", "adagrad", "adamw", "nope"],
    "--threads": ["1", "2", "-1", "0", "t"],
    "--seed": ["0", "7", "-1", "2**70", "s"],
    "--dtype": ["float32", "float64", "float16"],
    "--validation-split": ["0", "0.2", "1", "-0.5", "nan"],
    "--test-split": ["0", "0.3", "1", "2"],
    "--scale": ["auto", "standard", "minmax", "none", "log"],
    "--task": ["auto", "classification", "regression", "ranking"],
    "--dataset": ["xor", "spirals", "sine", "digits", "nope", "mnist-but-not"],
    "--data": [FILES["csv"], FILES["npz"], "/dev/zero", str(_TMP), str(_TMP / "missing.csv"),
               FILES["model"]],
    "--label-column": ["label", "0", "-1", "99", "nope"],
    "--max-rows": ["10", "100000", "0", "-1"],
    "--max-size": ["1K", "1M", "0", "huge"],
    "--output": [str(_TMP / "out.npz"), str(_TMP / "no-such-dir" / "o.npz"), str(_TMP)],
    "--split": ["test", "train", "validation"],
}
_FLAGS = ["-q", "--save-on-interrupt", "--proba", "--help", "--bogus-flag"]


@st.composite
def argvs(draw):
    command = draw(st.sampled_from(["train", "train", "train", "evaluate", "predict", "info",
                                    "demo", "", "frobnicate"]))
    argv = [command] if command else []
    if command in ("evaluate", "predict"):
        argv.append(draw(st.sampled_from([FILES["model"], FILES["csv"], "/dev/null",
                                          str(_TMP / "none.npz")])))
    if command == "demo":
        argv.append(draw(st.sampled_from(["list", "nope", "--bogus"])))
        return argv
    for _ in range(draw(st.integers(0, 6))):
        if draw(st.integers(0, 5)) == 0:
            argv.append(draw(st.sampled_from(_FLAGS)))
        else:
            opt = draw(st.sampled_from(sorted(_VALUES)))
            argv += [opt, draw(st.sampled_from(_VALUES[opt]))]
    if command == "train" and "--dataset" not in argv and "--data" not in argv:
        argv += ["--dataset", draw(st.sampled_from(["xor", "sine"]))]
    if command == "train":
        argv += ["--epochs", "1"] if "--epochs" not in argv else []
        argv += ["--threads", "1"] if "--threads" not in argv else []
    return argv


@settings(max_examples=300, **SETTINGS)
@given(argv=argvs())
def test_cli_random_arguments(capsys, argv):
    assume("--help" not in argv or argv[:1] != ["demo"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # warnings are not failures of this contract
        code = cli.main(argv)
    out, err = capsys.readouterr()
    event(f"exit {code}")
    assert code in (0, 2), (argv, code, err)
    assert "Traceback" not in err
    if code == 2:
        lines = [ln for ln in err.strip().splitlines() if " error: " in ln]
        assert len(lines) == 1 and lines[0].startswith("fastmlp"), (argv, err)
        assert err.strip().splitlines()[-1] == lines[0], (argv, err)
