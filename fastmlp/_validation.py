"""Parameter and data validation, in one place.

Parameters are declared as ``{"name": [constraint, ...]}`` and checked by
:func:`validate_params`; messages follow scikit-learn's template, e.g.
"The 'alpha' parameter of MLPClassifier must be a float in the range
[0, inf). Got -1 instead."  Data checks (:func:`check_X`, :func:`check_y_2d`)
convert to C-contiguous float32/float64 and reject NaN, inf, empty input and
wrong shapes with a message naming the argument.
"""
from __future__ import annotations

import contextlib
import contextvars
import numbers
import os
import re
import sys
import warnings
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Optional

import numpy as np

__all__ = ["Interval", "Options", "validate_params", "check_X", "check_y_2d", "resolve_threads",
           "check_dtype", "check_compute_dtype", "check_dropout", "nonfinite_error", "NonFiniteError", "DivergenceError",
           "ForwardOverflowError", "ForwardOverflowWarning", "ThreadCountWarning", "errstate",
           "check_forward_output", "check_labels", "check_sample_weight", "check_callbacks",
           "max_usable_threads", "THREADS_PER_CPU", "transaction", "naming", "check_quantile",
           "quantile_levels", "check_clip", "check_metrics", "check_metric_value", "is_sparse",
           "check_csr"]


@dataclass(frozen=True)
class Interval:
    """A real or integral range ``[left, right]``; ``closed`` is 'both', 'left', 'right', 'neither'."""

    kind: type  # numbers.Real or numbers.Integral
    left: Optional[float]
    right: Optional[float]
    closed: str = "both"

    def __contains__(self, v: Any) -> bool:
        if isinstance(v, bool) or not isinstance(v, self.kind):
            return False
        if isinstance(v, float) and np.isnan(v):
            return False
        # an open side's missing bound is an infinity outside the range (scikit-learn's rule)
        if (self.right is None and v == np.inf) or (self.left is None and v == -np.inf):
            return False
        lo_ok = self.left is None or (v >= self.left if self.closed in ("both", "left") else v > self.left)
        hi_ok = self.right is None or (v <= self.right if self.closed in ("both", "right") else v < self.right)
        return bool(lo_ok and hi_ok)

    def __str__(self) -> str:
        what = "an int" if self.kind is numbers.Integral else "a float"
        lb = "[" if self.closed in ("both", "left") and self.left is not None else "("
        rb = "]" if self.closed in ("both", "right") and self.right is not None else ")"
        lo = "-inf" if self.left is None else f"{self.left:g}"
        hi = "inf" if self.right is None else f"{self.right:g}"
        return f"{what} in the range {lb}{lo}, {hi}{rb}"


@dataclass(frozen=True)
class Options:
    """One of a fixed set of values."""

    values: tuple

    def __contains__(self, v: Any) -> bool:
        try:
            return v in self.values
        except TypeError:
            return False

    def __str__(self) -> str:
        return "a str among {" + ", ".join(repr(v) for v in self.values) + "}"


class _TypeOf:
    def __init__(self, *types: type, name: str) -> None:
        self.types, self.name = types, name

    def __contains__(self, v: Any) -> bool:
        return isinstance(v, self.types)

    def __str__(self) -> str:
        return self.name


BOOL = _TypeOf(bool, np.bool_, name="a bool")
NONE = _TypeOf(type(None), name="None")
CALLABLE = _TypeOf(object, name="a callable")


def validate_params(owner: str, params: dict, constraints: dict) -> None:
    """Raise ValueError for the first parameter that meets none of its constraints."""
    for name, allowed in constraints.items():
        if name not in params:
            continue
        v = params[name]
        if not any(v in c for c in allowed):
            desc = " or ".join(str(c) for c in allowed)
            raise ValueError(f"The {name!r} parameter of {owner} must be {desc}. Got {v!r} instead.")


def check_dtype(dtype: Any, name: str = "dtype") -> np.dtype:
    """Return np.float32 or np.float64, or raise naming the argument."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise ValueError(f"{name} must be float32 or float64; got {dtype!r}") from None
    if dt not in (np.float32, np.float64):
        raise ValueError(f"{name} must be float32 or float64; got {dt}")
    return dt


#: compute dtypes (Keras's names) -> canonical; None means the model's own dtype
COMPUTE_DTYPES = {"float32": "float32", "float64": "float64", "bfloat16": "bfloat16",
                  "bf16": "bfloat16", "mixed_bfloat16": "bfloat16"}


def check_compute_dtype(compute_dtype: Any, dtype: np.dtype) -> str:
    """Return the canonical compute dtype ('float32', 'float64' or 'bfloat16') for a
    model of ``dtype``, or raise naming the argument.

    'bfloat16' (alias 'bf16', Keras's policy name 'mixed_bfloat16') needs float32
    master weights: a float64 model's updates and state would be rounded through a
    product 2**45 times coarser than its own precision, so the combination is
    refused rather than given a meaning nobody asked for.
    """
    if compute_dtype is None:
        return dtype.name
    key = compute_dtype.lower() if isinstance(compute_dtype, str) else None
    if key is None:
        try:
            key = np.dtype(compute_dtype).name
        except TypeError:
            key = None
    if key not in COMPUTE_DTYPES:
        raise ValueError(f"compute_dtype must be None, 'float32', 'float64' or 'bfloat16'; "
                         f"got {compute_dtype!r}")
    canon = COMPUTE_DTYPES[key]
    if canon == "bfloat16" and dtype != np.float32:
        raise ValueError("compute_dtype='bfloat16' needs dtype=float32 (bf16 products with "
                         f"float32 master weights); got dtype={dtype.name}")
    if canon != "bfloat16" and canon != dtype.name:
        raise ValueError(f"compute_dtype={canon!r} differs from dtype={dtype.name!r}; only "
                         "'bfloat16' (with dtype=float32) may differ from the model's dtype")
    return canon


def is_sparse(a: Any) -> bool:
    """True for a scipy.sparse matrix or array; scipy is optional, so it is only
    looked at when it is already imported (sparse input imported it)."""
    sp = sys.modules.get("scipy.sparse")
    return sp is not None and sp.issparse(a)


def _invalid_csr(name: str, what: str) -> ValueError:
    return ValueError(f"{name} is not a valid sparse matrix: {what}")


def check_csr(X: Any, dtype: np.dtype, n_features: Optional[int] = None, name: str = "X") -> Any:
    """Return a scipy.sparse X as CSR with ``dtype`` values, never densified.

    Any other sparse format (CSC, COO, LIL, ...) is converted to CSR once.
    Its index arrays come out both int32 or both int64 (scipy's choice is
    kept), C-contiguous, with every column index in ``[0, n_features)`` and
    ``indptr`` non-decreasing: the C kernels trust them.  Columns within a
    row may be unsorted and may repeat (repeats add, as in scipy).  The
    stored values are checked to be finite (O(nnz), so always here).
    """
    if len(X.shape) != 2:
        raise ValueError(f"{name} must be a 2-D sparse matrix of shape (n_samples, n_features); "
                         f"got shape {X.shape}")
    if X.dtype.kind == "c":
        raise ValueError(f"{name} must be real-valued; got complex dtype {X.dtype}")
    if X.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be numeric; got a sparse matrix of dtype {X.dtype}")
    X = X.tocsr()
    n, m = X.shape
    if n == 0:
        raise ValueError(f"{name} is empty: it has 0 samples (shape {X.shape}); at least 1 is "
                         "required")
    if m == 0:
        raise ValueError(f"{name} has 0 features (shape {X.shape}); at least 1 is required")
    if n_features is not None and m != n_features:
        raise ValueError(f"{name} has {m} features, but the model expects {n_features}")
    data, indices, indptr = X.data, X.indices, X.indptr
    if indices.dtype != indptr.dtype or indices.dtype not in (np.int32, np.int64):
        indices, indptr = indices.astype(np.int64), indptr.astype(np.int64)
    data = np.ascontiguousarray(data, dtype=dtype)
    indices, indptr = np.ascontiguousarray(indices), np.ascontiguousarray(indptr)
    if indptr.shape != (n + 1,) or indptr[0] != 0 or np.any(indptr[1:] < indptr[:-1]):
        raise _invalid_csr(name, "its indptr must start at 0 and never decrease")
    nnz = int(indptr[-1])
    if nnz > min(data.shape[0], indices.shape[0]):
        raise _invalid_csr(name, f"indptr[-1] = {nnz} exceeds its {min(data.shape[0], indices.shape[0])} "
                           "stored values")
    data, indices = data[:nnz], indices[:nnz]
    if nnz and (int(indices.min()) < 0 or int(indices.max()) >= m):
        raise _invalid_csr(name, f"a column index lies outside [0, {m})")
    if not _all_finite(data):
        raise nonfinite_error(data, name)
    if data is not X.data or indices is not X.indices or indptr is not X.indptr:
        X = type(X)((data, indices, indptr), shape=(n, m), copy=False)
    return X


def _as_float_array(a: Any, name: str, dtype: np.dtype) -> np.ndarray:
    if hasattr(a, "toarray") and hasattr(a, "nnz"):  # scipy.sparse
        a = a.toarray()
    try:
        arr = np.asarray(a)
    except Exception as exc:  # noqa: BLE001 - report any conversion failure uniformly
        raise ValueError(f"{name} could not be converted to a numeric array: {exc}") from None
    if arr.dtype == object or arr.dtype.kind in "USV":
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be numeric; got an array of dtype {arr.dtype}") from None
    if arr.dtype.kind == "c":
        raise ValueError(f"{name} must be real-valued; got complex dtype {arr.dtype}")
    return np.ascontiguousarray(arr, dtype=dtype)


def check_X(X: Any, dtype: np.dtype, n_features: Optional[int] = None, name: str = "X",
            finite: bool = True, accept_sparse: bool = False) -> Any:
    """Return X as a C-contiguous 2-D array of ``dtype`` with finite values.

    Integer, boolean and non-contiguous input is converted; 1-D input is
    rejected (ambiguous between one sample and one feature).  ``finite=False``
    skips the finite check, for a caller that checks every row itself before
    using it (:meth:`fastmlp.MLP.fit` does, batch by batch in C during the
    first epoch) and raises :func:`nonfinite_error` on a bad one.

    With ``accept_sparse``, a scipy.sparse X stays sparse: :func:`check_csr`
    returns it as CSR (its values always checked, whatever ``finite`` says);
    without, it is densified.
    """
    if accept_sparse and is_sparse(X):
        return check_csr(X, dtype, n_features, name)
    arr = _as_float_array(X, name, dtype)
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D array of shape (n_samples, n_features); got {arr.ndim}-D "
            f"with shape {arr.shape}. Reshape 1-D data with X.reshape(-1, 1) (one feature) "
            "or X.reshape(1, -1) (one sample)."
        )
    if arr.shape[0] == 0:
        raise ValueError(f"{name} is empty: it has 0 samples (shape {arr.shape}); at least 1 is required")
    if arr.shape[1] == 0:
        raise ValueError(f"{name} has 0 features (shape {arr.shape}); at least 1 is required")
    if n_features is not None and arr.shape[1] != n_features:
        raise ValueError(f"{name} has {arr.shape[1]} features, but the model expects {n_features}")
    if finite and not _all_finite(arr):
        raise nonfinite_error(arr, name)
    return arr


class NonFiniteError(ValueError):
    """An argument holds a NaN or an infinity (a ValueError; a fit that raises
    it leaves the model as it was before the call)."""


def nonfinite_error(arr: np.ndarray, name: str) -> NonFiniteError:
    """The error for an array known to hold a NaN or an infinity, naming it."""
    if is_sparse(arr):
        arr = arr.data
    bad = "NaN" if np.isnan(arr).any() else "infinity"
    return NonFiniteError(f"{name} contains {bad}; all values must be finite")


def _all_finite(arr: np.ndarray) -> bool:
    """Whether every value of a float array is finite.

    A NaN or an infinity makes the sum non-finite, so a finite sum settles it
    in one read without a boolean temporary (MNIST's 60000 x 784 float32:
    7.6 ms against 14.4 ms for ``np.isfinite(arr).all()``); only a non-finite
    sum (bad values, or finite ones that overflow it) takes the full check.
    """
    if is_sparse(arr):  # its stored values (the others are zeros)
        arr = arr.data
    with np.errstate(over="ignore", invalid="ignore"):
        total = np.add.reduce(arr, axis=None)
    return bool(np.isfinite(total)) or bool(np.isfinite(arr).all())


def check_y_2d(y: Any, dtype: np.dtype, n_samples: int, n_outputs: int, name: str = "y") -> np.ndarray:
    """Return real-valued targets as a C-contiguous (n_samples, n_outputs) array."""
    arr = _as_float_array(y, name, dtype)
    if arr.ndim == 1 and n_outputs == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2 or arr.shape[1] != n_outputs:
        raise ValueError(f"{name} must have shape ({n_samples}, {n_outputs}) to match the model's "
                         f"{n_outputs} outputs; got shape {arr.shape}")
    if arr.shape[0] != n_samples:
        raise ValueError(f"X and {name} have different numbers of samples: {n_samples} and {arr.shape[0]}")
    if not np.isfinite(arr).all():
        raise nonfinite_error(arr, name)
    return np.ascontiguousarray(arr)


def physical_cpus() -> int:
    """Number of CPUs this process may use (affinity-aware)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


#: the most threads a call runs with, per usable CPU.  More only adds launch and
#: synchronisation cost (20,000 threads made an epoch 1,000x slower here), and
#: 200,000 overflowed the stack of the OpenMP launch; results never depend on
#: the count, so a larger request is lowered to this cap with a warning.
THREADS_PER_CPU = 4


class ThreadCountWarning(RuntimeWarning):
    """n_threads (or n_jobs) asked for more threads than fastmlp runs; it was lowered."""


def max_usable_threads() -> int:
    """The most threads fastmlp runs a call with: THREADS_PER_CPU x the usable CPUs."""
    return THREADS_PER_CPU * max(1, physical_cpus())


def resolve_threads(n_threads: Optional[int], max_threads: int, name: str = "n_threads") -> int:
    """scikit-learn's rule: None -> all usable CPUs; negative -> counted from the end; 0 is an error.

    A count above :func:`max_usable_threads` (4 per usable CPU) is lowered to
    it with a :class:`ThreadCountWarning`.
    """
    limit = max(1, min(max_threads, physical_cpus()))
    if n_threads is None:
        return limit
    if isinstance(n_threads, (bool, np.bool_)) or not isinstance(n_threads, numbers.Integral):
        raise ValueError(f"{name} must be an int or None; got {n_threads!r}")
    if n_threads == 0:
        raise ValueError(f"{name} must not be 0 (use None for all CPUs, or a positive count)")
    if n_threads < 0:
        return max(1, limit + 1 + int(n_threads))
    cap = max_usable_threads()
    if n_threads > cap:
        warnings.warn(f"{name}={int(n_threads)} is more than fastmlp runs on this machine "
                      f"({THREADS_PER_CPU} per usable CPU, {physical_cpus()} usable); using "
                      f"{cap}", ThreadCountWarning, stacklevel=3)
        return cap
    return int(n_threads)


def check_positive_int(v: Any, name: str, allow_none: bool = False) -> Optional[int]:
    """Return v as int >= 1 (or None when allowed), else raise naming it."""
    if v is None and allow_none:
        return None
    if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
        raise ValueError(f"{name} must be a positive int{' or None' if allow_none else ''}; got {v!r}")
    return int(v)


def check_nonneg_float(v: Any, name: str, positive: bool = False) -> float:
    """Return v as a finite float >= 0 (> 0 when positive), else raise naming it."""
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or not np.isfinite(v) or v < 0 or (positive and v == 0):
        raise ValueError(f"{name} must be a finite float {'>' if positive else '>='} 0; got {v!r}")
    return float(v)


def as_list(value: Any, n: int, name: str, what: str) -> list:
    """``[value] * n`` for a str, else the items of a sequence; anything else raises
    naming the argument (``what`` says what was expected)."""
    if isinstance(value, str):
        return [value] * n
    if isinstance(value, (bytes, dict)) or not isinstance(value, Iterable):
        raise ValueError(f"{name} must be {what}; got {value!r}")
    return list(value)


def check_leaky_slope(slope: Any, n_hidden: int, name: str = "leaky_slope") -> Any:
    """Return a leaky-ReLU slope (a finite float >= 0), or a list of them: one per hidden
    layer, optionally followed by the output layer's."""
    if isinstance(slope, (str, bytes, dict)) or not isinstance(slope, Iterable):
        return check_nonneg_float(slope, name)
    slopes = list(slope)
    if len(slopes) not in (n_hidden, n_hidden + 1):
        raise ValueError(f"{name}: {n_hidden} hidden layers need {n_hidden} slopes (or "
                         f"{n_hidden + 1} with the output layer's); got {len(slopes)}")
    return [check_nonneg_float(v, f"{name}[{i}]") for i, v in enumerate(slopes)]


def check_dropout(dropout: Any, n_hidden: int) -> list[float]:
    """Return one dropout rate in [0, 1) per hidden layer from a rate or a sequence of rates."""
    rates = [dropout] * n_hidden if isinstance(dropout, (int, float, np.floating)) \
        and not isinstance(dropout, bool) else dropout
    try:
        rates = [float(r) for r in rates]
    except (TypeError, ValueError):
        raise ValueError(f"dropout must be a float or one float per hidden layer; "
                         f"got {dropout!r}") from None
    if n_hidden == 0 and isinstance(dropout, (int, float, np.floating)) and dropout:
        raise ValueError("dropout acts on hidden layers, and this network has none")
    if len(rates) != n_hidden:
        raise ValueError(f"dropout: {n_hidden} hidden layers need {n_hidden} rates; "
                         f"got {len(rates)}")
    if any(not (0.0 <= r < 1.0) for r in rates):
        raise ValueError(f"dropout rates must be in [0, 1); got {rates}")
    return rates


#: the names ``norm=`` accepts, and their canonical spelling (None: no normalisation)
_NORM_NAMES = {"batch": "batch", "batchnorm": "batch", "batch_norm": "batch",
               "layer": "layer", "layernorm": "layer", "layer_norm": "layer", "none": None}


def check_norm(norm: Any, n_hidden: int) -> list:
    """Return one of None, 'batch', 'layer' per hidden layer from ``norm=`` (one for all,
    or a sequence with one per hidden layer)."""
    def one(v: Any) -> Any:
        if v is None:
            return None
        if isinstance(v, str) and v.lower().replace("-", "_") in _NORM_NAMES:
            return _NORM_NAMES[v.lower().replace("-", "_")]
        raise ValueError(f"norm must be 'batch', 'layer' or None (one for all hidden layers, or "
                         f"one per hidden layer); got {v!r}")

    if norm is None or isinstance(norm, str):
        kinds = [one(norm)] * n_hidden
        if n_hidden == 0 and kinds == [] and one(norm) is not None:
            raise ValueError("norm acts on hidden layers, and this network has none")
        return kinds
    kinds = [one(v) for v in as_list(norm, n_hidden, "norm",
                                      "'batch', 'layer', None or one of them per hidden layer")]
    if len(kinds) != n_hidden:
        raise ValueError(f"norm: {n_hidden} hidden layers need {n_hidden} choices; "
                         f"got {len(kinds)}")
    return kinds


def check_batch_norm_rows(n: int, batch_size: int) -> None:
    """Batch norm in training needs 2 or more rows in every batch (torch.nn.BatchNorm1d:
    "Expected more than 1 value per channel when training"); raise before training when a
    batch of ``batch_size`` rows, or the last one of ``n`` rows, would hold one."""
    if batch_size < 2:
        raise ValueError(f"batch_size={batch_size}: batch normalisation needs 2 or more rows "
                         f"per batch in training (expected more than 1 value per channel); "
                         f"use batch_size >= 2 (the training set has {n} rows)")
    if n % batch_size == 1:
        raise ValueError(f"batch_size={batch_size}: the last batch of the {n} training rows "
                         f"would hold 1 row, and batch normalisation needs 2 or more in "
                         f"training (expected more than 1 value per channel); choose a "
                         f"batch_size that does not leave 1 row over")


# ---------------------------------------------------------------------- numerics
class DivergenceError(FloatingPointError, ValueError):
    """Training overflowed (non-finite weights or loss) and stopped.

    Both a FloatingPointError and a ValueError (scikit-learn's estimators raise
    ValueError for this).  The Perceptrons keep the last finite weights, with
    counters that agree with them -- so a transaction around the call must let it
    pass without restoring (``keeps_model``).  The epoch driver of the MLPs
    (:mod:`fastmlp._driver`) raises one whose ``keeps_model`` is False: the model
    is put back as it was before the call.
    """

    #: the call committed the model's last finite state before raising: not rolled back
    keeps_model = True


class ForwardOverflowError(FloatingPointError, ValueError):
    """A forward pass on finite input overflowed to infinity or NaN (raised by
    inference unless :func:`errstate` says ``overflow='warn'``)."""


class ForwardOverflowWarning(RuntimeWarning):
    """A forward pass on finite input overflowed; the non-finite output was returned."""


_OVERFLOW = contextvars.ContextVar("fastmlp_overflow", default="raise")


@contextlib.contextmanager
def errstate(*, overflow: str) -> Iterator[None]:
    """What inference does when a forward pass on finite input overflows.

    ``overflow='raise'`` (the default outside this context) raises
    :class:`ForwardOverflowError`; ``'warn'`` emits a
    :class:`ForwardOverflowWarning` and returns the output as computed (with
    its infinities or NaNs).  The setting is local to the thread (and asyncio
    task) that enters the context.

    Examples
    --------
    >>> import fastmlp
    >>> with fastmlp.errstate(overflow="warn"):
    ...     pass
    """
    if overflow not in ("raise", "warn"):
        raise ValueError(f"overflow must be 'raise' or 'warn'; got {overflow!r}")
    token = _OVERFLOW.set(overflow)
    try:
        yield
    finally:
        _OVERFLOW.reset(token)


def check_forward_output(out: np.ndarray, name: str = "X", what: str = "output") -> np.ndarray:
    """Return ``out`` when finite; else raise ForwardOverflowError naming ``name``
    (or warn, under ``errstate(overflow='warn')``).

    ``out`` is the output of a forward pass over an input already checked finite,
    so a non-finite value means the arithmetic overflowed (inputs or weights too
    large for the dtype).
    """
    if _all_finite(out):
        return out
    bad = ~np.isfinite(out).reshape(out.shape[0], -1).all(axis=1)
    rows = np.flatnonzero(bad)
    msg = (f"the forward pass overflowed on {len(rows)} of {out.shape[0]} rows of {name} "
           f"(first: row {rows[0]}): the {what} {'are' if what.endswith('s') else 'is'} not "
           f"finite in {out.dtype} although {name} is; scale {name} (e.g. StandardScaler)"
           + (" or use dtype=float64" if out.dtype == np.float32 else ""))
    if _OVERFLOW.get() == "warn":
        warnings.warn(msg, ForwardOverflowWarning, stacklevel=3)
        return out
    raise ForwardOverflowError(msg)


# ---------------------------------------------------------------------- labels, weights
def check_labels(y: Any, name: str = "y") -> np.ndarray:
    """Return class labels as a 1-D array after checking they can be classes.

    Rejects, naming ``name``: NaN or infinite labels (a NaN would otherwise
    become a class of its own), None, and labels of mixed kinds (numbers and
    strings together, which cannot be sorted into ``classes_``).
    """
    try:
        arr = np.asarray(y)
    except Exception as exc:  # noqa: BLE001 - ragged nested sequences and the like
        raise ValueError(f"{name} could not be converted to an array of labels: {exc}") from None
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr.ravel()
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of class labels; got shape {arr.shape}")
    if arr.dtype.kind == "c":
        raise ValueError(f"{name} must hold real class labels. Complex data not supported "
                         f"(got dtype {arr.dtype})")
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        bad = "NaN" if np.isnan(arr).any() else "infinity"
        raise ValueError(f"{name} contains {bad}; class labels must be finite (a missing "
                         "label cannot be a class)")
    if arr.dtype.kind == "O":
        kinds = set()
        for v in arr:
            if v is None:
                raise ValueError(f"{name} contains None; every sample needs a class label")
            if isinstance(v, (bool, np.bool_)):
                kinds.add("bool")
            elif isinstance(v, numbers.Real):
                if not np.isfinite(float(v)):
                    raise ValueError(f"{name} contains {float(v)!r}; class labels must be finite")
                kinds.add("number")
            elif isinstance(v, (str, np.str_)):
                kinds.add("str")
            else:
                kinds.add(type(v).__name__)
        if len(kinds) > 1:
            raise ValueError(f"{name} mixes label types ({', '.join(sorted(kinds))}); class "
                             "labels must all be numbers or all strings")
    return arr


def check_sample_weight(sample_weight: Any, n: int, dtype: Any,
                        name: str = "sample_weight") -> np.ndarray:
    """Return ``n`` finite non-negative weights as a C-contiguous 1-D ``dtype`` array
    (a scalar is broadcast); raise naming ``name`` otherwise (complex weights
    included: their imaginary part would be dropped silently)."""
    if isinstance(sample_weight, numbers.Number) and not isinstance(sample_weight, bool):
        sample_weight = np.full(n, sample_weight)
    try:
        arr = np.asarray(sample_weight)
    except Exception as exc:  # noqa: BLE001
        raise ValueError(f"{name} could not be converted to an array: {exc}") from None
    if arr.dtype.kind == "c":
        raise ValueError(f"{name} must be real. Complex data not supported (got dtype "
                         f"{arr.dtype})")
    if arr.dtype.kind not in "fiub":
        raise ValueError(f"{name} must be numeric; got an array of dtype {arr.dtype}")
    if arr.ndim != 1 or arr.shape[0] != n:
        raise ValueError(f"{name} must be {n} weights, one per sample (1-D); got shape "
                         f"{arr.shape}")
    with np.errstate(over="ignore"):
        arr = np.ascontiguousarray(arr, dtype=dtype)
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite; it contains "
                         f"{'NaN' if np.isnan(arr).any() else 'infinity'} (in {np.dtype(dtype)})")
    if (arr < 0).any():
        raise ValueError(f"{name} must be non-negative; got a minimum of {arr.min():g}")
    return arr


def check_callbacks(callbacks: Any, base: type, name: str = "callbacks") -> list:
    """Return callbacks as a list of ``base`` instances (None: empty; one: wrapped)."""
    if callbacks is None:
        return []
    if isinstance(callbacks, base):
        return [callbacks]
    if isinstance(callbacks, (str, bytes)) or not isinstance(callbacks, Iterable):
        raise ValueError(f"{name} must be a {base.__name__}, a list of them or None; got "
                         f"{callbacks!r}")
    cbs = list(callbacks)
    for cb in cbs:
        if not isinstance(cb, base):
            raise ValueError(f"{name} must hold {base.__module__}.{base.__name__} instances; "
                             f"got {cb!r}")
    return cbs


# ---------------------------------------------------------------------- losses, metrics, clipping
def _real(v: Any) -> bool:
    return isinstance(v, (numbers.Real, np.floating, np.integer)) and not isinstance(
        v, (bool, np.bool_))


def check_quantile(quantile: Any, n_outputs: Optional[int] = None,
                   name: str = "quantile") -> Any:
    """Return ``quantile`` (loss='quantile''s levels) as a float or a list of floats,
    each in (0, 1); a list needs one level per output (checked once ``n_outputs`` is
    known).  Raises ValueError naming the argument."""
    if _real(quantile):
        levels, one = [quantile], True
    elif isinstance(quantile, (str, bytes, dict)) or not isinstance(quantile, Iterable):
        raise ValueError(f"{name} must be a float in (0, 1) or one per output; got {quantile!r}")
    else:
        levels, one = list(np.asarray(quantile, dtype=object).ravel()), False
    if not levels or not all(_real(q) and 0.0 < float(q) < 1.0 for q in levels):
        raise ValueError(f"{name} levels must be floats in (0, 1); got {quantile!r}")
    if not one and n_outputs is not None and len(levels) not in (1, n_outputs):
        raise ValueError(f"{name}: the network has {n_outputs} outputs, so give one level or "
                         f"{n_outputs}; got {len(levels)}")
    return float(levels[0]) if one else [float(q) for q in levels]


def quantile_levels(quantile: Any, n_outputs: int) -> np.ndarray:
    """The float64 levels of each output for a :func:`check_quantile`-checked value."""
    levels = check_quantile(quantile, n_outputs)
    return np.ascontiguousarray(np.broadcast_to(np.asarray(levels, dtype=np.float64),
                                                (n_outputs,)))


def check_clip(clip_grad_norm: Any, clip_grad_value: Any) -> tuple[float, float]:
    """Return (max_norm, max_value) for fm_train (0.0: off) from fit's ``clip_grad_norm``
    and ``clip_grad_value``: finite numbers > 0 or None, not both given."""
    out = []
    for name, v in (("clip_grad_norm", clip_grad_norm), ("clip_grad_value", clip_grad_value)):
        if v is None:
            out.append(0.0)
            continue
        if not _real(v) or not np.isfinite(v) or v <= 0:
            raise ValueError(f"{name} must be a finite float > 0 or None; got {v!r}")
        out.append(float(v))
    if out[0] and out[1]:
        raise ValueError("give clip_grad_norm or clip_grad_value, not both")
    return out[0], out[1]


def check_metrics(metrics: Any, reserved: Iterable[str],
                  name: str = "metrics") -> list[tuple[str, Any]]:
    """Return user metrics as [(name, callable)] from a callable, a list of callables
    (named by their ``__name__``) or a dict {name: callable}.  Names must be unique,
    identifiers-like, and not those of the built-in history keys (``reserved``) or
    their ``val_`` twins."""
    if metrics is None:
        return []
    if callable(metrics):
        metrics = [metrics]
    if isinstance(metrics, dict):
        items = list(metrics.items())
    elif isinstance(metrics, (str, bytes)) or not isinstance(metrics, Iterable):
        raise ValueError(f"{name} must be a callable (y_true, y_pred) -> float, a list of them "
                         f"or a dict {{name: callable}}; got {metrics!r}")
    else:
        items = []
        for fn in metrics:
            label = getattr(fn, "__name__", None)
            if callable(fn) and (not isinstance(label, str) or label == "<lambda>"):
                raise ValueError(f"{name}: {fn!r} has no usable __name__ to record it under; "
                                 f"give {name}={{'my_metric': fn}}")
            items.append((label, fn))
    taken = set(reserved)
    out: list[tuple[str, Any]] = []
    for label, fn in items:
        if not callable(fn):
            raise ValueError(f"{name} must hold callables (y_true, y_pred) -> float; got {fn!r}")
        if not isinstance(label, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", label):
            raise ValueError(f"{name}: metric names must be non-empty words; got {label!r}")
        if label in taken or label.startswith("val_") or label in (n for n, _ in out):
            raise ValueError(f"{name}: the name {label!r} is taken (built-in history keys, "
                             f"'val_' names and duplicates are); give {name}={{'other': fn}}")
        out.append((label, fn))
    return out


def check_metric_value(value: Any, label: str, where: str) -> float:
    """A user metric's result as a float; anything but a finite real number raises
    ValueError naming the metric."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if not _real(value) or not np.isfinite(value):
        raise ValueError(f"metric {label!r} returned {value!r} on {where}; a metric must "
                         f"return a finite number")
    return float(value)


# ---------------------------------------------------------------------- transactions
@contextlib.contextmanager
def transaction(obj: Any) -> Iterator[None]:
    """Run a call on ``obj`` that either completes or leaves it exactly as it was.

    On any exception (a KeyboardInterrupt included) but one whose
    ``keeps_model`` is true (:class:`DivergenceError`), every attribute of ``obj``
    is put back -- added ones removed, changed ones restored -- and the
    exception propagates.  For estimators whose state is small (the
    Perceptrons): it deep-copies every attribute on entry.
    """
    from fastmlp._transaction import restore, snapshot  # the one snapshot mechanism

    snap = snapshot(obj)
    try:
        yield
    except BaseException as exc:
        if not getattr(exc, "keeps_model", False):  # DivergenceError committed its state
            restore(obj, snap)
        raise


def _names_any(msg: str, names: tuple) -> bool:
    return any(re.search(r"(?<![A-Za-z0-9_])" + re.escape(n) + r"(?![A-Za-z0-9_])", msg)
               for n in names)


@contextlib.contextmanager
def naming(first: str, *others: str) -> Iterator[None]:
    """Make a ValueError from a third-party input check (scikit-learn's
    ``validate_data``) name the argument: one naming none of ``first`` and
    ``others`` is raised again with the argument prefixed -- ``first`` (checked
    first by such functions), or all of them for a sample-count mismatch."""
    try:
        yield
    except ValueError as exc:
        msg = str(exc)
        names = (first,) + others
        if _names_any(msg, names):
            raise
        who = " and ".join(names) if "inconsistent numbers of samples" in msg else first
        raise ValueError(f"{who}: {msg}") from exc
