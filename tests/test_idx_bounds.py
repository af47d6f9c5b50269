"""The IDX reader bounds what it reads (docs/RELIABILITY.md, section 3): a header's claim
is checked against ``max_bytes`` and against what the file can hold before the payload
is read, the payload and any trailing data are read incrementally, so a small gzip file
that claims or inflates to a huge size (a decompression bomb) is refused without being
read whole -- by :func:`fastmlp.datasets.read_idx`, by the MNIST loaders (``path=``)
and by the command line (``--data-path``, bounded by ``--max-size``)."""
from __future__ import annotations

import gzip
import os
import struct
import tracemalloc
import zlib
from pathlib import Path

import numpy as np
import pytest

from fastmlp.cli import commands
from fastmlp.datasets import load_mnist, read_idx

MiB = 1 << 20


def _header(dims, code=0x08) -> bytes:
    return b"\x00\x00" + bytes([code, len(dims)]) + struct.pack(">" + "I" * len(dims), *dims)


def _gzip_stream(path: Path, head: bytes, zeros: int) -> None:
    """A gzip file of ``head`` followed by ``zeros`` zero bytes, written in chunks (a bomb:
    64 MiB of zeros deflate to about 64 KiB)."""
    with gzip.open(path, "wb", compresslevel=9) as f:
        f.write(head)
        block = bytes(MiB)
        for _ in range(zeros // MiB):
            f.write(block)
        f.write(bytes(zeros % MiB))


def _peak_while(fn) -> tuple[BaseException, int]:
    """(the exception fn raised, peak bytes Python allocated meanwhile)."""
    tracemalloc.start()
    try:
        fn()
    except BaseException as exc:  # noqa: BLE001 - returned to the test
        _, peak = tracemalloc.get_traced_memory()
        return exc, peak
    finally:
        tracemalloc.stop()
    raise AssertionError("no exception")


def test_a_bomb_whose_header_claims_more_than_max_bytes_is_refused_before_reading(tmp_path):
    p = tmp_path / "bomb.idx.gz"
    n = 64 * MiB // 784
    _gzip_stream(p, _header((n, 28, 28)), n * 784)
    assert p.stat().st_size < 1 * MiB
    exc, peak = _peak_while(lambda: read_idx(p, max_bytes=4 * MiB))
    assert isinstance(exc, ValueError) and "more than max_bytes=4194304" in str(exc)
    assert str(p) in str(exc)
    assert peak < 2 * MiB  # refused on the header: nothing of the payload was read


def test_a_header_claiming_more_than_deflate_can_expand_is_refused(tmp_path):
    p = tmp_path / "liar.idx.gz"
    p.write_bytes(gzip.compress(_header((1 << 20, 28, 28)) + bytes(100)))
    with pytest.raises(ValueError, match=r"cannot inflate to that much"):
        read_idx(p, max_bytes=1 << 40)


def test_a_bomb_hidden_after_a_small_payload_stops_counting_its_tail(tmp_path):
    p = tmp_path / "tail.idx.gz"
    _gzip_stream(p, _header((3,)) + b"\x01\x02\x03", 64 * MiB)
    exc, peak = _peak_while(lambda: read_idx(p))
    assert isinstance(exc, ValueError)
    assert "more than 1048576 unexpected trailing bytes after the 3 bytes" in str(exc)
    assert peak < 4 * MiB


def test_a_payload_within_the_bounds_still_reads(tmp_path):
    p = tmp_path / "ok.idx.gz"
    data = np.arange(5 * 28 * 28, dtype=np.uint8).reshape(5, 28, 28)
    p.write_bytes(gzip.compress(_header(data.shape) + data.tobytes()))
    np.testing.assert_array_equal(read_idx(p, max_bytes=data.nbytes), data)
    with pytest.raises(ValueError, match=r"more than max_bytes=3919"):
        read_idx(p, max_bytes=data.nbytes - 1)


@pytest.mark.parametrize("bad", [0, -1, 1.5, "1G", True])
def test_max_bytes_is_checked(tmp_path, bad):
    p = tmp_path / "x.idx"
    p.write_bytes(_header((1,)) + b"\x00")
    with pytest.raises((TypeError, ValueError), match="max_bytes"):
        read_idx(p, max_bytes=bad)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_is_refused_without_blocking(tmp_path):
    p = tmp_path / "fifo"
    os.mkfifo(p)
    with pytest.raises(ValueError, match="not a regular file"):
        read_idx(p)


def _mnist_dir(tmp_path: Path, images_dims, zeros: int) -> Path:
    d = tmp_path / "mnist"
    d.mkdir()
    _gzip_stream(d / "train-images-idx3-ubyte.gz", _header(images_dims), zeros)
    (d / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(_header((3,), 0x08) + b"\0\1\2"))
    return d


@pytest.mark.parametrize("verify", [True, False])
def test_load_mnist_from_a_user_path_is_bounded(tmp_path, verify):
    n = 64 * MiB // 784
    d = _mnist_dir(tmp_path, (n, 28, 28), n * 784)
    exc, peak = _peak_while(lambda: load_mnist(d, verify=verify, max_bytes=8 * MiB))
    assert isinstance(exc, ValueError) and "more than max_bytes" in str(exc), exc
    assert peak < 2 * MiB


def test_load_mnist_refuses_images_of_another_shape_before_reading_them(tmp_path):
    d = _mnist_dir(tmp_path, (1 << 16, 32, 32), 16 * MiB)
    exc, peak = _peak_while(lambda: load_mnist(d, verify=False))
    assert isinstance(exc, ValueError) and "images are 32x32" in str(exc)
    assert peak < 2 * MiB


def test_the_command_line_bounds_mnist_by_max_size(tmp_path, capsys):
    n = 64 * MiB // 784
    d = _mnist_dir(tmp_path, (n, 28, 28), n * 784)
    code = commands.main(["train", "--dataset", "mnist", "--data-path", str(d), "--max-size",
                          "8M", "--epochs", "1", "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    assert "more than max_bytes" in err[0] and "--max-size" in err[0]


def test_zlib_bomb_ratio_assumption():
    """The reader's bound on what a gzip file can inflate to holds for deflate's best case."""
    raw = bytes(16 * MiB)
    packed = zlib.compress(raw, 9)
    assert len(raw) / len(packed) < 1100
