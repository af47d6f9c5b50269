"""Parameter and data validation, in one place.

Parameters are declared as ``{"name": [constraint, ...]}`` and checked by
:func:`validate_params`; messages follow scikit-learn's template, e.g.
"The 'alpha' parameter of MLPClassifier must be a float in the range
[0, inf). Got -1 instead."  Data checks (:func:`check_X`, :func:`check_y_2d`)
convert to C-contiguous float32/float64 and reject NaN, inf, empty input and
wrong shapes with a message naming the argument.
"""
from __future__ import annotations

import numbers
import os
from dataclasses import dataclass
from typing import Any, Iterable, Optional

import numpy as np

__all__ = ["Interval", "Options", "validate_params", "check_X", "check_y_2d", "resolve_threads",
           "check_dtype", "check_dropout", "nonfinite_error", "NonFiniteError"]


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
            finite: bool = True) -> np.ndarray:
    """Return X as a C-contiguous 2-D array of ``dtype`` with finite values.

    Integer, boolean and non-contiguous input is converted; 1-D input is
    rejected (ambiguous between one sample and one feature).  ``finite=False``
    skips the finite check, for a caller that checks every row itself before
    using it (:meth:`fastmlp.MLP.fit` does, batch by batch in C during the
    first epoch) and raises :func:`nonfinite_error` on a bad one.
    """
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
    bad = "NaN" if np.isnan(arr).any() else "infinity"
    return NonFiniteError(f"{name} contains {bad}; all values must be finite")


def _all_finite(arr: np.ndarray) -> bool:
    """Whether every value of a float array is finite.

    A NaN or an infinity makes the sum non-finite, so a finite sum settles it
    in one read without a boolean temporary (MNIST's 60000 x 784 float32:
    7.6 ms against 14.4 ms for ``np.isfinite(arr).all()``); only a non-finite
    sum (bad values, or finite ones that overflow it) takes the full check.
    """
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


def resolve_threads(n_threads: Optional[int], max_threads: int) -> int:
    """scikit-learn's rule: None -> all usable CPUs; negative -> counted from the end; 0 is an error."""
    limit = max(1, min(max_threads, physical_cpus()))
    if n_threads is None:
        return limit
    if isinstance(n_threads, bool) or not isinstance(n_threads, numbers.Integral):
        raise ValueError(f"n_threads must be an int or None; got {n_threads!r}")
    if n_threads == 0:
        raise ValueError("n_threads must not be 0 (use None for all CPUs, or a positive count)")
    if n_threads < 0:
        return max(1, limit + 1 + int(n_threads))
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


def one_of(v: Any, name: str, options: Iterable[str]) -> str:
    """Return v if it is one of options, else raise listing them."""
    opts = tuple(options)
    if not isinstance(v, str) or v not in opts:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, opts))}; got {v!r}")
    return v


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
