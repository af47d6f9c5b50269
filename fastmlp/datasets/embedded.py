"""The embedded UCI 8x8 digits (:func:`load_digits`), shipped inside the package."""
from __future__ import annotations

import gzip
import io
import zlib
from importlib import resources
from pathlib import Path
from typing import Literal, overload

import numpy as np

from fastmlp.datasets._common import Bunch, _check_bool

_DIGITS_FILE = "digits.csv.gz"
_DIGITS_SHAPE = (1797, 65)

_DIGITS_DESCR = """\
Optical recognition of handwritten digits (8x8 version)
=======================================================

1797 samples of handwritten digits 0-9, about 180 per class. Each sample is
an 8x8 image whose 64 integer features, 0..16, count the "on" pixels in a 4x4
block of the original 32x32 bitmap. The bitmaps were preprocessed by NIST
programs from forms written by 43 people (30 for the training part, 13 for
the test part of the original split; this set holds both).

Source: E. Alpaydin, C. Kaynak, "Optical Recognition of Handwritten Digits",
UCI Machine Learning Repository, 1998. https://doi.org/10.24432/C50P49
Licence: CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/).
"""


def _read_digits_bytes() -> bytes:
    try:
        ref = resources.files("fastmlp.datasets").joinpath(_DIGITS_FILE)
        return ref.read_bytes()
    except ImportError:
        # This module was loaded without its package (e.g. straight from the
        # source tree by file path): read the file next to it.
        return (Path(__file__).resolve().parent / _DIGITS_FILE).read_bytes()


@overload
def load_digits(*, return_X_y: Literal[False] = ..., as_float: bool = ...) -> Bunch: ...
@overload
def load_digits(
    *, return_X_y: Literal[True], as_float: bool = ...
) -> tuple[np.ndarray, np.ndarray]: ...
def load_digits(
    *, return_X_y: bool = False, as_float: bool = True
) -> Bunch | tuple[np.ndarray, np.ndarray]:
    """Load the UCI 8x8 handwritten digits shipped with fastmlp.

    1797 samples, 64 features with integer values 0..16, 10 classes.

    Parameters
    ----------
    return_X_y : bool, default=False
        If True return ``(data, target)`` instead of a :class:`Bunch`.
    as_float : bool, default=True
        If True ``data`` (and ``images``) are float64 with the raw values
        0..16 (the same values scikit-learn returns); if False they are uint8.
        The values are not rescaled in either case.

    Returns
    -------
    Bunch or (ndarray, ndarray)
        A :class:`Bunch` with

        - ``data``: (1797, 64) array, float64 or uint8;
        - ``target``: (1797,) int64 array of labels 0..9;
        - ``images``: (1797, 8, 8) view of ``data`` as images;
        - ``feature_names``: list of 64 names ``"pixel_<row>_<col>"``;
        - ``target_names``: int64 array ``0..9``;
        - ``DESCR``: description and attribution.

        or, with ``return_X_y=True``, the tuple ``(data, target)``.

    Raises
    ------
    ValueError
        If the embedded file is damaged (wrong shape or values).

    Notes
    -----
    Data: E. Alpaydin, C. Kaynak, "Optical Recognition of Handwritten Digits",
    UCI Machine Learning Repository, doi:10.24432/C50P49, CC BY 4.0.

    Examples
    --------
    >>> X, y = load_digits(return_X_y=True)
    >>> X.shape, y.shape
    ((1797, 64), (1797,))
    """
    return_X_y = _check_bool("return_X_y", return_X_y)
    as_float = _check_bool("as_float", as_float)
    raw = _read_digits_bytes()
    try:
        text = gzip.decompress(raw)
        table = np.loadtxt(io.BytesIO(text), delimiter=",", dtype=np.float64, ndmin=2)
    except (OSError, EOFError, zlib.error, ValueError) as exc:
        raise ValueError(f"the embedded digits file fastmlp/datasets/{_DIGITS_FILE} is damaged: {exc}") from exc
    if table.shape != _DIGITS_SHAPE:
        raise ValueError(
            f"the embedded digits file fastmlp/datasets/{_DIGITS_FILE} is damaged: "
            f"expected a {_DIGITS_SHAPE[0]}x{_DIGITS_SHAPE[1]} table, got shape {table.shape}"
        )
    if not np.array_equal(table, np.round(table)):
        raise ValueError(f"the embedded digits file fastmlp/datasets/{_DIGITS_FILE} holds non-integers")
    pixels, labels = table[:, :64], table[:, 64]
    if pixels.min() < 0 or pixels.max() > 16 or labels.min() < 0 or labels.max() > 9:
        raise ValueError(
            f"the embedded digits file fastmlp/datasets/{_DIGITS_FILE} holds values out of range "
            "(pixels must be 0..16, labels 0..9)"
        )
    data = np.ascontiguousarray(pixels, dtype=np.float64 if as_float else np.uint8)
    target = labels.astype(np.int64)
    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        images=data.reshape(-1, 8, 8),
        feature_names=[f"pixel_{r}_{c}" for r in range(8) for c in range(8)],
        target_names=np.arange(10, dtype=np.int64),
        DESCR=_DIGITS_DESCR,
    )
