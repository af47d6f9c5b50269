"""Shared machinery of the property tests (tests/test_properties_*.py): generated data
with tagged corruptions, a deep snapshot of an estimator's state, and the contract
check -- a clear exception naming a corrupted argument and an unchanged model, or a
finite result.  Case counts are added up per area and written at the end of the
session (see ``report``)."""
from __future__ import annotations

import collections
import copy
import json
import os
import re
import warnings
from typing import Any, Callable, Optional

import numpy as np
import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

#: reproducible in CI (derandomize), no wall-clock deadline on a loaded machine
SETTINGS = dict(deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))
CASES: collections.Counter = collections.Counter()
FAILURES: collections.Counter = collections.Counter()


def prop_settings(n: int):
    return settings(max_examples=n, **SETTINGS)


@pytest.fixture(scope="module", autouse=True)
def report_counts(pytestconfig):
    """Print the case counts after a module's tests (import it into the test module)."""
    yield
    line = report()
    capman = pytestconfig.pluginmanager.getplugin("capturemanager")
    with capman.global_and_fixture_disabled():
        print("\n" + line)


def draw_sizes(draw, n_min: int, n_max: int, k_max: int) -> tuple:
    """(n samples, d features, k classes, a generator) for one generated case."""
    n = draw(st.integers(n_min, n_max))
    d = draw(st.integers(1, 4))
    k = draw(st.integers(2, k_max))
    return n, d, k, np.random.default_rng(draw(st.integers(0, 2**16)))


def params_case(draw, table: dict, p_bad: int, p_good: int) -> tuple[dict, set]:
    """(keyword arguments, names set to an invalid value) drawn from ``table``
    (name -> (valid values, invalid values)): each name invalid with probability
    1/(p_bad + 1) (valid instead when it has no invalid values), valid with
    (p_good - 1)/(p_bad + 1), else left out."""
    params, bad = {}, set()
    for name, (good, wrong) in table.items():
        r = draw(st.integers(0, p_bad))
        if r == 0 and wrong:
            params[name] = draw(st.sampled_from(wrong))
            bad.add(name)
        elif r < p_good:
            params[name] = draw(st.sampled_from(good))
    return params, bad


# ---------------------------------------------------------------- damaged files
def damage_bytes(draw, raw: bytes) -> bytes:
    """``raw`` (a saved model) randomly damaged: truncated, bits flipped, bytes
    overwritten, inserted, deleted or zeroed, or a zip header field overwritten."""
    data = bytearray(raw)
    n = len(data)
    kind = draw(st.sampled_from(["truncate", "flip", "overwrite", "insert", "delete", "zero",
                                 "header"]))
    if kind == "truncate":
        return bytes(data[:draw(st.integers(0, n - 1))])
    if kind == "flip":
        for _ in range(draw(st.integers(1, 8))):
            i = draw(st.integers(0, n - 1))
            data[i] ^= 1 << draw(st.integers(0, 7))
        return bytes(data)
    i = draw(st.integers(0, n - 1))
    if kind == "overwrite":
        junk = draw(st.binary(min_size=1, max_size=64))
        data[i:i + len(junk)] = junk
    elif kind == "insert":
        data[i:i] = draw(st.binary(min_size=1, max_size=64))
    elif kind == "delete":
        del data[i:i + draw(st.integers(1, 64))]
    elif kind == "zero":
        data[i:i + draw(st.integers(1, 256))] = bytes(min(n - i, 256))[:len(data[i:i + 256])]
    else:  # a header field: within 64 bytes after a zip signature, where sizes and flags live
        sigs = [j for j in range(n - 4) if data[j:j + 2] == b"PK" and data[j + 2] in (1, 3, 5)]
        j = draw(st.sampled_from(sigs)) + draw(st.integers(4, 45))
        field = draw(st.sampled_from([b"\xff\xff\xff\xff", b"\x00\x00\x00\x00", b"\x01",
                                      b"\x08\x00", b"\x63\x00", b"\xff\xff"]))
        data[j:j + len(field)] = field
    return bytes(data)


def load_or_model_file_error(path: Any, load: Callable, check_loaded: Callable,
                             resave_to: Any) -> Any:
    """The contract of loading a damaged file: ModelFileError, or a model that passes
    ``check_loaded`` and saves a file that loads again (hypothesis events say which)."""
    from fastmlp.io import ModelFileError

    try:
        model = load(path)
    except ModelFileError as exc:
        event("ModelFileError: " + str(exc).split(": ", 1)[1][:40])
        return None
    event("loaded")
    check_loaded(model)
    load(model.save(resave_to))
    return model


#: values to put into a file's JSON entries, and arrays to put in place of its members
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=True)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                 max_size=4),
    max_leaves=12)
arrays = hnp.arrays(dtype=st.sampled_from([np.float32, np.float64, np.float16, np.int64,
                                           np.uint8, np.bool_, np.complex64, "<U3"]),
                    shape=hnp.array_shapes(min_dims=0, max_dims=2, max_side=6))


# ---------------------------------------------------------------- corruptions
#: X corruptions: (kind, invalid?) -- invalid ones must raise naming X; 'huge' may
#: overflow (a DivergenceError or ForwardOverflowError is then the right answer)
X_KINDS = ["ok", "ok", "ok", "int", "nan", "inf", "ninf", "huge", "1d", "3d", "empty", "str",
           "complex", "object_none", "features"]
X_INVALID = {"nan", "inf", "ninf", "1d", "3d", "empty", "str", "complex", "object_none",
             "features"}
Y_KINDS = ["ok", "ok", "ok", "str", "none", "nan", "mixed", "short", "long", "2d", "complex",
           "one_class", "float_labels"]
Y_INVALID = {"none", "nan", "mixed", "short", "long", "2d", "complex", "one_class"}
SW_KINDS = ["none", "none", "ok", "nan", "inf", "complex", "short", "2d", "str", "negative"]
SW_INVALID = {"nan", "inf", "complex", "short", "2d", "str"}


def make_X(kind: str, n: int, d: int, rng: np.random.Generator, dtype=np.float64) -> Any:
    X = rng.standard_normal((n, d)).astype(dtype)
    if kind == "int":
        return rng.integers(-3, 4, (n, d))
    if kind in ("nan", "inf", "ninf"):
        X[rng.integers(n), rng.integers(d)] = {"nan": np.nan, "inf": np.inf, "ninf": -np.inf}[kind]
    elif kind == "huge":
        X = X.astype(np.float64)
        i = rng.integers(n)  # huge but finite in dtype
        X[i] = np.sign(X[i]) * float(np.finfo(dtype).max) * rng.uniform(0.1, 0.5, d)
    elif kind == "1d":
        return X[:, 0]
    elif kind == "3d":
        return X[:, :, None]
    elif kind == "empty":
        return X[:0]
    elif kind == "str":
        X = X.astype(object)
        X[rng.integers(n), rng.integers(d)] = "a"
        return X if rng.random() < 0.5 else [["a"] * d] * n
    elif kind == "complex":
        return X * (1 + 1j)
    elif kind == "object_none":
        X = X.astype(object)
        X[0, 0] = None
        return X
    elif kind == "features":
        return rng.standard_normal((n, d + 1 + int(rng.integers(3))))
    return X


def make_labels(kind: str, n: int, k: int, rng: np.random.Generator) -> Any:
    base = np.arange(n) % k  # every class present
    rng.shuffle(base)
    if kind == "str":
        return np.array(["c%d" % v for v in base])
    if kind == "none":
        y = base.astype(object)
        y[rng.integers(n)] = None
        return y
    if kind == "nan":
        y = base.astype(float)
        y[rng.integers(n)] = np.nan
        return y
    if kind == "mixed":
        y = base.astype(object)
        y[0] = "a"
        return y
    if kind == "short":
        return base[: max(0, n - 1 - int(rng.integers(3)))]
    if kind == "long":
        return np.concatenate([base, base[:2]])
    if kind == "2d":
        return np.stack([base, base, base], axis=1)
    if kind == "complex":
        return base * (1 + 1j)
    if kind == "one_class":
        return np.zeros(n, dtype=int)
    if kind == "float_labels":
        return base.astype(float)
    return base


def make_sw(kind: str, n: int, rng: np.random.Generator) -> Any:
    if kind == "none":
        return None
    w = rng.uniform(0.5, 2.0, n)
    if kind == "nan":
        w[0] = np.nan
    elif kind == "inf":
        w[0] = np.inf
    elif kind == "complex":
        return w * (1 + 1j)
    elif kind == "short":
        return w[:-1]
    elif kind == "2d":
        return np.stack([w, w], axis=1)
    elif kind == "str":
        return np.array(["w"] * n)
    elif kind == "negative":
        w[0] = -1.0
    return w


# ---------------------------------------------------------------- state snapshots
def snapshot(est: Any) -> dict:
    """A deep copy of every attribute (random generators as their state)."""
    out = {}
    for k, v in vars(est).items():
        if isinstance(v, np.random.Generator):
            out[k] = ("Generator", copy.deepcopy(v.bit_generator.state))
        elif isinstance(v, np.random.RandomState):
            out[k] = ("RandomState", copy.deepcopy(v.get_state(legacy=False)))
        else:
            try:
                out[k] = copy.deepcopy(v)
            except Exception:  # noqa: BLE001 - an attribute that cannot be copied: by identity
                out[k] = ("id", id(v))
    return out


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and a.dtype == b.dtype and (
            np.array_equal(a, b, equal_nan=a.dtype.kind in "fc") if a.dtype != object
            else all(_same(x, y) for x, y in zip(a.ravel(), b.ravel())))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b):
        return True
    if (type(a) is type(b) and hasattr(a, "__dict__") and type(a).__eq__ is object.__eq__
            and not isinstance(a, type)):  # an object kept by the estimator (a label binarizer,
        return _same(vars(a), vars(b))       # an optimizer schedule): equal when its state is
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001
        return a is b


def diff(before: dict, after: dict) -> list[str]:
    """Names of the attributes that differ between two snapshots."""
    keys = set(before) | set(after)
    return sorted(k for k in keys if k not in before or k not in after
                  or not _same(before[k], after[k]))


# ---------------------------------------------------------------- the contract
ACCEPTED = (ValueError, TypeError)  # FloatingPointError subclasses here are ValueErrors too


def names(exc: BaseException, args: set[str]) -> bool:
    msg = str(exc)
    return any(re.search(r"(?<![A-Za-z0-9_])" + re.escape(a) + r"(?![A-Za-z0-9_])", msg)
               for a in args)


def check_call(area: str, est: Any, call: Callable[[], Any], bad: set[str],
               extreme: bool = False, check_result: Optional[Callable[[Any], None]] = None,
               unchanged_on_error: bool = True) -> Any:
    """Run ``call`` on ``est`` and assert the contract; count the case under ``area``.

    ``bad``: the arguments corrupted beyond repair (the call must raise an
    accepted exception naming one of them, and leave est unchanged).  ``extreme``:
    values that may overflow; then a DivergenceError (weights left finite) or a
    ForwardOverflowError (est unchanged) is accepted too.
    """
    from fastmlp import DivergenceError, ForwardOverflowError

    CASES[area] += 1
    before = snapshot(est)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = call()
    except DivergenceError as exc:
        if not (extreme or bad):
            raise AssertionError(f"unexpected divergence: {exc}") from exc
        for k in ("coef_", "intercept_", "_params", "coefs_", "intercepts_"):
            v = getattr(est, k, None)
            if v is not None:
                arrs = v if isinstance(v, list) else [v]
                assert all(np.isfinite(np.asarray(a, dtype=np.float64)).all() for a in arrs), k
        return None
    except ACCEPTED as exc:
        if not bad and not (extreme and isinstance(exc, ForwardOverflowError)):
            raise AssertionError(f"raised on a valid call: {type(exc).__name__}: {exc}") from exc
        if bad:
            assert names(exc, bad | ({"X"} if extreme else set())), (
                f"{type(exc).__name__} does not name any of {sorted(bad)}: {exc}")
        if unchanged_on_error:
            changed = diff(before, snapshot(est))
            assert not changed, f"failed call changed {changed} ({type(exc).__name__}: {exc})"
        return None
    assert not bad, f"accepted corrupted {sorted(bad)}"
    if check_result is not None:
        check_result(result)
    return result


def finite(result: Any) -> None:
    arr = np.asarray(result)
    if arr.dtype.kind in "fc":
        assert np.isfinite(arr).all(), "non-finite result"


def report(path: Optional[str] = None) -> str:
    """Write the case counts (per area and total) as JSON; return the summary line."""
    total = sum(CASES.values())
    line = "property cases: " + ", ".join(f"{k} {v}" for k, v in sorted(CASES.items())) + \
        f"; total {total}"
    path = path or os.environ.get("FASTMLP_PROPERTY_LOG")
    if path:
        with open(path, "w", encoding="utf-8") as fh:
            json.dump({"cases": dict(CASES), "total": total}, fh, indent=1)
    return line
