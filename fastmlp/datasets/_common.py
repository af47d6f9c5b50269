"""Shared pieces of :mod:`fastmlp.datasets`: the result container and argument checks."""
from __future__ import annotations

import numbers
import os
from typing import Any, Protocol, Union

import numpy as np

PathLike = Union[str, "os.PathLike[str]"]
RandomState = Union[None, int, np.integer, np.random.Generator]

_CHUNK = 1 << 20  # bytes read or downloaded at a time


class _Reader(Protocol):
    """A binary stream: an open file or a :class:`gzip.GzipFile`."""

    def read(self, size: int = -1, /) -> bytes: ...


# ---------------------------------------------------------------------------
# Small helpers: Bunch, parameter validation, random state
# ---------------------------------------------------------------------------


class Bunch(dict):
    """A dictionary whose keys can also be read and written as attributes.

    Examples
    --------
    >>> b = Bunch(data=[1, 2], target=[0, 1])
    >>> b.data is b["data"]
    True
    """

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self.keys()))


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_real(
    name: str,
    value: Any,
    *,
    minimum: float | None = None,
    strict_min: bool = False,
) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    out = float(value)
    if not np.isfinite(out):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if minimum is not None:
        if strict_min and not out > minimum:
            raise ValueError(f"{name} must be > {minimum}, got {value!r}")
        if not strict_min and not out >= minimum:
            raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return out


def _check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def _check_random_state(random_state: RandomState) -> np.random.Generator:
    """Turn ``random_state`` into a :class:`numpy.random.Generator`."""
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(f"random_state must be a non-negative integer, got {random_state!r}")
        return np.random.default_rng(int(random_state))
    raise TypeError(
        "random_state must be None, a non-negative integer or a numpy.random.Generator, "
        f"got {type(random_state).__name__}"
    )
