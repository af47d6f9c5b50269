"""Fault injection into fastmlp.io.save (docs/RELIABILITY.md, "Files").

The contract: whatever happens during a save -- an exception, Ctrl-C, a full disk,
a failing fsync or rename, ``kill -9`` of the process at any point -- the
destination holds either its old content or the complete new model, never a mix.
After an exception the temporary file is gone; after ``kill -9`` it remains (no
code runs) and the next save to the same destination removes it.

Faults are injected in-process (patched calls) and in child processes (a real
SIGKILL at a chosen point, a real write limit through RLIMIT_FSIZE, and a real full
file system: a tiny tmpfs when this process may mount one).
"""
from __future__ import annotations

import errno
import os
import pathlib
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import fastmlp
from fastmlp import MLP
from fastmlp import io as fio

PKG_PARENT = str(pathlib.Path(fastmlp.__file__).resolve().parent.parent)
posix_only = pytest.mark.skipif(os.name != "posix", reason="needs POSIX signals and rlimits")


def _model(width=6, seed=0):
    net = MLP([4, width, 3], seed=seed, loss="cce")
    rng = np.random.default_rng(seed)
    net.fit(rng.standard_normal((30, 4)), rng.integers(0, 3, 30), epochs=1, optimizer="adam",
            verbose=0)
    return net


@pytest.fixture
def old(tmp_path):
    """A destination holding a valid model; returns (path, its bytes)."""
    path = pathlib.Path(_model(seed=1).save(tmp_path / "m.npz"))
    return path, path.read_bytes()


def _only(path: pathlib.Path) -> list:
    return sorted(os.listdir(path.parent))


def _assert_old_intact(path, before):
    assert path.read_bytes() == before
    assert MLP.load(path).layers == [4, 6, 3]


# ---------------------------------------------------------------------- in-process faults
class _FailingFile:
    """A file object whose writes fail with ``err`` once ``limit`` bytes were written."""

    def __init__(self, f, limit, err):
        self._f, self._left, self._err = f, limit, err

    def write(self, b):
        if len(b) > self._left:
            self._f.write(bytes(b[:self._left]))
            self._left = 0
            raise OSError(self._err, os.strerror(self._err))
        self._left -= len(b)
        return self._f.write(b)

    def __getattr__(self, name):
        return getattr(self._f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._f.close()


@pytest.mark.parametrize("limit", [0, 100, 1000, 3000])
@pytest.mark.parametrize("err", [errno.ENOSPC, errno.EIO, errno.EDQUOT])
def test_a_failing_write_leaves_the_old_file(old, monkeypatch, limit, err):
    path, before = old
    real = os.fdopen
    monkeypatch.setattr(fio.os, "fdopen", lambda fd, mode: _FailingFile(real(fd, mode), limit, err))
    with pytest.raises(OSError) as info:
        _model(seed=2).save(path)
    assert info.value.errno == err
    monkeypatch.undo()
    _assert_old_intact(path, before)
    assert _only(path) == ["m.npz"]


@pytest.mark.parametrize("where", ["fsync", "replace", "fchmod"])
@pytest.mark.parametrize("exc", [OSError(errno.EIO, "I/O error"), KeyboardInterrupt()])
def test_a_failure_at_each_later_step_leaves_the_old_file(old, monkeypatch, where, exc):
    path, before = old

    def boom(*a, **k):
        raise exc

    monkeypatch.setattr(fio.os, where, boom)
    with pytest.raises(type(exc)):
        _model(seed=2).save(path)
    monkeypatch.undo()
    _assert_old_intact(path, before)
    assert _only(path) == ["m.npz"]


def test_ctrl_c_inside_the_write(old, monkeypatch):
    path, before = old

    def interrupted(f, **arrays):
        f.write(b"PK\x03\x04 partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _model(seed=2).save(path)
    monkeypatch.undo()
    _assert_old_intact(path, before)
    assert _only(path) == ["m.npz"]


def test_a_refused_model_touches_nothing(old):
    path, before = old
    bad = _model(seed=2)
    bad._params[0] = np.inf
    with pytest.raises(ValueError, match="must be finite"):
        bad.save(path)
    assert path.read_bytes() == before and _only(path) == ["m.npz"]


# ---------------------------------------------------------------------- child processes
_CHILD = """
import os, signal, sys
import numpy as np
from fastmlp import MLP
from fastmlp import io as fio
path, fault = sys.argv[1], sys.argv[2]
net = MLP([4, 400, 400, 3], seed=5, loss="cce")   # ~170 kB: many writes
real_fdopen, real_replace = os.fdopen, os.replace

class KillAfter:
    def __init__(self, f, n):
        self.f, self.left = f, n
    def write(self, b):
        if len(b) >= self.left:
            self.f.write(bytes(b[:self.left])); self.f.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        self.left -= len(b)
        return self.f.write(b)
    def __getattr__(self, name):
        return getattr(self.f, name)
    def __enter__(self):
        return self
    def __exit__(self, *exc):
        self.f.close()

if fault.startswith("kill-after-") and fault[-1].isdigit():  # SIGKILL mid-data
    n = int(fault.split("-")[-1])
    os.fdopen = lambda fd, mode: KillAfter(real_fdopen(fd, mode), n)
elif fault == "kill-before-replace":         # written and fsynced, not yet renamed
    os.replace = lambda *a: os.kill(os.getpid(), signal.SIGKILL)
elif fault == "kill-after-replace":          # renamed, directory not yet fsynced
    def replace_then_die(*a):
        real_replace(*a); os.kill(os.getpid(), signal.SIGKILL)
    os.replace = replace_then_die
elif fault == "fsize":                       # the kernel refuses writes past 8 kB
    import resource
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (8192, 8192))
try:
    net.save(path)
except OSError as exc:
    print("OSError", exc.errno)
    sys.exit(3)
print("saved")
"""


def _child(tmp_path, path, fault):
    env = {**os.environ, "PYTHONPATH": PKG_PARENT + os.pathsep + os.environ.get("PYTHONPATH", ""),
           "OMP_NUM_THREADS": "1"}
    script = tmp_path.parent / f"{tmp_path.name}-child.py"
    script.write_text(textwrap.dedent(_CHILD))
    return subprocess.run([sys.executable, str(script), str(path), fault], env=env,
                          capture_output=True, text=True, timeout=600)


@posix_only
@pytest.mark.parametrize("fault", ["kill-after-0", "kill-after-5000", "kill-after-100000",
                                   "kill-before-replace"])
def test_kill_9_mid_save_leaves_the_old_file_and_the_next_save_cleans_up(tmp_path, old, fault):
    path, before = old
    proc = _child(tmp_path, path, fault)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    _assert_old_intact(path, before)
    left = [n for n in _only(path) if n != "m.npz"]
    assert len(left) == 1 and fio._TMP_TAG in left[0] and left[0].startswith(".m.npz.")
    # the contract: the next save to this destination removes what the dead writer left
    newer = _model(seed=3)
    newer.save(path)
    assert _only(path) == ["m.npz"]
    assert np.array_equal(MLP.load(path)._params, newer._params)


@posix_only
def test_kill_9_after_the_rename_leaves_the_new_file(tmp_path, old):
    path, before = old
    proc = _child(tmp_path, path, "kill-after-replace")
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert MLP.load(path).layers == [4, 400, 400, 3]
    assert _only(path) == ["m.npz"]


@posix_only
def test_a_live_writers_temporary_file_is_not_removed(tmp_path, old):
    path, _ = old
    mine = path.parent / f".m.npz.{os.getppid()}.abc{fio._TMP_TAG}"  # the parent: alive
    mine.write_bytes(b"in progress")
    _model(seed=3).save(path)
    assert mine.exists()


@posix_only
def test_a_write_limit_enforced_by_the_kernel(tmp_path, old):
    path, before = old
    proc = _child(tmp_path, path, "fsize")
    assert proc.returncode == 3 and proc.stdout.split() == ["OSError", str(errno.EFBIG)], \
        (proc.stdout, proc.stderr)
    _assert_old_intact(path, before)
    assert _only(path) == ["m.npz"]


@pytest.fixture
def tiny_fs(tmp_path):
    """A 64 KiB tmpfs (needs the right to mount, e.g. root in a container; else skipped)."""
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)],
                       capture_output=True)
    if r.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs privileges)")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=True)


def test_a_full_file_system(tiny_fs):
    path = pathlib.Path(_model(seed=1).save(tiny_fs / "m.npz"))  # a few kB: fits
    before = path.read_bytes()
    big = MLP([4, 150, 100, 3], seed=4, loss="cce")  # ~16k float32 params + Adam: does not fit
    big.fit(np.zeros((8, 4)), np.arange(8) % 3, epochs=1, optimizer="adam", verbose=0)
    with pytest.raises(OSError) as info:
        big.save(path)
    assert info.value.errno == errno.ENOSPC
    _assert_old_intact(path, before)
    assert _only(path) == ["m.npz"]
    small = _model(seed=5)
    small.save(path)  # space is back: the next save succeeds
    assert np.array_equal(MLP.load(path)._params, small._params)
