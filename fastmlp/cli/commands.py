"""The ``fastmlp`` command line (also ``python -m fastmlp``).

Subcommands: ``train``, ``evaluate``, ``predict``, ``export``, ``demo``, ``bench``, ``info``.
A mistake in the command line or its inputs (a missing file, an unknown
column, a bad layer spec, an unknown optimizer...) prints one line on stderr,
``fastmlp: error: ...``, and exits with status 2; no traceback.

Saved models take raw inputs: the scaling ``train`` applies (pixels / 255,
digits / 16, z-scores of a file's columns) is folded into the first layer's
weights before saving, so ``evaluate`` and ``predict`` feed files as they are.
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import inspect
import io as _stdio
import numbers
import os
import stat
import sys
import time
import warnings
from typing import Any, Iterator, NoReturn, Optional, Sequence

import numpy as np

from fastmlp import _omp_policy

EXAMPLES = """examples:
  fastmlp train                          train 64-128-128-10 on the embedded 8x8 digits
  fastmlp train --layers 64-128-64-10 --epochs 30 --optimizer adam --lr 0.001
  fastmlp train --dataset mnist --hidden 16-16 --epochs 20 --output mnist.npz
  fastmlp train --data iris.csv --label-column species --hidden 16 --output iris.npz
  fastmlp evaluate iris.npz --data iris.csv --label-column species
  fastmlp predict iris.npz --data new.csv --output predictions.csv
  fastmlp export iris.npz --onnx iris.onnx    the model as ONNX (or --c iris.c: plain C99)
  fastmlp demo list                      the seed demos (perceptron, sine, spiral, mnist...)
  fastmlp demo mnist --out figures/      784-16-16-10 on MNIST, with figures and peer timings
  fastmlp bench                          the side-by-side speed table
  fastmlp info                           version, SIMD path, OpenMP, threads, BLAS threads
"""

TRAIN_EXAMPLES = """examples:
  fastmlp train                                  digits, 64-128-128-10, Adam (a few seconds)
  fastmlp train --dataset mnist --hidden 800 --optimizer sgd --lr 0.05 --momentum 0.9 \\
                --epochs 30 --batch-size 128 --output mnist800.npz
  fastmlp train --data table.csv --label-column 0 --hidden 32-32 --plot curves.png
  fastmlp train --data arrays.npz --hidden 64 --task regression

defaults (the same as MLP().fit(X, y) in Python): hidden layers 128-128, Adam at rate
1e-3, batches of 32, enough epochs for about 5,000 steps (10 to 200; 10 on MNIST).

datasets: digits (embedded), mnist, fashion-mnist (IDX files found through --data-path,
$FASTMLP_DATA or the cache; --download fetches them), spirals, xor, sine (generated).
CSV files: comma-separated numbers, an optional header row; labels may be text.
NPZ files: arrays 'X' and 'y', or one 2-D array whose label column is --label-column.
"""

#: datasets ``train`` and ``evaluate`` know by name -> the scale dividing their raw inputs
DATASETS = {"digits": 16.0, "mnist": 255.0, "fashion-mnist": 255.0, "spirals": None,
            "xor": None, "sine": None}
DATASET_ALIASES = {"fashion": "fashion-mnist", "fashion_mnist": "fashion-mnist",
                   "spiral": "spirals"}


class UserError(Exception):
    """A mistake in the command line or its inputs: reported in one line."""


def _one_line(msg: str) -> str:
    return " ".join(part.strip() for part in str(msg).splitlines() if part.strip())


@contextlib.contextmanager
def _reported(*errors: type, prefix: str = "") -> Iterator[None]:
    """Turn the given exceptions, raised inside the block, into a one-line UserError."""
    try:
        yield
    except errors as exc:
        raise UserError(prefix + _one_line(str(exc))) from None


def _raised_in(exc: BaseException, module: str) -> bool:
    """True when ``exc`` passed through code of ``module`` (or its submodules) on its way up."""
    tb = exc.__traceback__
    while tb is not None:
        name = tb.tb_frame.f_globals.get("__name__") or ""
        if name == module or name.startswith(module + "."):
            return True
        tb = tb.tb_next
    return False


@contextlib.contextmanager
def _dataset_errors() -> Iterator[None]:
    """Report the MNIST loaders' errors in one line, in the command line's terms.

    Files not found, a failed ``--download`` (``DownloadError``) and damaged files
    (``ValueError`` from ``fastmlp.datasets``) become a UserError. It wraps ``train``'s
    loading and a whole demo (which loads inside); a ValueError that did not come from
    the loaders is left alone there, since it would be a bug rather than a user mistake.
    """
    from fastmlp import datasets

    try:
        yield
    except FileNotFoundError as exc:
        if not _raised_in(exc, datasets.__name__):
            raise UserError(_one_line(str(exc))) from None
        # the loader's own remedy speaks Python (path=..., download=True): give the options
        found = _one_line(str(exc)).split(" To fix:")[0]
        raise UserError(f"{found} To fix: give --data-path DIR (a directory holding the "
                        "files), set FASTMLP_DATA, or add --download to fetch them "
                        "(network needed).") from None
    except datasets.DownloadError as exc:
        raise UserError(f"{_one_line(str(exc))} (--download needs the network; or give "
                        "--data-path DIR holding the files)") from None
    except OSError as exc:  # unreadable files, a figure directory that cannot be written
        raise UserError(_one_line(str(exc))) from None
    except ValueError as exc:  # a damaged or foreign data file
        if not _raised_in(exc, datasets.__name__):
            raise
        raise UserError(_one_line(str(exc))) from None


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (exit status 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {_one_line(message)} (see {self.prog} --help)\n")


# ---------------------------------------------------------------------------- data
def _dataset_name(name: str) -> str:
    key = DATASET_ALIASES.get(name.lower(), name.lower())
    if key not in DATASETS:
        raise UserError(f"unknown dataset {name!r}; available: {', '.join(DATASETS)} "
                        "(or --data FILE for a CSV/NPZ file)")
    return key


def _load_named(name: str, args: argparse.Namespace) -> tuple:
    """Return (X_train, y_train, X_test or None, y_test or None, task) in raw units."""
    from fastmlp import datasets

    seed = getattr(args, "seed", 0)
    if name == "digits":
        X, y = datasets.load_digits(return_X_y=True)
        return X, y, None, None, "classification"
    if name in ("mnist", "fashion-mnist"):
        loader = datasets.load_mnist if name == "mnist" else datasets.load_fashion_mnist
        if getattr(args, "announce_loading", False):  # train says what it waits for
            print(f"fastmlp: loading {name} (70,000 images)...", end="", flush=True)
        t0 = time.perf_counter()
        ok = False
        try:
            with _dataset_errors():
                limit = getattr(args, "max_size", DEFAULT_MAX_SIZE)  # each file's data, inflated
                Xtr, ytr = loader(args.data_path, "train", download=args.download, max_bytes=limit)
                Xte, yte = loader(args.data_path, "test", download=args.download, max_bytes=limit)
            ok = True
        finally:
            if getattr(args, "announce_loading", False):
                print(f" done in {time.perf_counter() - t0:.2f} s" if ok else "", flush=True)
        return Xtr, ytr, Xte, yte, "classification"
    if name == "spirals":
        X, y = datasets.make_spirals(1500, 3, noise=0.02, turns=1.5, random_state=seed)
        return X, y, None, None, "classification"
    if name == "xor":
        X, y = datasets.make_xor(400, noise=0.15, random_state=seed)
        return X, y, None, None, "classification"
    X, y = datasets.make_sine(1000, noise=0.1, random_state=seed)
    return X, y, None, None, "regression"


def _column_index(spec: Optional[str], header: Optional[list], n_cols: int,
                  path: str) -> Optional[int]:
    """Resolve --label-column (a header name or a 0-based index, negative from the end)."""
    if spec is None:
        return None
    if header is not None and spec in header:
        return header.index(spec)
    try:
        idx = int(spec)
    except ValueError:
        names = f"; columns are: {', '.join(header[:30])}" if header else (
            "; the file has no header row, so give a 0-based column number")
        raise UserError(f"--label-column {spec!r} not found in {path}{names}") from None
    if not -n_cols <= idx < n_cols:
        raise UserError(f"--label-column {idx} is out of range: {path} has {n_cols} columns "
                        f"(0..{n_cols - 1}, or negative from the end)")
    return idx % n_cols


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


#: bounds on what train, evaluate and predict read (--max-size, --max-rows): a data file
#: is read whole into memory, so a device, an endless stream or a huge file must not be
DEFAULT_MAX_SIZE = 1 << 30
DEFAULT_MAX_ROWS = 10_000_000
_CSV_BLOCK = 8192  # rows converted to floats at a time (bounds the memory of the parse)


def _size(text: str) -> int:
    """``--max-size`` values: bytes, or a number with a K, M or G suffix (powers of 1024)."""
    t = text.strip().upper().removesuffix("B")
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}.get(t[-1:], 1)
    try:
        value = float(t[:-1] if mult > 1 else t)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a size such as 500M or 2G; got {text!r}") \
            from None
    if not 0 < value * mult < 2**62:
        raise argparse.ArgumentTypeError(f"expected a positive size such as 500M; got {text!r}")
    return int(value * mult)


def _count(text: str) -> int:
    """``--max-rows`` values: a positive int."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number of rows; got {text!r}")
    return value


def _human(n: int) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n} bytes"


def _limits(args: argparse.Namespace) -> dict:
    return {"max_size": getattr(args, "max_size", DEFAULT_MAX_SIZE),
            "max_rows": getattr(args, "max_rows", DEFAULT_MAX_ROWS)}


def _read_bytes(path: str, max_size: int) -> bytes:
    """The content of a regular file, or of standard input for ``-``, at most max_size bytes.

    Devices, FIFOs and sockets are refused before anything is read (``/dev/zero`` would
    never end); a FIFO is opened without blocking to be told apart.
    """
    too_big = (f"over the {_human(max_size)} limit of --max-size; raise it (e.g. --max-size "
               f"{max(2, 4 * max_size >> 30)}G) to read more")
    if path == "-":
        data = sys.stdin.buffer.read(max_size + 1)
        if len(data) > max_size:
            raise UserError(f"standard input holds more than {_human(max_size)}, {too_big}")
        return data
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise UserError(f"file not found: {path}") from None
    except IsADirectoryError:
        raise UserError(f"{path} is a directory; expected a CSV or NPZ file") from None
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}") from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        if stat.S_ISDIR(st.st_mode):
            raise UserError(f"{path} is a directory; expected a CSV or NPZ file")
        raise UserError(f"{path} is not a regular file (a device, FIFO or socket); give a "
                        "CSV or NPZ file, or - for standard input")
    with open(fd, "rb") as f:
        if st.st_size > max_size:
            raise UserError(f"{path} is {_human(st.st_size)}, {too_big}")
        os.set_blocking(fd, True)
        with _reported(OSError, prefix=f"cannot read {path}: "):
            data = f.read(max_size + 1)  # the file may have grown since fstat
    if len(data) > max_size:
        raise UserError(f"{path} is larger than {_human(max_size)}, {too_big}")
    return data


def _non_finite_cell(block: np.ndarray, first_row: int, cols: list, header: Optional[list],
                     path: str, cells: Optional[list] = None) -> None:
    """Refuse NaN and infinity in the features, naming the first such cell."""
    bad = np.argwhere(~np.isfinite(block))
    if len(bad):
        i, k = (int(v) for v in bad[0])
        name = header[cols[k]] if header else str(cols[k])
        text = cells[i][cols[k]] if cells is not None else str(float(block[i, k]))
        raise UserError(f"{path}, data row {first_row + i + 1}, column {name!r}: {text!r} is "
                        "not a finite number (NaN and infinity are refused)")


def _read_csv(path: str, label: Optional[str], need_label: bool,
              max_size: int = DEFAULT_MAX_SIZE, max_rows: int = DEFAULT_MAX_ROWS,
              data: Optional[bytes] = None) -> tuple:
    """Return (X float64, y array or None, header or None)."""
    if data is None:
        data = _read_bytes(path, max_size)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UserError(f"{path} is not a text CSV file (not UTF-8)") from None
    del data
    reader = csv.reader(_stdio.StringIO(text, newline=""))  # as open(newline="") reads files
    rows = (r for r in reader if r and any(c.strip() for c in r))
    try:
        head = [next(rows, None), next(rows, None)]
    except csv.Error as exc:
        raise UserError(f"{path}, line {reader.line_num}: {_one_line(str(exc))}") from None
    if head[0] is None:
        raise UserError(f"{path} is empty")
    header = None
    if not all(_is_number(c) for c in head[0]) and head[1] is not None:
        # a header unless the first row looks like the others (e.g. text labels in every row)
        if [_is_number(c) for c in head[0]] != [_is_number(c) for c in head[1]]:
            header = [c.strip() for c in head.pop(0)]
    n_cols = len(header) if header else len(head[0])
    idx = _column_index(label, header, n_cols, path)
    if idx is None and need_label:
        idx = n_cols - 1
    cols = [j for j in range(n_cols) if j != idx]
    if not cols:
        raise UserError(f"{path} has no feature columns besides the label column")
    blocks, labels, block, n = [], [], [], 0

    def flush() -> None:
        X = np.empty((len(block), len(cols)))
        first = n - len(block)
        for i, r in enumerate(block):
            for k, j in enumerate(cols):
                try:
                    X[i, k] = float(r[j])
                except ValueError:
                    name = header[j] if header else str(j)
                    raise UserError(f"{path}, data row {first + i + 1}, column {name!r}: "
                                    f"{r[j]!r} is not a number (give --label-column if this "
                                    "is the label)") from None
        _non_finite_cell(X, first, cols, header, path, block)
        blocks.append(X)
        block.clear()

    try:
        for r in _chain(head, rows):
            n += 1
            if len(r) != n_cols:
                raise UserError(f"{path}, data row {n}: {len(r)} fields, expected {n_cols}")
            if n > max_rows:
                raise UserError(f"{path} has more than {max_rows:,} data rows, the limit of "
                                "--max-rows; raise it to read more")
            block.append(r)
            if idx is not None:
                labels.append(r[idx].strip())
            if len(block) == _CSV_BLOCK:
                flush()
    except csv.Error as exc:
        raise UserError(f"{path}, line {reader.line_num}: {_one_line(str(exc))}") from None
    if block:
        flush()
    X = np.concatenate(blocks) if len(blocks) > 1 else blocks[0]
    y = None
    if idx is not None:
        y = _parse_labels(labels, path)
    return X, y, ([header[j] for j in cols] if header else None)


def _chain(head: list, rows: Iterator) -> Iterator:
    for r in head:
        if r is not None:
            yield r
    yield from rows


def _parse_labels(cells: Sequence[str], path: str = "the file") -> np.ndarray:
    """Integers if every cell is one, else floats if every cell is one, else text."""
    try:
        return np.array([int(c) for c in cells], dtype=np.int64)
    except (ValueError, OverflowError):
        pass
    try:
        v = np.array([float(c) for c in cells])
    except ValueError:
        return np.array(cells)
    if not np.all(np.isfinite(v)):
        i = int(np.argmax(~np.isfinite(v)))
        raise UserError(f"{path}, data row {i + 1}: the label {cells[i]!r} is not a finite "
                        "number")
    if np.all(v == np.round(v)) and np.all(np.abs(v) < 2**63):
        return v.astype(np.int64)
    return v


def _read_npz(path: str, label: Optional[str], need_label: bool,
              max_size: int = DEFAULT_MAX_SIZE, max_rows: int = DEFAULT_MAX_ROWS,
              data: Optional[bytes] = None) -> tuple:
    from fastmlp.io import read_npz_arrays

    if data is None:
        data = _read_bytes(path, max_size)
    with _reported(ValueError, prefix=f"cannot read {path} as NPZ: "):
        z = read_npz_arrays(_stdio.BytesIO(data), len(data), max_members=64,
                            max_unpacked=max_size, kinds="biufUS")
    del data
    keys = {k.lower(): k for k in z}
    for xk, yk in (("x", "y"), ("data", "target"), ("features", "labels")):
        if xk in keys:
            X = z[keys[xk]]
            y = z[keys[yk]] if yk in keys else None
            if label is not None:
                raise UserError(f"{path} holds separate arrays {keys[xk]!r} and "
                                f"{keys.get(yk, yk)!r}: --label-column applies only to "
                                "a single 2-D table")
            break
    else:
        if len(z) != 1 or next(iter(z.values())).ndim != 2:
            raise UserError(f"{path} must hold arrays 'X' and 'y' or a single 2-D table; "
                            f"it holds {', '.join(z) or 'nothing'}")
        table = next(iter(z.values()))
        idx = _column_index(label, None, table.shape[1], path)
        if idx is None and need_label:
            idx = table.shape[1] - 1
        if idx is None:
            X, y = table, None
        else:
            X, y = np.delete(table, idx, axis=1), table[:, idx]
    if X.ndim == 0 or len(X) == 0:
        raise UserError(f"{path}: the features array is empty")
    if X.ndim != 2:
        X = X.reshape(len(X), -1)
    if X.dtype.kind not in "iufb":
        raise UserError(f"{path}: features must be numbers; got dtype {X.dtype}")
    if len(X) > max_rows:
        raise UserError(f"{path} has {len(X):,} rows, more than the limit of --max-rows "
                        f"({max_rows:,}); raise it to read more")
    if y is not None and (y.ndim != 1 or len(y) != len(X)):
        raise UserError(f"{path}: the labels must be one per row of the features; got shape "
                        f"{y.shape} for {len(X)} rows")
    X = np.asarray(X, dtype=np.float64)
    if X.shape[1] == 0:
        raise UserError(f"{path} has no feature columns")
    _non_finite_cell(X, 0, list(range(X.shape[1])), None, path)
    if y is not None and y.dtype.kind == "f":
        if not np.all(np.isfinite(y)):
            raise UserError(f"{path}: the labels contain NaN or infinity")
        if np.all(y == np.round(y)) and np.all(np.abs(y) < 2**63):
            y = y.astype(np.int64)
    if need_label and y is None:
        raise UserError(f"{path} has no labels: store an array 'y' (or a label column)")
    return X, y, None


def _read_file(path: str, label: Optional[str], need_label: bool,
               max_size: int = DEFAULT_MAX_SIZE, max_rows: int = DEFAULT_MAX_ROWS) -> tuple:
    """A CSV or NPZ file (by its name), or standard input for ``-`` (NPZ by its content)."""
    lower = path.lower()
    if lower.endswith(".npy"):
        raise UserError(f"{path}: unsupported file type; use .csv or .npz")
    data = _read_bytes(path, max_size)
    name = "standard input" if path == "-" else path
    if lower.endswith(".npz") or (path == "-" and data[:4] == b"PK\x03\x04"):
        return _read_npz(name, label, need_label, max_size, max_rows, data)
    return _read_csv(name, label, need_label, max_size, max_rows, data)


def _source_name(path: str) -> str:
    return "standard input" if path == "-" else os.path.basename(path)


def _split(X: np.ndarray, y: np.ndarray, test_fraction: float, seed: int):
    rng = np.random.default_rng(seed)
    idx = rng.permutation(len(X))
    n_test = int(round(len(X) * test_fraction))
    return X[idx[n_test:]], y[idx[n_test:]], X[idx[:n_test]], y[idx[:n_test]]


def _task(y: np.ndarray, requested: str) -> str:
    if requested != "auto":
        return requested
    return "regression" if y.dtype.kind == "f" else "classification"


# ---------------------------------------------------------------------------- models
def _scaling(X: np.ndarray, how: str, fixed: Optional[float]) -> tuple:
    """Return (shift, scale) per feature: the network sees (X - shift) / scale.

    ``how`` is 'standard' (z-scores), 'minmax' ([0, 1] per column), 'none', or
    'fixed' (divide everything by ``fixed``, e.g. 255 for pixels).
    """
    d = X.shape[1]
    if how == "none":
        return np.zeros(d), np.ones(d)
    if how == "fixed":
        return np.zeros(d), np.full(d, float(fixed))
    if how == "minmax":
        lo, hi = X.min(axis=0), X.max(axis=0)
        return lo, np.where(hi > lo, hi - lo, 1.0)
    mu, sd = X.mean(axis=0), X.std(axis=0)
    return mu, np.where(sd > 0, sd, 1.0)


def _fold_scaling(net: Any, shift: np.ndarray, scale: np.ndarray) -> None:
    """Make net take raw inputs: z = ((x - shift) / scale) W + b = x W' + b'."""
    coefs = [np.asarray(w, dtype=np.float64) for w in net.coefs_]
    biases = [np.asarray(b, dtype=np.float64) for b in net.intercepts_]
    w0 = coefs[0] / scale[:, None]
    biases[0] = biases[0] - shift @ w0
    coefs[0] = w0
    net.set_parameters(coefs, biases)


def _save_model(net: Any, path: str) -> str:
    """Save net to path (``.npz`` appended when missing); return the path written."""
    try:
        from fastmlp import io as fio
    except ImportError:
        fio = None
    saver = getattr(fio, "save", None) or getattr(net, "save", None)
    if saver is None:
        raise UserError("this fastmlp build cannot save models (fastmlp.io is missing); "
                        "leave out --output")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise UserError(f"--output: directory {parent} does not exist")
    with _reported(OSError, ValueError, prefix=f"cannot save the model to {path}: "):
        written = saver(net, path) if saver is getattr(fio, "save", None) else saver(path)
    return written if isinstance(written, str) else path


def _load_model(path: str) -> Any:
    if not os.path.exists(path):
        raise UserError(f"model file not found: {path}")
    try:
        from fastmlp import io as fio
    except ImportError:
        raise UserError("this fastmlp build cannot load models (fastmlp.io is missing)") from None
    with _reported(OSError, ValueError, KeyError, TypeError,
                   prefix=f"cannot load a model from {path}: "):
        return fio.load(path)


def _check_width(net: Any, X: np.ndarray, where: str) -> None:
    if X.shape[1] != net.layers[0]:
        raise UserError(f"{where} has {X.shape[1]} feature columns but the model takes "
                        f"{net.layers[0]} inputs (give --label-column if a column holds labels)")


def _metrics_line(m: dict) -> str:
    if "accuracy" in m:
        return (f"accuracy {m['accuracy']:.2%} (error rate {m['error_rate']:.2%}), "
                f"loss {m['loss']:.4f}")
    return f"mse {m['mse']:.6g}, mae {m['mae']:.6g}, loss {m['loss']:.6g}"


# ---------------------------------------------------------------------------- commands
def _train_data(args: argparse.Namespace) -> tuple:
    """Return (Xtr, ytr, Xte, yte, task, default scaling, fixed scale, source name)."""
    if args.data is not None:
        X, y, _ = _read_file(args.data, args.label_column, need_label=True, **_limits(args))
        Xtr, ytr, Xte, yte = _split(X, y, args.test_split, args.seed)
        return Xtr, ytr, Xte, yte, _task(y, args.task), "standard", None, \
            _source_name(args.data)
    if args.label_column is not None:
        raise UserError("--label-column needs --data FILE")
    name = _dataset_name(args.dataset)
    Xtr, ytr, Xte, yte, task = _load_named(name, args)
    if Xte is None:
        Xtr, ytr, Xte, yte = _split(Xtr, ytr, args.test_split, args.seed)
    fixed = DATASETS[name]
    task = task if args.task == "auto" else args.task
    return Xtr, ytr, Xte, yte, task, "none" if fixed is None else "fixed", fixed, name


def _targets(task: str, ytr: np.ndarray, yte: np.ndarray, source: str) -> tuple:
    """Return (ytr, yte, n_outputs) for the task."""
    if task == "regression":
        if ytr.dtype.kind not in "iuf":
            raise UserError(f"--task regression needs numeric labels; {source}'s are text")
        return ytr.astype(np.float64), yte.astype(np.float64), 1
    if ytr.dtype.kind == "f":
        if not np.all(ytr == np.round(ytr)):
            raise UserError(f"{source}: the labels are real values, not classes; use "
                            "--task regression")
        ytr, yte = ytr.astype(np.int64), yte.astype(np.int64)
    return ytr, yte, max(len(np.unique(ytr)), 2)


def _hidden_widths(spec: str) -> list:
    """The widths of ``--hidden SPEC``, checked by the library's layer parser; a mistake is
    reported with SPEC as typed (not the stand-in input/output widths parsed around it)."""
    from fastmlp.mlp import parse_layers

    expected = "expected the hidden-layer widths as positive ints joined by '-', e.g. 64 or 128-64"
    if not spec.strip():
        raise UserError(f"--hidden is empty; {expected} (for a network without a hidden layer "
                        "give all the widths with --layers, e.g. --layers 64-10)")
    try:
        return parse_layers(f"1-{spec}-1")[1:-1]  # 1 stands in for the data's widths
    except ValueError:
        pass
    try:  # well-formed but too deep? then the library's own reason
        parse_layers([1] * (len(spec.replace(",", "-").split("-")) + 2))
    except ValueError as exc:
        raise UserError(f"--hidden {spec!r}: {_one_line(str(exc))}") from None
    raise UserError(f"--hidden {spec!r}: {expected}")


def _layer_spec(args: argparse.Namespace) -> tuple:
    """Check --layers/--hidden before any data is read; return (layers or None, hidden or None)."""
    from fastmlp.mlp import parse_layers

    if args.layers is not None and args.hidden is not None:
        raise UserError("give --layers or --hidden, not both")
    if args.layers is None:
        from fastmlp.mlp import DEFAULT_HIDDEN

        default = "-".join(map(str, DEFAULT_HIDDEN))
        return None, _hidden_widths(default if args.hidden is None else args.hidden)
    if not args.layers.strip():
        raise UserError("--layers is empty; expected all the widths joined by '-', e.g. 64-64-10")
    with _reported(ValueError, prefix="--layers: "):
        return parse_layers(args.layers), None


def _layers(args: argparse.Namespace, spec: tuple, n_in: int, n_out: int, source: str) -> list:
    """The network's widths: --layers checked against the data, or --hidden between its widths."""
    layers, hidden = spec
    if layers is None:
        return [n_in, *hidden, n_out]
    if layers[0] != n_in or layers[-1] != n_out:
        raise UserError(f"--layers {args.layers} must start with the {n_in} inputs of {source} "
                        f"and end with its {n_out} outputs (e.g. {n_in}-64-{n_out}), or give "
                        "only the hidden widths with --hidden 64")
    return layers


def _check(flag: str, check: Any, *check_args: Any) -> Any:
    """Run one of the library's checks; its ValueError becomes a UserError naming ``flag``."""
    with _reported(ValueError, prefix=f"{flag}: "):
        return check(*check_args)


def _check_fraction(flag: str, value: float) -> None:
    # fit's validation_split check sits inside MLP._fit_data, with no function to call
    # before the data is loaded; the library's Interval states the same range [0, 1)
    from fastmlp._validation import Interval

    fraction = Interval(numbers.Real, 0, 1, closed="left")
    if value not in fraction:
        raise UserError(f"{flag} must be {fraction}; got {value}")


def _check_common(args: argparse.Namespace) -> None:
    """--threads and --seed, checked the library's way (train and demo)."""
    import fastmlp
    from fastmlp._validation import resolve_threads

    if args.threads is not None:
        try:
            resolve_threads(args.threads, fastmlp.max_threads())
        except ValueError:
            raise UserError(f"--threads must be a positive count, or negative to count back from "
                            f"all CPUs (-1: all of them); got {args.threads}") from None
    _check("--seed", np.random.default_rng, args.seed)  # it seeds every generator used


def _train_options(args: argparse.Namespace) -> dict:
    """Check train's options with the library's own validation, before any data is read (so a
    slip costs no MNIST load); return the optimizer settings and the layer spec."""
    from fastmlp import _backend as B
    from fastmlp._validation import (check_dropout, check_nonneg_float, check_norm,
                                     check_positive_int)
    from fastmlp.optim import get_optimizer

    from fastmlp.optim import as_lbfgs

    if as_lbfgs(args.optimizer) is not None:
        opt = "lbfgs"
    else:
        with _reported(ValueError, prefix="--optimizer: "):
            try:
                opt = B.canonical(args.optimizer, B.OPTIMIZERS, {}, "optimizer")
            except ValueError as exc:  # the full-batch optimizer is not in the kernel table
                raise ValueError(f"{exc}, or 'lbfgs'") from None
    lr, momentum = args.lr, args.momentum  # None: MLP.fit's defaults, the same as in Python
    with _reported(ValueError):  # the checks MLP.fit makes (fastmlp._fit.run_fit), named as typed
        if args.epochs is not None:
            check_positive_int(args.epochs, "--epochs")
        if args.leaky_slope is not None:
            check_nonneg_float(args.leaky_slope, "--leaky-slope")
        check_positive_int(args.batch_size, "--batch-size")
        check_nonneg_float(args.l2, "--l2")
        if lr is not None:
            check_nonneg_float(lr, "--lr", positive=True)
        if momentum is not None:
            check_nonneg_float(momentum, "--momentum")
    if opt != "lbfgs":
        _check("--momentum" if args.momentum is not None else "--lr", get_optimizer, opt, lr,
               momentum or None)  # the optimizer's own ranges and combinations
    _check_fraction("--validation-split", args.validation_split)
    _check_fraction("--test-split", args.test_split)
    _check_common(args)
    spec = _layer_spec(args)
    n_hidden = len(spec[0]) - 2 if spec[0] is not None else len(spec[1])
    dropout = _check("--dropout", check_dropout, args.dropout, n_hidden)
    norms = _check("--norm", check_norm, args.norm, n_hidden)
    extra = _new_train_options(args, opt, dropout, norms)
    _check_output_path("--output", args.output)
    _check_output_path("--plot", args.plot)
    if args.plot:  # before training, not after it
        from fastmlp import plotting

        with _reported(ImportError, prefix="--plot: "):
            plotting._matplotlib()
    return {"optimizer": opt, "lr": lr, "momentum": momentum, "spec": spec, **extra}


def _quantile_levels(text: str) -> Any:
    """--quantile: one level, or one per output joined by commas."""
    parts = [part.strip() for part in text.split(",")]
    try:
        levels = [float(part) for part in parts]
    except ValueError:
        raise UserError(f"--quantile: expected a level in (0, 1), or one per output joined by "
                        f"commas (e.g. 0.1,0.5,0.9); got {text!r}") from None
    return levels[0] if len(levels) == 1 else levels


def _new_train_options(args: argparse.Namespace, opt: str, dropout: list, norms: list) -> dict:
    """--init, --lr-schedule, --clip-grad-norm/-value, --huber-delta, --quantile and
    --compute-dtype, checked by the library's own validation (before any data is read);
    return MLP's and fit's keywords for them (only those given: the library's defaults
    otherwise)."""
    from types import SimpleNamespace

    from fastmlp._validation import (check_clip, check_compute_dtype, check_nonneg_float,
                                     check_quantile)
    from fastmlp.initializers import check_init
    from fastmlp.schedules import get_schedule

    model_kw: dict = {}
    fit_kw: dict = {}
    if args.init is not None:
        model_kw["init"] = _check("--init", check_init, args.init)
    if args.compute_dtype is not None:
        model_kw["compute_dtype"] = _check("--compute-dtype", check_compute_dtype,
                                           args.compute_dtype, np.dtype(args.dtype))
    loss = (args.loss or "").lower()
    if args.huber_delta is not None:
        if loss != "huber":
            raise UserError("--huber-delta applies to --loss huber")
        model_kw["huber_delta"] = _check("--huber-delta", check_nonneg_float, args.huber_delta,
                                         "huber_delta", True)
    if args.quantile is not None:
        if loss != "quantile":
            raise UserError("--quantile applies to --loss quantile")
        model_kw["quantile"] = _check("--quantile", check_quantile,
                                      _quantile_levels(args.quantile))
    if args.lr_schedule is not None:
        _check("--lr-schedule", get_schedule, args.lr_schedule)
        fit_kw["lr_schedule"] = args.lr_schedule
    if args.clip_grad_norm is not None:
        _check("--clip-grad-norm", check_clip, args.clip_grad_norm, None)
    if args.clip_grad_value is not None:
        _check("--clip-grad-value", check_clip, None, args.clip_grad_value)
    if args.clip_grad_norm is not None and args.clip_grad_value is not None:
        raise UserError("give --clip-grad-norm or --clip-grad-value, not both")
    if args.clip_grad_norm is not None:
        fit_kw["clip_grad_norm"] = args.clip_grad_norm
    if args.clip_grad_value is not None:
        fit_kw["clip_grad_value"] = args.clip_grad_value
    if opt == "lbfgs":  # what fit(optimizer='lbfgs') refuses, said in the options' names
        from fastmlp import _lbfgs

        if args.clip_grad_norm is not None or args.clip_grad_value is not None:
            raise UserError("--clip-grad-norm and --clip-grad-value apply to the stochastic "
                            "optimizers, not --optimizer lbfgs")
        for flag, given in (("--lr", args.lr), ("--momentum", args.momentum),
                            ("--lr-schedule", args.lr_schedule)):
            if given is not None:
                raise UserError(f"--optimizer lbfgs takes no {flag} (L-BFGS chooses its steps "
                                "by a line search); leave it out")
        shape = SimpleNamespace(norms=norms, dropout=dropout, input_noise=0.0)
        with _reported(ValueError, prefix="--optimizer lbfgs: "):
            _lbfgs.check_mlp_fit(shape, learning_rate=None, momentum=None, nesterov=None,
                                 lr_schedule=None, l1=0.0)
        with _reported(ImportError, prefix="--optimizer lbfgs: "):
            _lbfgs.require_scipy()
    return {"model_kw": model_kw, "fit_kw": fit_kw}


def _available_memory() -> Optional[int]:
    """Bytes of memory available to a new allocation (Linux MemAvailable), else the
    physical memory, else None (unknown: no check)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def _check_network_size(args: argparse.Namespace, layers: list, n_rows: int) -> None:
    """Refuse, before allocating, a network whose training would not fit in memory: the
    weights, their gradient, up to three optimizer buffers and a snapshot, and a batch's
    activations and deltas."""
    n_params = sum((i + 1) * o for i, o in zip(layers[:-1], layers[1:]))
    item = np.dtype(args.dtype).itemsize
    need = item * (6 * n_params + 4 * min(args.batch_size, max(n_rows, 1)) * sum(layers))
    avail = _available_memory()
    if n_params >= 2**40 or (avail is not None and need > avail):
        flag = f"--layers {args.layers}" if args.layers is not None else (
            f"--hidden {args.hidden or '-'.join(map(str, _default_hidden()))}")
        raise UserError(f"{flag}: a {'-'.join(map(str, layers))} network has {n_params:,} "
                        f"parameters; training it needs about {_human(need)} of memory and "
                        + (f"{_human(avail)} is available" if avail is not None else
                           "that is more than any machine has") + "; use smaller layers")


def _report_interrupt(args: argparse.Namespace, net: Any, shift: np.ndarray,
                      scale: np.ndarray, epochs: int) -> int:
    """Ctrl-C during training: one line on stderr, exit status 130; the model (of the last
    completed step) is saved only with --save-on-interrupt."""
    done = len(net.history_.get("loss", []))
    line = f"fastmlp: interrupted after {done} of {epochs} epochs"
    if args.output and args.save_on_interrupt:
        _fold_scaling(net, shift, scale)
        _save_model(net, args.output)
        line += f"; the model of the last completed step was saved to {args.output}"
    elif args.output:
        line += f"; {args.output} not written (add --save-on-interrupt to save the partial model)"
    print(line, file=sys.stderr, flush=True)
    return 130


def _check_output_path(flag: str, path: Optional[str]) -> None:
    """--output and --plot: the directory a file goes in must exist (checked before training)."""
    if path is None:
        return
    if not path.strip():
        raise UserError(f"{flag} is empty; give a file name or an existing directory")
    if os.path.isdir(path):
        return  # the file goes inside, under a default name (see _output_file)
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise UserError(f"{flag}: directory {parent} does not exist")


def _default_hidden() -> tuple:
    from fastmlp.mlp import DEFAULT_HIDDEN

    return DEFAULT_HIDDEN


def _output_file(path: str, default_name: str) -> str:
    """``path``, or ``path/default_name`` when ``path`` is an existing directory."""
    return os.path.join(path, default_name) if os.path.isdir(path) else path


def cmd_train(args: argparse.Namespace) -> int:
    from fastmlp import MLP
    from fastmlp.mlp import default_epochs

    if args.save_on_interrupt and not args.output:
        raise UserError("--save-on-interrupt needs --output MODEL (where to save)")
    opts = _train_options(args)
    opt, lr, momentum = opts["optimizer"], opts["lr"], opts["momentum"]
    args.announce_loading = not args.quiet
    t_load = time.perf_counter()
    Xtr, ytr, Xte, yte, task, how, fixed, source = _train_data(args)
    t_load = time.perf_counter() - t_load
    if args.output:  # a directory gets SOURCE.npz: every later save writes there
        args.output = _output_file(args.output, f"{source}.npz")
    ytr, yte, n_out = _targets(task, ytr, yte, source)
    layers = _layers(args, opts["spec"], Xtr.shape[1], n_out, source)
    loss = args.loss if args.loss != "auto" else ("mse" if task == "regression" else "auto")
    _check_network_size(args, layers, len(Xtr))
    if "quantile" in opts["model_kw"]:  # one level per output, now the outputs are known
        from fastmlp._validation import check_quantile

        _check("--quantile", check_quantile, opts["model_kw"]["quantile"], layers[-1])
    with _reported(ValueError):
        net = MLP(layers, activation=args.activation, output_activation=args.output_activation,
                  loss=loss, seed=args.seed, n_threads=args.threads, dtype=args.dtype,
                  dropout=args.dropout, leaky_slope=args.leaky_slope, norm=args.norm,
                  **opts["model_kw"])
    t_scale = time.perf_counter()
    shift, scale = _scaling(Xtr, how if args.scale == "auto" else args.scale, fixed)
    # in the network's dtype, in place: uint8 pixels minus a float64 row broadcast take
    # numpy's slow casting loop (about 16 s for MNIST's 60,000 rows on the 2-core machine)
    Xfit = np.array(Xtr, dtype=args.dtype)
    Xfit -= shift.astype(args.dtype)
    Xfit /= scale.astype(args.dtype)
    t_scale = time.perf_counter() - t_scale
    n_fit = len(Xtr) - int(round(len(Xtr) * args.validation_split))
    epochs = args.epochs if args.epochs is not None else default_epochs(n_fit, args.batch_size)
    # L-BFGS takes --epochs as its iteration limit and may stop sooner (converged)
    planned = f"at most {epochs} iterations" if opt == "lbfgs" else f"{epochs} epochs"
    print(f"fastmlp: {source}: {len(Xtr)} training / {len(Xte)} test samples; network "
          f"{'-'.join(map(str, net.layers))} ({net.n_params:,} parameters); {opt}, {planned} "
          f"(data loaded in {t_load:.2f} s, scaled in {t_scale:.2f} s)", flush=True)
    t0 = time.perf_counter()
    interrupted = False
    with _reported(ValueError, FloatingPointError), warnings.catch_warnings():
        # Ctrl-C: fit keeps the last completed step; this command reports it (below)
        warnings.filterwarnings("ignore", "training interrupted", RuntimeWarning)
        try:
            net.fit(Xfit, ytr, epochs=epochs, batch_size=args.batch_size,
                    learning_rate=lr, optimizer=opt, momentum=momentum,
                    l2=args.l2, validation_split=args.validation_split,
                    verbose=0 if args.quiet else 1, **opts["fit_kw"])
        except KeyboardInterrupt:
            interrupted = True
    if interrupted or getattr(net, "interrupted_", False):
        return _report_interrupt(args, net, shift, scale, epochs)
    dt = time.perf_counter() - t0
    done = (f"{len(net.history_.get('loss', []))} iterations" if opt == "lbfgs"
            else f"{epochs} epochs")
    _fold_scaling(net, shift, scale)
    if len(Xte):
        with _reported(ValueError):
            m = net.evaluate(Xte, yte)
        if "accuracy" in m:
            print(f"test accuracy {m['accuracy']:.2%} (error rate {m['error_rate']:.2%}) after "
                  f"{done}; training took {dt:.2f} s", flush=True)
        else:
            print(f"test {_metrics_line(m)} after {done}; training took {dt:.2f} s",
                  flush=True)
    else:
        print(f"trained {done} in {dt:.2f} s (no test split)", flush=True)
    if args.output:  # saved first: a failed figure must not cost the model
        written = _save_model(net, _output_file(args.output, f"{source}.npz"))
        print(f"model saved to {written} (it takes raw, unscaled inputs)")
    if args.plot:
        from fastmlp import plotting

        path = _output_file(args.plot, f"{source}-history.png")
        with _reported(ImportError, OSError, ValueError, prefix=f"cannot write {path}: "):
            plotting.plot_history(net, path, title=f"{'-'.join(map(str, net.layers))} on "
                                                   f"{source}")
        print(f"curves written to {path}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Write a saved model (fastmlp.MLP or QuantizedMLP file) as ONNX or C, optionally
    quantised first."""
    from fastmlp import export
    from fastmlp.quantize import _PRECISION_ALIASES, PRECISIONS, QuantizedMLP

    if (args.onnx is None) == (args.c is None):
        raise UserError("give exactly one of --onnx OUT.onnx or --c OUT.c")
    if args.name is not None and args.c is None:
        raise UserError("--name applies to --c (the prefix of the C symbols)")
    flag, out = ("--onnx", args.onnx) if args.onnx is not None else ("--c", args.c)
    _check_output_path(flag, out)
    if os.path.isdir(out):
        raise UserError(f"{flag}: {out} is a directory; give a file name")
    if args.c is not None:
        name = "model" if args.name is None else args.name
        if not out.endswith(".c"):
            raise UserError(f"--c: the C source file must end in .c; got {out!r}")
        if not export._C_IDENT.match(name) or name in export._C_KEYWORDS:  # export_c's rule
            raise UserError(f"--name must be a C identifier (letters, digits, '_', not a C "
                            f"keyword); got {name!r}")
    if args.quantize is not None and _PRECISION_ALIASES.get(args.quantize,
                                                            args.quantize) not in PRECISIONS:
        raise UserError(f"--quantize must be one of {', '.join(PRECISIONS)}; got "
                        f"{args.quantize!r}")
    if args.onnx is not None:
        try:
            export._onnx()
        except ImportError:
            raise UserError('--onnx needs the optional onnx package: pip install '
                            '"fastmlp[onnx]"') from None
    net = _load_model(args.model)
    if args.quantize is not None:
        if isinstance(net, QuantizedMLP):
            raise UserError(f"{args.model} holds an already quantised model "
                            f"({net.precision}); leave out --quantize")
        with _reported(ValueError, prefix="--quantize: "):
            net = net.quantize(args.quantize)
    with _reported(ValueError, TypeError, OSError, prefix=f"cannot export {args.model}: "):
        if args.onnx is not None:
            export.to_onnx(net, out)
            written = [out]
        else:
            written = list(export.export_c(net, out, name))
    kind = f"{net.precision} " if isinstance(net, QuantizedMLP) else ""
    print(f"fastmlp: {kind}model {args.model} written to {' and '.join(written)}")
    return 0


def _eval_data(args: argparse.Namespace) -> tuple:
    if (args.data is None) == (args.dataset is None):
        raise UserError("give exactly one of --data FILE or --dataset NAME")
    if args.data is not None:
        X, y, _ = _read_file(args.data, args.label_column, need_label=True, **_limits(args))
        return X, y, _source_name(args.data)
    name = _dataset_name(args.dataset)
    Xtr, ytr, Xte, yte, _ = _load_named(name, args)
    if Xte is None or args.split == "train":
        return Xtr, ytr, f"{name} ({'train' if Xte is not None else 'all'})"
    return Xte, yte, f"{name} (test)"


def cmd_evaluate(args: argparse.Namespace) -> int:
    _check("--seed", np.random.default_rng, args.seed)  # it seeds the generated datasets
    net = _load_model(args.model)
    X, y, source = _eval_data(args)
    _check_width(net, X, source)
    if not hasattr(net, "evaluate"):  # a QuantizedMLP file: inference only, no loss
        print(f"{args.model} ({net.precision}) on {source}, {len(X)} samples: "
              f"{_quantized_metrics_line(net, X, y)}")
        return 0
    with _reported(ValueError):
        m = net.evaluate(X, y)
    print(f"{args.model} on {source}, {len(X)} samples: {_metrics_line(m)}")
    return 0


def _quantized_metrics_line(net: Any, X: np.ndarray, y: np.ndarray) -> str:
    """Accuracy (classifiers) or mse/mae of a QuantizedMLP, which has no loss to report."""
    with _reported(ValueError, TypeError):
        if net._is_classifier():
            acc = net.score(X, y)
            return f"accuracy {acc:.2%} (error rate {1 - acc:.2%})"
        P = np.asarray(net.predict(X), dtype=np.float64).reshape(len(X), -1)
        Y = np.asarray(y, dtype=np.float64).reshape(len(X), -1)
    return f"mse {np.mean((P - Y) ** 2):.6g}, mae {np.mean(np.abs(P - Y)):.6g}"


def cmd_predict(args: argparse.Namespace) -> int:
    net = _load_model(args.model)
    X, _, _ = _read_file(args.data, args.label_column, need_label=False, **_limits(args))
    _check_width(net, X, args.data)
    with _reported(ValueError):
        if args.proba:
            out = net.predict_proba(X)
            classes = getattr(net, "classes_", None)
            header = [str(c) for c in (classes if classes is not None else range(out.shape[1]))]
            lines = [",".join(header)] + [",".join(f"{v:.6g}" for v in row) for row in out]
        else:
            pred = np.asarray(net.predict(X))
            lines = [",".join(f"{v:.6g}" for v in np.atleast_1d(row)) if pred.dtype.kind == "f"
                     else str(row) for row in pred]
    text = "\n".join(lines) + "\n"
    if args.output:
        try:
            with open(args.output, "w") as f:
                f.write(text)
        except OSError as exc:
            raise UserError(f"cannot write {args.output}: {exc.strerror}") from None
        print(f"{len(X)} predictions written to {args.output}")
    else:
        sys.stdout.write(text)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from fastmlp.cli import demos

    if args.name == "list":
        for name, fn in demos.DEMOS.items():
            doc = (fn.__doc__ or "").strip().splitlines()[0]
            print(f"  {name:<15} {doc}")
        return 0
    names = list(demos.DEMOS) if args.name == "all" else [args.name]
    if names[0] not in demos.DEMOS:
        raise UserError(f"unknown demo {args.name!r}; expected one of "
                        f"{', '.join(demos.DEMOS)}, all or list")
    from fastmlp._validation import check_positive_int

    for key in ("epochs", "n_train", "n_test", "n_samples"):
        with _reported(ValueError):
            check_positive_int(getattr(args, key), "--" + key.replace("_", "-"), allow_none=True)
    _check_common(args)
    failed = 0
    for name in names:
        kwargs: dict = {"out_dir": None if args.no_figures else args.out, "seed": args.seed,
                        "verbose": 0 if args.quiet else 1}
        fn = demos.DEMOS[name]
        params = inspect.signature(fn).parameters
        for key in ("epochs", "threads", "n_train", "n_test", "n_samples", "data_path"):
            value = getattr(args, key, None)
            if value is not None and key in params:
                kwargs[key] = value
        if "peers" in params:
            kwargs["peers"] = not args.no_peers
        if "download" in params:
            kwargs["download"] = args.download
        with _dataset_errors():
            res = fn(**kwargs)
        print(res.summary(), flush=True)
        failed += res.met is False
    return 1 if failed else 0


def _bench_harness():
    """Import ``benchmarks.harness`` from a source checkout (it is not installed).

    The checkout is the one this package was built in (an in-place or editable
    install), else the current directory or one of its parents.
    """
    import importlib
    import pathlib

    here = pathlib.Path(__file__).resolve().parents[2]
    cwd = pathlib.Path.cwd().resolve()
    for root in (here, cwd, *cwd.parents):
        if (root / "benchmarks" / "harness.py").is_file():
            if str(root) not in sys.path:
                sys.path.append(str(root))  # appended: an installed fastmlp still wins
            return importlib.import_module("benchmarks.harness")
    raise UserError("fastmlp bench runs the harness in benchmarks/ of a source checkout: "
                    "clone the repository and run it there (`fastmlp bench` or "
                    "`python -m benchmarks.compare`)")


def cmd_bench(argv: Sequence[str]) -> int:
    try:
        bench = _bench_harness()
    except ImportError as exc:  # an optional dependency of the benchmark itself
        raise UserError(f"fastmlp bench could not start: {exc}") from None
    return int(bench.main(list(argv)) or 0)


def _blas_threads() -> list:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        env = {k: os.environ[k] for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                            "MKL_NUM_THREADS") if k in os.environ}
        return [f"threadpoolctl not installed; environment: {env or 'no thread variables set'}"]
    rows = []
    for p in threadpool_info():
        lib = os.path.basename(p.get("filepath", "")) or p.get("prefix", "?")
        rows.append(f"{p.get('user_api')}/{p.get('internal_api')}: {p.get('num_threads')} threads "
                    f"({lib})")
    return rows or ["none loaded"]


def cmd_info(args: argparse.Namespace) -> int:
    import fastmlp

    print(f"fastmlp {fastmlp.__version__} ({os.path.dirname(fastmlp.__file__)})")
    forced = os.environ.get("FASTMLP_ARCH")
    print(f"SIMD path: {fastmlp.simd_target()} (available: "
          f"{', '.join(fastmlp.available_targets())}"
          f"{'; FASTMLP_ARCH=' + forced if forced else ''})")
    print(f"OpenMP: {'yes' if fastmlp.openmp_enabled() else 'no'}; "
          f"threads: {fastmlp.max_threads()} (CPUs: {os.cpu_count()}); "
          f"wait policy: {_omp_policy.wait_policy()}")
    from fastmlp import _core

    spin = _core.team_spin_us()
    print("thread team (multi-threaded training and inference): "
          + (f"workers spin {spin} us between tasks, then sleep (FASTMLP_SPIN_US)"
             if spin >= 0 else "not in this build (each kernel call opens its own OpenMP region)"))
    print(f"NumPy {np.__version__}; BLAS thread pools seen:")
    for row in _blas_threads():
        print(f"  {row}")
    return 0


# ---------------------------------------------------------------------------- parser
def _add_data_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-path", default=None, metavar="DIR",
                   help="directory with the MNIST/Fashion-MNIST files (default: $FASTMLP_DATA "
                        "or the cache)")
    p.add_argument("--download", action="store_true",
                   help="download MNIST/Fashion-MNIST into the cache when not found")


def _add_limit_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--max-size", type=_size, default=DEFAULT_MAX_SIZE, metavar="SIZE",
                   help="largest data file read, e.g. 500M or 4G (default 1G)")
    p.add_argument("--max-rows", type=_count, default=DEFAULT_MAX_ROWS, metavar="N",
                   help=f"most data rows read (default {DEFAULT_MAX_ROWS:,})")


def _examples(*lines: str) -> str:
    """An epilog listing example command lines."""
    return "examples:\n" + "\n".join("  " + line for line in lines)


#: the subcommands that apply a saved model: name -> (help, description, examples,
#: --data's help, whether --data is required, --label-column's help)
_MODEL_COMMANDS = {
    "evaluate": ("score a saved model on a file or dataset",
                 "Print the loss and accuracy (or mse/mae) of a saved model.",
                 ["fastmlp evaluate model.npz --data test.csv --label-column label",
                  "fastmlp evaluate mnist.npz --dataset mnist"],
                 "a CSV or NPZ file with labels", False, "label column of --data (default: last)"),
    "predict": ("predict labels (or values) for a file",
                "Write one prediction per row of a CSV/NPZ file.",
                ["fastmlp predict model.npz --data new.csv",
                 "fastmlp predict model.npz --data new.csv --proba -o probs.csv"],
                "a CSV or NPZ file", True, "a column to leave out (e.g. labels present in the file)"),
}


def _model_command(sub: Any, name: str, func: Any) -> argparse.ArgumentParser:
    """A subcommand that applies a saved model (positional MODEL) to --data FILE
    (its texts in :data:`_MODEL_COMMANDS`)."""
    help, description, examples, data_help, data_required, label_help = _MODEL_COMMANDS[name]
    p = sub.add_parser(name, help=help, description=description, epilog=_examples(*examples),
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="a model saved by fastmlp train --output")
    p.add_argument("--data", required=data_required, default=None, metavar="FILE",
                   help=data_help)
    p.add_argument("--label-column", default=None, metavar="COL", help=label_help)
    _add_limit_options(p)
    p.set_defaults(func=func)
    return p


def build_parser() -> argparse.ArgumentParser:
    from fastmlp import __version__

    p = _Parser(prog="fastmlp", description="Fast perceptrons and MLPs on the CPU.",
                epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"fastmlp {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    fmt = argparse.RawDescriptionHelpFormatter

    t = sub.add_parser("train", help="train a network and report its test accuracy",
                       description="Train an MLP on a dataset or a CSV/NPZ file; report test "
                                   "metrics; optionally save the model.",
                       epilog=TRAIN_EXAMPLES, formatter_class=fmt)
    src = t.add_mutually_exclusive_group()
    src.add_argument("--dataset", default="digits",
                     help="dataset name: digits (default), mnist, fashion-mnist, spirals, xor, "
                          "sine")
    src.add_argument("--data", default=None, metavar="FILE",
                     help="a CSV or NPZ file, or - for standard input")
    t.add_argument("--label-column", default=None, metavar="COL",
                   help="label column of --data: a header name or 0-based index (default: last)")
    t.add_argument("--task", default="auto", choices=("auto", "classification", "regression"),
                   help="auto: integer or text labels classify, real values regress")
    t.add_argument("--layers", default=None, help="all widths, e.g. 64-64-10")
    t.add_argument("--hidden", default=None,
                   help="hidden widths only, e.g. 128-64 (inputs and outputs from the data; "
                        "default 128-128)")
    t.add_argument("--activation", default="relu",
                   help="hidden activation: relu, sigmoid, tanh, leaky_relu, identity, step, "
                        "gelu, gelu_tanh, silu, elu, selu, softplus")
    t.add_argument("--output-activation", default=None,
                   help="e.g. sigmoid (default: from the loss)")
    t.add_argument("--loss", default="auto",
                   help="auto, cce, bce, mse, mae, quadratic, huber or quantile")
    t.add_argument("--huber-delta", type=float, default=None, metavar="DELTA",
                   help="--loss huber: where the loss turns from quadratic to linear "
                        "(default 1.0)")
    t.add_argument("--quantile", default=None, metavar="Q",
                   help="--loss quantile: the level in (0, 1), or one per output joined by "
                        "commas (default 0.5)")
    t.add_argument("--init", default=None,
                   help="weight initialisation (default: the library's, as MLP(init=...)): "
                        "sklearn, auto, he_uniform, glorot_uniform, normal, lecun_normal or "
                        "orthogonal")
    t.add_argument("--leaky-slope", type=float, default=None,
                   help="negative-side slope of leaky_relu (default 0.01)")
    t.add_argument("--optimizer", default="adam",
                   help="adam (default), adamw, sgd, rmsprop, adagrad, or lbfgs (full batch; "
                        "--epochs is then its iteration limit)")
    t.add_argument("--lr", "--learning-rate", dest="lr", type=float, default=None,
                   help="learning rate (default: the optimizer's, 1e-3 for adam, 0.01 for sgd)")
    t.add_argument("--momentum", type=float, default=None,
                   help="momentum of sgd or rmsprop (default 0)")
    t.add_argument("--lr-schedule", default=None, metavar="NAME",
                   help="learning-rate schedule with its defaults: constant, step, "
                        "exponential, invscaling, plateau, one_cycle, cosine or linear")
    t.add_argument("--clip-grad-norm", type=float, default=None, metavar="MAX",
                   help="clip the gradient's global L2 norm to MAX")
    t.add_argument("--clip-grad-value", type=float, default=None, metavar="MAX",
                   help="clip each gradient entry to [-MAX, MAX]")
    t.add_argument("--l2", type=float, default=0.0, help="L2 penalty on the weights")
    t.add_argument("--dropout", type=float, default=0.0, help="dropout rate after hidden layers")
    t.add_argument("--norm", default=None, choices=("batch", "layer"),
                   help="batch or layer normalisation before each hidden activation")
    t.add_argument("--epochs", type=int, default=None,
                   help="default: enough for about 5,000 steps, 10 to 200 (MLP.fit's rule)")
    t.add_argument("--batch-size", type=int, default=32)
    t.add_argument("--threads", type=int, default=None, help="kernel threads (default: all CPUs)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    t.add_argument("--compute-dtype", default=None, metavar="DTYPE",
                   help="bfloat16: products in bf16 with float32 master weights "
                        "(default: --dtype)")
    t.add_argument("--validation-split", type=float, default=0.1,
                   help="fraction of the training data held out per epoch (default 0.1)")
    t.add_argument("--test-split", type=float, default=0.2,
                   help="test fraction for data without a test set (default 0.2)")
    t.add_argument("--scale", default="auto", choices=("auto", "standard", "minmax", "none"),
                   help="input scaling; auto: /16 for digits, /255 for images, none for the "
                        "generated sets, z-scores for files. It is folded into the saved model.")
    t.add_argument("--output", "-o", default=None, metavar="MODEL",
                   help="save the model here (.npz added); a directory gets DATASET.npz")
    t.add_argument("--save-on-interrupt", action="store_true",
                   help="on Ctrl-C, still save the model of the last completed step to --output "
                        "(by default an interrupted training saves nothing)")
    _add_limit_options(t)
    t.add_argument("--plot", default=None, metavar="PNG",
                   help="write loss/accuracy curves (needs matplotlib; checked before "
                        "training); a directory gets DATASET-history.png")
    t.add_argument("--quiet", "-q", action="store_true", help="no per-epoch progress")
    _add_data_options(t)
    t.set_defaults(func=cmd_train)

    e = _model_command(sub, "evaluate", cmd_evaluate)
    e.add_argument("--dataset", default=None, help="or a dataset name")
    e.add_argument("--split", default="test", choices=("test", "train"),
                   help="split of --dataset (default: test)")
    e.add_argument("--seed", type=int, default=0, help="seed of generated datasets")
    _add_data_options(e)

    r = _model_command(sub, "predict", cmd_predict)
    r.add_argument("--proba", action="store_true", help="class probabilities instead of labels")
    r.add_argument("--output", "-o", default=None, help="write here instead of stdout")

    d = sub.add_parser("demo", help="run a seed demo (fastmlp demo list)",
                       description="Run a demo: it prints what it measured against the published "
                                   "figure and writes its PNG figures. Exit status 1 when a "
                                   "full-size demo misses its target.",
                       epilog=_examples("fastmlp demo list", "fastmlp demo perceptron",
                                        "fastmlp demo mnist --out figures --no-peers",
                                        "fastmlp demo mnist-800 --epochs 2 --n-train 5000   "
                                        "(a quick, reduced run)"),
                       formatter_class=fmt)
    d.add_argument("name", help="perceptron, sine, spiral, mnist, mnist-nielsen, mnist-800, "
                                "fashion, all or list")
    d.add_argument("--out", default="fastmlp-demos", metavar="DIR",
                   help="directory for the figures (default: ./fastmlp-demos)")
    d.add_argument("--no-figures", action="store_true", help="write no figures")
    d.add_argument("--no-peers", action="store_true",
                   help="skip timing scikit-learn and PyTorch on the MNIST demos")
    d.add_argument("--epochs", type=int, default=None, help="fewer epochs (reduced run)")
    d.add_argument("--n-train", type=int, default=None, help="first N training images only")
    d.add_argument("--n-test", type=int, default=None, help="first N test images only")
    d.add_argument("--n-samples", type=int, default=None, help="points of the toy demos")
    d.add_argument("--threads", type=int, default=None)
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--quiet", "-q", action="store_true")
    _add_data_options(d)
    d.set_defaults(func=cmd_demo)

    x = sub.add_parser("export", help="write a saved model as ONNX or as C source",
                       description="Write a saved model (fastmlp train --output, or a "
                                   "QuantizedMLP's save) as an ONNX graph or as one "
                                   "dependency-free C99 file with its header; --quantize "
                                   "first rounds a float model to int8 or bfloat16.",
                       epilog=_examples("fastmlp export model.npz --onnx model.onnx",
                                        "fastmlp export model.npz --quantize int8 --onnx "
                                        "model-int8.onnx",
                                        "fastmlp export model.npz --c digits.c --name digits   "
                                        "(also writes digits.h)"),
                       formatter_class=fmt)
    x.add_argument("model", help="a model saved by fastmlp train --output (or a QuantizedMLP)")
    x.add_argument("--onnx", default=None, metavar="OUT.onnx",
                   help="write an ONNX graph (needs the onnx package: pip install "
                        "\"fastmlp[onnx]\")")
    x.add_argument("--c", default=None, metavar="OUT.c",
                   help="write C99 source; the header goes beside it as OUT.h")
    x.add_argument("--name", default=None,
                   help="with --c: the prefix of the C symbols, a C identifier (default model)")
    x.add_argument("--quantize", default=None, metavar="PRECISION",
                   help="int8 or bfloat16: quantise the model before writing it")
    x.set_defaults(func=cmd_export)

    sub.add_parser("bench", help="the side-by-side speed table (fastmlp bench --help)",
                   add_help=False)
    i = sub.add_parser("info", help="version, SIMD path, OpenMP, threads, BLAS threads")
    i.set_defaults(func=cmd_info)
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line; return the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] == "bench":  # its own options, parsed by benchmarks/harness.py
            return cmd_bench(argv[1:])
        parser = build_parser()
        if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help",
                                                                     "--version")):
            argv = ["train", *argv]  # plain `fastmlp` trains on the digits
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # --help (0) or a usage error, already printed (2)
            return int(exc.code or 0)
        return int(args.func(args))
    except UserError as exc:
        print(f"fastmlp: error: {_one_line(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("fastmlp: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
