"""Progress output: bars on a terminal (a fake TTY stream and a real pseudo-terminal),
one plain line per epoch in a log, nothing at verbose=0, updates once per chunk."""
from __future__ import annotations

import io
import os
import re
import struct
import subprocess
import sys

import numpy as np
import pytest

import fastmlp
from fastmlp import MLP, _progress
from fastmlp.optim import Adam


class FakeTTY(io.StringIO):
    """A stream that says it is a terminal (what tqdm draws bars for)."""

    def isatty(self) -> bool:
        return True


def _fit(verbose, epochs=3, n=200, validation=True):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((n, 4)), rng.integers(0, 3, n)
    net = MLP([4, 8, 3], seed=0)
    net.fit(X, y, epochs=epochs, batch_size=16, optimizer=Adam(lr=0.01), verbose=verbose,
            validation_split=0.2 if validation else 0.0)
    return net


ROW = re.compile(r"^(\d+)\s+([\d.]+)")


def _rows(text):
    """Table rows (epoch number and first value) in the order printed."""
    out = []
    for line in re.split(r"[\r\n]", text):
        m = ROW.match(line.strip())
        if m:
            out.append((int(m.group(1)), float(m.group(2))))
    return out


def test_terminal_shows_master_train_and_valid_bars(monkeypatch):
    tty = FakeTTY()
    monkeypatch.setattr(sys, "stderr", tty)
    monkeypatch.setattr(_progress, "_MIN_INTERVAL", 0.0)  # this tiny fit outruns the throttle
    net = _fit(verbose=1)
    out = tty.getvalue()
    assert "\r" in out  # bars redraw in place
    assert "epochs:" in out and "3/3" in out          # the master bar, finished
    assert re.search(r"train:\s+\d+%", out)           # a training bar per epoch ...
    assert re.search(r"valid:\s+\d+%", out)           # ... and a validation bar
    assert "loss=" in out and "accuracy=" in out      # running metrics in the postfix
    header = [ln for ln in out.splitlines() if ln.startswith("epoch ")]
    assert len(header) == 1 and "val_loss" in header[0] and "lr" in header[0]
    rows = _rows(out)
    assert [r[0] for r in rows] == [1, 2, 3]
    assert [r[1] for r in rows] == pytest.approx(net.history_["loss"], abs=1e-6)


def test_log_gets_one_plain_line_per_epoch(monkeypatch):
    log = io.StringIO()  # not a terminal: CI, a log file
    monkeypatch.setattr(sys, "stderr", log)
    net = _fit(verbose=1, epochs=4)
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue() and "%|" not in log.getvalue()
    assert len(lines) == 1 + 4
    # error_rate (= 1 - accuracy) is left out so that the table fits 80 columns
    assert lines[0].split() == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr",
                                "time"]
    assert max(map(len, lines)) <= 80
    for e, line in enumerate(lines[1:]):
        cells = line.split()
        assert cells[0] == str(e + 1)
        assert float(cells[1]) == pytest.approx(net.history_["loss"][e], abs=1e-6)
        assert float(cells[4]) == pytest.approx(net.history_["val_accuracy"][e], abs=1e-6)
        assert cells[-1].endswith("s")


def test_verbose_2_prints_lines_even_on_a_terminal(monkeypatch):
    tty = FakeTTY()
    monkeypatch.setattr(sys, "stderr", tty)
    _fit(verbose=2, validation=False)
    out = tty.getvalue()
    assert "\r" not in out and len(out.splitlines()) == 1 + 3
    assert "val_loss" not in out


def test_verbose_0_prints_nothing(monkeypatch, capsys):
    tty = FakeTTY()
    monkeypatch.setattr(sys, "stderr", tty)
    _fit(verbose=0)
    assert tty.getvalue() == ""
    cap = capsys.readouterr()
    assert cap.out == "" and cap.err == ""


def test_bars_update_once_per_chunk_not_per_batch(monkeypatch):
    """Drawing is throttled: the trainer reports between chunks of batches run in C."""
    calls = []
    orig = _progress.EpochProgress.update_train

    def spy(self, n, logs):
        calls.append(n)
        orig(self, n, logs)

    monkeypatch.setattr(_progress.EpochProgress, "update_train", spy)
    monkeypatch.setattr(sys, "stderr", FakeTTY())
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((4000, 4)), rng.integers(0, 2, 4000)
    MLP([4, 4, 2], seed=0).fit(X, y, epochs=2, batch_size=4, verbose=1, optimizer="sgd")
    assert sum(calls) == 2 * 1000
    assert len(calls) < 2 * 1000 / 10  # far fewer updates than batches


def test_real_pseudo_terminal_run():
    """A child process on a pty: bars drawn to a real terminal device."""
    pty = pytest.importorskip("pty", reason="needs a POSIX pseudo-terminal")
    code = ("import numpy as np; from fastmlp import MLP\n"
            "rng = np.random.default_rng(0); X = rng.standard_normal((300, 4))\n"
            "y = (X[:, 0] > 0).astype(int)\n"
            "MLP([4, 8, 2], seed=0).fit(X, y, epochs=2, validation_split=0.2)\n"
            "print('DONE')\n")
    fcntl = pytest.importorskip("fcntl", reason="needs a POSIX pseudo-terminal")
    termios = pytest.importorskip("termios", reason="needs a POSIX pseudo-terminal")
    master, slave = pty.openpty()
    # a 30x120 window, as a terminal emulator would report
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 120, 0, 0))
    env = {**os.environ, "PYTHONPATH": os.path.dirname(os.path.dirname(fastmlp.__file__))}
    env.pop("COLUMNS", None)
    # cwd = where the tested fastmlp lives, so `python -c` (which puts the cwd
    # first on sys.path) cannot pick up an unbuilt source checkout instead
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=slave, stdout=slave,
                            stderr=slave, env=env, close_fds=True, cwd=env["PYTHONPATH"])
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:  # EIO once the child has exited and closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert proc.wait(timeout=600) == 0
    out = b"".join(chunks).decode(errors="replace")
    assert "DONE" in out
    assert "\r" in out and "epochs:" in out and "2/2" in out and "train:" in out
    assert [r[0] for r in _rows(out)] == [1, 2]
    bar = [ln for ln in re.split(r"[\r\n]", out) if ln.startswith("epochs: 100%")]
    assert bar and len(bar[-1].rstrip()) <= 120  # drawn to the terminal's width


def test_terminal_reporting_zero_columns_still_gets_bars(monkeypatch):
    monkeypatch.setattr(os, "get_terminal_size", lambda fd: os.terminal_size((0, 0)))
    monkeypatch.setenv("COLUMNS", "90")
    tty = FakeTTY()
    tty.fileno = lambda: 2
    p = _progress.EpochProgress(1, 3, 1, file=tty)
    p.start_epoch(0)
    p.update_train(3, {"loss": 0.5})
    p.end_epoch({"loss": 0.5, "lr": 0.1, "time": 0.01})
    p.close()
    line = [ln for ln in tty.getvalue().split("\r") if ln.startswith("epochs: 100%")][-1]
    assert len(line.rstrip("\n")) == 90


def test_raw_stats_api_still_works():
    """The older calling convention (has_val=, raw fm_train stats arrays, no row count for
    validation) keeps working for code written against it."""
    tty = FakeTTY()
    p = _progress.EpochProgress(2, 4, 1, file=tty, has_val=True)
    for e in range(2):
        p.start_epoch(e)
        p.update_train(4, np.array([2.0, 3.0, 4.0, 0.0]))
        p.start_validation()
        p.end_epoch({"loss": 0.5, "val_loss": 0.6, "lr": 0.1, "time": 0.01})
    p.close()
    assert [r[0] for r in _rows(tty.getvalue())] == [1, 2]
    assert "2/2" in tty.getvalue()
