"""Save and load models: one ``.npz`` file, written atomically, read without pickle.

Layout (format version 1).  Every entry is a plain array (uncompressed ``.npy``
members of a zip file), so ``np.load(path, allow_pickle=False)`` reads it:

===================  =========================================================
``format``           the string ``"fastmlp.MLP"`` (identifies the file)
``format_version``   int64 scalar; this module reads versions <= FORMAT_VERSION
``fastmlp_version``  the version that wrote the file (for information)
``config``           JSON: the constructor arguments (layers, activations, ...)
``params``           the flat parameter buffer, in the model's dtype
``classes``          (optional) class labels, numeric or unicode, sorted
``history``          JSON: ``history_``
``rng``              JSON: the state of the shuffling generator
``optimizer``        (optional) JSON: hyper-parameters, step and layout
``opt_s1``...        (optional) the optimizer's state buffers
``norm_state``       (with batch norm) the running mean and variance of each
                     batch-normalised layer, in the model's dtype
===================  =========================================================

A model with ``norm`` has a ``"norm"`` key in its config (one of null, "batch",
"layer" per hidden layer), and its norms' scales and shifts follow the biases in
``params``; a model without one is written exactly as before.

The contract (tested in tests/test_io.py, tests/test_io_contract.py,
tests/test_io_faults.py and tests/test_properties_files.py; stated in docs/RELIABILITY.md):

* :func:`load` raises :class:`ModelFileError` (a ValueError) for anything wrong
  in a file -- not a zip, truncated, a bad CRC, a compression method or flag
  this module does not write, a header claiming more data than the file holds,
  an entry of the wrong dtype, shape or range, entries that disagree with one
  another -- and nothing else (a missing file is FileNotFoundError).  Every
  entry is checked before the model is built, and no buffer is allocated
  before its size has been checked against the file's own size.
* :func:`save` checks the model with the same rules first (so a file it
  writes always loads) and refuses, with a ValueError, a model :func:`load`
  would refuse: NaN or infinite weights or optimizer state, unsorted or
  mixed-type class labels.
* :func:`save` writes a temporary file in the destination's directory,
  fsyncs it, renames it over the destination (``os.replace``) and fsyncs the
  directory: a reader never sees a half-written file and a crash or a full
  disk leaves the old file intact.  On any error (KeyboardInterrupt included)
  the temporary file is removed; after a ``kill -9`` mid-save it remains, and
  the next save to the same destination removes it (temporary files carry
  the writer's pid and are removed once that process no longer exists).
* A new file gets the mode ``open()`` would give it (0666 minus the umask);
  a file replaced keeps its mode.

The model class is registered here by :mod:`fastmlp.mlp` (:func:`register`),
so this module does not import it: the dependency runs one way, mlp -> io.
The scikit-learn drop-ins are saved in the same kind of file, with their own
entries (:mod:`fastmlp.sklearn._persist`, registered through :func:`register_reader`
and :func:`register_writer` when :mod:`fastmlp.sklearn` is imported; :func:`load`
imports it for such a file).
"""
from __future__ import annotations

import errno
import json
import math
import os
import re
import stat
import sys
import tempfile
import zipfile
from typing import Any, Optional, Union

import numpy as np

from fastmlp import _backend as B
from fastmlp._validation import resolve_threads

__all__ = ["save", "load", "ModelFileError", "FORMAT_VERSION", "register", "register_reader"]

FORMAT_VERSION = 1
_MAGIC = "fastmlp.MLP"
_REQUIRED = ("format", "format_version", "fastmlp_version", "config", "params", "history", "rng")
_OPTIONAL = ("classes", "optimizer", "opt_s1", "opt_s2", "opt_s3", "norm_state")
_CONFIG_KEYS = ("layers", "activation", "output_activation", "loss", "leaky_slope", "init",
                "dtype", "seed", "dropout", "input_noise", "noise_seed")
#: config keys a file may leave out (older files, models without the feature)
_CONFIG_OPTIONAL = ("norm", "huber_delta", "quantile", "compute_dtype", "elu_alpha")
#: the values of the loss's parameters a file without them means (written only for the
#: loss that uses them: files of other models stay readable by older fastmlp)
_CONFIG_DEFAULTS = {"huber_delta": 1.0, "quantile": 0.5, "elu_alpha": B.ELU_ALPHA}
#: npy header versions read (numpy writes 1.0, or 2.0 for headers over 64 KiB)
_NPY_VERSIONS = {(1, 0): np.lib.format.read_array_header_1_0,
                 (2, 0): np.lib.format.read_array_header_2_0}
_MAX_HEADER = 10_000  # bytes of an npy header (ours are ~100)
_TMP_TAG = ".fastmlp-tmp"

#: format magic -> model class (filled by fastmlp.mlp through register)
_MODEL_CLASSES: dict[str, type] = {}
#: other formats (fastmlp.quantize's): magic -> (reader(path, arrays, n_threads), max members)
_READERS: dict[str, tuple[Any, int]] = {}
#: formats whose reader registers on import of a package (the scikit-learn drop-ins'):
#: format prefix -> (package, max members), so fastmlp.sklearn is imported only for them
_LAZY_READERS = {"fastmlp.sklearn.": ("fastmlp.sklearn", 1024)}
#: model class -> what :func:`save` writes for it (``arrays(model, path)``, checked)
_WRITERS: dict[type, Any] = {}


class ModelFileError(ValueError):
    """A file that is not a readable fastmlp model (damaged, foreign, inconsistent or too new)."""


def register(magic: str, cls: type) -> None:
    """Make ``cls`` the class :func:`load` builds for files whose ``format`` is ``magic``."""
    _MODEL_CLASSES[magic] = cls


def register_reader(magic: str, reader: Any, max_members: int) -> None:
    """Make :func:`load` hand files whose ``format`` is ``magic`` (and that have at most
    ``max_members`` members) to ``reader(path, arrays, n_threads)``, which checks them
    and raises ModelFileError itself."""
    _READERS[magic] = (reader, max_members)


def register_writer(cls: type, arrays: Any) -> None:
    """Make :func:`save` write models of class ``cls`` as ``arrays(model, path)``: the file's
    entries, already checked as loading will check them (ValueError when refused)."""
    _WRITERS[cls] = arrays


# ---------------------------------------------------------------------------- reading
class _Bad(Exception):
    """A problem found while checking entries; its text is completed by the caller."""


class _Foreign(_Bad):
    """Not a fastmlp model, or one of a newer format (not damage)."""


def _member_array(zf: zipfile.ZipFile, info: zipfile.ZipInfo, file_size: int,
                  max_unpacked: Optional[int], kinds: str) -> np.ndarray:
    """One ``.npy`` member, checked before anything is allocated for it.

    ``max_unpacked`` None: uncompressed members only, each within the file's size;
    else deflated members too, of at most that many bytes once inflated."""
    name = info.filename
    if info.flag_bits & 0x1:
        raise _Bad(f"member {name!r} is encrypted")
    methods = (zipfile.ZIP_STORED,) if max_unpacked is None else (zipfile.ZIP_STORED,
                                                                  zipfile.ZIP_DEFLATED)
    if info.compress_type not in methods:
        raise _Bad(f"member {name!r} uses zip compression method {info.compress_type}; "
                   + ("fastmlp writes uncompressed members only" if max_unpacked is None
                      else "only uncompressed or deflated members are read"))
    if info.header_offset < 0 or info.header_offset + info.compress_size > file_size or (
            info.file_size != info.compress_size if info.compress_type == zipfile.ZIP_STORED
            else info.file_size > max_unpacked):
        raise _Bad(f"member {name!r} claims {info.file_size} bytes ({info.compress_size} "
                   f"stored at offset {info.header_offset}), more than the file's "
                   f"{file_size} bytes" + ("" if max_unpacked is None
                                           else f" or the limit of {max_unpacked}"))
    with zf.open(info) as fp:
        version = np.lib.format.read_magic(fp)
        reader = _NPY_VERSIONS.get(version)
        if reader is None:
            raise _Bad(f"member {name!r} is in npy format {version}, not 1.0 or 2.0")
        shape, fortran, dtype = reader(fp, max_header_size=_MAX_HEADER)
        if any(d < 0 for d in shape):
            raise _Bad(f"member {name!r}: negative dimensions {shape}")
        if dtype.hasobject:
            raise _Bad(f"member {name!r} holds Python objects (it would need pickle, which "
                       "fastmlp never uses)")
        if dtype.kind not in kinds or dtype.fields is not None or dtype.subdtype is not None:
            raise _Bad(f"member {name!r} has dtype {dtype}, not a plain number or string")
        count = math.prod(shape)
        need = count * dtype.itemsize
        have = info.file_size - fp.tell()
        if need != have:
            raise _Bad(f"member {name!r}: its header claims shape {shape} of {dtype} "
                       f"({need} bytes) but holds {have} bytes")
        raw = fp.read(need)
        if len(raw) != need or fp.read(1):  # reading to the end checks the CRC
            raise _Bad(f"member {name!r} is truncated")
    arr = np.frombuffer(raw, dtype=dtype, count=count)
    return arr.reshape(shape, order="F" if fortran else "C").copy()


#: what reading a damaged zip or npy member may raise besides _Bad (numpy parses npy
#: headers with ast.literal_eval: SyntaxError; zipfile: NotImplementedError, RuntimeError...)
_READ_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError,
                KeyError, IndexError, TypeError, NotImplementedError, RuntimeError,
                OverflowError, MemoryError, RecursionError, UnicodeDecodeError, SyntaxError)


def read_npz_arrays(f: Any, size: int, *, max_members: int,
                    max_unpacked: Optional[int] = None, kinds: str = "biufU") -> dict:
    """Every array of an ``.npz`` in the seekable binary file ``f`` of ``size`` bytes,
    checked against ``size`` (and ``max_unpacked``) before anything is allocated.

    Raises ValueError (a one-line reason) for anything wrong in the file; see
    :func:`_member_array` for ``max_unpacked``.  Also used by the command line
    for data files.
    """
    try:
        with zipfile.ZipFile(f) as zf:
            infos = zf.infolist()
            if len(infos) > max_members:
                raise _Bad(f"{len(infos)} members, more than the {max_members} expected")
            data: dict[str, np.ndarray] = {}
            for info in infos:
                key = info.filename[:-4] if info.filename.endswith(".npy") else None
                if key is None or key in data:
                    raise _Bad(f"unexpected or repeated member {info.filename!r}")
                data[key] = _member_array(zf, info, size, max_unpacked, kinds)
            return data
    except _Bad as exc:
        raise ValueError(str(exc)) from None
    except _READ_ERRORS as exc:
        raise ValueError(f"{type(exc).__name__}: {_short(exc)}") from None


def _read(path: str, max_members: int = len(_REQUIRED) + len(_OPTIONAL)) -> dict:
    """All arrays of the file, or ModelFileError.  Reads and checks every member (sizes
    against the file's size first, then the CRC), so damage surfaces here."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a FIFO must not block
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise ModelFileError(f"{path}: not a regular file")
    with open(fd, "rb") as f:
        head = f.read(6)
        f.seek(0)
        if head == b"\x93NUMPY":
            raise ModelFileError(f"{path}: a single .npy array, not a fastmlp model (.npz)")
        try:
            return read_npz_arrays(f, st.st_size, max_members=max_members)
        except ValueError as exc:
            raise ModelFileError(f"{path}: not a readable fastmlp model file (damaged, "
                                 f"truncated or not an .npz): {exc}") from None


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 200 else text[:200] + "..."


# ---------------------------------------------------------------------------- checks
def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_real(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _text(data: dict, key: str) -> str:
    v = data[key]
    if v.shape != () or v.dtype.kind != "U":
        raise _Bad(f"entry {key!r} should be a string; got {v.dtype} {v.shape}")
    return str(v)


def _json_entry(data: dict, key: str) -> Any:
    try:
        return json.loads(_text(data, key))
    except (json.JSONDecodeError, RecursionError, ValueError) as exc:
        raise _Bad(f"entry {key!r} is not valid JSON: {_short(exc)}") from None


def _check_header(data: dict) -> None:
    fmt = data.get("format")
    if fmt is None or fmt.shape != () or fmt.dtype.kind != "U" or str(fmt) not in _MODEL_CLASSES:
        raise _Foreign(f"not a fastmlp model (an .npz without the 'format' = {_MAGIC!r} entry; "
                   f"keys: {sorted(data)[:10]})")
    missing = [k for k in _REQUIRED if k not in data]
    if missing:
        raise _Bad(f"missing entries {missing}")
    unknown = sorted(k for k in data if k not in _REQUIRED and k not in _OPTIONAL)
    if unknown:
        raise _Bad(f"unexpected entries {unknown[:10]}")
    ver = data["format_version"]
    if ver.shape != () or ver.dtype.kind not in "iu":
        raise _Bad("bad format_version entry (not an integer scalar)")
    if int(ver) > FORMAT_VERSION or int(ver) < 1:
        raise _Foreign(f"written in fastmlp model format {int(ver)} by fastmlp "
                   f"{_text(data, 'fastmlp_version')}; this fastmlp reads formats 1 to "
                   f"{FORMAT_VERSION}. Upgrade fastmlp to load it.")
    _text(data, "fastmlp_version")


def _check_config(cfg: Any) -> dict:
    """The constructor arguments, with types and ranges checked (the constructor checks
    the names); returns the number of parameters the layers imply under 'n_params'."""
    if not isinstance(cfg, dict) or sorted(k for k in cfg if k not in _CONFIG_OPTIONAL) != sorted(
            _CONFIG_KEYS):
        keys = sorted(cfg) if isinstance(cfg, dict) else type(cfg).__name__
        raise _Bad(f"entry 'config' should hold the keys {list(_CONFIG_KEYS)}; got {keys}")
    cfg = {**_CONFIG_DEFAULTS, **cfg}
    v = cfg["huber_delta"]
    if not _is_real(v) or not math.isfinite(v) or v <= 0:
        raise _Bad(f"config 'huber_delta' should be a finite number > 0; got {_short(v)}")
    q = cfg["quantile"]
    if not (_is_real(q) or (isinstance(q, list) and q and all(_is_real(x) for x in q))):
        raise _Bad(f"config 'quantile' should be a level or a list of levels; got {_short(q)}")
    layers = cfg["layers"]
    if (not isinstance(layers, list) or not 2 <= len(layers) <= 65
            or not all(_is_int(w) and 1 <= w < 2**31 for w in layers)):
        raise _Bad(f"config 'layers' should be 2 to 65 positive widths; got {_short(layers)}")
    n_hidden = len(layers) - 2
    acts = cfg["activation"]
    if not isinstance(acts, list) or len(acts) != n_hidden or not all(
            isinstance(a, str) for a in acts):
        raise _Bad(f"config 'activation' should be {n_hidden} names; got {_short(acts)}")
    drop = cfg["dropout"]
    if not isinstance(drop, list) or len(drop) != n_hidden or not all(
            _is_real(r) and 0 <= r < 1 for r in drop):
        raise _Bad(f"config 'dropout' should be {n_hidden} rates in [0, 1); got {_short(drop)}")
    for key in ("loss", "init"):
        if not isinstance(cfg[key], str):
            raise _Bad(f"config {key!r} should be a string; got {_short(cfg[key])}")
    if cfg["output_activation"] is not None and not isinstance(cfg["output_activation"], str):
        raise _Bad("config 'output_activation' should be a string or null")
    if cfg["dtype"] not in ("float32", "float64"):
        raise _Bad(f"config 'dtype' should be 'float32' or 'float64'; got {_short(cfg['dtype'])}")
    if cfg.get("compute_dtype", cfg["dtype"]) not in (cfg["dtype"], "bfloat16") or (
            cfg.get("compute_dtype") == "bfloat16" and cfg["dtype"] != "float32"):
        raise _Bad(f"config 'compute_dtype' should be 'bfloat16' (with dtype 'float32') or the "
                   f"dtype; got {_short(cfg.get('compute_dtype'))}")
    for key in ("leaky_slope", "input_noise", "elu_alpha"):
        v = cfg[key]
        vals = v if key == "leaky_slope" and isinstance(v, list) and len(v) in (
            n_hidden, n_hidden + 1) else [v]
        if not all(_is_real(x) and math.isfinite(x) and x >= 0 for x in vals):
            raise _Bad(f"config {key!r} should be a finite number >= 0"
                       f"{' (or one per layer)' if key == 'leaky_slope' else ''}; got {_short(v)}")
    if cfg["seed"] is not None and not (_is_int(cfg["seed"]) and 0 <= cfg["seed"] < 2**128):
        raise _Bad(f"config 'seed' should be a non-negative int or null; got {_short(cfg['seed'])}")
    ns = cfg["noise_seed"]
    if not (isinstance(ns, str) and ns.isdigit() and len(ns) <= 20 and int(ns) < 2**64):
        raise _Bad(f"config 'noise_seed' should be an unsigned 64-bit int; got {_short(ns)}")
    norm = cfg.setdefault("norm", [None] * n_hidden)
    if not isinstance(norm, list) or len(norm) != n_hidden or not all(
            k in (None, "batch", "layer") for k in norm):
        raise _Bad(f"config 'norm' should be {n_hidden} of null, 'batch', 'layer'; "
                   f"got {_short(norm)}")
    widths = layers[1:-1]
    return {**cfg, "n_params": sum((i + 1) * o for i, o in zip(layers[:-1], layers[1:]))
            + sum(2 * o for o, k in zip(widths, norm) if k),
            "n_norm_state": sum(2 * o for o, k in zip(widths, norm) if k == "batch")}


def _check_norm_state(data: dict, cfg: dict) -> Optional[np.ndarray]:
    """The batch norms' running statistics: present exactly when the model has batch norm."""
    need = cfg["n_norm_state"]
    if "norm_state" not in data:
        if need:
            raise _Bad("missing entry 'norm_state' (the batch norms' running statistics)")
        return None
    st = data["norm_state"]
    if st.shape != (need,) or st.dtype != np.dtype(cfg["dtype"]) or not need:
        raise _Bad(f"norm_state has {st.dtype} {st.shape}, the architecture needs "
                   f"{cfg['dtype']} ({need},)")
    if not np.isfinite(st).all():
        raise _Bad("norm_state contains NaN or infinity")
    off = 0
    for o, k in zip(cfg["layers"][1:-1], cfg["norm"]):
        if k == "batch":
            if (st[off + o:off + 2 * o] < 0).any():
                raise _Bad("norm_state: a running variance has negative values")
            off += 2 * o
    return st


def _check_params(data: dict, cfg: dict) -> np.ndarray:
    p = data["params"]
    if p.shape != (cfg["n_params"],) or p.dtype != np.dtype(cfg["dtype"]):
        raise _Bad(f"params has {p.dtype} {p.shape}, the architecture needs {cfg['dtype']} "
                   f"({cfg['n_params']},)")
    if not np.isfinite(p).all():
        raise _Bad("params contain NaN or infinity")
    return p


def _check_classes(data: dict, cfg: dict) -> Optional[np.ndarray]:
    if "classes" not in data:
        return None
    c = data["classes"]
    n_out = cfg["layers"][-1]
    need = 2 if n_out == 1 else n_out
    if c.ndim != 1 or c.dtype.kind not in "biufU" or len(c) != need:
        raise _Bad(f"classes should be {need} labels (the network has {n_out} output"
                   f"{'s' if n_out > 1 else ''}); got {c.dtype} {c.shape}")
    if cfg["loss"] == "auto":
        raise _Bad("classes are set but the loss is still 'auto' (never fitted)")
    if c.dtype.kind == "f" and not np.isfinite(c).all():
        raise _Bad("classes contain NaN or infinity")
    if not np.all(c[1:] > c[:-1]):
        raise _Bad("classes are not sorted and unique")
    return c


def _check_history(hist: Any) -> dict:
    if not isinstance(hist, dict) or not all(
            isinstance(k, str) and isinstance(v, list) and all(_is_real(x) for x in v)
            for k, v in hist.items()):
        raise _Bad("history should be a dict of lists of numbers")
    return hist


def _check_rng(state: Any) -> dict:
    ok = (isinstance(state, dict) and state.get("bit_generator") == "PCG64"
          and isinstance(state.get("state"), dict)
          and sorted(state["state"]) == ["inc", "state"]
          and all(_is_int(v) and 0 <= v < 2**128 for v in state["state"].values())
          and state.get("has_uint32") in (0, 1)
          and _is_int(state.get("uinteger")) and 0 <= state["uinteger"] < 2**32)
    if not ok:
        raise _Bad("rng should be a PCG64 state (128-bit unsigned state and inc, "
                   f"has_uint32 0/1, 32-bit uinteger); got {_short(state)}")
    return state


def _uses_s3(layout: list) -> bool:
    """Whether the rule of ``layout`` keeps a third buffer (centered RMSprop, AMSGrad)."""
    return (layout[0] == "rmsprop" and bool(layout[2])) or (
        layout[0] in ("adam", "adamw") and bool(layout[1]))


#: buffers that hold sums or averages of squared gradients, never negative
_NONNEG = {"adagrad": ("s1",), "rmsprop": ("s1",), "adam": ("s2", "s3"), "adamw": ("s2", "s3")}
_LAYOUT_LEN = {"sgd": 3, "adagrad": 1, "rmsprop": 3, "adam": 3, "adamw": 3}


def _check_optimizer(data: dict, params: np.ndarray) -> Optional[dict]:
    bufs = [k for k in ("opt_s1", "opt_s2", "opt_s3") if k in data]
    if "optimizer" not in data:
        if bufs:
            raise _Bad(f"optimizer buffers {bufs} without an 'optimizer' entry")
        return None
    st = _json_entry(data, "optimizer")
    if not isinstance(st, dict):
        raise _Bad("bad optimizer entry (not a dict)")
    layout, step, kind = st.get("layout"), st.get("step"), st.get("kind")
    if (not isinstance(layout, list) or not layout or layout[0] not in _LAYOUT_LEN
            or len(layout) != _LAYOUT_LEN[layout[0]]
            or not all(isinstance(v, bool) for v in layout[1:])):
        raise _Bad(f"bad optimizer entry: layout {_short(layout)}")
    if kind != B.OPTIMIZERS[layout[0]]:
        raise _Bad(f"bad optimizer entry: kind {_short(kind)} for a {layout[0]!r} layout")
    if not (_is_int(step) and 0 <= step < 2**63):
        raise _Bad(f"bad optimizer entry: step should be an int >= 0; got {_short(step)}")
    for k, v in st.items():
        if _is_real(v) and not math.isfinite(v):
            raise _Bad(f"bad optimizer entry: {k} = {v}")
    need = ["s1", "s2"] + (["s3"] if _uses_s3(layout) else [])
    if sorted(bufs) != ["opt_" + k for k in need]:
        raise _Bad(f"optimizer buffers {bufs}; a {layout[0]!r} state needs "
                   f"{['opt_' + k for k in need]}")
    st["s3"] = None
    for k in need:
        buf = data["opt_" + k]
        if buf.shape != params.shape or buf.dtype != params.dtype:
            raise _Bad(f"opt_{k} has {buf.dtype} {buf.shape}, expected {params.dtype} "
                       f"{params.shape}")
        if not np.isfinite(buf).all():
            raise _Bad(f"opt_{k} contains NaN or infinity")
        if k in _NONNEG.get(layout[0], ()) and (buf < 0).any():
            raise _Bad(f"opt_{k} (a {layout[0]} sum of squares) has negative values")
        st[k] = buf
    return st


def _check_all(data: dict) -> dict:
    """Every entry checked, alone and against the others; returns what load builds from."""
    _check_header(data)
    cfg = _check_config(_json_entry(data, "config"))
    params = _check_params(data, cfg)
    return {"class": _MODEL_CLASSES[str(data["format"])], "config": cfg, "params": params,
            "classes": _check_classes(data, cfg),
            "history": _check_history(_json_entry(data, "history")),
            "rng": _check_rng(_json_entry(data, "rng")),
            "optimizer": _check_optimizer(data, params),
            "norm_state": _check_norm_state(data, cfg)}


def _build(checked: dict, n_threads: Optional[int]) -> Any:
    cfg = checked["config"]
    # a model initialised by a callable was saved as init='callable' (fastmlp.initializers):
    # built with a drawable name, then given that name back
    init = "sklearn" if cfg["init"] == "callable" else cfg["init"]
    model = checked["class"](cfg["layers"], activation=cfg["activation"],
                             output_activation=cfg["output_activation"], loss=cfg["loss"],
                             leaky_slope=cfg["leaky_slope"], init=init, dtype=cfg["dtype"],
                             seed=cfg["seed"], n_threads=n_threads, dropout=cfg["dropout"],
                             input_noise=cfg["input_noise"], norm=cfg["norm"],
                             huber_delta=cfg["huber_delta"], quantile=cfg["quantile"],
                             compute_dtype=cfg.get("compute_dtype"), elu_alpha=cfg["elu_alpha"])
    model._noise_seed = int(cfg["noise_seed"])
    model.init = cfg["init"]
    model._params[...] = checked["params"]
    if checked["norm_state"] is not None:
        model._norm_state[...] = checked["norm_state"]
    model.classes_ = checked["classes"]
    model.history_ = checked["history"]
    model._rng.bit_generator.state = checked["rng"]
    model._opt_state = checked["optimizer"]
    return model


def load(path: Union[str, "os.PathLike[str]"], n_threads: Optional[int] = None) -> Any:
    """Read a model written by :func:`save` (no pickle involved).

    Parameters
    ----------
    path : str or path-like
    n_threads : int, optional
        Threads for the loaded model (not stored in the file).

    Returns
    -------
    fastmlp.MLP, or the ``fastmlp.sklearn`` estimator saved
        (for a drop-in, ``n_threads`` replaces its saved ``n_threads``).

    Raises
    ------
    FileNotFoundError
        When there is no such file.
    ModelFileError
        For anything wrong in the file: damaged, truncated, foreign, from a
        newer format, or entries of the wrong dtype, shape or range or that
        disagree with one another.  The message names the file and the entry.
    ValueError
        When ``n_threads`` is not a valid thread count.
    """
    resolve_threads(n_threads, B.core.max_threads())  # the argument's own error, not the file's
    path = os.fspath(path)
    n_mlp = len(_REQUIRED) + len(_OPTIONAL)
    data = _read(path, max([n_mlp] + [m for _, m in _READERS.values()]
                           + [m for _, m in _LAZY_READERS.values()]))
    fmt = data.get("format")
    if fmt is not None and fmt.shape == () and fmt.dtype.kind == "U":
        for prefix, (package, _) in _LAZY_READERS.items():
            if str(fmt).startswith(prefix) and str(fmt) not in _READERS:
                __import__(package)  # registers its readers (ImportError: not installed)
        if str(fmt) in _READERS:
            return _READERS[str(fmt)][0](path, data, n_threads)
    if len(data) > n_mlp:
        raise ModelFileError(f"{path}: not a readable fastmlp model file (damaged, truncated or "
                             f"not an .npz): {len(data)} members, more than the {n_mlp} expected")
    try:
        checked = _check_all(data)
        return _build(checked, n_threads)
    except _Bad as exc:
        kind = "" if isinstance(exc, _Foreign) else "damaged fastmlp model: "
        raise ModelFileError(f"{path}: {kind}{exc}") from None
    except (KeyError, TypeError, ValueError, OverflowError) as exc:  # the constructor's checks
        raise ModelFileError(f"{path}: damaged fastmlp model: bad config entry: "
                             f"{_short(exc)}") from None


# ---------------------------------------------------------------------------- writing
def _json(obj: Any, what: str) -> np.ndarray:
    try:
        return np.array(json.dumps(obj))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"cannot save the model: its {what} is not plain numbers, strings, "
                         f"lists and dicts: {_short(exc)}") from None


def _jsonable_state(st: dict) -> dict:
    out = {}
    for k, v in st.items():
        if isinstance(v, np.ndarray) or v is None:
            continue
        out[k] = v.item() if isinstance(v, np.generic) else v
    return out


def _arrays(model: Any) -> dict:
    """The file's entries for ``model`` (not yet checked)."""
    # the package's version, read without importing the package from its own submodule
    version = str(getattr(sys.modules.get("fastmlp"), "__version__", "unknown"))
    config = {"layers": model.layers, "activation": model.activations,
              "output_activation": model.output_activation, "loss": model.loss,
              "leaky_slope": model.leaky_slope,
              "init": model.init if isinstance(model.init, str) else "callable",
              "dtype": model.dtype.name,
              "seed": None if model.seed is None else int(model.seed),
              "dropout": list(model.dropout), "input_noise": model.input_noise,
              "noise_seed": str(model._noise_seed)}
    if any(model.norms):  # only then: files of models without norm stay as before
        config["norm"] = list(model.norms)
    if model.loss == "huber":
        config["huber_delta"] = model.huber_delta
    if model.loss == "quantile":
        config["quantile"] = model.quantile
    if model.compute_dtype != model.dtype.name:  # files of native-compute models stay as before
        config["compute_dtype"] = model.compute_dtype
    if model.elu_alpha != B.ELU_ALPHA:  # likewise
        config["elu_alpha"] = model.elu_alpha
    arrays: dict[str, np.ndarray] = {
        "format": np.array(_MAGIC), "format_version": np.array(FORMAT_VERSION, dtype=np.int64),
        "fastmlp_version": np.array(version), "config": _json(config, "configuration"),
        "params": model._params, "history": _json(model.history_, "history_"),
        "rng": _json(model._rng.bit_generator.state, "generator state"),
    }
    if model._norm_state is not None and model._norm_state.size:
        arrays["norm_state"] = model._norm_state
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
        arrays["optimizer"] = _json(_jsonable_state(st), "optimizer state")
        for k in ("s1", "s2", "s3"):
            if st.get(k) is not None:
                arrays["opt_" + k] = st[k]
    return arrays


def _new_file_mode(path: str) -> int:
    """The mode ``open(path, 'w')`` would leave: the existing file's, else 0666 & ~umask."""
    try:
        st = os.stat(path)
        if stat.S_ISREG(st.st_mode):
            return stat.S_IMODE(st.st_mode)
    except OSError:
        pass
    try:  # the umask without changing it (Linux >= 4.7)
        with open("/proc/self/status") as f:
            m = re.search(r"^Umask:\s*([0-7]+)", f.read(), re.M)
        if m:
            return 0o666 & ~int(m.group(1), 8)
    except OSError:
        pass
    mask = os.umask(0o022)  # elsewhere: read it by setting it (and put it back)
    os.umask(mask)
    return 0o666 & ~mask


def _tmp_prefix(path: str) -> str:
    """Temporary files of saves to ``path``: ``.<name>.<pid>.fastmlp-tmp<random>``."""
    return "." + os.path.basename(path)[:100] + "."


def _remove_stale_temporaries(path: str) -> None:
    """Remove temporary files that saves to ``path`` by dead processes left behind
    (a ``kill -9`` between the write and the rename)."""
    directory, prefix = os.path.dirname(os.path.abspath(path)), _tmp_prefix(path)
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        if not name.startswith(prefix) or _TMP_TAG not in name:
            continue
        pid = name[len(prefix):].split(".", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
            continue  # its writer is alive: perhaps saving right now
        except ProcessLookupError:
            pass
        except OSError:  # not ours to signal: alive
            continue
        try:
            os.unlink(os.path.join(directory, name))
        except OSError:
            pass


def save(model: Any, path: Union[str, "os.PathLike[str]"]) -> str:
    """Write ``model`` to ``path`` (``.npz`` appended if missing) atomically; return the path.

    Parameters
    ----------
    model : fastmlp.MLP, or a fitted or unfitted ``fastmlp.sklearn`` MLPClassifier,
        MLPRegressor or Perceptron
    path : str or path-like

    Returns
    -------
    str
        The path written.

    Raises
    ------
    ValueError
        When the model holds something :func:`load` would refuse (NaN or
        infinite weights or optimizer state, class labels of mixed types or
        not sorted); nothing is written then.
    OSError
        When the file cannot be written (the destination is left as it was
        and no temporary file remains).
    """
    path = os.fspath(path)
    if not path.endswith(".npz"):
        path += ".npz"
    writer = _WRITERS.get(type(model))
    if writer is not None:
        _write_atomic(path, writer(model, path))
        return path
    arrays = _arrays(model)
    try:  # what load would say, said now: a file written by save always loads
        _check_all(dict(arrays))
    except _Bad as exc:
        raise ValueError(f"cannot save the model to {path}: {exc}"
                         + ("; the weights must be finite to be saved (the training diverged? "
                            "lower the learning rate)" if "NaN" in str(exc) else "")) from None
    _write_atomic(path, arrays)
    return path


def _write_atomic(path: str, arrays: dict) -> None:
    """Write ``arrays`` as an uncompressed ``.npz`` at ``path`` the way :func:`save`
    promises: a temporary file beside it, fsynced, renamed over it, the directory fsynced;
    the temporary file removed on any error."""
    _remove_stale_temporaries(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f"{_tmp_prefix(path)}{os.getpid()}.", suffix=_TMP_TAG,
                               dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), _new_file_mode(path))
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
    _fsync_dir(directory)


def _fsync_dir(directory: str) -> None:
    """Make the rename durable (best effort: not every platform opens directories)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.EBADF, errno.EACCES):
            raise
    finally:
        os.close(fd)
