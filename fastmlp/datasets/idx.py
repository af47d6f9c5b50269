"""IDX files (the MNIST family): a strict reader, local look-up, cache and verified download."""
from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import stat
import tempfile
import urllib.request
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from fastmlp.datasets._common import _CHUNK, PathLike, _check_bool, _check_int, _Reader

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
#: default bound on the data one IDX file may hold (``max_bytes``): 20 times MNIST's
#: training images; the header's claim is checked against it before anything is read
DEFAULT_MAX_BYTES = 1 << 30
#: deflate expands a stream at most about 1032:1, so a gzip file of s bytes cannot hold
#: more than this many times s (a header claiming more is a lie: refused before reading)
_MAX_DEFLATE_RATIO = 1100
#: trailing bytes counted at most before a file is refused (a bomb's tail is not inflated)
_MAX_TRAILING_COUNT = _CHUNK


def _read_exact(f: _Reader, n: int) -> bytearray:
    """Read up to ``n`` bytes in chunks (never allocating ``n`` up front)."""
    buf = bytearray()
    while len(buf) < n:
        chunk = f.read(min(_CHUNK, n - len(buf)))
        if not chunk:
            break
        buf += chunk
    return buf


def _count_rest(f: _Reader, limit: int) -> int:
    """Bytes left in ``f``, counted up to ``limit`` (more than that: ``limit + 1``)."""
    total = 0
    while total <= limit:
        chunk = f.read(min(_CHUNK, limit + 1 - total))
        if not chunk:
            return total
        total += len(chunk)
    return total


def _parse_idx(
    f: _Reader,
    name: str,
    *,
    expected_magic: int | None,
    what: str,
    max_bytes: int,
    stored: int | None,
    gzipped: bool,
    inner_dims: tuple[int, ...] | None = None,
) -> np.ndarray:
    """The array of one IDX stream.  The size the header claims is checked before the
    payload is read: against ``max_bytes``, against the ``stored`` size of the file
    (uncompressed: what it holds; gzip: the most deflate can expand it to) and, when
    given, the dimensions after the first against ``inner_dims``; the payload is then
    read in chunks of at most what the header claims."""
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
    if inner_dims is not None and dims[1:] != inner_dims:
        raise ValueError(f"{name}: images are {'x'.join(map(str, dims[1:]))}; they must be "
                         f"{'x'.join(map(str, inner_dims))} (the header's shape is {dims})")
    promise = f"the header promises {n_bytes} bytes of data (shape {dims}, {_IDX_TYPES[code][1]})"
    if stored is not None and not gzipped and n_bytes > stored - 4 - 4 * ndim:
        raise ValueError(f"{name}: truncated: {promise} but the file holds only "
                         f"{max(stored - 4 - 4 * ndim, 0)}")
    if n_bytes > max_bytes:
        raise ValueError(f"{name}: {promise}, more than max_bytes={max_bytes}; pass a larger "
                         "max_bytes (command line: --max-size) to read it")
    if stored is not None and gzipped and n_bytes > stored * _MAX_DEFLATE_RATIO:
        raise ValueError(f"{name}: damaged: {promise} but a gzip file of {stored} bytes cannot "
                         "inflate to that much (deflate expands at most about 1032:1)")
    payload = _read_exact(f, n_bytes)
    if len(payload) < n_bytes:
        raise ValueError(
            f"{name}: truncated: the header promises {n_bytes} bytes of data "
            f"(shape {dims}, {_IDX_TYPES[code][1]}) but the file holds only {len(payload)}"
        )
    extra = _count_rest(f, _MAX_TRAILING_COUNT)
    if extra:
        count = str(extra) if extra <= _MAX_TRAILING_COUNT else f"more than {_MAX_TRAILING_COUNT}"
        raise ValueError(
            f"{name}: {count} unexpected trailing bytes after the {n_bytes} bytes of data "
            f"the header describes (shape {dims})"
        )
    arr = np.frombuffer(payload, dtype=dtype).reshape(dims)
    if dtype.itemsize > 1:
        arr = arr.astype(dtype.newbyteorder("="))
    return arr


def _read_idx_file(path: Path, *, expected_magic: int | None = None, what: str = "",
                   max_bytes: int = DEFAULT_MAX_BYTES,
                   inner_dims: tuple[int, ...] | None = None) -> np.ndarray:
    name = str(path)
    # a FIFO must not block the open, a device (/dev/zero) must not be read
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise ValueError(f"{name}: not a regular file")
    with open(fd, "rb") as raw:
        is_gzip = raw.read(2) == _GZIP_MAGIC
        raw.seek(0)
        kw = {"expected_magic": expected_magic, "what": what, "max_bytes": max_bytes,
              "stored": st.st_size, "gzipped": is_gzip, "inner_dims": inner_dims}
        if not is_gzip:
            if path.suffix == ".gz":
                raise ValueError(f"{name}: named .gz but is not gzip-compressed (no gzip header)")
            return _parse_idx(raw, name, **kw)
        try:
            with gzip.GzipFile(fileobj=raw, mode="rb") as gz:
                return _parse_idx(gz, name, **kw)
        except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
            raise ValueError(f"{name}: corrupt gzip stream: {exc}") from exc


def read_idx(path: PathLike, *, max_bytes: int = DEFAULT_MAX_BYTES) -> np.ndarray:
    """Read one IDX file (gzipped or not) into a NumPy array.

    The file is checked strictly: the magic number (two zero bytes, a known
    data type code, the number of dimensions), a complete header, and a
    payload of exactly the size the header describes.  The size the header
    claims is checked before the payload is read -- against ``max_bytes`` and
    against what the file can hold (for gzip, the most deflate can expand it
    to) -- and the payload is read incrementally, so a small file claiming or
    inflating to a huge size (a decompression bomb) is refused without being
    read whole.

    Parameters
    ----------
    path : str or os.PathLike
        The file (a regular file). Gzip compression is recognised by its content.
    max_bytes : int, default=2**30
        The most data (the decompressed payload) read.

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
        bytes, holds more than ``max_bytes`` of data, is not a regular file,
        or is a corrupt gzip stream; the message names the file.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    max_bytes = _check_int("max_bytes", max_bytes, 1)
    return _read_idx_file(Path(path), max_bytes=max_bytes)


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
    max_bytes: int = DEFAULT_MAX_BYTES,
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
    max_bytes = _check_int("max_bytes", max_bytes, 1)
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
    # the images' header must say (n, 28, 28) before any of them is read
    bounds = [{"max_bytes": max_bytes, "inner_dims": (28, 28)}, {"max_bytes": max_bytes}]
    if verify:
        mismatched = []
        for f, (magic, what) in zip(found, magics):
            expected = info["md5"][f.name]  # every name searched for is a canonical one
            got = _md5_file(f)
            if got != expected:
                mismatched.append((f, got, expected))
                try:  # Say what is wrong with the file when the parser can tell.
                    _read_idx_file(f, expected_magic=magic, what=what,
                                   **bounds[found.index(f)])
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

    images = _read_idx_file(img_path, expected_magic=magics[0][0], what=magics[0][1],
                            **bounds[0])
    labels = _read_idx_file(lbl_path, expected_magic=magics[1][0], what=magics[1][1],
                            **bounds[1])
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
    max_bytes : int, default=2**30
        The most data one file may hold once decompressed; a header claiming
        more (or a shape other than 28x28 images) is refused before the data
        is read, so a damaged file or a decompression bomb cannot fill memory.

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
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> tuple[np.ndarray, np.ndarray]:
        return _load_idx_dataset(
            dataset, path, kind, as_float, flatten, download, verify, mirrors, progress,
            max_bytes
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
