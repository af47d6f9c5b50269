"""Toy problems: linearly separable blobs, XOR, spirals and a sine."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, overload

import numpy as np

from fastmlp.datasets._common import (
    RandomState,
    _check_bool,
    _check_int,
    _check_random_state,
    _check_real,
)


@overload
def make_separable(
    n_samples: int = ...,
    *,
    n_features: int = ...,
    margin: float = ...,
    coef: Sequence[float] | np.ndarray | None = ...,
    intercept: float | None = ...,
    return_hyperplane: Literal[False] = ...,
    random_state: RandomState = ...,
) -> tuple[np.ndarray, np.ndarray]: ...
@overload
def make_separable(
    n_samples: int = ...,
    *,
    n_features: int = ...,
    margin: float = ...,
    coef: Sequence[float] | np.ndarray | None = ...,
    intercept: float | None = ...,
    return_hyperplane: Literal[True],
    random_state: RandomState = ...,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]: ...
def make_separable(
    n_samples: int = 100,
    *,
    n_features: int = 2,
    margin: float = 0.1,
    coef: Sequence[float] | np.ndarray | None = None,
    intercept: float | None = None,
    return_hyperplane: bool = False,
    random_state: RandomState = None,
) -> tuple[np.ndarray, np.ndarray] | tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Linearly separable two-class points with a guaranteed margin.

    The classic perceptron exercise ("a player is accepted to the squad when
    a weighted sum of height and age passes a threshold") in normalised
    units: points are drawn uniformly in the cube [-1, 1]^n_features; the
    label is 1 where ``X @ coef + intercept > 0`` and 0 otherwise, and points
    closer than ``margin`` to the hyperplane are rejected and redrawn. So the
    two classes are separated by a slab of width ``2 * margin``.

    Parameters
    ----------
    n_samples : int, default=100
        Number of points, at least 2; the classes get ``ceil(n/2)`` (label
        1) and ``floor(n/2)`` (label 0) points.
    n_features : int, default=2
        Dimension of the points, at least 1.
    margin : float, default=0.1
        Minimum Euclidean distance from every point to the hyperplane, >= 0.
    coef : array-like of shape (n_features,), optional
        Normal of the separating hyperplane (need not be unit length); by
        default a random direction drawn from ``random_state``.
    intercept : float, optional
        Offset of the hyperplane; by default uniform in [-0.2, 0.2] times
        ``norm(coef)``.
    return_hyperplane : bool, default=False
        Also return ``coef`` (unit length) and ``intercept`` (scaled alike).
    random_state : None, int or numpy.random.Generator
        Seed or generator; the same seed gives the same data.

    Returns
    -------
    X : ndarray of float64, shape (n_samples, n_features)
    y : ndarray of int64, shape (n_samples,)
        Labels 0 and 1.
    coef : ndarray of float64, shape (n_features,)
        Only with ``return_hyperplane``: the unit normal.
    intercept : float
        Only with ``return_hyperplane``.

    Raises
    ------
    ValueError
        If a parameter is out of range, or the margin leaves (almost) no room
        in the cube on one side of the hyperplane.
    """
    n_samples = _check_int("n_samples", n_samples, 2)
    n_features = _check_int("n_features", n_features, 1)
    margin = _check_real("margin", margin, minimum=0.0)
    return_hyperplane = _check_bool("return_hyperplane", return_hyperplane)
    rng = _check_random_state(random_state)

    if coef is None:
        w = rng.standard_normal(n_features)
        while not np.any(w):  # practically never
            w = rng.standard_normal(n_features)
    else:
        try:
            w = np.asarray(coef, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"coef must be an array of {n_features} real numbers, got {coef!r}") from exc
        if w.shape != (n_features,):
            raise ValueError(f"coef must have shape ({n_features},) (n_features), got {w.shape}")
        if not np.all(np.isfinite(w)) or not np.any(w):
            raise ValueError("coef must be finite and not all zero")
    norm = float(np.linalg.norm(w))
    if intercept is None:
        b = float(rng.uniform(-0.2, 0.2)) * norm
    else:
        b = _check_real("intercept", intercept)
    w, b = w / norm, b / norm

    # The cube reaches distance sum|w| +- b on each side of the hyperplane.
    reach_pos, reach_neg = float(np.abs(w).sum()) + b, float(np.abs(w).sum()) - b
    if min(reach_pos, reach_neg) <= margin * 1.05:
        raise ValueError(
            f"margin={margin} leaves no room in [-1, 1]^{n_features} on one side of the "
            f"hyperplane (the cube reaches {reach_pos:.3g} on the positive side and "
            f"{reach_neg:.3g} on the negative side); use a smaller margin or intercept"
        )

    counts = {1: (n_samples + 1) // 2, 0: n_samples // 2}
    parts: dict[int, np.ndarray] = {}
    for label, need in counts.items():
        sign = 1.0 if label == 1 else -1.0
        got: list[np.ndarray] = []
        have = 0
        for _ in range(10_000):
            batch = rng.uniform(-1.0, 1.0, size=(max(2 * need, 64), n_features))
            keep = batch[sign * (batch @ w + b) >= margin]
            got.append(keep)
            have += keep.shape[0]
            if have >= need:
                break
        else:
            raise ValueError(
                f"margin={margin} leaves too little room on one side of the hyperplane "
                "to draw the points; use a smaller margin or intercept"
            )
        parts[label] = np.concatenate(got)[:need]
    X = np.concatenate([parts[1], parts[0]])
    y = np.concatenate([np.ones(counts[1], np.int64), np.zeros(counts[0], np.int64)])
    order = rng.permutation(n_samples)
    X, y = np.ascontiguousarray(X[order]), y[order]
    if return_hyperplane:
        return X, y, w, b
    return X, y


def make_xor(
    n_samples: int = 4,
    *,
    noise: float = 0.0,
    shuffle: bool = False,
    random_state: RandomState = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The XOR problem: the four corners of the unit square, or noisy copies.

    Sample ``i`` sits at corner ``i % 4`` of (0, 0), (0, 1), (1, 0), (1, 1)
    with label ``x0 XOR x1`` (0, 1, 1, 0), plus Gaussian noise of standard
    deviation ``noise``. With the defaults this is the 4-point truth table.

    Parameters
    ----------
    n_samples : int, default=4
        Number of points, at least 4 (so that every corner appears).
    noise : float, default=0.0
        Standard deviation of the Gaussian noise added to each coordinate.
    shuffle : bool, default=False
        Shuffle the samples (otherwise they cycle through the corners).
    random_state : None, int or numpy.random.Generator
        Seed or generator for the noise and shuffling.

    Returns
    -------
    X : ndarray of float64, shape (n_samples, 2)
    y : ndarray of int64, shape (n_samples,)
    """
    n_samples = _check_int("n_samples", n_samples, 4)
    noise = _check_real("noise", noise, minimum=0.0)
    shuffle = _check_bool("shuffle", shuffle)
    rng = _check_random_state(random_state)
    corners = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    truth = np.array([0, 1, 1, 0], dtype=np.int64)
    idx = np.arange(n_samples) % 4
    X = corners[idx]
    y = truth[idx]
    if noise > 0:
        X = X + rng.normal(0.0, noise, size=X.shape)
    if shuffle:
        order = rng.permutation(n_samples)
        X, y = X[order], y[order]
    return np.ascontiguousarray(X), y


def make_spirals(
    n_samples: int = 200,
    n_classes: int = 2,
    *,
    noise: float = 0.0,
    turns: float = 1.0,
    random_state: RandomState = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved 2-D spirals, one arm per class.

    Arm ``k`` is the curve ``r(t) * (cos a, sin a)`` with ``r = 0.1 + 0.9 t``
    and ``a = 2 pi (turns * t + k / n_classes)`` for ``t`` drawn uniformly in
    [0, 1]; Gaussian noise of standard deviation ``noise`` is added.

    Parameters
    ----------
    n_samples : int, default=200
        Total number of points, at least ``n_classes``; the class sizes
        differ by at most one.
    n_classes : int, default=2
        Number of arms (classes), at least 2.
    noise : float, default=0.0
        Standard deviation of the Gaussian noise on each coordinate.
    turns : float, default=1.0
        Number of revolutions of each arm, > 0.
    random_state : None, int or numpy.random.Generator
        Seed or generator.

    Returns
    -------
    X : ndarray of float64, shape (n_samples, 2)
    y : ndarray of int64, shape (n_samples,)
        Labels ``0 .. n_classes - 1``, in order (class 0 first).
    """
    n_classes = _check_int("n_classes", n_classes, 2)
    n_samples = _check_int("n_samples", n_samples, n_classes)
    noise = _check_real("noise", noise, minimum=0.0)
    turns = _check_real("turns", turns, minimum=0.0, strict_min=True)
    rng = _check_random_state(random_state)
    y = np.arange(n_samples, dtype=np.int64) * n_classes // n_samples
    t = rng.uniform(0.0, 1.0, size=n_samples)
    radius = 0.1 + 0.9 * t
    angle = 2.0 * np.pi * (turns * t + y / n_classes)
    X = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    if noise > 0:
        X += rng.normal(0.0, noise, size=X.shape)
    return X, y


def make_sine(
    n_samples: int = 100,
    *,
    noise: float = 0.1,
    periods: float = 1.0,
    random_state: RandomState = None,
) -> tuple[np.ndarray, np.ndarray]:
    """A 1-D regression problem: ``y = sin(x) + noise``.

    ``x`` is drawn uniformly in ``[0, 2 pi * periods]``; the noise is
    Gaussian with standard deviation ``noise``.

    Parameters
    ----------
    n_samples : int, default=100
        Number of points, at least 1.
    noise : float, default=0.1
        Standard deviation of the noise on ``y``, >= 0.
    periods : float, default=1.0
        Length of the interval in periods of the sine, > 0.
    random_state : None, int or numpy.random.Generator
        Seed or generator.

    Returns
    -------
    X : ndarray of float64, shape (n_samples, 1)
        The inputs ``x`` (not sorted).
    y : ndarray of float64, shape (n_samples,)
        The targets.
    """
    n_samples = _check_int("n_samples", n_samples, 1)
    noise = _check_real("noise", noise, minimum=0.0)
    periods = _check_real("periods", periods, minimum=0.0, strict_min=True)
    rng = _check_random_state(random_state)
    x = rng.uniform(0.0, 2.0 * np.pi * periods, size=n_samples)
    y = np.sin(x)
    if noise > 0:
        y = y + rng.normal(0.0, noise, size=n_samples)
    return x.reshape(-1, 1), y

