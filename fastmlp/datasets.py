"""Datasets for fastmlp: an embedded digits set, IDX readers and toy generators.

This module depends on NumPy, tqdm and the standard library only, so it can be
imported on its own.

Contents
--------
Embedded data
    :func:`load_digits` -- the UCI 8x8 handwritten digits (1797 samples),
    shipped inside the package.
IDX data (MNIST family)
    :func:`load_mnist`, :func:`load_fashion_mnist` -- the original IDX files,
    gzipped or not, looked up locally and optionally downloaded and verified;
    :func:`read_idx` -- a strict reader for any IDX file;
    :func:`get_cache_dir` -- the per-user cache directory.
Toy generators
    :func:`make_separable`, :func:`make_xor`, :func:`make_spirals`,
    :func:`make_sine`.

Where the MNIST files are looked for
------------------------------------
1. the ``path`` argument (the directory itself, then its ``mnist/`` or
   ``fashion-mnist/`` subfolder);
2. ``$FASTMLP_DATA/mnist`` (or ``fashion-mnist``), then ``$FASTMLP_DATA``;
3. the cache: ``$XDG_CACHE_HOME/fastmlp/mnist`` (or ``fashion-mnist``), with
   ``~/.cache`` when ``XDG_CACHE_HOME`` is unset.

Each split is a pair of files, ``{train,t10k}-images-idx3-ubyte`` and
``{train,t10k}-labels-idx1-ubyte``, each either gzipped (``.gz``) or not.
"""
from __future__ import annotations

import gzip
import hashlib
import http.client
import io
import numbers
import os
import tempfile
import urllib.request
import zlib
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Literal, Protocol, Union, overload

import numpy as np
from tqdm import tqdm

__all__ = [
    "FASHION_MNIST_CLASSES",
    "Bunch",
    "DownloadError",
    "get_cache_dir",
    "load_digits",
    "load_fashion_mnist",
    "load_mnist",
    "make_separable",
    "make_sine",
    "make_spirals",
    "make_xor",
    "read_idx",
]

PathLike = Union[str, "os.PathLike[str]"]
RandomState = Union[None, int, np.integer, np.random.Generator]

#: Class names of Fashion-MNIST, indexed by label.
FASHION_MNIST_CLASSES: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

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


# ---------------------------------------------------------------------------
# Embedded digits
# ---------------------------------------------------------------------------

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
        ref = resources.files("fastmlp.data").joinpath(_DIGITS_FILE)
        return ref.read_bytes()
    except ImportError:
        # This module was loaded without its package (e.g. straight from the
        # source tree by file path): read the file next to it.
        return (Path(__file__).resolve().parent / "data" / _DIGITS_FILE).read_bytes()


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
        raise ValueError(f"the embedded digits file fastmlp/data/{_DIGITS_FILE} is damaged: {exc}") from exc
    if table.shape != _DIGITS_SHAPE:
        raise ValueError(
            f"the embedded digits file fastmlp/data/{_DIGITS_FILE} is damaged: "
            f"expected a {_DIGITS_SHAPE[0]}x{_DIGITS_SHAPE[1]} table, got shape {table.shape}"
        )
    if not np.array_equal(table, np.round(table)):
        raise ValueError(f"the embedded digits file fastmlp/data/{_DIGITS_FILE} holds non-integers")
    pixels, labels = table[:, :64], table[:, 64]
    if pixels.min() < 0 or pixels.max() > 16 or labels.min() < 0 or labels.max() > 9:
        raise ValueError(
            f"the embedded digits file fastmlp/data/{_DIGITS_FILE} holds values out of range "
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


# ---------------------------------------------------------------------------
# IDX reader
# ---------------------------------------------------------------------------

# IDX type code -> (big-endian dtype, name)
_IDX_TYPES: dict[int, tuple[str, str]] = {
    0x08: (">u1", "unsigned byte"),
    0x09: (">i1", "signed byte"),
    0x0B: (">i2", "int16"),
    0x0C: (">i4", "int32"),
    0x0D: (">f4", "float32"),
    0x0E: (">f8", "float64"),
}
_GZIP_MAGIC = b"\x1f\x8b"


def _read_exact(f: _Reader, n: int) -> bytearray:
    """Read up to ``n`` bytes in chunks (never allocating ``n`` up front)."""
    buf = bytearray()
    while len(buf) < n:
        chunk = f.read(min(_CHUNK, n - len(buf)))
        if not chunk:
            break
        buf += chunk
    return buf


def _count_rest(f: _Reader) -> int:
    total = 0
    while True:
        chunk = f.read(_CHUNK)
        if not chunk:
            return total
        total += len(chunk)


def _parse_idx(
    f: _Reader,
    name: str,
    *,
    expected_magic: int | None,
    what: str,
) -> np.ndarray:
    header = _read_exact(f, 4)
    if len(header) < 4:
        raise ValueError(f"{name}: not an IDX file: only {len(header)} bytes, too short for a header")
    magic = int.from_bytes(header, "big")
    zero, code, ndim = int.from_bytes(header[:2], "big"), header[2], header[3]
    if zero != 0 or code not in _IDX_TYPES:
        expect = f"; expected 0x{expected_magic:08X} ({what})" if expected_magic is not None else ""
        raise ValueError(
            f"{name}: not an IDX file: bad magic number 0x{magic:08X}{expect}. "
            "An IDX file starts with two zero bytes, a data type code and the number of dimensions"
        )
    if expected_magic is not None and magic != expected_magic:
        exp_code, exp_ndim = (expected_magic >> 8) & 0xFF, expected_magic & 0xFF
        if code != exp_code:
            problem = (
                f"data type code 0x{code:02X} ({_IDX_TYPES[code][1]}), "
                f"expected 0x{exp_code:02X} ({_IDX_TYPES[exp_code][1]})"
            )
        else:
            problem = f"{ndim} dimensions, expected {exp_ndim}"
        raise ValueError(
            f"{name}: wrong IDX magic number 0x{magic:08X}: {problem}; "
            f"expected 0x{expected_magic:08X} ({what})"
        )
    if ndim == 0:
        raise ValueError(f"{name}: IDX header declares 0 dimensions")
    dims_raw = _read_exact(f, 4 * ndim)
    if len(dims_raw) < 4 * ndim:
        raise ValueError(
            f"{name}: truncated IDX header: {ndim} dimension sizes declared, "
            f"file ends after {len(dims_raw) // 4}"
        )
    dims = tuple(int.from_bytes(dims_raw[4 * i : 4 * i + 4], "big") for i in range(ndim))
    dtype = np.dtype(_IDX_TYPES[code][0])
    n_bytes = dtype.itemsize
    for d in dims:
        n_bytes *= d
    payload = _read_exact(f, n_bytes)
    if len(payload) < n_bytes:
        raise ValueError(
            f"{name}: truncated: the header promises {n_bytes} bytes of data "
            f"(shape {dims}, {_IDX_TYPES[code][1]}) but the file holds only {len(payload)}"
        )
    extra = _count_rest(f)
    if extra:
        raise ValueError(
            f"{name}: {extra} unexpected trailing bytes after the {n_bytes} bytes of data "
            f"the header describes (shape {dims})"
        )
    arr = np.frombuffer(payload, dtype=dtype).reshape(dims)
    if dtype.itemsize > 1:
        arr = arr.astype(dtype.newbyteorder("="))
    return arr


def _read_idx_file(path: Path, *, expected_magic: int | None = None, what: str = "") -> np.ndarray:
    name = str(path)
    with open(path, "rb") as raw:
        is_gzip = raw.read(2) == _GZIP_MAGIC
        raw.seek(0)
        if not is_gzip:
            if path.suffix == ".gz":
                raise ValueError(f"{name}: named .gz but is not gzip-compressed (no gzip header)")
            return _parse_idx(raw, name, expected_magic=expected_magic, what=what)
        try:
            with gzip.GzipFile(fileobj=raw, mode="rb") as gz:
                return _parse_idx(gz, name, expected_magic=expected_magic, what=what)
        except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
            raise ValueError(f"{name}: corrupt gzip stream: {exc}") from exc


def read_idx(path: PathLike) -> np.ndarray:
    """Read one IDX file (gzipped or not) into a NumPy array.

    The file is checked strictly: the magic number (two zero bytes, a known
    data type code, the number of dimensions), a complete header, and a
    payload of exactly the size the header describes.

    Parameters
    ----------
    path : str or os.PathLike
        The file. Gzip compression is recognised by its content.

    Returns
    -------
    ndarray
        Array with the shape of the header's dimensions and the dtype of its
        type code (uint8, int8, int16, int32, float32 or float64), in native
        byte order, writable.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the file is not a valid IDX file, is truncated, has trailing
        bytes, or is a corrupt gzip stream; the message names the file.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    return _read_idx_file(Path(path))


# ---------------------------------------------------------------------------
# MNIST / Fashion-MNIST
# ---------------------------------------------------------------------------

_IMAGES_MAGIC = 0x00000803
_LABELS_MAGIC = 0x00000801
_PREFIX = {"train": "train", "test": "t10k"}

# MD5 of the published files: the gzipped ones (the values published by the
# dataset authors and used by torchvision) and the decompressed IDX files.
_DATASETS: dict[str, dict[str, Any]] = {
    "mnist": {
        "title": "MNIST",
        "what": "handwritten digits",
        "subdir": "mnist",
        "mirrors": (
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "http://yann.lecun.com/exdb/mnist/",
        ),
        "md5": {
            "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
            "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
            "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
            "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
            "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
            "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
            "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
        },
        "classes": "",
        "credit": (
            "MNIST: Y. LeCun, C. Cortes, C. J. C. Burges, \"The MNIST database of handwritten "
            "digits\"; commonly distributed under CC BY-SA 3.0."
        ),
    },
    "fashion-mnist": {
        "title": "Fashion-MNIST",
        "what": "article images",
        "subdir": "fashion-mnist",
        "mirrors": ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        "md5": {
            "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
            "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
            "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
            "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
            "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
            "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
            "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
        },
        "classes": " Class names: ``FASHION_MNIST_CLASSES[y]``.",
        "credit": (
            "Fashion-MNIST: H. Xiao, K. Rasul, R. Vollgraf, \"Fashion-MNIST: a Novel Image "
            "Dataset for Benchmarking Machine Learning Algorithms\", arXiv:1708.07747; "
            "MIT licence, (c) 2017 Zalando SE."
        ),
    },
}


class DownloadError(OSError):
    """A dataset file could not be downloaded from any mirror.

    Raised when every mirror failed (network error, missing file or checksum
    mismatch); the message lists what went wrong with each one.
    """


def get_cache_dir() -> Path:
    """Return fastmlp's per-user cache directory (it may not exist yet).

    Returns
    -------
    pathlib.Path
        ``$XDG_CACHE_HOME/fastmlp`` when ``XDG_CACHE_HOME`` is set to a
        non-empty value, else ``~/.cache/fastmlp``.
    """
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "fastmlp"


def _md5_file(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _search_dirs(dataset: str, path: PathLike | None) -> list[Path]:
    sub = _DATASETS[dataset]["subdir"]
    dirs: list[Path] = []
    if path is not None:
        p = Path(path).expanduser()
        dirs += [p, p / sub]
    env = os.environ.get("FASTMLP_DATA", "")
    if env:
        e = Path(env).expanduser()
        dirs += [e / sub, e]
    dirs.append(get_cache_dir() / sub)
    unique: list[Path] = []
    for d in dirs:
        if d not in unique:
            unique.append(d)
    return unique


def _find_file(directory: Path, stem: str) -> Path | None:
    for name in (stem + ".gz", stem):
        candidate = directory / name
        if candidate.is_file():
            return candidate
    return None


def _download(
    urls: Sequence[str],
    dest: Path,
    md5: str,
    *,
    progress: bool,
    timeout: float = 60.0,
) -> None:
    """Download the first working URL of ``urls`` to ``dest``, verified and atomic."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    failures: list[str] = []
    for url in urls:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
        tmp = Path(tmp_name)
        try:
            digest = hashlib.md5(usedforsecurity=False)
            with os.fdopen(fd, "wb") as out:
                with urllib.request.urlopen(url, timeout=timeout) as response:
                    length = response.headers.get("Content-Length")
                    total = int(length) if length and length.isdigit() else None
                    with tqdm(
                        total=total,
                        unit="B",
                        unit_scale=True,
                        unit_divisor=1024,
                        desc=dest.name,
                        disable=not progress,
                        leave=False,
                    ) as bar:
                        for chunk in iter(lambda: response.read(_CHUNK), b""):
                            out.write(chunk)
                            digest.update(chunk)
                            bar.update(len(chunk))
                out.flush()
                os.fsync(out.fileno())
            got = digest.hexdigest()
            if got != md5:
                failures.append(f"{url}: checksum mismatch (md5 {got}, expected {md5}); discarded")
                continue
            os.chmod(tmp, 0o644)  # mkstemp makes it 0600; a data file is world-readable
            os.replace(tmp, dest)
            return
        except (OSError, ValueError, http.client.HTTPException) as exc:
            # URLError/HTTPError, timeouts, disk errors, malformed URLs, broken responses
            failures.append(f"{url}: {type(exc).__name__}: {exc}")
        finally:
            if tmp.exists():
                tmp.unlink()
    raise DownloadError(
        f"could not download {dest.name} to {dest.parent}:\n  " + "\n  ".join(failures)
    )


def _load_idx_dataset(
    dataset: str,
    path: PathLike | None,
    kind: str,
    as_float: bool,
    flatten: bool,
    download: bool,
    verify: bool,
    mirrors: Sequence[str] | None,
    progress: bool,
) -> tuple[np.ndarray, np.ndarray]:
    info = _DATASETS[dataset]
    title = info["title"]
    if not isinstance(kind, str) or kind not in _PREFIX:
        raise ValueError(f"kind must be 'train' or 'test', got {kind!r}")
    if path is not None and not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be None, a str or an os.PathLike, got {type(path).__name__}")
    if path is not None and Path(path).expanduser().exists() and not Path(path).expanduser().is_dir():
        raise ValueError(f"path must be a directory holding the {title} files, got the file {path}")
    as_float = _check_bool("as_float", as_float)
    flatten = _check_bool("flatten", flatten)
    download = _check_bool("download", download)
    verify = _check_bool("verify", verify)
    progress = _check_bool("progress", progress)
    if mirrors is None:
        mirrors = info["mirrors"]
    elif (
        isinstance(mirrors, (str, bytes))
        or not isinstance(mirrors, Sequence)
        or len(mirrors) == 0
        or not all(isinstance(m, str) and m for m in mirrors)
    ):
        raise TypeError(
            f"mirrors must be None or a non-empty sequence of URL prefixes (str), got {mirrors!r}"
        )

    stems = [f"{_PREFIX[kind]}-images-idx3-ubyte", f"{_PREFIX[kind]}-labels-idx1-ubyte"]
    searched = _search_dirs(dataset, path)
    found: list[Path] | None = None
    for d in searched:
        files = [_find_file(d, s) for s in stems]
        if all(f is not None for f in files):
            found = [f for f in files if f is not None]
            break

    if found is None and download:
        target = Path(path).expanduser() if path is not None else get_cache_dir() / info["subdir"]
        found = []
        for stem in stems:
            existing = _find_file(target, stem)
            if existing is None:
                name = stem + ".gz"
                urls = [m if m.endswith("/") else m + "/" for m in mirrors]
                _download([u + name for u in urls], target / name, info["md5"][name], progress=progress)
                existing = target / name
            found.append(existing)

    if found is None:
        places = "\n".join(f"  - {d}" for d in searched)
        raise FileNotFoundError(
            f"{title} {kind} files not found: need {stems[0]}[.gz] and {stems[1]}[.gz] "
            f"in one directory. Searched:\n{places}\n"
            f"To fix: pass path='<dir with the files>', set FASTMLP_DATA to a directory "
            f"holding them (or a '{info['subdir']}/' subfolder with them), or call with "
            f"download=True to fetch them (network needed) into "
            f"{get_cache_dir() / info['subdir']}."
        )

    img_path, lbl_path = found
    magics = [
        (_IMAGES_MAGIC, "unsigned-byte images, 3 dimensions"),
        (_LABELS_MAGIC, "unsigned-byte labels, 1 dimension"),
    ]
    if verify:
        mismatched = []
        for f, (magic, what) in zip(found, magics):
            expected = info["md5"][f.name]  # every name searched for is a canonical one
            got = _md5_file(f)
            if got != expected:
                mismatched.append((f, got, expected))
                try:  # Say what is wrong with the file when the parser can tell.
                    _read_idx_file(f, expected_magic=magic, what=what)
                except ValueError as exc:
                    raise ValueError(
                        f"{exc} (and its md5 {got} is not the published {expected})"
                    ) from None
        if mismatched:
            f, got, expected = mismatched[0]
            raise ValueError(
                f"{f}: checksum mismatch: md5 {got}, expected {expected} for the published "
                f"{title} file {f.name}. The file is damaged, incomplete, or belongs to another "
                "dataset (MNIST and Fashion-MNIST use the same file names). Delete it to "
                "download it again, or pass verify=False to load your own file under this name."
            )

    images = _read_idx_file(img_path, expected_magic=magics[0][0], what=magics[0][1])
    labels = _read_idx_file(lbl_path, expected_magic=magics[1][0], what=magics[1][1])
    n, rows, cols = images.shape
    if (rows, cols) != (28, 28):
        raise ValueError(f"{img_path}: images are {rows}x{cols}; {title} images must be 28x28")
    if n == 0:
        raise ValueError(f"{img_path}: holds no images")
    if labels.shape[0] != n:
        raise ValueError(
            f"{img_path} holds {n} images but {lbl_path} holds {labels.shape[0]} labels; "
            "the counts must agree"
        )
    bad = np.flatnonzero(labels > 9)
    if bad.size:
        raise ValueError(
            f"{lbl_path}: labels must be in 0..9; found {int(labels[bad[0]])} at index {int(bad[0])} "
            f"({bad.size} out-of-range labels in all)"
        )
    X: np.ndarray = images.reshape(n, rows * cols) if flatten else images
    if as_float:
        X = X.astype(np.float32)
        X /= np.float32(255.0)
    return X, labels.astype(np.int64)


_LOADER_DOC = """Load the {title} {what} from its original IDX files.

    Parameters
    ----------
    path : str or os.PathLike, optional
        A directory holding the files (directly or in a ``{subdir}/``
        subfolder). Searched first; see Notes for the other places.
    kind : {{"train", "test"}}, default="train"
        The split: ``train`` (60000 samples) or ``test`` (``t10k``, 10000).
    as_float : bool, default=False
        If True return ``X`` as float32 scaled to [0, 1]; else uint8 0..255.
    flatten : bool, default=True
        If True ``X`` has shape (n, 784); if False it holds the 28x28 images,
        shape (n, 28, 28).
    download : bool, default=False
        If the files are not found, download them (from ``mirrors``, in
        order), verify their MD5 and store them atomically in ``path`` if
        given, else in ``get_cache_dir() / "{subdir}"``.
    verify : bool, default=True
        Check the MD5 of files that carry a canonical name (gzipped or not)
        against the published checksums. Pass False to load your own files
        stored under the canonical names.
    mirrors : sequence of str, optional
        URL prefixes to download from; default the canonical mirrors
        ({mirrors}).
    progress : bool, default=True
        Show a tqdm progress bar while downloading.

    Returns
    -------
    X : ndarray
        (n, 784) or (n, 28, 28); uint8, or float32 with ``as_float=True``.
    y : ndarray of int64, shape (n,)
        Labels 0..9.{classes}

    Raises
    ------
    FileNotFoundError
        If the files are not found and ``download`` is False; the message
        lists the places searched and how to fix it.
    ValueError
        If a file is damaged or foreign (bad magic number, data type or
        dimensions, truncated or trailing data, corrupt gzip stream, counts
        of images and labels that disagree, labels out of range, checksum
        mismatch); the message names the file.
    DownloadError
        If downloading was needed and failed for every mirror.

    Notes
    -----
    The split is the pair ``{{train,t10k}}-images-idx3-ubyte[.gz]`` and
    ``{{train,t10k}}-labels-idx1-ubyte[.gz]`` in one directory. Directories
    searched, in order: ``path`` and ``path/{subdir}``;
    ``$FASTMLP_DATA/{subdir}`` and ``$FASTMLP_DATA``; the cache,
    ``$XDG_CACHE_HOME/fastmlp/{subdir}`` (``~/.cache/fastmlp/{subdir}``
    when ``XDG_CACHE_HOME`` is unset).

    {credit}
    """


def _idx_loader(dataset: str) -> Callable[..., tuple[np.ndarray, np.ndarray]]:
    """The public loader of one IDX dataset of ``_DATASETS``, with its docstring."""

    def load(
        path: PathLike | None = None,
        kind: str = "train",
        *,
        as_float: bool = False,
        flatten: bool = True,
        download: bool = False,
        verify: bool = True,
        mirrors: Sequence[str] | None = None,
        progress: bool = True,
    ) -> tuple[np.ndarray, np.ndarray]:
        return _load_idx_dataset(
            dataset, path, kind, as_float, flatten, download, verify, mirrors, progress
        )

    info = _DATASETS[dataset]
    load.__name__ = load.__qualname__ = "load_" + dataset.replace("-", "_")
    load.__doc__ = _LOADER_DOC.format(
        title=info["title"],
        what=info["what"],
        subdir=info["subdir"],
        mirrors=", ".join(info["mirrors"]),
        classes=info["classes"],
        credit=info["credit"],
    )
    return load


load_mnist = _idx_loader("mnist")
load_fashion_mnist = _idx_loader("fashion-mnist")


# ---------------------------------------------------------------------------
# Toy generators
# ---------------------------------------------------------------------------


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
