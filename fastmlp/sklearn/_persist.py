"""Saving the scikit-learn drop-ins without pickle: their entries of a fastmlp ``.npz`` file.

:func:`fastmlp.io.save` and :func:`fastmlp.io.load` (and the estimators' own ``save``
and ``load``) write and read :class:`~fastmlp.sklearn.MLPClassifier`,
:class:`~fastmlp.sklearn.MLPRegressor` and :class:`~fastmlp.sklearn.Perceptron` in
the file format of :class:`fastmlp.MLP` -- uncompressed ``.npy`` members of a zip
file, read with ``allow_pickle=False``, written atomically by :mod:`fastmlp.io`:

===================  =========================================================
``format``           ``"fastmlp.sklearn.<class name>"``
``format_version``   int64 scalar (:data:`FORMAT_VERSION`)
``fastmlp_version``  the version that wrote the file (for information)
``params``           JSON: the hyper-parameters (``get_params(deep=False)``)
``state``            JSON: the fitted attributes (``coefs_``, ``classes_``,
                     ``n_iter_``, ``loss_curve_``, the optimizer's schedule and
                     step, the label binarizer, ``feature_names_in_``, ...)
``arr_0``...         the arrays the JSON refers to (weights, optimizer buffers,
                     classes, a RandomState's key), by name
===================  =========================================================

The JSON is tagged so that every value comes back with its type: tuples, sets,
dicts with non-string keys, NumPy scalars, infinities, arrays (by member name),
a ``random_state`` RandomState, the label binarizer and the optimizer schedule.
Only these kinds are ever built when loading, and only the attributes a fitted
estimator of that class has are set; every array's dtype, shape and values and
the attributes' agreement (layer shapes, classes and outputs, optimizer buffers
and parameters) are checked before the estimator is built.  A loaded estimator
predicts identically and continues ``partial_fit`` (or ``warm_start``)
identically, bit for bit.
"""
from __future__ import annotations

import json
import math
import numbers
import sys
from typing import Any, Optional

import numpy as np
from sklearn.preprocessing import LabelBinarizer

from fastmlp import optim
from fastmlp.io import FORMAT_VERSION, ModelFileError, _Bad, _Foreign, _short
from fastmlp.sklearn._mlp import MLPClassifier, MLPRegressor, _SolverSchedule
from fastmlp.sklearn._perceptron import Perceptron

__all__ = ["MAGICS", "MAX_MEMBERS", "fitted_state", "to_arrays", "check", "build", "read",
           "arrays"]

#: format entry -> class
MAGICS: dict[str, type] = {f"fastmlp.sklearn.{c.__name__}": c
                           for c in (MLPClassifier, MLPRegressor, Perceptron)}
#: members at most in a file (arrays: two per layer, optimizer buffers, classes, ...)
MAX_MEMBERS = 1024

_MLP_ATTRS = ("coefs_", "intercepts_", "n_iter_", "t_", "n_outputs_", "n_layers_",
              "out_activation_", "loss_", "loss_curve_", "best_loss_", "_no_improvement_count",
              "validation_scores_", "best_validation_score_", "_best_params", "_best_is_live",
              "_optimizer", "history_", "n_features_in_", "feature_names_in_",
              "_fitted_norms", "norm_weights_", "norm_biases_", "_norm_state",
              "_best_norm_state", "running_mean_", "running_var_")
#: attributes that are views of others, rebuilt on loading rather than stored
_DERIVED = frozenset(("running_mean_", "running_var_"))
#: the fitted attributes each class may have (anything else is refused, saved or loaded)
ATTRS: dict[type, frozenset] = {
    MLPRegressor: frozenset(_MLP_ATTRS),
    MLPClassifier: frozenset(_MLP_ATTRS + ("classes_", "_label_binarizer")),
    Perceptron: frozenset(("coef_", "intercept_", "classes_", "t_", "n_iter_", "history_",
                           "_expanded_class_weight", "n_features_in_", "feature_names_in_")),
}
_OPTIMIZERS = {c.__name__: c for c in (optim.SGD, optim.Adagrad, optim.RMSprop, optim.Adam,
                                       optim.AdamW)}
_LB_FITTED = ("y_type_", "sparse_input_", "classes_")
_Y_TYPES = ("binary", "multiclass", "multilabel-indicator")
_MAX_DEPTH = 64


def fitted_state(est: Any) -> dict:
    """The estimator's attributes other than its hyper-parameters (what ``fit`` set)."""
    params = est.get_params(deep=False)
    return {k: v for k, v in vars(est).items() if k not in params}


# ---------------------------------------------------------------------------- encoding
class _Encoder:
    """Values to tagged JSON; arrays go to ``arrays`` under generated member names."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def array(self, a: np.ndarray, where: str) -> dict:
        tag: dict = {"__array__": f"arr_{len(self.arrays)}"}
        if a.dtype == object:  # strings kept as objects (feature names, labels): as unicode
            if not all(isinstance(v, str) for v in a.ravel()):
                raise ValueError(f"cannot save {where} without pickle: it holds objects other "
                                 "than strings (use all numbers or all strings)")
            a = a.astype(str)
            tag["object"] = True
        if a.dtype.kind not in "biufU" or a.dtype.fields is not None:
            raise ValueError(f"cannot save {where} without pickle: dtype {a.dtype}")
        self.arrays[tag["__array__"]] = np.ascontiguousarray(a)
        return tag

    def __call__(self, v: Any, where: str) -> Any:
        if isinstance(v, np.generic):  # (before float: np.float64 is a float too)
            if v.dtype.kind not in "biuf":
                raise ValueError(f"cannot save {where}: a NumPy {v.dtype} scalar")
            return {"__scalar__": v.dtype.str, "v": self(v.item(), where)}
        if v is None or isinstance(v, (bool, str)):
            return v
        if isinstance(v, int):
            return v
        if isinstance(v, float):
            return v if math.isfinite(v) else {"__float__": repr(v)}
        if isinstance(v, np.ndarray):
            return self.array(v, where)
        if isinstance(v, list):
            return [self(x, f"{where}[{i}]") for i, x in enumerate(v)]
        if isinstance(v, tuple):
            return {"__tuple__": [self(x, f"{where}[{i}]") for i, x in enumerate(v)]}
        if isinstance(v, (set, frozenset)):
            return {"__set__": [self(x, where) for x in v], "frozen": isinstance(v, frozenset)}
        if isinstance(v, dict):
            return {"__dict__": [[self(k, where), self(x, f"{where}[{k!r}]")]
                                 for k, x in v.items()]}
        if isinstance(v, np.random.RandomState):
            return {"__RandomState__": self(v.get_state(legacy=False), where)}
        if isinstance(v, LabelBinarizer):
            return {"__LabelBinarizer__": self(dict(vars(v)), where)}
        if isinstance(v, optim.Optimizer) and type(v).__name__ in _OPTIMIZERS:
            return {"__Optimizer__": [type(v).__name__, self(v.get_config(), where)]}
        if isinstance(v, _SolverSchedule):
            return {"__SolverSchedule__": self(dict(vars(v)), where)}
        raise ValueError(f"cannot save {where} without pickle: a {type(v).__name__}")


def to_arrays(est: Any) -> dict:
    """The file's entries for ``est`` (not yet checked)."""
    cls = type(est)
    state = {k: v for k, v in fitted_state(est).items() if k not in _DERIVED}
    unknown = sorted(set(state) - ATTRS[cls])
    if unknown:
        raise ValueError(f"cannot save the {cls.__name__}: attributes {unknown} are not among "
                         "those fastmlp saves (set by hand?)")
    enc = _Encoder()
    params = enc(est.get_params(deep=False), "the hyper-parameters")
    fitted = enc(state, "the fitted attributes")
    version = str(getattr(sys.modules.get("fastmlp"), "__version__", "unknown"))
    return {"format": np.array(f"fastmlp.sklearn.{cls.__name__}"),
            "format_version": np.array(FORMAT_VERSION, dtype=np.int64),
            "fastmlp_version": np.array(version),
            "params": np.array(json.dumps(params, allow_nan=False)),
            "state": np.array(json.dumps(fitted, allow_nan=False)), **enc.arrays}


# ---------------------------------------------------------------------------- decoding
class _Decoder:
    """Tagged JSON back to values, building only the kinds :class:`_Encoder` writes."""

    def __init__(self, data: dict) -> None:
        self.data = data
        self.used: set = set()

    def array(self, tag: dict) -> np.ndarray:
        name = tag.get("__array__")
        if not isinstance(name, str) or name not in self.data or not name.startswith("arr_"):
            raise _Bad(f"a reference to a missing array {_short(name)}")
        if name in self.used:
            raise _Bad(f"array {name} is referred to twice")
        self.used.add(name)
        a = self.data[name]
        if tag.get("object", False) is True:
            if a.dtype.kind != "U":
                raise _Bad(f"{name} should hold strings; got {a.dtype}")
            a = a.astype(object)
        return a

    def __call__(self, v: Any, depth: int = 0) -> Any:
        if depth > _MAX_DEPTH:
            raise _Bad("entries nested too deeply")
        if v is None or isinstance(v, (bool, str, int)):
            return v
        if isinstance(v, float):
            return v
        if isinstance(v, list):
            return [self(x, depth + 1) for x in v]
        if not isinstance(v, dict) or len(v) == 0:
            raise _Bad(f"an unexpected JSON value {_short(v)}")
        tag = next(iter(v))
        body = v[tag]
        if tag == "__float__" and body in ("inf", "-inf", "nan") and len(v) == 1:
            return float(body)
        if tag == "__scalar__" and set(v) == {"__scalar__", "v"}:
            try:
                dt = np.dtype(body)
            except TypeError:
                raise _Bad(f"a scalar of unknown dtype {_short(body)}") from None
            x = self(v["v"], depth + 1)
            if dt.kind not in "biuf" or not isinstance(x, (bool, int, float)):
                raise _Bad(f"a bad NumPy scalar {_short(v)}")
            try:
                return dt.type(x)
            except (OverflowError, ValueError):
                raise _Bad(f"a bad NumPy scalar {_short(v)}") from None
        if tag == "__array__" and set(v) <= {"__array__", "object"}:
            return self.array(v)
        if tag == "__tuple__" and len(v) == 1 and isinstance(body, list):
            return tuple(self(x, depth + 1) for x in body)
        if tag == "__set__" and set(v) == {"__set__", "frozen"} and isinstance(body, list):
            items = [self(x, depth + 1) for x in body]
            if not all(isinstance(x, (str, int, float, bool, type(None))) for x in items):
                raise _Bad("a set of unhashable values")
            return frozenset(items) if v["frozen"] is True else set(items)
        if tag == "__dict__" and len(v) == 1 and isinstance(body, list):
            out = {}
            for item in body:
                if not (isinstance(item, list) and len(item) == 2):
                    raise _Bad("a bad dict entry")
                k = self(item[0], depth + 1)
                if not isinstance(k, (str, int, float, bool, np.generic, type(None))):
                    raise _Bad(f"a dict key of type {type(k).__name__}")
                out[k] = self(item[1], depth + 1)
            return out
        if tag == "__RandomState__" and len(v) == 1:
            state = self(body, depth + 1)
            rs = np.random.RandomState()
            try:
                rs.set_state(state)
            except (TypeError, ValueError, KeyError, IndexError) as exc:
                raise _Bad(f"a bad RandomState state: {_short(exc)}") from None
            return rs
        if tag == "__LabelBinarizer__" and len(v) == 1:
            return _label_binarizer(self(body, depth + 1))
        if tag == "__Optimizer__" and len(v) == 1 and isinstance(body, list) and len(body) == 2:
            cls = _OPTIMIZERS.get(body[0]) if isinstance(body[0], str) else None
            config = self(body[1], depth + 1)
            if cls is None or not isinstance(config, dict) or not all(
                    isinstance(k, str) for k in config):
                raise _Bad(f"a bad optimizer {_short(body)}")
            try:
                return cls(**config)
            except (TypeError, ValueError) as exc:
                raise _Bad(f"a bad optimizer configuration: {_short(exc)}") from None
        if tag == "__SolverSchedule__" and len(v) == 1:
            return self(body, depth + 1)  # a dict, built by _schedule once the weights are known
        raise _Bad(f"an unexpected JSON value {_short(v)}")


def _label_binarizer(d: Any) -> LabelBinarizer:
    keys = ("neg_label", "pos_label", "sparse_output") + _LB_FITTED
    if not isinstance(d, dict) or sorted(d) != sorted(keys):
        raise _Bad(f"a label binarizer should hold {list(keys)}")
    if not (_is_int(d["neg_label"]) and _is_int(d["pos_label"]) and d["neg_label"] < d["pos_label"]
            and d["sparse_output"] is False and d["sparse_input_"] in (False, True)
            and d["y_type_"] in _Y_TYPES):
        raise _Bad("a label binarizer with bad settings")
    lb = LabelBinarizer(neg_label=d["neg_label"], pos_label=d["pos_label"], sparse_output=False)
    for k in _LB_FITTED:
        setattr(lb, k, d[k])
    return lb


# ---------------------------------------------------------------------------- checks
def _is_int(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _is_real(v: Any) -> bool:
    return isinstance(v, (numbers.Real, np.floating, np.integer)) and not isinstance(
        v, (bool, np.bool_))


def _need(ok: bool, what: str) -> None:
    if not ok:
        raise _Bad(what)


def _float_array(a: Any, name: str, ndim: int, finite: bool = True) -> np.ndarray:
    _need(isinstance(a, np.ndarray) and a.ndim == ndim and a.dtype in (np.float32, np.float64),
          f"{name} should be a {ndim}-D float32 or float64 array; got "
          f"{getattr(a, 'dtype', type(a).__name__)} {getattr(a, 'shape', '')}")
    _need(not finite or bool(np.isfinite(a).all()), f"{name} contains NaN or infinity")
    return a


def _labels(c: Any, name: str) -> np.ndarray:
    _need(isinstance(c, np.ndarray) and c.ndim == 1 and c.dtype.kind in "biufUO" and c.size >= 1,
          f"{name} should be a 1-D array of labels")
    if c.dtype.kind == "f":
        _need(bool(np.isfinite(c).all()), f"{name} contains NaN or infinity")
    _need(c.size < 2 or bool(np.all(c[1:] > c[:-1])), f"{name} are not sorted and unique")
    return c


def _counter(state: dict, key: str, real: bool = False) -> None:
    if key in state:
        v = state[key]
        ok = (_is_real(v) and math.isfinite(float(v))) if real else _is_int(v)
        _need(ok and v >= 0, f"{key} should be a {'number' if real else 'whole number'} >= 0; "
                             f"got {_short(v)}")


def _numbers(v: Any, name: str, allow_none: bool = True) -> None:
    _need((v is None and allow_none) or (isinstance(v, list) and all(
        _is_real(x) or x is None for x in v)), f"{name} should be a list of numbers")


def _check_features(state: dict, n_features: int) -> None:
    _need(state.get("n_features_in_") == n_features,
          f"n_features_in_ {_short(state.get('n_features_in_'))} does not match the weights' "
          f"{n_features} inputs")
    if "feature_names_in_" in state:
        names = state["feature_names_in_"]
        _need(isinstance(names, np.ndarray) and names.dtype == object
              and names.shape == (n_features,), "feature_names_in_ should be "
              f"{n_features} strings")


def _check_history(h: Any) -> None:
    _need(isinstance(h, dict) and all(isinstance(k, str) for k in h),
          "history_ should be a dict with string keys")
    for k, v in h.items():
        _need(isinstance(v, list), f"history_[{k!r}] should be a list")
        for x in v:  # the Perceptron keeps one curve per binary problem
            _need(_is_real(x) or (isinstance(x, list) and all(_is_real(y) for y in x)),
                  f"history_[{k!r}] should hold numbers")


def _schedule(d: Any, n_params: int) -> _SolverSchedule:
    keys = ("solver", "learning_rate_init", "learning_rate", "lr_schedule", "power_t",
            "optimizer", "extra", "state")
    _need(isinstance(d, dict) and sorted(d) == sorted(keys),
          f"the optimizer schedule should hold {list(keys)}")
    _need(d["solver"] in ("sgd", "adam", "adagrad", "rmsprop", "adamw")
          and d["lr_schedule"] in ("constant", "invscaling", "adaptive")
          and all(_is_real(d[k]) and math.isfinite(float(d[k])) and d[k] >= 0
                  for k in ("learning_rate_init", "learning_rate", "power_t"))
          and isinstance(d["optimizer"], optim.Optimizer)
          and isinstance(d["extra"], dict), "a bad optimizer schedule")
    st = d["state"]
    _need(isinstance(st, dict) and _is_int(st.get("step")) and 0 <= st["step"] < 2**63
          and isinstance(st.get("layout"), list)
          and st["layout"] == list(d["optimizer"].state_layout()),
          "a bad optimizer state (step, layout)")
    for k, v in st.items():
        _need(isinstance(k, str), "a bad optimizer state key")
        if k in ("s1", "s2", "s3"):
            if v is None:
                _need(k == "s3" and not d["optimizer"].uses_s3(), f"optimizer buffer {k} missing")
                continue
            _float_array(v, f"optimizer buffer {k}", 1)
            _need(v.shape == (n_params,), f"optimizer buffer {k} has shape {v.shape}, the "
                                          f"network has {n_params} parameters")
            _need(v.dtype == st["s1"].dtype if isinstance(st.get("s1"), np.ndarray) else False,
                  "optimizer buffers of different dtypes")
        elif _is_real(v):
            _need(math.isfinite(float(v)), f"optimizer state {k} = {v}")
    sch = _SolverSchedule.__new__(_SolverSchedule)
    for k in keys:
        setattr(sch, k, d[k])
    return sch


def _check_norms(state: dict, widths: list, dtype: np.dtype) -> int:
    """The normalisation layers' attributes checked against the hidden widths; returns
    the parameters they add to the flat buffer (a scale and a shift per unit)."""
    kinds = state.get("_fitted_norms", [None] * len(widths))
    _need(isinstance(kinds, (list, tuple)) and len(kinds) == len(widths)
          and all(k in (None, "batch", "layer") for k in kinds),
          "_fitted_norms should be one of None, 'batch', 'layer' per hidden layer")
    normed = [w for w, k in zip(widths, kinds) if k]
    for key in ("norm_weights_", "norm_biases_"):
        arrs = state.get(key, [])
        _need(isinstance(arrs, list) and len(arrs) == len(normed), f"{key} should hold one "
                                                                   "array per normalised layer")
        for i, (a, w) in enumerate(zip(arrs, normed)):
            _float_array(a, f"{key}[{i}]", 1)
            _need(a.shape == (w,) and a.dtype == dtype, f"{key}[{i}] should be {dtype} ({w},)")
    batch = 2 * sum(w for w, k in zip(widths, kinds) if k == "batch")
    for key in ("_norm_state", "_best_norm_state"):
        st = state.get(key)
        if st is None:
            _need(key == "_best_norm_state" or not batch, f"{key} is missing")
            continue
        _float_array(st, key, 1)
        _need(st.shape == (batch,), f"{key} should hold {batch} running statistics")
    return 2 * sum(normed)


def _check_mlp(cls: type, state: dict) -> None:
    coefs, intercepts = state.get("coefs_"), state.get("intercepts_")
    _need(isinstance(coefs, list) and isinstance(intercepts, list) and 1 <= len(coefs) <= 64
          and len(coefs) == len(intercepts), "coefs_ and intercepts_ should be lists of one "
                                             "array per layer")
    for i, (w, b) in enumerate(zip(coefs, intercepts)):
        _float_array(w, f"coefs_[{i}]", 2)
        _float_array(b, f"intercepts_[{i}]", 1)
        _need(w.dtype == coefs[0].dtype and b.dtype == w.dtype, "layers of different dtypes")
        _need(b.shape == (w.shape[1],) and (i == 0 or w.shape[0] == coefs[i - 1].shape[1])
              and w.shape[1] >= 1 and w.shape[0] >= 1, f"layer {i}'s shapes do not chain: "
                                                       f"{w.shape} and {b.shape}")
    n_params = sum(w.size + b.size for w, b in zip(coefs, intercepts))
    n_params += _check_norms(state, [w.shape[1] for w in coefs[:-1]], coefs[0].dtype)
    _check_features(state, coefs[0].shape[0])
    _need(state.get("n_layers_") == len(coefs) + 1 and state.get("n_outputs_")
          == coefs[-1].shape[1], "n_layers_ and n_outputs_ do not match the weights")
    out = state.get("out_activation_")
    allowed = ("logistic", "softmax") if cls is MLPClassifier else ("identity", "exp")
    _need(out in allowed, f"out_activation_ should be one of {allowed}; got {_short(out)}")
    for key in ("n_iter_", "t_", "_no_improvement_count"):
        _counter(state, key)
    _need("n_iter_" in state and "t_" in state, "n_iter_ and t_ are missing")
    if "_best_params" in state:
        _float_array(state["_best_params"], "_best_params", 1)
        _need(state["_best_params"].shape == (n_params,), "_best_params has the wrong size")
    _need(state.get("_best_is_live", False) in (False, True), "_best_is_live should be a bool")
    for key in ("loss_", "best_loss_", "best_validation_score_"):
        _need(state.get(key) is None or _is_real(state[key]), f"{key} should be a number")
    for key in ("loss_curve_", "validation_scores_"):
        _numbers(state.get(key), key)
    _check_history(state.get("history_", {}))
    if state.get("_optimizer") is not None:
        state["_optimizer"] = _schedule(state["_optimizer"], n_params)
    if cls is MLPClassifier:
        classes, lb = state.get("classes_"), state.get("_label_binarizer")
        _need(isinstance(lb, LabelBinarizer), "the label binarizer is missing")
        _labels(classes, "classes_")
        _need(isinstance(lb.classes_, np.ndarray) and lb.classes_.dtype == classes.dtype
              and np.array_equal(lb.classes_, classes), "the label binarizer's classes are "
                                                         "not classes_")
        n_out = 1 if lb.y_type_ == "binary" else classes.size
        _need(n_out == coefs[-1].shape[1] and (lb.y_type_ != "binary" or classes.size <= 2)
              and (out == "softmax") == (lb.y_type_ == "multiclass"),
              f"{classes.size} classes ({lb.y_type_}) do not match the network's "
              f"{coefs[-1].shape[1]} outputs ({out})")


def _check_perceptron(state: dict) -> None:
    classes = _labels(state.get("classes_"), "classes_")
    _need(classes.size >= 2, "classes_ should hold at least 2 labels")
    rows = 1 if classes.size == 2 else classes.size
    coef = _float_array(state.get("coef_"), "coef_", 2)
    inter = _float_array(state.get("intercept_"), "intercept_", 1)
    _need(coef.shape[0] == rows and inter.shape == (rows,) and coef.shape[1] >= 1,
          f"coef_ {coef.shape} and intercept_ {inter.shape} do not match {classes.size} classes")
    _check_features(state, coef.shape[1])
    _counter(state, "n_iter_")
    _counter(state, "t_", real=True)
    _need("n_iter_" in state and "t_" in state, "n_iter_ and t_ are missing")
    cw = state.get("_expanded_class_weight")
    _need(cw is None or (isinstance(cw, np.ndarray) and cw.shape == classes.shape
                         and cw.dtype.kind == "f" and bool(np.isfinite(cw).all())),
          "_expanded_class_weight should be one finite weight per class")
    _check_history(state.get("history_", {}))


def check(data: dict) -> dict:
    """Every entry checked, alone and against the others; returns what :func:`build`
    needs.  Raises :class:`fastmlp.io._Bad` (the caller names the file)."""
    fmt = str(data["format"])
    cls = MAGICS[fmt]
    need = {"format", "format_version", "fastmlp_version", "params", "state"}
    missing = sorted(need - set(data))
    _need(not missing, f"missing entries {missing}")
    unknown = sorted(k for k in data if k not in need and not (
        k.startswith("arr_") and k[4:].isdigit()))
    _need(not unknown, f"unexpected entries {unknown[:10]}")
    ver = data["format_version"]
    _need(ver.shape == () and ver.dtype.kind in "iu", "bad format_version entry")
    if not 1 <= int(ver) <= FORMAT_VERSION:
        raise _Foreign(f"written in fastmlp model format {int(ver)}; this fastmlp reads formats "
                       f"1 to {FORMAT_VERSION}. Upgrade fastmlp to load it.")
    dec = _Decoder(data)
    params, state = dec(_json(data, "params")), dec(_json(data, "state"))
    _need(not (set(data) - need - dec.used), f"arrays {sorted(set(data) - need - dec.used)[:10]}"
                                             " that no entry refers to")
    _need(isinstance(params, dict) and isinstance(state, dict),
          "params and state should be dicts")
    names = set(cls().get_params(deep=False))
    _need(set(params) == names, f"params should hold {sorted(names)}; got "
                                f"{_short(sorted(map(str, params)))}")
    rs = params["random_state"]
    _need(rs is None or _is_int(rs) or isinstance(rs, np.random.RandomState),
          "random_state should be an int, a RandomState or None")
    try:  # the hyper-parameters fit would accept (a loaded estimator must work)
        cls(**params)._validate_hyper()
    except (TypeError, ValueError) as exc:
        raise _Bad(f"bad hyper-parameters: {_short(exc)}") from None
    extra = set(state) - (ATTRS[cls] - _DERIVED)
    _need(not extra, f"unexpected fitted attributes {sorted(map(str, extra))[:10]}")
    if state:
        if cls is Perceptron:
            _check_perceptron(state)
        else:
            _check_mlp(cls, state)
    return {"class": cls, "params": params, "state": state}


def _json(data: dict, key: str) -> Any:
    v = data[key]
    _need(v.shape == () and v.dtype.kind == "U", f"entry {key!r} should be a string")
    try:
        return json.loads(str(v))
    except (json.JSONDecodeError, RecursionError, ValueError) as exc:
        raise _Bad(f"entry {key!r} is not valid JSON: {_short(exc)}") from None


def build(checked: dict, n_threads: Optional[int] = None) -> Any:
    """The estimator :func:`check` described (``n_threads``: replaces the saved one)."""
    est = checked["class"](**checked["params"])
    if n_threads is not None:
        est.set_params(n_threads=n_threads)
    for k, v in checked["state"].items():
        setattr(est, k, v)
    if "_fitted_norms" in checked["state"]:  # running_mean_/running_var_: views of the state
        est._set_norm_state(est._norm_state, est._layer_units, est._fitted_norms)
    return est


# ---------------------------------------------------------------------------- fastmlp.io's hooks
def arrays(est: Any, path: str) -> dict:
    """What :func:`fastmlp.io.save` writes for ``est``, checked as loading will check it."""
    entries = to_arrays(est)
    try:  # what load would say, said now: a file written by save always loads
        check(dict(entries))
    except _Bad as exc:
        raise ValueError(f"cannot save the {type(est).__name__} to {path}: {exc}") from None
    return entries


def read(path: str, data: dict, n_threads: Optional[int]) -> Any:
    """:func:`fastmlp.io.load`'s reader for the drop-ins' files: ModelFileError for
    anything wrong in them."""
    try:
        return build(check(data), n_threads)
    except _Bad as exc:
        kind = "" if isinstance(exc, _Foreign) else "damaged fastmlp model: "
        raise ModelFileError(f"{path}: {kind}{exc}") from None
