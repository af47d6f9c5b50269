"""Tests for fastmlp.datasets: embedded digits, IDX readers and toy generators.

Tests that need the real MNIST / Fashion-MNIST files look in
``$FASTMLP_DATA`` (as set when this module is imported) and in
``<repo root>/../shared/data``; they skip when the files are absent, except
under ``CI=true``, where they fail.
"""
from __future__ import annotations

import functools
import gzip
import hashlib
import os
import struct
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import pytest

from fastmlp import datasets
from fastmlp.datasets import embedded, idx
from fastmlp.datasets import (
    Bunch,
    DownloadError,
    load_digits,
    load_fashion_mnist,
    load_mnist,
    make_separable,
    make_sine,
    make_spirals,
    make_xor,
    read_idx,
)

if TYPE_CHECKING:
    from typing_extensions import Self

REPO_ROOT = Path(__file__).resolve().parents[1]
# Captured before any test monkeypatches the environment.
_ENV_DATA = os.environ.get("FASTMLP_DATA", "")
_IN_CI = os.environ.get("CI", "").lower() == "true"

CANONICAL = [
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
]
LOADERS: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
    "mnist": load_mnist,
    "fashion-mnist": load_fashion_mnist,
}


# ---------------------------------------------------------------------------
# Fixtures and helpers
# ---------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Keep the user's FASTMLP_DATA and cache out of every test."""
    monkeypatch.delenv("FASTMLP_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


def _find_shared(sub: str) -> Path:
    candidates = []
    if _ENV_DATA:
        candidates += [Path(_ENV_DATA) / sub, Path(_ENV_DATA)]
    candidates.append(REPO_ROOT.parent / "shared" / "data" / sub)
    table = idx._DATASETS[sub]["md5"]
    for c in candidates:
        # MNIST and Fashion-MNIST share file names: tell them apart by the small label files.
        if all((c / name).is_file() for name in CANONICAL) and all(
            md5(c / name) == table[name] for name in CANONICAL if "labels" in name
        ):
            return c
    msg = f"real {sub} files not found in: " + ", ".join(str(c) for c in candidates)
    if _IN_CI:
        pytest.fail(msg + " (CI=true: the shared data must be present)")
    pytest.skip(msg)


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    return _find_shared("mnist")


@pytest.fixture(scope="session")
def fashion_dir() -> Path:
    return _find_shared("fashion-mnist")


@functools.cache
def _load_real(dataset: str, directory: str, kind: str) -> tuple[np.ndarray, np.ndarray]:
    return LOADERS[dataset](directory, kind)


def idx_bytes(arr: np.ndarray, code: int = 0x08) -> bytes:
    """Serialise ``arr`` as an IDX file with type ``code`` (big-endian)."""
    dt = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}[code]
    header = bytes([0, 0, code, arr.ndim]) + b"".join(struct.pack(">I", d) for d in arr.shape)
    return header + np.asarray(arr).astype(dt).tobytes()


def write_split(
    directory: Path,
    *,
    n: int = 6,
    kind: str = "train",
    gz: bool = True,
    label_marker: int | None = None,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Write a small valid image/label pair in ``directory``; return the arrays."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = (
        np.full(n, label_marker, dtype=np.uint8)
        if label_marker is not None
        else (np.arange(n) % 10).astype(np.uint8)
    )
    prefix = "train" if kind == "train" else "t10k"
    directory.mkdir(parents=True, exist_ok=True)
    for stem, arr in ((f"{prefix}-images-idx3-ubyte", images), (f"{prefix}-labels-idx1-ubyte", labels)):
        data = idx_bytes(arr)
        if gz:
            (directory / (stem + ".gz")).write_bytes(gzip.compress(data))
        else:
            (directory / stem).write_bytes(data)
    return images, labels


GOOD_LABELS = idx_bytes(np.arange(3, dtype=np.uint8))
GOOD_IMAGES = idx_bytes(np.zeros((3, 28, 28), np.uint8))


def write_file(path: Path, data: bytes, *, gz: bool) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------------------
# Embedded digits
# ---------------------------------------------------------------------------


def test_digits_bunch_shapes_and_values() -> None:
    d = load_digits()
    assert isinstance(d, Bunch)
    assert d.data.shape == (1797, 64) and d.data.dtype == np.float64
    assert d.target.shape == (1797,) and d.target.dtype == np.int64
    assert d.images.shape == (1797, 8, 8)
    np.testing.assert_array_equal(d.images.reshape(1797, 64), d.data)
    assert d.data.min() == 0 and d.data.max() == 16
    np.testing.assert_array_equal(d.data, np.round(d.data))
    np.testing.assert_array_equal(d.target_names, np.arange(10))
    # Class sizes of the UCI 8x8 digits set.
    np.testing.assert_array_equal(
        np.bincount(d.target), [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    )
    assert len(d.feature_names) == 64 and len(set(d.feature_names)) == 64
    assert d.feature_names[0] == "pixel_0_0" and d.feature_names[-1] == "pixel_7_7"
    assert "10.24432/C50P49" in d.DESCR and "CC BY 4.0" in d.DESCR
    # The first sample is a zero.
    assert d.target[0] == 0 and d.target[9] == 9


def test_digits_return_X_y_and_uint8() -> None:
    X, y = load_digits(return_X_y=True)
    Xu, yu = load_digits(return_X_y=True, as_float=False)
    assert X.dtype == np.float64 and Xu.dtype == np.uint8
    np.testing.assert_array_equal(X, Xu.astype(np.float64))
    np.testing.assert_array_equal(y, yu)
    assert X.flags.c_contiguous and X.flags.writeable


def test_digits_match_scikit_learn() -> None:
    skd = pytest.importorskip("sklearn.datasets")
    ref = skd.load_digits()
    d = load_digits()
    np.testing.assert_array_equal(d.data, ref.data)
    np.testing.assert_array_equal(d.target, ref.target)


def test_digits_validation() -> None:
    with pytest.raises(TypeError, match="return_X_y"):
        load_digits(return_X_y="yes")  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="as_float"):
        load_digits(as_float=1)  # type: ignore[call-overload]


def test_digits_package_data_and_attribution() -> None:
    pkg = resources.files("fastmlp.datasets")
    assert pkg.joinpath("digits.csv.gz").is_file()
    readme = pkg.joinpath("README.txt").read_text(encoding="utf-8")
    for needle in ("Alpaydin", "Kaynak", "CC BY 4.0", "10.24432/C50P49", "UCI"):
        assert needle in readme


@pytest.mark.parametrize(
    ("content", "pattern"),
    [
        pytest.param(b"not gzip at all", r"is damaged", id="not-gzip"),
        pytest.param(gzip.compress(b"1,2,3\n4,5,6\n"), r"expected a 1797x65 table, got shape \(2, 3\)",
                     id="wrong-shape"),
        pytest.param(gzip.compress(b"1,2\n3\n"), r"is damaged", id="ragged"),
        pytest.param(gzip.compress(("0.5," * 64 + "1\n").encode() * 1797), r"non-integers",
                     id="non-integer"),
        pytest.param(gzip.compress(("17," * 64 + "1\n").encode() * 1797), r"out of range",
                     id="pixel-17"),
        pytest.param(gzip.compress(("1," * 64 + "10\n").encode() * 1797), r"out of range",
                     id="label-10"),
    ],
)
def test_digits_damaged_embedded_file(monkeypatch: pytest.MonkeyPatch, content: bytes,
                                      pattern: str) -> None:
    monkeypatch.setattr(embedded, "_read_digits_bytes", lambda: content)
    with pytest.raises(ValueError, match=pattern) as exc:
        load_digits()
    assert "digits.csv.gz" in str(exc.value)


def test_digits_fallback_without_package(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_package(name: str) -> None:
        raise ModuleNotFoundError(name)

    monkeypatch.setattr(embedded.resources, "files", no_package)
    X, y = load_digits(return_X_y=True)
    assert X.shape == (1797, 64) and y[:10].tolist() == list(range(10))


def test_datasets_need_no_compiled_core() -> None:
    """fastmlp.datasets imports only numpy, tqdm, the stdlib and its own modules.

    So the readers stay usable (and testable) apart from the compiled core.
    """
    import ast

    allowed = {"numpy", "tqdm", "__future__"} | set(sys.stdlib_module_names)
    folder = Path(embedded.__file__).parent
    for path in sorted(folder.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                top = name.split(".")[0]
                assert top in allowed or name.startswith("fastmlp.datasets"), (path.name, name)


def test_bunch_attribute_access() -> None:
    b = Bunch(a=1)
    b.c = 3
    assert b["c"] == 3 and b.a == 1 and "c" in dir(b)
    del b.a
    assert "a" not in b
    with pytest.raises(AttributeError):
        _ = b.missing
    with pytest.raises(AttributeError):
        del b.missing


# ---------------------------------------------------------------------------
# Real MNIST / Fashion-MNIST
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "n", "first", "counts", "mean"),
    [
        ("train", 60000, [5, 0, 4, 1, 9],
         [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949], 33.318),
        ("test", 10000, [7, 2, 1, 0, 4],
         [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009], 33.791),
    ],
)
def test_real_mnist(mnist_dir: Path, kind: str, n: int, first: list[int], counts: list[int],
                    mean: float) -> None:
    X, y = _load_real("mnist", str(mnist_dir), kind)
    assert X.shape == (n, 784) and X.dtype == np.uint8
    assert y.shape == (n,) and y.dtype == np.int64
    assert y[:5].tolist() == first
    np.testing.assert_array_equal(np.bincount(y, minlength=10), counts)
    assert X.min() == 0 and X.max() == 255
    assert abs(X.mean() - mean) < 1e-3


@pytest.mark.parametrize(("kind", "n", "first", "mean"),
                         [("train", 60000, [9, 0, 0, 3, 0], 72.940),
                          ("test", 10000, [9, 2, 1, 1, 6], 73.147)])
def test_real_fashion_mnist(fashion_dir: Path, kind: str, n: int, first: list[int],
                            mean: float) -> None:
    X, y = _load_real("fashion-mnist", str(fashion_dir), kind)
    assert X.shape == (n, 784) and X.dtype == np.uint8
    assert y[:5].tolist() == first
    np.testing.assert_array_equal(np.bincount(y, minlength=10), [n // 10] * 10)
    assert abs(X.mean() - mean) < 1e-3
    assert datasets.FASHION_MNIST_CLASSES[9] == "Ankle boot"


def test_real_mnist_float_and_images(mnist_dir: Path) -> None:
    X8, y8 = _load_real("mnist", str(mnist_dir), "test")
    Xf, yf = load_mnist(mnist_dir, "test", as_float=True)
    assert Xf.dtype == np.float32 and Xf.shape == (10000, 784)
    assert Xf.min() == 0.0 and Xf.max() == 1.0
    np.testing.assert_allclose(Xf, X8 / 255.0, rtol=1e-6)
    imgs, yi = load_mnist(mnist_dir, "test", flatten=False)
    assert imgs.shape == (10000, 28, 28) and imgs.dtype == np.uint8
    np.testing.assert_array_equal(imgs.reshape(10000, -1), X8)
    np.testing.assert_array_equal(yf, y8)
    np.testing.assert_array_equal(yi, y8)
    # Orientation: the first test image is a 7, a bar on row 8 and a stem down to row 26.
    assert (imgs[0, 8] > 128).sum() >= 10 and (imgs[0, 26] > 128).any()
    assert imgs[0, :7].max() == 0 and imgs[0, 27].max() == 0
    # MNIST digits are centred on their centre of mass, near (14, 14).
    m = imgs.astype(np.float64)
    total = m.sum(axis=(1, 2))
    rows = (m.sum(axis=2) * np.arange(28)).sum(axis=1) / total
    cols = (m.sum(axis=1) * np.arange(28)).sum(axis=1) / total
    assert np.abs(rows - 14).max() < 1.5 and np.abs(cols - 14).max() < 1.5


@pytest.mark.parametrize("dataset", ["mnist", "fashion-mnist"])
def test_real_checksums(dataset: str, mnist_dir: Path, fashion_dir: Path) -> None:
    directory = mnist_dir if dataset == "mnist" else fashion_dir
    table = idx._DATASETS[dataset]["md5"]
    for name in CANONICAL:
        assert md5(directory / name) == table[name], name
        raw = gzip.decompress((directory / name).read_bytes())
        assert hashlib.md5(raw).hexdigest() == table[name[: -len(".gz")]], name


def test_published_md5_constants() -> None:
    # The published values (dataset authors' pages, torchvision's resources).
    mn = idx._DATASETS["mnist"]["md5"]
    fa = idx._DATASETS["fashion-mnist"]["md5"]
    assert mn["train-images-idx3-ubyte.gz"] == "f68b3c2dcbeaaa9fbdd348bbdeb94873"
    assert mn["t10k-labels-idx1-ubyte.gz"] == "ec29112dd5afa0611ce80d1b7f02629c"
    assert fa["train-images-idx3-ubyte.gz"] == "8d4fb7e6c68d591d4c3dfef9ec88bf0d"
    assert fa["t10k-labels-idx1-ubyte.gz"] == "bb300cfdad3c16e7a12a480ee83cd310"
    assert idx._DATASETS["mnist"]["mirrors"][0] == "https://ossci-datasets.s3.amazonaws.com/mnist/"


def test_real_uncompressed_files_are_verified(mnist_dir: Path, tmp_path: Path) -> None:
    d = tmp_path / "raw"
    d.mkdir()
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        (d / name[:-3]).write_bytes(gzip.decompress((mnist_dir / name).read_bytes()))
    X, y = load_mnist(d, "test")
    X8, y8 = _load_real("mnist", str(mnist_dir), "test")
    np.testing.assert_array_equal(X, X8)
    np.testing.assert_array_equal(y, y8)
    # One changed pixel in the raw file breaks its checksum.
    raw = bytearray((d / "t10k-images-idx3-ubyte").read_bytes())
    raw[1000] ^= 1
    (d / "t10k-images-idx3-ubyte").write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="checksum mismatch"):
        load_mnist(d, "test")
    X2, _ = load_mnist(d, "test", verify=False)
    assert (X2 != X8).sum() == 1


def test_mnist_files_are_foreign_to_fashion(mnist_dir: Path, tmp_path: Path) -> None:
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        (tmp_path / name).write_bytes((mnist_dir / name).read_bytes())
    with pytest.raises(ValueError, match="another dataset") as exc:
        load_fashion_mnist(tmp_path, "test")
    assert "t10k-images-idx3-ubyte.gz" in str(exc.value)
    X, y = load_fashion_mnist(tmp_path, "test", verify=False)
    assert X.shape == (10000, 784) and y[:5].tolist() == [7, 2, 1, 0, 4]


def test_real_data_through_fastmlp_data_env(mnist_dir: Path, fashion_dir: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    if mnist_dir.parent != fashion_dir.parent:
        pytest.skip("mnist/ and fashion-mnist/ are not siblings here")
    monkeypatch.setenv("FASTMLP_DATA", str(mnist_dir.parent))
    _, y = load_mnist(kind="test")
    _, yf = load_fashion_mnist(kind="test")
    assert y[:5].tolist() == [7, 2, 1, 0, 4]
    assert yf[:5].tolist() == [9, 2, 1, 1, 6]


# ---------------------------------------------------------------------------
# Synthetic IDX files: valid ones and every kind of damage
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [True, False])
def test_synthetic_split_roundtrip(tmp_path: Path, gz: bool) -> None:
    images, labels = write_split(tmp_path, n=7, kind="test", gz=gz)
    X, y = load_mnist(tmp_path, "test", verify=False)
    np.testing.assert_array_equal(X, images.reshape(7, 784))
    np.testing.assert_array_equal(y, labels)
    assert X.flags.writeable and y.dtype == np.int64
    with pytest.raises(FileNotFoundError):
        load_mnist(tmp_path, "train", verify=False)


def test_canonical_name_is_checked_by_default(tmp_path: Path) -> None:
    write_split(tmp_path)
    with pytest.raises(ValueError, match=r"checksum mismatch.*verify=False"):
        load_mnist(tmp_path)
    # A damaged file under a canonical name: the message says what is wrong, not only the md5.
    lbl = tmp_path / "train-labels-idx1-ubyte.gz"
    lbl.write_bytes(gzip.compress(GOOD_LABELS[:-1]))
    with pytest.raises(ValueError, match=r"truncated.*and its md5 [0-9a-f]{32} is not the published") as exc:
        load_mnist(tmp_path)
    assert str(lbl) in str(exc.value)


@pytest.mark.parametrize(
    ("code", "dtype"),
    [(0x08, np.uint8), (0x09, np.int8), (0x0B, np.int16), (0x0C, np.int32),
     (0x0D, np.float32), (0x0E, np.float64)],
)
@pytest.mark.parametrize("gz", [True, False])
def test_read_idx_all_types(tmp_path: Path, code: int, dtype: type, gz: bool) -> None:
    arr: np.ndarray = (np.arange(24).reshape(2, 3, 4) - (0 if code == 0x08 else 5)).astype(dtype)
    p = write_file(tmp_path / ("a.idx" + (".gz" if gz else "")), idx_bytes(arr, code), gz=gz)
    out = read_idx(p)
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative
    assert out.shape == (2, 3, 4)
    np.testing.assert_array_equal(out, arr)
    assert out.flags.writeable


def test_read_idx_rejects_zero_dimensions(tmp_path: Path) -> None:
    p = write_file(tmp_path / "zero.idx", b"\x00\x00\x08\x00", gz=False)
    with pytest.raises(ValueError, match="declares 0 dimensions"):
        read_idx(p)
    p = write_file(tmp_path / "scalar.idx", b"\x00\x00\x0d\x01\x00\x00\x00\x02" + bytes(7), gz=False)
    with pytest.raises(ValueError, match=r"promises 8 bytes of data \(shape \(2,\), float32\)"):
        read_idx(p)


def test_read_idx_type_errors(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="path"):
        read_idx(12)  # type: ignore[arg-type]
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "missing.idx")


DAMAGE_CASES = [
    # Not an IDX file at all.
    ("png", "images", b"\x89PNG\r\n\x1a\n" + bytes(3000),
     r"not an IDX file: bad magic number 0x89504E47"),
    ("text", "images", b"hello world, this is text\n" * 100, r"not an IDX file: bad magic"),
    ("bad-magic", "images", b"\x12\x34\x08\x03" + GOOD_IMAGES[4:], r"bad magic number 0x12340803"),
    ("unknown-type-code", "images", b"\x00\x00\x0a\x03" + GOOD_IMAGES[4:],
     r"bad magic number 0x00000A03"),
    ("two-bytes", "images", b"\x00\x00", r"too short for a header"),
    ("empty", "images", b"", r"too short for a header"),
    # A valid IDX file of the wrong kind.
    ("labels-as-images", "images", GOOD_LABELS,
     r"wrong IDX magic number 0x00000801: 1 dimensions, expected 3"),
    ("images-as-labels", "labels", GOOD_IMAGES,
     r"wrong IDX magic number 0x00000803: 3 dimensions, expected 1"),
    ("float-images", "images", idx_bytes(np.zeros((3, 28, 28), np.float32), 0x0D),
     r"data type code 0x0D \(float32\), expected 0x08 \(unsigned byte\)"),
    ("int32-labels", "labels", idx_bytes(np.zeros(3, np.int32), 0x0C), r"data type code 0x0C"),
    ("zero-dims", "images", b"\x00\x00\x08\x00", r"0 dimensions"),
    # Wrong dimensions.
    ("32x32", "images", idx_bytes(np.zeros((3, 32, 32), np.uint8)), r"images are 32x32.*must be 28x28"),
    ("28x27", "images", idx_bytes(np.zeros((3, 28, 27), np.uint8)), r"images are 28x27"),
    # Truncated header and payload; trailing bytes.
    ("short-header", "images", GOOD_IMAGES[:10],
     r"truncated IDX header: 3 dimension sizes declared, file ends after 1"),
    ("one-byte-short", "images", GOOD_IMAGES[:-1],
     r"truncated: the header promises 2352 bytes.*only 2351"),
    ("header-only", "images", GOOD_IMAGES[:16], r"truncated: the header promises 2352 bytes.*only 0"),
    ("short-labels", "labels", GOOD_LABELS[:-2], r"truncated: the header promises 3 bytes.*only 1"),
    ("trailing-byte", "images", GOOD_IMAGES + b"\x00", r"1 unexpected trailing bytes after the 2352 bytes"),
    ("trailing-labels", "labels", GOOD_LABELS + b"extra", r"5 unexpected trailing bytes after the 3 bytes"),
    # A header promising 4 G images on a small file: an error, not a MemoryError.
    ("huge-count", "images", b"\x00\x00\x08\x03" + struct.pack(">III", 0xFFFFFFFF, 28, 28) + bytes(5000),
     r"the header promises 3367254359280 bytes.*(only 5000|more than max_bytes)"),
    # Values and counts.
    ("label-12", "labels", idx_bytes(np.array([0, 1, 12], np.uint8)),
     r"labels must be in 0\.\.9; found 12 at index 2"),
    ("more-labels", "labels", idx_bytes(np.arange(4, dtype=np.uint8)), r"holds 3 images but .* holds 4 labels"),
    ("fewer-labels", "labels", idx_bytes(np.arange(2, dtype=np.uint8)), r"holds 3 images but .* holds 2 labels"),
    ("no-images", "images", idx_bytes(np.zeros((0, 28, 28), np.uint8)), r"holds no images"),
]


@pytest.mark.parametrize(
    ("which", "data", "pattern"),
    [pytest.param(w, d, p, id=i) for i, w, d, p in DAMAGE_CASES],
)
@pytest.mark.parametrize("gz", [True, False], ids=["gz", "raw"])
def test_damaged_files(tmp_path: Path, which: str, data: bytes, pattern: str, gz: bool) -> None:
    ext = ".gz" if gz else ""
    img = write_file(tmp_path / f"train-images-idx3-ubyte{ext}", GOOD_IMAGES, gz=gz)
    lbl = write_file(tmp_path / f"train-labels-idx1-ubyte{ext}", GOOD_LABELS, gz=gz)
    # Sanity: the good pair loads.
    X, y = load_mnist(tmp_path, verify=False)
    assert X.shape == (3, 784) and y.tolist() == [0, 1, 2]
    target = img if which == "images" else lbl
    write_file(target, data, gz=gz)
    with pytest.raises(ValueError, match=pattern) as exc:
        load_mnist(tmp_path, verify=False)
    assert str(target) in str(exc.value)


def _gz(data: bytes) -> bytearray:
    return bytearray(gzip.compress(data, mtime=0))


@pytest.mark.parametrize(
    ("damage", "pattern"),
    [
        ("truncated_stream", r"corrupt gzip stream.*end-of-stream"),
        ("crc", r"corrupt gzip stream.*CRC check failed"),
        ("length", r"corrupt gzip stream.*Incorrect length"),
        # (garbage inflated into the header is refused before the stream's CRC is reached)
        ("deflate", r"corrupt gzip stream|images are \d+x\d+; they must be 28x28"),
        ("header", r"corrupt gzip stream.*Unknown compression method"),
        ("not_gzip", r"named \.gz but is not gzip-compressed"),
    ],
)
def test_corrupt_gzip(tmp_path: Path, damage: str, pattern: str) -> None:
    rng = np.random.default_rng(1)
    images = idx_bytes(rng.integers(0, 256, size=(3, 28, 28), dtype=np.uint8))
    blob = _gz(images)
    if damage == "truncated_stream":
        blob = blob[: len(blob) // 2]
    elif damage == "crc":
        blob[-8] ^= 0xFF
    elif damage == "length":
        blob[-1] ^= 0x01
    elif damage == "deflate":
        for i in range(20, 60):
            blob[i] ^= 0x5A
    elif damage == "header":
        blob[2] = 0x07  # compression method must be 8 (deflate)
    elif damage == "not_gzip":
        blob = bytearray(images)
    img = tmp_path / "train-images-idx3-ubyte.gz"
    img.write_bytes(bytes(blob))
    write_file(tmp_path / "train-labels-idx1-ubyte.gz", GOOD_LABELS, gz=True)
    with pytest.raises(ValueError, match=pattern) as exc:
        load_mnist(tmp_path, verify=False)
    assert str(img) in str(exc.value)


def test_trailing_gzip_garbage_is_an_error(tmp_path: Path) -> None:
    # Bytes after the gzip member that are not another gzip member.
    blob = gzip.compress(GOOD_IMAGES) + b"garbage!"
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(blob)
    write_file(tmp_path / "train-labels-idx1-ubyte.gz", GOOD_LABELS, gz=True)
    with pytest.raises(ValueError, match="corrupt gzip stream"):
        load_mnist(tmp_path, verify=False)


def test_multi_member_gzip_is_read_whole(tmp_path: Path) -> None:
    # A valid gzip file may hold several members; together they are the file.
    images = np.arange(3 * 784, dtype=np.uint64).astype(np.uint8).reshape(3, 28, 28)
    data = idx_bytes(images)
    blob = gzip.compress(data[:1000]) + gzip.compress(data[1000:])
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(blob)
    write_file(tmp_path / "train-labels-idx1-ubyte.gz", GOOD_LABELS, gz=True)
    X, _ = load_mnist(tmp_path, verify=False, flatten=False)
    np.testing.assert_array_equal(X, images)


# ---------------------------------------------------------------------------
# Where the files are looked for
# ---------------------------------------------------------------------------


def _marker(dataset: str = "mnist", **kw: object) -> int:
    _, y = LOADERS[dataset](verify=False, **kw)  # type: ignore[arg-type]
    values = np.unique(y)
    assert values.size == 1
    return int(values[0])


def test_search_env_subfolder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "data"
    write_split(root / "mnist", label_marker=1)
    write_split(root / "fashion-mnist", label_marker=2)
    monkeypatch.setenv("FASTMLP_DATA", str(root))
    assert _marker("mnist") == 1
    assert _marker("fashion-mnist") == 2


def test_search_env_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "flat"
    write_split(root, label_marker=3)
    monkeypatch.setenv("FASTMLP_DATA", str(root))
    assert _marker("mnist") == 3
    # The subfolder wins over the root.
    write_split(root / "mnist", label_marker=4)
    assert _marker("mnist") == 4


def test_search_path_beats_env_and_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_split(tmp_path / "explicit", label_marker=5)
    write_split(tmp_path / "env" / "mnist", label_marker=6)
    write_split(tmp_path / "xdg-cache" / "fastmlp" / "mnist", label_marker=7)
    monkeypatch.setenv("FASTMLP_DATA", str(tmp_path / "env"))
    assert _marker(path=tmp_path / "explicit") == 5
    assert _marker(path=str(tmp_path / "explicit")) == 5
    assert _marker() == 6  # env beats cache
    monkeypatch.delenv("FASTMLP_DATA")
    assert _marker() == 7  # cache last
    # An explicit path without the files falls through to the other places.
    (tmp_path / "empty").mkdir()
    assert _marker(path=tmp_path / "empty") == 7


def test_search_path_subfolder(tmp_path: Path) -> None:
    write_split(tmp_path / "root" / "fashion-mnist", label_marker=8)
    assert _marker("fashion-mnist", path=tmp_path / "root") == 8
    with pytest.raises(FileNotFoundError):
        load_mnist(tmp_path / "root", verify=False)


def test_cache_dir_default_and_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert datasets.get_cache_dir() == tmp_path / "xdg-cache" / "fastmlp"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert datasets.get_cache_dir() == tmp_path / "home" / ".cache" / "fastmlp"
    write_split(tmp_path / "home" / ".cache" / "fastmlp" / "mnist", label_marker=9)
    assert _marker() == 9
    monkeypatch.setenv("XDG_CACHE_HOME", "")  # empty means unset
    assert datasets.get_cache_dir() == tmp_path / "home" / ".cache" / "fastmlp"


def test_half_a_split_is_not_found(tmp_path: Path) -> None:
    write_split(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match="train-labels-idx1-ubyte"):
        load_mnist(tmp_path, verify=False)


def test_not_found_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FASTMLP_DATA", str(tmp_path / "env"))
    with pytest.raises(FileNotFoundError) as exc:
        load_fashion_mnist(tmp_path / "mine", "test")
    msg = str(exc.value)
    for place in (
        tmp_path / "mine",
        tmp_path / "mine" / "fashion-mnist",
        tmp_path / "env" / "fashion-mnist",
        tmp_path / "env",
        tmp_path / "xdg-cache" / "fastmlp" / "fashion-mnist",
    ):
        assert f"- {place}\n" in msg + "\n", place
    assert "t10k-images-idx3-ubyte" in msg and "t10k-labels-idx1-ubyte" in msg
    assert "download=True" in msg and "FASTMLP_DATA" in msg and "path=" in msg


def test_loader_argument_validation(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="kind must be 'train' or 'test'"):
        load_mnist(tmp_path, kind="validation")
    with pytest.raises(TypeError, match="path"):
        load_mnist(3)  # type: ignore[arg-type]
    f = tmp_path / "file.txt"
    f.write_text("x")
    with pytest.raises(ValueError, match="path must be a directory"):
        load_mnist(f)
    for name in ("as_float", "flatten", "download", "verify", "progress"):
        with pytest.raises(TypeError, match=name):
            load_mnist(tmp_path, **{name: "yes"})  # type: ignore[arg-type]
    for bad in ("https://example.invalid/", [], [3], [""]):
        with pytest.raises(TypeError, match="mirrors"):
            load_mnist(tmp_path, download=True, mirrors=bad)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# Downloading (file:// URLs: no network)
# ---------------------------------------------------------------------------


@pytest.fixture
def fake_mirror(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, np.ndarray, np.ndarray]:
    """A local mirror of a small MNIST 'test' split whose MD5s are made canonical."""
    mirror = tmp_path / "mirror"
    images, labels = write_split(mirror, n=5, kind="test", seed=3)
    table = idx._DATASETS["mnist"]["md5"]
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        monkeypatch.setitem(table, name, md5(mirror / name))
    return mirror, images, labels


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def test_download_into_cache(tmp_path: Path, fake_mirror: tuple[Path, np.ndarray, np.ndarray]) -> None:
    mirror, images, labels = fake_mirror
    with pytest.raises(FileNotFoundError):
        load_mnist(kind="test")
    X, y = load_mnist(kind="test", download=True, mirrors=[mirror.as_uri()], progress=False)
    np.testing.assert_array_equal(X, images.reshape(5, 784))
    np.testing.assert_array_equal(y, labels)
    cache = tmp_path / "xdg-cache" / "fastmlp" / "mnist"
    assert _leftovers(cache) == ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    assert md5(cache / "t10k-images-idx3-ubyte.gz") == md5(mirror / "t10k-images-idx3-ubyte.gz")
    # Now found in the cache without downloading (the mirror is gone).
    for p in mirror.iterdir():
        p.unlink()
    X2, _ = load_mnist(kind="test")
    np.testing.assert_array_equal(X2, X)


def test_download_into_explicit_path_and_fallback_mirror(
    tmp_path: Path, fake_mirror: tuple[Path, np.ndarray, np.ndarray]
) -> None:
    mirror, images, _ = fake_mirror
    dest = tmp_path / "mine"
    missing = (tmp_path / "no-such-mirror").as_uri() + "/"
    X, _ = load_mnist(dest, "test", download=True, mirrors=[missing, mirror.as_uri() + "/"],
                      progress=False)
    np.testing.assert_array_equal(X, images.reshape(5, 784))
    assert _leftovers(dest) == ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    assert not (tmp_path / "xdg-cache").exists()


def test_download_only_the_missing_file(
    tmp_path: Path, fake_mirror: tuple[Path, np.ndarray, np.ndarray]
) -> None:
    mirror, _, labels = fake_mirror
    dest = tmp_path / "mine"
    dest.mkdir()
    (dest / "t10k-labels-idx1-ubyte.gz").write_bytes((mirror / "t10k-labels-idx1-ubyte.gz").read_bytes())
    (mirror / "t10k-labels-idx1-ubyte.gz").unlink()  # would fail if fetched again
    _, y = load_mnist(dest, "test", download=True, mirrors=[mirror.as_uri()], progress=False)
    np.testing.assert_array_equal(y, labels)


def test_download_is_atomic(
    tmp_path: Path, fake_mirror: tuple[Path, np.ndarray, np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each file appears under its final name only by one rename of a complete temporary."""
    mirror, _, _ = fake_mirror
    real_replace = os.replace
    renames: list[tuple[Path, Path]] = []

    def spy(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        s, d = Path(src), Path(dst)
        assert not d.exists(), "the final name must not exist before the rename"
        assert s.parent == d.parent and s.name.endswith(".part") and s.name.startswith(".")
        assert s.read_bytes() == (mirror / d.name).read_bytes(), "the temporary must be complete"
        renames.append((s, d))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    load_mnist(kind="test", download=True, mirrors=[mirror.as_uri()], progress=False)
    assert sorted(d.name for _, d in renames) == ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    assert all(not s.exists() for s, _ in renames)


def test_download_checksum_mismatch(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    write_split(mirror, n=5, kind="test")  # real MD5 constants: these files cannot match
    with pytest.raises(DownloadError, match="checksum mismatch") as exc:
        load_mnist(kind="test", download=True, mirrors=[mirror.as_uri()], progress=False)
    assert isinstance(exc.value, OSError)
    msg = str(exc.value)
    assert "t10k-images-idx3-ubyte.gz" in msg and "9fb629c4189551a2d022fa330f9573f3" in msg
    assert md5(mirror / "t10k-images-idx3-ubyte.gz") in msg
    cache = tmp_path / "xdg-cache" / "fastmlp" / "mnist"
    assert _leftovers(cache) == []  # nothing kept: neither the file nor a temporary


def test_download_all_mirrors_fail(tmp_path: Path) -> None:
    a = (tmp_path / "a").as_uri() + "/"
    b = (tmp_path / "b").as_uri() + "/"
    with pytest.raises(DownloadError) as exc:
        load_fashion_mnist(kind="train", download=True, mirrors=[a, b], progress=False)
    msg = str(exc.value)
    assert a + "train-images-idx3-ubyte.gz" in msg and b + "train-images-idx3-ubyte.gz" in msg
    assert _leftovers(tmp_path / "xdg-cache" / "fastmlp" / "fashion-mnist") == []


def test_download_failure_midway_leaves_nothing(
    tmp_path: Path, fake_mirror: tuple[Path, np.ndarray, np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    mirror, _, _ = fake_mirror
    real_urlopen = idx.urllib.request.urlopen

    class Broken:
        def __init__(self, resp: object) -> None:
            self._resp = resp
            self.headers = resp.headers  # type: ignore[attr-defined]
            self._n = 0

        def read(self, n: int) -> bytes:
            self._n += 1
            if self._n > 1:
                raise ConnectionResetError("connection reset by peer")
            return self._resp.read(10)  # type: ignore[attr-defined]

        def __enter__(self) -> Self:
            return self

        def __exit__(self, *a: object) -> None:
            self._resp.close()  # type: ignore[attr-defined]

    monkeypatch.setattr(idx.urllib.request, "urlopen",
                        lambda url, timeout: Broken(real_urlopen(url, timeout=timeout)))
    with pytest.raises(DownloadError, match="connection reset by peer"):
        load_mnist(kind="test", download=True, mirrors=[mirror.as_uri()], progress=False)
    assert _leftovers(tmp_path / "xdg-cache" / "fastmlp" / "mnist") == []


def test_download_progress_bar(
    fake_mirror: tuple[Path, np.ndarray, np.ndarray], capsys: pytest.CaptureFixture[str]
) -> None:
    mirror, _, _ = fake_mirror
    load_mnist(kind="test", download=True, mirrors=[mirror.as_uri()], progress=True)
    err = capsys.readouterr().err
    assert "t10k-images-idx3-ubyte.gz" in err


def test_download_quiet(
    fake_mirror: tuple[Path, np.ndarray, np.ndarray], capsys: pytest.CaptureFixture[str]
) -> None:
    mirror, _, _ = fake_mirror
    load_mnist(kind="test", download=True, mirrors=[mirror.as_uri()], progress=False)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("dataset", ["mnist", "fashion-mnist"])
def test_download_real_files_from_local_mirror(
    dataset: str, tmp_path: Path, mnist_dir: Path, fashion_dir: Path
) -> None:
    """End to end with the real files and the real checksums, over file://."""
    src = mnist_dir if dataset == "mnist" else fashion_dir
    X, y = LOADERS[dataset](kind="test", download=True, mirrors=[src.as_uri()], progress=False)
    assert X.shape == (10000, 784) and y.shape == (10000,)
    cache = tmp_path / "xdg-cache" / "fastmlp" / dataset
    assert _leftovers(cache) == ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]


# ---------------------------------------------------------------------------
# Toy generators
# ---------------------------------------------------------------------------

GENERATORS: list[tuple[Callable[..., Any], dict[str, object]]] = [
    (make_separable, {"n_samples": 50}),
    (make_xor, {"n_samples": 40, "noise": 0.2, "shuffle": True}),
    (make_spirals, {"n_samples": 60, "n_classes": 3, "noise": 0.05}),
    (make_sine, {"n_samples": 30, "noise": 0.1}),
]


@pytest.mark.parametrize(("gen", "kw"), GENERATORS)
def test_generators_deterministic(gen: Callable[..., Any],
                                  kw: dict[str, object]) -> None:
    X1, y1 = gen(**kw, random_state=7)
    X2, y2 = gen(**kw, random_state=np.int64(7))
    X3, y3 = gen(**kw, random_state=np.random.default_rng(7))
    X4, _ = gen(**kw, random_state=8)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    np.testing.assert_array_equal(X1, X3)
    np.testing.assert_array_equal(y1, y3)
    assert not np.array_equal(X1, X4)
    assert X1.dtype == np.float64 and X1.ndim == 2 and X1.shape[0] == kw["n_samples"]
    assert y1.shape == (kw["n_samples"],)
    assert y1.dtype == (np.float64 if gen is make_sine else np.int64)


@pytest.mark.parametrize(("gen", "kw"), GENERATORS)
def test_generators_random_state_validation(gen: Callable[..., Any],
                                            kw: dict[str, object]) -> None:
    with pytest.raises(TypeError, match="random_state"):
        gen(**kw, random_state="seed")
    with pytest.raises(TypeError, match="random_state"):
        gen(**kw, random_state=np.random.RandomState(0))
    with pytest.raises(ValueError, match="random_state"):
        gen(**kw, random_state=-1)
    with pytest.raises(TypeError, match="n_samples"):
        gen(**{**kw, "n_samples": 10.0})
    with pytest.raises(TypeError, match="n_samples"):
        gen(**{**kw, "n_samples": True})


def _perceptron_updates(X: np.ndarray, y: np.ndarray, max_epochs: int) -> int | None:
    """Plain perceptron on (x, 1); number of updates until no error, or None."""
    Z = np.column_stack([X, np.ones(len(X))])
    s = np.where(y == 1, 1.0, -1.0)
    w = np.zeros(Z.shape[1])
    updates = 0
    for _ in range(max_epochs):
        mistakes = 0
        for z, t in zip(Z, s):
            if t * (z @ w) <= 0:
                w += t * z
                updates += 1
                mistakes += 1
        if mistakes == 0:
            return updates
    return None


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("n_features", [1, 2, 5])
def test_make_separable_margin(seed: int, n_features: int) -> None:
    margin = 0.1
    X, y, w, b = make_separable(200, n_features=n_features, margin=margin,
                                return_hyperplane=True, random_state=seed)
    assert X.shape == (200, n_features)
    assert np.abs(X).max() <= 1.0
    assert np.isclose(np.linalg.norm(w), 1.0) and abs(b) <= 0.2 + 1e-12
    np.testing.assert_array_equal(np.bincount(y), [100, 100])
    dist = X @ w + b
    np.testing.assert_array_equal(y, (dist > 0).astype(np.int64))
    assert np.abs(dist).min() >= margin
    # Independent check: the perceptron convergence bound (R / gamma)^2 holds.
    R2 = float(np.max(np.sum(X**2, axis=1) + 1.0))
    gamma = margin / np.sqrt(1.0 + b * b)
    updates = _perceptron_updates(X, y, max_epochs=1000)
    assert updates is not None and updates <= R2 / gamma**2


def test_make_separable_given_hyperplane() -> None:
    X, y, w, b = make_separable(301, coef=[1.0, 1.0], intercept=-0.5, margin=0.05,
                                return_hyperplane=True, random_state=0)
    np.testing.assert_allclose(w, [2**-0.5, 2**-0.5])
    assert np.isclose(b, -0.5 * 2**-0.5)
    np.testing.assert_array_equal(y, (X[:, 0] + X[:, 1] > 0.5).astype(np.int64))
    assert np.abs(X[:, 0] + X[:, 1] - 0.5).min() >= 0.05 * np.sqrt(2)
    np.testing.assert_array_equal(np.bincount(y), [150, 151])
    X2, y2 = make_separable(301, coef=[1.0, 1.0], intercept=-0.5, margin=0.05, random_state=0)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)


def test_make_separable_zero_margin_and_two_points() -> None:
    X, y = make_separable(2, margin=0.0, random_state=1)
    assert sorted(y.tolist()) == [0, 1]
    assert X.shape == (2, 2)


def test_make_separable_validation() -> None:
    with pytest.raises(ValueError, match="n_samples must be an integer >= 2"):
        make_separable(1)
    with pytest.raises(ValueError, match="n_features"):
        make_separable(10, n_features=0)
    with pytest.raises(ValueError, match="margin must be >= 0"):
        make_separable(10, margin=-0.1)
    with pytest.raises(ValueError, match="margin must be finite"):
        make_separable(10, margin=float("nan"))
    with pytest.raises(TypeError, match="margin"):
        make_separable(10, margin="0.1")  # type: ignore[call-overload]
    with pytest.raises(ValueError, match="margin=2.0 leaves no room"):
        make_separable(10, margin=2.0, random_state=0)
    with pytest.raises(ValueError, match="leaves no room"):
        make_separable(10, coef=[1.0, 0.0], intercept=0.95, margin=0.1)
    # Room in principle, but a vanishing corner of the 10-cube: a clear error, no endless loop.
    with pytest.raises(ValueError, match="too little room"):
        make_separable(4, n_features=10, coef=np.ones(10), intercept=0.0, margin=3.0, random_state=0)
    with pytest.raises(ValueError, match=r"coef must have shape \(2,\)"):
        make_separable(10, coef=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="not all zero"):
        make_separable(10, coef=[0.0, 0.0])
    with pytest.raises(ValueError, match="finite"):
        make_separable(10, coef=[np.inf, 0.0])
    with pytest.raises(TypeError, match="coef"):
        make_separable(10, coef=["a", "b"])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="intercept"):
        make_separable(10, coef=[1.0, 0.0], intercept="0")  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="return_hyperplane"):
        make_separable(10, return_hyperplane=1)  # type: ignore[call-overload]


def test_make_xor_truth_table() -> None:
    X, y = make_xor()
    np.testing.assert_array_equal(X, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y, [0, 1, 1, 0])
    assert X.dtype == np.float64 and y.dtype == np.int64


def test_make_xor_noisy() -> None:
    X, y = make_xor(400, noise=0.1, shuffle=True, random_state=0)
    np.testing.assert_array_equal(np.bincount(y), [200, 200])
    corner = np.round(X).clip(0, 1).astype(int)
    # Noise of 0.1 rarely crosses the midline (p ~ 3e-7 per coordinate).
    np.testing.assert_array_equal(y, corner[:, 0] ^ corner[:, 1])
    resid = X - corner
    assert 0.08 < resid.std() < 0.12
    # Shuffled: not in corner order any more.
    assert not np.array_equal(y, np.tile([0, 1, 1, 0], 100))
    Xc, yc = make_xor(8)
    np.testing.assert_array_equal(yc, [0, 1, 1, 0, 0, 1, 1, 0])
    np.testing.assert_array_equal(Xc[4:], Xc[:4])


def test_make_xor_validation() -> None:
    with pytest.raises(ValueError, match="n_samples must be an integer >= 4"):
        make_xor(3)
    with pytest.raises(ValueError, match="noise"):
        make_xor(8, noise=-1.0)
    with pytest.raises(TypeError, match="shuffle"):
        make_xor(8, shuffle="no")  # type: ignore[arg-type]


@pytest.mark.parametrize(("n", "k", "turns"), [(200, 2, 1.0), (301, 3, 1.5), (10, 5, 0.5)])
def test_make_spirals_classes_and_geometry(n: int, k: int, turns: float) -> None:
    X, y = make_spirals(n, k, turns=turns, random_state=0)
    assert X.shape == (n, 2)
    np.testing.assert_array_equal(np.unique(y), np.arange(k))
    counts = np.bincount(y)
    assert counts.max() - counts.min() <= 1 and counts.sum() == n
    r = np.hypot(X[:, 0], X[:, 1])
    assert r.min() >= 0.1 - 1e-12 and r.max() <= 1.0 + 1e-12
    # Without noise every point lies on its class's arm.
    t = (r - 0.1) / 0.9
    angle = 2 * np.pi * (turns * t + y / k)
    np.testing.assert_allclose(X, np.column_stack([r * np.cos(angle), r * np.sin(angle)]),
                               atol=1e-9)


def test_make_spirals_noise() -> None:
    X0, y0 = make_spirals(500, noise=0.0, random_state=3)
    X1, y1 = make_spirals(500, noise=0.05, random_state=3)
    np.testing.assert_array_equal(y0, y1)
    d = X1 - X0
    assert 0.04 < d.std() < 0.06


def test_make_spirals_validation() -> None:
    with pytest.raises(ValueError, match="n_classes must be an integer >= 2"):
        make_spirals(10, 1)
    with pytest.raises(ValueError, match="n_samples must be an integer >= 3"):
        make_spirals(2, 3)
    with pytest.raises(ValueError, match="turns must be > 0"):
        make_spirals(10, turns=0)
    with pytest.raises(ValueError, match="noise must be >= 0"):
        make_spirals(10, noise=-0.1)


def test_make_sine() -> None:
    X, y = make_sine(500, noise=0.0, periods=2.0, random_state=0)
    assert X.shape == (500, 1) and y.shape == (500,) and y.dtype == np.float64
    assert X.min() >= 0 and X.max() <= 4 * np.pi
    assert X.max() > 3.5 * np.pi  # the interval spans the requested periods
    np.testing.assert_allclose(y, np.sin(X[:, 0]))
    Xn, yn = make_sine(5000, noise=0.2, random_state=1)
    assert Xn.max() <= 2 * np.pi
    assert 0.18 < (yn - np.sin(Xn[:, 0])).std() < 0.22
    with pytest.raises(ValueError, match="periods must be > 0"):
        make_sine(10, periods=0.0)
    with pytest.raises(ValueError, match="noise"):
        make_sine(10, noise=-1)
    with pytest.raises(ValueError, match="n_samples must be an integer >= 1"):
        make_sine(0)
