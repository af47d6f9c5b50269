"""What the command line reads and how it stops (docs/RELIABILITY.md, "Files" and
"Signals"): only regular files or standard input, bounded in size and rows; NaN and
infinity refused in one line; networks too big for memory refused before allocating;
Ctrl-C during train reported in one line with exit status 130, saving only when asked."""
from __future__ import annotations

import io as _stdio
import os
import pathlib
import signal
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest

import fastmlp
from fastmlp import MLP
from fastmlp.cli import commands as cli

PKG_PARENT = str(pathlib.Path(fastmlp.__file__).resolve().parent.parent)
posix_only = pytest.mark.skipif(os.name != "posix", reason="needs POSIX devices and signals")


def _env():
    # with cwd=tmp_path in the calls: `python -m`/`-c` put the working directory first
    # on sys.path, and the repository root's source folder would shadow the installed fastmlp
    return {**os.environ, "OMP_NUM_THREADS": "1",
            "PYTHONPATH": PKG_PARENT + os.pathsep + os.environ.get("PYTHONPATH", "")}


def one_line_error(capsys, argv, *fragments):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    assert code == 2, (code, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fastmlp") and " error: " in lines[0], err
    for f in fragments:
        assert f in lines[0], (f, lines[0])
    return lines[0]


def _csv(path, rows=60, bad=None):
    """A small numeric CSV (3 features, an int label); ``bad`` = (row, col, text) replaced."""
    rng = np.random.default_rng(0)
    lines = ["a,b,c,label"]
    for i in range(rows):
        cells = [f"{v:.4f}" for v in rng.standard_normal(3)] + [str(i % 2)]
        if bad and bad[0] == i:
            cells[bad[1]] = bad[2]
        lines.append(",".join(cells))
    path.write_text("\n".join(lines) + "\n")
    return path


TRAIN = ["train", "--hidden", "4", "--epochs", "1", "-q", "--threads", "1"]


# ---------------------------------------------------------------------- what is read
@posix_only
@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom", "/dev/null"])
def test_devices_are_refused_without_reading(capsys, device):
    one_line_error(capsys, [*TRAIN, "--data", device], "not a regular file", device)


@posix_only
def test_dev_zero_returns_at_once_in_a_process(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "fastmlp", "train", "--data", "/dev/zero"],
                          capture_output=True, text=True, env=_env(), timeout=600, cwd=tmp_path)
    assert proc.returncode == 2 and "not a regular file" in proc.stderr
    assert "Traceback" not in proc.stderr


@posix_only
def test_a_fifo_is_refused_without_blocking(capsys, tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)  # nobody writes to it: opening it for reading would block
    one_line_error(capsys, [*TRAIN, "--data", str(fifo)], "not a regular file")


def test_a_directory_is_refused(capsys, tmp_path):
    one_line_error(capsys, [*TRAIN, "--data", str(tmp_path)], "is a directory")


def test_the_size_limit_and_raising_it(capsys, tmp_path):
    path = _csv(tmp_path / "t.csv", rows=200)
    line = one_line_error(capsys, [*TRAIN, "--data", str(path), "--max-size", "2K"],
                          "over the 2 KiB limit of --max-size")
    assert "raise it" in line
    assert cli.main([*TRAIN, "--data", str(path), "--max-size", "1M"]) == 0
    capsys.readouterr()


@pytest.mark.parametrize("bad", ["0", "-5M", "lots", "1Q", "nan"])
def test_bad_size_values(capsys, bad):
    one_line_error(capsys, [*TRAIN, "--max-size", bad], "--max-size")


@pytest.mark.parametrize("bad", ["0", "-1", "many", "1.5"])
def test_bad_row_limits(capsys, bad):
    one_line_error(capsys, [*TRAIN, "--max-rows", bad], "--max-rows")


def test_the_row_limit_and_raising_it(capsys, tmp_path):
    path = _csv(tmp_path / "t.csv", rows=50)
    one_line_error(capsys, [*TRAIN, "--data", str(path), "--max-rows", "20"],
                   "more than 20 data rows", "--max-rows")
    assert cli.main([*TRAIN, "--data", str(path), "--max-rows", "50"]) == 0
    capsys.readouterr()
    npz = tmp_path / "t.npz"
    np.savez(npz, X=np.zeros((30, 2)), y=np.arange(30) % 2)
    one_line_error(capsys, [*TRAIN, "--data", str(npz), "--max-rows", "10"], "--max-rows")


def test_standard_input_csv_and_npz(tmp_path):
    text = _csv(tmp_path / "t.csv").read_text()
    proc = subprocess.run([sys.executable, "-m", "fastmlp", *TRAIN, "--data", "-"], input=text,
                          capture_output=True, text=True, env=_env(), timeout=600, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "standard input" in proc.stdout
    buf = _stdio.BytesIO()
    np.savez_compressed(buf, X=np.random.default_rng(0).standard_normal((40, 3)),
                        y=np.arange(40) % 2)
    proc = subprocess.run([sys.executable, "-m", "fastmlp", *TRAIN, "--data", "-"],
                          input=buf.getvalue(), capture_output=True, env=_env(), timeout=600,
                          cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr


def test_standard_input_over_the_limit(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "fastmlp", *TRAIN, "--data", "-",
                           "--max-size", "1K"], input="1,2,0\n" * 1000, capture_output=True,
                          text=True, env=_env(), timeout=600, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert "standard input holds more than 1 KiB" in proc.stderr


# ---------------------------------------------------------------------- what is in it
@pytest.mark.parametrize("row", [1, 55])  # early rows and late rows: train and test splits
@pytest.mark.parametrize("cell", ["nan", "NaN", "inf", "-Infinity", "1e999"])
def test_non_finite_cells_are_one_line(capsys, tmp_path, row, cell):
    path = _csv(tmp_path / "t.csv", bad=(row, 1, cell))
    one_line_error(capsys, [*TRAIN, "--data", str(path)], f"data row {row + 1}", "column 'b'",
                   "not a finite number")


def test_a_nan_in_the_test_split_only(capsys, tmp_path):
    # the row lands in the test split (seed 0, 20%): no training sees it, evaluate would
    n = 60
    order = np.random.default_rng(0).permutation(n)
    test_row = int(order[0])
    path = _csv(tmp_path / "t.csv", rows=n, bad=(test_row, 0, "nan"))
    one_line_error(capsys, [*TRAIN, "--data", str(path)], "not a finite number")


@pytest.mark.parametrize("command", ["evaluate", "predict"])
def test_non_finite_cells_for_a_saved_model(capsys, tmp_path, command):
    model = MLP([3, 4, 2], seed=0, loss="cce").save(tmp_path / "m.npz")
    path = _csv(tmp_path / "t.csv", bad=(7, 2, "inf"))
    one_line_error(capsys, [command, model, "--data", str(path)], "data row 8",
                   "not a finite number")


def test_a_non_finite_label(capsys, tmp_path):
    path = _csv(tmp_path / "t.csv", bad=(4, 3, "nan"))
    one_line_error(capsys, [*TRAIN, "--data", str(path)], "data row 5", "label 'nan'")


@pytest.mark.parametrize("content, fragment", [
    (b"a,b\n1,\x002\n", " error: "),                          # a NUL byte
    (b"a,b,c\n1,2," + b"9" * 200_000 + b"\n", "field larger"),  # one huge field
    (b"\xff\xfe\x00garbage", "not a text CSV"),
    (b'a,b\n"1,2\n', "row 1"),                                 # an unclosed quote
])
def test_malformed_csv(capsys, tmp_path, content, fragment):
    path = tmp_path / "m.csv"
    path.write_bytes(content)
    one_line_error(capsys, [*TRAIN, "--data", str(path)], fragment)


def _crafted_npz(path, shape):
    buf = _stdio.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "<f8", "fortran_order": False,
                                               "shape": shape})
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("X.npy", buf.getvalue() + b"\0" * 64)
        zf.writestr("y.npy", buf.getvalue() + b"\0" * 64)
    return path


@pytest.mark.parametrize("shape", [(10**12,), (10**6, 10**6)])
def test_an_npz_header_claiming_terabytes(capsys, tmp_path, shape):
    one_line_error(capsys, [*TRAIN, "--data", str(_crafted_npz(tmp_path / "x.npz", shape))],
                   "cannot read", "claims shape")


def test_an_npz_with_nan_features_or_labels(capsys, tmp_path):
    X = np.zeros((20, 2))
    X[3, 1] = np.nan
    np.savez(tmp_path / "a.npz", X=X, y=np.arange(20) % 2)
    one_line_error(capsys, [*TRAIN, "--data", str(tmp_path / "a.npz")], "data row 4",
                   "not a finite number")
    np.savez(tmp_path / "b.npz", X=np.zeros((20, 2)), y=np.r_[np.nan, np.arange(19) % 2])
    one_line_error(capsys, [*TRAIN, "--data", str(tmp_path / "b.npz")], "labels contain NaN")
    np.savez(tmp_path / "c.npz", X=np.zeros((20, 2)), y=np.arange(7))
    one_line_error(capsys, [*TRAIN, "--data", str(tmp_path / "c.npz")], "one per row")


def test_a_model_file_that_is_a_device(capsys):
    one_line_error(capsys, ["evaluate", "/dev/zero", "--dataset", "digits"], "not a regular file")


# ---------------------------------------------------------------------- network size
@pytest.mark.parametrize("argv", [["--hidden", "100000000-100000000"],
                                  ["--hidden", "3000000000"],
                                  ["--layers", "64-4000000000-10"],
                                  ["--hidden", "-".join(["1000000"] * 30)]])
def test_networks_too_big_for_memory(capsys, argv):
    line = one_line_error(capsys, ["train", *argv, "--epochs", "1"], "parameters",
                          "use smaller layers")
    assert argv[1] in line


def test_save_on_interrupt_needs_an_output(capsys):
    one_line_error(capsys, [*TRAIN, "--save-on-interrupt"], "--save-on-interrupt needs --output")


# ---------------------------------------------------------------------- Ctrl-C
def _train_until_epochs_then_sigint(tmp_path, *extra, epochs_seen=2):
    """Run a long `fastmlp train`, wait for its per-epoch lines, send SIGINT; return
    (exit status, stderr lines, epochs printed before the signal)."""
    argv = [sys.executable, "-m", "fastmlp", "train", "--hidden", "32", "--epochs", "100000",
            "--threads", "1", *extra]
    lines, seen, rest = [], 0, ""
    deadline = time.monotonic() + 600  # a hang guard only: the loop ends when the epochs are seen
    with subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          env=_env(), cwd=tmp_path) as proc:
        try:
            while seen < epochs_seen and time.monotonic() < deadline:
                line = proc.stderr.readline()
                if not line:
                    break
                lines.append(line.rstrip("\n"))
                seen += line[:1].isdigit()
            proc.send_signal(signal.SIGINT)
            rest = proc.stderr.read()
            proc.wait(timeout=600)
        finally:
            if proc.poll() is None:
                proc.kill()
    lines += rest.splitlines()
    return proc.returncode, lines, seen


@posix_only
def test_ctrl_c_during_train_exits_130_and_saves_nothing(tmp_path):
    code, lines, seen = _train_until_epochs_then_sigint(tmp_path, "--output", "m.npz")
    assert seen >= 2
    assert code == 130, lines
    text = "\n".join(lines)
    assert "Traceback" not in text and "Warning" not in text
    assert lines[-1].startswith("fastmlp: interrupted after ") and "of 100000 epochs" in lines[-1]
    assert "m.npz not written (add --save-on-interrupt" in lines[-1]
    assert not (tmp_path / "m.npz").exists() and os.listdir(tmp_path) == []


@posix_only
def test_ctrl_c_with_save_on_interrupt_saves_the_completed_epochs(tmp_path):
    code, lines, _ = _train_until_epochs_then_sigint(tmp_path, "--output", "m.npz",
                                                     "--save-on-interrupt")
    assert code == 130, lines
    assert "Traceback" not in "\n".join(lines)
    last = lines[-1]
    assert last.startswith("fastmlp: interrupted after ") and "saved to m.npz" in last
    done = int(last.split("after ")[1].split(" of")[0])
    net = MLP.load(tmp_path / "m.npz")
    assert len(net.history_["loss"]) == done >= 2
    assert net.predict(np.zeros((1, 64))).shape == (1,)


@posix_only
def test_ctrl_c_without_output(tmp_path):
    code, lines, _ = _train_until_epochs_then_sigint(tmp_path)
    assert code == 130 and lines[-1].startswith("fastmlp: interrupted after ")
    assert "not written" not in lines[-1]
