"""Save and load models: one ``.npz`` file, written atomically, read without pickle.

Layout (format version 1).  Every entry is a plain array, so
``np.load(path, allow_pickle=False)`` reads it:

===================  =========================================================
``format``           the string ``"fastmlp.MLP"`` (identifies the file)
``format_version``   int64 scalar; this module reads versions <= FORMAT_VERSION
``fastmlp_version``  the version that wrote the file (for information)
``config``           JSON: the constructor arguments (layers, activations, ...)
``params``           the flat parameter buffer, in the model's dtype
``classes``          (optional) class labels, numeric or unicode
``history``          JSON: ``history_``
``rng``              JSON: the state of the shuffling generator
``optimizer``        (optional) JSON: hyper-parameters, step and layout
``opt_s1``...        (optional) the optimizer's state buffers
===================  =========================================================

Saving writes a temporary file in the destination's directory, flushes and
fsyncs it, then renames it over the destination (``os.replace``), so a
reader never sees a half-written file and a crash leaves the old one intact.
Loading checks everything before building the model and raises
:class:`ModelFileError` (a ValueError) naming what is wrong: not a zip, a
truncated or corrupted file, a foreign ``.npz``, a newer format, missing
entries or inconsistent shapes.  A saved and reloaded model continues
training exactly as the original would (same weights, optimizer state,
step, shuffling and dropout streams).
"""
from __future__ import annotations

import json
import os
import tempfile
import zipfile
from typing import Any, Optional, Union

import numpy as np

__all__ = ["save", "load", "ModelFileError", "FORMAT_VERSION"]

FORMAT_VERSION = 1
_MAGIC = "fastmlp.MLP"
_REQUIRED = ("format", "format_version", "fastmlp_version", "config", "params", "history", "rng")


class ModelFileError(ValueError):
    """A file that is not a readable fastmlp model (damaged, foreign or too new)."""


def _json(obj: Any) -> np.ndarray:
    return np.array(json.dumps(obj))


def _jsonable_state(st: dict) -> dict:
    out = {}
    for k, v in st.items():
        if isinstance(v, np.ndarray) or v is None:
            continue
        out[k] = v.item() if isinstance(v, np.generic) else v
    return out


def save(model: Any, path: Union[str, "os.PathLike[str]"]) -> str:
    """Write ``model`` to ``path`` (``.npz`` appended if missing) atomically; return the path.

    Parameters
    ----------
    model : fastmlp.MLP
    path : str or path-like

    Returns
    -------
    str
        The path written.
    """
    from fastmlp import __version__

    path = os.fspath(path)
    if not path.endswith(".npz"):
        path += ".npz"
    config = {"layers": model.layers, "activation": model.activations,
              "output_activation": model.output_activation, "loss": model.loss,
              "leaky_slope": model.leaky_slope, "init": model.init, "dtype": model.dtype.name,
              "seed": None if model.seed is None else int(model.seed),
              "dropout": list(model.dropout), "input_noise": model.input_noise,
              "noise_seed": str(model._noise_seed)}
    arrays: dict[str, np.ndarray] = {
        "format": np.array(_MAGIC), "format_version": np.array(FORMAT_VERSION, dtype=np.int64),
        "fastmlp_version": np.array(__version__), "config": _json(config),
        "params": model._params, "history": _json(model.history_),
        "rng": _json(model._rng.bit_generator.state),
    }
    if model.classes_ is not None:
        classes = np.asarray(model.classes_)
        if classes.dtype == object:  # strings kept as objects: store as unicode, no pickle
            if not all(isinstance(c, str) for c in classes):
                raise ValueError("cannot save class labels of mixed types without pickle; use "
                                 "all numbers or all strings")
            classes = classes.astype(str)
        arrays["classes"] = classes
    st = model._opt_state
    if st is not None:
        arrays["optimizer"] = _json(_jsonable_state(st))
        for k in ("s1", "s2", "s3"):
            if st.get(k) is not None:
                arrays["opt_" + k] = st[k]
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".fastmlp-", suffix=".npz.tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def _read(path: str) -> dict:
    """All arrays of the file, or ModelFileError.  Reads every member, so CRC
    and truncation errors surface here and not later."""
    with open(path, "rb") as f:  # ours to close, whatever np.load does on a bad file
        try:
            z = np.load(f, allow_pickle=False)
            if not isinstance(z, np.lib.npyio.NpzFile):
                raise ModelFileError(f"{path}: a single .npy array, not a fastmlp model (.npz)")
            with z:
                return {k: z[k] for k in z.files}
        except ModelFileError:
            raise
        except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError) as exc:
            raise ModelFileError(f"{path}: not a readable fastmlp model file (damaged, truncated "
                                 f"or not an .npz): {type(exc).__name__}: {exc}") from None


def _text(data: dict, key: str, path: str) -> str:
    v = data[key]
    if v.shape != () or v.dtype.kind != "U":
        raise ModelFileError(f"{path}: entry {key!r} should be a string; got {v.dtype} {v.shape}")
    return str(v)


def _load_json(data: dict, key: str, path: str) -> Any:
    try:
        return json.loads(_text(data, key, path))
    except json.JSONDecodeError as exc:
        raise ModelFileError(f"{path}: entry {key!r} is not valid JSON: {exc}") from None


def _check_header(data: dict, path: str) -> None:
    if "format" not in data or data["format"].shape != () or str(data["format"]) != _MAGIC:
        raise ModelFileError(f"{path}: not a fastmlp model (an .npz without the "
                             f"'format' = {_MAGIC!r} entry; keys: {sorted(data)[:10]})")
    missing = [k for k in _REQUIRED if k not in data]
    if missing:
        raise ModelFileError(f"{path}: damaged fastmlp model, missing entries {missing}")
    ver = data["format_version"]
    if ver.shape != () or ver.dtype.kind not in "iu":
        raise ModelFileError(f"{path}: damaged fastmlp model: bad format_version entry")
    if int(ver) > FORMAT_VERSION or int(ver) < 1:
        raise ModelFileError(
            f"{path}: written in fastmlp model format {int(ver)} by fastmlp "
            f"{_text(data, 'fastmlp_version', path)}; this fastmlp reads formats 1 to "
            f"{FORMAT_VERSION}. Upgrade fastmlp to load it.")


def load(path: Union[str, "os.PathLike[str]"], n_threads: Optional[int] = None) -> Any:
    """Read a model written by :func:`save` (no pickle involved).

    Parameters
    ----------
    path : str or path-like
    n_threads : int, optional
        Threads for the loaded model (not stored in the file).

    Returns
    -------
    fastmlp.MLP

    Raises
    ------
    FileNotFoundError
        When there is no such file.
    ModelFileError
        When the file is damaged, truncated, foreign or from a newer format.
    """
    from fastmlp.mlp import MLP

    path = os.fspath(path)
    data = _read(path)
    _check_header(data, path)
    cfg = _load_json(data, "config", path)
    try:
        model = MLP(cfg["layers"], activation=cfg["activation"],
                    output_activation=cfg["output_activation"],
                    loss=cfg["loss"], leaky_slope=cfg["leaky_slope"], init=cfg["init"],
                    dtype=cfg["dtype"], seed=cfg["seed"], n_threads=n_threads,
                    dropout=cfg["dropout"], input_noise=cfg["input_noise"])
        model._noise_seed = int(cfg["noise_seed"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{path}: damaged fastmlp model: bad config entry: {exc}") from None
    params = data["params"]
    if params.shape != model._params.shape or params.dtype != model.dtype:
        raise ModelFileError(f"{path}: damaged fastmlp model: params has {params.dtype} "
                             f"{params.shape}, the architecture needs {model.dtype} "
                             f"{model._params.shape}")
    if not np.isfinite(params).all():
        raise ModelFileError(f"{path}: damaged fastmlp model: params contain NaN or infinity")
    model._params[...] = params
    if "classes" in data:
        model.classes_ = data["classes"]
    hist = _load_json(data, "history", path)
    if not isinstance(hist, dict) or not all(isinstance(v, list) for v in hist.values()):
        raise ModelFileError(f"{path}: damaged fastmlp model: history is not a dict of lists")
    model.history_ = hist
    try:
        model._rng.bit_generator.state = _load_json(data, "rng", path)
    except (TypeError, ValueError, KeyError) as exc:
        raise ModelFileError(f"{path}: damaged fastmlp model: bad rng entry: {exc}") from None
    if "optimizer" in data:
        st = _load_json(data, "optimizer", path)
        if not isinstance(st, dict) or "layout" not in st or "kind" not in st:
            raise ModelFileError(f"{path}: damaged fastmlp model: bad optimizer entry")
        for k in ("s1", "s2", "s3"):
            buf = data.get("opt_" + k)
            if buf is not None and (buf.shape != params.shape or buf.dtype != params.dtype):
                raise ModelFileError(f"{path}: damaged fastmlp model: opt_{k} has {buf.dtype} "
                                     f"{buf.shape}, expected {params.dtype} {params.shape}")
            st[k] = None if buf is None else np.array(buf)
        if st["s1"] is None or st["s2"] is None:
            raise ModelFileError(f"{path}: damaged fastmlp model: optimizer buffers missing")
        model._opt_state = st
    return model
